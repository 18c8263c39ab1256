"""The content-addressed artifact store: ``artifacts/sha256/<first two hex>/<hash>``.

Files are written atomically (temporary file in the destination folder, fsync, rename)
and re-hashed on every read, so bytes changed on disk are caught before anything loads them.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

from ..config import sha256_file
from ..errors import RegistryError
from .backend import Artifact

__all__ = ["FileArtifactStore"]

_SHA256 = re.compile(r"[0-9a-f]{64}")
_BLOCK = 1 << 20


class FileArtifactStore:
    """Artifacts under ``root``, one read-only file per distinct content."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.location = str(self.root)

    def path(self, sha256: str) -> Path:
        if not _SHA256.fullmatch(sha256):
            raise RegistryError(f"invalid artifact digest {sha256!r}: expected 64 lowercase hexadecimal characters")
        return self.root / "sha256" / sha256[:2] / sha256

    def put(self, source: Path) -> Artifact:
        source = Path(source)
        if not source.is_file():
            raise RegistryError(f"cannot register {source}: no such file")
        digest = sha256_file(source)
        target = self.path(digest)
        if self.problem(digest) is None:
            return Artifact(digest, target.stat().st_size)
        target.parent.mkdir(parents=True, exist_ok=True)
        # copy and hash again in one pass: the source may change between the two reads
        handle, temporary = tempfile.mkstemp(prefix=".incoming-", dir=target.parent)
        try:
            copied = hashlib.sha256()
            size = 0
            with os.fdopen(handle, "wb") as out, open(source, "rb") as stream:
                for block in iter(lambda: stream.read(_BLOCK), b""):
                    copied.update(block)
                    size += len(block)
                    out.write(block)
                out.flush()
                os.fsync(out.fileno())
            if copied.hexdigest() != digest:
                raise RegistryError(f"cannot register {source}: the file changed while it was being copied")
            os.chmod(temporary, 0o444)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        _fsync_dir(target.parent)
        return Artifact(digest, size)

    def problem(self, sha256: str) -> str | None:
        target = self.path(sha256)
        try:
            actual = sha256_file(target)
        except FileNotFoundError:
            return f"artifact missing: {target} does not exist"
        except OSError as exc:
            return f"artifact unreadable: {target}: {exc.strerror or exc}"
        if actual != sha256:
            return f"artifact corrupted: {target} now hashes to sha256 {actual}"
        return None

    def verified_path(self, sha256: str) -> Path:
        problem = self.problem(sha256)
        if problem is not None:
            raise RegistryError(problem)
        return self.path(sha256)


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable (POSIX); a no-op where folders cannot be opened."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
