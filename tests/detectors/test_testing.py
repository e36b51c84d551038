"""Testing detectors on small sample projects: outcome, confidence and exact evidence."""

from __future__ import annotations

import pytest

from checklist_app.checklists import Checklists
from checklist_app.detectors import registered
from checklist_app.detectors.testing import ci_test_lines
from checklist_app.findings import Confidence, Outcome
from checklist_app.project import Project
from checklist_app.scan import facts_for
from tests.detectors.expect import MakeRepo, RunDetector, check, src

PASS, FAIL = Outcome.PASS, Outcome.FAIL
HIGH, MEDIUM = Confidence.HIGH, Confidence.MEDIUM


CLIENT_CONFTEST = src("""
    import pytest
    from myapp import create_app

    @pytest.fixture
    def app():
        return create_app({"TESTING": True})

    @pytest.fixture
    def client(app):
        return app.test_client()

    @pytest.fixture
    def test_user():
        return {"name": "x"}
    """)
CLIENT_TESTS = src("""
    def test_index(client):
        assert client.get("/").status_code == 200

    def test_login(client):
        response = client.post("/login", data={"user": "a"})
        assert response.status_code == 302
    """)
UNIT_TESTS = src("""
    from myapp.text import slugify


    def test_slugify():
        assert slugify("A B") == "a-b"
    """)
AUTH_FIXTURES = src("""


    class AuthActions:
        def __init__(self, client):
            self._client = client

        def login(self):
            return self._client.post("/auth/login")


    @pytest.fixture
    def auth(client):
        return AuthActions(client)


    @pytest.fixture(name="logged_in")
    def logged_in_user(auth):
        return auth.login()


    @pytest.fixture
    def token_store(app):
        return make_store(app)
    """)
AUTH_TESTS = src("""
    from myapp.auth import check


    def test_login(auth):
        check(auth.login())


    def test_profile(logged_in):
        check(logged_in)


    def test_store(token_store):
        check(token_store.get("x"))
    """)
MODEL_CASE = src("""
    import unittest
    from myapp import create_app, db
    from myapp.models import User

    class UserModelCase(unittest.TestCase):
        def setUp(self):
            self.app = create_app("testing")
            self.ctx = self.app.app_context()
            self.ctx.push()
            db.create_all()

        def test_password_hashing(self):
            u = User(username="susan")
            u.set_password("cat")
            self.assertTrue(u.check_password("cat"))

        def test_home_page(self):
            response = self.client.get("/")
            self.assertEqual(response.status_code, 200)
    """)


# --- testing.unit-tests --------------------------------------------------------------------------

UNIT_CASES = [
    pytest.param({"tests/test_text.py": UNIT_TESTS, "tests/test_views.py": CLIENT_TESTS,
                  "tests/conftest.py": CLIENT_CONFTEST}, PASS, HIGH,
                 ["tests/test_text.py:4"], id="plain-unit-test"),
    pytest.param({"tests/test_views.py": CLIENT_TESTS, "tests/conftest.py": CLIENT_CONFTEST},
                 FAIL, MEDIUM, ["tests/test_views.py:1"], id="only-client-tests"),
    pytest.param({"tests.py": MODEL_CASE}, PASS, MEDIUM, ["tests.py:12"],
                 id="model-test-in-app-context"),
    pytest.param({
        "tests/base.py": src("""
            import unittest
            from myapp import create_app

            class BaseCase(unittest.TestCase):
                def setUp(self):
                    self.app = create_app("testing")
                    self.client = self.app.test_client()
            """),
        "tests/test_auth.py": src("""
            from myapp.auth import make_token
            from tests.base import BaseCase

            class AuthCase(BaseCase):
                def test_token(self):
                    self.assertTrue(make_token("a"))
            """),
    }, PASS, MEDIUM, ["tests/test_auth.py:5"], id="app-from-a-base-class-in-another-module"),
    pytest.param({"tests/conftest.py": CLIENT_CONFTEST + AUTH_FIXTURES,
                  "tests/test_auth.py": AUTH_TESTS}, PASS, MEDIUM, ["tests/test_auth.py:12"],
                 id="a-fixture-wrapping-the-client-drives-the-app"),
    pytest.param({"tests/conftest.py": CLIENT_CONFTEST + AUTH_FIXTURES,
                  "tests/test_auth.py": AUTH_TESTS, "tests/test_text.py": UNIT_TESTS}, PASS,
                 HIGH, ["tests/test_text.py:4"], id="the-isolated-unit-test-is-the-evidence"),
    pytest.param({"tests/test_cli.py": src("""
        def test_init_db(runner):
            result = runner.invoke(args=["init-db"])
            assert "Initialized" in result.output
        """)}, FAIL, MEDIUM, ["tests/test_cli.py:1"], id="cli-runner-drives-the-app"),
    pytest.param({"myapp/text.py": "def slugify(s):\n    return s\n"}, FAIL, HIGH, [],
                 id="no-tests"),
    pytest.param({"tests/conftest.py": CLIENT_CONFTEST}, FAIL, HIGH, [],
                 id="fixtures-are-not-tests"),
    pytest.param({"tests/test_old.py": "print 'python 2'\ndef test_a():\n    pass\n"},
                 FAIL, Confidence.LOW, [], id="tests-that-could-not-be-parsed"),
    pytest.param({
        "myapp/core.py": src("""
            from flask import Flask

            class MyFlask(Flask):
                pass
            """),
        "tests/test_core.py": src("""
            from myapp.core import MyFlask

            def test_name():
                assert MyFlask("x").name == "x"
            """),
    }, PASS, MEDIUM, ["tests/test_core.py:3"], id="a-test-building-a-project-app-class"),
]


@pytest.mark.parametrize(("files", "outcome", "confidence", "evidence"), UNIT_CASES)
def test_unit_tests(make_repo: MakeRepo, run_detector: RunDetector, files: dict[str, str],
                    outcome: Outcome, confidence: Confidence, evidence: list[str]) -> None:
    repo = make_repo(files, git=False)
    check(run_detector("unit_tests", repo.root), outcome, confidence, evidence)


# --- testing.integration-tests -------------------------------------------------------------------

INTEGRATION_CASES = [
    pytest.param({"tests/conftest.py": CLIENT_CONFTEST, "tests/test_views.py": CLIENT_TESTS},
                 PASS, HIGH, ["tests/conftest.py:10"], id="test-client-fixture"),
    pytest.param({"tests.py": MODEL_CASE}, PASS, HIGH, ["tests.py:8"], id="app-context"),
    pytest.param({"requirements-dev.txt": "pytest-flask==1.3.0\n",
                  "tests/test_views.py": CLIENT_TESTS}, PASS, HIGH,
                 ["tests/test_views.py:1", "tests/test_views.py:4"], id="pytest-flask-client"),
    pytest.param({"tests/test_models.py": src("""
        from myapp.models import User, db

        def test_save_user():
            db.session.add(User(name="a"))
            db.session.commit()
        """)}, PASS, MEDIUM, ["tests/test_models.py:4", "tests/test_models.py:5"],
        id="database-session-only"),
    pytest.param({"tests/test_views.py": src("""
        from flask_testing import TestCase

        class ViewsCase(TestCase):
            def test_home(self):
                self.assert200(self.client.get("/"))
        """)}, PASS, HIGH, ["tests/test_views.py:3"], id="flask-testing-case"),
    pytest.param({"tests/test_text.py": UNIT_TESTS,
                  "myapp/debug.py": "def probe(app):\n    return app.test_client()\n"},
                 FAIL, HIGH, [], id="unit-tests-only"),
    pytest.param({"myapp/views.py": "x = 1\n"}, FAIL, HIGH, [], id="no-tests"),
]


@pytest.mark.parametrize(("files", "outcome", "confidence", "evidence"), INTEGRATION_CASES)
def test_integration_tests(make_repo: MakeRepo, run_detector: RunDetector,
                           files: dict[str, str], outcome: Outcome, confidence: Confidence,
                           evidence: list[str]) -> None:
    repo = make_repo(files, git=False)
    check(run_detector("integration_tests", repo.root), outcome, confidence, evidence)


# --- testing.e2e-tests ---------------------------------------------------------------------------

E2E_CASES = [
    pytest.param({"tests/test_browser.py": src("""
        import pytest
        from selenium import webdriver

        def test_title():
            assert webdriver
        """)}, PASS, HIGH, ["tests/test_browser.py:2"], id="selenium-import"),
    pytest.param({"requirements-dev.txt": "pytest-flask==1.3.0\n",
                  "tests/test_live.py": src("""
                      import urllib.request

                      def test_home(live_server):
                          urllib.request.urlopen(live_server.url())
                      """)}, PASS, HIGH, ["tests/test_live.py:3"], id="live-server-fixture"),
    pytest.param({"frontend/package.json": src("""
        {
          "name": "web",
          "devDependencies": {
            "@playwright/test": "^1.40.0"
          }
        }
        """)}, PASS, HIGH, ["frontend/package.json:4"], id="playwright-in-package-json"),
    pytest.param({"cypress.config.js": "module.exports = {}\n"}, PASS, HIGH,
                 ["cypress.config.js"], id="cypress-config"),
    pytest.param({"requirements-dev.txt": "pytest==8.0.0\nselenium==4.15.0\n"}, PASS, MEDIUM,
                 ["requirements-dev.txt:2"], id="selenium-declared-only"),
    pytest.param({"tests/test_pages.py": src("""
        def test_pagination(page):
            assert page == 1
        """)}, FAIL, MEDIUM, [], id="page-parameter-without-a-browser-plugin"),
    pytest.param({"package.json": '{"devDependencies": {"jest": "^29"}}\n'}, FAIL, MEDIUM, [],
                 id="javascript-unit-tests-only"),
]


@pytest.mark.parametrize(("files", "outcome", "confidence", "evidence"), E2E_CASES)
def test_e2e_tests(make_repo: MakeRepo, run_detector: RunDetector, files: dict[str, str],
                   outcome: Outcome, confidence: Confidence, evidence: list[str]) -> None:
    repo = make_repo(files, git=False)
    check(run_detector("e2e_tests", repo.root), outcome, confidence, evidence)


def test_e2e_failure_says_it_can_be_na(make_repo: MakeRepo, run_detector: RunDetector) -> None:
    repo = make_repo({"app.py": "x = 1\n"}, git=False)
    assert "can be answered n/a" in run_detector("e2e_tests", repo.root).message


# --- testing.fixture-data ------------------------------------------------------------------------

FIXTURE_CASES = [
    pytest.param({"requirements-dev.txt": "factory-boy==3.3.0\n",
                  "tests/factories.py": src("""
                      import factory
                      from myapp.models import User

                      class UserFactory(factory.Factory):
                          class Meta:
                              model = User
                      """)}, PASS, HIGH, ["tests/factories.py:1"], id="factory-boy"),
    pytest.param({"myapp/factory.py": "def create_app():\n    return 1\n",
                  "run.py": "from factory import create_app\n"}, FAIL, HIGH, [],
                 id="own-factory-module-is-not-factory-boy"),
    pytest.param({"myapp/seed.py": "from faker import Faker\nfake = Faker()\n"}, PASS, HIGH,
                 ["myapp/seed.py:1"], id="faker-in-a-seed-script"),
    pytest.param({"requirements-dev.txt": "faker==20.0.0\n"}, PASS, MEDIUM,
                 ["requirements-dev.txt:1"], id="faker-declared-only"),
    pytest.param({"tests/helpers.py": src("""
        from myapp.models import User

        def gen_user(db, name="user"):
            user = User(name=name)
            db.session.add(user)
            db.session.commit()
            return user
        """)}, PASS, MEDIUM, ["tests/helpers.py:3"], id="generator-function"),
    pytest.param({"tests/conftest.py": src("""
        import pytest
        from myapp.models import User, db

        @pytest.fixture
        def user(app):
            u = User(name="a")
            db.session.add(u)
            return u
        """)}, PASS, MEDIUM, ["tests/conftest.py:5"], id="fixture-adding-model-data"),
    pytest.param({"tests/conftest.py": src("""
        import pytest

        def create_app_for_tests(db):
            db.execute("CREATE TABLE t (id INTEGER)")

        @pytest.fixture
        def numbers():
            return [1, 2, 3]
        """)}, FAIL, HIGH, [], id="app-helpers-and-static-fixtures"),
    pytest.param({"myapp/services/factories.py": src("""
        from myapp.forms import SettingsForm

        def settings_form_factory():
            form = SettingsForm()
            form.theme.choices.insert(0, ("", "Default"))
            return form

        def email_handler_factory(db):
            return Handler(db.save_all)
        """)}, FAIL, HIGH, [], id="form-factories-are-not-test-data"),
    pytest.param({"myapp/populate.py": src("""
        def create_default_groups(db):
            db.session.add(Group("admins"))

        def create_test_data(db, users=2):
            for n in range(users):
                db.session.add(User(f"user{n}"))

        def make_rows(table):
            table.insert({"id": 1})
        """)}, PASS, MEDIUM,
        ["myapp/populate.py:4", "myapp/populate.py:1", "myapp/populate.py:8"],
        id="test-data-generators-first"),
]


@pytest.mark.parametrize(("files", "outcome", "confidence", "evidence"), FIXTURE_CASES)
def test_fixture_data(make_repo: MakeRepo, run_detector: RunDetector, files: dict[str, str],
                      outcome: Outcome, confidence: Confidence, evidence: list[str]) -> None:
    repo = make_repo(files, git=False)
    check(run_detector("fixture_data", repo.root), outcome, confidence, evidence)


# --- testing.ci ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "lines"), [
    pytest.param("steps:\n  - run: pytest -q\n", [2], id="run-pytest"),
    pytest.param("    - run: |\n        pip install -e .\n        python -m pytest\n", [3],
                 id="block-scalar"),
    pytest.param("- run: pip install -r req.txt && pytest\n", [1], id="after-install"),
    pytest.param("- run: pip install pytest pytest-cov tox\n", [], id="install-only"),
    pytest.param("- name: Run tests\n  run: flake8 .\n", [], id="step-name-is-not-a-command"),
    pytest.param("# pytest is run elsewhere\n- run: ruff check .\n", [], id="comment"),
    pytest.param("install: pip install tox\nscript: tox -e py311\n", [2], id="travis-keys"),
    pytest.param("pytest:\n  script:\n    - make test\n", [3], id="gitlab-job-named-pytest"),
    pytest.param("sh 'python -m pytest tests'\n", [1], id="jenkins-sh"),
    pytest.param("- {name: PyPy, python: 'pypy-3.11', tox: pypy3.11}\n", [],
                 id="matrix-key-named-tox"),
    pytest.param("- run: docker compose run web tests --junitxml=junit.xml\n", [1],
                 id="pytest-options-in-a-container"),
    pytest.param("- run: ./scripts/test.sh\n", [1], id="test-script"),
    pytest.param("- run: uv run coverage run -m unittest discover\n", [1], id="unittest"),
    pytest.param("- run: test -f setup.py && echo ok\n", [], id="shell-test-builtin"),
    pytest.param("- run: npm test\n", [], id="javascript-tests-only"),
    pytest.param("- run: flask test\n", [1], id="flask-test-command"),
])
def test_ci_test_lines(text: str, lines: list[int]) -> None:
    assert list(ci_test_lines(text)) == lines


LINT_WORKFLOW = src("""
    name: lint
    on: [push]
    jobs:
      lint:
        runs-on: ubuntu-latest
        steps:
          - uses: actions/checkout@v4
          - run: pip install ruff pytest
          - run: ruff check .
    """)
TEST_WORKFLOW = LINT_WORKFLOW.replace("name: lint", "name: tests").replace(
    "ruff check .", "pytest --cov")

CI_CASES = [
    pytest.param({".github/workflows/tests.yml": TEST_WORKFLOW}, PASS, HIGH,
                 [".github/workflows/tests.yml:9"], id="workflow-runs-pytest"),
    pytest.param({".github/workflows/lint.yml": LINT_WORKFLOW,
                  ".github/workflows/tests.yaml": TEST_WORKFLOW}, PASS, HIGH,
                 [".github/workflows/tests.yaml:9"], id="one-of-two-workflows"),
    pytest.param({".github/workflows/lint.yml": LINT_WORKFLOW}, FAIL, MEDIUM,
                 [".github/workflows/lint.yml"], id="lint-only"),
    pytest.param({".gitlab-ci.yml": "test:\n  script:\n    - tox\n"}, PASS, HIGH,
                 [".gitlab-ci.yml:3"], id="gitlab"),
    pytest.param({"Jenkinsfile": "node {\n  sh 'pytest'\n}\n"}, PASS, HIGH, ["Jenkinsfile:2"],
                 id="jenkins"),
    pytest.param({"circle.yml": "test:\n  override:\n    - python manage.py test\n"}, PASS,
                 HIGH, ["circle.yml:3"], id="circleci-first-format"),
    pytest.param({"app.py": "x = 1\n"}, FAIL, HIGH, [], id="no-ci"),
    pytest.param({"frontend/.github/workflows/build.yml": TEST_WORKFLOW}, FAIL, HIGH, [],
                 id="workflow-outside-the-root-is-not-ci"),
]


@pytest.mark.parametrize(("files", "outcome", "confidence", "evidence"), CI_CASES)
def test_ci_runs_tests(make_repo: MakeRepo, run_detector: RunDetector, files: dict[str, str],
                       outcome: Outcome, confidence: Confidence, evidence: list[str]) -> None:
    repo = make_repo(files, git=False)
    check(run_detector("ci_runs_tests", repo.root), outcome, confidence, evidence)


def test_testing_detectors_read_only_facts_computed_while_indexing(
        make_repo: MakeRepo, rules: Checklists) -> None:
    repo = make_repo({"tests/conftest.py": CLIENT_CONFTEST + AUTH_FIXTURES,
                      "tests/test_auth.py": AUTH_TESTS, "tests/test_text.py": UNIT_TESTS,
                      "tests.py": MODEL_CASE,
                      "populate.py": "def gen_user(db):\n    db.session.add(1)\n"}, git=False)
    project = Project(repo.root, None, facts_for(rules))
    try:
        for name in ("unit_tests", "integration_tests", "e2e_tests", "fixture_data",
                     "ci_runs_tests"):
            assert registered()[name].run(project, {}).outcome is not Outcome.ERROR
        assert project.late_work == []
    finally:
        project.close()
