"""Checks on command-line arguments that several commands share (no heavy imports here)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


def missing_folder(root: Path, rules_dirs: Sequence[Path]) -> str | None:
    """What is wrong with the project folder and --rules folders given, or None."""
    if not root.is_dir():
        return f"{root}: no such folder"
    for directory in rules_dirs:
        if not directory.is_dir():
            return f"--rules {directory}: no such folder"
    return None
