"""Building evidence that points at a line, with the line itself as the excerpt."""

from __future__ import annotations

from checklist_app.findings import Evidence
from checklist_app.project import Project

MAX_EXCERPT = 120


def excerpt(text: str) -> str:
    text = " ".join(text.strip().split())
    return text if len(text) <= MAX_EXCERPT else text[: MAX_EXCERPT - 1] + "…"


def at_line(project: Project, path: str, line: int | None) -> Evidence:
    """Evidence for `path:line`, its excerpt read from the file (empty when unreadable)."""
    snippet = ""
    if line is not None:
        text = project.text(path)
        if text is not None:
            lines = text.splitlines()
            if 0 < line <= len(lines):
                snippet = excerpt(lines[line - 1])
    return Evidence(path, line, None, snippet)


def in_commit(path: str, commit: str, summary: str = "") -> Evidence:
    return Evidence(path, None, commit, excerpt(summary))
