"""The reproducibility envelope: what code, data, models and environment made a verdict."""

from __future__ import annotations

import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path

__all__ = ["collect_envelope", "package_versions", "git_state"]

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
        "seed": seed,
    }
