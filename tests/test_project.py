"""The read-only view of a project: finding files by pattern, and the key of its modules."""

from __future__ import annotations

from collections.abc import Callable

from checklist_app.project import Project
from tests.repos import Repo

MakeRepo = Callable[..., Repo]


def test_glob_matches_any_pattern_and_stars_cross_folders(make_repo: MakeRepo) -> None:
    repo = make_repo({"alembic.ini": "", "app/alembic.ini": "", "app/sub/alembic.ini": "",
                      "app/views.py": "", "README.md": "", "docs/Readme.txt": ""})
    project = Project(repo.root)
    try:
        assert project.glob("alembic.ini", "*/alembic.ini") == [
            "alembic.ini", "app/alembic.ini", "app/sub/alembic.ini"]
        assert project.glob("README*") == ["README.md"]  # case matters
        assert project.glob("*.py", "*.txt") == ["app/views.py", "docs/Readme.txt"]
        assert project.glob() == []
        assert project.glob("[") == []  # an odd pattern matches nothing, it does not fail
    finally:
        project.close()


def test_the_python_digest_changes_with_any_module(make_repo: MakeRepo) -> None:
    repo = make_repo({"a.py": "x = 1\n", "b.py": "y = 2\n", "notes.txt": "one"})
    first = Project(repo.root)
    digest = first.python_digest()
    assert first.python_digest() == digest
    first.close()
    repo.commit({"notes.txt": "two"}, "not a module")
    same = Project(repo.root)
    assert same.python_digest() == digest
    same.close()
    repo.commit({"b.py": "y = 3\n"}, "a module")
    changed = Project(repo.root)
    assert changed.python_digest() != digest
    changed.close()


def test_once_computes_a_value_once_per_scan(make_repo: MakeRepo) -> None:
    repo = make_repo({"a.py": "x = 1\n"})
    calls: list[str] = []

    def count() -> int:
        calls.append("computed")
        return len(calls)

    project = Project(repo.root)
    try:
        assert project.once("test.count", count) == 1
        assert project.once("test.count", count) == 1
        assert project.once("test.other", count) == 2
    finally:
        project.close()
    again = Project(repo.root)  # a new scan computes it again
    try:
        assert again.once("test.count", count) == 3
    finally:
        again.close()
