"""CSV: one row per item, for spreadsheets."""

from __future__ import annotations

import csv
import io

from checklist_app.progress import Progress

COLUMNS = ("id", "topic", "title", "level", "status", "outcome", "confidence", "message",
           "evidence", "answer", "author", "justification", "note", "answered_at",
           "needs_review", "project", "commit", "scanned_at")


def _cell(text: str) -> str:
    """Neutralise spreadsheet formulas in text that people or projects wrote."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def render(progress: Progress) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    project = progress.project
    where = (project.name if project else "", (project.commit or "") if project else "",
             progress.scan.scanned_at.isoformat() if progress.scan else "")
    for entry in progress.items:
        finding = entry.finding
        answer = entry.answer
        writer.writerow([_cell(value) for value in (
            entry.item.id, entry.item.topic, entry.item.title, entry.item.level.value,
            entry.status.value,
            finding.outcome.value if finding else "",
            finding.confidence.value if finding else "",
            finding.message if finding else "",
            "; ".join(e.location for e in finding.evidence) if finding else "",
            answer.value.value if answer else "",
            answer.author if answer else "",
            answer.justification if answer else "",
            answer.note if answer else "",
            answer.answered_at.isoformat() if answer else "",
            "yes" if entry.needs_review else "no",
            *where,
        )])
    return buffer.getvalue()
