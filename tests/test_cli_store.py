"""The commands that use the store: scan (saving), answer, status, history, relink."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli_run import run
from tests.repos import Repo

APP = {"app.py": "from flask import Flask\napp = Flask(__name__)\n"}


def test_answer_then_scan_json_carries_it(make_repo: Callable[..., Repo], db: str,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    repo = make_repo(APP)
    root = str(repo.root)
    code, out, err = run(capsys, "scan", root, "--db", db, "--format", "json")
    assert code == 0, err
    code, out, err = run(capsys, "answer", root, "security.https", "--met", "--db", db,
                         "--author", "Ann", "--justification", "TLS ends at the load balancer")
    assert code == 0, err
    assert out.startswith("security.https: met by Ann (revision 1); progress ")
    code, out, _ = run(capsys, "scan", root, "--db", db, "--format", "json")
    https = next(i for i in json.loads(out)["items"] if i["id"] == "security.https")
    assert https["status"] == "met"
    assert https["answer"]["author"] == "Ann"
    assert https["answer"]["justification"] == "TLS ends at the load balancer"
    assert https["needs_review"] is False


def test_answer_refuses_a_missing_justification(make_repo: Callable[..., Repo], db: str,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    root = str(make_repo(APP).root)
    code, _, err = run(capsys, "answer", root, "advanced.websockets", "--na", "--db", db)
    assert code == 2
    assert err == "checklist-app: an n/a answer needs a justification\n"
    code, _, err = run(capsys, "answer", root, "no.such-item", "--met", "--db", db)
    assert code == 2 and "no item 'no.such-item'" in err


def test_status_and_history(make_repo: Callable[..., Repo], db: str,
                            capsys: pytest.CaptureFixture[str]) -> None:
    repo = make_repo(APP)
    root = str(repo.root)
    code, _, err = run(capsys, "status", root, "--db", db)
    assert code == 2 and "has no recorded progress yet" in err
    run(capsys, "scan", root, "--db", db, "--format", "json")
    repo.commit({"app.py": "from flask import Flask\ndef create_app():\n"
                 "    app = Flask(__name__)\n    return app\n"}, "factory")
    run(capsys, "scan", root, "--db", db, "--format", "json")
    run(capsys, "answer", root, "security.https", "--unmet", "--db", db, "--author", "Ann",
        "--note", "todo before launch")
    run(capsys, "answer", root, "security.https", "--met", "--db", db, "--author", "Bob",
        "--justification", "behind the TLS proxy")
    code, out, _ = run(capsys, "status", root, "--db", db)
    assert code == 0
    assert "Overall" in out and "Security Measures" in out
    assert "organization.app-factory: UNMET -> MET" in out
    code, out, _ = run(capsys, "history", root, "security.https", "--db", db)
    lines = out.splitlines()
    assert len(lines) == 2
    assert lines[0].endswith("security.https none -> unmet by Ann: todo before launch")
    assert lines[1].endswith("security.https unmet -> met by Bob: behind the TLS proxy")


def test_relink_moves_progress_to_the_new_folder(make_repo: Callable[..., Repo], db: str,
                                                 tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    repo = make_repo(APP)
    run(capsys, "answer", str(repo.root), "security.https", "--met", "--db", db,
        "--author", "Ann")
    moved = tmp_path / "moved"
    repo.root.rename(moved)
    code, out, err = run(capsys, "relink", str(repo.root), str(moved), "--db", db)
    assert code == 0, err
    code, out, _ = run(capsys, "history", str(moved), "--db", db)
    assert "security.https none -> met by Ann" in out


def test_a_store_that_is_not_a_database_is_a_clear_error(
    make_repo: Callable[..., Repo], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bogus = tmp_path / "notes.db"
    bogus.write_text("these are my notes, not a database\n")
    code, _, err = run(capsys, "scan", str(make_repo(APP).root), "--db", str(bogus))
    assert code == 2
    assert str(bogus) in err and "--no-save" in err
    assert bogus.read_text() == "these are my notes, not a database\n"
