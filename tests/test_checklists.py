from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from checklist_app import line_yaml
from checklist_app.checklists import Combine, Level, Problem
from checklist_app.cli import main
from checklist_app.scan import load_rules

GOOD = """\
topic: team
title: Team practices
order: 9
items:
  - id: team.readme
    title: A README
    level: must
    why: People need a way in.
    how: Write one.
    references:
      - title: Make a README
        url: https://www.makeareadme.com/
    justification: {na_allowed: false, override_required: true}
    detectors:
      - file_exists: {paths: [README*]}
  - id: team.changelog
    title: A changelog
    why: Users read it.
    how: Keep one.
    combine: all
    detectors:
      - file_exists: {paths: [CHANGELOG*]}
"""


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems_of(folder: Path) -> list[tuple[str, int, str | None, str | None, str]]:
    checklists = load_rules([folder], include_builtin=False)
    return [(Path(p.path).name, p.line, p.item_id, p.field, p.message)
            for p in checklists.problems]


def test_a_valid_checklist_loads_into_values(tmp_path: Path) -> None:
    write(tmp_path, "team.yaml", GOOD)
    checklists = load_rules([tmp_path], include_builtin=False)
    assert checklists.problems == ()
    (checklist,) = checklists.checklists
    assert (checklist.topic, checklist.title, checklist.order) == ("team", "Team practices", 9)
    readme, changelog = checklist.items
    assert readme.level is Level.MUST and changelog.level is Level.SHOULD
    assert readme.na_allowed is False and readme.override_needs_justification is True
    assert changelog.combine is Combine.ALL
    assert readme.detectors[0].name == "file_exists"
    assert readme.detectors[0].kwargs == {"paths": ("README*",)}
    assert readme.references[0].url == "https://www.makeareadme.com/"
    assert readme.line == 5


def test_every_problem_names_file_line_item_and_field(tmp_path: Path) -> None:
    write(tmp_path, "bad.yaml", """\
        topic: team
        title: Team
        items:
          - id: team.one
            title: One
            why: w
            how: h
            colour: red
            detectors:
              - file_exists: {pathz: [x]}
              - no_such_detector
              - file_contains: {paths: [x], pattern: "("}
          - id: team.one
            title: Again
            why: w
            how: h
          - id: other.two
            title: Wrong topic
            why: w
            how: h
            level: sometimes
    """)
    assert problems_of(tmp_path) == [
        ("bad.yaml", 8, "team.one", "colour", "unknown field (expected one of: applies_when, "
         "combine, detectors, how, id, justification, level, references, title, why)"),
        ("bad.yaml", 10, "team.one", "detectors.file_exists",
         "unknown parameter 'pathz' (expected: paths)"),
        ("bad.yaml", 10, "team.one", "detectors.file_exists", "missing parameter 'paths'"),
        ("bad.yaml", 11, "team.one", "detectors.no_such_detector",
         "unknown detector 'no_such_detector'"),
        ("bad.yaml", 12, "team.one", "detectors.file_contains",
         "parameter 'pattern': invalid regular expression: missing ) at position 1"),
        ("bad.yaml", 17, "other.two", "id", "id must start with the file's topic 'team.'"),
        ("bad.yaml", 21, "other.two", "level",
         "level must be one of must, should, could, got 'sometimes'"),
    ]


def test_duplicate_ids_across_files_are_reported(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", GOOD)
    write(tmp_path, "b.yaml", GOOD.replace("Team practices", "Again"))
    found = problems_of(tmp_path)
    assert [(f[0], f[1], f[2], f[4].split(",")[0]) for f in found] == [
        ("b.yaml", 5, "team.readme", "duplicate id"),
        ("b.yaml", 16, "team.changelog", "duplicate id"),
    ]


def test_wrong_parameter_types(tmp_path: Path) -> None:
    write(tmp_path, "t.yaml", GOOD.replace("{paths: [README*]}", "{paths: README}"))
    assert problems_of(tmp_path) == [
        ("t.yaml", 15, "team.readme", "detectors.file_exists",
         "parameter 'paths': expected a list, got str"),
    ]


def test_yaml_syntax_error_names_the_line_and_other_files_still_load(tmp_path: Path) -> None:
    write(tmp_path, "good.yaml", GOOD)
    write(tmp_path, "broken.yaml", "topic: x\nitems:\n  - id: x.y\n    title: [unclosed\n")
    checklists = load_rules([tmp_path], include_builtin=False)
    assert [(Path(p.path).name, p.line) for p in checklists.problems] == [("broken.yaml", 5)]
    assert "YAML syntax error" in checklists.problems[0].message
    assert [i.id for i in checklists.items] == ["team.readme", "team.changelog"]


def test_duplicate_keys_and_non_mapping_files(tmp_path: Path) -> None:
    write(tmp_path, "dup.yaml", GOOD.replace("    title: A changelog\n",
                                            "    title: A changelog\n    title: twice\n"))
    write(tmp_path, "list.yaml", "- just\n- a list\n")
    assert problems_of(tmp_path) == [
        ("dup.yaml", 18, "team.changelog", "title", "field 'title' is given twice"),
        ("list.yaml", 1, None, None, "a checklist must be a mapping with topic, title and items"),
    ]


def test_extra_folders_merge_into_builtin_topics(tmp_path: Path) -> None:
    write(tmp_path, "security.yaml", """\
        topic: security
        title: Our security
        items:
          - id: security.team-policy
            title: Our policy
            why: w
            how: h
    """)
    builtin = load_rules()
    merged = load_rules([tmp_path])
    security = next(c for c in merged.checklists if c.topic == "security")
    assert security.items[-1].id == "security.team-policy"
    assert len(merged.items) == len(builtin.items) + 1
    assert merged.digest != builtin.digest


def test_problem_text_is_file_line_item_field_message() -> None:
    problem = Problem("rules/a.yaml", 3, "bad", "a.b", "level")
    assert str(problem) == "rules/a.yaml:3: a.b: level: bad"
    assert str(Problem("rules/a.yaml", 1, "bad")) == "rules/a.yaml:1: bad"


def test_rules_check_command_lists_problems_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path, "bad.yaml", GOOD.replace("file_exists", "file_existz"))
    assert main(["rules", "check", str(tmp_path)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2
    assert out[0].endswith("bad.yaml:15: team.readme: detectors.file_existz: "
                           "unknown detector 'file_existz'")


def test_rules_check_command_passes_on_a_valid_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path, "good.yaml", GOOD)
    assert main(["rules", "check", str(tmp_path)]) == 0
    assert capsys.readouterr().out == "ok: 2 items in 1 checklists\n"


def test_loaded_rules_are_kept_and_read_again_only_when_they_change(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder, cache = tmp_path / "rules", tmp_path / "cache"
    rules = write(folder, "team.yaml", GOOD)
    first = load_rules([folder], cache_dir=cache)
    assert (cache / "rules.pickle").is_file()
    parsed: list[str] = []
    real = line_yaml.load

    def counting(text: str) -> object:
        parsed.append(text)
        return real(text)

    monkeypatch.setattr(line_yaml, "load", counting)
    again = load_rules([folder], cache_dir=cache)
    assert again == first and parsed == []  # no YAML read
    rules.write_text(rules.read_text(encoding="utf-8").replace("A changelog", "A news file"),
                     encoding="utf-8")
    changed = load_rules([folder], cache_dir=cache)
    assert changed.item("team.changelog") is not None
    assert changed.item("team.changelog").title == "A news file"  # type: ignore[union-attr]
    assert len(parsed) == 7  # every file again: the six built-in ones and this one
    assert load_rules([folder]) == changed  # without a cache: the same values


def test_a_broken_rules_cache_is_read_past(tmp_path: Path) -> None:
    folder, cache = tmp_path / "rules", tmp_path / "cache"
    write(folder, "team.yaml", GOOD)
    cache.mkdir()
    (cache / "rules.pickle").write_bytes(b"not a pickle")
    loaded = load_rules([folder], cache_dir=cache)
    assert loaded == load_rules([folder]) and loaded.item("team.readme") is not None
    assert load_rules([folder], cache_dir=cache) == loaded  # and written anew


def test_rules_with_problems_come_back_from_the_cache_with_them(tmp_path: Path) -> None:
    folder, cache = tmp_path / "rules", tmp_path / "cache"
    write(folder, "team.yaml", GOOD.replace("file_exists", "no_such_detector", 1))
    loaded = load_rules([folder], cache_dir=cache)
    assert [p.message for p in loaded.problems] == ["unknown detector 'no_such_detector'"]
    assert load_rules([folder], cache_dir=cache).problems == loaded.problems
