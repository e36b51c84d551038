"""Build a synthetic Flask repository at scale, quickly, with `git fast-import`.

The repository looks like a large real Flask project: an application factory package, one
blueprint package per feature area and entity, Flask-SQLAlchemy models, views with queries,
forms, services, config classes, tests, Alembic migrations, requirements, a GitHub workflow and
templates. Module sizes follow a long-tailed mix of 30 to 400 lines. The history is linear; each
commit adds, edits or removes 1 to 5 files, and the final tree holds exactly `--modules` Python
modules. Everything is drawn from one seeded random generator, so a seed always gives the same
commits (and the same HEAD sha).

    python benchmarks/synthetic_repo.py OUT_DIR [--modules N] [--commits N] [--seed S]
"""

from __future__ import annotations

import argparse
import bisect
import keyword
import os
import random
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

PACKAGE = "shopapp"
MARK = "@N@"
"""Stands for a small number in a file's text; it differs between consecutive versions."""

MAX_FILES_PER_COMMIT = 5
FILES_PER_COMMIT_WEIGHTS = (45, 25, 15, 9, 6)
"""How often a commit touches 1, 2, 3, 4 or 5 files."""

START_TIME = 1_609_750_800  # 2021-01-04 09:00 UTC

AUTHORS = (
    ("Ana Lima", "ana.lima@example.com", "-0300"),
    ("Ben Okafor", "ben.okafor@example.com", "+0100"),
    ("Chloe Martin", "chloe.martin@example.com", "+0100"),
    ("Dmitri Ivanov", "dmitri@example.com", "+0300"),
    ("Emma Schulz", "emma.schulz@example.com", "+0200"),
    ("Farid Haddad", "farid.haddad@example.com", "+0000"),
    ("Grace Kim", "grace.kim@example.com", "+0900"),
    ("Hugo Laurent", "hugo.laurent@example.com", "+0100"),
    ("Isha Patel", "isha.patel@example.com", "+0530"),
    ("Jonas Berg", "jonas.berg@example.com", "+0100"),
    ("Kate O'Neil", "kate.oneil@example.com", "-0500"),
    ("Luis Romero", "luis.romero@example.com", "-0600"),
)
AUTHOR_WEIGHTS = (14, 12, 11, 9, 9, 8, 8, 7, 7, 6, 5, 4)

AREAS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("accounts", ("users", "roles", "profiles", "teams", "invitations", "api_keys",
                  "audit_logs", "preferences", "addresses", "devices", "memberships",
                  "login_events", "consents", "organizations", "permissions_sets", "avatars")),
    ("catalog", ("products", "categories", "brands", "variants", "prices", "attributes",
                 "collections", "reviews", "images", "tags", "bundles", "suppliers",
                 "options", "badges", "specs", "listings")),
    ("orders", ("orders", "carts", "checkouts", "returns", "refunds", "discounts", "coupons",
                "gift_cards", "wishlists", "subscriptions", "quotes", "line_items",
                "order_notes", "fulfilments", "backorders", "preorders")),
    ("billing", ("invoices", "payments", "payouts", "taxes", "currencies", "ledgers",
                 "statements", "credit_notes", "payment_methods", "dunning_runs", "plans",
                 "usage_records", "price_books", "disputes", "chargebacks", "receipts")),
    ("shipping", ("shipments", "carriers", "rates", "parcels", "tracking_events",
                  "warehouses", "pickups", "zones", "labels", "customs_forms", "manifests",
                  "deliveries", "routes", "drivers", "vehicles", "depots")),
    ("inventory", ("stock_levels", "locations", "transfers", "adjustments", "stock_counts",
                   "batches", "serials", "reservations", "purchase_orders", "goods_receipts",
                   "forecasts", "reorder_rules", "bins", "cycle_counts", "kits", "lots")),
    ("support", ("tickets", "messages", "macros", "slas", "surveys", "articles",
                 "escalations", "agents", "queues", "attachments", "canned_replies", "chats",
                 "call_logs", "feedback", "faqs", "holidays")),
    ("marketing", ("campaigns", "segments", "newsletters", "referrals", "landing_pages",
                   "banners", "promotions", "affiliates", "experiments", "utm_links", "leads",
                   "webinars", "audiences", "journeys", "sponsors", "testimonials")),
    ("reporting", ("dashboards", "exports", "kpis", "sales_reports", "cohorts", "funnels",
                   "report_schedules", "widgets", "snapshots", "alerts", "datasets",
                   "annotations", "goals", "benchmarks", "scorecards", "heatmaps")),
    ("admin", ("settings", "feature_flags", "jobs", "maintenance_windows", "imports",
               "webhooks", "integrations", "translations", "pages", "menus", "redirects",
               "notices", "backups", "licenses", "tenants", "quotas")),
    ("notifications", ("emails", "text_messages", "push_messages", "message_templates",
                       "digests", "channels", "opt_outs", "delivery_logs", "bounces",
                       "schedules", "inbox_items", "mentions", "reminders", "broadcasts",
                       "topics", "recipients")),
)
REGION_SUFFIXES = ("", "_eu", "_us", "_apac", "_legacy", "_v2", "_latam", "_mena")

COLUMN_TYPES = (
    ("name", "db.String(NAME_LENGTH)", "sa.String(length=@N@)", "StringField"),
    ("code", "db.String(32)", "sa.String(length=32)", "StringField"),
    ("status", "db.String(20)", "sa.String(length=20)", "SelectField"),
    ("description", "db.Text", "sa.Text()", "TextAreaField"),
    ("amount", "db.Numeric(12, 2)", "sa.Numeric(precision=12, scale=2)", "DecimalField"),
    ("quantity", "db.Integer", "sa.Integer()", "IntegerField"),
    ("position", "db.Integer", "sa.Integer()", "IntegerField"),
    ("is_active", "db.Boolean", "sa.Boolean()", "BooleanField"),
    ("notes", "db.Text", "sa.Text()", "TextAreaField"),
    ("email", "db.String(255)", "sa.String(length=255)", "EmailField"),
    ("starts_at", "db.DateTime", "sa.DateTime()", "DateTimeField"),
    ("ends_at", "db.DateTime", "sa.DateTime()", "DateTimeField"),
    ("reference", "db.String(64)", "sa.String(length=64)", "StringField"),
    ("weight", "db.Float", "sa.Float()", "FloatField"),
    ("priority", "db.SmallInteger", "sa.SmallInteger()", "IntegerField"),
    ("external_id", "db.String(128)", "sa.String(length=128)", "StringField"),
)
MODEL_SUFFIXES = ("", "Item", "Note", "Event", "History", "Link", "Setting", "Tag", "Comment",
                  "Snapshot", "Attachment", "Rule")
SERVICE_VERBS = ("archive_stale", "recalculate", "sync", "import", "export", "merge",
                 "notify_owners_of", "expire", "reconcile", "rebuild_totals_for", "validate",
                 "purge_deleted", "assign", "summarise", "refresh")

HOT_WEIGHTS = {
    "factory": 4.0, "config": 3.0, "extensions": 2.0, "cli": 1.5, "conftest": 2.0,
    "factories": 2.5, "area": 1.0, "blueprint": 0.4, "models": 2.5, "forms": 1.5,
    "views": 3.0, "services": 3.0, "schemas": 1.0, "api": 2.0, "queries": 1.5, "tasks": 1.0,
    "permissions": 0.8, "tests": 2.0, "migration": 0.0, "requirements": 4.0, "ci": 1.0,
    "readme": 1.0, "template": 1.0, "docker": 0.3, "css": 0.5, "temporary": 1.5,
}


# --- values -----


@dataclass(frozen=True, slots=True)
class Entity:
    """One feature: a blueprint package with its models, views and tests."""

    area: str
    name: str
    """Plural snake case, e.g. `invoices`."""
    relative_imports: bool
    typed_models: bool
    """SQLAlchemy 2.0 `Mapped[...]` models instead of `db.Column`."""

    @property
    def singular(self) -> str:
        """The singular, used as a variable name (never a Python keyword)."""
        word = self.name
        if word.endswith("ies"):
            word = word[:-3] + "y"
        elif word.endswith(("sses", "xes", "ches", "shes")):
            word = word[:-2]
        elif word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        return word + "_record" if keyword.iskeyword(word) else word

    @property
    def model(self) -> str:
        return "".join(part.capitalize() for part in self.singular.split("_"))

    @property
    def package(self) -> str:
        return f"{PACKAGE}.{self.area}.{self.name}"

    @property
    def folder(self) -> str:
        return f"{PACKAGE}/{self.area}/{self.name}"

    @property
    def title(self) -> str:
        return self.name.replace("_", " ")


@dataclass(frozen=True, slots=True)
class Slot:
    """A file to be written: where, what kind, for which entity."""

    path: str
    kind: str
    entity: Entity | None = None
    variant: str = ""


@dataclass(frozen=True, slots=True)
class FileSpec:
    """A file's final text as a head, growing units and a tail, and how often it is edited.

    Version `v` of `last` shows a growing prefix of the units; `MARK` becomes a number that
    differs between consecutive versions and is `base` in the final one.
    """

    path: str
    head: str
    units: tuple[str, ...] = ()
    tail: str = ""
    hot: float = 1.0
    base: int = 20
    kind: str = ""
    temporary: bool = False
    title: str = ""

    def render(self, version: int, last: int) -> bytes:
        if version >= last:
            shown = len(self.units)
            number = self.base
        else:
            shown = max(1, len(self.units) * (version + 1) // (last + 1)) if self.units else 0
            number = self.base + 1 + (last - version) % 7
        text = self.head + "".join(self.units[:shown]) + self.tail
        return text.replace(MARK, str(number)).encode("utf-8")

    def final_text(self) -> str:
        return self.render(0, 0).decode("utf-8")


@dataclass(frozen=True, slots=True)
class Action:
    kind: str
    """"A" add, "M" modify, "D" delete."""
    file: int


@dataclass(slots=True)
class CommitPlan:
    actions: list[Action] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class BuildResult:
    root: Path
    modules: int
    python_lines: int
    other_files: int
    commits: int
    file_versions: int
    head: str
    seconds: float


# --- the catalogue of modules -----


def all_entities(rng: random.Random) -> list[Entity]:
    """Every entity in creation order, enough for any scale (regions repeat the areas)."""
    result: list[Entity] = []
    for suffix in REGION_SUFFIXES:
        for area, names in AREAS:
            for name in names:
                result.append(Entity(area + suffix, name, rng.random() < 0.5,
                                     rng.random() < 0.3))
    return result


CORE_MODULES = (
    Slot(f"{PACKAGE}/__init__.py", "factory"),
    Slot(f"{PACKAGE}/extensions.py", "extensions"),
    Slot(f"{PACKAGE}/config.py", "config"),
    Slot("wsgi.py", "wsgi"),
    Slot("tests/__init__.py", "empty"),
    Slot("tests/conftest.py", "conftest"),
    Slot("migrations/env.py", "migration_env"),
    Slot(f"{PACKAGE}/cli.py", "cli"),
    Slot("tests/factories.py", "factories"),
)


def plan_modules(count: int, rng: random.Random) -> list[Slot]:
    """`count` Python module slots in creation order: the core, then entity by entity."""
    slots: list[Slot] = list(CORE_MODULES[:count])
    areas_seen: set[str] = set()
    entities = iter(all_entities(rng))
    while len(slots) < count:
        entity = next(entities, None)
        if entity is None:
            raise ValueError(f"{count} modules is more than this generator can name")
        group: list[Slot] = []
        if entity.area not in areas_seen:
            areas_seen.add(entity.area)
            group.append(Slot(f"{PACKAGE}/{entity.area}/__init__.py", "area", entity))
            group.append(Slot(f"tests/{entity.area}/__init__.py", "empty", entity))
        folder = entity.folder
        kinds = ["blueprint", "models", "forms", "views", "services"]
        for kind, chance in (("schemas", 0.7), ("api", 0.6), ("queries", 0.35),
                             ("tasks", 0.4), ("permissions", 0.25)):
            if rng.random() < chance:
                kinds.append(kind)
        for kind in kinds:
            name = "__init__" if kind == "blueprint" else kind
            group.append(Slot(f"{folder}/{name}.py", kind, entity))
        tests = ["models", "views"]
        if rng.random() < 0.6:
            tests.append("services")
        if "api" in kinds:
            tests.append("api")
        for target in tests:
            group.append(Slot(f"tests/{entity.area}/test_{entity.name}_{target}.py", "tests",
                              entity, target))
        migrations = 1 + (rng.random() < 0.6) + (rng.random() < 0.3)
        for number in range(migrations):
            group.append(Slot("", "migration", entity, str(number)))
        slots.extend(group[: count - len(slots)])
    return slots


def target_lines(rng: random.Random) -> int:
    """A module size like real code: mostly 30-60 lines, a long tail up to 400."""
    if rng.random() < 0.02:
        return rng.randint(150, 400)
    return min(400, int(30 * rng.paretovariate(3.8)))


# --- writing Python -----


class Names:
    """Unique function and class names within one module."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def take(self, wanted: str) -> str:
        name = wanted
        number = 2
        while name in self.used:
            name = f"{wanted}_{number}"
            number += 1
        self.used.add(name)
        return name


def _lines(*lines: str) -> str:
    return "\n".join(lines) + "\n"


def _import_from(entity: Entity, module: str, names: str) -> str:
    if entity.relative_imports:
        return f"from .{module} import {names}"
    return f"from {entity.package}.{module} import {names}"


class Writer:
    """Turns module slots into file specs with realistic Flask code."""

    def __init__(self, rng: random.Random, slots: Sequence[Slot]) -> None:
        self.rng = rng
        self.slots = slots
        self.entities = list(dict.fromkeys(s.entity for s in slots if s.entity is not None))
        self.areas = list(dict.fromkeys(e.area for e in self.entities))
        self.previous_revision: str | None = None
        self.migrations = 0

    def _hex(self, size: int) -> str:
        return "".join(self.rng.choice("0123456789abcdef") for _ in range(size))

    def _grow(self, head: str, builders: Sequence[Callable[[Names, int], str]],
              names: Names, tail: str = "") -> tuple[str, ...]:
        """Units from the builders, chosen at random, until the module reaches its size."""
        target = target_lines(self.rng)
        lines = head.count("\n") + tail.count("\n")
        units: list[str] = []
        while lines < target or not units:
            builder = self.rng.choice(builders)
            unit = "\n\n" + builder(names, len(units))
            units.append(unit)
            lines += unit.count("\n")
        return tuple(units)

    def spec(self, slot: Slot) -> FileSpec:
        writers: dict[str, Callable[[Slot], FileSpec]] = {
            "factory": self._factory, "extensions": self._extensions, "config": self._config,
            "wsgi": self._wsgi, "empty": self._empty, "conftest": self._conftest,
            "migration_env": self._migration_env, "cli": self._cli,
            "factories": self._factories, "area": self._area, "blueprint": self._blueprint,
            "models": self._models, "forms": self._forms, "views": self._views,
            "services": self._services, "schemas": self._schemas, "api": self._api,
            "queries": self._queries, "tasks": self._tasks, "permissions": self._permissions,
            "tests": self._tests, "migration": self._migration,
        }
        return writers[slot.kind](slot)

    # --- core modules -----

    def _factory(self, slot: Slot) -> FileSpec:
        head = _lines(
            f'"""The {PACKAGE} application factory."""',
            "",
            "import logging",
            "import os",
            "",
            "from flask import Flask",
            "",
            f"from {PACKAGE}.cli import register_cli",
            f"from {PACKAGE}.config import config_by_name",
            f"from {PACKAGE}.extensions import cache, csrf, db, limiter, login_manager, migrate",
            "",
            "",
            "def create_app(config_name=None):",
            '    """Build and configure a new application instance."""',
            "    app = Flask(__name__, instance_relative_config=True)",
            '    config_name = config_name or os.environ.get("FLASK_CONFIG", "development")',
            "    app.config.from_object(config_by_name[config_name])",
            '    app.config.from_pyfile("config.py", silent=True)',
            f'    app.config.setdefault("ITEMS_PER_PAGE", {MARK})',
            "",
            "    db.init_app(app)",
            "    migrate.init_app(app, db)",
            "    csrf.init_app(app)",
            "    login_manager.init_app(app)",
            "    cache.init_app(app)",
            "    limiter.init_app(app)",
            "",
            "    register_blueprints(app)",
            "    register_cli(app)",
            "    register_error_handlers(app)",
            '    logging.getLogger(__name__).info("app created with %s config", config_name)',
            "    return app",
            "",
            "",
            "def register_error_handlers(app):",
            "    @app.errorhandler(404)",
            "    def not_found(error):",
            '        return {"error": "not found"}, 404',
            "",
            "    @app.errorhandler(500)",
            "    def server_error(error):",
            "        db.session.rollback()",
            '        return {"error": "internal error"}, 500',
            "",
            "",
            "def register_blueprints(app):",
            '    """Register every area\'s blueprint."""',
        )
        units = tuple(
            _lines(f"    from {PACKAGE}.{area} import bp as {area}_bp",
                   f'    app.register_blueprint({area}_bp, url_prefix="/{area}")')
            for area in self.areas
        )
        return FileSpec(slot.path, head, units, hot=HOT_WEIGHTS["factory"], base=20,
                        title="application factory")

    def _extensions(self, slot: Slot) -> FileSpec:
        head = _lines(
            '"""Extension instances, initialised in create_app()."""',
            "",
            "from flask_caching import Cache",
            "from flask_limiter import Limiter",
            "from flask_limiter.util import get_remote_address",
            "from flask_login import LoginManager",
            "from flask_migrate import Migrate",
            "from flask_sqlalchemy import SQLAlchemy",
            "from flask_wtf.csrf import CSRFProtect",
            "",
            "db = SQLAlchemy()",
            "migrate = Migrate()",
            "csrf = CSRFProtect()",
            "login_manager = LoginManager()",
            'login_manager.login_view = "accounts.login"',
            "cache = Cache()",
            f'limiter = Limiter(key_func=get_remote_address, default_limits=["{MARK}00 per hour"])',
            "",
            "",
            "@login_manager.user_loader",
            "def load_user(user_id):",
            f"    from {PACKAGE}.accounts.users.models import User",
            "",
            "    return db.session.get(User, int(user_id))",
        )
        return FileSpec(slot.path, head, hot=HOT_WEIGHTS["extensions"], base=10,
                        title="extensions")

    def _config(self, slot: Slot) -> FileSpec:
        head = _lines(
            '"""Configuration classes, one per environment."""',
            "",
            "import os",
            "from datetime import timedelta",
            "",
            "basedir = os.path.abspath(os.path.dirname(__file__))",
            "",
            "",
            "class Config:",
            '    SECRET_KEY = os.environ.get("SECRET_KEY")',
            '    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL", "sqlite:///shop.db")',
            "    SQLALCHEMY_TRACK_MODIFICATIONS = False",
            f'    SQLALCHEMY_ENGINE_OPTIONS = {{"pool_recycle": {MARK}0, "pool_pre_ping": True}}',
            '    CACHE_TYPE = "SimpleCache"',
            "    CACHE_DEFAULT_TIMEOUT = 300",
            '    RATELIMIT_STORAGE_URI = os.environ.get("REDIS_URL", "memory://")',
            "    SESSION_COOKIE_HTTPONLY = True",
            '    SESSION_COOKIE_SAMESITE = "Lax"',
            "    PERMANENT_SESSION_LIFETIME = timedelta(days=14)",
            "    WTF_CSRF_TIME_LIMIT = 3600",
            '    MAIL_SERVER = os.environ.get("MAIL_SERVER", "localhost")',
            "",
            "",
            "class DevelopmentConfig(Config):",
            "    DEBUG = True",
            '    SECRET_KEY = os.environ.get("SECRET_KEY", "dev")',
            "    SQLALCHEMY_ECHO = False",
            "",
            "",
            "class TestingConfig(Config):",
            "    TESTING = True",
            '    SECRET_KEY = "testing"',
            '    SQLALCHEMY_DATABASE_URI = "sqlite://"',
            "    WTF_CSRF_ENABLED = False",
            '    CACHE_TYPE = "NullCache"',
            "    RATELIMIT_ENABLED = False",
            "",
            "",
            "class ProductionConfig(Config):",
            "    SESSION_COOKIE_SECURE = True",
            "    REMEMBER_COOKIE_SECURE = True",
            '    PREFERRED_URL_SCHEME = "https"',
            '    CACHE_TYPE = "RedisCache"',
            '    CACHE_REDIS_URL = os.environ.get("REDIS_URL")',
            "",
            "",
            "config_by_name = {",
            '    "development": DevelopmentConfig,',
            '    "testing": TestingConfig,',
            '    "production": ProductionConfig,',
            "}",
        )
        return FileSpec(slot.path, head, hot=HOT_WEIGHTS["config"], base=3,
                        title="configuration")

    def _wsgi(self, slot: Slot) -> FileSpec:
        head = _lines(
            "import os",
            "",
            f"from {PACKAGE} import create_app",
            "",
            'app = create_app(os.environ.get("FLASK_CONFIG", "production"))',
        )
        return FileSpec(slot.path, head, hot=0.0, title="wsgi entry point")

    def _empty(self, slot: Slot) -> FileSpec:
        return FileSpec(slot.path, "", hot=0.0, title="package marker")

    def _conftest(self, slot: Slot) -> FileSpec:
        head = _lines(
            "import pytest",
            "",
            f"from {PACKAGE} import create_app",
            f"from {PACKAGE}.extensions import db as _db",
            "",
            f"LOGIN_ATTEMPTS = {MARK}",
            "",
            "",
            '@pytest.fixture(scope="session")',
            "def app():",
            '    app = create_app("testing")',
            "    with app.app_context():",
            "        _db.create_all()",
            "        yield app",
            "        _db.drop_all()",
            "",
            "",
            "@pytest.fixture",
            "def client(app):",
            "    return app.test_client()",
            "",
            "",
            "@pytest.fixture",
            "def runner(app):",
            "    return app.test_cli_runner()",
            "",
            "",
            "@pytest.fixture",
            "def db_session(app):",
            "    connection = _db.engine.connect()",
            "    transaction = connection.begin()",
            "    yield _db.session",
            "    _db.session.remove()",
            "    transaction.rollback()",
            "    connection.close()",
            "",
            "",
            "class AuthActions:",
            "    def __init__(self, client):",
            "        self._client = client",
            "",
            '    def login(self, email="user@example.com", password="secret-password"):',
            "        return self._client.post(",
            '            "/accounts/login", data={"email": email, "password": password}',
            "        )",
            "",
            "    def logout(self):",
            '        return self._client.get("/accounts/logout")',
            "",
            "",
            "@pytest.fixture",
            "def auth(client):",
            "    return AuthActions(client)",
        )
        return FileSpec(slot.path, head, hot=HOT_WEIGHTS["conftest"], base=3,
                        title="test fixtures")

    def _migration_env(self, slot: Slot) -> FileSpec:
        head = _lines(
            "import logging",
            "from logging.config import fileConfig",
            "",
            "from alembic import context",
            "from flask import current_app",
            "",
            "config = context.config",
            "fileConfig(config.config_file_name)",
            'logger = logging.getLogger("alembic.env")',
            "",
            "",
            "def get_engine():",
            "    try:",
            '        return current_app.extensions["migrate"].db.get_engine()',
            "    except (TypeError, AttributeError):",
            '        return current_app.extensions["migrate"].db.engine',
            "",
            "",
            "def get_engine_url():",
            "    try:",
            "        url = get_engine().url.render_as_string(hide_password=False)",
            '        return url.replace("%", "%%")',
            "    except AttributeError:",
            '        return str(get_engine().url).replace("%", "%%")',
            "",
            "",
            'config.set_main_option("sqlalchemy.url", get_engine_url())',
            'target_db = current_app.extensions["migrate"].db',
            "",
            "",
            "def get_metadata():",
            '    if hasattr(target_db, "metadatas"):',
            "        return target_db.metadatas[None]",
            "    return target_db.metadata",
            "",
            "",
            "def run_migrations_offline():",
            '    url = config.get_main_option("sqlalchemy.url")',
            "    context.configure(url=url, target_metadata=get_metadata(), literal_binds=True)",
            "    with context.begin_transaction():",
            "        context.run_migrations()",
            "",
            "",
            "def run_migrations_online():",
            "    def process_revision_directives(context, revision, directives):",
            '        if getattr(config.cmd_opts, "autogenerate", False):',
            "            script = directives[0]",
            "            if script.upgrade_ops.is_empty():",
            "                directives[:] = []",
            '                logger.info("No changes in schema detected.")',
            "",
            '    conf_args = current_app.extensions["migrate"].configure_args',
            '    if conf_args.get("process_revision_directives") is None:',
            '        conf_args["process_revision_directives"] = process_revision_directives',
            "    connectable = get_engine()",
            "    with connectable.connect() as connection:",
            "        context.configure(",
            "            connection=connection, target_metadata=get_metadata(), **conf_args",
            "        )",
            "        with context.begin_transaction():",
            "            context.run_migrations()",
            "",
            "",
            "if context.is_offline_mode():",
            "    run_migrations_offline()",
            "else:",
            "    run_migrations_online()",
        )
        return FileSpec(slot.path, head, hot=0.0, title="migration environment")

    def _cli(self, slot: Slot) -> FileSpec:
        head = _lines(
            '"""Custom flask commands: `flask seed ...`, `flask maintenance ...`."""',
            "",
            "import click",
            "from flask.cli import AppGroup, with_appcontext",
            "",
            f"from {PACKAGE}.extensions import db",
            "",
            'seed_cli = AppGroup("seed", help="Fill the database with sample data.")',
            f"DEFAULT_COUNT = {MARK}",
            "",
            "",
            "def register_cli(app):",
            "    app.cli.add_command(seed_cli)",
            "",
            '    @app.cli.command("create-db")',
            "    @with_appcontext",
            "    def create_db():",
            '        """Create every table (development only)."""',
            "        db.create_all()",
            '        click.echo("created")',
        )
        units = tuple(
            _lines(f'@seed_cli.command("{e.name}")',
                   '@click.option("--count", default=DEFAULT_COUNT)',
                   f"def seed_{e.name}(count):",
                   f"    from tests.factories import {e.model}Factory",
                   "",
                   f"    {e.model}Factory.create_batch(count)",
                   "    db.session.commit()",
                   f'    click.echo(f"created {{count}} {e.title}")')
            for e in self.entities[:12]
        )
        return FileSpec(slot.path, head, units=tuple("\n\n" + u for u in units),
                        hot=HOT_WEIGHTS["cli"], base=10, title="CLI commands")

    def _factories(self, slot: Slot) -> FileSpec:
        entities = self.entities[:40]
        head = _lines(
            '"""Test data factories (factory_boy + Faker)."""',
            "",
            "import factory",
            "from factory.alchemy import SQLAlchemyModelFactory",
            "from faker import Faker",
            "",
            f"from {PACKAGE}.extensions import db",
            *(f"from {e.package}.models import {e.model}" for e in entities),
            "",
            "fake = Faker()",
            f"BATCH = {MARK}",
            "",
            "",
            "class BaseFactory(SQLAlchemyModelFactory):",
            "    class Meta:",
            "        abstract = True",
            "        sqlalchemy_session = db.session",
            '        sqlalchemy_session_persistence = "flush"',
        )
        units = []
        for e in entities:
            units.append("\n\n" + _lines(
                f"class {e.model}Factory(BaseFactory):",
                "    class Meta:",
                f"        model = {e.model}",
                "",
                '    name = factory.Faker("company")',
                '    description = factory.Faker("paragraph")',
                "    position = factory.Sequence(lambda n: n)",
            ))
        return FileSpec(slot.path, head, tuple(units), hot=HOT_WEIGHTS["factories"], base=5,
                        title="test factories")

    # --- feature areas and entities -----

    def _area(self, slot: Slot) -> FileSpec:
        assert slot.entity is not None
        area = slot.entity.area
        head = _lines(
            f'"""The {area} area: a blueprint that nests one blueprint per entity."""',
            "",
            "from flask import Blueprint",
            "",
            f'bp = Blueprint("{area}", __name__)',
            f"PAGE_SIZE = {MARK}",
        )
        units = tuple(
            _lines(f"from {e.package} import bp as {e.name}_bp  # noqa: E402",
                   f'bp.register_blueprint({e.name}_bp, url_prefix="/{e.name}")')
            for e in self.entities if e.area == area
        )
        return FileSpec(slot.path, head, tuple("\n" + u for u in units),
                        hot=HOT_WEIGHTS["area"], base=20, title=f"{area} blueprint")

    def _blueprint(self, slot: Slot) -> FileSpec:
        assert slot.entity is not None
        e = slot.entity
        head = _lines(
            f'"""{e.title.capitalize()}: blueprint."""',
            "",
            "from flask import Blueprint",
            "",
            f'bp = Blueprint("{e.name}", __name__)',
            f"PAGE_SIZE = {MARK}",
            "",
            f"from {e.package} import views  # noqa: E402,F401",
        )
        return FileSpec(slot.path, head, hot=HOT_WEIGHTS["blueprint"], base=20,
                        title=f"{e.title} blueprint")

    def _columns(self, count: int) -> list[tuple[str, str, str, str]]:
        return self.rng.sample(COLUMN_TYPES, min(count, len(COLUMN_TYPES)))

    def _models(self, slot: Slot) -> FileSpec:
        assert slot.entity is not None
        e = slot.entity
        imports = ["from datetime import datetime", ""]
        if e.typed_models:
            imports += ["from sqlalchemy import ForeignKey, String",
                        "from sqlalchemy.orm import Mapped, mapped_column, relationship", ""]
        if e.name == "users":
            imports += ["from werkzeug.security import check_password_hash, "
                        "generate_password_hash", ""]
        head = _lines(f'"""{e.title.capitalize()}: database models."""', "", *imports,
                      f"from {PACKAGE}.extensions import db", "", f"NAME_LENGTH = {MARK}0")
        names = Names()
        table = e.name

        def model(names: Names, index: int) -> str:
            suffix = MODEL_SUFFIXES[index] if index < len(MODEL_SUFFIXES) else f"Part{index}"
            cls = names.take(e.model + suffix)
            tablename = table if index == 0 else f"{e.singular}_{suffix.lower() or index}s"
            lines = [f"class {cls}(db.Model):", f'    __tablename__ = "{tablename}"', ""]
            if e.typed_models:
                lines.append("    id: Mapped[int] = mapped_column(primary_key=True)")
                if index:
                    lines.append(f"    {e.singular}_id: Mapped[int] = "
                                 f'mapped_column(ForeignKey("{table}.id"), index=True)')
                for column, _, _, _ in self._columns(self.rng.randint(2, 6)):
                    lines.append(f"    {column}: Mapped[str | None] = "
                                 "mapped_column(String(NAME_LENGTH))")
                lines.append("    created_at: Mapped[datetime] = "
                             "mapped_column(default=datetime.utcnow)")
            else:
                lines.append("    id = db.Column(db.Integer, primary_key=True)")
                if index:
                    lines.append(f"    {e.singular}_id = db.Column(db.Integer, "
                                 f'db.ForeignKey("{table}.id"), nullable=False, index=True)')
                for column, kind, _, _ in self._columns(self.rng.randint(2, 7)):
                    lines.append(f"    {column} = db.Column({kind})")
                lines.append("    created_at = db.Column(db.DateTime, default=datetime.utcnow, "
                             "nullable=False)")
                lines.append("    updated_at = db.Column(db.DateTime, onupdate=datetime.utcnow)")
            if index:
                lines += ["", f"    {e.singular} = db.relationship("
                              f'"{e.model}", back_populates="{suffix.lower() or "part"}s")']
            elif e.name == "users":
                lines += ["    password_hash = db.Column(db.String(255), nullable=False)", "",
                          "    def set_password(self, password):",
                          "        self.password_hash = generate_password_hash(password)", "",
                          "    def check_password(self, password):",
                          "        return check_password_hash(self.password_hash, password)"]
            else:
                lines += ["", '    items = db.relationship("'
                              f'{e.model}Item", back_populates="{e.singular}", lazy="select")']
            lines += ["", "    def __repr__(self):", f'        return f"<{cls} {{self.id}}>"']
            if self.rng.random() < 0.4:
                lines += ["", "    def to_dict(self):",
                          '        return {"id": self.id, "created_at": '
                          "self.created_at.isoformat()}"]
            return _lines(*lines)

        return FileSpec(slot.path, head, self._grow(head, [model], names),
                        hot=HOT_WEIGHTS["models"], base=12, title=f"{e.title} models")

    def _forms(self, slot: Slot) -> FileSpec:
        assert slot.entity is not None
        e = slot.entity
        head = _lines(
            f'"""{e.title.capitalize()}: forms."""',
            "",
            "from flask_wtf import FlaskForm",
            "from wtforms import (BooleanField, DateTimeField, DecimalField, EmailField,",
            "                     FloatField, IntegerField, SelectField, StringField,",
            "                     SubmitField, TextAreaField)",
            "from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional",
            "",
            f"NAME_MAX = {MARK}0",
        )
        names = Names()
        prefixes = ("", "Edit", "Search", "Filter", "Import", "Bulk", "Confirm", "Export")

        def form(names: Names, index: int) -> str:
            prefix = prefixes[index % len(prefixes)]
            cls = names.take(f"{prefix}{e.model}Form")
            lines = [f"class {cls}(FlaskForm):"]
            for column, _, _, field_type in self._columns(self.rng.randint(2, 6)):
                label = column.replace("_", " ").capitalize()
                if field_type == "StringField":
                    validators = "[DataRequired(), Length(max=NAME_MAX)]"
                elif field_type == "EmailField":
                    validators = "[DataRequired(), Email()]"
                elif field_type in ("IntegerField", "DecimalField", "FloatField"):
                    validators = "[Optional(), NumberRange(min=0)]"
                else:
                    validators = "[Optional()]"
                if field_type == "SelectField":
                    lines.append(f'    {column} = SelectField("{label}", choices=['
                                 '("draft", "Draft"), ("active", "Active")])')
                else:
                    lines.append(f'    {column} = {field_type}("{label}", '
                                 f"validators={validators})")
            lines.append('    submit = SubmitField("Save")')
            if self.rng.random() < 0.3:
                lines += ["", "    def validate_name(self, field):",
                          "        if field.data and field.data.strip() != field.data:",
                          '            raise ValueError("No leading or trailing spaces.")']
            return _lines(*lines)

        return FileSpec(slot.path, head, self._grow(head, [form], names),
                        hot=HOT_WEIGHTS["forms"], base=12, title=f"{e.title} forms")

    def _views(self, slot: Slot) -> FileSpec:
        assert slot.entity is not None
        e = slot.entity
        m, s, t = e.model, e.singular, f"{e.area}/{e.name}"
        head = _lines(
            f'"""{e.title.capitalize()}: views."""',
            "",
            "from flask import abort, flash, jsonify, redirect, render_template, request, url_for",
            "from flask_login import current_user, login_required",
            "from sqlalchemy import text",
            "from sqlalchemy.orm import selectinload",
            "",
            f"from {PACKAGE}.extensions import cache, db, limiter",
            _import_from(e, "forms", f"{m}Form"),
            _import_from(e, "models", m),
            f"from {e.package} import bp",
            "",
            f"PER_PAGE = {MARK}",
        )
        names = Names()

        def listing(names: Names, index: int) -> str:
            name = names.take(f"list_{e.name}")
            return _lines(
                f'@bp.route("/{index or ""}")', "@login_required", f"def {name}():",
                '    page = request.args.get("page", 1, type=int)',
                f"    query = {m}.query.filter_by(owner_id=current_user.id)",
                f"    query = query.order_by({m}.created_at.desc())",
                "    pagination = query.paginate(page=page, per_page=PER_PAGE)",
                f'    return render_template("{t}/list.html", pagination=pagination)')

        def detail(names: Names, index: int) -> str:
            name = names.take(f"show_{s}")
            return _lines(
                f'@bp.route("/<int:{s}_id>/v{index}")', "@login_required",
                f"def {name}({s}_id):", f"    {s} = db.get_or_404({m}, {s}_id)",
                f"    if {s}.owner_id != current_user.id and not current_user.is_admin:",
                "        abort(403)", f'    return render_template("{t}/detail.html", {s}={s})')

        def create(names: Names, index: int) -> str:
            name = names.take(f"create_{s}")
            return _lines(
                f'@bp.route("/new/{index}", methods=["GET", "POST"])', "@login_required",
                f"def {name}():", f"    form = {m}Form()", "    if form.validate_on_submit():",
                f"        {s} = {m}(owner_id=current_user.id)", f"        form.populate_obj({s})",
                f"        db.session.add({s})", "        db.session.commit()",
                f'        flash("{m} saved.", "success")',
                f'        return redirect(url_for(".show_{s}", {s}_id={s}.id))',
                f'    return render_template("{t}/form.html", form=form)')

        def loop(names: Names, index: int) -> str:
            name = names.take(f"{e.name}_summary")
            return _lines(
                f'@bp.route("/summary/{index}")', "@login_required", f"def {name}():",
                "    rows = []", f"    for {s} in {m}.query.filter_by(is_active=True).all():",
                f'        rows.append({{"id": {s}.id, "items": len({s}.items)}})',
                '    return jsonify(rows=rows, total=len(rows))')

        def eager(names: Names, index: int) -> str:
            name = names.take(f"{e.name}_with_items")
            return _lines(
                f'@bp.route("/with-items/{index}")', "@login_required", f"def {name}():",
                f"    stmt = (db.select({m}).options(selectinload({m}.items))",
                f"            .where({m}.owner_id == current_user.id).limit(PER_PAGE))",
                f"    {e.name} = db.session.execute(stmt).scalars().all()",
                f'    return render_template("{t}/list.html", items={e.name})')

        def raw(names: Names, index: int) -> str:
            name = names.take(f"{e.name}_report")
            return _lines(
                f'@bp.route("/report/{index}")', "@login_required",
                f'@limiter.limit("{self.rng.choice((10, 20, 30))} per minute")',
                f"def {name}():", '    since = request.args.get("since", "2020-01-01")',
                "    result = db.session.execute(",
                f'        text("SELECT status, count(*) FROM {e.name} "',
                '             "WHERE created_at >= :since GROUP BY status"),',
                '        {"since": since},', "    )",
                "    return jsonify(dict(result.all()))")

        def cached(names: Names, index: int) -> str:
            name = names.take(f"{e.name}_stats")
            return _lines(
                f'@bp.route("/stats/{index}")', f"@cache.cached(timeout={MARK}0)",
                f"def {name}():",
                f"    total = db.session.scalar(db.select(db.func.count({m}.id)))",
                "    return jsonify(total=total)")

        def delete(names: Names, index: int) -> str:
            name = names.take(f"delete_{s}")
            return _lines(
                f'@bp.post("/<int:{s}_id>/delete/{index}")', "@login_required",
                f"def {name}({s}_id):", f"    {s} = db.get_or_404({m}, {s}_id)",
                f"    db.session.delete({s})", "    db.session.commit()",
                f'    flash("{m} deleted.", "info")',
                f'    return redirect(url_for(".list_{e.name}"))')

        builders = [listing, detail, create, loop, eager, raw, cached, delete]
        return FileSpec(slot.path, head, self._grow(head, builders, names),
                        hot=HOT_WEIGHTS["views"], base=20, title=f"{e.title} views")

    def _services(self, slot: Slot) -> FileSpec:
        assert slot.entity is not None
        e = slot.entity
        m, s = e.model, e.singular
        head = _lines(
            f'"""{e.title.capitalize()}: business rules, kept out of the views."""',
            "",
            "import logging",
            "from datetime import datetime, timedelta",
            "",
            "from sqlalchemy.orm import joinedload",
            "",
            f"from {PACKAGE}.extensions import db",
            _import_from(e, "models", m),
            "",
            "log = logging.getLogger(__name__)",
            f"BATCH_SIZE = {MARK}0",
        )
        names = Names()

        def batch(names: Names, index: int) -> str:
            verb = SERVICE_VERBS[index % len(SERVICE_VERBS)]
            name = names.take(f"{verb}_{e.name}")
            lines = [f"def {name}(days=30):",
                     "    cutoff = datetime.utcnow() - timedelta(days=days)"]
            if self.rng.random() < 0.5:
                lines.append(f"    stale = {m}.query.filter({m}.updated_at < cutoff)"
                             ".limit(BATCH_SIZE).all()")
            else:
                lines.append(f"    stale = (db.session.query({m}).options(joinedload({m}.items))")
                lines.append(f"             .filter({m}.updated_at < cutoff).limit(BATCH_SIZE)"
                             ".all())")
            lines += [f"    for {s} in stale:", f'        {s}.status = "{verb.split("_")[0]}d"']
            if self.rng.random() < 0.4:
                lines += [f"        for item in {s}.items:", "            item.is_active = False"]
            lines += ["    db.session.commit()",
                      f'    log.info("{verb} %d {e.title}", len(stale))', "    return len(stale)"]
            return _lines(*lines)

        def compute(names: Names, index: int) -> str:
            name = names.take(f"total_for_{s}")
            return _lines(
                f"def {name}({s}_id):", f"    {s} = db.session.get({m}, {s}_id)",
                f"    if {s} is None:", "        return 0",
                "    total = 0", f"    for item in {s}.items:",
                "        if item.is_active:", "            total += item.quantity or 0",
                "    return total")

        def transition(names: Names, index: int) -> str:
            name = names.take(f"close_{s}")
            return _lines(
                f"def {name}({s}, actor=None):", f'    if {s}.status == "closed":',
                f'        raise ValueError("{s} already closed")',
                f'    {s}.status = "closed"', f"    {s}.ends_at = datetime.utcnow()",
                f"    db.session.add({s})", "    db.session.commit()",
                f'    log.info("%s closed %s", actor, {s}.id)', f"    return {s}")

        return FileSpec(slot.path, head, self._grow(head, [batch, compute, transition], names),
                        hot=HOT_WEIGHTS["services"], base=10, title=f"{e.title} services")

    def _schemas(self, slot: Slot) -> FileSpec:
        assert slot.entity is not None
        e = slot.entity
        head = _lines(f'"""{e.title.capitalize()}: serialisation schemas."""', "",
                      "from marshmallow import Schema, fields, validate", "",
                      f"MAX_ITEMS = {MARK}0")
        names = Names()

        def schema(names: Names, index: int) -> str:
            flavour = ("", "Summary", "Detail", "Create", "Update")[index % 5]
            cls = names.take(f"{e.model}{flavour}Schema")
            lines = [f"class {cls}(Schema):", "    id = fields.Int(dump_only=True)"]
            for column, _, _, field_type in self._columns(self.rng.randint(2, 6)):
                kind = {"IntegerField": "Int", "DecimalField": "Decimal", "FloatField": "Float",
                        "BooleanField": "Bool", "DateTimeField": "DateTime",
                        "EmailField": "Email"}.get(field_type, "Str")
                lines.append(f"    {column} = fields.{kind}(allow_none=True)")
            lines += ["    created_at = fields.DateTime(dump_only=True)",
                      "    tags = fields.List(fields.Str(), "
                      "validate=validate.Length(max=MAX_ITEMS))"]
            return _lines(*lines)

        return FileSpec(slot.path, head, self._grow(head, [schema], names),
                        hot=HOT_WEIGHTS["schemas"], base=5, title=f"{e.title} schemas")

    def _api(self, slot: Slot) -> FileSpec:
        assert slot.entity is not None
        e = slot.entity
        m, s = e.model, e.singular
        head = _lines(
            f'"""{e.title.capitalize()}: JSON API."""', "",
            "import asyncio", "",
            "from flask import jsonify, request", "",
            f"from {PACKAGE}.extensions import csrf, db, limiter",
            _import_from(e, "models", m),
            f"from {e.package} import bp", "",
            f"API_PAGE_SIZE = {MARK}0")
        names = Names()

        def read(names: Names, index: int) -> str:
            name = names.take(f"api_list_{e.name}")
            return _lines(
                f'@bp.get("/api/{e.name}/{index}")', '@limiter.limit("60 per minute")',
                f"def {name}():", '    offset = request.args.get("offset", 0, type=int)',
                f"    stmt = db.select({m}).order_by({m}.id).offset(offset).limit(API_PAGE_SIZE)",
                "    rows = db.session.execute(stmt).scalars()",
                '    return jsonify([{"id": row.id} for row in rows])')

        def write(names: Names, index: int) -> str:
            name = names.take(f"api_update_{s}")
            return _lines(
                f'@bp.patch("/api/{e.name}/<int:{s}_id>/{index}")', "@csrf.exempt",
                f"def {name}({s}_id):", f"    {s} = db.get_or_404({m}, {s}_id)",
                "    payload = request.get_json(silent=True) or {}",
                "    for key in (\"name\", \"status\", \"notes\"):",
                "        if key in payload:", f"            setattr({s}, key, payload[key])",
                "    db.session.commit()", f'    return jsonify(id={s}.id), 200')

        def slow(names: Names, index: int) -> str:
            name = names.take(f"api_{e.name}_health")
            return _lines(
                f'@bp.get("/api/{e.name}/health/{index}")', f"async def {name}():",
                "    await asyncio.sleep(0)", '    return jsonify(status="ok")')

        return FileSpec(slot.path, head, self._grow(head, [read, read, write, slow], names),
                        hot=HOT_WEIGHTS["api"], base=5, title=f"{e.title} API")

    def _queries(self, slot: Slot) -> FileSpec:
        assert slot.entity is not None
        e = slot.entity
        m = e.model
        head = _lines(f'"""{e.title.capitalize()}: reusable queries."""', "",
                      "from sqlalchemy import func, select, text", "",
                      f"from {PACKAGE}.extensions import db",
                      _import_from(e, "models", m), "", f"DEFAULT_LIMIT = {MARK}0")
        names = Names()

        def query(names: Names, index: int) -> str:
            name = names.take(f"recent_{e.name}")
            return _lines(
                f"def {name}(owner_id, limit=DEFAULT_LIMIT):",
                f"    stmt = (select({m}).where({m}.owner_id == owner_id)",
                f"            .order_by({m}.created_at.desc()).limit(limit))",
                "    return db.session.execute(stmt).scalars().all()")

        def count(names: Names, index: int) -> str:
            name = names.take(f"count_{e.name}_by_status")
            return _lines(
                f"def {name}():",
                f"    stmt = select({m}.status, func.count({m}.id)).group_by({m}.status)",
                "    return dict(db.session.execute(stmt).all())")

        def raw(names: Names, index: int) -> str:
            name = names.take(f"{e.name}_totals")
            if self.rng.random() < 0.04:
                return _lines(  # the kind of string-built SQL real projects still contain
                    f"def {name}(column, since):",
                    f'    sql = f"SELECT {{column}}, sum(amount) FROM {e.name} '
                    "WHERE created_at >= '{since}' GROUP BY {column}\"",
                    "    return db.session.execute(text(sql)).all()")
            return _lines(
                f"def {name}(since):",
                f'    sql = text("SELECT status, sum(amount) FROM {e.name} "',
                '               "WHERE created_at >= :since GROUP BY status")',
                '    return db.session.execute(sql, {"since": since}).all()')

        return FileSpec(slot.path, head, self._grow(head, [query, count, raw], names),
                        hot=HOT_WEIGHTS["queries"], base=5, title=f"{e.title} queries")

    def _tasks(self, slot: Slot) -> FileSpec:
        assert slot.entity is not None
        e = slot.entity
        head = _lines(f'"""{e.title.capitalize()}: background tasks."""', "",
                      "from celery import shared_task", "",
                      f"from {PACKAGE}.extensions import db",
                      _import_from(e, "services", f"archive_stale_{e.name}"), "",
                      f"RETRY_DELAY = {MARK}0")
        names = Names()

        def task(names: Names, index: int) -> str:
            name = names.take(f"nightly_{e.name}")
            return _lines(
                "@shared_task(bind=True, max_retries=3)", f"def {name}(self, days=30):",
                "    try:", f"        return archive_stale_{e.name}(days=days)",
                "    except Exception as exc:", "        db.session.rollback()",
                "        raise self.retry(exc=exc, countdown=RETRY_DELAY)")

        return FileSpec(slot.path, head, self._grow(head, [task], names),
                        hot=HOT_WEIGHTS["tasks"], base=6, title=f"{e.title} tasks")

    def _permissions(self, slot: Slot) -> FileSpec:
        assert slot.entity is not None
        e = slot.entity
        s = e.singular
        head = _lines(f'"""{e.title.capitalize()}: who may do what."""', "",
                      "from functools import wraps", "",
                      "from flask import abort", "from flask_login import current_user", "",
                      f"CACHE_SECONDS = {MARK}0")
        names = Names()

        def rule(names: Names, index: int) -> str:
            verb = ("view", "edit", "delete", "export", "share")[index % 5]
            name = names.take(f"can_{verb}_{s}")
            return _lines(f"def {name}(user, {s}):", "    if user.is_admin:", "        return True",
                          f"    return {s}.owner_id == user.id")

        def decorator(names: Names, index: int) -> str:
            name = names.take(f"require_{e.singular}_role")
            return _lines(f"def {name}(role):", "    def decorate(view):", "        @wraps(view)",
                          "        def wrapper(*args, **kwargs):",
                          "            if not current_user.has_role(role):",
                          "                abort(403)", "            return view(*args, **kwargs)",
                          "        return wrapper", "    return decorate")

        return FileSpec(slot.path, head, self._grow(head, [rule, decorator], names),
                        hot=HOT_WEIGHTS["permissions"], base=6, title=f"{e.title} permissions")

    def _tests(self, slot: Slot) -> FileSpec:
        assert slot.entity is not None
        e = slot.entity
        m, s = e.model, e.singular
        url = f"/{e.area}/{e.name}"
        head = _lines(f'"""Tests for {e.title} {slot.variant}."""', "", "import pytest", "",
                      f"from {e.package}.models import {m}",
                      f"from tests.factories import {m}Factory", "",
                      f"EXPECTED_PAGE = {MARK}")
        names = Names()

        def login_required(names: Names, index: int) -> str:
            name = names.take(f"test_{e.name}_requires_login")
            return _lines(f"def {name}(client):", f'    response = client.get("{url}/")',
                          "    assert response.status_code == 302",
                          '    assert "/accounts/login" in response.headers["Location"]')

        def listing(names: Names, index: int) -> str:
            name = names.take(f"test_list_{e.name}")
            return _lines(f"def {name}(client, auth, db_session):",
                          f"    {m}Factory.create_batch(EXPECTED_PAGE + 1)", "    auth.login()",
                          f'    response = client.get("{url}/?page=1")',
                          "    assert response.status_code == 200")

        def model(names: Names, index: int) -> str:
            name = names.take(f"test_{s}_repr")
            return _lines(f"def {name}(db_session):", f"    {s} = {m}Factory()",
                          f'    assert repr({s}).startswith("<{m}")')

        def parametrized(names: Names, index: int) -> str:
            name = names.take(f"test_{s}_status_values")
            return _lines('@pytest.mark.parametrize("status", ["draft", "active", "closed"])',
                          f"def {name}(db_session, status):",
                          f"    {s} = {m}Factory(status=status)", "    db_session.flush()",
                          f"    assert db_session.get({m}, {s}.id).status == status")

        builders = [login_required, listing, model, parametrized]
        return FileSpec(slot.path, head, self._grow(head, builders, names),
                        hot=HOT_WEIGHTS["tests"], base=10, title=f"{e.title} {slot.variant} tests")

    def _migration(self, slot: Slot) -> FileSpec:
        assert slot.entity is not None
        e = slot.entity
        revision = self._hex(12)
        down = self.previous_revision
        self.previous_revision = revision
        self.migrations += 1
        number = int(slot.variant)
        child = ("items", "notes", "events")[max(0, number - 1)]
        table = e.name if number == 0 else f"{e.singular}_{child}"
        day = 1 + self.migrations % 28
        month = 1 + (self.migrations // 28) % 12
        year = 2021 + self.migrations // 336
        columns = self._columns(self.rng.randint(3, 12))
        lines = [f'"""create {table}', "", f"Revision ID: {revision}",
                 f"Revises: {down or ''}", f"Create Date: {year}-{month:02d}-{day:02d} 10:00:00",
                 '', '"""', "from alembic import op", "import sqlalchemy as sa", "",
                 f'revision = "{revision}"', f"down_revision = {down!r}",
                 "branch_labels = None", "depends_on = None", "", "",
                 "def upgrade():", "    op.create_table(", f'        "{table}",',
                 '        sa.Column("id", sa.Integer(), nullable=False),']
        if number:
            lines.append(f'        sa.Column("{e.singular}_id", sa.Integer(), nullable=False),')
        for column, _, kind, _ in columns:
            lines.append(f'        sa.Column("{column}", {kind}, nullable=True),')
        lines += ['        sa.Column("created_at", sa.DateTime(), nullable=False),',
                  '        sa.PrimaryKeyConstraint("id"),', "    )"]
        if number:
            lines.append(f'    op.create_index("ix_{table}_{e.singular}_id", "{table}", '
                         f'["{e.singular}_id"])')
        lines += ["", "", "def downgrade():"]
        if number:
            lines.append(f'    op.drop_index("ix_{table}_{e.singular}_id", table_name="{table}")')
        lines.append(f'    op.drop_table("{table}")')
        path = f"migrations/versions/{revision}_create_{table}.py"
        return FileSpec(path, _lines(*lines), hot=HOT_WEIGHTS["migration"], base=64,
                        title=f"{table} migration")

    # --- files that are not Python -----

    def other_files(self) -> list[tuple[int, FileSpec]]:
        """Non-Python files, each with the index of the module slot it follows."""
        result: list[tuple[int, FileSpec]] = [
            (0, FileSpec("requirements.txt", _lines(
                f"# pinned with pip-compile; refresh {MARK}",
                "Flask==3.0.3", "Flask-SQLAlchemy==3.1.1", "Flask-Migrate==4.0.7",
                "Flask-WTF==1.2.1", "Flask-Login==0.6.3", "Flask-Caching==2.3.0",
                "Flask-Limiter==3.7.0", "SQLAlchemy==2.0.30", "alembic==1.13.1",
                "marshmallow==3.21.2", "celery==5.4.0", "redis==5.0.4", "gunicorn==22.0.0",
                "Werkzeug==3.0.3"), hot=HOT_WEIGHTS["requirements"], base=1,
                title="requirements")),
            (0, FileSpec("requirements-dev.txt", _lines(
                "-r requirements.txt", f"# dev tools, refresh {MARK}", "pytest==8.2.1",
                "pytest-cov==5.0.0", "factory-boy==3.3.0", "Faker==25.2.0",
                "Flask-DebugToolbar==0.15.1", "ruff==0.4.5"), hot=1.0, base=1,
                title="development requirements")),
            (0, FileSpec(".gitignore", _lines("__pycache__/", "*.pyc", ".venv/", "instance/",
                                              ".pytest_cache/", "*.db", ".env"), hot=0.0,
                         title="gitignore")),
            (0, FileSpec("README.md", _lines(
                "# Shop", "", "A Flask shop back office.", "", "## Development", "",
                "    pip install -r requirements-dev.txt", "    flask --app wsgi run --debug",
                "", f"Sample data: `flask seed users --count {MARK}`."),
                hot=HOT_WEIGHTS["readme"], base=20, title="README")),
            (0, FileSpec(".flaskenv", _lines("FLASK_APP=wsgi.py", "FLASK_CONFIG=development"),
                         hot=0.0, title="flaskenv")),
            (1, FileSpec(".github/workflows/ci.yml", _lines(
                "name: CI", "on: [push, pull_request]", "jobs:", "  test:",
                "    runs-on: ubuntu-latest", f"    timeout-minutes: {MARK}", "    steps:",
                "      - uses: actions/checkout@v4", "      - uses: actions/setup-python@v5",
                "        with:", '          python-version: "3.11"',
                "      - run: pip install -r requirements-dev.txt",
                "      - run: pytest -q"), hot=HOT_WEIGHTS["ci"], base=15, title="CI workflow")),
            (2, FileSpec("Dockerfile", _lines(
                "FROM python:3.11-slim", "WORKDIR /app", "COPY requirements.txt .",
                "RUN pip install --no-cache-dir -r requirements.txt", "COPY . .",
                f"ENV WEB_CONCURRENCY={MARK}",
                'CMD ["gunicorn", "wsgi:app", "--bind", "0.0.0.0:8000"]'),
                hot=HOT_WEIGHTS["docker"], base=2, title="Dockerfile")),
            (2, FileSpec(f"{PACKAGE}/templates/base.html", _lines(
                "<!doctype html>", "<html lang=\"en\">", "<head>",
                "  <meta charset=\"utf-8\">", "  <title>{% block title %}Shop{% endblock %}"
                "</title>", "  <link rel=\"stylesheet\" href=\"{{ url_for('static', "
                "filename='css/app.css') }}\">", "</head>", "<body>",
                f"  {{% set page_size = {MARK} %}}", "  {% block content %}{% endblock %}",
                "</body>", "</html>"), hot=HOT_WEIGHTS["template"], base=20,
                title="base template")),
            (2, FileSpec(f"{PACKAGE}/static/css/app.css", _lines(
                "body { font-family: system-ui, sans-serif; margin: 0; }",
                f".container {{ max-width: {MARK}0px; margin: 0 auto; }}",
                ".flash-success { color: #0a0; }"), hot=HOT_WEIGHTS["css"], base=96,
                title="stylesheet")),
            (6, FileSpec("migrations/alembic.ini", _lines(
                "[alembic]", "", "[loggers]", "keys = root,sqlalchemy,alembic", "",
                "[handlers]", "keys = console", "", "[formatters]", "keys = generic"),
                hot=0.0, title="alembic.ini")),
            (6, FileSpec("migrations/script.py.mako", _lines(
                '"""${message}', "", "Revision ID: ${up_revision}", '"""',
                "from alembic import op", "import sqlalchemy as sa", "", "",
                "def upgrade():", "    ${upgrades if upgrades else \"pass\"}"),
                hot=0.0, title="migration template")),
        ]
        for index, slot in enumerate(self.slots):
            if slot.kind != "views" or slot.entity is None:
                continue
            e = slot.entity
            pages = ["list", "detail"] + (["form"] if self.rng.random() < 0.6 else [])
            for page in pages:
                result.append((index, FileSpec(
                    f"{PACKAGE}/templates/{e.area}/{e.name}/{page}.html",
                    _lines('{% extends "base.html" %}',
                           f"{{% block title %}}{e.title.capitalize()}{{% endblock %}}",
                           "{% block content %}", f"<h1>{e.title.capitalize()}</h1>",
                           f'<p class="hint">Showing up to {MARK} items.</p>',
                           "{% for item in pagination.items if pagination else items %}",
                           "  <div>{{ item.name }}</div>", "{% endfor %}",
                           "{% endblock %}"), hot=HOT_WEIGHTS["template"], base=20,
                    title=f"{e.title} {page} page")))
        return result

    def temporary_files(self, count: int) -> list[tuple[int, FileSpec]]:
        """Scripts and notes that are added and later deleted."""
        result: list[tuple[int, FileSpec]] = []
        entities: list[Entity | None] = list(self.entities) or [None]
        for number in range(count):
            e = self.rng.choice(entities)
            position = self.rng.randrange(len(self.slots))
            if e is not None and number % 2 == 0:
                head = _lines(f'"""One-off backfill for {e.title}; remove after release."""',
                              "", f"from {PACKAGE} import create_app",
                              f"from {PACKAGE}.extensions import db", "", f"CHUNK = {MARK}00",
                              "", "", "def main():", '    app = create_app("production")',
                              "    with app.app_context():",
                              f'        db.session.execute(db.text("UPDATE {e.name} SET '
                              "status = 'active' WHERE status IS NULL\"))",
                              "        db.session.commit()", "", "",
                              'if __name__ == "__main__":', "    main()")
                path = f"scripts/backfill_{e.name}_{number}.py"
            else:
                head = _lines(f"# Notes {number}", "", f"Draft plan, step {MARK}.")
                path = f"docs/notes/plan-{number}.md"
            result.append((position, FileSpec(path, head, hot=HOT_WEIGHTS["temporary"], base=1,
                                              temporary=True, title="one-off script")))
        return result


# --- the history -----


def catalogue(modules: int, rng: random.Random) -> list[FileSpec]:
    """Every file ever written, in the order they are first added."""
    slots = plan_modules(modules, rng)
    writer = Writer(rng, slots)
    python = [writer.spec(slot) for slot in slots]
    extra = writer.other_files() + writer.temporary_files(max(1, modules // 100))
    extra.sort(key=lambda pair: pair[0])
    ordered: list[FileSpec] = []
    pending = iter(extra)
    following = next(pending, None)
    for index, spec in enumerate(python):
        ordered.append(spec)
        while following is not None and following[0] <= index:
            ordered.append(following[1])
            following = next(pending, None)
    while following is not None:
        ordered.append(following[1])
        following = next(pending, None)
    for spec in ordered:
        if spec.hot > 0 and MARK not in spec.head:
            raise AssertionError(f"{spec.path} is edited but its head has no {MARK}")
    return ordered


@dataclass(order=True, frozen=True, slots=True)
class _Event:
    time: float
    sequence: int
    kind: str
    file: int


class _Picker:
    """Weighted choice among the files that exist now, with a bias to recent work."""

    def __init__(self, rng: random.Random, files: Sequence[FileSpec]) -> None:
        self.rng = rng
        self.files = files
        self.alive: list[int] = []
        self.cumulative: list[float] = []
        self.dead: set[int] = set()
        self.recent: list[int] = []

    def add(self, file: int) -> None:
        weight = self.files[file].hot
        if weight <= 0:
            return
        total = self.cumulative[-1] if self.cumulative else 0.0
        self.alive.append(file)
        self.cumulative.append(total + weight)
        self.recent = (self.recent + [file])[-12:]

    def remove(self, file: int) -> None:
        self.dead.add(file)
        if file in self.recent:
            self.recent.remove(file)

    def pick(self, exclude: set[int]) -> int | None:
        if not self.alive:
            return None
        for _ in range(30):
            if self.recent and self.rng.random() < 0.3:
                candidate = self.rng.choice(self.recent)
            else:
                point = self.rng.random() * self.cumulative[-1]
                candidate = self.alive[bisect.bisect_right(self.cumulative, point)
                                       if point < self.cumulative[-1] else -1]
            if candidate not in exclude and candidate not in self.dead:
                return candidate
        return None


def plan_history(files: Sequence[FileSpec], commits: int, rng: random.Random) -> list[CommitPlan]:
    """Which files each commit adds, edits and deletes; every file is added, every temporary
    file deleted, and no commit touches more than five files or none."""
    events: list[_Event] = []
    times = sorted(rng.uniform(0, commits * 0.9) for _ in files)
    for index, spec in enumerate(files):
        added = 0.0 if index < 3 else times[index]
        events.append(_Event(added, len(events), "A", index))
        if spec.temporary:
            removed = min(commits - 1.0, added + 1 + rng.uniform(20, 400) * commits / 20_000)
            events.append(_Event(removed, len(events), "D", index))
    if len(events) > MAX_FILES_PER_COMMIT * commits:
        needed = -(-len(events) // MAX_FILES_PER_COMMIT)
        raise ValueError(f"{len(files)} files need at least {needed} commits")
    events.sort()
    picker = _Picker(rng, files)
    plans: list[CommitPlan] = []
    next_event = 0
    for number in range(commits):
        size = rng.choices(range(1, MAX_FILES_PER_COMMIT + 1), FILES_PER_COMMIT_WEIGHTS)[0]
        remaining = len(events) - next_event
        must = remaining - MAX_FILES_PER_COMMIT * (commits - number - 1)
        plan = CommitPlan()
        touched: set[int] = set()
        added_now: set[int] = set()
        while next_event < len(events) and len(plan.actions) < MAX_FILES_PER_COMMIT:
            event = events[next_event]
            due = event.time <= number or len(plan.actions) < must
            if not due or (event.kind == "D" and event.file in added_now):
                break
            plan.actions.append(Action(event.kind, event.file))
            touched.add(event.file)
            if event.kind == "A":
                added_now.add(event.file)
            next_event += 1
        while len(plan.actions) < size:
            file = picker.pick(touched)
            if file is None:
                break
            plan.actions.append(Action("M", file))
            touched.add(file)
        if not plan.actions and next_event < len(events):
            event = events[next_event]
            plan.actions.append(Action(event.kind, event.file))
            next_event += 1
        if not plan.actions:
            raise ValueError("a commit would touch no file: too few editable files")
        for action in plan.actions:
            if action.kind == "A":
                picker.add(action.file)
            elif action.kind == "D":
                picker.remove(action.file)
        plans.append(plan)
    if next_event != len(events):
        raise AssertionError("history plan left files out")
    return plans


_MODIFY_VERBS = ("Fix", "Refactor", "Tidy", "Update", "Simplify", "Handle edge cases in",
                 "Speed up", "Add logging to", "Clean up", "Rework", "Extend", "Document")


def _message(files: Sequence[FileSpec], plan: CommitPlan, rng: random.Random) -> str:
    first = plan.actions[0]
    title = files[first.file].title or files[first.file].path
    if first.kind == "A":
        subject = f"Add {title}"
    elif first.kind == "D":
        subject = f"Remove {files[first.file].path}"
    else:
        subject = f"{rng.choice(_MODIFY_VERBS)} {title}"
    if len(plan.actions) > 1:
        return f"{subject}\n\nAlso touches {len(plan.actions) - 1} other file(s).\n"
    return subject + "\n"


def _data(stream: IO[bytes], payload: bytes) -> None:
    stream.write(b"data %d\n" % len(payload))
    stream.write(payload)
    stream.write(b"\n")


def write_stream(stream: IO[bytes], files: Sequence[FileSpec], plans: Sequence[CommitPlan],
                 rng: random.Random) -> int:
    """Write the fast-import commands for the whole history; returns the file versions."""
    last = [0] * len(files)
    for plan in plans:
        for action in plan.actions:
            if action.kind == "M":
                last[action.file] += 1
    version = [0] * len(files)
    written = 0
    moment = START_TIME
    for plan in plans:
        moment += rng.randint(300, 9_000)
        name, email, zone = rng.choices(AUTHORS, AUTHOR_WEIGHTS)[0]
        stream.write(b"commit refs/heads/main\n")
        ident = f"{name} <{email}> {moment} {zone}\n".encode()
        stream.write(b"author " + ident)
        stream.write(b"committer " + ident)
        _data(stream, _message(files, plan, rng).encode())
        for action in plan.actions:
            spec = files[action.file]
            path = spec.path.encode()
            if action.kind == "D":
                stream.write(b"D " + path + b"\n")
                continue
            if action.kind == "M":
                version[action.file] += 1
            stream.write(b"M 100644 inline " + path + b"\n")
            _data(stream, spec.render(version[action.file], last[action.file]))
            written += 1
        stream.write(b"\n")
    stream.write(b"done\n")
    return written


# --- building -----


def _git_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update({"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
                "GIT_TERMINAL_PROMPT": "0"})
    return env


def _git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=root, env=_git_env(), capture_output=True,
                          text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


def build(out: Path, modules: int = 2_000, commits: int = 20_000, seed: int = 1) -> BuildResult:
    """Create the repository in `out` (a new or empty folder) and check out its HEAD."""
    started = time.perf_counter()
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out} is not empty")
    if modules < 1 or commits < 1:
        raise ValueError("--modules and --commits must be at least 1")
    rng = random.Random(seed)
    files = catalogue(modules, rng)
    plans = plan_history(files, commits, rng)
    out.mkdir(parents=True, exist_ok=True)
    _git(out, "init", "-q", "-b", "main")
    importer = subprocess.Popen(["git", "fast-import", "--quiet", "--done"], cwd=out,
                                env=_git_env(), stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    assert importer.stdin is not None and importer.stderr is not None
    try:
        versions = write_stream(importer.stdin, files, plans, rng)
        importer.stdin.close()
    except BrokenPipeError:
        versions = 0
    problems = importer.stderr.read().decode("utf-8", "replace")
    importer.stderr.close()
    if importer.wait() != 0:
        raise RuntimeError(f"git fast-import failed: {problems.strip()}")
    _git(out, "reset", "-q", "--hard")
    head = _git(out, "rev-parse", "HEAD").strip()
    final = [f for f in files if not f.temporary]
    python = [f for f in final if f.path.endswith(".py")]
    lines = sum(f.final_text().count("\n") for f in python)
    return BuildResult(out, len(python), lines, len(final) - len(python), len(plans), versions,
                       head, time.perf_counter() - started)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build a synthetic Flask repository.")
    parser.add_argument("out", type=Path, help="a new (or empty) folder for the repository")
    parser.add_argument("--modules", type=int, default=2_000, help="Python modules (2000)")
    parser.add_argument("--commits", type=int, default=20_000, help="commits (20000)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (1)")
    args = parser.parse_args(argv)
    try:
        result = build(args.out, args.modules, args.commits, args.seed)
    except (FileExistsError, ValueError, RuntimeError) as error:
        print(f"synthetic_repo: {error}", file=sys.stderr)
        return 2
    print(f"built {result.root}: {result.modules} Python modules ({result.python_lines} lines), "
          f"{result.other_files} other files, {result.commits} commits "
          f"({result.file_versions} file versions), HEAD {result.head[:12]}, "
          f"in {result.seconds:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
