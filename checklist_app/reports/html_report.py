"""HTML: one self-contained file that also reads well printed. Everything people typed and
everything read from the project is escaped."""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape

from checklist_app import __version__
from checklist_app.findings import Status
from checklist_app.progress import ItemProgress, Progress, Tally
from checklist_app.reports.text_report import confidence_words

_STATUS_TEXT = {Status.MET: "met", Status.UNMET: "unmet", Status.NA: "n/a",
                Status.UNKNOWN: "unknown"}

CSS = """
:root { --met:#1a7f37; --unmet:#cf222e; --na:#6e7781; --unknown:#9a6700; --line:#d0d7de; }
* { box-sizing: border-box; }
body { font: 14px/1.45 "DejaVu Sans", "Segoe UI", Helvetica, Arial, sans-serif; color:#1f2328;
       max-width: 1100px; margin: 2em auto; padding: 0 1.5em; }
h1 { font-size: 1.6em; margin-bottom: .2em; } h2 { font-size: 1.25em; margin-top: 1.6em;
     border-bottom: 1px solid var(--line); padding-bottom: .2em; }
.meta { color: #57606a; margin: 0 0 1em; }
table { border-collapse: collapse; width: 100%; margin: .5em 0; }
th, td { text-align: left; vertical-align: top; padding: .35em .5em;
         border-bottom: 1px solid var(--line); }
th { background: #f6f8fa; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.bar { background: #eaeef2; border-radius: 3px; height: .7em; width: 10em; display:inline-block; }
.bar span { display: block; height: 100%; background: var(--met); border-radius: 3px; }
.status { font-weight: 600; white-space: nowrap; }
.status.met { color: var(--met); } .status.unmet { color: var(--unmet); }
.status.na { color: var(--na); } .status.unknown { color: var(--unknown); }
.flag { background: #fff8c5; border: 1px solid #d4a72c; border-radius: 3px; padding: 0 .3em;
        font-size: .85em; white-space: nowrap; }
code, .evidence { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: .85em; }
.evidence { color: #57606a; margin: .15em 0 0; padding-left: 1em; list-style: none; }
.answer { margin-top: .3em; font-size: .92em; }
.small { color: #57606a; font-size: .85em; }
@media print {
  body { margin: 0; max-width: none; font-size: 10.5pt; }
  h2 { break-after: avoid; } tr { break-inside: avoid; }
  .bar { border: 1px solid #999; } a { color: inherit; text-decoration: none; }
}
"""


def _bar(tally: Tally) -> str:
    return (f'<span class="bar" role="img" aria-label="{tally.percent:.1f}%">'
            f'<span style="width:{tally.percent:.1f}%"></span></span>')


def _tally_cells(tally: Tally) -> str:
    return (f'<td class="num">{tally.percent:.1f}%</td><td>{_bar(tally)}</td>'
            f'<td class="num">{tally.met}</td><td class="num">{tally.unmet}</td>'
            f'<td class="num">{tally.na}</td><td class="num">{tally.unknown}</td>')


def _item_row(entry: ItemProgress) -> str:
    status = entry.status
    cells = [f'<td><span class="status {status.value}">{_STATUS_TEXT[status]}</span></td>']
    title = f"<strong>{escape(entry.item.title)}</strong><br><code>{escape(entry.item.id)}</code>"
    if entry.needs_review:
        title += ' <span class="flag">needs re-review</span>'
    if entry.answer_expired:
        title += ' <span class="flag">answer expired</span>'
    cells.append(f"<td>{title}</td>")
    finding = entry.finding
    detail = ""
    if finding is not None:
        detail = (f'{escape(finding.message)} <span class="small">'
                  f"({escape(confidence_words(finding))})</span>")
        if finding.evidence:
            rows = "".join(
                f"<li>{escape(e.location)}"
                + (f" — {escape(e.excerpt)}" if e.excerpt else "") + "</li>"
                for e in finding.evidence[:8])
            more = len(finding.evidence) - 8
            if more > 0:
                rows += f"<li>… {more} more</li>"
            detail += f'<ul class="evidence">{rows}</ul>'
    else:
        detail = '<span class="small">not scanned</span>'
    answer = entry.answer
    if answer is not None:
        said = (f"Answered <b>{escape(answer.value.value)}</b> by {escape(answer.author)} on "
                f"{answer.answered_at:%Y-%m-%d}")
        if answer.justification:
            said += f": {escape(answer.justification)}"
        if answer.note:
            said += f' <span class="small">Note: {escape(answer.note)}</span>'
        if answer.expires:
            said += f' <span class="small">(expires {answer.expires:%Y-%m-%d})</span>'
        detail += f'<div class="answer">{said}</div>'
    cells.append(f"<td>{detail}</td>")
    return "<tr>" + "".join(cells) + "</tr>"


def render(progress: Progress, title: str = "Flask checklist report",
           now: datetime | None = None, extra_sections: str = "") -> str:
    """The report. `extra_sections` is trusted HTML made by other renderers (reviews, charts)."""
    now = now or datetime.now(UTC)
    project = progress.project
    name = escape(project.name) if project else "project"
    meta = []
    if project is not None:
        meta.append(f"<code>{escape(project.root)}</code>")
        if project.commit:
            branch = f" on {escape(project.branch)}" if project.branch else ""
            dirty = " (uncommitted changes)" if project.dirty else ""
            meta.append(f"commit <code>{escape(project.commit[:12])}</code>{branch}{dirty}")
    if progress.scan is not None:
        meta.append(f"scanned {progress.scan.scanned_at:%Y-%m-%d %H:%M} UTC")
    meta.append(f"report made {now:%Y-%m-%d %H:%M} UTC by checklist-app {escape(__version__)}")
    out = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}: {name}</title><style>{CSS}</style></head><body>",
        f"<h1>{escape(title)}: {name}</h1>",
        f'<p class="meta">{" · ".join(meta)}</p>',
        "<table><thead><tr><th>Topic</th><th class='num'>Progress</th><th></th>"
        "<th class='num'>Met</th><th class='num'>Unmet</th><th class='num'>N/A</th>"
        "<th class='num'>Unknown</th></tr></thead><tbody>",
    ]
    for topic in progress.topics:
        out.append(f"<tr><td>{escape(topic.title)}</td>{_tally_cells(topic.tally)}</tr>")
    out.append(f"<tr><th>Overall</th>{_tally_cells(progress.tally)}</tr></tbody></table>")
    review = [e for e in progress.items if e.needs_review]
    if review:
        out.append("<h2>Needs re-review</h2><p>The finding changed since these answers were "
                   "given:</p><ul>" + "".join(
                       f"<li><code>{escape(e.item.id)}</code> {escape(e.item.title)}</li>"
                       for e in review) + "</ul>")
    out.append(extra_sections)
    for topic in progress.topics:
        out.append(f"<h2>{escape(topic.title)} — {topic.tally.percent:.1f}%</h2>")
        out.append("<table><thead><tr><th>Status</th><th>Item</th><th>Finding, evidence and "
                   "answer</th></tr></thead><tbody>")
        out.extend(_item_row(entry) for entry in topic.items)
        out.append("</tbody></table>")
    if progress.orphaned_answers:
        out.append("<h2>Answers to items no longer in the checklists</h2><ul>" + "".join(
            f"<li><code>{escape(a.item_id)}</code>: {escape(a.value.value)} by "
            f"{escape(a.author)}</li>" for a in progress.orphaned_answers) + "</ul>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"
