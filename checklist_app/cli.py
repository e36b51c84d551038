"""The command line: argument parsing, printing and exit codes.

Exit codes: 0 success; 1 the check failed (progress under --fail-under, invalid checklists);
2 bad usage or input (a missing folder, an unreadable checklist folder).
"""

from __future__ import annotations

import argparse
import gc
import shutil
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from checklist_app import TOOL_NAME, __version__
from checklist_app.cli_args import missing_folder

if TYPE_CHECKING:
    from checklist_app.storage import ProjectRecord
    from checklist_app.workspace import Workspace

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2

SCAN_FORMATS = ("text", "json", "markdown", "sarif")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=TOOL_NAME,
        description="Check a Flask project against best-practice checklists.",
    )
    parser.add_argument("--version", action="version", version=f"{TOOL_NAME} {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    gui = commands.add_parser("gui", help="open the desktop app (on PATH when given)")
    gui.add_argument("path", type=Path, nargs="?", help="the project folder")
    gui.add_argument("--rules", type=Path, action="append", default=[], metavar="DIR")
    gui.add_argument("--db", help="the progress database: a path or an SQLAlchemy URL")

    demo = commands.add_parser("demo", help="open the desktop app on a bundled sample project")
    demo.add_argument("--db", help="the progress database: a path or an SQLAlchemy URL")

    scan = commands.add_parser("scan", help="scan a project and print every item's status")
    scan.add_argument("path", type=Path, help="the project folder")
    scan.add_argument("--format", choices=SCAN_FORMATS, default="text")
    scan.add_argument("--output", type=Path, help="write the result to this file")
    scan.add_argument("--fail-under", type=float, metavar="PERCENT",
                      help="exit 1 when overall progress is below PERCENT")
    scan.add_argument("--rules", type=Path, action="append", default=[], metavar="DIR",
                      help="another folder of checklists (repeatable), merged with the built-in")
    scan.add_argument("--db", help="the progress database: a path or an SQLAlchemy URL")
    scan.add_argument("--no-save", action="store_true", help="do not record the scan")
    scan.add_argument("--no-cache", action="store_true",
                      help="parse everything again instead of reusing the previous scan's facts")

    answer = commands.add_parser("answer", help="record a person's answer to an item")
    answer.add_argument("path", type=Path, help="the project folder")
    answer.add_argument("item_id", metavar="ITEM_ID", help="e.g. security.https")
    value = answer.add_mutually_exclusive_group(required=True)
    value.add_argument("--met", dest="value", action="store_const", const="met")
    value.add_argument("--unmet", dest="value", action="store_const", const="unmet")
    value.add_argument("--na", dest="value", action="store_const", const="na",
                       help="not applicable (needs a justification)")
    answer.add_argument("--note", default="")
    answer.add_argument("--justification", default="",
                        help="why; required for n/a and for answers that override the scan")
    answer.add_argument("--author", help="who answers (default: git user.name)")
    answer.add_argument("--expires", type=_date, metavar="YYYY-MM-DD",
                        help="the answer counts as unknown from this day on")
    answer.add_argument("--rules", type=Path, action="append", default=[], metavar="DIR")
    answer.add_argument("--db", help="the progress database: a path or an SQLAlchemy URL")

    status = commands.add_parser("status", help="progress per topic and what changed since "
                                 "the previous scan")
    status.add_argument("path", type=Path, help="the project folder")
    status.add_argument("--rules", type=Path, action="append", default=[], metavar="DIR")
    status.add_argument("--db", help="the progress database: a path or an SQLAlchemy URL")

    history = commands.add_parser("history", help="the audit trail of answers")
    history.add_argument("path", type=Path, help="the project folder")
    history.add_argument("item_id", nargs="?", metavar="ITEM_ID")
    history.add_argument("--db", help="the progress database: a path or an SQLAlchemy URL")

    relink = commands.add_parser("relink", help="move a project's progress to its new folder")
    relink.add_argument("old_path", help="where the project was")
    relink.add_argument("new_path", type=Path, help="where it is now")
    relink.add_argument("--db", help="the progress database: a path or an SQLAlchemy URL")

    _report_parsers(commands)
    _review_parsers(commands)
    _answers_parsers(commands)

    rules = commands.add_parser("rules", help="work with checklists")
    rules_commands = rules.add_subparsers(dest="rules_command", metavar="ACTION")
    check = rules_commands.add_parser("check", help="validate checklists; exit 1 on problems")
    check.add_argument("dirs", type=Path, nargs="*", metavar="DIR",
                       help="folders to check (default: the built-in checklists)")
    return parser


REPORT_FORMATS = ("html", "markdown", "json", "sarif", "csv", "pdf")


def _store_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", type=Path, help="the project folder")
    parser.add_argument("--rules", type=Path, action="append", default=[], metavar="DIR")
    parser.add_argument("--db", help="the progress database: a path or an SQLAlchemy URL")


def _report_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    report = commands.add_parser(
        "report", help="export the recorded progress, answers, review and history")
    _store_args(report)
    report.add_argument("--format", choices=REPORT_FORMATS, default="html")
    report.add_argument("--output", type=Path, help="write it to this file (default: stdout)")
    report.add_argument("--review", type=int, metavar="ID",
                        help="the review to include (default: the latest)")


def _review_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    review = commands.add_parser("review", help="release reviews: start, sign, close, show, "
                                 "diff, list")
    actions = review.add_subparsers(dest="review_command", metavar="ACTION")
    start = actions.add_parser("start", help="open a review pinned to the current commit")
    _store_args(start)
    start.add_argument("--title", required=True)
    start.add_argument("--by", help="who starts it (default: git user.name)")
    sign = actions.add_parser("sign", help="sign off a topic of the open review")
    _store_args(sign)
    sign.add_argument("topic", metavar="TOPIC", help="e.g. security")
    decision = sign.add_mutually_exclusive_group(required=True)
    decision.add_argument("--approve", dest="decision", action="store_const", const="approve")
    decision.add_argument("--request-changes", dest="decision", action="store_const",
                          const="changes")
    sign.add_argument("--comment", default="", help="required when requesting changes")
    sign.add_argument("--reviewer", help="who signs (default: git user.name)")
    sign.add_argument("--review", type=int, metavar="ID", help="default: the open review")
    close = actions.add_parser("close", help="close the open review, freezing its snapshot")
    _store_args(close)
    close.add_argument("--by", help="who closes it (default: git user.name)")
    show = actions.add_parser("show", help="a review's sign-offs, deferred items and changes")
    _store_args(show)
    show.add_argument("--review", type=int, metavar="ID", help="default: the latest review")
    show.add_argument("--require-signed", action="store_true",
                      help="exit 1 unless every topic of the review is approved (for CI)")
    diff = actions.add_parser("diff", help="compare two reviews, or a review and now")
    _store_args(diff)
    diff.add_argument("before", nargs="?", metavar="FROM",
                      help="a review id (default: the latest closed review)")
    diff.add_argument("after", nargs="?", metavar="TO", help="a review id or now (default)")
    diff.add_argument("--format", choices=("text", "markdown", "html", "json"), default="text",
                      help="text (default), markdown, a self-contained html page, or json")
    diff.add_argument("--output", type=Path, help="write the comparison to this file")
    listing = actions.add_parser("list", help="every review of the project")
    _store_args(listing)


def _answers_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    answers = commands.add_parser("answers", help="share answers through a committed file")
    actions = answers.add_subparsers(dest="answers_command", metavar="ACTION")
    export = actions.add_parser("export", help="write the answers to a YAML file")
    _store_args(export)
    export.add_argument("--output", type=Path,
                        help="default: .flask-checklist.yaml in the project folder")
    import_ = actions.add_parser("import", help="record a file's answers as proposals")
    _store_args(import_)
    import_.add_argument("file", type=Path, nargs="?", metavar="FILE",
                         help="default: .flask-checklist.yaml in the project folder")
    import_.add_argument("--by", help="who imports (default: git user.name)")
    actions_ = {"proposals": "the open proposals beside the local answers",
                "accept": "make a proposal the project's answer",
                "reject": "drop a proposal"}
    for name, help_ in actions_.items():
        action = actions.add_parser(name, help=help_)
        _store_args(action)
        if name != "proposals":
            action.add_argument("proposal_id", type=int, metavar="ID")
            action.add_argument("--by", help="who decides (default: git user.name)")
        if name == "accept":
            action.add_argument("--replace", action="store_true",
                                help="replace a different local answer")


def entry() -> int:
    """The `checklist-app` command. Its commands are short and make many values and few cycles,
    so the cyclic garbage collector is off (see collector.py; the desktop app turns it back on),
    and before the process ends the collector is told that everything made lives until then
    (`gc.freeze`): the collection Python runs at exit does not walk a scan's values once more.
    Together about a fifth of a rescan."""
    gc.disable()
    code = main()
    gc.freeze()
    return code


def main(argv: Sequence[str] | None = None, stdout: TextIO | None = None,
         stderr: TextIO | None = None) -> int:
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    if args.command == "scan":
        return _scan(args, out, err)
    if args.command in ("answer", "status", "history", "relink"):
        return _with_workspace(args, out, err)
    if args.command in ("report", "review", "answers"):
        from checklist_app import cli_review

        return cli_review.run(args, parser, out, err)
    if args.command == "rules":
        if args.rules_command == "check":
            return _rules_check(args.dirs, out, err)
        parser.parse_args(["rules", "--help"])
        return EXIT_USAGE
    if args.command in (None, "gui", "demo"):
        return _gui(args, err)
    parser.print_help(out)
    return EXIT_OK


def _gui(args: argparse.Namespace, err: TextIO) -> int:
    """Start the desktop app; Qt is imported only now."""
    gc.enable()  # the app runs for long: its cycles must be collected (see `entry`)
    path: Path | None = getattr(args, "path", None)
    if path is not None and not path.is_dir():
        print(f"{TOOL_NAME}: {path}: no such folder", file=err)
        return EXIT_USAGE
    try:
        from checklist_app.gui.app import run
    except ImportError as error:
        print(f"{TOOL_NAME}: the desktop app cannot start: {error}. Qt needs system libraries: "
              "run scripts/setup, or see the README", file=err)
        return EXIT_USAGE
    return run(path, demo=args.command == "demo", db=getattr(args, "db", None),
               rules_dirs=getattr(args, "rules", []))


def _date(text: str) -> datetime:
    try:
        return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-12-31") from None


def _scan(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from checklist_app.progress import build_progress
    from checklist_app.scan import ScanProgress, load_rules, scan_path

    root: Path = args.path
    missing = missing_folder(root, args.rules)
    if missing:
        print(f"{TOOL_NAME}: {missing}", file=err)
        return EXIT_USAGE
    from checklist_app.project.cache import default_cache_dir

    cache_dir = None if args.no_cache else default_cache_dir()
    checklists = load_rules(args.rules, cache_dir=cache_dir)
    for problem in checklists.problems:
        print(f"{TOOL_NAME}: warning: {problem}", file=err)

    show_progress = err.isatty()

    def report(progress: ScanProgress) -> None:
        if show_progress:
            err.write(f"\rscanning {progress.done}/{progress.total} {progress.item_id:<40}")
            err.flush()

    if args.no_save:
        result = scan_path(root, checklists, cache_dir=cache_dir, on_progress=report)
        if show_progress:
            err.write("\r" + " " * 60 + "\r")
        progress = build_progress(checklists, result, (), datetime.now(UTC))
    else:
        from checklist_app.storage import StoreError
        from checklist_app.workspace import Workspace

        try:
            with Workspace.open(args.db, args.rules, cache_dir,
                                use_cache=not args.no_cache) as workspace:
                project = workspace.open_project(root)
                result = workspace.scan(root, on_progress=report)
                if show_progress:
                    err.write("\r" + " " * 60 + "\r")
                workspace.record_scan(project, result)
                progress = workspace.progress(project, result)
        except StoreError as error:
            print(f"{TOOL_NAME}: {error}", file=err)
            print(f"{TOOL_NAME}: the scan was not saved; use --no-save to scan without the "
                  "database", file=err)
            return EXIT_USAGE
    width = shutil.get_terminal_size().columns if out.isatty() and not args.output else None
    text = _render(progress, args.format, width)
    if args.output:
        try:
            args.output.write_text(text, encoding="utf-8")
        except OSError as error:
            print(f"{TOOL_NAME}: cannot write {args.output}: {error.strerror}", file=err)
            return EXIT_USAGE
        print(f"wrote {args.output} ({progress.tally.percent:.1f}% complete)", file=err)
    else:
        out.write(text)
    if args.fail_under is not None and progress.tally.percent < args.fail_under:
        print(f"{TOOL_NAME}: progress {progress.tally.percent:.1f}% is below "
              f"--fail-under {args.fail_under:g}%", file=err)
        return EXIT_FAILED
    return EXIT_OK


def _with_workspace(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """answer, status, history and relink: commands that need the store."""
    from checklist_app.storage import StoreError
    from checklist_app.workspace import AnswerRefused, Workspace

    rules_dirs: list[Path] = getattr(args, "rules", [])
    try:
        with Workspace.open(args.db, rules_dirs) as workspace:
            if args.command == "relink":
                record = workspace.relink(args.old_path, args.new_path)
                print(f"{args.old_path} is now {record.root}", file=out)
                return EXIT_OK
            root: Path = args.path
            if args.command == "answer":
                return _answer(workspace, root, args, out)
            project = workspace.find_project(root)
            if project is None:
                print(f"{TOOL_NAME}: {root} has no recorded progress yet; run "
                      f"`{TOOL_NAME} scan {root}` first", file=err)
                return EXIT_USAGE
            if args.command == "status":
                return _status(workspace, project, out)
            return _history(workspace, project, args.item_id, out)
    except (StoreError, AnswerRefused, NotADirectoryError) as error:
        print(f"{TOOL_NAME}: {error}", file=err)
        return EXIT_USAGE


def _answer(workspace: Workspace, root: Path, args: argparse.Namespace, out: TextIO) -> int:
    from checklist_app.findings import AnswerValue
    from checklist_app.workspace import default_author

    project = workspace.open_project(root)
    saved = workspace.answer(
        project, args.item_id, AnswerValue(args.value),
        author=args.author or default_author(root), note=args.note,
        justification=args.justification, expires=args.expires,
    )
    progress = workspace.progress(project)
    print(f"{saved.item_id}: {saved.value.value} by {saved.author} (revision {saved.revision}); "
          f"progress {progress.tally.percent:.1f}%", file=out)
    return EXIT_OK


def _status(workspace: Workspace, project: ProjectRecord, out: TextIO) -> int:
    from checklist_app.reports.text_report import STATUS_LABEL, tally_line

    progress = workspace.progress(project)
    scan = progress.scan
    when = f"last scan {scan.scanned_at:%Y-%m-%d %H:%M} UTC" if scan else "never scanned"
    commit = f" at {scan.project.commit[:10]}" if scan and scan.project.commit else ""
    print(f"{project.name} ({project.root}): {when}{commit}", file=out)
    print(f"Overall  {tally_line(progress.tally)}", file=out)
    for topic in progress.topics:
        print(f"  {topic.title:<42} {tally_line(topic.tally)}", file=out)
    review = [e.item.id for e in progress.items if e.needs_review]
    expired = [e.item.id for e in progress.items if e.answer_expired]
    if review:
        print(f"Needs re-review (the finding changed since the answer): {', '.join(review)}",
              file=out)
    if expired:
        print(f"Expired answers: {', '.join(expired)}", file=out)
    for orphan in progress.orphaned_answers:
        print(f"Orphaned answer (no such item in the checklists): {orphan.item_id} "
              f"{orphan.value.value} by {orphan.author}", file=out)
    changes = workspace.changes_since_previous_scan(project)
    if scan is not None:
        if changes:
            print("Changed since the previous scan:", file=out)
            for change in changes:
                before = STATUS_LABEL[change.before] if change.before else "new"
                after = STATUS_LABEL[change.after] if change.after else "gone"
                print(f"  {change.item_id}: {before} -> {after}", file=out)
        else:
            print("No change since the previous scan.", file=out)
    return EXIT_OK


def _history(workspace: Workspace, project: ProjectRecord, item_id: str | None,
             out: TextIO) -> int:
    changes = workspace.history(project, item_id)
    if not changes:
        print("no answers recorded" + (f" for {item_id}" if item_id else ""), file=out)
        return EXIT_OK
    for change in changes:
        old = change.old_value.value if change.old_value else "none"
        new = change.new_value.value if change.new_value else "cleared"
        why = f": {change.reason}" if change.reason else ""
        print(f"{change.changed_at:%Y-%m-%d %H:%M} {change.item_id} {old} -> {new} "
              f"by {change.author}{why}", file=out)
    return EXIT_OK


def _render(progress: object, format_: str, width: int | None = None) -> str:
    """The report as text that always encodes as UTF-8 (odd file names shown escaped).
    `width`: the terminal's, to fit the text table to it."""
    from checklist_app.findings import printable

    return printable(_render_format(progress, format_, width))


def _render_format(progress: object, format_: str, width: int | None) -> str:
    from checklist_app.progress import Progress

    assert isinstance(progress, Progress)
    if format_ == "json":
        from checklist_app.reports import json_report

        return json_report.render(progress)
    if format_ == "markdown":
        from checklist_app.reports import markdown_report

        return markdown_report.render(progress)
    if format_ == "sarif":
        from checklist_app.reports import sarif_report

        return sarif_report.render(progress)
    from checklist_app.reports import text_report

    return text_report.render(progress, width)


def _rules_check(dirs: list[Path], out: TextIO, err: TextIO) -> int:
    from checklist_app.scan import load_rules

    checklists = load_rules(dirs, include_builtin=not dirs)
    for problem in checklists.problems:
        print(str(problem), file=out)
    items = len(checklists.items)
    if checklists.problems:
        print(f"{len(checklists.problems)} problem(s); {items} valid item(s) in "
              f"{len(checklists.checklists)} checklist(s)", file=err)
        return EXIT_FAILED
    print(f"ok: {items} items in {len(checklists.checklists)} checklists", file=out)
    return EXIT_OK
