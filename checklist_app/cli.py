"""The command line: argument parsing, printing and exit codes.

Exit codes: 0 success; 1 the check failed (progress under --fail-under, invalid checklists);
2 bad usage or input (a missing folder, an unreadable checklist folder).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from checklist_app import TOOL_NAME, __version__

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

    rules = commands.add_parser("rules", help="work with checklists")
    rules_commands = rules.add_subparsers(dest="rules_command", metavar="ACTION")
    check = rules_commands.add_parser("check", help="validate checklists; exit 1 on problems")
    check.add_argument("dirs", type=Path, nargs="*", metavar="DIR",
                       help="folders to check (default: the built-in checklists)")
    return parser


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
    if args.command == "rules":
        if args.rules_command == "check":
            return _rules_check(args.dirs, out, err)
        parser.parse_args(["rules", "--help"])
        return EXIT_USAGE
    parser.print_help(out)
    return EXIT_OK


def _cache_dir() -> Path:
    override = os.environ.get("CHECKLIST_APP_CACHE")
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_cache_dir("flask-checklist"))


def _scan(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from checklist_app.progress import build_progress
    from checklist_app.scan import ScanProgress, load_rules, scan_path

    root: Path = args.path
    if not root.is_dir():
        print(f"{TOOL_NAME}: {root}: no such folder", file=err)
        return EXIT_USAGE
    for directory in args.rules:
        if not directory.is_dir():
            print(f"{TOOL_NAME}: --rules {directory}: no such folder", file=err)
            return EXIT_USAGE
    checklists = load_rules(args.rules)
    for problem in checklists.problems:
        print(f"{TOOL_NAME}: warning: {problem}", file=err)

    show_progress = err.isatty()

    def report(progress: ScanProgress) -> None:
        if show_progress:
            err.write(f"\rscanning {progress.done}/{progress.total} {progress.item_id:<40}")
            err.flush()

    cache_dir = None if args.no_cache else _cache_dir()
    result = scan_path(root, checklists, cache_dir=cache_dir, on_progress=report)
    if show_progress:
        err.write("\r" + " " * 60 + "\r")
    progress = build_progress(checklists, result, (), datetime.now(UTC))
    text = _render(progress, args.format)
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


def _render(progress: object, format_: str) -> str:
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

    return text_report.render(progress)


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
