"""The shared answers file: written from answers, read back strictly; every hostile file is
refused with the file, the line and the field."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from checklist_app.answers_file import (
    MAX_BYTES,
    AnswersFileError,
    SharedAnswer,
    read_answers,
    write_answers,
)
from checklist_app.checklists import Checklists
from checklist_app.findings import Answer, AnswerValue
from tests.test_progress import checklists, item

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
RULES: Checklists = checklists(item("security.https"), item("security.csrf", na_allowed=False),
                               item("advanced.websockets"))
GOOD = """\
format: 1
answers:
  security.https:
    value: met
    author: Ann
    answered_at: 2026-11-24
    justification: TLS ends at the load balancer
  advanced.websockets:
    value: na
    author: "Bo"
    answered_at: '2026-11-20T09:30:00+01:00'
    justification: no realtime features
    note: ask again in 2027
    expires: 2027-06-30
"""


def read(text: str | bytes) -> tuple[SharedAnswer, ...]:
    data = text.encode() if isinstance(text, str) else text
    return read_answers(data, "team.yaml", RULES)


def test_a_good_file_is_read_with_lines() -> None:
    assert read(GOOD) == (
        SharedAnswer("security.https", AnswerValue.MET, "Ann", datetime(2026, 11, 24, tzinfo=UTC),
                     "TLS ends at the load balancer", "", None, 3),
        SharedAnswer("advanced.websockets", AnswerValue.NA, "Bo",
                     datetime(2026, 11, 20, 8, 30, tzinfo=UTC), "no realtime features",
                     "ask again in 2027", datetime(2027, 6, 30, tzinfo=UTC), 8),
    )


def test_written_answers_read_back_the_same() -> None:
    answers = [
        Answer("security.https", AnswerValue.UNMET, "Ann: 'x' #1", NOW,
               note="multi\nline: note", justification="- starts like a list",
               expires=datetime(2027, 1, 1, tzinfo=UTC), finding_fingerprint="f"),
        Answer("advanced.websockets", AnswerValue.NA, "Bo", NOW, justification="yes"),
    ]
    text = write_answers(answers, "shop\n# injected")
    assert text.startswith("# Answers to the Flask Checklist of shop # injected, shared")
    read_back = read_answers(text.encode(), "f", RULES)
    assert [(a.item_id, a.value, a.author, a.answered_at, a.justification, a.note, a.expires)
            for a in read_back] == [
        ("advanced.websockets", AnswerValue.NA, "Bo", NOW, "yes", "", None),
        ("security.https", AnswerValue.UNMET, "Ann: 'x' #1", NOW, "- starts like a list",
         "multi\nline: note", datetime(2027, 1, 1, tzinfo=UTC)),
    ]
    assert read_answers(b"format: 1\nanswers:\n", "f", RULES) == ()


ENTRY = "format: 1\nanswers:\n  security.https:\n    value: met\n    author: Ann\n"


@pytest.mark.parametrize("text, line, field, words", [
    ("", None, "", "the file is empty"),
    ("format: 1\nanswers: [1, 2]\n", 2, "answers", "must be a mapping"),
    ("- 1\n", 1, "the file", "must be a mapping"),
    ("format: 2\nanswers: {}\n", 1, "format", "reads format 1 only"),
    ("answers: {}\n", 1, "format", "missing"),
    ("format: 1\n", 1, "answers", "missing"),
    ("format: 1\nanswers: {}\nextra: 1\n", 3, "extra", "unknown field"),
    ("format: 1\nanswers:\n  no.such:\n    value: met\n", 3, "no.such",
     "no such item in the checklists"),
    (ENTRY + "    answered_at: 2026-11-24\n    value: unmet\n", 7, "value",
     "given twice (first on line 4)"),
    (ENTRY.replace("value: met", "value: maybe") + "    answered_at: 2026-11-24\n", 4,
     "security.https.value", "'maybe' is not met, unmet or na"),
    (ENTRY.replace("author: Ann", "author: 42") + "    answered_at: 2026-11-24\n", 5,
     "security.https.author", "must be text, not a number"),
    (ENTRY.replace("author: Ann", "author: [a]") + "    answered_at: 2026-11-24\n", 5,
     "security.https.author", "must be text, not a list"),
    (ENTRY.replace("author: Ann", "author: ''") + "    answered_at: 2026-11-24\n", 5,
     "security.https.author", "must name who answered"),
    (ENTRY + "    answered_at: 2026-02-30\n", 6, "security.https.answered_at",
     "'2026-02-30' is not a date"),
    (ENTRY + "    answered_at: yesterday\n", 6, "security.https.answered_at",
     "'yesterday' is not a date"),
    (ENTRY + "    answered_at: 2026-11-24T10:00:00\n", 6, "security.https.answered_at",
     "has a time but no zone"),
    (ENTRY + "    answered_at: 0001-01-01\n", 6, "security.https.answered_at", "out of range"),
    (ENTRY + "    answered_at: true\n", 6, "security.https.answered_at",
     "must be a date like 2026-12-31, not true/false"),
    (ENTRY + "    answered_at: 2026-11-24\n    expires: 12\n", 7, "security.https.expires",
     "not a number"),
    (ENTRY + "    answered_at: 2026-11-24\n    color: red\n", 7, "security.https.color",
     "unknown field"),
    (ENTRY, 3, "security.https.answered_at", "missing"),
    (ENTRY + "    answered_at: 2026-11-24\n    note: !!python/object:os.system x\n", 7,
     "security.https.note", "must be text, not a value tagged tag:yaml.org,2002:python/object"),
    ("format: 1\nanswers:\n  security.csrf:\n    value: na\n    author: A\n"
     "    answered_at: 2026-11-24\n    justification: JSON API\n", 4, "security.csrf.value",
     "cannot be answered n/a"),
    ("format: 1\nanswers:\n  security.https:\n    value: na\n    author: A\n"
     "    answered_at: 2026-11-24\n", 3, "security.https.justification", "needs a justification"),
    ("format: 1\nanswers:\n  security.https: &a\n    value: met\n", 3, "", "anchors (&name)"),
    ("format: 1\nanswers:\n  security.https:\n    <<: *x\n", 4, "", "aliases (*name)"),
    ("format: 1\nanswers:\n  security.https: {value: met, author: A, answered_at: x}\n"
     "  advanced.websockets: *b\n", 4, "", "aliases (*name) are not allowed"),
    ("format: 1\nanswers: " + "[" * 50 + "]" * 50 + "\n", 2, "", "nested deeper than 8"),
    ("format: 1\nanswers: {\n", 3, "", "not valid YAML"),
    ("format: 1\n---\nformat: 1\n", 2, "", "not valid YAML"),
    (ENTRY + "    answered_at: 2026-11-24\n    note: " + "x" * 10_001 + "\n", 7,
     "security.https.note", "is 10001 characters long; at most 10000"),
    ("format: 1\nanswers:\n  1: {}\n", 3, "answers", "keys must be plain text"),
])
def test_a_hostile_file_names_the_line_and_field(text: str, line: int | None, field: str,
                                                 words: str) -> None:
    with pytest.raises(AnswersFileError) as raised:
        read(text)
    error = raised.value
    assert (error.source, error.line, error.field) == ("team.yaml", line, field)
    assert words in error.problem
    where = "team.yaml" if line is None else f"team.yaml:{line}"
    assert str(error).startswith(f"{where}:")


def test_a_billion_laughs_is_refused_at_the_first_anchor() -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n"
        for i in range(8))
    with pytest.raises(AnswersFileError, match=r"team.yaml:1: anchors \(&name\)"):
        read(bomb)


def test_size_and_encoding_limits() -> None:
    with pytest.raises(AnswersFileError, match=f"larger than {MAX_BYTES} bytes"):
        read(b"#" * (MAX_BYTES + 1))
    with pytest.raises(AnswersFileError, match=r"team.yaml:2: the file is not UTF-8"):
        read(b"format: 1\nanswers: \xff\n")
