"""The reproducibility envelope: what code, data, models and environment made a verdict."""

from __future__ import annotations

import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path

__all__ = ["collect_envelope", "package_versions", "installed_distributions", "git_state", "changed_files", "file_digests"]

_PACKAGES = ("pytest", "numpy", "scipy", "pytest-promote", "scikit-learn")
_OPTIONAL = ("scikit-learn",)


def package_versions() -> dict[str, str | None]:
    """Versions from installed metadata: nothing is imported to find them."""
    versions: dict[str, str | None] = {}
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            if name not in _OPTIONAL:
                versions[name] = None
    return versions


def installed_distributions() -> dict[str, str]:
    """Every installed distribution and its version, by normalised name: what a replay compares."""
    found = {}
    for distribution in metadata.distributions():
        name = distribution.metadata["Name"]
        if name:
            found.setdefault(name.lower().replace("_", "-"), distribution.version)
    return dict(sorted(found.items()))


def file_digests(paths: list[Path], rootdir: Path) -> dict[str, str | None]:
    """sha256 of each file, keyed by its path relative to the rootdir when it lies below it."""
    import hashlib

    digests = {}
    for path in sorted(set(paths)):
        try:
            key = str(path.relative_to(rootdir))
        except ValueError:
            key = str(path)
        try:
            digests[key] = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            digests[key] = None
    return digests


def git_state(directory: Path) -> dict | None:
    """Commit and dirty flag of the work tree holding ``directory``; None outside git."""
    try:
        commit = _git(directory, "rev-parse", "HEAD")
        status = _git(directory, "status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return None
    if commit is None or status is None:
        return None
    return {"commit": commit, "dirty": bool(status)}


def changed_files(directory: Path) -> list[str] | None:
    """Tracked files with uncommitted changes (staged or not); None outside a git work tree."""
    try:
        names = _git(directory, "diff", "--name-only", "HEAD")
    except (OSError, subprocess.SubprocessError):
        return None
    return None if names is None else [name for name in names.splitlines() if name]


def _git(directory: Path, *args: str) -> str | None:
    completed = subprocess.run(
        ["git", *args], cwd=directory, capture_output=True, text=True, timeout=10, check=False
    )
    return completed.stdout.strip() if completed.returncode == 0 else None


def collect_envelope(
    *,
    rootdir: Path,
    command_line: list[str],
    seed: int | None,
    config_path: Path | None,
    config_sha256: str | None,
    datasets: dict[str, dict],
    test_files: dict[str, str | None] | None = None,
    golden_files: dict[str, str | None] | None = None,
    gate_seeds: dict[str, int] | None = None,
) -> dict:
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "executable": sys.executable,
        "packages": package_versions(),
        "git": git_state(rootdir),
        "rootdir": str(rootdir),
        "config": {"path": str(config_path) if config_path else None, "sha256": config_sha256},
        "datasets": datasets,
        "command_line": command_line,
        "pytest_args": command_line[1:],
        "seed": seed,
        "gate_seeds": gate_seeds or {},
        "test_files": test_files or {},
        "golden_files": golden_files or {},
        "distributions": installed_distributions(),
    }
