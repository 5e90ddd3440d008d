"""Problems that verifiers report: a stable code, a severity, and one sentence.

Verdicts are values, not exceptions: a verifier that finds a bad signature returns a result
carrying problems; only input that cannot be judged at all raises an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning", "info"]


@dataclass(frozen=True)
class Problem:
    """One thing wrong (or worth knowing) about a signature.

    ``code`` is stable and machine-readable (``digest-mismatch``, ``untrusted-chain``…);
    ``message`` says what is wrong and, where it helps, what to do. Only ``error`` problems make
    a signature invalid.
    """

    code: str
    message: str
    severity: Severity = "error"

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "severity": self.severity, "message": self.message}
