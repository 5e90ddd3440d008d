"""Writing to the file system with errors a user can act on."""

from __future__ import annotations

from pathlib import Path

from mimeseal.errors import OutputError


def make_folder(folder: Path, *, mode: int = 0o777) -> None:
    """Create ``folder`` (and parents), turning OS errors into an :class:`OutputError`."""
    try:
        folder.mkdir(mode=mode, parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(
            f"cannot create the folder {folder}: {exc.strerror}; choose another --out"
        ) from None
