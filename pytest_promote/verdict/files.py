"""Writing the verdict: atomically, and never leaving an earlier run's verdict behind."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from ..errors import PromoteError

__all__ = ["VerdictError", "write_verdict", "write_text", "remove_stale_verdict", "dumps"]


class VerdictError(PromoteError):
    """The verdict (or a report beside it) cannot be written where it belongs."""

    code = "verdict_error"


def dumps(verdict: dict) -> str:
    # allow_nan=False: NaN is not JSON; the core turns NaN into null before it gets here
    return json.dumps(verdict, indent=2, sort_keys=False, allow_nan=False) + "\n"


def write_verdict(path: Path, verdict: dict) -> None:
    """Temp file in the same folder, fsync, rename: readers see the old file or the new one."""
    write_text(path, dumps(verdict))


def write_text(path: Path, text: str) -> None:
    """Write ``text`` atomically (see :func:`write_verdict`), creating the folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def remove_stale_verdict(path: Path) -> bool:
    """Delete a verdict left by an earlier run, so a crash can never leave a ``promote``.

    VerdictError when an earlier file is there and cannot be removed (or its folder is not one):
    the run must not start, since that file would be read as this run's.
    """
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise VerdictError(
            f"{path}: an earlier run's file is in the way and cannot be removed ({exc.strerror or exc}); it would be "
            "taken for this run's, so the run does not start: fix the path or its permissions"
        ) from None
    return True
