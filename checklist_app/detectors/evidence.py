"""Building evidence that points at a line, with the line itself as the excerpt."""

from __future__ import annotations

from functools import partial

from checklist_app.findings import Evidence
from checklist_app.project import Project

MAX_EXCERPT = 120


def excerpt(text: str) -> str:
    text = " ".join(text.strip().split())
    return text if len(text) <= MAX_EXCERPT else text[: MAX_EXCERPT - 1] + "…"


def at_line(project: Project, path: str, line: int | None) -> Evidence:
    """Evidence for `path:line`, its excerpt read from the file (empty when unreadable);
    remembered by the file's content, so a rescan reads only files that changed."""
    snippet = ""
    if line is not None:
        snippet = project.text_fact(f"evidence.line.1:{line}", path,
                                    partial(_line_excerpt, line)) or ""
    return Evidence(path, line, None, snippet)


def _line_excerpt(line: int, text: str) -> str:
    lines = text.splitlines()
    return excerpt(lines[line - 1]) if 0 < line <= len(lines) else ""


def in_commit(path: str, commit: str, summary: str = "") -> Evidence:
    return Evidence(path, None, commit, excerpt(summary))
