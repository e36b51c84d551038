from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from checklist_app.cli import entry
from tests.cli_run import run
from tests.repos import Repo

SEED_IDS = {
    "organization.app-factory", "organization.blueprints", "organization.env-configs",
    "database.migrations", "database.eager-loading", "database.orm-sensibly",
    "security.password-hashing", "security.csrf", "security.no-sql-injection", "security.https",
    "testing.unit-tests", "testing.integration-tests", "testing.e2e-tests",
    "testing.fixture-data", "testing.ci", "performance.profiling", "performance.caching",
    "performance.rate-limiting", "advanced.async", "advanced.websockets",
    "advanced.cli-commands",
}

APP = {
    "app/__init__.py": (
        "from flask import Flask\n"
        "from flask_wtf.csrf import CSRFProtect\n"
        "csrf = CSRFProtect()\n"
        "def create_app():\n"
        "    app = Flask(__name__)\n"
        "    csrf.init_app(app)\n"
        "    return app\n"
    ),
    "requirements.txt": "flask==3.0.0\nflask-wtf==1.2.1\n",
}


@pytest.fixture
def project(make_repo: Callable[..., Repo]) -> Repo:
    return make_repo(APP)


def test_scan_json_follows_the_schema(project: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "scan", str(project.root), "--format", "json", "--no-save")
    assert code == 0
    data = json.loads(out)
    assert list(data) == ["schema", "tool", "project", "scanned_at", "duration_s", "summary",
                          "topics", "items"]
    assert data["schema"] == 1
    assert data["tool"] == {"name": "checklist-app", "version": "0.1.0"}
    assert data["project"]["root"] == str(project.root)
    assert data["project"]["branch"] == "main" and data["project"]["dirty"] is False
    assert len(data["project"]["commit"]) == 40
    ids = [item["id"] for item in data["items"]]
    assert SEED_IDS <= set(ids) and len(ids) == len(set(ids))
    summary = data["summary"]
    assert summary["total"] == len(ids) == sum(t["total"] for t in data["topics"])
    assert summary["met"] + summary["unmet"] + summary["na"] + summary["unknown"] == len(ids)
    assert [t["id"] for t in data["topics"]] == [
        "organization", "database", "security", "testing", "performance", "advanced"]
    first = data["items"][0]
    assert list(first) == ["id", "topic", "title", "finding", "answer", "status", "needs_review"]
    assert list(first["finding"]) == ["outcome", "confidence", "message", "evidence"]
    factory = next(i for i in data["items"] if i["id"] == "organization.app-factory")
    assert factory["status"] == "met"
    assert {"path": "app/__init__.py", "line": 4, "commit": None,
            "excerpt": "def create_app():"} in factory["finding"]["evidence"]


def test_scan_text_shows_every_item(project: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "scan", str(project.root), "--no-save")
    assert code == 0
    for item_id in SEED_IDS:
        assert item_id in out
    assert "Overall" in out and "app/__init__.py:4" in out


def test_scan_markdown_and_sarif(project: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "scan", str(project.root), "--format", "markdown", "--no-save")
    assert code == 0 and out.startswith("## Flask checklist: ")
    assert "| Topic | Progress |" in out
    code, out, _ = run(capsys, "scan", str(project.root), "--format", "sarif", "--no-save")
    sarif = json.loads(out)
    assert sarif["version"] == "2.1.0"
    (sarif_run,) = sarif["runs"]
    rule_ids = [r["id"] for r in sarif_run["tool"]["driver"]["rules"]]
    assert SEED_IDS <= set(rule_ids)
    for result in sarif_run["results"]:
        assert rule_ids[result["ruleIndex"]] == result["ruleId"]
        assert result["level"] in ("error", "warning", "note")
    assert sarif_run["originalUriBaseIds"]["SRCROOT"]["uri"] == project.root.as_uri() + "/"


def test_output_file_and_fail_under(project: Repo, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "out.json"
    code, out, err = run(capsys, "scan", str(project.root), "--format", "json", "--output",
                         str(target), "--fail-under", "0", "--no-save")
    assert code == 0 and out == ""
    assert json.loads(target.read_text())["schema"] == 1
    assert f"wrote {target}" in err
    code, _, err = run(capsys, "scan", str(project.root), "--fail-under", "100", "--no-save")
    assert code == 1
    assert "is below --fail-under 100%" in err


def test_missing_folder_is_a_clear_usage_error(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "scan", str(tmp_path / "nope"), "--no-save")
    assert code == 2
    assert err == f"checklist-app: {tmp_path / 'nope'}: no such folder\n"


def test_extra_rules_folder_adds_items(project: Repo, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    rules = tmp_path / "team"
    rules.mkdir()
    (rules / "team.yaml").write_text(
        "topic: team\ntitle: Team\nitems:\n  - id: team.readme\n    title: README\n"
        "    why: w\n    how: h\n    detectors:\n      - file_exists: {paths: [README*]}\n")
    code, out, _ = run(capsys, "scan", str(project.root), "--rules", str(rules), "--format",
                       "json", "--no-save")
    assert code == 0
    item = next(i for i in json.loads(out)["items"] if i["id"] == "team.readme")
    assert item["status"] == "unmet"
    assert item["finding"]["message"] == "no file matches README*"


def test_the_builtin_rules_are_valid(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "rules", "check")
    assert code == 0, out


def test_the_command_runs_without_the_collector_and_freezes_what_it_made(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "argv", ["checklist-app", "rules", "check"])
    gc.unfreeze()
    try:
        assert entry() == 0
        assert not gc.isenabled()  # off for the whole command
        assert gc.get_freeze_count() > 0  # the collection at exit will not walk them
    finally:
        gc.unfreeze()
        gc.enable()
    assert "problem" not in capsys.readouterr().err


LEAN_PROBE = """
import contextlib, io, json, sys
from checklist_app.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    code = main(["scan", sys.argv[1], "--format", "json", "--no-save"])
tops = {name.partition(".")[0] for name in sys.modules}
heavy = {"sqlalchemy", "alembic", "PySide6", "yaml", "git", "logging"}
print(json.dumps([code, sorted(tops & heavy)]))
"""


def test_a_scan_without_saving_imports_no_database_gui_yaml_or_logging_code(
        project: Repo, tmp_path: Path) -> None:
    env = {**os.environ, "CHECKLIST_APP_CACHE": str(tmp_path / "cache")}

    def heavy_modules() -> list[object]:
        done = subprocess.run([sys.executable, "-c", LEAN_PROBE, str(project.root)], env=env,
                              capture_output=True, text=True, check=True)
        found: list[object] = json.loads(done.stdout)
        return found

    assert heavy_modules() == [0, ["yaml"]]  # the first run reads the checklists
    assert heavy_modules() == [0, []]  # later runs take them from the rules cache
