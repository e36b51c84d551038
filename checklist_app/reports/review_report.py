"""Reviews, comparisons and progress over time, in every output format: text for the terminal,
HTML sections (with an inline SVG chart) for the HTML report, Markdown sections, and plain
dicts for JSON. Everything people typed is escaped."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from html import escape
from typing import Any, Protocol

from checklist_app.findings import AnswerValue, Status
from checklist_app.reports.markdown_report import escape as md
from checklist_app.reviews import (
    AnswerState,
    Comparison,
    ItemDelta,
    ProgressPoint,
    Review,
    TopicSignOff,
    TopicState,
)

_STATUS = {Status.MET: "met", Status.UNMET: "unmet", Status.NA: "n/a",
           Status.UNKNOWN: "unknown"}


class HistoryEntry(Protocol):
    """One change of an answer (the store's AnswerChange has these)."""

    @property
    def item_id(self) -> str: ...
    @property
    def revision(self) -> int: ...
    @property
    def changed_at(self) -> datetime: ...
    @property
    def author(self) -> str: ...
    @property
    def old_value(self) -> AnswerValue | None: ...
    @property
    def new_value(self) -> AnswerValue | None: ...
    @property
    def reason(self) -> str: ...


def status_text(status: Status | None, missing: str) -> str:
    return _STATUS[status] if status is not None else missing


def answer_text(answer: AnswerState | None) -> str:
    if answer is None:
        return "no answer"
    text = f"{answer.value.value} by {answer.author}"
    return f"{text}: {answer.justification}" if answer.justification else text


def delta_text(delta: ItemDelta) -> str:
    before = status_text(delta.before, "new")
    after = status_text(delta.after, "gone")
    text = f"{delta.item_id}: {before} -> {after}"
    if delta.answer_changed:
        text += f"; answer {answer_text(delta.answer_before)} -> {answer_text(delta.answer_after)}"
    return text


# --- text -------------------------------------------------------------------------------------


def comparison_text(comparison: Comparison) -> str:
    lines = [f"From {comparison.before_label} ({comparison.before.percent:.1f}%) to "
             f"{comparison.after_label} ({comparison.after.percent:.1f}%):"]
    if not comparison.deltas:
        lines.append("  no change")
    for delta in comparison.deltas:
        lines.append(f"  {delta.change.value:<15} {delta_text(delta)}")
    return "\n".join(lines) + "\n"


def review_heading(review: Review) -> str:
    commit = review.commit[:10] if review.commit else "no commit"
    state = (f"closed {review.closed_at:%Y-%m-%d %H:%M} UTC by {review.closed_by}"
             if review.closed_at else "open")
    return (f"Review {review.id}: {review.title} — commit {commit} ({review.tag_text}); started "
            f"{review.started_at:%Y-%m-%d %H:%M} UTC by {review.started_by}; {state}")


def review_text(review: Review, topics: Sequence[TopicSignOff],
                comparison: Comparison | None) -> str:
    lines = [review_heading(review), "Sign-offs:"]
    for topic in topics:
        lines.append(f"  {topic.title} ({topic.topic}): {topic.state.value}")
        for sign_off in topic.latest:
            comment = f": {sign_off.comment}" if sign_off.comment else ""
            lines.append(f"    {sign_off.decision.value} by {sign_off.reviewer} on "
                         f"{sign_off.signed_at:%Y-%m-%d}{comment}")
    if review.snapshot is not None:
        deferred = review.snapshot.deferred
        lines.append(f"Deferred (unmet at close): {len(deferred)}")
        for state in deferred:
            why = (f"{state.answer.justification} ({state.answer.author})"
                   if state.answer is not None and state.answer.justification
                   else "no justification")
            lines.append(f"  {state.item_id}: {why}")
    if comparison is None:
        lines.append("No earlier closed review to compare with.")
    else:
        lines.append(comparison_text(comparison).rstrip("\n"))
    return "\n".join(lines) + "\n"


# --- HTML -------------------------------------------------------------------------------------

_TOPIC_CLASS = {TopicState.APPROVED: "met", TopicState.CHANGES_REQUESTED: "unmet",
                TopicState.UNSIGNED: "unknown"}


def review_html(review: Review, topics: Sequence[TopicSignOff],
                comparison: Comparison | None) -> str:
    out = [f"<h2>{escape(review_heading(review))}</h2>",
           "<table><thead><tr><th>Topic</th><th>State</th><th>Sign-offs</th></tr></thead>"
           "<tbody>"]
    for topic in topics:
        signs = "<br>".join(
            f"{escape(s.decision.value)} by {escape(s.reviewer)} on {s.signed_at:%Y-%m-%d}"
            + (f": {escape(s.comment)}" if s.comment else "") for s in topic.latest)
        out.append(f"<tr><td>{escape(topic.title)}</td><td><span class=\"status "
                   f"{_TOPIC_CLASS[topic.state]}\">{escape(topic.state.value)}</span></td>"
                   f"<td>{signs or '—'}</td></tr>")
    out.append("</tbody></table>")
    if review.snapshot is not None:
        deferred = review.snapshot.deferred
        out.append(f"<h3>Deferred items ({len(deferred)})</h3>")
        if deferred:
            out.append("<ul>" + "".join(
                f"<li><code>{escape(s.item_id)}</code> {escape(s.title)}: "
                + (f"{escape(s.answer.justification)} ({escape(s.answer.author)})"
                   if s.answer is not None and s.answer.justification
                   else "<em>no justification</em>") + "</li>" for s in deferred) + "</ul>")
    if comparison is not None:
        out.append(comparison_html(comparison))
    return "\n".join(out)


def comparison_html(comparison: Comparison) -> str:
    out = [f"<h3>Changes from {escape(comparison.before_label)} "
           f"({comparison.before.percent:.1f}%) to {escape(comparison.after_label)} "
           f"({comparison.after.percent:.1f}%)</h3>"]
    if not comparison.deltas:
        out.append("<p>No change.</p>")
        return "\n".join(out)
    out.append("<table><thead><tr><th>Change</th><th>Item</th><th>Status</th><th>Answer</th>"
               "</tr></thead><tbody>")
    for delta in comparison.deltas:
        answer = (f"{escape(answer_text(delta.answer_before))} → "
                  f"{escape(answer_text(delta.answer_after))}" if delta.answer_changed else "")
        out.append(
            f"<tr><td>{escape(delta.change.value)}</td><td><code>{escape(delta.item_id)}"
            f"</code> {escape(delta.title)}</td><td>{status_text(delta.before, 'new')} → "
            f"{status_text(delta.after, 'gone')}</td><td>{answer}</td></tr>")
    out.append("</tbody></table>")
    return "\n".join(out)


def chart_svg(points: Sequence[ProgressPoint], width: int = 640, height: int = 180) -> str:
    """Overall progress over time as an inline SVG line (scans) with diamonds (reviews)."""
    if not points:
        return ""
    left, right, top, bottom = 40, 10, 10, 30
    plot_w, plot_h = width - left - right, height - top - bottom
    first, last = points[0].at.timestamp(), points[-1].at.timestamp()
    span = last - first

    def x(point: ProgressPoint, index: int) -> float:
        if span <= 0:
            return left + (plot_w * index / max(1, len(points) - 1) if len(points) > 1
                           else plot_w / 2)
        return left + plot_w * (point.at.timestamp() - first) / span

    def y(percent: float) -> float:
        return top + plot_h * (1 - percent / 100)

    coords = [(x(p, i), y(p.percent)) for i, p in enumerate(points)]
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img" aria-label="progress over time">']
    for percent in (0, 50, 100):
        out.append(f'<line x1="{left}" y1="{y(percent):.1f}" x2="{width - right}" '
                   f'y2="{y(percent):.1f}" stroke="#d0d7de"/><text x="{left - 4}" '
                   f'y="{y(percent) + 4:.1f}" font-size="10" text-anchor="end">{percent}%</text>')
    line = " ".join(f"{cx:.1f},{cy:.1f}" for cx, cy in coords)
    out.append(f'<polyline points="{line}" fill="none" stroke="#1a7f37" stroke-width="2"/>')
    for point, (cx, cy) in zip(points, coords, strict=True):
        tip = escape(f"{point.at:%Y-%m-%d} {point.kind} {point.label}: {point.percent:.1f}%")
        if point.kind == "review":
            out.append(f'<path d="M{cx:.1f} {cy - 5:.1f} L{cx + 5:.1f} {cy:.1f} L{cx:.1f} '
                       f'{cy + 5:.1f} L{cx - 5:.1f} {cy:.1f} Z" fill="#0969da">'
                       f"<title>{tip}</title></path>")
        else:
            out.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="3" fill="#1a7f37">'
                       f"<title>{tip}</title></circle>")
    out.append(f'<text x="{left}" y="{height - 8}" font-size="10">'
               f"{points[0].at:%Y-%m-%d}</text>")
    out.append(f'<text x="{width - right}" y="{height - 8}" font-size="10" text-anchor="end">'
               f"{points[-1].at:%Y-%m-%d}</text>")
    out.append("</svg>")
    return "\n".join(out)


def progress_over_time_html(points: Sequence[ProgressPoint]) -> str:
    if not points:
        return ""
    return ("<h2>Progress over time</h2><p class=\"small\">Overall progress at each recorded "
            "scan (dots) and closed review (diamonds).</p>" + chart_svg(points))


# --- Markdown ---------------------------------------------------------------------------------


def review_markdown(review: Review, topics: Sequence[TopicSignOff],
                    comparison: Comparison | None) -> str:
    out = ["", f"### {md(review_heading(review))}", "", "| Topic | State | Sign-offs |",
           "| --- | --- | --- |"]
    for topic in topics:
        signs = "; ".join(f"{s.decision.value} by {md(s.reviewer)}"
                          + (f": {md(s.comment)}" if s.comment else "") for s in topic.latest)
        out.append(f"| {md(topic.title)} | {topic.state.value} | {signs} |")
    if review.snapshot is not None:
        out += ["", f"Deferred items: {len(review.snapshot.deferred)}", ""]
        for state in review.snapshot.deferred:
            why = (md(state.answer.justification) if state.answer is not None
                   and state.answer.justification else "no justification")
            out.append(f"- `{state.item_id}`: {why}")
    if comparison is not None:
        out += ["", f"Changes from {md(comparison.before_label)} to "
                f"{md(comparison.after_label)}:", ""]
        out += [f"- {delta.change.value}: {md(delta_text(delta))}"
                for delta in comparison.deltas] or ["- no change"]
    return "\n".join(out) + "\n"


# --- JSON -------------------------------------------------------------------------------------


def _answer_dict(answer: AnswerState | None) -> dict[str, Any] | None:
    if answer is None:
        return None
    return {"value": answer.value.value, "author": answer.author,
            "justification": answer.justification}


def comparison_dict(comparison: Comparison) -> dict[str, Any]:
    return {
        "from": comparison.before_label, "to": comparison.after_label,
        "progress_before": comparison.before.percent,
        "progress_after": comparison.after.percent,
        "changes": [{"id": d.item_id, "change": d.change.value,
                     "before": d.before.value if d.before else None,
                     "after": d.after.value if d.after else None,
                     "answer_before": _answer_dict(d.answer_before),
                     "answer_after": _answer_dict(d.answer_after)} for d in comparison.deltas],
    }


def review_dict(review: Review, topics: Sequence[TopicSignOff],
                comparison: Comparison | None) -> dict[str, Any]:
    return {
        "id": review.id, "title": review.title, "commit": review.commit, "tag": review.tag,
        "tag_exact": review.tag_exact, "started_at": review.started_at.isoformat(),
        "started_by": review.started_by,
        "closed_at": review.closed_at.isoformat() if review.closed_at else None,
        "closed_by": review.closed_by,
        "topics": [{"id": t.topic, "title": t.title, "state": t.state.value,
                    "sign_offs": [{"reviewer": s.reviewer, "decision": s.decision.value,
                                   "comment": s.comment, "signed_at": s.signed_at.isoformat()}
                                  for s in t.latest]} for t in topics],
        "deferred": [{"id": s.item_id, "answer": _answer_dict(s.answer)}
                     for s in (review.snapshot.deferred if review.snapshot else ())],
        "changes_since_previous": comparison_dict(comparison) if comparison else None,
    }


def history_dict(changes: Sequence[HistoryEntry]) -> list[dict[str, Any]]:
    return [{"item_id": c.item_id, "revision": c.revision,
             "changed_at": c.changed_at.isoformat(), "author": c.author,
             "old_value": c.old_value.value if c.old_value else None,
             "new_value": c.new_value.value if c.new_value else None, "reason": c.reason}
            for c in changes]


def points_dict(points: Sequence[ProgressPoint]) -> list[dict[str, Any]]:
    return [{"at": p.at.isoformat(), "kind": p.kind, "label": p.label, "commit": p.commit,
             "progress": p.percent,
             "topics": {topic: tally.percent for topic, tally in p.topics}} for p in points]
