"""The exported report (`checklist-app report`): the project's progress in one format, with
what the store adds (answers' history, a review with its sign-offs and changes, progress over
time). Every part is a value gathered by the workspace; this module only renders."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from checklist_app.findings import printable
from checklist_app.progress import Progress
from checklist_app.reports import (
    csv_report,
    html_report,
    markdown_report,
    review_report,
    sarif_report,
)
from checklist_app.reports.serialize import answer_dict, progress_dict
from checklist_app.reviews import Comparison, ProgressPoint, Review, TopicSignOff

FORMATS = ("html", "markdown", "json", "sarif", "csv")


@dataclass(frozen=True, slots=True)
class ReviewPart:
    review: Review
    topics: tuple[TopicSignOff, ...]
    changes: Comparison | None
    """Since the previous closed review."""


@dataclass(frozen=True, slots=True)
class ReportData:
    progress: Progress
    now: datetime
    history: Sequence[review_report.HistoryEntry] = ()
    review: ReviewPart | None = None
    points: tuple[ProgressPoint, ...] = ()


def render(data: ReportData, format_: str) -> str:
    """The report as text that always encodes as UTF-8."""
    if format_ not in FORMATS:
        raise ValueError(f"unknown report format {format_!r}; one of {', '.join(FORMATS)}")
    return printable(_render(data, format_))


def _render(data: ReportData, format_: str) -> str:
    progress = data.progress
    part = data.review
    if format_ == "html":
        extra = ""
        if part is not None:
            extra += review_report.review_html(part.review, part.topics, part.changes)
        extra += review_report.progress_over_time_html(data.points)
        return html_report.render(progress, now=data.now, extra_sections=extra)
    if format_ == "markdown":
        return _markdown(data)
    if format_ == "json":
        document = progress_dict(progress)
        document["report_made_at"] = data.now.isoformat()
        document["answers"] = [{"item_id": e.item.id, **answer_dict(e.answer)}
                               for e in progress.items if e.answer is not None]
        document["answers"] += [{"item_id": a.item_id, **answer_dict(a), "orphaned": True}
                                for a in progress.orphaned_answers]
        document["history"] = review_report.history_dict(data.history)
        document["review"] = (review_report.review_dict(part.review, part.topics, part.changes)
                              if part is not None else None)
        document["progress_over_time"] = review_report.points_dict(data.points)
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if format_ == "sarif":
        return sarif_report.render(progress)
    return csv_report.render(progress)


def _markdown(data: ReportData) -> str:
    progress = data.progress
    lines = markdown_report.render(progress).splitlines()
    made = [f"Report made {data.now:%Y-%m-%d %H:%M} UTC"]
    if progress.scan is not None:
        made.append(f"scanned {progress.scan.scanned_at:%Y-%m-%d %H:%M} UTC")
    out = [*lines[:2], "; ".join(made), "", *lines[2:]]
    review = [e for e in progress.items if e.needs_review]
    if review:
        out += ["", "### Needs re-review", "",
                *(f"- `{e.item.id}` {markdown_report.escape(e.item.title)}: the finding "
                  "changed since the answer" for e in review)]
    text = "\n".join(out) + "\n"
    if data.review is not None:
        part = data.review
        text += review_report.review_markdown(part.review, part.topics, part.changes)
    return text
