"""Advanced-feature detectors on small sample projects: outcome, confidence, exact evidence."""

from __future__ import annotations

import pytest

from checklist_app.checklists import Checklists
from checklist_app.detectors import registered
from checklist_app.findings import Confidence, Outcome
from checklist_app.project import Project
from checklist_app.scan import facts_for
from tests.detectors.expect import MakeRepo, RunDetector, check, src

PASS, FAIL = Outcome.PASS, Outcome.FAIL
HIGH, MEDIUM = Confidence.HIGH, Confidence.MEDIUM


# --- advanced.async ------------------------------------------------------------------------------

ASYNC_CASES = [
    pytest.param({"app/views.py": src("""
        from flask import Blueprint

        bp = Blueprint("main", __name__)

        @bp.get("/dashboard")
        async def dashboard():
            return "ok"

        @bp.get("/plain")
        def plain():
            return "ok"
        """)}, PASS, HIGH, ["app/views.py:6"], id="async-view"),
    pytest.param({"app/api.py": src("""
        from flask.views import MethodView

        class Items(MethodView):
            async def get(self):
                return []

            async def _load(self):
                return []
        """)}, PASS, HIGH, ["app/api.py:4"], id="async-method-view"),
    pytest.param({
        "app/main/__init__.py": "from flask import Blueprint\nbp = Blueprint('main', __name__)\n",
        "app/main/views.py": src("""
            from app.main import bp

            @bp.route("/feed")
            async def feed():
                return "ok"
            """),
    }, PASS, HIGH, ["app/main/views.py:4"], id="async-view-on-an-imported-blueprint"),
    pytest.param({"app/__init__.py": "from quart import Quart\napp = Quart(__name__)\n"},
                 PASS, HIGH, ["app/__init__.py:1"], id="quart"),
    pytest.param({"app/feeds.py": src("""
        import asyncio

        def refresh(urls):
            return asyncio.run(fetch_all(urls))
        """)}, PASS, MEDIUM, ["app/feeds.py:4"], id="asyncio-in-app-code"),
    pytest.param({"app/tasks.py": "from celery import shared_task\n"}, FAIL, MEDIUM,
                 ["app/tasks.py:1"], id="task-queue-is-not-async"),
    pytest.param({"app/api.py": src("""
        from fastapi import APIRouter

        router = APIRouter()

        @router.get("/")
        async def index():
            return {}
        """)}, FAIL, HIGH, [], id="async-route-of-another-framework"),
    pytest.param({"tests/test_async.py": src("""
        import asyncio

        async def test_something():
            await asyncio.sleep(0)
        """)}, FAIL, HIGH, [], id="async-only-in-tests"),
]


@pytest.mark.parametrize(("files", "outcome", "confidence", "evidence"), ASYNC_CASES)
def test_async_support(make_repo: MakeRepo, run_detector: RunDetector, files: dict[str, str],
                       outcome: Outcome, confidence: Confidence, evidence: list[str]) -> None:
    repo = make_repo(files, git=False)
    check(run_detector("async_support", repo.root), outcome, confidence, evidence)


# --- advanced.websockets -------------------------------------------------------------------------

WEBSOCKET_CASES = [
    pytest.param({"app/events.py": src("""
        from flask_socketio import SocketIO, emit

        socketio = SocketIO()
        """)}, PASS, HIGH, ["app/events.py:1"], id="flask-socketio"),
    pytest.param({"app/ws.py": "from flask_sock import Sock\nsock = Sock()\n"}, PASS, HIGH,
                 ["app/ws.py:1"], id="flask-sock"),
    pytest.param({"app/chat.py": src("""
        from quart import Quart, websocket

        app = Quart(__name__)

        @app.websocket("/ws")
        async def ws():
            await websocket.send("hi")
        """)}, PASS, HIGH, ["app/chat.py:5"], id="quart-websocket"),
    pytest.param({"requirements.txt": "flask==3.0.0\nsimple-websocket==1.0.0\n"}, FAIL, MEDIUM,
                 ["requirements.txt:2"], id="declared-only"),
    pytest.param({"app/socketio.py": "def emit():\n    return 1\n",
                  "app/views.py": "from socketio import emit\n"}, FAIL, HIGH, [],
                 id="own-module-named-socketio"),
    pytest.param({"tests/test_ws.py": "import websockets\n"}, FAIL, HIGH, [],
                 id="websockets-only-in-tests"),
]


@pytest.mark.parametrize(("files", "outcome", "confidence", "evidence"), WEBSOCKET_CASES)
def test_websockets(make_repo: MakeRepo, run_detector: RunDetector, files: dict[str, str],
                    outcome: Outcome, confidence: Confidence, evidence: list[str]) -> None:
    repo = make_repo(files, git=False)
    check(run_detector("websockets", repo.root), outcome, confidence, evidence)


# --- advanced.cli-commands -----------------------------------------------------------------------

CLI_CASES = [
    pytest.param({"app/__init__.py": src("""
        from flask import Flask

        def create_app():
            app = Flask(__name__)

            @app.cli.command("init-db")
            def init_db():
                pass

            return app
        """)}, PASS, HIGH, ["app/__init__.py:6"], id="app-cli-command"),
    pytest.param({"app/admin.py": src("""
        from flask import Blueprint

        bp = Blueprint("admin", __name__)

        @bp.cli.command("create-admin")
        def create_admin():
            pass
        """)}, PASS, HIGH, ["app/admin.py:5"], id="blueprint-cli-command"),
    pytest.param({"app/cli.py": src("""
        from flask.cli import AppGroup

        users = AppGroup("users")

        def register(app):
            app.cli.add_command(users)
        """)}, PASS, HIGH, ["app/cli.py:3", "app/cli.py:6"], id="app-group-added"),
    pytest.param({"pyproject.toml": src("""
        [project]
        name = "myapp"

        [project.entry-points."flask.commands"]
        seed = "myapp.cli:seed"
        """)}, PASS, HIGH, ["pyproject.toml:4"], id="entry-point"),
    pytest.param({"manage.py": src("""
        import click

        @click.group()
        def cli():
            pass

        @cli.command()
        def hello():
            click.echo("hi")
        """)}, FAIL, HIGH, [], id="plain-click-group"),
    pytest.param({"tests/test_cli.py": src("""
        from flask import Flask

        app = Flask(__name__)

        @app.cli.command()
        def probe():
            pass
        """)}, FAIL, HIGH, [], id="commands-only-in-tests"),
    pytest.param({
        "app/groups.py": src("""
            from flask.cli import AppGroup

            class UserGroup(AppGroup):
                pass

            admins = UserGroup("admins")
            """),
        "manage.py": src("""
            from app.groups import UserGroup

            users = UserGroup("users")
            """),
    }, PASS, HIGH, ["app/groups.py:6", "manage.py:3"], id="project-group-class"),
]


@pytest.mark.parametrize(("files", "outcome", "confidence", "evidence"), CLI_CASES)
def test_cli_commands(make_repo: MakeRepo, run_detector: RunDetector, files: dict[str, str],
                      outcome: Outcome, confidence: Confidence, evidence: list[str]) -> None:
    repo = make_repo(files, git=False)
    check(run_detector("cli_commands", repo.root), outcome, confidence, evidence)


def test_advanced_detectors_read_only_facts_computed_while_indexing(
        make_repo: MakeRepo, rules: Checklists) -> None:
    repo = make_repo({"app/groups.py": src("""
        from flask.cli import AppGroup

        class UserGroup(AppGroup):
            pass
        """), "manage.py": "from app.groups import UserGroup\nusers = UserGroup('u')\n",
        "views.py": "import asyncio\nasync def view():\n    await asyncio.sleep(0)\n"},
        git=False)
    project = Project(repo.root, None, facts_for(rules))
    try:
        for name in ("async_support", "websockets", "cli_commands"):
            assert registered()[name].run(project, {}).outcome is not Outcome.ERROR
        assert project.late_work == []
    finally:
        project.close()


@pytest.mark.parametrize("name", ["async_support", "websockets", "cli_commands"])
def test_optional_practices_say_they_can_be_na(make_repo: MakeRepo, run_detector: RunDetector,
                                               name: str) -> None:
    repo = make_repo({"app.py": "x = 1\n"}, git=False)
    found = run_detector(name, repo.root)
    assert (found.outcome, "n/a" in found.message) == (FAIL, True)
