"""Detectors: testing (unit, integration and end-to-end tests, fixture data, CI).

Tests are found by path (`test_*.py`, `*_test.py`, `tests.py`, `conftest.py`, anything under
`test/` or `tests/`) and test functions by name (`test*` functions at module level or in a
`Test*` or `*TestCase` class). CI files are read as text, line by line; nothing is executed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import NamedTuple

from checklist_app.detectors.evidence import at_line
from checklist_app.detectors.organization import (
    APP_CLASSES,
    FACTS_VERSION,
    Library,
    find_libraries,
    is_test_path,
    labels,
    module_names,
    not_found,
    qualified_name,
    qualify,
    subclasses_of,
    with_own_names,
)
from checklist_app.detectors.registry import detector, module_fact
from checklist_app.findings import Confidence, Evidence, Finding, failed, passed
from checklist_app.project import ModuleIndex, ParsedModule, Project
from checklist_app.project.pyindex import Call, Class, Function, ValueKind

MAX_EVIDENCE = 5

# --- test functions ------------------------------------------------------------------------------

_DRIVER_WORDS = frozenset({
    "client", "browser", "page", "driver", "selenium", "live", "server", "testapp", "webtest",
    "runner",
})
"""Words in fixture names that make a test drive the app from outside (client, browser)."""
_CONTEXT_WORDS = frozenset({
    "app", "application", "db", "database", "session", "dbsession", "context", "ctx",
    "engine", "connection", "conn",
})
"""Words in fixture names that give a test an application or a database."""

_DRIVER_OWNERS = frozenset({"client", "runner", "browser", "driver", "selenium", "page"})
"""Words in the object a test calls (`self.client.get`, `runner.invoke`) that drive the app."""
_APP_CALLS = frozenset({"test_client", "app_context", "test_request_context", "test_cli_runner"})
_DRIVER_CALLS = frozenset({"test_client", "test_cli_runner"})
_CLIENT_CLASSES = frozenset({
    "werkzeug.test.Client", "flask.testing.FlaskClient", "webtest.TestApp",
    "flask_webtest.TestApp",
})
_APP_TEST_BASES = frozenset({
    "flask_testing.TestCase", "flask_testing.LiveServerTestCase",
    "flask_testing.utils.TestCase", "flask_unittest.ClientTestCase",
    "flask_unittest.AppTestCase", "flask_unittest.AppClientTestCase",
    "flask_unittest.LiveTestCase",
})
_SETUP_METHODS = frozenset({"setUp", "setUpClass", "asyncSetUp", "setup_method", "setup_class",
                            "setup", "setUpTestData"})
_DB_CALL = re.compile(
    r"(^|\.)(session\.(add|add_all|commit|delete|execute|query|flush|get|scalar|scalars|merge)"
    r"|create_all|drop_all|query\.\w+)$")
_FIXTURE_DECORATORS = frozenset({"pytest.fixture", "pytest_asyncio.fixture"})
_NOT_CODE_CALLS = re.compile(
    r"^(self\.(assert|fail|skip|sub[Tt]est)\w*|(pytest|unittest|mock|unittest\.mock)\.\w+.*"
    r"|(len|str|int|float|bool|list|dict|set|tuple|isinstance|print|range|type|repr|sorted"
    r"|any|all|open|getattr|hasattr|iter|next|enumerate|zip|min|max|sum)$)")
"""Calls that are not the code under test: assertions, test-framework helpers, builtins."""


_NOT_WORD = re.compile(r"[^a-zA-Z0-9]+")


def _words(name: str) -> set[str]:
    return {w for w in _NOT_WORD.split(name.lower()) if w}


def _is_case_base(base: str, case_names: frozenset[str]) -> bool:
    return base.endswith("TestCase") or base.rsplit(".", 1)[-1] in case_names


# --- what one test module holds (computed while indexing) ----------------------------------------


class SuiteClass(NamedTuple):
    """A class of a test module."""

    name: str
    qualname: str
    line: int
    bases: tuple[str, ...]
    """As the index resolves them."""
    qualified_bases: tuple[str, ...]
    """Project-wide names (see organization.qualify)."""
    needs_app: bool
    """Its tests run with an app, a client or a database by its own doing: a Flask-Testing
    base class, @pytest.mark.usefixtures, or its setUp."""


class SuiteFunction(NamedTuple):
    """A function named `test*` (not a fixture) at module level or in a class: a test when it
    is at module level or its class is a test class."""

    qualname: str
    line: int
    class_name: str | None
    params: tuple[str, ...]
    drives: bool
    """Its fixture names, usefixtures or calls go through a client, runner or browser."""
    needs_app: bool
    """Its fixture names, usefixtures or calls give it an app, a context or a database."""
    calls_code: bool
    """Calls something besides assertions, test helpers and builtins."""


class SuiteFixture(NamedTuple):
    """A pytest fixture."""

    name: str
    """The name it is requested by."""
    line: int
    asks: tuple[str, ...]
    """The fixtures it requests."""
    drives: bool
    """By its name or calls, it goes through a client, runner or browser."""
    needs_app: bool
    """By its name or calls, it gives an app, a context or a database."""
    stores_data: bool
    """It puts model data into a database session."""


class SuiteModule(NamedTuple):
    """What the testing detectors need of a test module (or of a populate/seed module)."""

    module: str
    """The module's dotted name."""
    classes: tuple[SuiteClass, ...]
    functions: tuple[SuiteFunction, ...]
    fixtures: tuple[SuiteFixture, ...]
    app_lines: tuple[int, ...]
    """Uses of a test client or an app context, then Flask-Testing test cases."""
    db_lines: tuple[int, ...]
    """Uses of a database session."""
    generators: tuple[tuple[str, int, bool], ...]
    """Functions named like test data generators that store data: (qualified name, line,
    whether its name lacks a test-data word)."""


def _suite_module(makers: frozenset[str], source: ParsedModule) -> SuiteModule | None:
    """The SuiteModule of a test module or of a populate/seed module; None for the others.
    `makers` are the classes whose call builds an application."""
    index, tree = source.index, source.tree
    stem = index.path.rsplit("/", 1)[-1][:-3]
    if tree is None:
        return None
    names = module_names(source)
    if not (names.test or stem in _DATA_MODULES):
        return None
    calls = _Calls(index, makers)
    usefixtures = _usefixtures_words(index)
    local = names.local
    classes = tuple(_suite_class(index, local, cls, calls, usefixtures)
                    for cls in index.classes)
    functions = tuple(_suite_function(f, calls, usefixtures) for f in index.functions
                      if f.name.startswith("test") and _FIXTURE_DECORATORS.isdisjoint(f.decorators)
                      and (f.class_name is not None or f.qualname == f.name))
    fixtures = tuple(_suite_fixture(index, f, calls) for f in index.functions
                     if not _FIXTURE_DECORATORS.isdisjoint(f.decorators))
    app_lines = calls.app_lines
    app_lines.extend(c.line for c in index.classes if any(b in _APP_TEST_BASES for b in c.bases))
    return SuiteModule(index.module, classes, functions, fixtures, tuple(app_lines),
                       tuple(calls.db_lines), _generators(index, calls))


_DRIVES = 1
"""A call that drives the app from outside (`_drives`)."""
_NEEDS_APP = 2
"""A call that builds the app, enters its context or uses a database (`_needs_app`)."""
_CODE = 4
"""A call to something besides assertions, test helpers and builtins (`_NOT_CODE_CALLS`)."""
_STORES_DATA = 8
"""A call that puts model data into a database session (`_DATA_CALL`)."""
_PERSISTS = 16
"""A call that may store data (`_PERSIST_CALL`), unless it inserts into a list."""
_APP_CALL = 32
"""A call that uses a test client or an app context (`_APP_CALLS`, `_CLIENT_CLASSES`)."""
_DB_CALL_KIND = 64
"""A call that uses a database session (`_DB_CALL`)."""


class _Calls:
    """What the calls of a module do (bits of the kinds above), and what the calls in each
    function do: a function's calls include those of the functions nested in it."""

    def __init__(self, index: ModuleIndex, makers: frozenset[str]) -> None:
        self.makers = makers
        self._kinds: dict[str, int] = {}
        self._words: dict[str, set[str]] = {}
        self.app_lines: list[int] = []
        """The lines of the calls using a test client or an app context, in order."""
        self.db_lines: list[int] = []
        """The lines of the calls using a database session, in order."""
        own: dict[str, int] = {}
        known = self._kinds
        for call in index.calls:
            kind = known.get(call.name)
            if kind is None:
                kind = self.kind(call.name)
            if kind & _APP_CALL:
                self.app_lines.append(call.line)
            elif kind & _DB_CALL_KIND:
                self.db_lines.append(call.line)
            function = call.function
            if function is None:
                continue
            if kind & _PERSISTS and _list_insert(call):
                kind &= ~_PERSISTS
            own[function] = own.get(function, 0) | kind
        self._within: dict[str, int] = {}
        for function, kind in own.items():
            while function:
                self._within[function] = self._within.get(function, 0) | kind
                function = function.rpartition(".")[0]

    def within(self, qualname: str) -> int:
        """The kinds of the calls in the function `qualname` (and in those nested in it)."""
        return self._within.get(qualname, 0)

    def kind(self, name: str) -> int:
        """The kinds of a call of `name` (worked out once per name)."""
        kind = self._kinds.get(name)
        if kind is None:
            kind = (_DRIVES if _drives(name) else 0) | (
                _NEEDS_APP if _needs_app(name, self.makers) else 0) | (
                0 if _NOT_CODE_CALLS.match(name) else _CODE) | (
                _STORES_DATA if _DATA_CALL.search(name) else 0) | (
                _PERSISTS if _PERSIST_CALL.search(name) else 0) | (
                _APP_CALL if name.rsplit(".", 1)[-1] in _APP_CALLS or name in _CLIENT_CLASSES
                else 0) | (_DB_CALL_KIND if _DB_CALL.search(name) else 0)
            self._kinds[name] = kind
        return kind

    def words(self, name: str) -> set[str]:
        """`_words(name)`, worked out once per name (not to be changed)."""
        found = self._words.get(name)
        if found is None:
            found = self._words[name] = _words(name)
        return found


def _suite_class(index: ModuleIndex, local: frozenset[str], cls: Class, calls: _Calls,
                 usefixtures: dict[str, set[str]]) -> SuiteClass:
    needs = any(b in _APP_TEST_BASES for b in cls.bases) or bool(
        usefixtures.get(cls.qualname, _NO_WORDS) & (_CONTEXT_WORDS | _DRIVER_WORDS)) or any(
        method.class_name == cls.qualname and method.name in _SETUP_METHODS and bool(
            calls.within(method.qualname) & (_DRIVES | _NEEDS_APP)) for method in index.functions)
    return SuiteClass(cls.name, cls.qualname, cls.line, cls.bases,
                      tuple(qualify(index, b, local) for b in cls.bases), needs)


def _suite_function(function: Function, calls: _Calls, usefixtures: dict[str, set[str]]
                    ) -> SuiteFunction:
    qualname = function.qualname
    words = set().union(*(calls.words(p) for p in function.params if p not in ("self", "cls")))
    words |= usefixtures.get(qualname, _NO_WORDS)
    kinds = calls.within(qualname)
    drives = bool(words & _DRIVER_WORDS) or bool(kinds & _DRIVES)
    needs_app = bool(words & _CONTEXT_WORDS) or bool(kinds & _NEEDS_APP)
    return SuiteFunction(qualname, function.line, function.class_name, function.params,
                         drives, needs_app, bool(kinds & _CODE))


def _suite_fixture(index: ModuleIndex, function: Function, calls: _Calls) -> SuiteFixture:
    name = _fixture_name(index, function)
    words = calls.words(name)
    kinds = calls.within(function.qualname)
    return SuiteFixture(
        name, function.line, tuple(p for p in function.params if p not in ("self", "cls",
                                                                           "request")),
        bool(words & _DRIVER_WORDS) or bool(kinds & _DRIVES),
        bool(words & _CONTEXT_WORDS) or bool(kinds & _NEEDS_APP), bool(kinds & _STORES_DATA))


def _generators(index: ModuleIndex, calls: _Calls) -> tuple[tuple[str, int, bool], ...]:
    """Helper functions that build and store test data (`gen_user`, `generate_posts`,
    `create_test_data`)."""
    found = []
    for function in index.functions:
        if not _GENERATOR_NAME.match(function.name) or _words(function.name) & _NOT_DATA_WORDS:
            continue
        if calls.within(function.qualname) & _PERSISTS:
            found.append((function.qualname, function.line,
                          not _words(function.name) & _TEST_DATA_WORDS))
    return tuple(found)


def _fixture_name(module: ModuleIndex, function: Function) -> str:
    """The name a fixture is requested by: `@pytest.fixture(name="x")` or the function's."""
    for decorator in module.decorators:
        if decorator.target == function.qualname and decorator.name in _FIXTURE_DECORATORS \
                and decorator.call is not None:
            named = decorator.call.keyword("name")
            if named is not None and named.is_constant_text:
                return str(named.const)
    return function.name


_NO_WORDS: frozenset[str] = frozenset()


def _usefixtures_words(module: ModuleIndex) -> dict[str, set[str]]:
    """Target -> the words of the fixtures a test or class asks for with
    @pytest.mark.usefixtures."""
    found: dict[str, set[str]] = {}
    for decorator in module.decorators:
        if decorator.name == "pytest.mark.usefixtures" and decorator.call is not None:
            words = found.setdefault(decorator.target, set())
            for value in decorator.call.args:
                if value.is_constant_text:
                    words |= _words(str(value.const))
    return found


def _drives(name: str) -> bool:
    """Calling `name` drives the app from outside: a test client or CLI runner."""
    last = name.rsplit(".", 1)[-1]
    owner_words = _words(name.rsplit(".", 1)[0]) if "." in name else set()
    return last in _DRIVER_CALLS or name in _CLIENT_CLASSES or bool(
        owner_words & _DRIVER_OWNERS)


def _needs_app(name: str, makers: frozenset[str]) -> bool:
    """Calling `name` builds the app, enters its context or uses a database."""
    return (name.rsplit(".", 1)[-1] in _APP_CALLS or name in makers
            or bool(_FACTORY_NAME.search(name)) or bool(_DB_CALL.search(name)))


_FACTORY_NAME = re.compile(r"(^|[._])(create|make|build|get|init)_?app(lication)?$")

_SUITE = module_fact(f"testing.suite-module.1.{FACTS_VERSION}",
                     partial(_suite_module, APP_CLASSES))
"""Per module: the SuiteModule of a test or populate/seed module, or None. Calls to the
project's own subclasses of Flask are not known while indexing (see suite_modules)."""


def suite_modules(project: Project) -> dict[str, SuiteModule]:
    """The SuiteModule of every test and populate/seed module that parsed, by path. Calls to
    the app classes and the project's subclasses of them build an application."""
    makers = subclasses_of(project, APP_CLASSES)
    values = with_own_names(project, _SUITE, makers - APP_CLASSES,
                            partial(_suite_module, makers))
    return {path: module for path, module in values.items() if module is not None}


# --- the test suite ------------------------------------------------------------------------------


class Suite(NamedTuple):
    """The test suite: its parsed modules and the names of its TestCase classes (also those
    deriving from a TestCase through a base class of the project's tests)."""

    modules: dict[str, SuiteModule]
    """The test modules by path."""
    case_names: frozenset[str]
    driving_fixtures: frozenset[str] = frozenset()
    """pytest fixtures that go through a client, runner or browser, however indirectly
    (`auth(client)` wrapping the test client)."""
    app_fixtures: frozenset[str] = frozenset()
    """pytest fixtures that give an application, an app context or a database."""

    def tests(self, path: str, module: SuiteModule) -> list[SuiteFunction]:
        """The test functions pytest or unittest would collect in a module (conftest.py and
        fixtures are not tests)."""
        if path.rsplit("/", 1)[-1] == "conftest.py":
            return []
        classes = {c.qualname for c in module.classes if c.name.startswith("Test")
                   or any(_is_case_base(b, self.case_names) for b in c.bases)}
        return [f for f in module.functions if f.class_name is None or f.class_name in classes]


def suite(project: Project, modules: dict[str, SuiteModule] | None = None) -> Suite:
    """The test suite, from `modules` (suite_modules) when already read."""
    modules = suite_modules(project) if modules is None else modules
    tests = {path: module for path, module in modules.items() if is_test_path(path)}
    names: set[str] = set()
    changed = True
    while changed:
        changed = False
        for module in tests.values():
            for cls in module.classes:
                if cls.name not in names and any(_is_case_base(b, frozenset(names))
                                                 for b in cls.bases):
                    names.add(cls.name)
                    changed = True
    driving, with_app = _fixtures(tests)
    return Suite(tests, frozenset(names), driving, with_app)


def _fixtures(modules: dict[str, SuiteModule]) -> tuple[frozenset[str], frozenset[str]]:
    """The fixtures of the suite that drive the app, and those that give it an app or a
    database: by their own name and calls, or through the fixtures they ask for. A name
    defined more than once counts as driving when any definition does."""
    requests: dict[str, set[str]] = {}
    driving: set[str] = set()
    with_app: set[str] = set()
    for module in modules.values():
        for fixture in module.fixtures:
            requests.setdefault(fixture.name, set()).update(fixture.asks)
            if fixture.drives:
                driving.add(fixture.name)
            if fixture.needs_app:
                with_app.add(fixture.name)
    changed = True
    while changed:
        changed = False
        for name, asked in requests.items():
            words = set().union(*(_words(p) for p in asked)) if asked else set()
            if name not in driving and (asked & driving or words & _DRIVER_WORDS):
                driving.add(name)
                changed = True
            if name not in with_app and (asked & (with_app | driving)
                                         or words & (_CONTEXT_WORDS | _DRIVER_WORDS)):
                with_app.add(name)
                changed = True
    return frozenset(driving), frozenset(with_app | driving)


@dataclass(slots=True)
class SuiteTest:
    """A test with how it reaches the code under test (not frozen: one is made for every test
    on every scan, and frozen dataclasses are slow to make)."""

    path: str
    function: SuiteFunction
    drives: bool
    """Goes through a test client, CLI runner, live server or browser."""
    needs_app: bool
    """Runs with an application, an app context or a database (fixtures, setUp or calls)."""
    calls_code: bool
    """Calls something besides assertions, test helpers and builtins."""

    @property
    def is_unit(self) -> bool:
        """Calls functions or classes directly instead of going through a client."""
        return self.calls_code and not self.drives


def _classes_needing_app(modules: dict[str, SuiteModule]) -> set[str]:
    """Test classes (by project-wide name) whose tests run with an app, a client or a
    database: from their base class (Flask-Testing), their usefixtures, their setUp, or a
    base class of the project's tests that does so."""
    needs: set[str] = set()
    bases: dict[str, tuple[str, ...]] = {}
    by_name: dict[str, list[str]] = {}
    for module in modules.values():
        for cls in module.classes:
            key = qualified_name(module.module, cls.qualname)
            bases[key] = cls.qualified_bases
            by_name.setdefault(cls.name, []).append(key)
            if cls.needs_app:
                needs.add(key)

    def resolve(base: str) -> str | None:
        if base in bases:
            return base
        named = by_name.get(base.rsplit(".", 1)[-1], [])
        return named[0] if len(named) == 1 else None

    changed = True
    while changed:
        changed = False
        for key, names in bases.items():
            if key not in needs and any(resolve(b) in needs for b in names):
                needs.add(key)
                changed = True
    return needs


def classify(tests: Suite, path: str, module: SuiteModule, classes_needing_app: set[str]
             ) -> list[SuiteTest]:
    """Each test function of the module with how it reaches the code under test. Only the
    test's own fixtures and calls make it drive the app (a client made in setUp may be used
    by some tests of the class and not others); the class's setUp gives it an app."""
    result = []
    for function in tests.tests(path, module):
        drives = function.drives or not tests.driving_fixtures.isdisjoint(function.params)
        needs_app = function.needs_app or drives or not tests.app_fixtures.isdisjoint(
            function.params) or (function.class_name is not None and qualified_name(
                module.module, function.class_name) in classes_needing_app)
        result.append(SuiteTest(path, function, drives, needs_app, function.calls_code))
    return result


def _no_tests_message(project: Project) -> str:
    return (f"no test functions found in {len(project.python_files)} Python files: looked for "
            "test_*.py, *_test.py, tests.py and files under tests/ with test* functions or "
            "TestCase classes")


@detector("unit_tests")
def unit_tests(project: Project) -> Finding:
    """Passes when tests call functions and classes directly: test functions that do not
    themselves go through a test client, CLI runner, live server or browser (no such fixture
    parameters, no `app.test_client()` / `client.get()` / `self.client.post()` calls) and
    that call something besides assertions and builtins.

    High confidence when some of them also run without an app, app context or database;
    medium when all of them need one (they may be closer to integration tests). Fails when
    there are no tests, or when every test drives the app from outside.
    """
    found = suite(project)
    with_app = _classes_needing_app(found.modules)
    tests = [t for path, m in found.modules.items() for t in classify(found, path, m, with_app)]
    if not tests:
        return not_found(project, _no_tests_message(project), in_tests=True)
    units = [t for t in tests if t.is_unit]
    if not units:
        return not_found(project,
                         f"none of the {len(tests)} test functions calls the code directly: they "
                         "all go through the test client, a CLI runner or a browser",
                         *_test_evidence(project, tests), confidence=Confidence.MEDIUM,
                         in_tests=True)
    isolated = [t for t in units if not t.needs_app]
    chosen = isolated or units
    files = list(dict.fromkeys(t.path for t in units))
    if isolated:
        return passed(f"{len(units)} unit test functions in {len(files)} test modules, "
                      f"{len(isolated)} of them without an app or database (for example "
                      f"{isolated[0].path}:{isolated[0].function.line})",
                      *_test_evidence(project, chosen))
    return passed(f"{len(units)} test functions in {len(files)} test modules call the code "
                  "directly, all within an app context or with a database (for example "
                  f"{units[0].path}:{units[0].function.line})",
                  *_test_evidence(project, chosen), confidence=Confidence.MEDIUM)


def _test_evidence(project: Project, tests: list[SuiteTest]) -> list[Evidence]:
    """One test per module first, so the evidence shows several modules."""
    first: dict[str, SuiteTest] = {}
    for test in tests:
        first.setdefault(test.path, test)
    chosen = list(first.values())[:MAX_EVIDENCE]
    return [at_line(project, t.path, t.function.line) for t in chosen]


# --- testing.integration-tests -------------------------------------------------------------------


@detector("integration_tests")
def integration_tests(project: Project) -> Finding:
    """Passes when tests exercise the application: the Flask test client (`app.test_client()`,
    werkzeug/WebTest clients, pytest-flask's `client` fixture), `app_context()` /
    `test_request_context()` / `test_cli_runner()`, or Flask-Testing / flask-unittest test
    cases (high confidence); or when tests use a database session (`db.session.add`,
    `db.create_all`, model queries; medium confidence). Fails when no test does.
    """
    found = suite(project)
    modules = found.modules
    app_sites = [at_line(project, path, line) for path, module in modules.items()
                 for line in module.app_lines]
    db_sites = [at_line(project, path, line) for path, module in modules.items()
                for line in module.db_lines]
    if not app_sites and project.dependency("pytest-flask") is not None:
        for path, module in modules.items():
            for function in found.tests(path, module):
                if "client" in function.params:
                    app_sites.append(at_line(project, path, function.line))
    if app_sites:
        return passed(f"tests use the Flask test client or an app context "
                      f"({app_sites[0].location})", *_spread(app_sites))
    if db_sites:
        return passed(f"tests use a database session ({db_sites[0].location}); no test client "
                      "use was found", *_spread(db_sites), confidence=Confidence.MEDIUM)
    if not any(found.tests(path, m) for path, m in modules.items()):
        return not_found(project, _no_tests_message(project), in_tests=True)
    return not_found(project,
                     "no test uses the Flask test client (app.test_client(), pytest-flask's client "
                     "fixture), app_context()/test_request_context(), or a database session",
                     in_tests=True)


def _spread(evidence: list[Evidence]) -> list[Evidence]:
    """Up to MAX_EVIDENCE items, one per file first."""
    first: dict[str, Evidence] = {}
    for item in evidence:
        first.setdefault(item.path, item)
    chosen = list(first.values())[:MAX_EVIDENCE]
    rest = [e for e in evidence if e not in chosen]
    return chosen + rest[:MAX_EVIDENCE - len(chosen)]


# --- testing.e2e-tests ---------------------------------------------------------------------------

E2E_LIBRARIES = (
    Library("Selenium", ("selenium",), ("selenium", "pytest-selenium")),
    Library("Playwright", ("playwright", "pytest_playwright"), ("playwright", "pytest-playwright")),
    Library("Splinter", ("splinter", "pytest_splinter"), ("splinter", "pytest-splinter")),
    Library("SeleniumBase", ("seleniumbase",), ("seleniumbase",)),
    Library("Helium", ("helium",), ("helium",)),
    Library("Pyppeteer", ("pyppeteer",), ("pyppeteer",)),
    Library("Flask-Testing live server", ("flask_testing.LiveServerTestCase",
                                          "flask_testing.utils.LiveServerTestCase"), ()),
)
_JS_E2E = ("@playwright/test", "playwright", "cypress", "puppeteer", "selenium-webdriver",
           "webdriverio", "@wdio/cli", "nightwatch", "testcafe")
_E2E_CONFIG = re.compile(r"^(cypress|playwright)\.config\.(js|ts|mjs|cjs)$|^cypress\.json$")
_BROWSER_FIXTURES = frozenset({"live_server", "page", "browser", "selenium", "driver"})


def _js_e2e(project: Project) -> list[Evidence]:
    """End-to-end tools declared in package.json files, or their config files."""
    found: list[Evidence] = []
    for path in project.files:
        name = path.rsplit("/", 1)[-1]
        if _E2E_CONFIG.match(name):
            found.append(Evidence(path))
        elif name == "package.json":
            found.extend(_package_json_tools(project, path))
    return found


def _package_json_tools(project: Project, path: str) -> list[Evidence]:
    text = project.text(path)
    if text is None:
        return []
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return []
    if not isinstance(data, dict):
        return []
    names: set[str] = set()
    for section in ("dependencies", "devDependencies"):
        table = data.get(section)
        if isinstance(table, dict):
            names.update(k for k in table if isinstance(k, str))
    lines = text.splitlines()
    found = []
    for tool in _JS_E2E:
        if tool in names:
            line = next((n for n, t in enumerate(lines, 1) if f'"{tool}"' in t), None)
            found.append(at_line(project, path, line))
    return found


@detector("e2e_tests")
def e2e_tests(project: Project) -> Finding:
    """Passes when the project has browser-level end-to-end tests: Selenium, Playwright,
    Splinter, SeleniumBase, Helium or Pyppeteer imported (high) or only declared (medium);
    Flask-Testing's LiveServerTestCase; test functions taking pytest-flask's `live_server`
    (or, with pytest-playwright/pytest-selenium declared, `page`/`browser`/`selenium`)
    fixture; Cypress, Playwright, Puppeteer, WebdriverIO, Nightwatch or TestCafe in a
    package.json or their config files. Fails otherwise; the item can be answered n/a for a
    small API or an app without a browser UI.
    """
    uses = find_libraries(project, E2E_LIBRARIES)
    imported = [u for u in uses if u.imported]
    if imported:
        return passed(f"end-to-end testing with {', '.join(u.how for u in imported)}",
                      *(u.evidence for u in imported[:MAX_EVIDENCE]))
    fixtures = _browser_fixtures(project)
    if fixtures:
        return passed(f"tests use a live server or browser fixture ({fixtures[0].location})",
                      *fixtures[:MAX_EVIDENCE])
    js = _js_e2e(project)
    if js:
        return passed(f"end-to-end tests with a JavaScript tool ({js[0].location})",
                      *js[:MAX_EVIDENCE])
    if uses:
        return passed(f"end-to-end tool declared but not imported: "
                      f"{', '.join(u.how for u in uses)}",
                      *(u.evidence for u in uses[:MAX_EVIDENCE]), confidence=Confidence.MEDIUM)
    return not_found(project,
                     f"no end-to-end tests found: looked for {labels(E2E_LIBRARIES)}, "
                     "pytest-flask's live_server fixture, and Cypress/Playwright/Puppeteer/"
                     "WebdriverIO in package.json. This item can be answered n/a for a small "
                     "API or a project without a browser UI", confidence=Confidence.MEDIUM,
                     in_tests=True)


def _browser_fixtures(project: Project) -> list[Evidence]:
    plugin = project.dependency("pytest-playwright", "pytest-selenium", "pytest-splinter")
    wanted = _BROWSER_FIXTURES if plugin is not None else frozenset({"live_server"})
    found = []
    tests = suite(project)
    for path, module in tests.modules.items():
        for function in tests.tests(path, module):
            if wanted.intersection(function.params):
                found.append(at_line(project, path, function.line))
    return found


# --- testing.fixture-data -------------------------------------------------------------------------

FIXTURE_LIBRARIES = (
    Library("Factory Boy", ("factory",), ("factory-boy", "pytest-factoryboy")),
    Library("pytest-factoryboy", ("pytest_factoryboy",), ("pytest-factoryboy",)),
    Library("Faker", ("faker",), ("faker",)),
    Library("Mimesis", ("mimesis",), ("mimesis",)),
    Library("model_bakery", ("model_bakery",), ("model-bakery",)),
    Library("Hypothesis", ("hypothesis",), ("hypothesis",)),
    Library("polyfactory", ("polyfactory",), ("polyfactory",)),
    Library("Mixer", ("mixer",), ("mixer",)),
    Library("Flask-Fixtures", ("flask_fixtures",), ("flask-fixtures",)),
)
_DATA_CALL = re.compile(r"(^|\.)(session\.(add|add_all|bulk_save_objects|bulk_insert_mappings"
                        r"|merge)|insert_many|insert_one)$")


_GENERATOR_NAME = re.compile(r"^_?(gen|generate|make|create|build|fake|random|populate|seed)_"
                             r"\w+$|^\w+_factory$")
_NOT_DATA_WORDS = frozenset({"app", "application", "client", "db", "database", "engine",
                             "session", "schema", "tables", "browser", "driver", "server",
                             "form", "forms", "handler", "view", "views", "widget"})
_TEST_DATA_WORDS = frozenset({"test", "fake", "sample", "dummy", "demo", "seed", "random",
                              "bulk", "data"})
"""Words that make a generator the first evidence (`create_test_data` before
`create_default_groups`)."""
_PERSIST_CALL = re.compile(r"(^|\.)(session\.(add|add_all|merge|bulk_save_objects"
                           r"|bulk_insert_mappings)|save|insert|insert_one|insert_many|execute"
                           r"|executemany)$|(^|\.)(create|add|insert|save)_\w+$")
_DATA_MODULES = frozenset({"populate", "seed", "seeds", "seeder", "fake", "fakes", "fixtures",
                           "factories", "sample_data", "demo_data", "testdata", "test_data"})


def _generator_functions(project: Project, modules: dict[str, SuiteModule], whole: Suite
                         ) -> list[Evidence]:
    """Helper functions that build and store test data (`gen_user`, `generate_posts`,
    `create_test_data`), in the tests or in populate/seed modules."""
    found: list[tuple[bool, Evidence]] = []
    for path, module in modules.items():
        tests = {f.qualname for f in whole.tests(path, module)}
        for qualname, line, no_test_words in module.generators:
            if qualname not in tests:
                found.append((no_test_words, at_line(project, path, line)))
    found.sort(key=lambda entry: entry[0])  # stable: test data first, then path order
    return [evidence for _, evidence in found]


def _list_insert(call: Call) -> bool:
    """`items.insert(0, x)`: a list, not a database insert."""
    return call.name.endswith(".insert") and len(call.args) == 2 and \
        call.args[0].kind is ValueKind.CONST and isinstance(call.args[0].const, int)


def _data_fixtures(project: Project, whole: Suite) -> list[Evidence]:
    """pytest fixtures in the tests that put model data into a database session."""
    return [at_line(project, path, fixture.line)
            for path, module in whole.modules.items()
            for fixture in module.fixtures if fixture.stores_data]


@detector("fixture_data")
def fixture_data(project: Project) -> Finding:
    """Passes when test data is generated: Factory Boy, pytest-factoryboy, Faker, Mimesis,
    model_bakery, Hypothesis, polyfactory, Mixer or Flask-Fixtures imported anywhere in the
    project (high) or only declared as a dependency (medium); helper functions named like
    generators (gen_*, generate_*, make_*, create_*, *_factory...) that store data, in the
    tests or in populate/seed/fixtures modules (medium); pytest fixtures that add model
    objects to a database session (medium). An import named like one of the project's
    own modules (a local `factory.py`) counts only when the library is declared. Fails when
    none is found.
    """
    uses = find_libraries(project, FIXTURE_LIBRARIES)
    imported = [u for u in uses if u.imported]
    if imported:
        return passed(f"test data generated with {', '.join(u.how for u in imported)}",
                      *(u.evidence for u in imported[:MAX_EVIDENCE]))
    if uses:
        return passed(f"test data library declared but not imported: "
                      f"{', '.join(u.how for u in uses)}",
                      *(u.evidence for u in uses[:MAX_EVIDENCE]), confidence=Confidence.MEDIUM)
    modules = suite_modules(project)
    whole = suite(project, modules)
    generators = _generator_functions(project, modules, whole)
    if generators:
        return passed(f"helper functions generate test data ({generators[0].location}); no "
                      "factory library (Factory Boy, Faker) is used", *generators[:MAX_EVIDENCE],
                      confidence=Confidence.MEDIUM)
    fixtures = _data_fixtures(project, whole)
    if fixtures:
        return passed(f"pytest fixtures create model data ({fixtures[0].location}); no factory "
                      "library (Factory Boy, Faker) is used", *fixtures[:MAX_EVIDENCE],
                      confidence=Confidence.MEDIUM)
    return not_found(project,
                     f"no generated test data: looked for {labels(FIXTURE_LIBRARIES)} in imports "
                     "and dependencies, data generator functions (gen_*, make_*, *_factory) in the "
                     "tests or populate/seed modules, and pytest fixtures that add model data",
                     in_tests=True)


# --- testing.ci ----------------------------------------------------------------------------------

_CI_FILES = (
    (re.compile(r"^\.github/workflows/[^/]+\.ya?ml$"), "GitHub Actions"),
    (re.compile(r"^\.gitlab-ci\.ya?ml$|^\.gitlab/ci/[^/]+\.ya?ml$"), "GitLab CI"),
    (re.compile(r"^\.travis\.ya?ml$"), "Travis CI"),
    (re.compile(r"^\.circleci/config\.ya?ml$|^circle\.ya?ml$"), "CircleCI"),
    (re.compile(r"^\.?azure-pipelines\.ya?ml$|^\.azure-pipelines/[^/]+\.ya?ml$"),
     "Azure Pipelines"),
    (re.compile(r"^Jenkinsfile$|^[^/]*\.jenkinsfile$"), "Jenkins"),
    (re.compile(r"^bitbucket-pipelines\.ya?ml$"), "Bitbucket Pipelines"),
    (re.compile(r"^\.drone\.ya?ml$"), "Drone"),
    (re.compile(r"^\.woodpecker\.ya?ml$|^\.woodpecker/[^/]+\.ya?ml$"), "Woodpecker"),
    (re.compile(r"^\.?appveyor\.ya?ml$"), "AppVeyor"),
    (re.compile(r"^\.buildkite/[^/]*pipeline[^/]*\.ya?ml$"), "Buildkite"),
    (re.compile(r"^\.semaphore/[^/]+\.ya?ml$"), "Semaphore"),
    (re.compile(r"^cloudbuild\.ya?ml$"), "Cloud Build"),
)
_TEST_COMMAND = re.compile(
    r"(?<![\w.-])(pytest|py\.test|nosetests|nose2|tox|nox|behave)(?![\w.:-])"
    r"|\s--junitxml\b|\s--cov(=|\s)"
    r"|-m\s+(unittest|pytest)\b|\bunittest\s+discover\b|\bcoverage\s+run\b"
    r"|\bmake\s+(-\S+\s+)*(test|tests|unittest|unit-tests?|test-\w+|check-tests?|coverage)\b"
    r"|\bflask\s+test\b|\bmanage\.py\s+test\b|\b(hatch|pdm|poetry|uv|pipenv|just|invoke)"
    r"\s+(run\s+)?(test|tests)\b|\bhatch\s+test\b|(^|[\s/])run[_-]?tests?(\.sh|\.py)?(?![\w.-])"
    r"|\S/tests?\.sh\b")
_INSTALL = re.compile(r"^\s*(sudo\s+)?(\S*/)?(pip3?|uv\s+pip|uv\s+add|uv\s+tool\s+install|pipx\s+"
                      r"install|poetry\s+add|conda\s+install|apt(-get)?|brew|npm\s+(i|install)|"
                      r"yarn\s+add|python3?\s+-m\s+pip)\b(\s+install\b)?")
_NOT_COMMAND_KEY = re.compile(
    r"^\s*(-\s+)?(name|needs|if|description|id|paths|paths-ignore|branches|branches-ignore|tags"
    r"|key|restore-keys|path|cache-dependency-path|working-directory|environment|group|label"
    r"|labels|title|stage|stages|extends|image|services|when|only|except|rules|changes)\s*:")
_ONLY_KEY = re.compile(r"^\s*(-\s+)?[\w.-]+\s*:\s*$")
_SEGMENTS = re.compile(r"&&|\|\||;")
_LIST_ITEM = re.compile(r"^-\s+")
_KEY = re.compile(r"^[\w.-]+\s*:\s*[|>]?[-+]?\s*")
_COMMENT = re.compile(r"\s#.*$")


class CiFile(NamedTuple):
    path: str
    service: str


def ci_files(project: Project) -> list[CiFile]:
    found = []
    for path in project.files:
        if "/" in path and not path.startswith("."):
            continue  # CI files are at the top or under a dot folder (.github/workflows)
        for pattern, service in _CI_FILES:
            if pattern.match(path):
                found.append(CiFile(path, service))
                break
    return found


def ci_test_lines(text: str) -> Iterator[int]:
    """Line numbers of a CI file that run a test command (comments, step names and install
    commands are skipped)."""
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith(("#", "//")):
            continue
        if _NOT_COMMAND_KEY.match(raw) or _ONLY_KEY.match(raw):
            continue
        line = _COMMENT.sub("", _LIST_ITEM.sub("", line))
        for segment in _SEGMENTS.split(line):
            command = _KEY.sub("", segment.strip()).strip().strip("'\"")
            if command.startswith("sh ") or command.startswith("bat "):
                command = command[3:].strip().strip("'\"")
            if _INSTALL.match(command):
                continue
            if _TEST_COMMAND.search(command):
                yield number
                break


def _first_test_line(project: Project, path: str) -> int | None:
    text = project.text(path)
    if text is None:
        return None
    return next(ci_test_lines(text), None)


@detector("ci_runs_tests")
def ci_runs_tests(project: Project) -> Finding:
    """Passes when a CI configuration runs a test command (pytest, tox, nox, python -m
    unittest, coverage run, make test, flask test, a run_tests script...). CI files: GitHub
    Actions workflows, .gitlab-ci.yml, .travis.yml, .circleci/config.yml (circle.yml, CircleCI's
    first format), azure-pipelines.yml, Jenkinsfile, bitbucket-pipelines.yml, Drone,
    Woodpecker, AppVeyor, Buildkite, Semaphore,
    Cloud Build. Files are read as text, line by line: comments, step names and install lines
    (`pip install pytest`) do not count. Fails (medium) when CI files exist but none runs
    tests, and fails when there is no CI file.
    """
    files = ci_files(project)
    if not files:
        return failed("no CI configuration found: looked for .github/workflows/*.yml, "
                      ".gitlab-ci.yml, .travis.yml, .circleci/config.yml, azure-pipelines.yml, "
                      "Jenkinsfile, bitbucket-pipelines.yml, .drone.yml and others")
    running: list[Evidence] = []
    for ci in files:
        line = _first_test_line(project, ci.path)
        if line is not None:
            running.append(at_line(project, ci.path, line))
    if running:
        services = ", ".join(dict.fromkeys(c.service for c in files
                                           if any(e.path == c.path for e in running)))
        return passed(f"{services} runs the tests ({running[0].location})",
                      *running[:MAX_EVIDENCE])
    return failed(f"{len(files)} CI file(s) ({_paths(files)}) run no test command (looked for "
                  "pytest, tox, nox, python -m unittest, coverage run, make test...)",
                  *(Evidence(c.path) for c in files[:MAX_EVIDENCE]),
                  confidence=Confidence.MEDIUM)


def _paths(files: Iterable[CiFile]) -> str:
    return ", ".join(c.path for c in files)
