"""Module facts: computed while indexing (in workers for a big project), cached by content, and
enough for every built-in detector, so a scan never builds full indexes in its own process."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from benchmarks import synthetic_repo
from checklist_app.checklists import Checklists
from checklist_app.demo import build_demo
from checklist_app.findings import Outcome
from checklist_app.project import ModuleFact, ParsedModule, Project, indexing
from checklist_app.project import files as project_files
from checklist_app.project.cache import FactsCache
from checklist_app.project.module_facts import IMPORTS, FactError
from checklist_app.scan import facts_for, scan
from tests.repos import Repo


def _function_names(module: ParsedModule) -> tuple[str, ...]:
    return tuple(f.name for f in module.index.functions)


def _top_level_statements(module: ParsedModule) -> int:
    return -1 if module.tree is None else len(module.tree.body)


def _broken(module: ParsedModule) -> int:
    if module.path == "bad.py":
        raise ValueError("cannot handle this module")
    return 1


@pytest.fixture
def open_project() -> Iterator[Callable[..., Project]]:
    """`open_project(root, cache, facts)`: a Project closed at the end of the test."""
    opened: list[Project] = []

    def open_(root: Path, cache: FactsCache | None = None,
              facts: tuple[ModuleFact[object], ...] = ()) -> Project:
        opened.append(Project(root, cache, facts))
        return opened[-1]

    yield open_
    for project in opened:
        project.close()


FUNCTIONS = ModuleFact("test.functions.1", _function_names)
STATEMENTS = ModuleFact("test.statements.1", _top_level_statements)
BROKEN = ModuleFact("test.broken.1", _broken)


def _process(module: ParsedModule) -> int:
    return os.getpid()


PROCESS = ModuleFact("test.process.1", _process)
"""The process that computed the facts: a worker, or this one."""


@pytest.mark.parametrize("sample", ["demo", "synthetic"])
def test_the_built_in_detectors_read_only_facts_computed_while_indexing(
    sample: str, tmp_path: Path, rules: Checklists
) -> None:
    root = tmp_path / sample
    if sample == "demo":
        root.mkdir()
        build_demo(root)
    else:
        synthetic_repo.build(root, modules=120, commits=150)
    project = Project(root, None, facts_for(rules))
    result = scan(project, rules)  # closes the project
    assert not [f for f in result.findings if f.outcome is Outcome.ERROR]
    assert project.late_work == []


def test_facts_are_computed_from_the_index_and_the_tree(
    open_project: Callable[..., Project], make_repo: Callable[..., Repo]
) -> None:
    repo = make_repo({"a.py": "import flask\ndef f():\n    pass\nx = 1\n",
                      "b.py": "def broken(:\n"})
    project = open_project(repo.root, None, (FUNCTIONS, STATEMENTS))
    assert project.module_fact(FUNCTIONS) == {"a.py": ("f",), "b.py": ()}
    assert project.module_fact(STATEMENTS) == {"a.py": 3, "b.py": -1}
    assert project.module_fact(IMPORTS)["a.py"] == (("flask", 1),)
    assert project.parsed()["b.py"].syntax_error is not None
    assert project.late_work == []


def test_a_fact_nobody_declared_is_computed_late_in_this_process(
    open_project: Callable[..., Project], make_repo: Callable[..., Repo]
) -> None:
    repo = make_repo({"a.py": "def g():\n    pass\n"})
    project = open_project(repo.root)
    assert project.module_fact(FUNCTIONS) == {"a.py": ("g",)}
    assert project.late_work == ["fact test.functions.1 (1 modules)"]


def test_a_fact_that_fails_on_one_module_is_an_error_for_whoever_reads_it(
    open_project: Callable[..., Project], make_repo: Callable[..., Repo]
) -> None:
    repo = make_repo({"bad.py": "x = 1\n", "good.py": "y = 2\n"})
    project = open_project(repo.root, None, (BROKEN, FUNCTIONS))
    with pytest.raises(FactError, match="test.broken.1 failed on bad.py: ValueError"):
        project.module_fact(BROKEN)
    assert project.module_fact(FUNCTIONS) == {"bad.py": (), "good.py": ()}


def test_workers_compute_the_same_facts_as_this_process(
    open_project: Callable[..., Project], make_repo: Callable[..., Repo],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    files: dict[str, str | bytes] = {
        f"pkg/m{n}.py": f"import os\ndef f{n}():\n    return {n}\n" for n in range(40)}
    files["pkg/blob.py"] = b"\0\1binary"
    repo = make_repo(files)
    here = open_project(repo.root, None, (FUNCTIONS,))
    monkeypatch.setattr(indexing, "PARALLEL_FROM_MODULES", 2)
    monkeypatch.setattr(indexing, "PARALLEL_FROM_MODULES_FORKED", 2)
    in_workers = open_project(repo.root, None, (FUNCTIONS, PROCESS))
    assert in_workers.module_fact(FUNCTIONS) == here.module_fact(FUNCTIONS)
    assert os.getpid() not in in_workers.module_fact(PROCESS).values()
    assert here.module_fact(FUNCTIONS)["pkg/m3.py"] == ("f3",)
    assert in_workers.late_work == []
    skipped = [(n.message, n.path) for n in in_workers.notes if n.path == "pkg/blob.py"]
    assert skipped == [("skipped: binary file with a .py name", "pkg/blob.py")]
    assert in_workers.content_key("pkg/m7.py") == here.content_key("pkg/m7.py")


def test_a_rescan_computes_facts_only_for_changed_modules(
    open_project: Callable[..., Project], make_repo: Callable[..., Repo], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    repo = make_repo({"a.py": "def a():\n    pass\n", "b.py": "def b():\n    pass\n"})
    cache_dir = tmp_path / "cache"
    first = open_project(repo.root, FactsCache.for_project(cache_dir, repo.root), (FUNCTIONS,))
    assert first.module_fact(FUNCTIONS) == {"a.py": ("a",), "b.py": ("b",)}
    first.close()
    repo.commit({"b.py": "def c():\n    pass\n"}, "rename")
    indexed: list[str] = []
    real = indexing.read_modules

    def counting(root: Path, paths: list[str], known: frozenset[bytes],
                 facts: tuple[ModuleFact[object], ...]) -> list[indexing.ReadModule]:
        made = real(root, paths, known, facts)
        indexed.extend(read.path for read in made if read.facts is not None)
        return made

    monkeypatch.setattr(indexing, "read_modules", counting)
    second = open_project(repo.root, FactsCache.for_project(cache_dir, repo.root), (FUNCTIONS,))
    assert second.module_fact(FUNCTIONS) == {"a.py": ("a",), "b.py": ("c",)}
    assert indexed == ["b.py"]
    second.close()
    # A fact the cached modules lack (a new detector version) has them indexed again.
    indexed.clear()
    third = open_project(repo.root, FactsCache.for_project(cache_dir, repo.root),
                    (FUNCTIONS, STATEMENTS))
    assert third.module_fact(STATEMENTS) == {"a.py": 1, "b.py": 1}
    assert indexed == ["a.py", "b.py"]
    assert third.late_work == []


def _written_an_hour_ago(repo: Repo, *names: str) -> None:
    """Old enough for their stamps to be trusted (see project.STAMP_SETTLE_NS)."""
    an_hour_ago = time.time() - 3600
    for name in names:
        os.utime(repo.root / name, (an_hour_ago, an_hour_ago))


def test_a_rescan_reads_only_the_files_whose_stamp_changed(
    open_project: Callable[..., Project], make_repo: Callable[..., Repo], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    repo = make_repo({"a.py": "def a():\n    pass\n", "b.py": "def b():\n    pass\n"})
    _written_an_hour_ago(repo, "a.py", "b.py")
    cache_dir = tmp_path / "cache"
    first = open_project(repo.root, FactsCache.for_project(cache_dir, repo.root), (FUNCTIONS,))
    assert first.module_fact(FUNCTIONS) == {"a.py": ("a",), "b.py": ("b",)}
    first.close()
    read: list[str] = []
    real = project_files.read_bytes

    def counting(root: Path, relative: str, *args: object) -> bytes | None:
        read.append(relative)
        return real(root, relative, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(project_files, "read_bytes", counting)
    (repo.root / "b.py").write_text("def c():\n    pass\n", encoding="utf-8")  # same size
    second = open_project(repo.root, FactsCache.for_project(cache_dir, repo.root), (FUNCTIONS,))
    assert second.module_fact(FUNCTIONS) == {"a.py": ("a",), "b.py": ("c",)}
    assert read == ["b.py"]  # a.py's stamp is unchanged; b.py's time changed
    second.close()
    # b.py changed just now: its stamp is not trusted yet, so the next scan reads it again.
    read.clear()
    third = open_project(repo.root, FactsCache.for_project(cache_dir, repo.root), (FUNCTIONS,))
    assert third.module_fact(FUNCTIONS) == {"a.py": ("a",), "b.py": ("c",)}
    assert read == ["b.py"]


def test_a_project_without_modules_computes_nothing_late(
    open_project: Callable[..., Project], make_repo: Callable[..., Repo]
) -> None:
    project = open_project(make_repo({"README.md": "# no Python here\n"}).root, None, (FUNCTIONS,))
    assert project.module_fact(FUNCTIONS) == {} and project.module_fact(IMPORTS) == {}
    assert project.late_work == []


def test_the_stamps_of_deleted_files_are_dropped(
    open_project: Callable[..., Project], make_repo: Callable[..., Repo], tmp_path: Path
) -> None:
    repo = make_repo({"a.py": "x = 1\n", "gone.py": "y = 2\n"})
    _written_an_hour_ago(repo, "a.py", "gone.py")
    cache_dir = tmp_path / "cache"
    first = open_project(repo.root, FactsCache.for_project(cache_dir, repo.root), (FUNCTIONS,))
    first.parsed()
    first.close()
    stamps = FactsCache.for_project(cache_dir, repo.root).folder / "stamps.pickle"
    assert "gone.py" in stamps.read_bytes().decode("latin-1")
    repo.delete("gone.py")
    second = open_project(repo.root, FactsCache.for_project(cache_dir, repo.root), (FUNCTIONS,))
    assert second.module_fact(FUNCTIONS) == {"a.py": ()}
    second.close()
    assert "gone.py" not in stamps.read_bytes().decode("latin-1")
    assert "a.py" in stamps.read_bytes().decode("latin-1")
