"""``require:``: what a verdict must be able to show about its own provenance, or it blocks."""

from __future__ import annotations

from pathlib import Path

from ..config import PromoteConfig
from .envelope import changed_files

__all__ = ["unmet_requirements"]


def unmet_requirements(config: PromoteConfig, rootdir: Path) -> list[str]:
    """One line per unmet requirement, naming what is missing; empty when all hold."""
    required, unmet = config.require, []
    if required.git_clean:
        changed = changed_files(rootdir)
        if changed is None:
            unmet.append(f"require.git_clean: {rootdir} is not in a git work tree, so its code cannot be identified")
        elif changed:
            shown = ", ".join(changed[:10]) + (f" and {len(changed) - 10} more" if len(changed) > 10 else "")
            unmet.append(f"require.git_clean: uncommitted changes in these files: {shown}")
    if required.model_pins:
        for role, spec in config.models.items():
            if spec.loader is not None:
                unmet.append(f"require.model_pins: models.{role} is built by loader {spec.loader}, so its bytes are not pinned")
            elif spec.path is not None and spec.sha256 is None:
                unmet.append(f"require.model_pins: models.{role} ({spec.path}) has no sha256 pin")
    if required.owners and not config.card.owners:
        unmet.append("require.owners: card.owners names nobody; add the people who answer for this model")
    return unmet
