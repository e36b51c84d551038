"""Detectors: database (SQL use, schema migrations, N+1 queries, ORM anti-patterns).

This module also holds the facts about ORM models that the history detectors share: which
classes are models (deriving from a Flask-SQLAlchemy `db.Model`, a declarative base, SQLModel,
Peewee or Django models, or declaring `__tablename__`), their relationships with the way each
loads, and their columns. Everything is read from the AST index; nothing is imported or run.

What each module holds is a module fact (computed where the module is indexed, and cached by
its content); the detectors combine those of every module, so they read no module themselves.
"""

from __future__ import annotations

import ast
import posixpath
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from checklist_app.detectors.evidence import at_line
from checklist_app.detectors.organization import (
    FACTS_VERSION,
    FUNCTION_DEFS,
    Library,
    ModuleNames,
    application_names,
    find_libraries,
    module_names,
    modules_with,
    qualified_name,
    qualify,
    subclasses_of,
)
from checklist_app.detectors.registry import detector, module_fact
from checklist_app.findings import Confidence, Evidence, Finding, failed, passed
from checklist_app.project import ModuleIndex, ParsedModule, Project
from checklist_app.project.pyindex import Assignment, Call, Class, Value, ValueKind
from checklist_app.project.query_loops import EAGER_LOADERS, LoopKind, LoopQuery

MAX_EVIDENCE = 5
MAX_SITES = 100
"""At most this many N+1 sites are listed as evidence (the message gives the full count)."""

ORM_LIBRARIES = (
    Library("SQLAlchemy", ("sqlalchemy",), ("sqlalchemy",)),
    Library("Flask-SQLAlchemy", ("flask_sqlalchemy",), ("flask-sqlalchemy",)),
    Library("SQLModel", ("sqlmodel",), ("sqlmodel",)),
    Library("Peewee", ("peewee", "playhouse"), ("peewee", "flask-peewee")),
    Library("Pony ORM", ("pony.orm", "pony.flask"), ("pony",)),
    Library("Django ORM", ("django.db",), ("django",)),
    Library("Tortoise ORM", ("tortoise",), ("tortoise-orm",)),
    Library("Piccolo", ("piccolo",), ("piccolo",)),
    Library("ormar", ("ormar",), ("ormar",)),
)
SQL_DRIVERS = (
    Library("sqlite3", ("sqlite3",)),
    Library("psycopg", ("psycopg2", "psycopg"),
            ("psycopg2", "psycopg2-binary", "psycopg", "psycopg-binary")),
    Library("PyMySQL", ("pymysql",), ("pymysql",)),
    Library("mysqlclient", ("MySQLdb",), ("mysqlclient",)),
    Library("MySQL Connector", ("mysql.connector",), ("mysql-connector-python",)),
    Library("Flask-MySQLdb", ("flask_mysqldb",), ("flask-mysqldb",)),
    Library("asyncpg", ("asyncpg",), ("asyncpg",)),
    Library("aiosqlite", ("aiosqlite",), ("aiosqlite",)),
    Library("pyodbc", ("pyodbc",), ("pyodbc",)),
    Library("oracledb", ("oracledb", "cx_Oracle"), ("oracledb", "cx-oracle")),
    Library("databases", ("databases",), ("databases",)),
)

# --- models --------------------------------------------------------------------------------------

DECLARATIVE_BASE_CLASSES = frozenset({
    "sqlalchemy.orm.DeclarativeBase", "sqlalchemy.orm.DeclarativeBaseNoMeta",
    "sqlalchemy.orm.decl_api.DeclarativeBase", "sqlalchemy.orm.decl_api.DeclarativeBaseNoMeta",
})
"""Classes whose subclasses are declarative bases (SQLAlchemy 2.0)."""
MODEL_CLASSES = frozenset({
    "flask_sqlalchemy.Model", "flask_sqlalchemy.model.Model", "sqlmodel.SQLModel",
    "peewee.Model", "django.db.models.Model", "tortoise.models.Model", "tortoise.Model",
})
"""Library classes whose subclasses are models."""
_BASE_FACTORIES = frozenset({"declarative_base", "generate_base"})
_ROOT_FACTORIES = _BASE_FACTORIES | {"SQLAlchemy"}
"""The calls whose result is a model base, or holds one (`db.Model`)."""
_MAPPED_DECORATORS = frozenset({"mapped", "mapped_as_dataclass"})
"""`@registry.mapped`: the decorated class is a model without a declarative base."""
_RELATIONSHIP_CALLS = frozenset({"relationship", "relation", "dynamic_loader"})
_COLUMN_CALLS = frozenset({"Column", "mapped_column", "column_property", "deferred",
                           "composite", "query_expression"})

LAZY_LOADS = frozenset({"select", "dynamic", "immediate"})
"""Relationship loading strategies that run a query per parent object when touched.

`dynamic` is one of them: each access (`post.comments.all()`, `.count()`, iteration) is its own
query, so touching it for every row of a loop is still N+1."""


class ModelClass(NamedTuple):
    name: str
    """The class name as written (`Post`)."""
    qualified: str
    """Module and qualified class name (`app.models.Post`)."""
    path: str
    line: int
    bases: tuple[str, ...]
    """Simple names of the base classes."""


class Relationship(NamedTuple):
    owner: str
    """The simple name of the class the attribute is on."""
    name: str
    target: str
    """The simple name of the related class, '' when it cannot be read."""
    lazy: str
    """The loading strategy: select (the default), joined, selectin, subquery, dynamic, raise,
    noload, ..., or `unknown` when it is not a constant."""
    path: str
    line: int

    @property
    def lazy_load(self) -> bool:
        return self.lazy in LAZY_LOADS


@dataclass(frozen=True, slots=True)
class Models:
    """The project's ORM models (test files left out)."""

    classes: tuple[ModelClass, ...]
    relationships: tuple[Relationship, ...]
    columns: frozenset[tuple[str, str]]
    """(class name, attribute) for each column assigned in a model class body."""
    names: frozenset[str] = frozenset()
    """The class names (filled by `of`)."""
    by_key: Mapping[tuple[str, str], Relationship] = field(default_factory=dict)
    """(owner, name) -> relationship, the last one declared (filled by `of`)."""
    by_name: Mapping[str, ModelClass] = field(default_factory=dict)
    """Class name -> the last class of that name (filled by `of`)."""

    @classmethod
    def of(cls, classes: tuple[ModelClass, ...], relationships: tuple[Relationship, ...],
           columns: frozenset[tuple[str, str]]) -> Models:
        return cls(classes, relationships, columns, frozenset(c.name for c in classes),
                   {(r.owner, r.name): r for r in relationships},
                   {c.name: c for c in classes})

    @property
    def files(self) -> tuple[str, ...]:
        return tuple(sorted({c.path for c in self.classes}))

    def lineage(self, name: str) -> list[str]:
        """The class and its model ancestors, nearest first."""
        by_name = self.by_name
        if name not in by_name:
            return []
        order = [name]
        seen = {name}
        for current in order:  # grows while it is walked: breadth first
            for base in by_name[current].bases:
                if base not in seen and base in by_name:
                    seen.add(base)
                    order.append(base)
        return order

    def relationship(self, owner: str, name: str) -> Relationship | None:
        for cls in self.lineage(owner):
            found = self.by_key.get((cls, name))
            if found is not None:
                return found
        return None

    def named(self, name: str) -> list[Relationship]:
        return [r for r in self.relationships if r.name == name]

    def is_column(self, owner: str, name: str) -> bool:
        return any((cls, name) in self.columns for cls in self.lineage(owner))


def _last(name: str) -> str:
    return name.rpartition(".")[2]


def _same(first: str, second: str) -> bool:
    """The same dotted name, allowing one to be the other without its leading packages
    (`models.Base` and `app.models.Base`) when the shorter has at least two parts."""
    if first == second:
        return True
    short, long = sorted((first, second), key=len)
    return "." in short and long.endswith("." + short)


_SESSION_QUERY = re.compile(r"(^|\.)session\.(execute|scalar|scalars|query|get|get_one)$"
                            r"|(^|\.)query\.(\w+\.)*(all|first|one|one_or_none|count|scalar|get"
                            r"|paginate|first_or_404|get_or_404)$")
"""Calls in a method that run a query: the session's, or a `Model.query` chain's last step."""


# --- models: what one module declares (a module fact) ----------------------------------------


class _Method(NamedTuple):
    """What a method of a class (with the functions nested in it) calls, as far as queries go.
    A property's getter and setter share their qualified name, and so these facts."""

    name: str
    queries: bool
    """It calls the session or the last step of a `Model.query` chain (see _SESSION_QUERY)."""
    relations: tuple[str, ...]
    """`x` of each `self.x.<...>()` call: a query when `x` is a `lazy="dynamic"` relationship."""
    calls: tuple[str, ...]
    """`x` of each `self.x()` call: another method of the class, which may run a query."""
    reads: tuple[str, ...]
    """`x` of each `self.x` the method reads: a query when `x` is a lazily loaded relationship
    that the query for the rows does not load."""


class _ClassFacts(NamedTuple):
    """A class that can be a model: it has base classes, is mapped or declares a table."""

    model: ModelClass
    bases: tuple[str, ...]
    """The qualified names of the base classes."""
    declared: bool
    """Mapped by a decorator (`@registry.mapped`) or given a `__tablename__`: a model whatever
    its bases."""
    methods: tuple[_Method, ...]
    """Every function defined in a body of a class of this name in the module, in order."""


class _ModuleModels(NamedTuple):
    """What one application module says about models; the project's models are read from
    those of every module (`_read_models`)."""

    roots: tuple[str, ...]
    """Qualified names whose subclasses are models: `db.Model` of `db = SQLAlchemy()`, what
    `declarative_base()` returns, classes deriving from `DeclarativeBase`."""
    db_names: tuple[str, ...]
    """The names of the variables holding a `SQLAlchemy()` object."""
    classes: tuple[_ClassFacts, ...]
    relationships: tuple[tuple[str, Relationship], ...]
    """(qualified name of the class, relationship) for each relationship (and backref)
    declared in the body of one of `classes`, in order: kept when the class is a model."""
    columns: tuple[tuple[str, tuple[str, ...]], ...]
    """(qualified name of the class, attributes) for the columns assigned in the body of each
    of `classes`."""


def _module_models(source: ParsedModule) -> _ModuleModels | None:
    """The model facts of an application module; None for a test module, a module that does
    not parse, and a module with no class that can be a model and no model base."""
    module = source.index
    names = application_names(source)
    if names is None:
        return None
    local = names.local
    roots, db_names = _model_roots(names)
    found: list[tuple[Class, bool]] = []
    if module.classes:
        tablenames = {a.class_name for a in module.assignments
                      if a.target == "__tablename__" and a.class_name}
        for cls in module.classes:
            declared = cls.qualname in tablenames or bool(cls.decorators) and any(
                _last(d) in _MAPPED_DECORATORS for d in cls.decorators)
            if declared or cls.bases:
                found.append((cls, declared))
    if not (roots or db_names or found):
        return None
    methods = _methods(module, {cls.qualname for cls, _ in found}, source.tree)
    classes: list[_ClassFacts] = []
    for cls, declared in found:
        bases = tuple(qualify(module, base, local) for base in cls.bases)
        model = ModelClass(cls.name, qualified_name(module.module, cls.qualname), module.path,
                           cls.line, tuple(_last(b) for b in bases))
        classes.append(_ClassFacts(model, bases, declared, methods.get(cls.qualname, ())))
    owners = {c.model.qualified: c.model.name for c in classes}
    assigned = _class_calls(module, {cls.qualname: qualified_name(module.module, cls.qualname)
                                     for cls, _ in found})
    return _ModuleModels(roots, db_names, tuple(classes),
                         tuple(_relationships(module, owners, assigned)),
                         tuple(_columns(assigned)))


def _model_roots(names: ModuleNames) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Qualified names whose subclasses are models, and the names of SQLAlchemy() objects."""
    module, local = names.index, names.local
    roots: list[str] = []
    db_names: list[str] = []
    assignments = module.assignments if not names.call_ends.isdisjoint(_ROOT_FACTORIES) else ()
    for assignment in assignments:
        if assignment.function is not None or assignment.class_name is not None:
            continue
        value = assignment.value
        if value.kind is not ValueKind.CALL:
            continue
        callee = _last(value.name)
        if callee == "SQLAlchemy":
            roots.append(qualify(module, assignment.target, local) + ".Model")
            db_names.append(_last(assignment.target))
        elif callee in _BASE_FACTORIES:
            roots.append(qualify(module, assignment.target, local))
    for cls in module.classes:
        bases = [qualify(module, base, local) for base in cls.bases]
        if any(base in DECLARATIVE_BASE_CLASSES for base in bases) or any(
            _last(d) == "as_declarative" for d in cls.decorators
        ):
            roots.append(qualified_name(module.module, cls.qualname))
    return tuple(roots), tuple(db_names)


def _self_reads(tree: ast.Module) -> dict[tuple[str, str], tuple[str, ...]]:
    """(class qualified name, method name) -> the `x` of each `self.x` the method reads, for
    the methods defined directly in the module's class bodies."""
    found: dict[tuple[str, str], tuple[str, ...]] = {}
    pending: list[tuple[ast.AST, str]] = [(tree, "")]
    while pending:
        node, prefix = pending.pop()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                pending.append((child, f"{prefix}{child.name}."))
            elif isinstance(child, FUNCTION_DEFS) and isinstance(node, ast.ClassDef):
                reads = dict.fromkeys(
                    sub.attr for sub in ast.walk(child)
                    if isinstance(sub, ast.Attribute) and isinstance(sub.ctx, ast.Load)
                    and isinstance(sub.value, ast.Name) and sub.value.id == "self")
                found[(prefix.rstrip("."), child.name)] = tuple(reads)
    return found


def _methods(module: ModuleIndex, classes: set[str], tree: ast.Module | None
             ) -> dict[str, tuple[_Method, ...]]:
    """The functions defined in the bodies of `classes` (qualified names in the module), by
    the qualified name of their class."""
    functions = [f for f in module.functions if f.class_name in classes]
    if not functions:
        return {}
    reads = _self_reads(tree) if tree is not None else {}
    heads = {name.partition(".")[0] for name in classes}
    inside: dict[str, list[Call]] = {}
    """The calls in each function of those classes (and the functions nested in it)."""
    for call in module.calls:
        if call.function is None or call.function.partition(".")[0] not in heads:
            continue
        parts = call.function.split(".")
        for end in range(2, len(parts) + 1):
            inside.setdefault(".".join(parts[:end]), []).append(call)
    found: dict[str, list[_Method]] = {}
    for function in functions:
        calls = inside.get(function.qualname, [])
        own_reads = reads.get((str(function.class_name), function.name), ())
        found.setdefault(str(function.class_name), []).append(
            _method(function.name, calls, own_reads))
    return {name: tuple(methods) for name, methods in found.items()}


def _method(name: str, calls: list[Call], reads: tuple[str, ...]) -> _Method:
    relations: dict[str, None] = {}
    own: dict[str, None] = {}
    for call in calls:
        parts = call.name.split(".")
        if parts[0] != "self":
            continue
        if len(parts) >= 3:
            relations[parts[1]] = None
        elif len(parts) == 2:
            own[parts[1]] = None
    queries = any(_SESSION_QUERY.search(call.name) for call in calls)
    return _Method(name, queries, tuple(relations), tuple(own), reads)


def _class_calls(module: ModuleIndex, classes: Mapping[str, str]
                 ) -> list[tuple[str, Assignment, str]]:
    """(qualified name of the class, assignment, last part of the callee) for each call
    assigned in the body of one of `classes` (qualified name in the module -> project-wide
    qualified name)."""
    found = []
    for assignment in module.assignments:
        class_name = assignment.class_name
        if class_name is None:
            continue
        key = classes.get(class_name)
        value = assignment.value
        if key is not None and value.kind is ValueKind.CALL:
            found.append((key, assignment, value.name.rpartition(".")[2]))
    return found


def _relationships(module: ModuleIndex, owners: Mapping[str, str],
                   assigned: list[tuple[str, Assignment, str]]) -> list[tuple[str, Relationship]]:
    """The relationships declared in the bodies of the classes `owners` names (qualified name
    -> class name), with the qualified name of their class; `assigned` are the calls assigned
    in those bodies (see `_class_calls`)."""
    declarations = [(key, assignment) for key, assignment, callee in assigned
                    if callee in _RELATIONSHIP_CALLS]
    if not declarations:
        return []
    calls: dict[int, list[Call]] = {}
    for found_call in module.calls:
        calls.setdefault(found_call.line, []).append(found_call)
    backrefs = sorted((c for c in module.calls if _last(c.name) == "backref"),
                      key=lambda c: c.line)
    found: list[tuple[str, Relationship]] = []
    for key, assignment in declarations:
        owner = owners[key]
        value = assignment.value
        callee = _last(value.name)
        declared = next((c for c in calls.get(assignment.line, []) if c.name == value.name), None)
        default = "dynamic" if callee == "dynamic_loader" else "select"
        target = _class_argument(declared.args[0]) if declared is not None and declared.args else ""
        lazy = _lazy(declared.keyword("lazy") if declared is not None else None, default)
        found.append((key, Relationship(owner, assignment.target, target, lazy, module.path,
                                        assignment.line)))
        backref = declared.keyword("backref") if declared is not None else None
        if backref is None or not target:
            continue
        if backref.kind is ValueKind.CONST and isinstance(backref.const, str):
            found.append((key, Relationship(target, backref.const, owner, "select", module.path,
                                            assignment.line)))
        elif backref.kind is ValueKind.CALL:
            later = next((c for c in backrefs if c.line >= assignment.line), None)
            if later is not None and later.args and later.args[0].kind is ValueKind.CONST \
                    and isinstance(later.args[0].const, str):
                found.append((key, Relationship(target, later.args[0].const, owner,
                                                _lazy(later.keyword("lazy"), "select"),
                                                module.path, later.line)))
    return found


def _columns(assigned: list[tuple[str, Assignment, str]]) -> list[tuple[str, tuple[str, ...]]]:
    """(qualified name of the class, attributes) for the columns among `assigned` (calls
    assigned in class bodies, see `_class_calls`)."""
    found: dict[str, list[str]] = {}
    for key, assignment, callee in assigned:
        if callee in _COLUMN_CALLS or callee.endswith("Field"):
            found.setdefault(key, []).append(assignment.target)
    return [(key, tuple(attributes)) for key, attributes in found.items()]


_MODELS = module_fact(f"database.models.3.{FACTS_VERSION}", _module_models)


# --- models: the project's, from every module ---------------------------------------------------


def find_models(project: Project) -> Models:
    """Every ORM model class of the project, with relationships and columns; computed once for
    the content of the project's modules."""
    return project.remembered(f"database.project-models.{FACTS_VERSION}",
                              project.python_digest(), lambda: _read_models(project))


def _read_models(project: Project) -> Models:
    modules = modules_with(project, _MODELS)
    classes = _model_classes(modules)
    by_module: dict[str, dict[str, ModelClass]] = {}
    for model in classes.values():
        by_module.setdefault(model.path, {})[model.qualified] = model
    relationships: list[Relationship] = []
    columns: set[tuple[str, str]] = set()
    for path, facts in modules:
        owned = by_module.get(path)
        if not owned:
            continue
        relationships.extend(r for key, r in facts.relationships if key in owned)
        for key, attributes in facts.columns:
            owner = owned.get(key)
            if owner is not None:
                columns.update((owner.name, attribute) for attribute in attributes)
    ordered = sorted(classes.values(), key=lambda c: (c.path, c.line))
    return Models.of(tuple(ordered), tuple(relationships), frozenset(columns))


def _model_classes(modules: list[tuple[str, _ModuleModels]]) -> dict[str, ModelClass]:
    """The model classes by qualified name: those deriving from a model base (or mapped, or
    declaring a table), then their subclasses, however deep."""
    roots = _SameNames([*MODEL_CLASSES, *(root for _, facts in modules for root in facts.roots)])
    db_names = {name for _, facts in modules for name in facts.db_names}
    model_bases: dict[str, bool] = {}
    """Whether each base class name seen is a model base."""
    pending: list[_ClassFacts] = []
    classes: dict[str, ModelClass] = {}
    by_last: dict[str, list[str]] = {}
    for _, facts in modules:
        for cls in facts.classes:
            for base in cls.bases:
                if base not in model_bases:
                    model_bases[base] = _is_model_base(base, roots, db_names)
            if cls.declared or any(model_bases[base] for base in cls.bases):
                classes[cls.model.qualified] = cls.model
                by_last.setdefault(cls.model.name, []).append(cls.model.qualified)
            else:
                pending.append(cls)
    changed = True
    while changed:
        changed = False
        for cls in pending:
            model = cls.model
            if model.qualified not in classes and any(
                    _same(base, known) for base in cls.bases
                    for known in by_last.get(_last(base), ())):
                classes[model.qualified] = model
                by_last.setdefault(model.name, []).append(model.qualified)
                changed = True
    return classes


class _SameNames:
    """A set of dotted names, tested quickly for a name that is `_same` as one of them."""

    def __init__(self, names: Iterable[str]) -> None:
        self.names = set(names)
        self.tails = {tail for name in self.names for tail in _dotted_tails(name)}
        """The names without their leading packages, with at least two parts left."""

    def has(self, name: str) -> bool:
        return name in self.names or name in self.tails or any(
            tail in self.names for tail in _dotted_tails(name))


def _dotted_tails(name: str) -> list[str]:
    """`b.c.d` and `c.d` for `a.b.c.d`."""
    parts = name.split(".")
    return [".".join(parts[start:]) for start in range(1, len(parts) - 1)]


def _is_model_base(base: str, roots: _SameNames, db_names: set[str]) -> bool:
    if roots.has(base):
        return True
    owner, _, name = base.rpartition(".")
    return name == "Model" and bool(owner) and (
        _last(owner) in db_names or _last(owner) == "db" or owner.startswith("flask_sqlalchemy"))


def _class_argument(value: Value) -> str:
    if value.kind is ValueKind.CONST and isinstance(value.const, str):
        return _last(value.const.strip())
    if value.kind is ValueKind.NAME:
        return _last(value.name)
    return ""


def _lazy(value: Value | None, default: str) -> str:
    if value is None:
        return default
    if value.kind is ValueKind.CONST:
        if value.const is True:
            return "select"
        if value.const is False:
            return "joined"
        if value.const is None:
            return "noload"
        if isinstance(value.const, str):
            return value.const.lower()
    return "unknown"


# --- is a database used --------------------------------------------------------------------------


@detector("sql_database")
def sql_database(project: Project) -> Finding:
    """Passes when the project uses a SQL database: an ORM (SQLAlchemy, Flask-SQLAlchemy,
    SQLModel, Peewee, Pony, Django ORM, Tortoise, ...) or a SQL driver (sqlite3, psycopg,
    PyMySQL, mysqlclient, asyncpg, ...), imported by code outside tests or declared as a
    dependency."""
    uses = find_libraries(project, ORM_LIBRARIES + SQL_DRIVERS, include_tests=False)
    if uses:
        return passed("uses " + ", ".join(use.how for use in uses[:3]),
                      *(use.evidence for use in uses[:MAX_EVIDENCE]))
    return failed("no SQL database library is imported or declared (looked for ORMs such as "
                  "SQLAlchemy and Peewee and drivers such as sqlite3 and psycopg)")


@detector("orm_used")
def orm_used(project: Project) -> Finding:
    """Passes when the project uses an ORM (SQLAlchemy, Flask-SQLAlchemy, SQLModel, Peewee,
    Pony, Django ORM, Tortoise, Piccolo, ormar), imported outside tests or declared."""
    uses = find_libraries(project, ORM_LIBRARIES, include_tests=False)
    if uses:
        return passed("uses " + ", ".join(use.how for use in uses[:3]),
                      *(use.evidence for use in uses[:MAX_EVIDENCE]))
    return failed("no ORM is imported or declared (looked for SQLAlchemy, Flask-SQLAlchemy, "
                  "SQLModel, Peewee, Pony, Django ORM, Tortoise, Piccolo, ormar)")


# --- schema migrations ---------------------------------------------------------------------------

MIGRATION_CALLS = ("flask_migrate.Migrate", "flask_alembic.Alembic")
MIGRATION_IMPORTS = ("peewee_migrate", "playhouse.migrate", "yoyo")
"""Migration libraries whose import is the set-up (Flask-Migrate must be called: see above)."""
_MIGRATION_TOOLS = tuple(name + "." for name in MIGRATION_IMPORTS)
_MIGRATION_TOOL_PACKAGES = tuple({name.partition(".")[0] for name in MIGRATION_IMPORTS})
_MIGRATION_NAME = re.compile("|".join(_last(name) for name in MIGRATION_CALLS))
"""`Migrate` or `Alembic` in a name: a call that may set up migrations."""
_SQL_MIGRATION_DIRS = ("migrations", "migration", "migrate", "db_migrations", "sql_migrations")
_TABLE_CREATION = (".create_all", ".create_tables")
_TABLE_CREATORS = frozenset({"create_all", "create_tables"})


class _MigrationFacts(NamedTuple):
    """What one module (tests included) says about schema migrations."""

    setups: tuple[tuple[str, str, int], ...]
    """(name as written, qualified name, line) of each call, in line order, that may set up
    Flask-Migrate or Flask-Alembic: a call of `MIGRATION_CALLS`, of a class of the module, or
    of a name holding `Migrate` or `Alembic` (a project subclass called from another module is
    recognised by such a name)."""
    alembic_env: int | None
    """In an `env.py`: the line importing alembic."""
    revision: int | None
    """In an Alembic revision script (`revision`, `down_revision`, `upgrade()`): the line
    setting `revision`."""
    django: int | None
    """In a `migrations` folder: the line importing django.db.migrations."""
    tool: tuple[str, int] | None
    """The first import of a migration tool (`MIGRATION_IMPORTS`): its name and line."""
    creations: tuple[int, ...]
    """Outside tests: the lines, in order, calling `create_all()` or `create_tables()`."""




def _migration_facts(source: ParsedModule) -> _MigrationFacts | None:
    """The migration facts of a module; None when it does not parse or holds none."""
    module = source.index
    if module.syntax_error is not None:
        return None
    env = None
    if module.path.rpartition("/")[2] == "env.py":
        imported = module.imports_module("alembic")
        env = imported.line if imported is not None else None
    django = None
    if "/migrations/" in "/" + module.path:
        imported = module.imports_module("django.db.migrations")
        django = imported.line if imported is not None else None
    names = module_names(source)
    tool = None if names.import_tops.isdisjoint(_MIGRATION_TOOL_PACKAGES) else \
        _migration_tool(module)
    setups, creations = _migration_calls(names)
    revision = _revision_line(module)
    if names.test:
        creations = ()
    if not setups and env is None and revision is None and django is None and tool is None \
            and not creations:
        return None
    return _MigrationFacts(setups, env, revision, django, tool, creations)


def _migration_tool(module: ModuleIndex) -> tuple[str, int] | None:
    """The first import of a migration tool (`MIGRATION_IMPORTS`): its name and line."""
    for imported in module.imports:
        if imported.module.startswith(_MIGRATION_TOOL_PACKAGES):  # most imports stop here
            qualified = imported.qualified
            if qualified in MIGRATION_IMPORTS or qualified.startswith(_MIGRATION_TOOLS):
                return qualified, imported.line
    return None


def _migration_calls(names: ModuleNames
                     ) -> tuple[tuple[tuple[str, str, int], ...], tuple[int, ...]]:
    """The calls that may set up migrations (see `_MigrationFacts.setups`), and the lines
    calling `create_all()` or `create_tables()`, each in line order."""
    module = names.index
    classes = {c.name for c in module.classes if c.qualname == c.name}
    if names.call_ends.isdisjoint(_TABLE_CREATORS) and not _MIGRATION_NAME.search(
            names.call_text) and not (classes and any(
                name.partition(".")[0] in classes for name in names.calls)):
        return (), ()  # most modules stop here
    local = names.local
    setups = []
    creations = []
    for call in module.calls:
        name = call.name
        if name.endswith(_TABLE_CREATION) or name == "create_all":
            creations.append(call.line)
        if _MIGRATION_NAME.search(name) or classes and name.partition(".")[0] in classes:
            qualified = qualify(module, name, local)
            if qualified in MIGRATION_CALLS or name.partition(".")[0] in classes \
                    or _MIGRATION_NAME.search(_last(name)):
                setups.append((name, qualified, call.line))
    return tuple(sorted(setups, key=lambda c: c[2])), tuple(sorted(creations))


def _revision_line(module: ModuleIndex) -> int | None:
    """The line setting `revision` in an Alembic revision script: a module that sets
    `revision` and `down_revision` and defines `upgrade()`."""
    if not any(f.qualname == "upgrade" for f in module.functions):
        return None
    targets = {a.target: a.line for a in module.assignments
               if a.function is None and a.class_name is None}
    if "revision" in targets and "down_revision" in targets:
        return targets["revision"]
    return None


_MIGRATIONS = module_fact(f"database.migrations.{FACTS_VERSION}", _migration_facts)


def _migration_setup_calls(project: Project, modules: list[tuple[str, _MigrationFacts]]
                           ) -> list[Evidence]:
    """Calls of Flask-Migrate's Migrate, Flask-Alembic's Alembic or a project subclass, by
    their name as written or as the module resolves it."""
    makers = subclasses_of(project, frozenset(MIGRATION_CALLS))
    names = makers | {_last(maker) for maker in makers - set(MIGRATION_CALLS)}
    return [at_line(project, path, line) for path, facts in modules
            for name, qualified, line in facts.setups if name in names and qualified in makers]


def _alembic_environments(project: Project, modules: list[tuple[str, _MigrationFacts]]
                          ) -> list[Evidence]:
    """env.py files that import alembic."""
    return [at_line(project, path, facts.alembic_env) for path, facts in modules
            if facts.alembic_env is not None]


def _revision_scripts(project: Project, modules: list[tuple[str, _MigrationFacts]]
                      ) -> list[Evidence]:
    """Alembic revision scripts: modules that set `revision` and `down_revision` and define
    `upgrade()` (found even when the environment lives in a library, as with Flask-Alembic)."""
    return [at_line(project, path, facts.revision) for path, facts in modules
            if facts.revision is not None]


def _django_migrations(project: Project, modules: list[tuple[str, _MigrationFacts]]
                       ) -> list[Evidence]:
    return [at_line(project, path, facts.django) for path, facts in modules
            if facts.django is not None][:1]


def _sql_migration_files(project: Project) -> list[str]:
    """Versioned .sql files in a migrations folder (Flyway `V1__x.sql`, `0001_x.sql`, ...) and
    the files of other migration tools (sqitch.plan, flyway.conf, liquibase changelogs)."""
    found = []
    for path in project.files:
        name = posixpath.basename(path)
        folder = posixpath.basename(posixpath.dirname(path))
        flyway = name[:1] == "V" and name[1:2].isdigit() and "__" in name
        if name in ("sqitch.plan", "flyway.conf") or name.startswith("db.changelog") or (
                name.endswith(".sql") and (folder in _SQL_MIGRATION_DIRS or flyway)):
            found.append(path)
    return found


def _creations(project: Project, modules: list[tuple[str, _MigrationFacts]]) -> list[Evidence]:
    return [at_line(project, path, line) for path, facts in modules
            for line in facts.creations][:MAX_EVIDENCE]


@detector("schema_migrations")
def schema_migrations(project: Project) -> Finding:
    """Passes when the schema is changed through migrations: Flask-Migrate (`Migrate(app, db)`
    or `Migrate()` + `init_app`) or Flask-Alembic (or a project subclass of either) with its
    migration scripts committed (fails with medium confidence when they are not), an Alembic
    environment (an `env.py` that imports alembic, usually beside alembic.ini and a versions
    folder), Alembic revision scripts (`revision`, `down_revision`, `upgrade()`), Django
    migrations, peewee-migrate / playhouse.migrate / yoyo, or versioned SQL migration files
    (medium confidence: the tool is not recognised). Fails otherwise, citing `create_all()`
    calls outside tests when that is how tables are made (high confidence), else with medium
    confidence."""
    modules = modules_with(project, _MIGRATIONS)
    calls = _migration_setup_calls(project, modules)
    environments = _alembic_environments(project, modules)
    if calls:
        scripts = environments or _revision_scripts(project, modules)
        if scripts:
            return passed(f"migrations are set up with {calls[0].excerpt or calls[0].location} "
                          f"and committed ({scripts[0].path})",
                          *calls[:MAX_EVIDENCE - 1], scripts[0])
        return failed(f"Flask-Migrate is set up with {calls[0].excerpt or calls[0].location}, "
                      "but no migration scripts are committed (no Alembic env.py and no "
                      "revision scripts): every install generates its own schema history; run "
                      "`flask db init` and `flask db migrate` once and commit the migrations "
                      "folder", *calls[:MAX_EVIDENCE], confidence=Confidence.MEDIUM)
    if environments:
        first = environments[0]
        folder = posixpath.dirname(first.path)
        versions = project.glob(posixpath.join(folder, "versions", "*.py") if folder
                                else "versions/*.py")
        detail = f" with {len(versions)} migration(s)" if versions else \
            " (its versions folder has no migration yet)"
        config = project.glob("alembic.ini", "*/alembic.ini")
        evidence = environments[:MAX_EVIDENCE] + [Evidence(p) for p in config[:1]]
        return passed(f"an Alembic environment is at {folder or '.'}{detail}", *evidence)
    scripts = _revision_scripts(project, modules)
    if scripts:
        return passed(f"{len(scripts)} Alembic revision script(s), e.g. {scripts[0].path}",
                      *scripts[:MAX_EVIDENCE])
    django = _django_migrations(project, modules)
    if django:
        return passed("Django migrations are used", *django)
    tool = next(((path, facts.tool) for path, facts in modules if facts.tool is not None), None)
    if tool is not None:
        path, (name, line) = tool
        return passed(f"a migration tool is imported: {name}", at_line(project, path, line))
    files = _sql_migration_files(project)
    if files:
        return passed(f"versioned SQL migration files are at {posixpath.dirname(files[0])} "
                      "(the tool was not recognised)",
                      *(Evidence(p) for p in files[:MAX_EVIDENCE]),
                      confidence=Confidence.MEDIUM)
    looked = ("looked for Flask-Migrate Migrate(app, db), Flask-Alembic, an Alembic env.py or "
              "revision scripts, Django migrations, peewee-migrate and versioned SQL migration "
              "files")
    declared = project.dependency("flask-migrate", "alembic", "flask-alembic")
    if declared is not None:
        looked += f"; {declared.name} is declared in {declared.path} but never set up"
    creations = _creations(project, modules)
    if creations:
        return failed(f"no schema migrations: tables are created with {creations[0].excerpt} "
                      f"({looked})", *creations)
    return failed(f"no schema migrations found ({looked})", confidence=Confidence.MEDIUM)


# --- N+1 queries ---------------------------------------------------------------------------------


class _Resolved(NamedTuple):
    """What a site's attribute path leads to: the relationships along it, or None."""

    steps: tuple[Relationship, ...]
    by_class: bool
    """Every step was found on a known class (not guessed from the attribute name)."""


def _source_class(models: Models, model: str) -> tuple[bool, str | None]:
    """Whether rows of `model` can be model objects, and their class when known."""
    if not model:
        return True, None
    name = _last(model)
    if name in models.names:
        return True, name
    if not models.classes:
        return True, None
    return False, None


def _resolve(models: Models, start: str | None, path: tuple[str, ...]) -> _Resolved | None:
    owner = start
    steps: list[Relationship] = []
    by_class = start is not None
    for attr in path:
        if owner is not None:
            found = models.relationship(owner, attr)
            if found is None:
                return None
            steps.append(found)
            owner = found.target or None
            continue
        # The class is not known: go by the attribute name. It counts as lazy only when every
        # relationship of that name is lazy, and the next class is known only when all agree.
        by_class = False
        candidates = models.named(attr)
        if not candidates:
            return None
        steps.append(next((c for c in candidates if not c.lazy_load), candidates[0]))
        targets = {c.target for c in candidates}
        owner = targets.pop() if len(targets) == 1 else None
        owner = owner or None
    return _Resolved(tuple(steps), by_class)


def _covered(eager: tuple[str, ...], path: tuple[str, ...]) -> bool:
    """Whether the query's loader options load the relationship at `path` eagerly."""
    if "*" in eager:
        return True
    dotted = ".".join(path)
    parent = ".".join(path[:-1])
    return dotted in eager or (parent + ".*" if parent else "*") in eager


def _lazy_site(models: Models, site: LoopQuery) -> _Resolved | None:
    """The relationships a site loads lazily per row, or None when it is no N+1."""
    can_be, start = _source_class(models, site.model)
    if not can_be:
        return None
    if site.kind is LoopKind.ATTRIBUTE:
        resolved = _resolve(models, start, site.path)
        if resolved is None or not resolved.steps[-1].lazy_load:
            return None
        if _covered(site.eager, site.path):
            return None
        return resolved
    if site.kind is LoopKind.QUERY:
        if site.path and _resolve(models, start, site.path) is None:
            return None
        if site.query_model and models.classes and not any(
                part in models.names for part in site.query_model.split(".")):
            return None
        return _Resolved((), start is not None)
    return None


METHOD_DEPTH = 3
"""How deep calls from a model's method to its other methods (`self.x()`) are followed."""


def _model_methods(project: Project, models: Models) -> dict[str, dict[str, _Method]]:
    """For each model class name: its methods and properties by name."""
    facts = project.module_fact(_MODELS)
    result: dict[str, dict[str, _Method]] = {}
    for cls in models.classes:
        module = facts.get(cls.path)
        found = None if module is None else next(
            (c for c in module.classes if c.model.qualified == cls.qualified), None)
        for method in found.methods if found is not None else ():
            result.setdefault(cls.name, {})[method.name] = method
    return result


def _method_queries(models: Models, methods: dict[str, _Method], owner: str, name: str,
                    eager: tuple[str, ...] = (), depth: int = 0) -> bool:
    """Whether the model's method `name` runs a query: a session or `Model.query` call, a call
    on a `lazy="dynamic"` relationship of `self`, a read of a lazily loaded relationship of
    `self` that the rows' query does not load (`eager`, its loader options), or another
    method of `self` that does."""
    found = methods.get(name)
    if found is None or depth > METHOD_DEPTH:
        return False
    if found.queries:
        return True
    for attr in found.relations:
        relation = models.relationship(owner, attr)
        if relation is not None and relation.lazy == "dynamic":
            return True
    for attr in found.reads:
        relation = models.relationship(owner, attr)
        if relation is not None and relation.lazy_load and not _covered(eager, (attr,)):
            return True
    return any(other != name and
               _method_queries(models, methods, owner, other, eager, depth + 1)
               for other in found.calls)


def _query_method_site(models: Models, methods: dict[str, dict[str, _Method]],
                       site: LoopQuery) -> _Resolved | None:
    """`row.to_dict()` in a loop over query results, where the row's model method (or property)
    runs a query: an N+1 hidden in a helper. With the model unknown, every model that has a
    method of that name must run a query in it."""
    if site.kind is not LoopKind.ATTRIBUTE or len(site.path) != 1:
        return None
    can_be, start = _source_class(models, site.model)
    if not can_be:
        return None
    name = site.path[0]
    owners = [start] if start is not None else [c for c in methods if name in methods[c]]
    if not owners:
        return None
    for owner in owners:
        own = next((methods[c] for c in models.lineage(owner) if name in methods.get(c, {})),
                   None)
        if own is None or not _method_queries(models, own, owner, name, site.eager):
            return None
    return _Resolved((), False)  # a method's queries are judged by name: medium confidence


class _QueryLoops(NamedTuple):
    """What an application module does with query results in loops."""

    sites: tuple[LoopQuery, ...]
    """The module's query-loop sites (see query_loops)."""
    eager: tuple[int, ...]
    """The lines calling an eager-loading option (`joinedload`, `selectinload`, ...)."""


_EAGER_NAMES = tuple(sorted(EAGER_LOADERS))


def _query_loops(source: ParsedModule) -> _QueryLoops | None:
    """The query loops of an application module; None for a test module, a module that does
    not parse, and a module with no query loop and no eager-loading option."""
    module = source.index
    names = application_names(source)
    if names is None:
        return None
    eager = tuple(c.line for c in module.calls if c.name.endswith(_EAGER_NAMES)) \
        if any(end.endswith(_EAGER_NAMES) for end in names.call_ends) else ()
    if not module.loop_queries and not eager:
        return None
    return _QueryLoops(module.loop_queries, eager)


_QUERY_LOOPS = module_fact(f"database.query-loops.{FACTS_VERSION}", _query_loops)


def _sites(project: Project, kinds: Iterable[LoopKind]) -> list[tuple[str, LoopQuery]]:
    """The query-loop sites of these kinds in the application's modules, by path."""
    wanted = set(kinds)
    return [(path, site) for path, loops in project.module_fact(_QUERY_LOOPS).items()
            if loops is not None for site in loops.sites if site.kind in wanted]


def _eager_uses(project: Project, models: Models) -> list[Evidence]:
    evidence = [at_line(project, path, line)
                for path, loops in project.module_fact(_QUERY_LOOPS).items()
                if loops is not None for line in loops.eager]
    evidence += [at_line(project, r.path, r.line) for r in models.relationships
                 if not r.lazy_load and r.lazy != "unknown"]
    return sorted(set(evidence), key=lambda e: (e.path, e.line or 0))


@detector("eager_loading")
def eager_loading(project: Project) -> Finding:
    """Fails on every N+1 query site: inside a loop (`for` or comprehension) over the results of
    an ORM query (`Model.query...`, `session.query(..)`, `session.execute(select(..))
    .scalars()`, `db.paginate(..)`, a name assigned from one, or a relationship of a result),
    the body touches a lazily loaded relationship of the row (`lazy="select"` - the default -,
    `"dynamic"` or `"immediate"`) that no loader option of the query (`joinedload`,
    `selectinload`, `subqueryload`, `contains_eager`, `raiseload`, ...) loads, or runs a query
    itself, or calls a method or property of the row's model that runs a query (a session or
    `Model.query` call, a `lazy="dynamic"` relationship, a lazily loaded relationship of `self`
    the query does not load - `self.author.name` in `to_dict()` -, or another method of `self`
    that does; medium confidence). Relationships are read from the models (`relationship(...)`
    in model classes and their backrefs). Test files are left out. Passes with low confidence
    when there is none: Jinja templates and queries in other helper functions are not
    analysed."""
    models = find_models(project)
    methods = _model_methods(project, models)
    found: list[tuple[str, LoopQuery, _Resolved]] = []
    for path, site in _sites(project, (LoopKind.ATTRIBUTE, LoopKind.QUERY)):
        resolved = _lazy_site(models, site) or _query_method_site(models, methods, site)
        if resolved is not None:
            found.append((path, site, resolved))
    if found:
        places = list(dict.fromkeys((path, site.line) for path, site, _ in found))
        path, first, _ = found[0]
        confidence = Confidence.HIGH if all(r.by_class for _, _, r in found) \
            else Confidence.MEDIUM
        more = f" ({len(places) - MAX_SITES} more not listed)" if len(places) > MAX_SITES else ""
        return failed(
            f"{len(places)} place(s) run a query for every row of a query result (N+1), e.g. "
            f"{first.description} at {path}:{first.line}; load the relationship with "
            f"selectinload()/joinedload() in the query or lazy=\"selectin\" on the relationship"
            f", and fetch what a per-row method queries for all rows at once{more}",
            *(at_line(project, where, line) for where, line in places[:MAX_SITES]),
            confidence=confidence)
    eager = _eager_uses(project, models)
    scope = "no query and no lazily loaded relationship is used inside loops over query results"
    note = ("; Jinja templates and queries inside helper functions are not analysed")
    if eager:
        return passed(f"{scope}; eager loading is used ({eager[0].location}){note}",
                      *eager[:MAX_EVIDENCE], confidence=Confidence.LOW)
    return passed(f"{scope} ({len(models.relationships)} relationship(s) in "
                  f"{len(models.classes)} model(s)){note}", confidence=Confidence.LOW)


# --- ORM used sensibly ---------------------------------------------------------------------------


def _dynamic_count(models: Models, site: LoopQuery) -> bool:
    """`len(obj.attr.all())` where `attr` is a `lazy="dynamic"` relationship: on `self` inside a
    model's method, the relationship of that model (or its ancestors); otherwise every
    relationship of that name in the project is dynamic."""
    owner_text, attr = site.path
    owner_class = (site.function or "").partition(".")[0]
    if owner_text == "self" and owner_class in models.names:
        found = models.relationship(owner_class, attr)
        return found is not None and found.lazy == "dynamic"
    named = models.named(attr)
    return bool(named) and all(r.lazy == "dynamic" for r in named)


def _anti_pattern(models: Models, site: LoopQuery) -> bool:
    if site.kind is LoopKind.COUNT and site.path:
        return _dynamic_count(models, site)
    can_be, start = _source_class(models, site.model)
    if not can_be:
        return False
    if site.kind in (LoopKind.COUNT, LoopKind.SLICE):
        return True
    if start is None:
        return False
    return bool(site.columns) and all(models.is_column(start, c) for c in site.columns)


@detector("orm_anti_patterns")
def orm_anti_patterns(project: Project) -> Finding:
    """Fails on clear signs of loading every row to do the database's work in Python:
    `len(query.all())` or `len(obj.relation.all())` on a `lazy="dynamic"` relationship (use
    count()), `query.all()[0]` or `[:n]` (use first()/limit()), a
    comprehension with an `if` comparing columns over `query.all()` (filter in the query), and
    `sum`/`min`/`max` over a column of every row (use func.sum() ...). Columns are checked
    against the model's columns; test files are left out. Otherwise passes with low confidence:
    whether raw SQL would be clearer or faster somewhere is for a person to judge."""
    models = find_models(project)
    kinds = (LoopKind.COUNT, LoopKind.SLICE, LoopKind.FILTER, LoopKind.AGGREGATE)
    found = [(path, site) for path, site in _sites(project, kinds)
             if _anti_pattern(models, site)]
    if found:
        path, first = found[0]
        return failed(f"{len(found)} place(s) load every row to do in Python what the query "
                      f"should do, e.g. {first.description} at {path}:{first.line}",
                      *(at_line(project, p, s.line) for p, s in found[:MAX_SITES]),
                      confidence=Confidence.MEDIUM)
    return passed("no clear ORM anti-pattern found (len(query.all()), slicing .all(), filtering "
                  "or summing every row in Python); whether raw SQL would be clearer or faster "
                  "somewhere needs a person to judge", confidence=Confidence.LOW)
