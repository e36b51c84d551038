"""The shared answers file (`.flask-checklist.yaml`): written from a project's answers, read
back as proposals. Pure: text in, values out.

The file is untrusted (anyone with commit rights writes it), so reading it is strict: a size
limit, no anchors or aliases, a nesting limit, only the known fields with their types, known
item ids, real dates. The first problem raises `AnswersFileError` naming the file, the line and
the field; nothing is returned partly.

    format: 1
    answers:
      security.https:
        value: met            # met, unmet or na
        author: Ann
        answered_at: '2026-11-24T12:00:00+00:00'   # or a date: 2026-11-24
        justification: TLS ends at the load balancer
        note: ''
        expires: 2027-06-30   # optional
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode

from checklist_app.checklists import Checklists
from checklist_app.findings import Answer, AnswerValue

DEFAULT_NAME = ".flask-checklist.yaml"
FORMAT = 1
MAX_BYTES = 1_000_000
MAX_DEPTH = 8
MAX_TEXT = 10_000
MAX_AUTHOR = 200

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_NULL = "tag:yaml.org,2002:null"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_FIELDS = ("value", "author", "answered_at", "justification", "note", "expires")
_REQUIRED = ("value", "author", "answered_at")

HEADER = """\
# Answers to the Flask Checklist of {name}, shared with the team.
# Written by `checklist-app answers export`; read by `checklist-app answers import`, which
# records each answer as a proposal that a person accepts or rejects.
"""


class AnswersFileError(ValueError):
    """A problem in an answers file, with where it is."""

    def __init__(self, source: str, line: int | None, field: str, problem: str) -> None:
        self.source = source
        self.line = line
        self.field = field
        self.problem = problem
        where = source if line is None else f"{source}:{line}"
        what = f" {field}:" if field else ""
        super().__init__(f"{where}:{what} {problem}")


@dataclass(frozen=True, slots=True)
class SharedAnswer:
    """One answer read from a shared file."""

    item_id: str
    value: AnswerValue
    author: str
    answered_at: datetime
    justification: str = ""
    note: str = ""
    expires: datetime | None = None
    line: int = 0
    """Where it starts in the file (1-based); 0 when it did not come from a file."""

    def same_as(self, answer: Answer) -> bool:
        """Says the same as `answer` (who and when aside)."""
        return (self.value is answer.value and self.justification == answer.justification
                and self.note == answer.note and self.expires == answer.expires)


# --- writing ----------------------------------------------------------------------------------


def write_answers(answers: Sequence[Answer], project_name: str) -> str:
    """The file for `answers`, sorted by item id; empty fields left out."""
    entries: dict[str, dict[str, str]] = {}
    for answer in sorted(answers, key=lambda a: a.item_id):
        entry = {"value": answer.value.value, "author": answer.author,
                 "answered_at": answer.answered_at.astimezone(UTC).isoformat()}
        if answer.justification:
            entry["justification"] = answer.justification
        if answer.note:
            entry["note"] = answer.note
        if answer.expires is not None:
            entry["expires"] = answer.expires.astimezone(UTC).isoformat()
        entries[answer.item_id] = entry
    body = yaml.safe_dump({"format": FORMAT, "answers": entries}, sort_keys=False,
                          allow_unicode=True, default_flow_style=False, width=100)
    name = " ".join(project_name.split()) or "this project"
    return HEADER.format(name=name) + body


# --- reading ----------------------------------------------------------------------------------


def read_answers(data: bytes, source: str, checklists: Checklists) -> tuple[SharedAnswer, ...]:
    """The answers in `data` (the file's bytes), each checked against `checklists`."""
    if len(data) > MAX_BYTES:
        raise AnswersFileError(source, None, "", f"the file is larger than {MAX_BYTES} bytes, "
                               "the limit of an answers file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise AnswersFileError(source, _line_of_offset(data, error.start), "",
                               "the file is not UTF-8 text") from None
    root = _compose(text, source)
    if root is None:
        raise AnswersFileError(source, None, "", "the file is empty")
    top = _mapping(root, source, "the file")
    unknown = [key for key in top if key not in ("format", "answers")]
    if unknown:
        key_node = top[unknown[0]][0]
        raise AnswersFileError(source, _line(key_node), unknown[0],
                               "unknown field (expected format and answers)")
    if "format" not in top:
        raise AnswersFileError(source, _line(root), "format", f"missing (expected {FORMAT})")
    format_node = top["format"][1]
    if not (isinstance(format_node, ScalarNode) and format_node.tag == _INT
            and format_node.value == str(FORMAT)):
        raise AnswersFileError(source, _line(format_node), "format",
                               f"this version reads format {FORMAT} only")
    if "answers" not in top:
        raise AnswersFileError(source, _line(root), "answers", "missing")
    answers_node = top["answers"][1]
    if isinstance(answers_node, ScalarNode) and answers_node.tag == _NULL:
        return ()
    entries = _mapping(answers_node, source, "answers")
    return tuple(_answer(item_id, key, value, source, checklists)
                 for item_id, (key, value) in entries.items())


class _Loader(yaml.SafeLoader):
    """Composes nodes only (nothing is constructed), refusing anchors, aliases and deep
    nesting before they can cost anything."""

    def __init__(self, text: str, source: str) -> None:
        super().__init__(text)
        self.source = source
        self.depth = 0

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        line = event.start_mark.line + 1 if event.start_mark is not None else None
        if isinstance(event, yaml.AliasEvent):
            raise AnswersFileError(self.source, line, "",
                                   "aliases (*name) are not allowed in an answers file")
        if getattr(event, "anchor", None) is not None:
            raise AnswersFileError(self.source, line, "",
                                   "anchors (&name) are not allowed in an answers file")
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise AnswersFileError(self.source, line, "",
                                   f"nested deeper than {MAX_DEPTH} levels")
        try:
            node: Node | None = super().compose_node(parent, index)
            return node
        finally:
            self.depth -= 1


def _compose(text: str, source: str) -> Node | None:
    loader = _Loader(text, source)
    try:
        node: Node | None = loader.get_single_node()
        return node
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = error.problem or error.context or "not valid YAML"
        raise AnswersFileError(source, line, "", f"not valid YAML: {problem}") from None
    except yaml.YAMLError as error:
        raise AnswersFileError(source, None, "", f"not valid YAML: {error}") from None
    finally:
        loader.dispose()


def _line(node: Node) -> int:
    return int(node.start_mark.line) + 1


def _line_of_offset(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _mapping(node: Node, source: str, field: str) -> dict[str, tuple[Node, Node]]:
    """A mapping of text keys, refusing duplicate keys (YAML would keep the last silently)."""
    if not isinstance(node, MappingNode):
        raise AnswersFileError(source, _line(node), field, "must be a mapping (key: value)")
    found: dict[str, tuple[Node, Node]] = {}
    for key, value in node.value:
        if not (isinstance(key, ScalarNode) and key.tag == _STR):
            raise AnswersFileError(source, _line(key), field, "keys must be plain text")
        if key.value in found:
            raise AnswersFileError(source, _line(key), key.value,
                                   f"given twice (first on line {_line(found[key.value][0])})")
        found[key.value] = (key, value)
    return found


def _answer(item_id: str, key: Node, node: Node, source: str,
            checklists: Checklists) -> SharedAnswer:
    item = checklists.item(item_id)
    if item is None:
        raise AnswersFileError(source, _line(key), item_id, "no such item in the checklists")
    fields = _mapping(node, source, item_id)
    for name, (field_key, _) in fields.items():
        if name not in _FIELDS:
            raise AnswersFileError(source, _line(field_key), f"{item_id}.{name}",
                                   f"unknown field (expected {', '.join(_FIELDS)})")
    for name in _REQUIRED:
        if name not in fields:
            raise AnswersFileError(source, _line(key), f"{item_id}.{name}", "missing")

    def text(name: str, limit: int) -> str:
        if name not in fields:
            return ""
        return _text(fields[name][1], source, f"{item_id}.{name}", limit)

    value_node = fields["value"][1]
    raw_value = _text(value_node, source, f"{item_id}.value", 10)
    try:
        value = AnswerValue(raw_value)
    except ValueError:
        raise AnswersFileError(source, _line(value_node), f"{item_id}.value",
                               f"{raw_value!r} is not met, unmet or na") from None
    author = text("author", MAX_AUTHOR).strip()
    if not author:
        raise AnswersFileError(source, _line(fields["author"][1]), f"{item_id}.author",
                               "must name who answered")
    answered_at = _moment(fields["answered_at"][1], source, f"{item_id}.answered_at")
    expires = None
    if "expires" in fields and not _is_null(fields["expires"][1]):
        expires = _moment(fields["expires"][1], source, f"{item_id}.expires")
    justification = text("justification", MAX_TEXT).strip()
    if value is AnswerValue.NA and not item.na_allowed:
        raise AnswersFileError(source, _line(value_node), f"{item_id}.value",
                               "this item cannot be answered n/a: it applies to every project")
    if value is AnswerValue.NA and not justification:
        where = fields["justification"][1] if "justification" in fields else key
        raise AnswersFileError(source, _line(where), f"{item_id}.justification",
                               "an n/a answer needs a justification")
    return SharedAnswer(item_id, value, author, answered_at, justification,
                        text("note", MAX_TEXT).strip(), expires, _line(key))


def _is_null(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.tag == _NULL


def _text(node: Node, source: str, field: str, limit: int) -> str:
    if not (isinstance(node, ScalarNode) and node.tag == _STR):
        raise AnswersFileError(source, _line(node), field, f"must be text, not {_kind(node)}")
    value: str = node.value
    if len(value) > limit:
        raise AnswersFileError(source, _line(node), field,
                               f"is {len(value)} characters long; at most {limit}")
    if "\x00" in value:
        raise AnswersFileError(source, _line(node), field, "holds a NUL character")
    return value


def _moment(node: Node, source: str, field: str) -> datetime:
    """A date (midnight UTC) or a date and time with a zone."""
    if not (isinstance(node, ScalarNode) and node.tag in (_STR, _TIMESTAMP)):
        raise AnswersFileError(source, _line(node), field,
                               f"must be a date like 2026-12-31, not {_kind(node)}")
    raw: str = node.value.strip()
    try:
        if len(raw) == 10:
            day = date.fromisoformat(raw)
            moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
        else:
            moment = datetime.fromisoformat(raw.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise AnswersFileError(source, _line(node), field,
                               f"{raw[:40]!r} is not a date like 2026-12-31 or "
                               "2026-12-31T09:30:00+00:00") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise AnswersFileError(source, _line(node), field,
                               f"{raw[:40]!r} has a time but no zone (add +00:00)")
    if not 1970 <= moment.year <= 9998:
        raise AnswersFileError(source, _line(node), field, f"{raw[:40]!r} is out of range")
    return moment.astimezone(UTC)


def _kind(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, ScalarNode):
        kinds = {_INT: "a number", "tag:yaml.org,2002:float": "a number",
                 "tag:yaml.org,2002:bool": "true/false", _NULL: "empty",
                 _TIMESTAMP: "a date"}
        return kinds.get(node.tag, f"a value tagged {node.tag}")
    return "a list"

