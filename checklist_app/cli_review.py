"""The commands of releases and sharing: `report`, `review ...` and `answers ...`.

Exit codes as in cli.py: 0 success; 1 the check failed (`review show --require-signed` with a
topic not approved); 2 bad usage or input (no project, no open review, an unknown topic, a
closed review, a hostile answers file...).
"""

from __future__ import annotations

import argparse
import html
import json
from pathlib import Path
from typing import TextIO

from checklist_app import TOOL_NAME
from checklist_app.answers_file import DEFAULT_NAME, MAX_BYTES, AnswersFileError
from checklist_app.cli_args import missing_folder
from checklist_app.reports import html_report, review_report
from checklist_app.reviews import Comparison, Decision, TopicState
from checklist_app.storage import ProjectRecord, StoreError
from checklist_app.workspace import AnswerRefused, Workspace, default_author

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


class _Usage(Exception):
    """A problem to print and exit 2 on."""


def run(args: argparse.Namespace, parser: argparse.ArgumentParser, out: TextIO,
        err: TextIO) -> int:
    action = getattr(args, f"{args.command}_command", None) if args.command != "report" else ""
    if action is None:
        parser.parse_args([args.command, "--help"])
        return EXIT_USAGE
    if args.command == "report" and args.format == "pdf" and args.output is None:
        print(f"{TOOL_NAME}: a pdf report needs --output FILE", file=err)
        return EXIT_USAGE
    root: Path = args.path
    problem = missing_folder(root, args.rules)
    if problem:
        print(f"{TOOL_NAME}: {problem}", file=err)
        return EXIT_USAGE
    try:
        with Workspace.open(args.db, args.rules, use_cache=False) as workspace:
            project = workspace.find_project(root)
            if project is None:
                raise _Usage(f"{root} has no recorded progress yet; run `{TOOL_NAME} scan "
                             f"{root}` first")
            if args.command == "report":
                return _report(workspace, project, args, err, out)
            if args.command == "review":
                return _review(workspace, project, args, out, err)
            return _answers(workspace, project, args, out, err)
    except (_Usage, StoreError, AnswerRefused, AnswersFileError, ValueError) as error:
        print(f"{TOOL_NAME}: {error}", file=err)
        return EXIT_USAGE


def _write(text: str, output: Path | None, out: TextIO) -> None:
    if output is None:
        out.write(text)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as error:
        raise _Usage(f"cannot write {output}: {error.strerror}") from None


def _author(given: str | None, project: ProjectRecord) -> str:
    return given or default_author(Path(project.root))


# --- report -----------------------------------------------------------------------------------


def _report(workspace: Workspace, project: ProjectRecord, args: argparse.Namespace,
            err: TextIO, out: TextIO) -> int:
    if args.format == "pdf":
        # Rendered with Qt (offscreen when there is no display); imported only for pdf.
        from checklist_app.gui.pdf_export import PdfError, write_pdf

        try:
            write_pdf(workspace.report(project, "html", args.review), args.output)
        except (OSError, PdfError) as error:
            raise _Usage(f"cannot write {args.output}: {error}") from None
        print(f"wrote {args.output}", file=err)
        return EXIT_OK
    text = workspace.report(project, args.format, args.review)
    _write(text, args.output, out)
    if args.output is not None:
        print(f"wrote {args.output}", file=err)
    return EXIT_OK


# --- review -----------------------------------------------------------------------------------


def _review(workspace: Workspace, project: ProjectRecord, args: argparse.Namespace,
            out: TextIO, err: TextIO) -> int:
    action = args.review_command
    if action == "start":
        review = workspace.start_review(project, args.title, _author(args.by, project))
        print(review_report.review_heading(review), file=out)
        return EXIT_OK
    if action == "sign":
        review = workspace.sign_review(project, args.topic, _author(args.reviewer, project),
                                       Decision(args.decision), args.comment, args.review)
        state = next(t for t in workspace.review_status(review) if t.topic == args.topic)
        print(f"review {review.id}: {args.topic} {state.state.value}", file=out)
        return EXIT_OK
    if action == "close":
        review = workspace.close_review(project, _author(args.by, project))
        assert review.snapshot is not None
        print(f"{review_report.review_heading(review)}; "
              f"{review.snapshot.tally.percent:.1f}% complete, "
              f"{len(review.snapshot.deferred)} deferred", file=out)
        return EXIT_OK
    if action == "show":
        review = workspace.review(project, args.review)
        topics = workspace.review_status(review)
        out.write(review_report.review_text(review, topics,
                                            workspace.review_changes(project, review)))
        if args.require_signed:
            pending = [t for t in topics if t.state is not TopicState.APPROVED]
            if pending:
                print(f"{TOOL_NAME}: review {review.id} is not signed off: "
                      + ", ".join(f"{t.topic} {t.state.value}" for t in pending), file=err)
                return EXIT_FAILED
        return EXIT_OK
    if action == "diff":
        before = _point(args.before) if args.before is not None else _last_closed(
            workspace, project)
        after = _point(args.after) if args.after is not None else None
        comparison = workspace.compare(project, before, after)
        _write(_comparison(comparison, args.format, project.name), args.output, out)
        if args.output is not None:
            print(f"wrote {args.output}", file=err)
        return EXIT_OK
    reviews = workspace.reviews(project)
    if not reviews:
        print("no reviews", file=out)
    for review in reviews:
        states = workspace.review_status(review)
        approved = sum(t.state is TopicState.APPROVED for t in states)
        print(f"{review_report.review_heading(review)}; {approved}/{len(states)} topics "
              "approved", file=out)
    return EXIT_OK


def _comparison(comparison: Comparison, format_: str, name: str) -> str:
    """The comparison of two points as a report of its own."""
    if format_ == "json":
        data = review_report.comparison_dict(comparison)
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    if format_ == "html":
        title = html.escape(f"Flask checklist comparison: {name}")
        return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}'
                f"</title><style>{html_report.CSS}</style></head><body><h1>{title}</h1>"
                f"{review_report.comparison_html(comparison)}</body></html>\n")
    text = review_report.comparison_text(comparison)
    if format_ == "markdown":  # an indented block: nothing in it is read as markup
        return "".join(f"    {line}\n" for line in text.splitlines())
    return text


def _point(text: str) -> int | None:
    if text == "now":
        return None
    try:
        return int(text)
    except ValueError:
        raise _Usage(f"{text!r} is neither a review id nor now") from None


def _last_closed(workspace: Workspace, project: ProjectRecord) -> int:
    closed = [r for r in workspace.reviews(project) if r.closed]
    if not closed:
        raise _Usage(f"{project.name} has no closed review to compare with; give two points "
                     "(review ids or now)")
    return closed[-1].id


# --- answers ----------------------------------------------------------------------------------


def _answers(workspace: Workspace, project: ProjectRecord, args: argparse.Namespace,
             out: TextIO, err: TextIO) -> int:
    action = args.answers_command
    if action == "export":
        text, left_out = workspace.export_answers(project)
        target = args.output or Path(project.root) / DEFAULT_NAME
        _write(text, target, out)
        print(f"wrote {target}", file=err)
        for answer in left_out:
            print(f"{TOOL_NAME}: left out the answer to {answer.item_id}: no such item in the "
                  "checklists", file=err)
        return EXIT_OK
    if action == "import":
        source: Path = args.file or Path(project.root) / DEFAULT_NAME
        data = _read_limited(source)
        result = workspace.import_answers(project, data, str(source),
                                          _author(args.by, project))
        print(f"{len(result.proposed)} proposal(s) recorded, {len(result.unchanged)} already "
              f"answered the same, {len(result.already_proposed)} already proposed", file=out)
        if result.proposed:
            print(f"review them with `{TOOL_NAME} answers proposals {args.path}`", file=out)
        return EXIT_OK
    if action == "proposals":
        views = workspace.proposals(project)
        if not views:
            print("no open proposals", file=out)
        for view in views:
            p = view.proposal
            print(f"#{p.id} {p.item_id} (from {p.source}, imported by {p.proposed_by})",
                  file=out)
            proposed = _said(p.value.value, p.author, p.justification)
            local = (_said(view.local.value.value, view.local.author, view.local.justification)
                     if view.local is not None else "no answer")
            marker = "CONFLICT" if view.conflicts else "new"
            print(f"  {marker:<9} proposed: {proposed}", file=out)
            print(f"  {'':<9} local:    {local}", file=out)
        return EXIT_OK
    by = _author(args.by, project)
    if action == "accept":
        saved = workspace.accept_proposal(project, args.proposal_id, by, replace=args.replace)
        print(f"{saved.item_id}: {saved.value.value} by {saved.author} (revision "
              f"{saved.revision}), accepted by {by}", file=out)
        return EXIT_OK
    rejected = workspace.reject_proposal(project, args.proposal_id, by)
    print(f"proposal #{rejected.id} for {rejected.item_id} rejected by {by}", file=out)
    return EXIT_OK


def _said(value: str, author: str, justification: str) -> str:
    return f"{value} by {author}" + (f": {justification}" if justification else "")


def _read_limited(path: Path) -> bytes:
    """The file's bytes, refusing more than the answers file limit without reading them."""
    try:
        with path.open("rb") as stream:
            data = stream.read(MAX_BYTES + 1)
    except OSError as error:
        raise _Usage(f"cannot read {path}: {error.strerror}") from None
    return data
