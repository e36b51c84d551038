"""Detectors: code organization and project structure.

This module also holds the facts about a project's layout that the testing, performance and
advanced detectors share: which files are tests, which libraries the code imports (a library's
module name shadowed by one of the project's own modules does not count), where Flask
applications and blueprints are created, and which functions are application factories.

Everything is read from module facts (see project.module_facts): small values computed from
each module's index and syntax tree while indexing, then combined here. A fact cannot know the
project's own classes (a subclass of Flask defined in another module), so calls to those are
read again from the few modules importing one (`with_own_names`).
"""

from __future__ import annotations

import ast
import hashlib
import re
from collections.abc import Callable, Iterable
from functools import partial
from typing import NamedTuple, TypeVar

from checklist_app.detectors.evidence import at_line
from checklist_app.detectors.registry import detector, module_fact
from checklist_app.findings import Confidence, Evidence, Finding, failed, passed, unknown
from checklist_app.project import Dependency, ModuleFact, ModuleIndex, ParsedModule, Project
from checklist_app.project.module_facts import IMPORTS
from checklist_app.project.pyindex import (
    INDEX_FORMAT,
    Call,
    Resolver,
    Value,
    ValueKind,
    parse_module,
)
from checklist_app.project.sql_flow import NODE_FIELDS

_Fact = TypeVar("_Fact")
MAX_EVIDENCE = 5

# --- project layout: tests and the project's own module names ----------------------------------

TEST_DIRS = frozenset({"test", "tests"})


def in_test_dir(path: str) -> bool:
    """Whether the file lies in a `test/` or `tests/` folder."""
    folders = path.rpartition("/")[0]
    return "test" in folders and not TEST_DIRS.isdisjoint(folders.split("/"))


def is_test_path(path: str) -> bool:
    """Whether a file belongs to the test suite: `test_*.py`, `*_test.py`, `tests.py`,
    `conftest.py`, or anything in a `test/` or `tests/` folder."""
    name = path.rpartition("/")[2]
    if name in ("conftest.py", "tests.py"):
        return True
    if name.endswith(".py") and (name.startswith("test_") or name.endswith("_test.py")):
        return True
    return in_test_dir(path)


def not_found(project: Project, message: str, *evidence: Evidence,
              confidence: Confidence = Confidence.HIGH, in_tests: bool = False) -> Finding:
    """A practice looked for and not found: `fail`. When some modules (of the application, or
    of the tests with `in_tests`) could not be parsed, the practice may hide in them: the
    message says so and the confidence drops to low."""
    broken = [path for path, facts in project.parsed().items()
              if facts.syntax_error is not None and is_test_path(path) == in_tests]
    if broken:
        kind = "test module(s)" if in_tests else "module(s)"
        message += f" ({len(broken)} {kind} could not be parsed and were not checked, " \
                   f"e.g. {broken[0]})"
        confidence = Confidence.LOW
    return failed(message, *evidence, confidence=confidence)


def none_found(project: Project, message: str, *evidence: Evidence,
               confidence: Confidence = Confidence.HIGH) -> Finding:
    """No violation found: `pass`. The application's modules that could not be parsed were not
    checked, and a violation may hide in them: when some could not, the message says so and
    the confidence drops to low; when half of them or more could not (Python 2 code, say),
    the answer is unknown."""
    modules = [(path, facts.syntax_error is not None) for path, facts in project.parsed().items()
               if not is_test_path(path)]
    broken = [path for path, failed_to_parse in modules if failed_to_parse]
    if not broken:
        return passed(message, *evidence, confidence=confidence)
    note = f"{len(broken)} of {len(modules)} application module(s) could not be parsed and " \
           f"were not checked, e.g. {broken[0]}"
    if 2 * len(broken) >= len(modules):
        return unknown(f"{note}; in the others: {message}", *evidence)
    return passed(f"{message} ({note})", *evidence, confidence=Confidence.LOW)


# --- facts kept across scans: keyed by content -------------------------------------------------

FACTS_VERSION = f"2.{INDEX_FORMAT}"
"""Part of the kind of every fact these detectors remember: change it when a remembered
computation changes (the index format is in it, as facts are computed from indexes)."""


def own_module_names(project: Project) -> frozenset[str]:
    """Every name a project file or folder could be imported as (`app/factory.py` gives `app`
    and `factory`), to tell the project's own modules from libraries of the same name."""
    names: set[str] = set()
    for path in project.python_files:
        names.update(part for part in path[:-3].split("/") if part and part != ".")
    return frozenset(names)


# --- libraries -----------------------------------------------------------------------------------


class Library(NamedTuple):
    """A third-party library recognised by its import names and its distribution names."""

    label: str
    modules: tuple[str, ...]
    """Import names; a module counts when it imports one of them or something inside it."""
    packages: tuple[str, ...] = ()
    """Normalised distribution names (PEP 503) as declared in dependency files."""


class LibraryUse(NamedTuple):
    library: Library
    evidence: Evidence
    imported: bool
    """True when code imports it; False when it is only declared as a dependency."""

    @property
    def how(self) -> str:
        verb = "imported" if self.imported else "declared"
        return f"{self.library.label} ({verb} at {self.evidence.location})"


def _imports_library(qualified: str, library: Library) -> str | None:
    for name in library.modules:
        if qualified == name or qualified.startswith(name + "."):
            return name
    return None


def _imported_tops(source: ParsedModule) -> frozenset[str]:
    return module_names(source).import_tops


IMPORTED_TOPS = module_fact(f"organization.imported-tops.1.{FACTS_VERSION}", _imported_tops)
"""Per module: the top-level names of the modules it imports (`flask` for
`from flask.views import View`), to skip quickly the modules importing none of a library."""


def importing_modules(project: Project, names: frozenset[str]) -> list[str]:
    """The parsed modules (paths, in order; tests included) that import one of `names`
    (qualified names of the project's own classes or functions) or a module holding one: the
    modules that can call one by that name from outside the module defining it. A module
    reaching one only through `import pkg.other` is not counted; a name without a dot
    (defined in the top-level `__init__.py`) may be reached from any module (star imports).

    Facts about the project's own classes cannot be computed while indexing: detectors index
    these modules again, which is slow, so only for rare names (subclasses of Flask...)."""
    anywhere = any("." not in name for name in names)
    prefixes = {name.rsplit(".", cut)[0] for name in names for cut in range(name.count(".") + 1)}
    parsed = project.parsed()
    return [path for path, imports in project.module_fact(IMPORTS).items()
            if parsed[path].syntax_error is None and (
                anywhere or not prefixes.isdisjoint(qualified for qualified, _ in imports))]


def with_own_names(project: Project, fact: ModuleFact[_Fact], names: frozenset[str],
                   compute: Callable[[ParsedModule], _Fact]
                   ) -> dict[str, _Fact]:
    """The values of `fact` by path, except for the modules importing one of `names` (see
    importing_modules), the project's own classes or functions that a fact computed while
    indexing cannot know: for those, `compute` (the fact's computation knowing `names`) on
    the module indexed again, remembered by the module's content and `names`."""
    values = project.module_fact(fact)
    if not names:
        return values
    values = dict(values)
    digest = hashlib.sha1(repr(sorted(names)).encode(), usedforsecurity=False).hexdigest()
    for path in importing_modules(project, names):
        values[path] = project.remembered(f"{fact.kind}+{digest}", project.content_key(path),
                                          partial(_compute_again, project, path, compute))
    return values


def _compute_again(project: Project, path: str,
                   compute: Callable[[ParsedModule], _Fact]) -> _Fact:
    return compute(ParsedModule(*parse_module(path, project.text(path) or "")))


def find_libraries(
    project: Project, libraries: Iterable[Library], *, include_tests: bool = True
) -> list[LibraryUse]:
    """The libraries the project uses: first those its code imports (first import of each), then
    those only declared as dependencies.

    An import whose top-level name is also one of the project's own modules (a local
    `factory.py`) counts only when the library is declared as a dependency too.
    """
    wanted = list(libraries)
    own: frozenset[str] | None = None
    declared = [_declared(project, lib) for lib in wanted]
    by_top: dict[str, list[int]] = {}
    for position, lib in enumerate(wanted):
        for name in lib.modules:
            by_top.setdefault(name.split(".")[0], []).append(position)
    found: dict[int, LibraryUse] = {}
    importers = project.once("organization.importers_by_top", partial(_importers_by_top, project))
    imports_of = project.module_fact(IMPORTS)
    for path in sorted({path for top in by_top for path in importers.get(top, ())}):
        if len(found) == len(wanted):
            break
        if not include_tests and is_test_path(path):
            continue
        for qualified, line in imports_of[path]:
            for position in by_top.get(qualified.split(".", 1)[0], ()):
                lib = wanted[position]
                if position in found:
                    continue
                matched = _imports_library(qualified, lib)
                if matched is None:
                    continue
                if declared[position] is None:
                    own = own_module_names(project) if own is None else own
                    if matched.split(".")[0] in own:
                        continue
                found[position] = LibraryUse(lib, at_line(project, path, line), True)
    result = [found[position] for position in sorted(found)]
    for position, lib in enumerate(wanted):
        dependency = declared[position]
        if position not in found and dependency is not None:
            result.append(LibraryUse(lib, at_line(project, dependency.path, dependency.line),
                                     False))
    return result


def _importers_by_top(project: Project) -> dict[str, list[str]]:
    """The modules importing something of each top-level name (`flask`), in path order."""
    importers: dict[str, list[str]] = {}
    for path, tops in project.module_fact(IMPORTED_TOPS).items():
        for top in tops:
            importers.setdefault(top, []).append(path)
    return importers


def _declared(project: Project, library: Library) -> Dependency | None:
    return project.dependency(*library.packages) if library.packages else None


def labels(libraries: Iterable[Library]) -> str:
    return ", ".join(lib.label for lib in libraries)


# --- names in a module ----------------------------------------------------------------------------


def local_names(module: ModuleIndex) -> frozenset[str]:
    """Names bound at the top level of a module: functions, classes, assignments."""
    names = {f.name for f in module.functions if f.qualname == f.name}
    names.update(c.name for c in module.classes if c.qualname == c.name)
    names.update(a.target for a in module.assignments
                 if a.function is None and a.class_name is None and "." not in a.target
                 and "[" not in a.target)
    return frozenset(names)


def modules_with(project: Project, fact: ModuleFact[_Fact | None]) -> list[tuple[str, _Fact]]:
    """(path, value) of each module whose value of `fact` is not None, in path order (facts
    say None for a module with nothing of interest)."""
    return [(path, value) for path, value in project.module_fact(fact).items()
            if value is not None]


def qualified_name(module: str, qualname: str) -> str:
    """The project-wide name of a class or function `qualname` defined in the module named
    `module` (empty for a file that is not in a package)."""
    return f"{module}.{qualname}" if module else qualname


def qualify(module: ModuleIndex, name: str, local: frozenset[str]) -> str:
    """The project-wide name of `name` as written in `module`: names defined in the module get
    the module's dotted name in front; imported names are already resolved by the index."""
    head = name.split(".", 1)[0]
    if head in local and module.module:
        return f"{module.module}.{name}"
    return name


class ModuleNames:
    """The names one module's index holds, as sets, gathered once for all the facts of the
    module (see `module_names`). Most facts look for a few names (a library's class, a method)
    that most modules never use: they test these sets first, and read the index itself only
    when it holds a name they look for.

    `test`: the module belongs to the test suite (`is_test_path`). `calls`: the names the
    module calls (`Call.name`; decorators are not calls). `call_ends`: the last part of each
    of them (`init_app` for `csrf.init_app`). `decorator_ends`: the last part of each
    decorator's name (`route` for `app.route`). The others are made when first asked for.
    """

    __slots__ = ("index", "test", "calls", "call_ends", "decorator_ends", "_local",
                 "_call_text", "_keywords", "_import_tops")

    def __init__(self, index: ModuleIndex) -> None:
        self.index = index
        self.test = is_test_path(index.path)
        self.calls = frozenset([call.name for call in index.calls])
        self.call_ends = frozenset([name.rpartition(".")[2] for name in self.calls])
        self.decorator_ends = frozenset([d.name.rpartition(".")[2] for d in index.decorators])
        self._local: frozenset[str] | None = None
        self._call_text: str | None = None
        self._keywords: frozenset[str] | None = None
        self._import_tops: frozenset[str] | None = None

    @property
    def local(self) -> frozenset[str]:
        """Names bound at the top level of the module (`local_names`)."""
        if self._local is None:
            self._local = local_names(self.index)
        return self._local

    @property
    def call_text(self) -> str:
        """The names called, one a line, to search with a pattern."""
        if self._call_text is None:
            self._call_text = "\n".join(self.calls)
        return self._call_text

    @property
    def import_tops(self) -> frozenset[str]:
        """The top-level names of the modules the module imports (`flask` for
        `from flask.views import View`): a module that imports something inside `a.b` (see
        `ModuleIndex.imports_module`) has `a` among them."""
        if self._import_tops is None:
            self._import_tops = frozenset([i.module.partition(".")[0] for i in self.index.imports])
        return self._import_tops

    @property
    def keywords(self) -> frozenset[str]:
        """The names of the keyword arguments of the calls (`**kwargs` is `**`)."""
        if self._keywords is None:
            self._keywords = frozenset([key for call in self.index.calls
                                        for key, _value in call.keywords])
        return self._keywords


def module_names(module: ParsedModule) -> ModuleNames:
    """The ModuleNames of a module, gathered once for all of its facts."""
    return module.view(_names_of)


def application_names(module: ParsedModule) -> ModuleNames | None:
    """The ModuleNames of an application module; None for a module that does not parse and for
    a test module, which most facts leave out."""
    if module.tree is None:
        return None
    names = module_names(module)
    return None if names.test else names


def _names_of(module: ParsedModule) -> ModuleNames:
    return ModuleNames(module.index)


# --- Flask applications, blueprints and factories ------------------------------------------------

APP_CLASSES = frozenset({
    "flask.Flask", "flask.app.Flask", "flask.sansio.app.App", "quart.Quart", "quart.app.Quart",
    "apiflask.APIFlask", "apiflask.app.APIFlask", "flask_openapi3.OpenAPI",
    "connexion.App", "connexion.FlaskApp", "connexion.apps.flask_app.FlaskApp",
})
"""Classes whose instances are Flask (or Flask-like) applications."""

BLUEPRINT_CLASSES = frozenset({
    "flask.Blueprint", "flask.blueprints.Blueprint", "quart.Blueprint",
    "quart.blueprints.Blueprint", "apiflask.APIBlueprint", "apiflask.blueprint.APIBlueprint",
    "flask_smorest.Blueprint", "flask_openapi3.APIBlueprint",
})

ROUTE_METHODS = ("route", "get", "post", "put", "patch", "delete")

_STAR_FALLBACK = {"Flask": "flask.Flask", "Blueprint": "flask.Blueprint"}
"""`from flask import *` is not recorded as an import; a bare `Flask` not defined locally is
taken to come from it."""


def _class_bases(source: ParsedModule) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The module's classes that have bases: (qualified name, resolved base names)."""
    index = source.index
    if not any(cls.bases for cls in index.classes):
        return ()
    local = module_names(source).local
    return tuple((qualified_name(index.module, cls.qualname),
                  tuple(_resolve_class(index, base, local) for base in cls.bases))
                 for cls in index.classes if cls.bases)


CLASS_BASES = module_fact(f"organization.class-bases.1.{FACTS_VERSION}", _class_bases)
"""Per module: each class with bases, by qualified name, with its resolved bases (test modules
included)."""


def derived_classes(index: ModuleIndex) -> frozenset[str]:
    """The qualified names of the module's classes that have bases: any of them may be one of
    the project's own subclasses of a library class."""
    return frozenset(qualified_name(index.module, c.qualname)
                     for c in index.classes if c.bases)


def _derived_classes(project: Project) -> dict[str, list[str]]:
    """Base name -> the project classes naming it as a base."""
    derived: dict[str, list[str]] = {}
    for classes in project.module_fact(CLASS_BASES).values():
        for name, bases in classes:
            for base in bases:
                derived.setdefault(base, []).append(name)
    return derived


def subclasses_of(project: Project, roots: frozenset[str]) -> frozenset[str]:
    """`roots` and every project class deriving from one of them, however indirectly."""
    derived = project.once("organization.derived_classes", partial(_derived_classes, project))
    known = set(roots)
    todo = list(roots)
    while todo:
        for name in derived.get(todo.pop(), ()):
            if name not in known:
                known.add(name)
                todo.append(name)
    return frozenset(known)


def _resolve_class(module: ModuleIndex, name: str, local: frozenset[str]) -> str:
    if name in _STAR_FALLBACK and name not in local:
        return _STAR_FALLBACK[name]
    return qualify(module, name, local)


class Site(NamedTuple):
    """A place in a module: a call, a definition or a binding."""

    path: str
    line: int
    name: str
    function: str | None = None


class FlaskLayout(NamedTuple):
    """Where the project (outside its tests) creates apps and blueprints and routes on apps."""

    app_classes: frozenset[str]
    blueprint_classes: frozenset[str]
    app_creations: tuple[Site, ...]
    """Calls that create an application; `function` is the enclosing function or None."""
    factories: tuple[Site, ...]
    """Functions that return a new application (`name` is their qualified name)."""
    app_objects: frozenset[str]
    """Qualified names (`pkg.module.app`) of module-level variables holding an application."""
    blueprint_creations: tuple[Site, ...]
    blueprint_objects: frozenset[str]
    registrations: tuple[Site, ...]
    """Calls to `register_blueprint`."""
    app_routes: tuple[Site, ...]
    """Routes registered directly on an application object (decorators and add_url_rule)."""

    @property
    def module_level_apps(self) -> tuple[Site, ...]:
        return tuple(s for s in self.app_creations if s.function is None)


def flask_layout(project: Project) -> FlaskLayout:
    """Read the project's Flask structure (test files are left out); computed once for the
    content of the project's modules."""
    return project.remembered(f"organization.flask-layout.2.{FACTS_VERSION}",
                              project.python_digest(), lambda: _read_flask_layout(project))


class ModuleLayout(NamedTuple):
    """What one application module (not a test) holds of the Flask layout, read while indexing,
    when the project's own app classes and factories are not known yet."""

    module: str
    """The module's dotted name."""
    calls: tuple[tuple[str, str, int, str | None], ...]
    """The calls that may create an app or a blueprint or register a blueprint, in index
    order: (resolved name, name as written, line, enclosing function). Those are calls to
    the library app and blueprint classes (Flask, Blueprint...), to classes with bases
    defined in the module (it may be the project's own subclass of one), and to
    register_blueprint."""
    bindings: tuple[tuple[str, str, str | None], ...]
    """Variables assigned the result of a call: (resolved callee, variable, qualified name of
    a module-level variable or None). Every module-level one; elsewhere only the variables
    the module registers routes on."""
    returns: tuple[tuple[str, int, tuple[str, ...]], ...]
    """Functions returning the result of a call, directly or through a variable (or its
    `.app`, for connexion): (qualified name in the module, line, resolved callees)."""
    routes: tuple[tuple[str, str, int, str, str | None], ...]
    """Route decorators then add_url_rule calls: (owner as written, qualified owner, line,
    decorator or call name, enclosing function of a call)."""


class ClassNames(NamedTuple):
    """Qualified class names, with the last part of each: a module that calls no name ending
    so calls none of them."""

    names: frozenset[str]
    ends: frozenset[str]

    @classmethod
    def of(cls, names: frozenset[str]) -> ClassNames:
        return cls(names, frozenset(name.rpartition(".")[2] for name in names))


def _module_layout(classes: ClassNames, source: ParsedModule) -> ModuleLayout | None:
    """The layout facts of an application module, with the calls to `classes` (app and
    blueprint classes) and to the module's classes with bases; None for a test module, a
    module that does not parse, and a module holding none."""
    index, tree = source.index, source.tree
    names = application_names(source)
    if names is None or tree is None:
        return None
    calls = _layout_calls(names, classes)
    routes = _route_sites(names)
    bindings = _call_bindings(index, names.local, frozenset(owner for owner, *_ in routes))
    returns = _function_returns(index, tree, names.local)
    if not (calls or bindings or returns or routes):
        return None
    return ModuleLayout(index.module, calls, bindings, returns, routes)


def _layout_calls(names: ModuleNames, classes: ClassNames
                  ) -> tuple[tuple[str, str, int, str | None], ...]:
    """The calls to one of `classes`, to one of the module's classes with bases, or to
    register_blueprint, in index order."""
    index = names.index
    ends = {c.name for c in index.classes if c.bases}  # the last part of derived_classes()
    ends.add("register_blueprint")
    if names.call_ends.isdisjoint(classes.ends) and names.call_ends.isdisjoint(ends):
        return ()  # most modules stop here
    ends.update(classes.ends)
    derived = derived_classes(index)
    found: list[tuple[str, str, int, str | None]] = []
    for call in index.calls:
        name = call.name
        if name.rpartition(".")[2] not in ends:
            continue
        resolved = _resolve_class(index, name, names.local)
        if resolved in classes.names or resolved in derived or _registers(name):
            found.append((resolved, name, call.line, call.function))
    return tuple(found)


def _registers(name: str) -> bool:
    return name == "register_blueprint" or name.endswith(".register_blueprint")


def _call_bindings(index: ModuleIndex, local: frozenset[str], owners: frozenset[str]
                   ) -> tuple[tuple[str, str, str | None], ...]:
    """Assignments of a call's result: at module level, or to one of the route `owners`."""
    found: list[tuple[str, str, str | None]] = []
    for assignment in index.assignments:
        value = assignment.value
        if value.kind is not ValueKind.CALL or not value.name:
            continue
        module_level = assignment.function is None and assignment.class_name is None
        if not module_level and assignment.target not in owners:
            continue
        qualified = qualify(index, assignment.target, local) if module_level else None
        found.append((_resolve_class(index, value.name, local), assignment.target, qualified))
    return tuple(found)


def route_object(decorator_name: str) -> str | None:
    """`app` for `app.route` / `app.get` ..., None when the name is not a route decorator."""
    owner, _, method = decorator_name.rpartition(".")
    return owner if owner and method in ROUTE_METHODS else None


def _route_sites(names: ModuleNames) -> tuple[tuple[str, str, int, str, str | None], ...]:
    """Route decorators, then add_url_rule calls, on any object."""
    index, local = names.index, names.local
    found: list[tuple[str, str, int, str, str | None]] = []
    if not names.decorator_ends.isdisjoint(ROUTE_METHODS):
        for decorator in index.decorators:
            owner = route_object(decorator.name)
            if owner is not None:
                found.append((owner, qualify(index, owner, local), decorator.line,
                              decorator.name, None))
    if "add_url_rule" in names.call_ends:
        for call in index.calls:
            owner, _, method = call.name.rpartition(".")
            if method == "add_url_rule" and owner:
                found.append((owner, qualify(index, owner, local), call.line, call.name,
                              call.function))
    return tuple(found)


def _read_flask_layout(project: Project) -> FlaskLayout:
    app_classes = subclasses_of(project, APP_CLASSES)
    blueprint_classes = subclasses_of(project, BLUEPRINT_CLASSES)
    own = (app_classes - APP_CLASSES) | (blueprint_classes - BLUEPRINT_CLASSES)
    layouts = {path: layout for path, layout in with_own_names(
        project, _LAYOUT, own,
        partial(_module_layout, ClassNames.of(app_classes | blueprint_classes))).items()
        if layout is not None}
    creations: list[Site] = []
    blueprints: list[Site] = []
    registrations: list[Site] = []
    for path, layout in layouts.items():
        for name, written, line, function in layout.calls:
            if name in app_classes:
                creations.append(Site(path, line, name, function))
            elif name in blueprint_classes:
                blueprints.append(Site(path, line, name, function))
            elif _registers(written):
                registrations.append(Site(path, line, written, function))
    factories = _factories(layouts, app_classes)
    app_objects, app_locals = _bindings(layouts, app_classes | {f.name for f in factories})
    blueprint_objects, _ = _bindings(layouts, blueprint_classes)
    routes = _app_routes(layouts, app_objects, app_locals)
    return FlaskLayout(app_classes, blueprint_classes, tuple(creations), tuple(factories),
                       app_objects, tuple(blueprints), blueprint_objects, tuple(registrations),
                       tuple(routes))


def _bindings(
    layouts: dict[str, ModuleLayout], makers: frozenset[str]
) -> tuple[frozenset[str], frozenset[tuple[str, str]]]:
    """Variables assigned the result of calling one of `makers`: qualified module-level names,
    and (path, local name) pairs for any scope (an `app` inside a factory)."""
    qualified: set[str] = set()
    scoped: set[tuple[str, str]] = set()
    for path, layout in layouts.items():
        for callee, target, module_level in layout.bindings:
            if callee not in makers:
                continue
            scoped.add((path, target))
            if module_level is not None:
                qualified.add(module_level)
    return frozenset(qualified), frozenset(scoped)


def _app_routes(
    layouts: dict[str, ModuleLayout], app_objects: frozenset[str],
    app_locals: frozenset[tuple[str, str]],
) -> list[Site]:
    routes = [Site(path, line, name, function)
              for path, layout in layouts.items()
              for owner, qualified, line, name, function in layout.routes
              if (path, owner) in app_locals or qualified in app_objects]
    return sorted(routes, key=lambda s: (s.path, s.line))


# --- application factories: what functions return -----------------------------------------------


def _function_nodes(
    body: list[ast.stmt], parents: frozenset[str], prefix: str = "",
    found: list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]] | None = None,
) -> list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    """Every function with its qualified name, as the index names them, outer ones first.
    `parents` are the qualified names of the functions and classes holding a function or a
    class (see `_parents`): the body of any other holds none, and is not read."""
    found = [] if found is None else found
    for node in body:
        if isinstance(node, FUNCTION_DEFS):
            qualname = prefix + node.name
            found.append((qualname, node))
            if qualname in parents:
                _function_nodes(node.body, parents, qualname + ".", found)
        elif isinstance(node, ast.ClassDef):
            qualname = prefix + node.name
            if qualname in parents:
                _function_nodes(node.body, parents, qualname + ".", found)
        elif type(node) in _FUNCTION_HOLDERS:
            for block in _BLOCKS[type(node)]:
                _function_nodes(getattr(node, block), parents, prefix, found)
            for handler in getattr(node, "handlers", ()):
                _function_nodes(handler.body, parents, prefix, found)
    return found


def _parents(index: ModuleIndex) -> frozenset[str]:
    """The qualified names of the functions and classes that hold a function or a class (the
    index finds every function and class `_function_nodes` finds, and more)."""
    found: set[str] = set()
    for qualname in [*(f.qualname for f in index.functions), *(c.qualname for c in index.classes)]:
        parent = qualname.rpartition(".")[0]
        while parent and parent not in found:
            found.add(parent)
            parent = parent.rpartition(".")[0]
    return frozenset(found)


_FUNCTION_HOLDERS = frozenset({ast.If, ast.Try, ast.With, ast.For, ast.While})
"""Statements `_function_nodes` looks into for functions (besides functions and classes)."""
FUNCTION_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef)
DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_HOLDING = (ast.Assign, ast.AnnAssign, ast.NamedExpr)
"""Nodes that may bind a variable to a call's result (see `_holders`)."""
_NESTED_KINDS = frozenset({*DEFINITIONS, ast.Lambda})
def _own_returns(function: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.Return]:
    """The return statements of a function's body, not descending into nested functions or
    classes (but into the body of one written directly in the function's body)."""
    found: list[ast.Return] = []
    for node in function.body:
        _block_returns(node.body if isinstance(node, DEFINITIONS) else [node], found)
    return found


def _block_returns(body: list[ast.stmt], found: list[ast.Return]) -> None:
    """Add the return statements of a block to `found`, not descending into functions or
    classes."""
    for node in body:
        if isinstance(node, ast.Return):
            found.append(node)
            continue
        blocks = _BLOCKS.get(type(node))
        if blocks is not None:
            for block in blocks:
                _block_returns(getattr(node, block), found)
            for part in (*getattr(node, "handlers", ()), *getattr(node, "cases", ())):
                _block_returns(part.body, found)


_BLOCKS: dict[type, tuple[str, ...]] = {
    kind: tuple(f for f in ("body", "orelse", "finalbody") if f in kind._fields)
    for kind in (ast.If, ast.For, ast.AsyncFor, ast.While, ast.With, ast.AsyncWith, ast.Try,
                 ast.TryStar, ast.Match)}
"""Statements holding blocks of statements (other than definitions) -> the fields holding
them, besides exception handlers and match cases."""




def _function_returns(index: ModuleIndex, tree: ast.Module, local: frozenset[str]
                      ) -> tuple[tuple[str, int, tuple[str, ...]], ...]:
    """Each function returning a call's result, with the resolved callees it may return."""
    calling = _calling_functions(index)
    if not calling:
        return ()
    resolver: Resolver | None = None
    found: list[tuple[str, int, tuple[str, ...]]] = []
    for qualname, node in _function_nodes(tree.body, _parents(index)):
        if qualname not in calling:
            continue  # no call in it: it returns no call's result
        resolver = Resolver(list(index.imports)) if resolver is None else resolver
        callees = _returned_callees(node, resolver)
        if callees:
            found.append((qualname, node.lineno,
                          tuple(_resolve_class(index, name, local) for name in callees)))
    return tuple(found)


def _calling_functions(index: ModuleIndex) -> set[str]:
    """The qualified names of the functions holding a call, in their own body or in a function
    or class nested in them (the index names the innermost function around each call)."""
    found: set[str] = set()
    for function in {call.function for call in index.calls}:
        while function and function not in found:
            found.add(function)
            function = function.rpartition(".")[0]
    return found


def _returned_callees(function: ast.FunctionDef | ast.AsyncFunctionDef, resolver: Resolver
                      ) -> tuple[str, ...]:
    """The callees whose result the function returns: `return make(...)`, or a variable (or
    its `.app`) that the function assigned from `make(...)`. The function returns a new app
    when one of them makes apps."""
    callees: list[str] = []
    holders: dict[str, list[str]] | None = None
    for node in _own_returns(function):
        value = node.value
        if value is None:
            continue
        if isinstance(value, ast.Call):
            callee = resolver.name(value.func)
            if callee:
                callees.append(callee)
            continue
        if isinstance(value, ast.Attribute) and value.attr == "app":
            value = value.value
        if isinstance(value, ast.Name):
            holders = _holders(function, resolver) if holders is None else holders
            callees.extend(holders.get(value.id, ()))
    return tuple(dict.fromkeys(callees))


def _holders(function: ast.FunctionDef | ast.AsyncFunctionDef, resolver: Resolver
             ) -> dict[str, list[str]]:
    """Variables of the function assigned a call's result (`=`, annotated, `:=`) -> the
    callees, in the order of a breadth-first walk of the function's body that does not descend
    into nested functions or classes (but into the body of one written directly in the
    function's body)."""
    holders: dict[str, list[str]] = {}
    queue: list[object] = list(function.body)
    top = len(queue)
    for position, node in enumerate(queue):  # the loop sees what is appended while it runs
        kind = type(node)
        if position >= top and kind in _NESTED_KINDS:
            continue
        if isinstance(node, _HOLDING):
            if isinstance(node.value, ast.Call):
                callee = resolver.name(node.value.func)
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    if callee and isinstance(target, ast.Name):
                        holders.setdefault(target.id, []).append(callee)
        for field in NODE_FIELDS.get(kind, ()):
            child = getattr(node, field)
            if type(child) is list:
                queue.extend(child)
            elif child is not None:
                queue.append(child)
    return holders


def _factories(layouts: dict[str, ModuleLayout], app_classes: frozenset[str]) -> list[Site]:
    """Functions that return a new application, directly or through another factory."""
    makers = set(app_classes)
    found: dict[str, Site] = {}
    returning = [(path, layout) for path, layout in layouts.items() if layout.returns]
    changed = True
    while changed:
        changed = False
        for path, layout in returning:
            for qualname, line, callees in layout.returns:
                name = qualified_name(layout.module, qualname)
                if name in found or makers.isdisjoint(callees):
                    continue
                found[name] = Site(path, line, name, qualname)
                makers.add(name)
                changed = True
    return sorted(found.values(), key=lambda s: (s.path, s.line))


_LAYOUT = module_fact(f"organization.module-layout.1.{FACTS_VERSION}",
                      partial(_module_layout, ClassNames.of(APP_CLASSES | BLUEPRINT_CLASSES)))
"""Per application module: its ModuleLayout, or None."""


# --- organization.app-factory --------------------------------------------------------------------


def _sites(project: Project, sites: Iterable[Site]) -> list[Evidence]:
    """Evidence for the first distinct places; a site with line 0 stands for a whole file."""
    places = list(dict.fromkeys((s.path, s.line) for s in sites))[:MAX_EVIDENCE]
    return [at_line(project, path, line) if line else Evidence(path) for path, line in places]


def _places(sites: Iterable[Site]) -> str:
    listed = list(sites)
    text = ", ".join(f"{s.path}:{s.line}" if s.line else s.path for s in listed[:MAX_EVIDENCE])
    return text + (f" and {len(listed) - MAX_EVIDENCE} more" if len(listed) > MAX_EVIDENCE else "")


@detector("app_factory")
def app_factory(project: Project) -> Finding:
    """Passes when a function creates a Flask application and returns it (any name:
    create_app, make_app...; a factory returning an app made by another factory counts).

    Applications are calls to flask.Flask (also Quart, APIFlask, flask-openapi3, connexion) or
    to a project subclass of them. Test files are not considered. Fails when applications are
    only created at module level (including under `if __name__ == "__main__":`) or inside
    functions that do not return them, with those lines as evidence. Unknown when no
    application is created anywhere outside the tests.
    """
    layout = flask_layout(project)
    module_level = layout.module_level_apps
    if layout.factories:
        names = ", ".join(f.function or f.name for f in layout.factories[:MAX_EVIDENCE])
        evidence = _sites(project, layout.factories)
        if module_level:
            return passed(f"application factory {names} at {_places(layout.factories)}; an app "
                          f"is also created at module level at {_places(module_level)}",
                          *evidence, *_sites(project, module_level),
                          confidence=Confidence.MEDIUM)
        return passed(f"application factory {names} at {_places(layout.factories)}", *evidence)
    if module_level:
        return not_found(project,
                         f"the Flask application is created at module level "
                         f"({_places(module_level)}) and no function returns a new application; "
                         "move its creation into a create_app() factory",
                         *_sites(project, module_level))
    if layout.app_creations:
        inside = layout.app_creations
        return not_found(project,
                         f"a Flask application is created inside a function at {_places(inside)} "
                         "but no function returns it, so it cannot serve as a factory",
                         *_sites(project, inside), confidence=Confidence.MEDIUM)
    return unknown("no Flask application is created outside the tests (no call to flask.Flask "
                   "or a subclass was found): maybe not a Flask project, or the app is built "
                   "by a wrapper this check does not know; answer by hand")


# --- organization.blueprints ---------------------------------------------------------------------


@detector("blueprints")
def blueprints(project: Project) -> Finding:
    """Passes when the project creates a Blueprint (flask, APIFlask, flask-smorest,
    flask-openapi3, Quart, or a project subclass) and registers blueprints with
    register_blueprint. Test files are not considered.

    Fails when none is created, giving the number of routes registered directly on the
    application (`@app.route`, `@app.get`..., `app.add_url_rule`) with their lines; a tiny
    single-module app can answer the item n/a. Fails (medium) when blueprints are created but
    never registered, or only blueprints from libraries are registered.
    """
    layout = flask_layout(project)
    created, registered = layout.blueprint_creations, layout.registrations
    if created and registered:
        return passed(f"{len(created)} blueprint(s) created ({_places(created)}) and registered "
                      f"({_places(registered)})",
                      *_sites(project, created[:3]), *_sites(project, registered[:2]))
    routes = layout.app_routes
    route_text = (f"{len(routes)} route(s) are registered directly on the application "
                  f"({_places(routes)})" if routes else
                  "no route registered directly on an application was found")
    if created:
        return not_found(project,
                         f"blueprints are created ({_places(created)}) but register_blueprint is "
                         f"never called; {route_text}", *_sites(project, created),
                         confidence=Confidence.MEDIUM)
    if registered:
        return not_found(project,
                         f"register_blueprint is called ({_places(registered)}) but the project "
                         f"creates no Blueprint of its own; {route_text}",
                         *_sites(project, registered), *_sites(project, routes),
                         confidence=Confidence.MEDIUM)
    return not_found(project,
                     f"no Blueprint is created and none is registered; {route_text}. A small "
                     "single-module app can answer this item n/a", *_sites(project, routes))


# --- organization.env-configs --------------------------------------------------------------------

_ENVIRONMENTS = {
    "development": "development", "develop": "development", "dev": "development",
    "local": "local", "testing": "testing", "test": "testing", "tests": "testing",
    "unittest": "testing", "production": "production", "prod": "production",
    "live": "production", "staging": "staging", "stage": "staging", "preprod": "staging",
    "qa": "qa", "uat": "uat", "ci": "ci", "demo": "demo", "sandbox": "sandbox",
}
_CONFIG_WORDS = frozenset({"config", "configs", "configuration", "settings", "conf", "cfg"})
_CONFIG_DIRS = _CONFIG_WORDS | {"envs", "environments", "instance"}
_CONFIG_EXTENSIONS = frozenset({"py", "cfg", "ini", "toml", "yaml", "yml", "json", "env", "conf"})
_SELECTOR_NAMES = frozenset({
    "FLASK_ENV", "FLASK_CONFIG", "FLASK_CONFIGURATION", "FLASK_SETTINGS", "APP_ENV",
    "APP_ENVIRONMENT", "APP_CONFIG", "APP_CONFIG_FILE", "APP_SETTINGS", "APPLICATION_ENV",
    "APPLICATION_SETTINGS", "ENV", "ENVIRONMENT", "DEPLOY_ENV", "DEPLOYMENT_ENV", "STAGE",
    "CONFIG", "CONFIG_NAME", "CONFIG_TYPE", "CONFIG_CLASS", "CONFIG_MODULE", "CONFIG_FILE",
    "SETTINGS", "SETTINGS_MODULE", "RUN_ENV", "RUNTIME_ENV",
})
_SELECTOR_PATTERN = re.compile(
    r"^[A-Z][A-Z0-9]*_(ENV|ENVIRONMENT|CONFIG|CONFIG_NAME|CONFIG_CLASS|CONFIG_MODULE|SETTINGS"
    r"|SETTINGS_MODULE)$")
_NOT_SELECTORS = frozenset({"VIRTUAL_ENV", "CONDA_DEFAULT_ENV", "PIPENV_ACTIVE", "LOGGING_CONFIG",
                            "LOG_CONFIG", "PYTHON_ENV"})
_ENV_READERS = frozenset({"os.getenv", "os.environ.get", "os.environ.setdefault", "os.putenv",
                          "decouple.config"})
_CONFIG_LOADERS = ("from_object", "from_pyfile", "from_file", "from_mapping")
_DYNAMIC_KINDS = frozenset({ValueKind.OTHER, ValueKind.FSTRING, ValueKind.CONCAT,
                            ValueKind.PERCENT, ValueKind.FORMAT})
_SETTINGS_BASES = frozenset({"pydantic_settings.BaseSettings", "pydantic.BaseSettings",
                             "pydantic_settings.main.BaseSettings"})


_ENVIRONMENT_PART = re.compile("|".join(_ENVIRONMENTS))
"""In every lowercase file name naming an environment: a quick first test."""


def _words(name: str) -> list[str]:
    """`DevelopmentConfig` -> ['development', 'config']; `config.prod-eu` -> [..., 'prod', 'eu']."""
    return [w.lower() for w in re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+", name)]


def _environment(words: Iterable[str]) -> str | None:
    for word in words:
        if word in _ENVIRONMENTS:
            return _ENVIRONMENTS[word]
    return None


class EnvConfig(NamedTuple):
    environment: str
    site: Site


def _config_classes(index: ModuleIndex) -> tuple[tuple[str, int, str], ...]:
    """Configuration classes named for an environment (DevelopmentConfig, ProdSettings...):
    (environment, line, class name)."""
    found: list[tuple[str, int, str]] = []
    keys: set[str | None] | None = None
    for cls in index.classes:
        if not _ENVIRONMENT_PART.search(cls.name.lower()):
            continue  # most classes stop here
        words = _words(cls.name)
        environment = _environment(words)
        if environment is None:
            continue
        if any(b.endswith("TestCase") for b in cls.bases):
            continue
        base_words = {w for b in cls.bases for w in _words(b.rsplit(".", 1)[-1])}
        named_config = not _CONFIG_WORDS.isdisjoint(words) or not _CONFIG_WORDS.isdisjoint(
            base_words)
        if not named_config and keys is None:
            keys = {a.class_name for a in index.assignments
                    if a.class_name and a.target.isupper()}
        only_environment = set(words) <= set(_ENVIRONMENTS) and cls.qualname in (keys or ())
        if not named_config and not only_environment:
            continue
        found.append((environment, cls.line, cls.name))
    return tuple(found)


def _config_files(project: Project) -> list[EnvConfig]:
    """Per-environment configuration files: `.env.production`, `config/development.py`,
    `settings/prod.yaml`, `config.test.json`..."""
    found: list[EnvConfig] = []
    for path in project.files:
        name = path.rpartition("/")[2]
        if not _ENVIRONMENT_PART.search(name.lower()) or in_test_dir(path):
            continue
        parts = path.split("/")
        words = [w for w in re.split(r"[._-]+", name.lower()) if w]
        if name.startswith((".env.", ".flaskenv.")):
            environment = _environment(words[1:])
        else:
            extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
            if extension not in _CONFIG_EXTENSIONS:
                continue
            in_config_dir = any(p.lower() in _CONFIG_DIRS for p in parts[:-1])
            if not in_config_dir and _CONFIG_WORDS.isdisjoint(words) and "env" not in words:
                continue
            environment = _environment(words[:-1] if extension else words)
        if environment is not None:
            found.append(EnvConfig(environment, Site(path, 0, name)))
    return found


def _is_selector(value: Value) -> bool:
    if not value.is_constant_text:
        return False
    name = str(value.const)
    if name in _NOT_SELECTORS:
        return False
    return name in _SELECTOR_NAMES or bool(_SELECTOR_PATTERN.match(name))


def _is_dynamic(module: ModuleIndex, call: Call, value: Value) -> bool:
    """A configuration source chosen at run time, not a fixed class or file name."""
    if value.kind in _DYNAMIC_KINDS:
        return True
    if value.kind is ValueKind.CALL:
        return value.name.rsplit(".", 1)[-1] in ("get", "getenv") or value.name.startswith(
            "os.environ")
    if value.kind is ValueKind.NAME and call.function is not None:
        for function in module.functions:
            if function.qualname == call.function:
                return value.name in function.params
    return False


_INSTANCE_CONFIG = "an instance folder configuration"
_DYNACONF = frozenset({"dynaconf.FlaskDynaconf", "dynaconf.contrib.FlaskDynaconf"})
_SELECTING_METHODS = frozenset({"from_envvar", "from_prefixed_env", *_CONFIG_LOADERS})
_SELECTING_CALLS = _ENV_READERS | _DYNACONF
"""With `_SELECTING_METHODS`, the calls that choose a configuration by their name alone."""
_SETTINGS_CLASS = "settings read from the environment (pydantic BaseSettings)"


def _config_selections(source: ParsedModule
                       ) -> tuple[tuple[str, int, str, str | None, str | None], ...]:
    """Ways the module chooses the configuration per environment, calls then classes:
    (description, line, name, enclosing function, the app class the callee must be for it to
    count or None)."""
    index = source.index
    found: list[tuple[str, int, str, str | None, str | None]] = []
    names = module_names(source)
    if not (names.call_ends.isdisjoint(_SELECTING_METHODS)
            and names.calls.isdisjoint(_SELECTING_CALLS)
            and "instance_relative_config" not in names.keywords):
        for call in index.calls:
            what = _selection(index, call)
            if what:
                app_class = _resolve_class(index, call.name, names.local) \
                    if what == _INSTANCE_CONFIG else None
                found.append((what, call.line, call.name, call.function, app_class))
    for cls in index.classes:
        if any(base in _SETTINGS_BASES for base in cls.bases):
            found.append((_SETTINGS_CLASS, cls.line, cls.name, None, None))
    return tuple(found)


def _selection(module: ModuleIndex, call: Call) -> str:
    """How this call chooses the configuration per environment; empty when it does not. An
    instance folder configuration counts only when the callee is an application class."""
    method = call.name.rpartition(".")[2]
    if method not in _SELECTING_METHODS and call.name not in _SELECTING_CALLS:
        relative = call.keyword("instance_relative_config") if call.keywords else None
        return _INSTANCE_CONFIG if relative is not None and relative.const is True else ""
    first = call.args[0] if call.args else None
    if method in ("from_envvar", "from_prefixed_env"):
        return f"config.{method}()"
    if method in _CONFIG_LOADERS:
        if first is not None and ".config." in "." + call.name and _is_dynamic(
                module, call, first):
            return f"config.{method}() with a configuration chosen at run time"
        return ""
    if call.name in _ENV_READERS:
        return f"the {first.const} environment variable" if first is not None and _is_selector(
            first) else ""
    if call.name in _DYNACONF:
        return "Dynaconf environments"
    return ""


class EnvFacts(NamedTuple):
    """What one application module holds for organization.env-configs."""

    classes: tuple[tuple[str, int, str], ...]
    """Configuration classes named for an environment: (environment, line, class name)."""
    selections: tuple[tuple[str, int, str, str | None, str | None], ...]
    """Ways the configuration is chosen per environment (see _config_selections)."""


def _env_facts(source: ParsedModule) -> EnvFacts | None:
    """The module's EnvFacts; None for a test module and a module with none."""
    index = source.index
    if application_names(source) is None:
        return None
    classes, selections = _config_classes(index), _config_selections(source)
    return EnvFacts(classes, selections) if classes or selections else None


_ENV = module_fact(f"organization.env-configs.1.{FACTS_VERSION}", _env_facts)
"""Per application module: its EnvFacts, or None."""


def _selected(project: Project, modules: dict[str, EnvFacts]) -> list[tuple[str, Site]]:
    """Ways the configuration is chosen per environment, with a description of each."""
    found: list[tuple[str, Site]] = []
    app_classes: frozenset[str] | None = None
    for path, facts in modules.items():
        for what, line, name, function, app_class in facts.selections:
            if app_class is not None:
                if app_classes is None:
                    app_classes = subclasses_of(project, APP_CLASSES)
                if app_class not in app_classes:
                    continue
            found.append((what, Site(path, line, name, function)))
    return found


@detector("env_configs")
def env_configs(project: Project) -> Finding:
    """Passes when the configuration is kept separate per environment.

    High confidence: configuration classes for two or more environments (DevelopmentConfig,
    TestingConfig, ProductionConfig...: a class named for an environment that is named like a
    config or derives from one, or is named only for an environment (`Dev`, `Production`) and
    holds UPPER_CASE settings), or configuration files for two or
    more environments (`.env.production`, `config/development.py`, `settings/prod.yaml`).
    Medium confidence: the configuration is chosen at run time by environment: from_envvar,
    from_prefixed_env, from_object/from_pyfile/from_file with a value chosen at run time (a
    mapping lookup, a factory parameter), reading FLASK_ENV/APP_ENV/CONFIG-style variables,
    instance_relative_config=True, Dynaconf, pydantic BaseSettings. Fails when none is found.
    Test files are not considered.
    """
    modules = dict(modules_with(project, _ENV))
    classes = [EnvConfig(environment, Site(path, line, name))
               for path, facts in modules.items() for environment, line, name in facts.classes]
    files = _config_files(project)
    selection = _selected(project, modules)
    environments = sorted({c.environment for c in classes + files})
    select_evidence = _sites(project, (s for _, s in selection))
    if len(environments) >= 2:
        sites = [c.site for c in classes] + [f.site for f in files]
        return passed(f"configuration for {len(environments)} environments "
                      f"({', '.join(environments)}) at {_places(sites)}",
                      *_sites(project, sites), *select_evidence[:2])
    if selection:
        described = "; ".join(dict.fromkeys(f"{what} at {s.path}:{s.line}"
                                            for what, s in selection[:MAX_EVIDENCE]))
        return passed(f"configuration is chosen per environment: {described}; no configuration "
                      "classes or files for several environments were found",
                      *select_evidence, confidence=Confidence.MEDIUM)
    single = [c.site for c in classes + files]
    found = f" (only {environments[0]} configuration at {_places(single)})" if single else ""
    return not_found(project,
                     "no separate configuration per environment" + found + ": looked for "
                     "config classes per environment (DevelopmentConfig, TestingConfig, "
                     "ProductionConfig...), per-environment config or .env files, and config "
                     "chosen by environment (from_object with a mapping or a factory parameter, "
                     "from_envvar, from_prefixed_env, FLASK_ENV/APP_ENV/CONFIG variables, "
                     "instance_relative_config)", *_sites(project, single))


# --- organization.pinned-dependencies -----------------------------------------------------------

LOCK_FILES = frozenset({"poetry.lock", "pipfile.lock", "pdm.lock", "uv.lock", "pylock.toml",
                        "conda-lock.yml", "conda-lock.yaml"})
_COMPILED_MARKERS = re.compile(r"^\s*(--hash[=\s]|#.*\b(pip-compile|uv pip compile)\b)",
                               re.MULTILINE)
_HASH_OPTION = re.compile(r"\s--hash[=\s]\S+")


def _lock_files(project: Project) -> list[str]:
    found = []
    for path in project.files:
        name = path.rsplit("/", 1)[-1].lower()
        if name in LOCK_FILES or (name.startswith("pylock.") and name.endswith(".toml")):
            found.append(path)
    return found


def _compiled_requirements(project: Project) -> list[str]:
    """requirements*.txt files written by pip-compile / uv pip compile, or with hashes."""
    found = []
    for path in sorted({d.path for d in project.dependencies() if d.path.endswith(".txt")}):
        text = project.text(path)
        if text is not None and _COMPILED_MARKERS.search(text):
            found.append(path)
    return found


def is_pinned(dependency: Dependency) -> bool:
    """An exact version (`==1.2.3`), also when followed by `--hash` options or a line break."""
    spec = _HASH_OPTION.sub("", " " + dependency.spec).strip().rstrip("\\").strip()
    return dependency._replace(spec=spec).pinned


def _describe(dependency: Dependency) -> str:
    spec = dependency.spec.strip()
    return f"{dependency.name} ({spec})" if spec else f"{dependency.name} (no version)"


@detector("pinned_dependencies")
def pinned_dependencies(project: Project) -> Finding:
    """Passes when installs are reproducible: a lock file (poetry.lock, Pipfile.lock, pdm.lock,
    uv.lock, pylock.toml, conda-lock), a requirements file compiled by pip-compile or with
    hashes, or every runtime dependency pinned with `==`.

    Concrete requirements*.txt files are judged when they list runtime dependencies (abstract
    ranges in pyproject.toml or setup.py are then fine); otherwise pyproject.toml, setup.py,
    setup.cfg, Pipfile and requirements*.in. Development-only groups and files, and
    requirements under docs/, are not judged. Fails listing the unpinned dependencies with
    their lines, or when nothing declares any dependency at all. A lock file next to
    requirements*.txt files with unpinned dependencies passes when a CI, Docker or build file
    installs from the lock (`uv sync`, `poetry install`, `pipenv install`...), and fails with
    medium confidence otherwise: which one installs use cannot be told from the files.
    """
    locks = _lock_files(project) + _compiled_requirements(project)
    dependencies = [d for d in project.dependencies() if not _in_docs(d.path)]
    runtime = [d for d in dependencies if not d.dev]
    concrete = [d for d in runtime if d.path.endswith(".txt") and d.path not in locks]
    pinned_names = {d.name for d in dependencies if is_pinned(d) and d.path.endswith(".txt")}
    if locks:
        loose = [d for d in concrete if not is_pinned(d) and d.name not in pinned_names]
        if not loose:
            return passed(f"dependencies are locked in {locks[0]}",
                          *(Evidence(p) for p in locks[:MAX_EVIDENCE]))
        used = _lock_use(project, locks)
        if used is not None:
            return passed(f"dependencies are locked in {locks[0]}, which {used.path} installs "
                          f"from ({used.location}); {_files(loose)} lists looser ranges",
                          Evidence(locks[0]), used)
        return failed(f"{locks[0]} locks the dependencies, but {_files(loose)} also lists "
                      f"{len(loose)} unpinned: {_listing(loose)}; if installs and CI use the "
                      "lock file, answer the item by hand", Evidence(locks[0]),
                      *(at_line(project, d.path, d.line) for d in loose[:MAX_EVIDENCE - 1]),
                      confidence=Confidence.MEDIUM)
    if not dependencies:
        return failed("no dependency declaration found: looked for requirements*.txt, "
                      "pyproject.toml, setup.py, setup.cfg, Pipfile and lock files (poetry.lock, "
                      "Pipfile.lock, pdm.lock, uv.lock)")
    judged = concrete or runtime
    if not judged:
        return failed("only development dependencies are declared "
                      f"({len(dependencies)} in {_files(dependencies)}); the runtime "
                      "dependencies are not declared, so installs cannot be reproduced",
                      confidence=Confidence.MEDIUM)
    unpinned = [d for d in judged if not is_pinned(d) and d.name not in pinned_names]
    where = _files(judged)
    if not unpinned:
        return passed(f"all {len(judged)} runtime dependencies in {where} are pinned with ==",
                      at_line(project, judged[0].path, judged[0].line))
    return failed(f"{len(unpinned)} of {len(judged)} runtime dependencies in {where} are not "
                  f"pinned with == and there is no lock file: {_listing(unpinned)}",
                  *(at_line(project, d.path, d.line) for d in unpinned[:10]))


_LOCK_TOOLS = {
    "uv.lock": re.compile(r"\buv\s+(sync|run|export)\b"),
    "poetry.lock": re.compile(r"\bpoetry\s+(install|sync|export|run)\b"),
    "pipfile.lock": re.compile(r"\bpipenv\s+(install|sync|run)\b"),
    "pdm.lock": re.compile(r"\bpdm\s+(install|sync|export|run)\b"),
    "conda-lock.yml": re.compile(r"\bconda-lock\b"),
    "conda-lock.yaml": re.compile(r"\bconda-lock\b"),
}
_BUILD_FILES = (".github/workflows/*", ".gitlab-ci.yml", ".travis.yml", ".circleci/*",
                "azure-pipelines.yml", "Jenkinsfile", "bitbucket-pipelines.yml", "Dockerfile*",
                "*/Dockerfile*", "*.dockerfile", "Makefile", "tox.ini", "noxfile.py",
                "justfile", "Procfile")


def _lock_use(project: Project, locks: list[str]) -> Evidence | None:
    """A CI, Docker or build file line that installs from one of the lock files."""
    patterns = []
    for lock in locks:
        name = lock.rsplit("/", 1)[-1].lower()
        patterns.append(_LOCK_TOOLS.get(name) or re.compile(re.escape(name), re.IGNORECASE))
    for path in project.glob(*_BUILD_FILES):
        text = project.text(path)
        if text is None:
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            if line.lstrip().startswith("#"):
                continue
            if any(p.search(line) for p in patterns):
                return at_line(project, path, number)
    return None


def _in_docs(path: str) -> bool:
    return any(part in ("doc", "docs") for part in path.split("/")[:-1])


def _listing(dependencies: list[Dependency]) -> str:
    names = ", ".join(_describe(d) for d in dependencies[:10])
    more = f" and {len(dependencies) - 10} more" if len(dependencies) > 10 else ""
    return names + more


def _files(dependencies: Iterable[Dependency]) -> str:
    return ", ".join(dict.fromkeys(d.path for d in dependencies))
