"""The one conversion of progress values into plain dicts, shared by every output format."""

from __future__ import annotations

from typing import Any

from checklist_app import TOOL_NAME, __version__
from checklist_app.findings import Answer, Evidence, Finding, printable
from checklist_app.progress import ItemProgress, Progress, Tally

JSON_SCHEMA_VERSION = 1


def evidence_dict(evidence: Evidence) -> dict[str, Any]:
    return {"path": printable(evidence.path), "line": evidence.line, "commit": evidence.commit,
            "excerpt": printable(evidence.excerpt)}


def finding_dict(finding: Finding) -> dict[str, Any]:
    return {
        "outcome": finding.outcome.value,
        "confidence": finding.confidence.value,
        "message": printable(finding.message),
        "evidence": [evidence_dict(e) for e in finding.evidence],
    }


def answer_dict(answer: Answer) -> dict[str, Any]:
    return {
        "value": answer.value.value,
        "note": answer.note,
        "justification": answer.justification,
        "author": answer.author,
        "answered_at": answer.answered_at.isoformat(),
        "expires": answer.expires.isoformat() if answer.expires else None,
    }


def tally_dict(tally: Tally) -> dict[str, Any]:
    return {"total": tally.total, "met": tally.met, "unmet": tally.unmet, "na": tally.na,
            "unknown": tally.unknown, "progress": tally.percent}


def item_dict(entry: ItemProgress) -> dict[str, Any]:
    return {
        "id": entry.item.id,
        "topic": entry.item.topic,
        "title": entry.item.title,
        "finding": finding_dict(entry.finding) if entry.finding else None,
        "answer": answer_dict(entry.answer) if entry.answer else None,
        "status": entry.status.value,
        "needs_review": entry.needs_review,
    }


def progress_dict(progress: Progress) -> dict[str, Any]:
    """The scan JSON of DESIGN.md (schema version 1)."""
    project = progress.project
    scan = progress.scan
    return {
        "schema": JSON_SCHEMA_VERSION,
        "tool": {"name": TOOL_NAME, "version": __version__},
        "project": {
            "root": printable(project.root) if project else None,
            "name": project.name if project else None,
            "commit": project.commit if project else None,
            "branch": project.branch if project else None,
            "dirty": project.dirty if project else False,
        },
        "scanned_at": scan.scanned_at.isoformat() if scan else None,
        "duration_s": scan.duration_s if scan else None,
        "summary": tally_dict(progress.tally),
        "topics": [{"id": t.topic, "title": t.title, **tally_dict(t.tally)}
                   for t in progress.topics],
        "items": [item_dict(entry) for entry in progress.items],
    }
