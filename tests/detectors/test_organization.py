"""Organization detectors on small sample projects: outcome, confidence and exact evidence."""

from __future__ import annotations

import pytest

from checklist_app.checklists import Checklists
from checklist_app.detectors import organization, registered
from checklist_app.detectors.organization import is_test_path
from checklist_app.findings import Confidence, Outcome
from checklist_app.project import ParsedModule, Project
from checklist_app.project.pyindex import parse_module
from checklist_app.scan import facts_for
from tests.detectors.expect import MakeRepo, RunDetector, check, src

PASS, FAIL, UNKNOWN = Outcome.PASS, Outcome.FAIL, Outcome.UNKNOWN
HIGH, MEDIUM, LOW = Confidence.HIGH, Confidence.MEDIUM, Confidence.LOW


# --- which files are tests -----------------------------------------------------------------------


@pytest.mark.parametrize(("path", "expected"), [
    ("tests/helpers.py", True),
    ("app/tests/models.py", True),
    ("test_views.py", True),
    ("app/views_test.py", True),
    ("conftest.py", True),
    ("tests.py", True),
    ("app/testing.py", False),
    ("app/latest_news.py", False),
    ("contest/views.py", False),
])
def test_test_paths(path: str, expected: bool) -> None:
    assert is_test_path(path) is expected


# --- organization.app-factory --------------------------------------------------------------------

APP_FACTORY_CASES = [
    pytest.param({"myapp/__init__.py": src("""
        from flask import Flask


        def create_app(config=None):
            app = Flask(__name__)
            app.config.from_object(config)
            return app
        """)}, PASS, HIGH, ["myapp/__init__.py:4"], id="create_app"),
    pytest.param({"site.py": src("""
        import flask

        def build():
            application = flask.Flask(__name__)
            return application
        """)}, PASS, HIGH, ["site.py:3"], id="factory-named-differently"),
    pytest.param({"factory.py": src("""
        from flask import Flask


        def _base():
            return Flask(__name__)


        def create_app():
            app = _base()
            return app
        """)}, PASS, HIGH, ["factory.py:4", "factory.py:8"], id="factory-through-helper"),
    pytest.param({
        "app/core.py": src("""
            from flask import Flask

            def make_base(name):
                app = Flask(name)
                return app
            """),
        "app/__init__.py": src("""
            from .core import make_base

            def create_app():
                app = make_base(__name__)
                app.secret_key = "x"
                return app
            """),
    }, PASS, HIGH, ["app/__init__.py:3", "app/core.py:3"], id="helper-in-another-module"),
    pytest.param({"app.py": src("""
        from flask import Flask

        class MyFlask(Flask):
            pass

        def create_app():
            return MyFlask(__name__)
        """)}, PASS, HIGH, ["app.py:6"], id="project-subclass"),
    pytest.param({"app.py": src("""
        from flask import Flask

        app = Flask(__name__)

        @app.route("/")
        def index():
            return "hi"
        """)}, FAIL, HIGH, ["app.py:3"], id="module-level-app"),
    pytest.param({"run.py": src("""
        from flask import Flask

        if __name__ == "__main__":
            app = Flask(__name__)
            app.run()
        """)}, FAIL, HIGH, ["run.py:4"], id="main-guard-only"),
    pytest.param({"app.py": src("""
        from flask import Flask as F
        app = F(__name__)
        """)}, FAIL, HIGH, ["app.py:2"], id="aliased-import"),
    pytest.param({"app.py": src("""
        from flask import *
        app = Flask(__name__)
        """)}, FAIL, HIGH, ["app.py:2"], id="star-import"),
    pytest.param({"serve.py": src("""
        from flask import Flask

        def main():
            app = Flask(__name__)
            app.run()
        """)}, FAIL, MEDIUM, ["serve.py:4"], id="created-in-function-not-returned"),
    pytest.param({"serve.py": src("""
        from flask import Flask

        def main():
            app = Flask(__name__)
            return "started"
        """)}, FAIL, MEDIUM, ["serve.py:4"], id="returns-something-else"),
    pytest.param({
        "pkg/__init__.py": src("""
            from flask import Flask

            def create_app():
                app = Flask(__name__)
                return app
            """),
        "legacy.py": src("""
            from flask import Flask
            app = Flask(__name__)
            """),
    }, PASS, MEDIUM, ["pkg/__init__.py:3", "legacy.py:2"], id="factory-and-module-level-app"),
    pytest.param({
        "lib.py": "def helper():\n    return 1\n",
        "tests/test_lib.py": src("""
            from flask import Flask
            app = Flask(__name__)
            """),
    }, UNKNOWN, LOW, [], id="app-only-in-tests"),
    pytest.param({"app.py": src("""
        class Flask:
            pass

        app = Flask()
        """)}, UNKNOWN, LOW, [], id="local-class-named-flask"),
    pytest.param({
        "app/core.py": src("""
            from flask import Flask

            class MyFlask(Flask):
                pass
            """),
        "wsgi.py": src("""
            from app.core import MyFlask
            application = MyFlask(__name__)
            """),
    }, FAIL, HIGH, ["wsgi.py:2"], id="imported-project-subclass-at-module-level"),
    pytest.param({
        "app/core.py": src("""
            import flask

            class Base(flask.Flask):
                pass
            """),
        "app/more.py": src("""
            from app import core

            class MyFlask(core.Base):
                pass
            """),
        "app/__init__.py": src("""
            import app.more

            def create_app():
                application = app.more.MyFlask(__name__)
                return application
            """),
    }, PASS, HIGH, ["app/__init__.py:3"], id="subclass-of-a-subclass-through-a-module"),
    pytest.param({"app.py": src("""
        from flask import Flask

        def create_app():
            if (app := Flask(__name__)) is not None:
                return app
            return None
        """)}, PASS, HIGH, ["app.py:3"], id="assigned-with-walrus"),
    pytest.param({"app.py": src("""
        from flask import Flask

        def create_app():
            app = Flask(__name__)

            def helper():
                return None

            return app
        """)}, PASS, HIGH, ["app.py:3"], id="nested-helper-in-factory"),
]


@pytest.mark.parametrize(("files", "outcome", "confidence", "evidence"), APP_FACTORY_CASES)
def test_app_factory(make_repo: MakeRepo, run_detector: RunDetector, files: dict[str, str],
                     outcome: Outcome, confidence: Confidence, evidence: list[str]) -> None:
    repo = make_repo(files, git=False)
    check(run_detector("app_factory", repo.root), outcome, confidence, evidence)


def test_app_factory_message_names_the_factories(make_repo: MakeRepo,
                                                 run_detector: RunDetector) -> None:
    repo = make_repo({"factory.py": src("""
        from flask import Flask

        def make_app():
            return Flask(__name__)
        """)}, git=False)
    found = run_detector("app_factory", repo.root)
    assert found.message == "application factory make_app at factory.py:3"


# --- organization.blueprints ---------------------------------------------------------------------

SINGLE_MODULE = src("""
    from flask import Flask

    app = Flask(__name__)

    @app.route("/")
    def index():
        return "index"

    @app.get("/about")
    def about():
        return "about"

    def contact():
        return "contact"

    app.add_url_rule("/contact", view_func=contact)
    """)

BLUEPRINT_CASES = [
    pytest.param({
        "shop/views.py": src("""
            from flask import Blueprint

            bp = Blueprint("shop", __name__)

            @bp.route("/")
            def index():
                return "shop"
            """),
        "shop/__init__.py": src("""
            from flask import Flask
            from shop.views import bp

            def create_app():
                app = Flask(__name__)
                app.register_blueprint(bp)
                return app
            """),
    }, PASS, HIGH, ["shop/views.py:3", "shop/__init__.py:6"], id="created-and-registered"),
    pytest.param({"app.py": SINGLE_MODULE}, FAIL, HIGH,
                 ["app.py:5", "app.py:9", "app.py:16"], id="routes-on-app"),
    pytest.param({"views.py": src("""
        from flask import Blueprint
        bp = Blueprint("main", __name__)
        """)}, FAIL, MEDIUM, ["views.py:2"], id="created-never-registered"),
    pytest.param({"app.py": src("""
        from flask import Flask
        from flask_swagger_ui import get_swaggerui_blueprint

        app = Flask(__name__)
        app.register_blueprint(get_swaggerui_blueprint("/docs", "/spec"))

        @app.route("/")
        def index():
            return "index"
        """)}, FAIL, MEDIUM, ["app.py:5", "app.py:7"], id="only-library-blueprint-registered"),
    pytest.param({
        "myapp/__init__.py": src("""
            from flask import Flask
            app = Flask(__name__)
            """),
        "myapp/views.py": src("""
            from myapp import app

            @app.route("/")
            def index():
                return "index"
            """),
    }, FAIL, HIGH, ["myapp/views.py:3"], id="routes-on-imported-app"),
    pytest.param({"factory.py": src("""
        from flask import Flask

        def create_app():
            app = Flask(__name__)

            @app.route("/")
            def index():
                return "index"

            return app
        """)}, FAIL, HIGH, ["factory.py:6"], id="routes-inside-factory"),
    pytest.param({
        "tests/test_bp.py": src("""
            from flask import Blueprint, Flask
            bp = Blueprint("t", __name__)
            Flask(__name__).register_blueprint(bp)
            """),
        "app.py": "from flask import Flask\napp = Flask(__name__)\n",
    }, FAIL, HIGH, [], id="blueprints-only-in-tests"),
    pytest.param({"app.py": SINGLE_MODULE, "views.py": "def broken(:\n    pass\n"}, FAIL, LOW,
                 ["app.py:5", "app.py:9", "app.py:16"], id="a-module-could-not-be-parsed"),
    pytest.param({
        "shop/base.py": src("""
            from flask import Blueprint

            class ShopBlueprint(Blueprint):
                pass
            """),
        "shop/views.py": src("""
            from shop.base import ShopBlueprint

            bp = ShopBlueprint("shop", __name__)
            """),
        "shop/__init__.py": src("""
            from flask import Flask
            from shop.views import bp

            def create_app():
                app = Flask(__name__)
                app.register_blueprint(bp)
                return app
            """),
    }, PASS, HIGH, ["shop/views.py:3", "shop/__init__.py:6"],
        id="imported-project-blueprint-class"),
    pytest.param({
        "serve.py": src("""
            from factory import make

            app = make()

            @app.route("/")
            def index():
                return "index"
            """),
        "factory.py": src("""
            from flask import Flask

            def make():
                return Flask(__name__)
            """),
    }, FAIL, HIGH, ["serve.py:5"], id="routes-on-an-app-from-a-factory"),
]


@pytest.mark.parametrize(("files", "outcome", "confidence", "evidence"), BLUEPRINT_CASES)
def test_blueprints(make_repo: MakeRepo, run_detector: RunDetector, files: dict[str, str],
                    outcome: Outcome, confidence: Confidence, evidence: list[str]) -> None:
    repo = make_repo(files, git=False)
    check(run_detector("blueprints", repo.root), outcome, confidence, evidence)


def test_unparsed_modules_are_named_in_the_failure(make_repo: MakeRepo,
                                                   run_detector: RunDetector) -> None:
    repo = make_repo({"app.py": SINGLE_MODULE, "views.py": "def broken(:\n"}, git=False)
    found = run_detector("blueprints", repo.root)
    assert found.message.endswith("(1 module(s) could not be parsed and were not checked, "
                                  "e.g. views.py)")


def test_blueprints_failure_counts_routes_and_offers_na(make_repo: MakeRepo,
                                                        run_detector: RunDetector) -> None:
    repo = make_repo({"app.py": SINGLE_MODULE}, git=False)
    found = run_detector("blueprints", repo.root)
    assert "3 route(s) are registered directly on the application" in found.message
    assert "n/a" in found.message


# --- organization.env-configs --------------------------------------------------------------------

CONFIG_CLASSES = src("""
    import os

    class Config:
        SECRET_KEY = os.environ.get("SECRET_KEY")

    class DevelopmentConfig(Config):
        DEBUG = True

    class TestingConfig(Config):
        TESTING = True

    class ProductionConfig(Config):
        pass
    """)

ENV_CONFIG_CASES = [
    pytest.param({"config.py": CONFIG_CLASSES}, PASS, HIGH,
                 ["config.py:6", "config.py:9", "config.py:12"], id="config-classes"),
    pytest.param({"settings.py": src("""
        class Base:
            DEBUG = False

        class Dev(Base):
            DEBUG = True

        class Prod(Base):
            SERVER_NAME = "example.com"
        """)}, PASS, HIGH, ["settings.py:4", "settings.py:7"], id="short-class-names"),
    pytest.param({".env.development": "DEBUG=1\n", ".env.production": "DEBUG=0\n",
                  "app.py": "x = 1\n"}, PASS, HIGH,
                 [".env.development", ".env.production"], id="env-files"),
    pytest.param({"config/development.py": "DEBUG = True\n",
                  "config/production.py": "DEBUG = False\n"}, PASS, HIGH,
                 ["config/development.py", "config/production.py"], id="config-folder"),
    pytest.param({"app.py": src("""
        import os
        from flask import Flask
        from config import configs

        def create_app():
            app = Flask(__name__)
            app.config.from_object(configs[os.environ.get("APP_ENV", "production")])
            return app
        """)}, PASS, MEDIUM, ["app.py:7"], id="from-object-mapping-and-variable"),
    pytest.param({"app.py": src("""
        from flask import Flask

        def create_app(config_class="config.Config"):
            app = Flask(__name__)
            app.config.from_object(config_class)
            return app
        """)}, PASS, MEDIUM, ["app.py:5"], id="from-object-factory-parameter"),
    pytest.param({"app.py": src("""
        from flask import Flask
        app = Flask(__name__)
        app.config.from_prefixed_env()
        """)}, PASS, MEDIUM, ["app.py:3"], id="from-prefixed-env"),
    pytest.param({"app.py": src("""
        from flask import Flask
        app = Flask(__name__, instance_relative_config=True)
        app.config.from_pyfile("config.py", silent=True)
        """)}, PASS, MEDIUM, ["app.py:2"], id="instance-config"),
    pytest.param({"app.py": src("""
        from flask import Flask
        app = Flask(__name__)
        app.config.from_object("config.Config")
        """), "config.py": "class Config:\n    DEBUG = False\n"}, FAIL, HIGH, [],
        id="one-fixed-config"),
    pytest.param({"config.py": src("""
        class Config:
            DEBUG = False

        class TestingConfig(Config):
            TESTING = True
        """)}, FAIL, HIGH, ["config.py:4"], id="only-a-test-config"),
    pytest.param({"app/checks.py": src("""
        import unittest

        class TestConfig(unittest.TestCase):
            pass

        class ProdChecks(unittest.TestCase):
            pass
        """)}, FAIL, HIGH, [], id="test-case-classes-are-not-configs"),
    pytest.param({"app/storage.py": src("""
        class LocalStorage:
            MAX_SIZE = 10

        class ProductionLine:
            SPEED = 3
        """)}, FAIL, HIGH, [], id="classes-named-with-environment-words-are-not-configs"),
    pytest.param({"requirements/dev.txt": "pytest\n", "requirements/prod.txt": "flask\n",
                  "docker-compose.prod.yml": "services: {}\n"}, FAIL, HIGH, [],
                 id="requirements-and-compose-files-are-not-configs"),
    pytest.param({"app.py": src("""
        import os
        DATABASE_URL = os.environ.get("DATABASE_URL")
        VENV = os.environ.get("VIRTUAL_ENV")
        """)}, FAIL, HIGH, [], id="ordinary-environment-variables"),
]


@pytest.mark.parametrize(("files", "outcome", "confidence", "evidence"), ENV_CONFIG_CASES)
def test_env_configs(make_repo: MakeRepo, run_detector: RunDetector, files: dict[str, str],
                     outcome: Outcome, confidence: Confidence, evidence: list[str]) -> None:
    repo = make_repo(files, git=False)
    check(run_detector("env_configs", repo.root), outcome, confidence, evidence)


# --- organization.pinned-dependencies ------------------------------------------------------------

PINNED_CASES = [
    pytest.param({"pyproject.toml": '[project]\nname = "x"\ndependencies = ["flask>=2"]\n',
                  "poetry.lock": "# lock\n"}, PASS, HIGH, ["poetry.lock"], id="lock-file"),
    pytest.param({"requirements.txt": "Flask==3.0.0\nrequests==2.31.0 ; python_version>'3.8'\n",
                  "requirements-dev.txt": "pytest\n"}, PASS, HIGH, ["requirements.txt:1"],
                 id="all-runtime-pinned"),
    pytest.param({"requirements.txt": "flask\ngunicorn==21.2.0\nrequests>=2.0\n"}, FAIL, HIGH,
                 ["requirements.txt:1", "requirements.txt:3"], id="unpinned"),
    pytest.param({"requirements.txt": src("""
        flask==3.0.0 \\
            --hash=sha256:aaaa
        click==8.1.7 \\
            --hash=sha256:bbbb
        """)}, PASS, HIGH, ["requirements.txt"], id="hashed-requirements"),
    pytest.param({
        "pyproject.toml": '[project]\nname = "x"\ndependencies = ["flask>=2", "requests"]\n',
        "requirements.txt": "flask==3.0.0\nrequests==2.31.0\n",
    }, PASS, HIGH, ["requirements.txt:1"], id="abstract-pyproject-with-pinned-requirements"),
    pytest.param({"pyproject.toml": src("""
        [project]
        name = "x"
        dependencies = [
            "flask>=2",
            "requests==2.31.0",
        ]
        """)}, FAIL, HIGH, ["pyproject.toml:4"], id="pyproject-ranges"),
    pytest.param({"app.py": "print(1)\n"}, FAIL, HIGH, [], id="no-declaration"),
    pytest.param({
        "uv.lock": "version = 1\n",
        "requirements.txt": "flask>=2\n",
        ".github/workflows/ci.yml": "jobs:\n  t:\n    steps:\n      - run: uv sync --locked\n",
    }, PASS, HIGH, ["uv.lock", ".github/workflows/ci.yml:4"], id="lock-used-by-ci"),
    pytest.param({"Pipfile.lock": "{}\n", "requirements.txt": "flask>=2\n"}, FAIL, MEDIUM,
                 ["Pipfile.lock", "requirements.txt:1"], id="lock-beside-loose-requirements"),
    pytest.param({"requirements.txt": "flask==3.0.0\n", "docs/requirements.txt": "sphinx\n"},
                 PASS, HIGH, ["requirements.txt:1"], id="docs-requirements-ignored"),
]


@pytest.mark.parametrize(("files", "outcome", "confidence", "evidence"), PINNED_CASES)
def test_pinned_dependencies(make_repo: MakeRepo, run_detector: RunDetector,
                             files: dict[str, str], outcome: Outcome, confidence: Confidence,
                             evidence: list[str]) -> None:
    repo = make_repo(files, git=False)
    check(run_detector("pinned_dependencies", repo.root), outcome, confidence, evidence)


def test_pinned_dependencies_lists_the_unpinned(make_repo: MakeRepo,
                                                run_detector: RunDetector) -> None:
    repo = make_repo({"requirements.txt": "flask\ngunicorn==21.2.0\nrequests>=2.0\n"},
                     git=False)
    found = run_detector("pinned_dependencies", repo.root)
    assert found.message.endswith("flask (no version), requests (>=2.0)")


def test_organization_detectors_read_only_facts_computed_while_indexing(
        make_repo: MakeRepo, rules: Checklists) -> None:
    repo = make_repo({"app.py": SINGLE_MODULE, "config.py": CONFIG_CLASSES,
                      "requirements.txt": "flask==3.0.0\n"}, git=False)
    project = Project(repo.root, None, facts_for(rules))
    try:
        for name in ("app_factory", "blueprints", "env_configs", "pinned_dependencies"):
            assert registered()[name].run(project, {}).outcome is not Outcome.ERROR
        assert project.late_work == []
    finally:
        project.close()


def test_factory_in_a_git_repository(make_repo: MakeRepo) -> None:
    """The same answer when files come from `git ls-files` (ignored files left out)."""
    repo = make_repo({
        ".gitignore": "build_app.py\n",
        "build_app.py": "from flask import Flask\napp = Flask(__name__)\n",
        "app/__init__.py": "from flask import Flask\n\ndef create_app():\n"
                           "    return Flask(__name__)\n",
    })
    project = Project(repo.root)
    try:
        found = registered()["app_factory"].run(project, {})
    finally:
        project.close()  # waits for the git log the project started
    check(found, PASS, HIGH, ["app/__init__.py:3"])


# --- what functions return (the facts of application factories) ---------------------------------

RETURNING = src('''
    from flask import Flask as F
    import connexion

    def create_app():
        app = F(__name__)
        return app

    def make():
        if (holder := build()):
            pass
        return holder

    def outer():
        def inner():
            return F("x")
        if True:
            def hidden():
                return F("y")
        return None

    def via_attr():
        cx = connexion.App(__name__)
        return cx.app

    class Factory:
        def app(self):
            return create_app()

        def nothing(self):
            value = 1
            return value

    async def later():
        async with lock:
            def deep():
                return F("z")
        return deep()

    def no_calls(x):
        return x
''')


def test_what_functions_return() -> None:
    """Returns through a variable (`=` or `:=`) or its `.app`, those of a function written
    directly in the body (`outer` returns what `inner` does, not what `hidden` does), and only
    the functions the index names are read."""
    index, tree = parse_module("app/factory.py", RETURNING)
    assert tree is not None
    assert organization._function_returns(index, tree, organization.local_names(index)) == (
        ("create_app", 4, ("flask.Flask",)), ("make", 8, ("build",)),
        ("outer", 13, ("flask.Flask",)), ("outer.inner", 14, ("flask.Flask",)),
        ("outer.hidden", 17, ("flask.Flask",)), ("via_attr", 21, ("connexion.App",)),
        ("Factory.app", 26, ("app.factory.create_app",)), ("later", 33, ("deep",)))


def test_the_names_of_a_module_are_gathered_once_for_its_facts() -> None:
    first = ParsedModule(*parse_module("app/views.py",
                                       "import flask\nflask.render_template('x')\n"))
    second = ParsedModule(*parse_module("tests/test_views.py",
                                        "def test_x(client):\n    client.get()\n"))
    names = organization.module_names(first)
    assert organization.module_names(first) is names  # one view for all the module's facts
    assert (names.calls, names.call_ends, names.test) == (
        frozenset({"flask.render_template"}), frozenset({"render_template"}), False)
    other = organization.module_names(second)
    assert other.index is second.index and other.test and other.calls == {"client.get"}
    assert organization.module_names(first) is names  # each module keeps its own
    assert names.import_tops == {"flask"}
