"""Measure how often the scan agrees with hand labels of real Flask projects.

The corpus (benchmarks/corpus.yaml) lists public Flask applications; benchmarks/labels/<name>.yaml
holds, for each, a hand label per checklist item: yes (practice present), no (absent or
violated), na (does not apply) or unsure, with evidence and a reason. For every corpus entry
with a checkout under --checkouts (default /tmp/corpus/<name>) this script runs

    python -m checklist_app scan PATH --format json --no-save

maps each item's status to a label (met -> yes, unmet -> no, na -> na, unknown -> unsure) and
prints, per item and per project, the agreement on items labelled yes or no (an unknown there
is a disagreement; na and unsure labels are not scored, nor items the scan does not have), every
disagreement with the label's reason and the tool's message, the security false passes
(the tool says met where the label says no), which must be zero, and, unscored, the items
labelled na or unsure where the tool said something else.

    python benchmarks/accuracy.py [--checkouts DIR] [--only NAME]... [--save-scans DIR]
                                  [--min-agreement PERCENT]
    python benchmarks/accuracy.py --scan-json FILE [--project NAME]

--scan-json scores one saved scan (of the project named by --project, else by the scan's own
project name) without running anything. The exit status is 0 unless --min-agreement is given
and the overall agreement is below it (then 1); 2 for unusable input.
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import yaml

BENCHMARKS = Path(__file__).resolve().parent
DEFAULT_CORPUS = BENCHMARKS / "corpus.yaml"
DEFAULT_LABELS = BENCHMARKS / "labels"
DEFAULT_CHECKOUTS = Path("/tmp/corpus")
DEFAULT_SCAN_COMMAND = (sys.executable, "-m", "checklist_app")
SCAN_TIMEOUT_S = 1800

LABEL_VALUES = ("yes", "no", "na", "unsure")
SCORED_LABELS = ("yes", "no")
STATUS_TO_LABEL = {"met": "yes", "unmet": "no", "na": "na", "unknown": "unsure"}
ITEM_ID = re.compile(r"^[a-z][a-z0-9]*\.[a-z0-9]+(?:-[a-z0-9]+)*$")
FILE_EVIDENCE = re.compile(r"^(?P<path>[\w./-]+?)(?::(?P<line>\d+))?$")
CORPUS_KEYS = frozenset({"name", "repository", "commit", "source", "size", "why"})

EXIT_OK = 0
EXIT_BELOW = 1
EXIT_INPUT = 2


class InputError(Exception):
    """A corpus, labels or scan file that cannot be used; the message names it."""


@dataclass(frozen=True)
class CorpusEntry:
    name: str
    repository: str
    commit: str


@dataclass(frozen=True)
class Label:
    item_id: str
    value: str
    evidence: str
    reason: str


@dataclass(frozen=True)
class ProjectLabels:
    project: str
    commit: str
    labels: tuple[Label, ...]


@dataclass(frozen=True)
class ToolItem:
    item_id: str
    status: str
    outcome: str
    confidence: str
    message: str
    evidence: tuple[str, ...]

    @property
    def label(self) -> str:
        return STATUS_TO_LABEL.get(self.status, "unsure")


@dataclass(frozen=True)
class Scan:
    project: str
    commit: str | None
    items: tuple[ToolItem, ...]


@dataclass(frozen=True)
class Comparison:
    """One labelled item of one project next to what the tool said (None: not in the scan)."""

    project: str
    label: Label
    tool: ToolItem | None

    @property
    def scored(self) -> bool:
        return self.tool is not None and self.label.value in SCORED_LABELS

    @property
    def agrees(self) -> bool:
        return self.tool is not None and self.tool.label == self.label.value

    @property
    def false_pass(self) -> bool:
        return self.label.value == "no" and self.tool is not None and self.tool.status == "met"

    @property
    def security_false_pass(self) -> bool:
        return self.false_pass and self.label.item_id.startswith("security.")


@dataclass(frozen=True)
class Tally:
    scored: int
    agreed: int
    unknown: int
    false_pass: int
    false_fail: int
    security_false_pass: int

    @property
    def percent(self) -> float | None:
        return 100.0 * self.agreed / self.scored if self.scored else None


# -- reading -----------------------------------------------------------------------------------


def _load_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise InputError(f"{path}: cannot read: {error.strerror}") from error
    except yaml.YAMLError as error:
        raise InputError(f"{path}: not valid YAML: {error}") from error


def _text(value: object, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"{where}: expected a non-empty string, got {value!r}")
    return value


def label_value(raw: object, where: str) -> str:
    """yes/no/na/unsure; YAML 1.1 reads bare yes/no as booleans, so those are accepted too."""
    if raw is True:
        return "yes"
    if raw is False:
        return "no"
    if isinstance(raw, str) and raw.strip().lower() in LABEL_VALUES:
        return raw.strip().lower()
    raise InputError(f"{where}: label must be one of {', '.join(LABEL_VALUES)}, got {raw!r}")


def load_corpus(path: Path) -> tuple[CorpusEntry, ...]:
    data = _load_yaml(path)
    if not isinstance(data, dict) or not isinstance(data.get("projects"), list):
        raise InputError(f"{path}: expected a mapping with a 'projects' list")
    entries: list[CorpusEntry] = []
    for index, raw in enumerate(data["projects"]):
        where = f"{path}: projects[{index}]"
        if not isinstance(raw, dict):
            raise InputError(f"{where}: expected a mapping")
        unknown = sorted(set(raw) - CORPUS_KEYS)
        if unknown:
            raise InputError(f"{where}: unknown keys {', '.join(map(str, unknown))}")
        entries.append(CorpusEntry(
            name=_text(raw.get("name"), f"{where}.name"),
            repository=_text(raw.get("repository"), f"{where}.repository"),
            commit=_text(raw.get("commit"), f"{where}.commit"),
        ))
    names = [entry.name for entry in entries]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise InputError(f"{path}: duplicate project names {', '.join(duplicates)}")
    return tuple(entries)


def load_labels(path: Path) -> ProjectLabels:
    data = _load_yaml(path)
    if not isinstance(data, dict) or not isinstance(data.get("labels"), dict):
        raise InputError(f"{path}: expected a mapping with 'project', 'commit' and 'labels'")
    labels: list[Label] = []
    for item_id, raw in data["labels"].items():
        where = f"{path}: {item_id}"
        if not isinstance(item_id, str) or not ITEM_ID.match(item_id):
            raise InputError(f"{where}: not an item id of the form topic.slug")
        if not isinstance(raw, dict):
            raise InputError(f"{where}: expected {{label, evidence, reason}}")
        labels.append(Label(
            item_id=item_id,
            value=label_value(raw.get("label"), where),
            evidence=_text(raw.get("evidence"), f"{where}.evidence"),
            reason=_text(raw.get("reason"), f"{where}.reason"),
        ))
    return ProjectLabels(
        project=_text(data.get("project"), f"{path}: project"),
        commit=_text(data.get("commit"), f"{path}: commit"),
        labels=tuple(labels),
    )


def _evidence_text(raw: Mapping[str, Any]) -> str:
    path = raw.get("path")
    line = raw.get("line")
    commit = raw.get("commit")
    where = f"{path}:{line}" if path and line else str(path or "")
    if commit:
        where = f"{where}@{str(commit)[:10]}" if where else str(commit)[:10]
    return where


def parse_scan(data: object, where: str) -> Scan:
    """The `scan --format json` object (schema 1) as a Scan."""
    if not isinstance(data, dict) or data.get("schema") != 1:
        raise InputError(f"{where}: not a schema-1 scan JSON object")
    raw_items = data.get("items")
    if not isinstance(raw_items, list):
        raise InputError(f"{where}: no 'items' list")
    items: list[ToolItem] = []
    for raw in raw_items:
        if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
            raise InputError(f"{where}: an item without an id")
        finding = raw.get("finding") or {}
        evidence = finding.get("evidence") or []
        items.append(ToolItem(
            item_id=raw["id"],
            status=str(raw.get("status", "unknown")),
            outcome=str(finding.get("outcome", "none")),
            confidence=str(finding.get("confidence", "")),
            message=str(finding.get("message", "")),
            evidence=tuple(_evidence_text(e) for e in evidence if isinstance(e, dict)),
        ))
    project = data.get("project") or {}
    return Scan(
        project=str(project.get("name") or ""),
        commit=project.get("commit") if isinstance(project.get("commit"), str) else None,
        items=tuple(items),
    )


def load_scan(path: Path) -> Scan:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise InputError(f"{path}: cannot read: {error.strerror}") from error
    except json.JSONDecodeError as error:
        raise InputError(f"{path}: not JSON: {error}") from error
    return parse_scan(data, str(path))


def run_scan(checkout: Path, command: Sequence[str], save_to: Path | None = None) -> Scan:
    """Scan one checkout with the real tool (`command` + scan PATH --format json --no-save)."""
    argv = [*command, "scan", str(checkout), "--format", "json", "--no-save"]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=SCAN_TIMEOUT_S,
                              check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise InputError(f"{checkout}: scan did not run: {error}") from error
    if done.returncode != 0:
        raise InputError(f"{checkout}: scan exited {done.returncode}: {done.stderr.strip()}")
    if save_to is not None:
        save_to.write_text(done.stdout, encoding="utf-8")
    try:
        data = json.loads(done.stdout)
    except json.JSONDecodeError as error:
        raise InputError(f"{checkout}: scan printed no JSON: {error}") from error
    return parse_scan(data, f"scan of {checkout}")


def evidence_problems(labels: ProjectLabels, checkout: Path) -> tuple[str, ...]:
    """Label evidence of the form path or path:line that does not exist in the checkout."""
    problems: list[str] = []
    for label in labels.labels:
        match = FILE_EVIDENCE.match(label.evidence)
        if match is None or "/" not in label.evidence and "." not in label.evidence:
            continue
        target = checkout / match["path"]
        if not target.exists():
            problems.append(f"{labels.project} {label.item_id}: {match['path']} does not exist")
        elif match["line"] and target.is_file():
            lines = len(target.read_bytes().splitlines())
            if int(match["line"]) > lines:
                problems.append(f"{labels.project} {label.item_id}: {label.evidence} is past "
                                f"the end ({lines} lines)")
    return tuple(problems)


# -- scoring -----------------------------------------------------------------------------------


def compare(labels: ProjectLabels, scan: Scan) -> tuple[Comparison, ...]:
    by_id = {item.item_id: item for item in scan.items}
    return tuple(Comparison(project=labels.project, label=label, tool=by_id.get(label.item_id))
                 for label in labels.labels)


def tally(comparisons: Iterable[Comparison]) -> Tally:
    scored = [c for c in comparisons if c.scored]
    return Tally(
        scored=len(scored),
        agreed=sum(1 for c in scored if c.agrees),
        unknown=sum(1 for c in scored if c.tool is not None and c.tool.label == "unsure"),
        false_pass=sum(1 for c in scored if c.false_pass),
        false_fail=sum(1 for c in scored
                       if c.label.value == "yes" and c.tool is not None
                       and c.tool.status == "unmet"),
        security_false_pass=sum(1 for c in scored if c.security_false_pass),
    )


def disagreements(comparisons: Iterable[Comparison]) -> tuple[Comparison, ...]:
    return tuple(c for c in comparisons if c.scored and not c.agrees)


# -- report ------------------------------------------------------------------------------------


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}%"


def _tally_cells(counts: Tally) -> str:
    return (f"{counts.scored} | {counts.agreed} | {_percent(counts.percent)} | {counts.unknown}"
            f" | {counts.false_pass} | {counts.false_fail} | {counts.security_false_pass}")


TALLY_HEADER = ("scored | agree | agreement | unknown | false pass | false fail"
                " | security false pass")


def _one_line(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def render(comparisons: Sequence[Comparison], notes: Sequence[str]) -> str:
    """The Markdown report: per item, per project, disagreements, security false passes."""
    out: list[str] = ["# Scan accuracy against hand labels", ""]
    out += [f"- {note}" for note in notes]
    if notes:
        out.append("")
    projects = list(dict.fromkeys(c.project for c in comparisons))
    items = sorted({c.label.item_id for c in comparisons})

    out += ["## Per item", "", f"| item | {TALLY_HEADER} | not in scan |",
            "|---" * 9 + "|"]
    for item_id in items:
        rows = [c for c in comparisons if c.label.item_id == item_id]
        missing = sum(1 for c in rows if c.tool is None)
        out.append(f"| {item_id} | {_tally_cells(tally(rows))} | {missing} |")
    out += ["", "## Per project", "", f"| project | {TALLY_HEADER} | not in scan |",
            "|---" * 9 + "|"]
    for project in projects:
        rows = [c for c in comparisons if c.project == project]
        missing = sum(1 for c in rows if c.tool is None)
        out.append(f"| {project} | {_tally_cells(tally(rows))} | {missing} |")
    total = tally(comparisons)
    out += ["", f"**Overall: {total.agreed}/{total.scored} agree "
                f"({_percent(total.percent)}); {total.unknown} unknown, "
                f"{total.false_pass} false passes ({total.security_false_pass} on security "
                f"items), {total.false_fail} false fails.**", ""]

    security = [c for c in comparisons if c.security_false_pass]
    out += ["## Security false passes (must be zero)", ""]
    out += [f"- {c.project} {c.label.item_id}: label no ({_one_line(c.label.reason)}; "
            f"{c.label.evidence}); tool: {_one_line(c.tool.message if c.tool else '')}"
            for c in security] or ["None."]

    out += ["", "## Disagreements", "",
            "| project | item | label | tool | label reason (evidence) | tool message (evidence) |",
            "|---" * 6 + "|"]
    for c in disagreements(comparisons):
        assert c.tool is not None
        tool = f"{c.tool.status} ({c.tool.outcome}, {c.tool.confidence})"
        tool_evidence = ", ".join(c.tool.evidence[:3])
        message = _one_line(c.tool.message)
        if tool_evidence:
            message = f"{message} ({_one_line(tool_evidence)})"
        out.append(f"| {c.project} | {c.label.item_id} | {c.label.value} | {tool} | "
                   f"{_one_line(c.label.reason)} ({_one_line(c.label.evidence)}) | {message} |")

    unscored = [c for c in comparisons if c.tool is not None and not c.scored
                and c.tool.label != c.label.value]
    out += ["", "## Not scored: labels na or unsure where the tool said otherwise", "",
            "| project | item | label | tool | label reason | tool message |",
            "|---" * 6 + "|"]
    for c in unscored:
        assert c.tool is not None
        out.append(f"| {c.project} | {c.label.item_id} | {c.label.value} | {c.tool.status} | "
                   f"{_one_line(c.label.reason)} | {_one_line(c.tool.message)} |")
    return "\n".join(out) + "\n"


# -- command line ------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Score checklist-app scans against hand labels of real Flask projects.")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--labels", type=Path, default=DEFAULT_LABELS, metavar="DIR",
                        help="folder of <project>.yaml label files")
    parser.add_argument("--checkouts", type=Path, default=DEFAULT_CHECKOUTS, metavar="DIR",
                        help="folder holding one checkout per corpus entry, named as the entry")
    parser.add_argument("--only", action="append", default=[], metavar="NAME",
                        help="score only this corpus entry (repeatable)")
    parser.add_argument("--scan-json", type=Path, metavar="FILE",
                        help="score this saved scan instead of running scans")
    parser.add_argument("--project", metavar="NAME",
                        help="with --scan-json: the labelled project (default: the scan's name)")
    parser.add_argument("--save-scans", type=Path, metavar="DIR",
                        help="write each scan's JSON to DIR/<name>.json")
    parser.add_argument("--scan-command", default=shlex.join(DEFAULT_SCAN_COMMAND),
                        metavar="CMD", help="how to run the tool (default: %(default)s)")
    parser.add_argument("--min-agreement", type=float, metavar="PERCENT",
                        help="exit 1 when the overall agreement is below PERCENT")
    return parser


def _labels_for(labels_dir: Path, name: str) -> ProjectLabels:
    labels = load_labels(labels_dir / f"{name}.yaml")
    if labels.project != name:
        raise InputError(f"{labels_dir / (name + '.yaml')}: project is {labels.project!r}, "
                         f"expected {name!r}")
    return labels


def _unlabelled_note(name: str, labels: ProjectLabels, scan: Scan) -> str | None:
    labelled = {label.item_id for label in labels.labels}
    extra = [item.item_id for item in scan.items if item.item_id not in labelled]
    return f"{name}: scan items without a label: {', '.join(extra)}" if extra else None


def _commit_note(name: str, labels: ProjectLabels, scan: Scan) -> str | None:
    if scan.commit is None or scan.commit == labels.commit:
        return None
    return f"{name}: scanned commit {scan.commit} is not the labelled commit {labels.commit}"


def _score_saved(args: argparse.Namespace) -> tuple[list[Comparison], list[str]]:
    scan = load_scan(args.scan_json)
    name = args.project or scan.project
    if not name:
        raise InputError(f"{args.scan_json}: the scan names no project; give --project")
    labels = _labels_for(args.labels, name)
    notes = [f"{name}: scored {args.scan_json}", _commit_note(name, labels, scan),
             _unlabelled_note(name, labels, scan)]
    return list(compare(labels, scan)), [note for note in notes if note]


def _score_corpus(args: argparse.Namespace, err: TextIO) -> tuple[list[Comparison], list[str]]:
    entries = load_corpus(args.corpus)
    unknown = sorted(set(args.only) - {entry.name for entry in entries})
    if unknown:
        raise InputError(f"--only: not in {args.corpus}: {', '.join(unknown)}")
    command = shlex.split(args.scan_command)
    if args.save_scans:
        args.save_scans.mkdir(parents=True, exist_ok=True)
    comparisons: list[Comparison] = []
    notes: list[str] = []
    for entry in entries:
        if args.only and entry.name not in args.only:
            continue
        checkout = args.checkouts / entry.name
        if not checkout.is_dir():
            notes.append(f"{entry.name}: skipped, no checkout at {checkout}")
            continue
        labels = _labels_for(args.labels, entry.name)
        notes.extend(evidence_problems(labels, checkout))
        print(f"scanning {entry.name} ...", file=err, flush=True)
        save_to = args.save_scans / f"{entry.name}.json" if args.save_scans else None
        scan = run_scan(checkout, command, save_to)
        note = _commit_note(entry.name, labels, scan)
        notes.append(note or f"{entry.name}: scanned {checkout} at {labels.commit[:12]}")
        unlabelled = _unlabelled_note(entry.name, labels, scan)
        if unlabelled:
            notes.append(unlabelled)
        comparisons.extend(compare(labels, scan))
    return comparisons, notes


def main(argv: Sequence[str] | None = None, stdout: TextIO | None = None,
         stderr: TextIO | None = None) -> int:
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    args = _parser().parse_args(argv)
    try:
        if args.scan_json is not None:
            comparisons, notes = _score_saved(args)
        else:
            comparisons, notes = _score_corpus(args, err)
    except InputError as error:
        print(f"accuracy: {error}", file=err)
        return EXIT_INPUT
    out.write(render(comparisons, notes))
    percent = tally(comparisons).percent
    if args.min_agreement is not None and (percent or 0.0) < args.min_agreement:
        print(f"accuracy: agreement {_percent(percent)} is below --min-agreement "
              f"{args.min_agreement:g}%", file=err)
        return EXIT_BELOW
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
