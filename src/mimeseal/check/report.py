"""The checker's report: signatures, the survival matrix, findings; as text or JSON.

JSON schema version 1 (``"schema": "mimeseal.check/1"``)::

    {"schema": "mimeseal.check/1", "profile": "ses", "ok": bool,
     "message": {"size": int, "sha256": hex},
     "signatures": [{"id", "kind": "smime"|"dkim", "label", "valid",
                     "verdicts": [{"receiver", "valid": bool|null, "reason"}]}],
     "transforms": [{"id", "title", "source", "must_survive": bool}],
     "matrix": [{"transform", "signature", "state": "survives"|"breaks"|"n/a",
                 "verdicts": [...]}],
     "findings": [{"rule", "severity", "message", "fix",
                   "location": {"header", "part", "line"}}]}
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mimeseal.check.findings import SEVERITY_ORDER, Finding
from mimeseal.check.survival import MatrixCell, SignatureRow

SCHEMA = "mimeseal.check/1"
_COLOURS = {"error": "\033[31m", "warning": "\033[33m", "info": "\033[36m", "breaks": "\033[31m",
            "survives": "\033[32m", "reset": "\033[0m"}  # fmt: skip


@dataclass(frozen=True)
class TransformInfo:
    id: str
    title: str
    source: str
    must_survive: bool


@dataclass(frozen=True)
class Report:
    """Everything :func:`mimeseal.check.check` found. ``ok`` means no error-level finding."""

    profile: str
    size: int
    sha256: str
    signatures: tuple[SignatureRow, ...]
    transforms: tuple[TransformInfo, ...]
    matrix: tuple[MatrixCell, ...]
    findings: tuple[Finding, ...]

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    def cell(self, transform: str, signature: str) -> MatrixCell | None:
        return next(
            (c for c in self.matrix if c.transform == transform and c.signature == signature),
            None,
        )

    def to_dict(self) -> dict[str, Any]:
        def verdicts(items: Any) -> list[dict[str, Any]]:
            return [{"receiver": v.receiver, "valid": v.valid, "reason": v.reason} for v in items]

        return {
            "schema": SCHEMA,
            "profile": self.profile,
            "ok": self.ok,
            "message": {"size": self.size, "sha256": self.sha256},
            "signatures": [
                {
                    "id": s.key,
                    "kind": s.kind,
                    "label": s.label,
                    "valid": s.valid,
                    "verdicts": verdicts(s.original),
                }
                for s in self.signatures
            ],
            "transforms": [
                {"id": t.id, "title": t.title, "source": t.source, "must_survive": t.must_survive}
                for t in self.transforms
            ],
            "matrix": [
                {
                    "transform": c.transform,
                    "signature": c.signature,
                    "state": c.state,
                    "verdicts": verdicts(c.verdicts),
                }
                for c in self.matrix
            ],
            "findings": [f.to_dict() for f in self.findings],
        }

    def render(self, *, colour: bool = False) -> str:
        """A readable report: signatures, the matrix as a table, findings by severity."""

        def paint(text: str, key: str) -> str:
            return f"{_COLOURS[key]}{text}{_COLOURS['reset']}" if colour else text

        lines = [f"mimeseal check — profile {self.profile}, {self.size} octets"]
        lines.append("signatures:" if self.signatures else "signatures: none found")
        for number, row in enumerate(self.signatures, start=1):
            said = ", ".join(
                f"{v.receiver} {'pass' if v.valid else 'fail' if v.valid is False else '?'}"
                for v in row.original
            )
            lines.append(f"  [{number}] {row.label}: {said}")
            lines += [f"      {v.receiver}: {v.reason}" for v in row.original if not v.valid]
        if self.signatures:
            lines += ["", "survival matrix (rows: transformations; columns: signatures):"]
            width = max(len(t.title) for t in self.transforms) + 2
            header = " " * width + "".join(
                f"[{n}]".ljust(10) for n in range(1, len(self.signatures) + 1)
            )
            lines.append(header.rstrip())
            for info in self.transforms:
                cells = []
                for row in self.signatures:
                    cell = self.cell(info.id, row.key)
                    state = cell.state if cell else "n/a"
                    word = {"survives": "ok", "breaks": "BREAKS", "n/a": "-"}[state]
                    cells.append(paint(word.ljust(10), state) if state != "n/a" else word.ljust(10))
                mark = "*" if info.must_survive else " "
                lines.append(f"{mark}{info.title.ljust(width - 1)}{''.join(cells)}".rstrip())
            lines.append("(* must survive under this profile)")
        ordered = sorted(self.findings, key=lambda f: (SEVERITY_ORDER[f.severity], f.rule))
        lines.append("")
        lines.append(f"findings: {len(self.errors)} error(s), "
                     f"{sum(f.severity == 'warning' for f in ordered)} warning(s), "
                     f"{sum(f.severity == 'info' for f in ordered)} info")  # fmt: skip
        for finding in ordered:
            tag = paint(finding.severity.upper(), finding.severity)
            lines.append(f"  {tag} {finding.rule} ({finding.location}): {finding.message}")
            lines.append(f"      fix: {finding.fix}")
        lines.append("result: " + ("no errors" if self.ok else "ERRORS found"))
        return "\n".join(lines)
