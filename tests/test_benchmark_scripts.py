"""Smoke tests of the benchmark scripts at a tiny scale. Nothing here asserts a timing."""

from __future__ import annotations

import ast
import json
import keyword
import random
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from benchmarks import synthetic_repo
from tests.repos import Repo, git

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def _script(name: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(BENCHMARKS / name), *args], capture_output=True,
                          text=True, check=False, timeout=300)


def _commits(root: Path) -> list[tuple[str, list[str]]]:
    """(sha, changed paths) of every commit, newest first."""
    out = git(root, "log", "--no-renames", "--format=%x1e%H", "--name-status")
    result = []
    for record in out.split("\x1e")[1:]:
        lines = [line for line in record.splitlines() if line.strip()]
        result.append((lines[0], [line.split("\t", 1)[1] for line in lines[1:]]))
    return result


def _python_files(root: Path) -> list[str]:
    return [p for p in git(root, "ls-files").splitlines() if p.endswith(".py")]


def test_synthetic_repo_builds_the_requested_history(tmp_path: Path) -> None:
    out = tmp_path / "repo"
    done = _script("synthetic_repo.py", str(out), "--modules", "30", "--commits", "60",
                   "--seed", "7")
    assert done.returncode == 0, done.stderr
    match = re.fullmatch(
        r"built (\S+): 30 Python modules \((\d+) lines\), (\d+) other files, 60 commits "
        r"\((\d+) file versions\), HEAD ([0-9a-f]{12}), in [\d.]+ s\n", done.stdout)
    assert match is not None, done.stdout
    assert match[1] == str(out)

    python = _python_files(out)
    assert len(python) == 30
    assert int(match[2]) == sum((out / p).read_text().count("\n") for p in python)
    assert int(match[3]) == len(git(out, "ls-files").splitlines()) - 30
    assert git(out, "rev-parse", "HEAD").startswith(match[5])
    assert git(out, "status", "--porcelain", "--untracked-files=all") == ""

    history = _commits(out)
    assert len(history) == 60
    assert all(1 <= len(paths) <= 5 for _, paths in history)
    log = git(out, "log", "--no-renames", "--format=", "--name-status")
    deletions = sum(1 for line in log.splitlines() if line.startswith("D\t"))
    assert sum(len(paths) for _, paths in history) == int(match[4]) + deletions
    for expected in ("shopapp/__init__.py", "shopapp/config.py", "shopapp/extensions.py",
                     "tests/conftest.py", "migrations/env.py", "requirements.txt",
                     ".github/workflows/ci.yml", "shopapp/templates/base.html"):
        assert (out / expected).is_file(), expected
    assert any(p.startswith("migrations/versions/") for p in python)
    assert any(p.startswith("shopapp/templates/accounts/") for p in git(out, "ls-files").split())
    for path in python:
        ast.parse((out / path).read_text(), path)
    assert "def create_app(config_name=None):" in (out / "shopapp/__init__.py").read_text()


def test_synthetic_repo_is_deterministic_per_seed(tmp_path: Path) -> None:
    first = synthetic_repo.build(tmp_path / "a", modules=20, commits=50, seed=3)
    again = synthetic_repo.build(tmp_path / "b", modules=20, commits=50, seed=3)
    other = synthetic_repo.build(tmp_path / "c", modules=20, commits=50, seed=4)
    assert first.head == again.head
    assert other.head != first.head
    assert (first.modules, first.commits) == (20, 50)


def test_synthetic_repo_deletes_its_temporary_files(tmp_path: Path) -> None:
    result = synthetic_repo.build(tmp_path / "repo", modules=20, commits=50, seed=1)
    log = git(result.root, "log", "--no-renames", "--format=", "--name-status")
    deleted = [line.split("\t")[1] for line in log.splitlines() if line.startswith("D\t")]
    assert deleted == ["scripts/backfill_users_0.py"]
    assert not (result.root / "scripts").exists()


def test_synthetic_entity_names_are_valid_python_names() -> None:
    for entity in synthetic_repo.all_entities(random.Random(1)):
        for name in (entity.area, entity.name, entity.singular, entity.model):
            assert name.isidentifier() and not keyword.iskeyword(name), name


def test_default_scale_catalogue_is_valid_python_of_realistic_size() -> None:
    files = synthetic_repo.catalogue(2_000, random.Random(1))
    final = [f for f in files if f.path.endswith(".py") and not f.temporary]
    assert len(final) == 2_000
    sizes = []
    for spec in files:
        if spec.path.endswith(".py"):
            text = spec.final_text()
            ast.parse(text, spec.path)
            if not spec.temporary:
                sizes.append(text.count("\n"))
    assert 50_000 <= sum(sizes) <= 100_000
    assert max(sizes) <= 420
    assert sum(1 for size in sizes if size >= 150) >= 20


@pytest.mark.parametrize(("args", "message"), [
    (["--modules", "30", "--commits", "5"], "need at least"),
    (["--modules", "0"], "at least 1"),
])
def test_synthetic_repo_rejects_impossible_sizes(tmp_path: Path, args: list[str],
                                                 message: str) -> None:
    done = _script("synthetic_repo.py", str(tmp_path / "repo"), *args)
    assert done.returncode == 2
    assert message in done.stderr


def test_synthetic_repo_refuses_a_folder_that_is_not_empty(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    done = _script("synthetic_repo.py", str(tmp_path), "--modules", "20", "--commits", "50")
    assert done.returncode == 2
    assert "is not empty" in done.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


FIGURE_LINES = (
    r"floor +[\d.]+ s .*",
    r"full +[\d.]+ s .*",
    r"rescan +[\d.]+ s .*",
    r"warm +[\d.]+ s .*",
    r"peak +[\d.]+ MB .*",
    r"full / floor +[\d.]+ +budget <= 1\.50 +(PASS|OVER)",
    r"rescan / full +[\d.]+ +budget <= 0\.10 +(PASS|OVER)",
    r"peak memory MB +[\d.]+ +budget <= 400 +(PASS|OVER)",
)


def _assert_figures(stdout: str, figures: dict[str, object], python_files: int,
                    commits: int) -> None:
    lines = stdout.splitlines()
    for pattern in FIGURE_LINES:
        assert any(re.fullmatch(pattern, line) for line in lines), (pattern, stdout)
    assert figures["python_files"] == python_files
    assert figures["commits"] == commits
    assert figures["repeat"] == 1
    for key in ("floor_s", "full_s", "rescan_s", "warm_rescan_s", "peak_mb"):
        value = figures[key]
        assert isinstance(value, float) and value > 0, key
    assert isinstance(figures["over_budget"], bool)


def test_scan_speed_measures_a_synthetic_repository(tmp_path: Path) -> None:
    report = tmp_path / "figures.json"
    profile = tmp_path / "scan.prof"
    done = _script("scan_speed.py", "--modules", "20", "--commits", "50", "--repeat", "1",
                   "--json", str(report), "--profile", str(profile))
    assert done.returncode == 0, done.stderr
    assert re.match(r"built \S+: 20 Python modules", done.stdout)
    _assert_figures(done.stdout, json.loads(report.read_text()), python_files=20, commits=50)
    assert f"profile of one full scan (cProfile, written to {profile}):" in done.stdout
    assert "checklist_app/scan.py" in done.stdout
    assert profile.stat().st_size > 0


def test_scan_speed_measures_a_clone_and_leaves_the_repository_alone(
    make_repo: Callable[..., Repo], tmp_path: Path
) -> None:
    repo = make_repo({"app/__init__.py": "from flask import Flask\n\n\ndef create_app():\n"
                                         "    return Flask(__name__)\n",
                      "app/views.py": "def index():\n    return 'hi'\n",
                      "README.md": "# demo\n"})
    repo.commit({"app/models.py": "x = 1\n"}, "models")
    head = git(repo.root, "rev-parse", "HEAD")
    before = {p: (repo.root / p).read_bytes() for p in git(repo.root, "ls-files").split()}
    report = tmp_path / "figures.json"
    done = _script("scan_speed.py", "--repo", str(repo.root), "--repeat", "1", "--no-commit",
                   "--json", str(report))
    assert done.returncode == 0, done.stderr
    _assert_figures(done.stdout, json.loads(report.read_text()), python_files=3, commits=2)
    assert git(repo.root, "rev-parse", "HEAD") == head
    assert git(repo.root, "status", "--porcelain", "--untracked-files=all") == ""
    assert {p: (repo.root / p).read_bytes() for p in before} == before


def test_scan_speed_rejects_a_folder_that_is_not_a_repository(tmp_path: Path) -> None:
    done = _script("scan_speed.py", "--repo", str(tmp_path), "--repeat", "1")
    assert done.returncode == 2
    assert "is not the top of a git repository" in done.stderr
