"""Detectors: database (SQL use, schema migrations, N+1 queries, ORM anti-patterns).

This module also holds the facts about ORM models that the history detectors share: which
classes are models (deriving from a Flask-SQLAlchemy `db.Model`, a declarative base, SQLModel,
Peewee or Django models, or declaring `__tablename__`), their relationships with the way each
loads, and their columns. Everything is read from the AST index; nothing is imported or run.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from checklist_app.detectors.evidence import at_line
from checklist_app.detectors.organization import (
    FACTS_VERSION,
    Library,
    find_libraries,
    is_test_path,
    local_names,
    python_digest,
    qualify,
    subclasses_of,
)
from checklist_app.detectors.registry import detector
from checklist_app.findings import Confidence, Evidence, Finding, failed, passed
from checklist_app.project import ModuleIndex, Project
from checklist_app.project.pyindex import Call, Value, ValueKind
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
_MAPPED_DECORATORS = frozenset({"mapped", "mapped_as_dataclass"})
"""`@registry.mapped`: the decorated class is a model without a declarative base."""
_RELATIONSHIP_CALLS = frozenset({"relationship", "relation", "dynamic_loader"})
_COLUMN_CALLS = frozenset({"Column", "mapped_column", "column_property", "deferred",
                           "composite", "query_expression"})

LAZY_LOADS = frozenset({"select", "dynamic", "immediate"})
"""Relationship loading strategies that run a query per parent object when touched.

`dynamic` is one of them: each access (`post.comments.all()`, `.count()`, iteration) is its own
query, so touching it for every row of a loop is still N+1."""


@dataclass(frozen=True, slots=True)
class ModelClass:
    name: str
    """The class name as written (`Post`)."""
    qualified: str
    """Module and qualified class name (`app.models.Post`)."""
    path: str
    line: int
    bases: tuple[str, ...]
    """Simple names of the base classes."""


@dataclass(frozen=True, slots=True)
class Relationship:
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
        order: list[str] = []
        pending = [name]
        while pending:
            current = pending.pop(0)
            if current in order or current not in by_name:
                continue
            order.append(current)
            pending.extend(by_name[current].bases)
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


def _app_modules(project: Project) -> list[ModuleIndex]:
    return [m for m in project.modules() if m.syntax_error is None and not is_test_path(m.path)]


def find_models(project: Project) -> Models:
    """Every ORM model class of the project, with relationships and columns; computed once for
    the content of the project's modules."""
    return project.remembered(f"database.models.{FACTS_VERSION}", python_digest(project),
                              lambda: _read_models(project))


def _read_models(project: Project) -> Models:
    modules = [(m, local_names(m)) for m in _app_modules(project)]
    roots, db_names = _model_roots(modules)
    tablenames = {(module.path, a.class_name) for module, _ in modules
                  for a in module.assignments if a.target == "__tablename__" and a.class_name}
    pending: list[tuple[ModuleIndex, str, ModelClass, list[str]]] = []
    classes: dict[str, tuple[ModuleIndex, ModelClass]] = {}
    by_last: dict[str, list[str]] = {}
    for module, local in modules:
        for cls in module.classes:
            qualified = f"{module.module}.{cls.qualname}" if module.module else cls.qualname
            bases = [qualify(module, base, local) for base in cls.bases]
            model = ModelClass(cls.name, qualified, module.path, cls.line,
                               tuple(_last(b) for b in bases))
            mapped = any(_last(d) in _MAPPED_DECORATORS for d in cls.decorators)
            if mapped or (module.path, cls.qualname) in tablenames or any(
                    _is_model_base(base, roots, db_names) for base in bases):
                classes[qualified] = (module, model)
                by_last.setdefault(cls.name, []).append(qualified)
            else:
                pending.append((module, qualified, model, bases))
    changed = True
    while changed:  # subclasses of models, however deep
        changed = False
        for module, qualified, model, bases in pending:
            if qualified not in classes and any(
                    _same(base, known) for base in bases for known in by_last.get(_last(base), ())):
                classes[qualified] = (module, model)
                by_last.setdefault(model.name, []).append(qualified)
                changed = True
    relationships: list[Relationship] = []
    columns: set[tuple[str, str]] = set()
    by_module: dict[str, dict[str, ModelClass]] = {}
    for module, model in classes.values():
        by_module.setdefault(module.path, {})[model.qualified] = model
    for module, _ in modules:
        owned = by_module.get(module.path)
        if not owned:
            continue
        relationships.extend(_relationships(module, owned))
        for assignment in module.assignments:
            owner = owned.get(f"{module.module}.{assignment.class_name}" if module.module
                              else str(assignment.class_name))
            if owner is None or assignment.value.kind is not ValueKind.CALL:
                continue
            callee = _last(assignment.value.name)
            if callee in _COLUMN_CALLS or callee.endswith("Field"):
                columns.add((owner.name, assignment.target))
    ordered = sorted((m for _, m in classes.values()), key=lambda c: (c.path, c.line))
    return Models.of(tuple(ordered), tuple(relationships), frozenset(columns))


def _model_roots(
    modules: list[tuple[ModuleIndex, frozenset[str]]],
) -> tuple[set[str], set[str]]:
    """Qualified names whose subclasses are models, and the names of SQLAlchemy() objects."""
    roots: set[str] = set(MODEL_CLASSES)
    db_names: set[str] = set()
    for module, local in modules:
        for assignment in module.assignments:
            if assignment.function is not None or assignment.class_name is not None:
                continue
            value = assignment.value
            if value.kind is not ValueKind.CALL:
                continue
            callee = _last(value.name)
            qualified = qualify(module, assignment.target, local)
            if callee == "SQLAlchemy":
                roots.add(qualified + ".Model")
                db_names.add(_last(assignment.target))
            elif callee in _BASE_FACTORIES:
                roots.add(qualified)
        for cls in module.classes:
            qualified = f"{module.module}.{cls.qualname}" if module.module else cls.qualname
            bases = [qualify(module, base, local) for base in cls.bases]
            if any(base in DECLARATIVE_BASE_CLASSES for base in bases) or any(
                _last(d) == "as_declarative" for d in cls.decorators
            ):
                roots.add(qualified)
    return roots, db_names


def _is_model_base(base: str, roots: set[str], db_names: set[str]) -> bool:
    if any(_same(base, root) for root in roots):
        return True
    owner, _, name = base.rpartition(".")
    return name == "Model" and bool(owner) and (
        _last(owner) in db_names or _last(owner) == "db" or owner.startswith("flask_sqlalchemy"))


def _relationships(module: ModuleIndex, owned: Mapping[str, ModelClass]) -> list[Relationship]:
    calls: dict[int, list[Call]] = {}
    for found_call in module.calls:
        calls.setdefault(found_call.line, []).append(found_call)
    backrefs = sorted((c for c in module.calls if _last(c.name) == "backref"),
                      key=lambda c: c.line)
    found: list[Relationship] = []
    for assignment in module.assignments:
        key = f"{module.module}.{assignment.class_name}" if module.module \
            else str(assignment.class_name)
        owner = owned.get(key)
        value = assignment.value
        if owner is None or value.kind is not ValueKind.CALL:
            continue
        callee = _last(value.name)
        if callee not in _RELATIONSHIP_CALLS:
            continue
        declared = next((c for c in calls.get(assignment.line, []) if c.name == value.name), None)
        default = "dynamic" if callee == "dynamic_loader" else "select"
        target = _class_argument(declared.args[0]) if declared is not None and declared.args else ""
        lazy = _lazy(declared.keyword("lazy") if declared is not None else None, default)
        found.append(Relationship(owner.name, assignment.target, target, lazy, module.path,
                                  assignment.line))
        backref = declared.keyword("backref") if declared is not None else None
        if backref is None or not target:
            continue
        if backref.kind is ValueKind.CONST and isinstance(backref.const, str):
            found.append(Relationship(target, backref.const, owner.name, "select", module.path,
                                      assignment.line))
        elif backref.kind is ValueKind.CALL:
            later = next((c for c in backrefs if c.line >= assignment.line), None)
            if later is not None and later.args and later.args[0].kind is ValueKind.CONST \
                    and isinstance(later.args[0].const, str):
                found.append(Relationship(target, later.args[0].const, owner.name,
                                          _lazy(later.keyword("lazy"), "select"), module.path,
                                          later.line))
    return found


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
_SQL_MIGRATION_DIRS = ("migrations", "migration", "migrate", "db_migrations", "sql_migrations")
_TABLE_CREATION = ("*.create_all", "*.create_tables", "create_all")


def _alembic_environments(project: Project) -> list[Evidence]:
    """env.py files that import alembic, with the versions folder beside them when present."""
    found: list[Evidence] = []
    for module in _all_parsed(project):
        if posixpath.basename(module.path) != "env.py":
            continue
        imported = module.imports_module("alembic")
        if imported is not None:
            found.append(at_line(project, module.path, imported.line))
    return found


def _all_parsed(project: Project) -> Iterator[ModuleIndex]:
    return (m for m in project.modules() if m.syntax_error is None)


def _revision_scripts(project: Project) -> list[Evidence]:
    """Alembic revision scripts: modules that set `revision` and `down_revision` and define
    `upgrade()` (found even when the environment lives in a library, as with Flask-Alembic)."""
    found: list[Evidence] = []
    for module in _all_parsed(project):
        targets = {a.target: a.line for a in module.assignments
                   if a.function is None and a.class_name is None}
        if "revision" in targets and "down_revision" in targets and any(
                f.qualname == "upgrade" for f in module.functions):
            found.append(at_line(project, module.path, targets["revision"]))
    return found


def _django_migrations(project: Project) -> list[Evidence]:
    found: list[Evidence] = []
    for module in _all_parsed(project):
        if "/migrations/" not in "/" + module.path:
            continue
        imported = module.imports_module("django.db.migrations")
        if imported is not None:
            found.append(at_line(project, module.path, imported.line))
            break
    return found


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


def _creations(project: Project) -> list[Evidence]:
    return [at_line(project, module.path, call.line)
            for module, call in project.calls(*_TABLE_CREATION)
            if not is_test_path(module.path)][:MAX_EVIDENCE]


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
    makers = subclasses_of(project, frozenset(MIGRATION_CALLS))
    names = makers | {_last(maker) for maker in makers - set(MIGRATION_CALLS)}
    calls = [at_line(project, module.path, call.line)
             for module, call in project.calls(*sorted(names))
             if qualify(module, call.name, local_names(module)) in makers]
    environments = _alembic_environments(project)
    if calls:
        scripts = environments or _revision_scripts(project)
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
    scripts = _revision_scripts(project)
    if scripts:
        return passed(f"{len(scripts)} Alembic revision script(s), e.g. {scripts[0].path}",
                      *scripts[:MAX_EVIDENCE])
    django = _django_migrations(project)
    if django:
        return passed("Django migrations are used", *django)
    tools = [(module, imported) for module in _all_parsed(project) for imported in module.imports
             if any(imported.qualified == name or imported.qualified.startswith(name + ".")
                    for name in MIGRATION_IMPORTS)]
    if tools:
        module, imported = tools[0]
        return passed(f"a migration tool is imported: {imported.qualified}",
                      at_line(project, module.path, imported.line))
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
    creations = _creations(project)
    if creations:
        return failed(f"no schema migrations: tables are created with {creations[0].excerpt} "
                      f"({looked})", *creations)
    return failed(f"no schema migrations found ({looked})", confidence=Confidence.MEDIUM)


# --- N+1 queries ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Resolved:
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


_SESSION_QUERY = re.compile(r"(^|\.)session\.(execute|scalar|scalars|query|get|get_one)$"
                            r"|(^|\.)query\.(\w+\.)*(all|first|one|one_or_none|count|scalar|get"
                            r"|paginate|first_or_404|get_or_404)$")
"""Calls in a method that run a query: the session's, or a `Model.query` chain's last step."""
METHOD_DEPTH = 3
"""How deep calls from a model's method to its other methods (`self.x()`) are followed."""


def _model_methods(project: Project, models: Models
                   ) -> dict[str, dict[str, tuple[ModuleIndex, str]]]:
    """For each model class name: its methods and properties (module, qualified name)."""
    result: dict[str, dict[str, tuple[ModuleIndex, str]]] = {}
    for cls in models.classes:
        module = project.module(cls.path)
        if module is None:
            continue
        qualname = cls.qualified[len(module.module) + 1:] if module.module and \
            cls.qualified.startswith(module.module + ".") else cls.qualified
        for function in module.functions:
            if function.class_name == qualname:
                result.setdefault(cls.name, {})[function.name] = (module, function.qualname)
    return result


def _method_queries(models: Models, methods: dict[str, tuple[ModuleIndex, str]],
                    owner: str, name: str, depth: int = 0) -> bool:
    """Whether the model's method `name` runs a query: a session or `Model.query` call, a call
    on a `lazy="dynamic"` relationship of `self`, or another method of `self` that does."""
    found = methods.get(name)
    if found is None or depth > METHOD_DEPTH:
        return False
    module, qualname = found
    prefix = qualname + "."
    for call in module.calls:
        if call.function != qualname and not (call.function or "").startswith(prefix):
            continue
        if _SESSION_QUERY.search(call.name):
            return True
        parts = call.name.split(".")
        if len(parts) >= 3 and parts[0] == "self":
            relation = models.relationship(owner, parts[1])
            if relation is not None and relation.lazy == "dynamic":
                return True
        if len(parts) == 2 and parts[0] == "self" and parts[1] != name and \
                _method_queries(models, methods, owner, parts[1], depth + 1):
            return True
    return False


def _query_method_site(models: Models, methods: dict[str, dict[str, tuple[ModuleIndex, str]]],
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
        if own is None or not _method_queries(models, own, owner, name):
            return None
    return _Resolved((), False)  # a method's queries are judged by name: medium confidence


def _eager_uses(project: Project, models: Models) -> list[Evidence]:
    patterns = tuple(f"*{name}" for name in sorted(EAGER_LOADERS))
    evidence = [at_line(project, module.path, call.line)
                for module, call in project.calls(*patterns) if not is_test_path(module.path)]
    evidence += [at_line(project, r.path, r.line) for r in models.relationships
                 if not r.lazy_load and r.lazy != "unknown"]
    return sorted(set(evidence), key=lambda e: (e.path, e.line or 0))


def _sites(project: Project, kinds: Iterable[LoopKind]) -> Iterator[tuple[ModuleIndex, LoopQuery]]:
    wanted = set(kinds)
    for module in _app_modules(project):
        for site in module.loop_queries:
            if site.kind in wanted:
                yield module, site


@detector("eager_loading")
def eager_loading(project: Project) -> Finding:
    """Fails on every N+1 query site: inside a loop (`for` or comprehension) over the results of
    an ORM query (`Model.query...`, `session.query(..)`, `session.execute(select(..))
    .scalars()`, `db.paginate(..)`, a name assigned from one, or a relationship of a result),
    the body touches a lazily loaded relationship of the row (`lazy="select"` - the default -,
    `"dynamic"` or `"immediate"`) that no loader option of the query (`joinedload`,
    `selectinload`, `subqueryload`, `contains_eager`, `raiseload`, ...) loads, or runs a query
    itself, or calls a method or property of the row's model that runs a query (a session or
    `Model.query` call, a `lazy="dynamic"` relationship, or another method of `self` that does;
    medium confidence). Relationships are read from the models (`relationship(...)` in model
    classes and their backrefs). Test files are left out. Passes with low confidence when there
    is none: Jinja templates and queries in other helper functions are not analysed."""
    models = find_models(project)
    methods = _model_methods(project, models)
    found: list[tuple[ModuleIndex, LoopQuery, _Resolved]] = []
    for module, site in _sites(project, (LoopKind.ATTRIBUTE, LoopKind.QUERY)):
        resolved = _lazy_site(models, site) or _query_method_site(models, methods, site)
        if resolved is not None:
            found.append((module, site, resolved))
    if found:
        evidence = [at_line(project, module.path, site.line) for module, site, _ in found]
        unique = list(dict.fromkeys(evidence))
        module, first, _ = found[0]
        confidence = Confidence.HIGH if all(r.by_class for _, _, r in found) \
            else Confidence.MEDIUM
        more = f" ({len(unique) - MAX_SITES} more not listed)" if len(unique) > MAX_SITES else ""
        return failed(
            f"{len(unique)} place(s) run a query for every row of a query result (N+1), e.g. "
            f"{first.description} at {module.path}:{first.line}; load the relationship with "
            f"selectinload()/joinedload() in the query or lazy=\"selectin\" on the relationship"
            f", and fetch what a per-row method queries for all rows at once{more}",
            *unique[:MAX_SITES], confidence=confidence)
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
    found = [(module, site) for module, site in _sites(project, kinds)
             if _anti_pattern(models, site)]
    if found:
        module, first = found[0]
        return failed(f"{len(found)} place(s) load every row to do in Python what the query "
                      f"should do, e.g. {first.description} at {module.path}:{first.line}",
                      *(at_line(project, m.path, s.line) for m, s in found[:MAX_SITES]),
                      confidence=Confidence.MEDIUM)
    return passed("no clear ORM anti-pattern found (len(query.all()), slicing .all(), filtering "
                  "or summing every row in Python); whether raw SQL would be clearer or faster "
                  "somewhere needs a person to judge", confidence=Confidence.LOW)
