"""The history in the facts cache: chunks per scan, loaded only when walked, the newest commits
at hand, a damaged chunk read from git again, many chunks merged into one."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from checklist_app.project import Project
from checklist_app.project import cache as cache_module
from checklist_app.project.cache import FactsCache
from tests.repos import Repo, git


def _scan(repo: Repo, cache_dir: Path) -> Project:
    project = Project(repo.root, FactsCache.for_project(cache_dir, repo.root))
    project.history()
    project.close()
    return project


def _subjects(project: Project) -> list[str]:
    return [c.subject for c in project.history().commits]


def test_a_rescan_reads_only_new_commits_and_loads_old_chunks_only_when_walked(
    make_repo: Callable[..., Repo], tmp_path: Path
) -> None:
    repo = make_repo({"a.py": "x = 1\n"})
    cache_dir = tmp_path / "cache"
    _scan(repo, cache_dir)
    for number in range(3):
        repo.commit({"a.py": f"x = {number + 2}\n"}, f"change {number}")
        _scan(repo, cache_dir)
    repo.commit({"b.py": "y = 1\n"}, "newest")
    project = Project(repo.root, FactsCache.for_project(cache_dir, repo.root))
    history = project.history()
    assert [chunk.count for chunk in history.chunks] == [1, 1, 1, 1, 1]
    assert history.count == 5
    assert [c.subject for c in history.chunks[0].commits] == ["newest"]
    assert history.chunks[-1]._commits is None  # the oldest chunk was not loaded
    assert _subjects(project) == ["newest", "change 2", "change 1", "change 0", "initial"]
    assert [c.path for c in history.commits[0].changes] == ["b.py"]
    project.close()


def test_a_damaged_chunk_is_read_from_git_again(
    make_repo: Callable[..., Repo], tmp_path: Path
) -> None:
    repo = make_repo({"a.py": "x = 1\n"})
    cache_dir = tmp_path / "cache"
    _scan(repo, cache_dir)
    repo.commit({"a.py": "x = 2\n"}, "second")
    _scan(repo, cache_dir)
    folder = FactsCache.for_project(cache_dir, repo.root).folder
    chunks = sorted(folder.glob("history-*.pickle"))
    assert len(chunks) == 2
    for chunk in chunks:
        chunk.write_bytes(b"not a pickle")
    project = Project(repo.root, FactsCache.for_project(cache_dir, repo.root))
    assert _subjects(project) == ["second", "initial"]
    project.close()


def test_many_chunks_become_one(
    make_repo: Callable[..., Repo], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cache_module, "MAX_HISTORY_CHUNKS", 3)
    repo = make_repo({"a.py": "x = 1\n"})
    cache_dir = tmp_path / "cache"
    _scan(repo, cache_dir)
    for number in range(4):
        repo.commit({"a.py": f"x = {number}\n"}, f"change {number}")
        _scan(repo, cache_dir)
    project = Project(repo.root, FactsCache.for_project(cache_dir, repo.root))
    history = project.history()
    assert len(history.chunks) <= 3
    assert _subjects(project) == ["change 3", "change 2", "change 1", "change 0", "initial"]
    project.close()


def test_a_history_that_moved_elsewhere_is_read_again(
    make_repo: Callable[..., Repo], tmp_path: Path
) -> None:
    repo = make_repo({"a.py": "x = 1\n"})
    cache_dir = tmp_path / "cache"
    repo.commit({"a.py": "x = 2\n"}, "to be dropped")
    _scan(repo, cache_dir)
    git(repo.root, "reset", "-q", "--hard", "HEAD~1")
    repo.commit({"a.py": "x = 3\n"}, "instead")
    project = Project(repo.root, FactsCache.for_project(cache_dir, repo.root))
    assert _subjects(project) == ["instead", "initial"]
    assert len(project.history().chunks) == 1
    project.close()


def test_history_facts_are_computed_once_per_chunk_without_loading_old_chunks(
    make_repo: Callable[..., Repo], tmp_path: Path
) -> None:
    repo = make_repo({"a.py": "x = 1\n"})
    cache_dir = tmp_path / "cache"
    seen: list[int] = []

    def count(commits: tuple[object, ...]) -> int:
        seen.append(len(commits))
        return len(commits)

    first = Project(repo.root, FactsCache.for_project(cache_dir, repo.root))
    assert first.history_facts("test.count.1", count) == [1]
    first.close()
    repo.commit({"a.py": "x = 2\n"}, "second")
    second = Project(repo.root, FactsCache.for_project(cache_dir, repo.root))
    assert second.history_facts("test.count.1", count) == [1, 1]
    assert seen == [1, 1]  # only the new chunk was summarised
    assert second.history().chunks[-1]._commits is None  # and the old one was not loaded
    second.close()
