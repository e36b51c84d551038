"""Generic detectors reading the Python code (imports, calls, decorators) on small samples."""

from __future__ import annotations

import pytest

from checklist_app.checklists import Checklists
from checklist_app.detectors import registered
from checklist_app.findings import Confidence, Outcome
from checklist_app.project import Project
from checklist_app.scan import facts_for
from tests.detectors.expect import MakeRepo, RunDetector, check, src

PASS, FAIL = Outcome.PASS, Outcome.FAIL
HIGH = Confidence.HIGH

APP = src("""
    import flask_wtf.csrf
    from flask import Flask
    from myapp import cli

    app = Flask(__name__)
    csrf = flask_wtf.csrf.CSRFProtect(app)
    app.config.from_object("myapp.config"); app.config.from_object("other")

    @app.route("/")
    @app.get("/home")
    def index():
        return "hi"

    @cli.command("seed")
    def seed():
        pass
    """)
VIEWS = src("""
    from flask import Blueprint

    bp = Blueprint("v", __name__)

    @bp.route("/v")
    def view():
        return "v"
    """)
FILES = {"myapp/app.py": APP, "myapp/views.py": VIEWS, "broken.py": "def broken(:\n"}

CASES = [
    pytest.param("python_import", {"modules": ["flask"]}, PASS,
                 ["myapp/app.py:2", "myapp/views.py:1"], id="import"),
    pytest.param("python_import", {"modules": ["flask_wtf.csrf"]}, PASS, ["myapp/app.py:1"],
                 id="import-of-a-submodule"),
    pytest.param("python_import", {"modules": ["flask_wtf.forms", "wtforms"]}, FAIL, [],
                 id="no-import"),
    pytest.param("python_call", {"names": ["flask_wtf.csrf.CSRFProtect"]}, PASS,
                 ["myapp/app.py:6"], id="call"),
    pytest.param("python_call", {"names": ["*.from_object", "flask.Flask"]}, PASS,
                 ["myapp/app.py:5", "myapp/app.py:7", "myapp/app.py:7"],
                 id="calls-matching-patterns-one-per-call"),
    pytest.param("python_call", {"names": ["os.getenv"]}, FAIL, [], id="no-call"),
    pytest.param("python_decorator", {"names": ["*.route"]}, PASS,
                 ["myapp/app.py:9", "myapp/views.py:5"], id="decorator-pattern"),
    pytest.param("python_decorator", {"names": ["myapp.cli.command", "app.get"]}, PASS,
                 ["myapp/app.py:10", "myapp/app.py:14"], id="decorators"),
    pytest.param("python_decorator", {"names": ["pytest.fixture"]}, FAIL, [],
                 id="no-decorator"),
]


@pytest.mark.parametrize(("name", "params", "outcome", "evidence"), CASES)
def test_python_detectors(make_repo: MakeRepo, run_detector: RunDetector, name: str,
                          params: dict[str, list[str]], outcome: Outcome,
                          evidence: list[str]) -> None:
    repo = make_repo(FILES, git=False)
    frozen = {key: tuple(value) for key, value in params.items()}
    check(run_detector(name, repo.root, **frozen), outcome, HIGH, evidence)


def test_the_facts_a_python_call_reads_are_computed_while_indexing(
        make_repo: MakeRepo, rules: Checklists) -> None:
    repo = make_repo(FILES, git=False)
    detector = registered()["python_call"]
    params = {"names": ("flask.Flask",)}
    project = Project(repo.root, None, (*facts_for(rules), *detector.facts_for(params)))
    try:
        assert detector.run(project, params).outcome is PASS
        assert registered()["python_import"].run(project, {"modules": ("flask",)}).outcome \
            is PASS
        assert project.late_work == []
    finally:
        project.close()
