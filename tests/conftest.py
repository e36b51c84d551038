from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from checklist_app.checklists import Checklists  # noqa: E402
from checklist_app.findings import Finding  # noqa: E402
from checklist_app.project import Project  # noqa: E402
from checklist_app.scan import load_rules  # noqa: E402
from tests.repos import Repo  # noqa: E402


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path_factory: pytest.TempPathFactory,
                        monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No test reads or writes the real user's cache, data or settings."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.delenv("CHECKLIST_APP_DB", raising=False)
    monkeypatch.delenv("CHECKLIST_APP_CACHE", raising=False)
    yield


@pytest.fixture
def make_repo(tmp_path: Path) -> Callable[..., Repo]:
    """`make_repo({"app.py": "..."})`: a git repository with one commit of these files."""
    counter = iter(range(1000))

    def make(files: dict[str, str | bytes] | None = None, *, git: bool = True,
             message: str = "initial") -> Repo:
        repo = Repo(tmp_path / f"repo{next(counter)}", init_git=git)
        if files is not None:
            if git:
                repo.commit(files, message)
            else:
                repo.write(files)
        return repo

    return make


@pytest.fixture
def db(tmp_path: Path) -> str:
    """A store file for the test (created by whoever opens it first)."""
    return str(tmp_path / "store" / "progress.db")


@pytest.fixture(scope="session")
def rules() -> Checklists:
    """The real built-in checklists."""
    return load_rules()


@pytest.fixture
def run_detector() -> Callable[..., Finding]:
    """`run_detector("name", repo_root, **params)`: one detector on a fresh Project."""
    from checklist_app.detectors import registered

    def run(name: str, root: Path, **params: object) -> Finding:
        project = Project(root)
        try:
            return registered()[name].run(project, params)
        finally:
            project.close()

    return run
