"""A readable table for the terminal: status, confidence in words, reason, evidence."""

from __future__ import annotations

import textwrap

from checklist_app.findings import Finding, Outcome, Status
from checklist_app.progress import ItemProgress, Progress, Tally

STATUS_LABEL = {Status.MET: "MET", Status.UNMET: "UNMET", Status.NA: "N/A",
                Status.UNKNOWN: "UNKNOWN"}
MAX_EVIDENCE_LINES = 3


def tally_line(tally: Tally) -> str:
    return (f"{tally.percent:5.1f}%  met {tally.met}, unmet {tally.unmet}, n/a {tally.na}, "
            f"unknown {tally.unknown} (of {tally.total})")


def confidence_words(finding: Finding | None) -> str:
    if finding is None:
        return "not scanned"
    if finding.outcome is Outcome.MANUAL:
        return "by hand"
    if finding.outcome is Outcome.ERROR:
        return "detector error"
    return finding.confidence.words


def _reason(entry: ItemProgress) -> str:
    if entry.answer is not None:
        said = f"answered {entry.answer.value.value} by {entry.answer.author}"
        reason = entry.answer.justification or entry.answer.note
        text = f"{said}: {reason}" if reason else said
        if entry.answer_expired:
            text = "[answer expired] " + text
        if entry.needs_review:
            text = "[needs re-review: the finding changed] " + text
        return text
    if entry.finding is None:
        return "not scanned"
    return entry.finding.message


def render(progress: Progress, width: int | None = None) -> str:
    """The table; with a `width` (a terminal's), reasons are cut to fit it, else kept whole."""
    lines: list[str] = []
    project = progress.project
    if project is not None:
        commit = f" at {project.commit[:10]}" if project.commit else ""
        branch = f" ({project.branch})" if project.branch else ""
        dirty = ", uncommitted changes" if project.dirty else ""
        lines.append(f"{project.name}{commit}{branch}{dirty}")
        lines.append(project.root)
    lines.append(f"Overall  {tally_line(progress.tally)}")
    id_width = max((len(e.item.id) for e in progress.items), default=10)
    reason_width = max(40, width - id_width - 27) if width else 0
    for topic in progress.topics:
        lines.append("")
        lines.append(f"{topic.title}  {tally_line(topic.tally)}")
        for entry in topic.items:
            label = STATUS_LABEL[entry.status]
            reason = " ".join(_reason(entry).split())
            if reason_width and len(reason) > reason_width:
                reason = textwrap.shorten(reason, reason_width, placeholder="…")
            confidence = confidence_words(entry.finding)
            lines.append(f"  {label:<8}{entry.item.id:<{id_width}}  {confidence:<15}{reason}")
            if entry.finding is not None:
                for evidence in entry.finding.evidence[:MAX_EVIDENCE_LINES]:
                    text = f"→ {evidence.location}"
                    if evidence.excerpt:
                        text += "  " + textwrap.shorten(evidence.excerpt, 60, placeholder="…")
                    lines.append(f"  {'':<8}{'':<{id_width}}  {'':<15}{text}")
                more = len(entry.finding.evidence) - MAX_EVIDENCE_LINES
                if more > 0:
                    lines.append(f"  {'':<8}{'':<{id_width}}  {'':<15}  (+{more} more)")
    if progress.scan is not None and progress.scan.notes:
        lines.append("")
        lines.append(f"Notes ({len(progress.scan.notes)}):")
        for note in progress.scan.notes[:20]:
            where = f"{note.path}: " if note.path else ""
            lines.append(f"  {where}{note.message}")
        if len(progress.scan.notes) > 20:
            lines.append(f"  (+{len(progress.scan.notes) - 20} more)")
    return "\n".join(lines) + "\n"
