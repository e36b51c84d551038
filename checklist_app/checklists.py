"""Loading and validating checklists (`rules/*.yaml`) into frozen values.

Every problem names the file, the line, the item and the field. A bad file is reported and the
valid ones still load. Detector names and parameters are checked through a callable the caller
passes in, so this module does not depend on the detectors.
"""

from __future__ import annotations

import hashlib
import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, NamedTuple

from checklist_app import line_yaml
from checklist_app.line_yaml import LineList, LineMap
from checklist_app.pickled import read_pickled, write_pickled

BUILTIN_RULES_DIR = Path(__file__).resolve().parent / "rules"
MAX_CHECKLIST_BYTES = 1_000_000
ITEM_ID = re.compile(r"^[a-z][a-z0-9-]*\.[a-z0-9][a-z0-9-]*$")
TOPIC_ID = re.compile(r"^[a-z][a-z0-9-]*$")

DetectorCheck = Callable[[str, Mapping[str, object]], Sequence[str]]
"""Given a detector name and its parameters, the list of problems (empty when they fit)."""


class Level(StrEnum):
    MUST = "must"
    SHOULD = "should"
    COULD = "could"


class Combine(StrEnum):
    ANY = "any"
    """The item passes when any of its detectors passes (several ways to meet a practice)."""
    ALL = "all"
    """The item passes only when every detector passes (several violations to rule out)."""


@dataclass(frozen=True, slots=True)
class Problem:
    path: str
    line: int
    message: str
    item_id: str | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}"
        what = ": ".join(p for p in (self.item_id, self.field) if p)
        return f"{where}: {what}: {self.message}" if what else f"{where}: {self.message}"


@dataclass(frozen=True, slots=True)
class DetectorRef:
    name: str
    params: tuple[tuple[str, object], ...] = ()

    @property
    def kwargs(self) -> dict[str, object]:
        return dict(self.params)


@dataclass(frozen=True, slots=True)
class Reference:
    title: str
    url: str


@dataclass(frozen=True, slots=True)
class Item:
    id: str
    topic: str
    title: str
    level: Level
    why: str
    how: str
    references: tuple[Reference, ...]
    na_allowed: bool
    override_needs_justification: bool
    applies_when: tuple[DetectorRef, ...]
    detectors: tuple[DetectorRef, ...]
    combine: Combine
    source: str
    line: int

    @property
    def refs(self) -> tuple[DetectorRef, ...]:
        """Every detector the item runs: its conditions, then its detectors."""
        return (*self.applies_when, *self.detectors)


@dataclass(frozen=True, slots=True)
class Checklist:
    topic: str
    title: str
    description: str
    items: tuple[Item, ...]
    sources: tuple[str, ...]
    order: int = 100


@dataclass(frozen=True, slots=True)
class Checklists:
    checklists: tuple[Checklist, ...]
    problems: tuple[Problem, ...]
    digest: str
    """A digest of every loaded file, to tell which rules a scan ran with."""

    @property
    def items(self) -> tuple[Item, ...]:
        return tuple(item for checklist in self.checklists for item in checklist.items)

    def item(self, item_id: str) -> Item | None:
        for item in self.items:
            if item.id == item_id:
                return item
        return None


# --- lines of the YAML ---------------------------------------------------------------------------


def _entry_lines(sequence: list[Any], fallback: int) -> list[int]:
    if isinstance(sequence, LineList):
        return sequence.lines
    return [fallback] * len(sequence)


def _line_of(mapping: object, key: str | None = None) -> int:
    if isinstance(mapping, LineMap):
        if key is not None and key in mapping.key_lines:
            return mapping.key_lines[key]
        return mapping.line
    return 1


# --- validation ---------------------------------------------------------------------------------

_TOP_FIELDS = {"topic", "title", "description", "order", "items"}
_ITEM_FIELDS = {
    "id", "title", "level", "why", "how", "references", "justification",
    "applies_when", "detectors", "combine",
}
_JUSTIFICATION_FIELDS = {"na_allowed", "override_required"}
_REFERENCE_FIELDS = {"title", "url"}


class _FileReader:
    """Validates one checklist file, collecting every problem instead of stopping at the first."""

    def __init__(self, path: Path, display: str, check_detector: DetectorCheck) -> None:
        self.path = path
        self.display = display
        self.check_detector = check_detector
        self.problems: list[Problem] = []

    def problem(
        self, line: int, message: str, item_id: str | None = None, field: str | None = None
    ) -> None:
        self.problems.append(Problem(self.display, line, message, item_id, field))

    def read(self, text: str) -> Checklist | None:
        try:
            data = line_yaml.load(text)
        except line_yaml.YamlProblem as error:
            self.problem(error.line, error.message)
            return None
        if not isinstance(data, LineMap):
            self.problem(1, "a checklist must be a mapping with topic, title and items")
            return None
        self._duplicates(data, None)
        self._unknown_fields(data, _TOP_FIELDS, None, None)
        topic = self._text(data, "topic", None, required=True)
        title = self._text(data, "title", None, required=True)
        description = self._text(data, "description", None, required=False)
        if topic and not TOPIC_ID.match(topic):
            self.problem(_line_of(data, "topic"), f"topic {topic!r} must be lower-case letters, "
                         "digits and dashes", field="topic")
            topic = ""
        raw_items = data.get("items")
        if not isinstance(raw_items, list):
            self.problem(_line_of(data, "items"), "items must be a list of items", field="items")
            return None
        items = []
        for raw, line in zip(raw_items, _entry_lines(raw_items, _line_of(data, "items")),
                             strict=True):
            item = self._item(raw, topic, line)
            if item is not None:
                items.append(item)
        order = data.get("order", 100)
        if not isinstance(order, int) or isinstance(order, bool):
            self.problem(_line_of(data, "order"), "order must be a whole number", field="order")
            order = 100
        if not topic or not title:
            return None
        return Checklist(topic, title, description, tuple(items), (self.display,), order)

    def _duplicates(self, mapping: LineMap, item_id: str | None) -> None:
        for key, line in mapping.duplicates:
            self.problem(line, f"field {key!r} is given twice", item_id, str(key))

    def _unknown_fields(
        self, mapping: LineMap, known: set[str], item_id: str | None, parent: str | None
    ) -> None:
        for key in mapping:
            if key not in known:
                field = f"{parent}.{key}" if parent else str(key)
                expected = ", ".join(sorted(known))
                self.problem(_line_of(mapping, key), f"unknown field (expected one of: {expected})",
                             item_id, field)

    def _text(self, mapping: LineMap, key: str, item_id: str | None, *, required: bool) -> str:
        value = mapping.get(key)
        if value is None:
            if required:
                self.problem(mapping.line, f"missing required field {key!r}", item_id, key)
            return ""
        if not isinstance(value, str) or (required and not value.strip()):
            self.problem(_line_of(mapping, key), "must be a non-empty text", item_id, key)
            return ""
        return value.strip()

    def _item(self, raw: object, topic: str, list_line: int) -> Item | None:
        if not isinstance(raw, LineMap):
            self.problem(list_line, "each item must be a mapping", field="items")
            return None
        before = len(self.problems)
        item_id = raw.get("id")
        if not isinstance(item_id, str) or not ITEM_ID.match(item_id):
            self.problem(_line_of(raw, "id"), "id must look like 'topic.slug' "
                         f"(lower case, digits, dashes), got {item_id!r}", None, "id")
            return None
        if topic and not item_id.startswith(topic + "."):
            self.problem(_line_of(raw, "id"), f"id must start with the file's topic '{topic}.'",
                         item_id, "id")
        self._duplicates(raw, item_id)
        self._unknown_fields(raw, _ITEM_FIELDS, item_id, None)
        title = self._text(raw, "title", item_id, required=True)
        why = self._text(raw, "why", item_id, required=True)
        how = self._text(raw, "how", item_id, required=True)
        level_text = raw.get("level", "should")
        try:
            level = Level(level_text)
        except ValueError:
            self.problem(_line_of(raw, "level"), "level must be one of must, should, could, "
                         f"got {level_text!r}", item_id, "level")
            level = Level.SHOULD
        combine_text = raw.get("combine", "any")
        try:
            combine = Combine(combine_text)
        except ValueError:
            self.problem(_line_of(raw, "combine"), "combine must be 'any' or 'all', "
                         f"got {combine_text!r}", item_id, "combine")
            combine = Combine.ANY
        references = self._references(raw, item_id)
        na_allowed, override_required = self._justification(raw, item_id)
        applies_when = self._detector_refs(raw, "applies_when", item_id)
        detectors = self._detector_refs(raw, "detectors", item_id)
        if len(self.problems) > before:
            return None
        return Item(
            id=item_id, topic=topic, title=title, level=level, why=why, how=how,
            references=references, na_allowed=na_allowed,
            override_needs_justification=override_required, applies_when=applies_when,
            detectors=detectors, combine=combine, source=self.display, line=raw.line,
        )

    def _references(self, raw: LineMap, item_id: str) -> tuple[Reference, ...]:
        value = raw.get("references", [])
        if not isinstance(value, list):
            self.problem(_line_of(raw, "references"), "must be a list of {title, url}",
                         item_id, "references")
            return ()
        result = []
        for entry in value:
            if not isinstance(entry, LineMap):
                self.problem(_line_of(raw, "references"), "each reference needs title and url",
                             item_id, "references")
                continue
            self._unknown_fields(entry, _REFERENCE_FIELDS, item_id, "references")
            title = entry.get("title")
            url = entry.get("url")
            if not isinstance(title, str) or not isinstance(url, str) or not url.startswith(
                ("https://", "http://")
            ):
                self.problem(entry.line, "a reference needs a title and an http(s) url",
                             item_id, "references")
                continue
            result.append(Reference(title, url))
        return tuple(result)

    def _justification(self, raw: LineMap, item_id: str) -> tuple[bool, bool]:
        value = raw.get("justification")
        if value is None:
            return True, True
        if not isinstance(value, LineMap):
            self.problem(_line_of(raw, "justification"),
                         "must be a mapping with na_allowed and override_required",
                         item_id, "justification")
            return True, True
        self._unknown_fields(value, _JUSTIFICATION_FIELDS, item_id, "justification")
        flags = []
        for key in ("na_allowed", "override_required"):
            flag = value.get(key, True)
            if not isinstance(flag, bool):
                self.problem(_line_of(value, key), "must be true or false",
                             item_id, f"justification.{key}")
                flag = True
            flags.append(flag)
        return flags[0], flags[1]

    def _detector_refs(self, raw: LineMap, key: str, item_id: str) -> tuple[DetectorRef, ...]:
        value = raw.get(key, [])
        if value is None:
            value = []
        if not isinstance(value, list):
            self.problem(_line_of(raw, key), "must be a list of detectors", item_id, key)
            return ()
        refs = []
        for entry, line in zip(value, _entry_lines(value, _line_of(raw, key)), strict=True):
            if isinstance(entry, str):
                name, params = entry, LineMap()
            elif isinstance(entry, LineMap) and len(entry) == 1:
                name = next(iter(entry))
                line = _line_of(entry, name)
                params = entry[name] if entry[name] is not None else LineMap()
            else:
                self.problem(line, "each detector is a name, or 'name: {param: value}'",
                             item_id, key)
                continue
            if not isinstance(name, str) or not isinstance(params, dict):
                self.problem(line, "detector parameters must be a mapping", item_id, key)
                continue
            for message in self.check_detector(name, params):
                self.problem(line, message, item_id, f"{key}.{name}")
            refs.append(DetectorRef(name, tuple((k, _freeze(v)) for k, v in params.items())))
        return tuple(refs)


def _freeze(value: object) -> object:
    """Lists become tuples so that parameters stay immutable."""
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, dict):
        return tuple((k, _freeze(v)) for k, v in value.items())
    return value


def checklist_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.glob("*.y*ml") if p.suffix in (".yaml", ".yml"))


class RulesCache(NamedTuple):
    """Where loaded checklists are kept between runs (`folder`), and what they were checked
    against (`detectors`: the registered detectors and their parameters, described). Loading
    the same files, with the same code, against the same detectors returns the kept value
    without reading any YAML."""

    folder: Path
    detectors: str


_RULES_FORMAT = ("checklist-app rules", 1)


def load_checklists(
    directories: Iterable[Path], check_detector: DetectorCheck, cache: RulesCache | None = None
) -> Checklists:
    """Load every checklist file of the given folders, merged by topic, in folder order. With a
    `cache`, checklists loaded before from the same files, code and detectors are returned
    without reading any YAML (see RulesCache)."""
    problems: list[Problem] = []
    files: list[tuple[Path, str, bytes]] = []
    digest = hashlib.sha256()
    for directory in directories:
        if not directory.is_dir():
            problems.append(Problem(str(directory), 0, "not a folder of checklists"))
            continue
        for path in checklist_files(directory):
            display = _display_path(path)
            try:
                data = path.read_bytes()
            except OSError as error:
                problems.append(Problem(display, 0, f"cannot read: {error.strerror}"))
                continue
            if len(data) > MAX_CHECKLIST_BYTES:
                problems.append(Problem(display, 0, f"file is larger than "
                                        f"{MAX_CHECKLIST_BYTES} bytes"))
                continue
            digest.update(display.encode() + b"\0" + data)
            files.append((path, display, data))
    if cache is None or problems:
        return _read_checklists(files, problems, check_detector, digest.hexdigest()[:16])
    key = hashlib.sha256(repr((_code_digest(check_detector), cache.detectors,
                               digest.hexdigest())).encode())
    kept = read_pickled(cache.folder / "rules.pickle", _RULES_FORMAT)
    if isinstance(kept, tuple) and len(kept) == 2 and kept[0] == key.hexdigest() \
            and isinstance(kept[1], Checklists):
        return kept[1]
    loaded = _read_checklists(files, problems, check_detector, digest.hexdigest()[:16])
    write_pickled(cache.folder / "rules.pickle", _RULES_FORMAT, (key.hexdigest(), loaded))
    return loaded


def _code_digest(check_detector: DetectorCheck) -> str:
    """A digest of the code that reads and checks checklists: this module, line_yaml and the
    module of `check_detector` (whose messages the problems carry)."""
    checker = sys.modules.get(check_detector.__module__)
    digest = hashlib.sha256()
    for module in (__file__, line_yaml.__file__, getattr(checker, "__file__", None) or ""):
        try:
            digest.update(Path(module).read_bytes())
        except OSError:
            digest.update(module.encode())
    return digest.hexdigest()


def _read_checklists(files: list[tuple[Path, str, bytes]], problems: list[Problem],
                     check_detector: DetectorCheck, digest: str) -> Checklists:
    """Read and validate the files (path, display path, content), merged by topic."""
    merged: dict[str, Checklist] = {}
    seen_ids: dict[str, Item] = {}
    for path, display, data in files:
        reader = _FileReader(path, display, check_detector)
        checklist = reader.read(data.decode("utf-8", errors="replace"))
        problems.extend(reader.problems)
        if checklist is None:
            continue
        kept = []
        for item in checklist.items:
            first = seen_ids.get(item.id)
            if first is not None:
                problems.append(Problem(display, item.line, f"duplicate id, first defined "
                                        f"at {first.source}:{first.line}", item.id, "id"))
                continue
            seen_ids[item.id] = item
            kept.append(item)
        previous = merged.get(checklist.topic)
        if previous is None:
            merged[checklist.topic] = Checklist(
                checklist.topic, checklist.title, checklist.description, tuple(kept),
                checklist.sources, checklist.order)
        else:
            merged[checklist.topic] = Checklist(
                previous.topic, previous.title, previous.description,
                previous.items + tuple(kept), previous.sources + checklist.sources,
                previous.order)
    ordered = sorted(merged.values(), key=lambda c: (c.order, c.topic))
    return Checklists(tuple(ordered), tuple(problems), digest)


def _display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
