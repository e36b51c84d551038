"""The read-only view of a project: finding files by pattern, and the key of its modules."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from checklist_app.project import Project
from checklist_app.project.files import from_paths
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


def test_the_listing_resolves_each_folder_on_the_way(tmp_path: Path) -> None:
    """Files through links to folders inside the project are read; a link out of it, at any
    depth, and a missing folder are refused; a very deep path is listed like any other."""
    root = tmp_path / "project"
    (root / "app" / "real").mkdir(parents=True)
    (root / "app" / "real" / "views.py").write_text("x = 1\n")
    (root / "app" / "alias").symlink_to("real")
    (root / "again").symlink_to("app/alias")  # a chain of links, all inside
    (tmp_path / "outside" / "lib").mkdir(parents=True)
    (tmp_path / "outside" / "lib" / "leak.py").write_text("SECRET = 1\n")
    (root / "app" / "vendor").symlink_to(tmp_path / "outside")
    deep = "/".join(["d"] * 200)
    (root / deep).mkdir(parents=True)
    (root / deep / "bottom.py").write_text("")
    listed = from_paths(root, ["app/real/views.py", "app/alias/views.py", "again/views.py",
                               "app/vendor/lib/leak.py", "gone/missing.py",
                               f"{deep}/bottom.py"])
    assert listed.paths == ("again/views.py", "app/alias/views.py", "app/real/views.py",
                            f"{deep}/bottom.py")
    assert [(s.path, s.reason) for s in listed.skipped] == [
        ("app/vendor/lib/leak.py", "reached through a symbolic link that points outside the "
                                   "project"),
        ("gone/missing.py", "listed but missing on disk")]
