"""Markdown that fits a pull-request description."""

from __future__ import annotations

from checklist_app.progress import Progress
from checklist_app.reports.text_report import STATUS_LABEL, _reason, confidence_words

_ICON = {"MET": "✅", "UNMET": "❌", "N/A": "➖", "UNKNOWN": "❔"}


def escape(text: str) -> str:
    """Text that cannot break a table cell or start markup."""
    text = " ".join(text.split())
    for char in "\\`*_[]<>|~":
        text = text.replace(char, "\\" + char)
    return text


def render(progress: Progress) -> str:
    out: list[str] = []
    project = progress.project
    name = escape(project.name) if project else "project"
    out.append(f"## Flask checklist: {name} — {progress.tally.percent:.1f}%")
    out.append("")
    if project is not None and project.commit:
        out.append(f"Commit `{project.commit[:10]}`" + (f" on `{escape(project.branch)}`"
                                                       if project.branch else ""))
        out.append("")
    out.append("| Topic | Progress | Met | Unmet | N/A | Unknown |")
    out.append("| --- | ---: | ---: | ---: | ---: | ---: |")
    for topic in progress.topics:
        t = topic.tally
        out.append(f"| {escape(topic.title)} | {t.percent:.1f}% | {t.met} | {t.unmet} | {t.na} "
                   f"| {t.unknown} |")
    for topic in progress.topics:
        out.append("")
        out.append(f"### {escape(topic.title)}")
        out.append("")
        out.append("| | Item | Confidence | Reason | Evidence |")
        out.append("| --- | --- | --- | --- | --- |")
        for entry in topic.items:
            label = STATUS_LABEL[entry.status]
            evidence = ", ".join(f"`{e.location}`" for e in
                                 (entry.finding.evidence[:3] if entry.finding else ()))
            flag = " (needs re-review)" if entry.needs_review else ""
            out.append(f"| {_ICON[label]} {label} | **{escape(entry.item.title)}** "
                       f"`{entry.item.id}`{flag} | {confidence_words(entry.finding)} "
                       f"| {escape(_reason(entry))} | {evidence} |")
    return "\n".join(out) + "\n"
