"""Findings: what the checker says about a message, one rule at a time."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Severity = Literal["error", "warning", "info"]
SEVERITY_ORDER: dict[str, int] = {"error": 0, "warning": 1, "info": 2}


@dataclass(frozen=True)
class Finding:
    """One rule's verdict at one place in the message.

    ``location`` names the header, MIME part path ("" is the root, "1.2" a nested part) and
    line number where they apply; ``fix`` says what to change.
    """

    rule: str
    severity: Severity
    message: str
    fix: str
    header: str | None = None
    part: str | None = None
    line: int | None = None

    @property
    def location(self) -> str:
        places = []
        if self.header:
            places.append(f"header {self.header}")
        if self.part is not None:
            places.append(f"part {self.part or 'root'}")
        if self.line is not None:
            places.append(f"line {self.line}")
        return ", ".join(places) or "message"

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "message": self.message,
            "fix": self.fix,
            "location": {"header": self.header, "part": self.part, "line": self.line},
        }
