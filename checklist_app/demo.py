"""The bundled sample Flask project that `checklist-app demo` opens.

On first use it is written, as plain files, into a small git repository with some history in the
user data folder (`<user data>/flask-checklist/demo`). It is a real little Flask app that meets
some practices (application factory, blueprint, per-environment configuration, migrations,
hashed passwords, tests) and misses others (no CSRF protection, an SQL query built with an
f-string, no rate limiting, no CI), so a new user sees every kind of status at once.

The repository is built in a temporary folder beside the target and renamed into place, so an
interrupted first run never leaves a half-made demo behind. Git runs with a fixed author and
date and without the user's or the system's configuration, so every demo is the same.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DEMO_NAME = "demo"
_AUTHOR = ("Dana Demo", "dana@example.com")
_GIT_TIMEOUT_S = 30.0


class DemoError(Exception):
    """The sample project could not be created; the message says why."""


@dataclass(frozen=True, slots=True)
class DemoCommit:
    message: str
    date: str
    """ISO 8601 with an offset, e.g. 2024-03-04T10:00:00+01:00."""
    files: Mapping[str, str]


def default_data_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir("flask-checklist"))


def demo_path(data_dir: Path | None = None) -> Path:
    return (data_dir or default_data_dir()) / DEMO_NAME


def ensure_demo(data_dir: Path | None = None) -> Path:
    """The demo project's folder, created on first use. An existing demo is left as it is (the
    user may have changed it). Raises DemoError when it cannot be made."""
    target = demo_path(data_dir)
    if (target / ".git").is_dir():
        return target
    if target.exists():
        raise DemoError(f"{target} exists but is not the demo project; move it away and retry")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        building = Path(tempfile.mkdtemp(prefix=".demo-", dir=target.parent))
    except OSError as error:
        raise DemoError(f"cannot create the demo project in {target.parent}: "
                        f"{error.strerror or error}") from error
    try:
        build_demo(building)
        building.rename(target)
    except (OSError, subprocess.SubprocessError) as error:
        shutil.rmtree(building, ignore_errors=True)
        if (target / ".git").is_dir():  # another process made it meanwhile
            return target
        raise DemoError(f"cannot create the demo project in {target}: {error}") from error
    return target


def build_demo(root: Path) -> None:
    """Write the sample project into the empty folder `root`, commit by commit."""
    _git(root, "init", "-q", "-b", "main")
    for commit in DEMO_HISTORY:
        for path, text in commit.files.items():
            target = root / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        _git(root, "add", "-A")
        _git(root, "commit", "-q", "-m", commit.message, date=commit.date)


def _environment(date: str | None) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("GIT_")}
    name, email = _AUTHOR
    env.update({
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_AUTHOR_NAME": name,
        "GIT_AUTHOR_EMAIL": email,
        "GIT_COMMITTER_NAME": name,
        "GIT_COMMITTER_EMAIL": email,
        "LC_ALL": "C",
    })
    if date is not None:
        env["GIT_AUTHOR_DATE"] = date
        env["GIT_COMMITTER_DATE"] = date
    return env


def _git(root: Path, *args: str, date: str | None = None) -> None:
    command = ["git", "-c", "core.hooksPath=/dev/null", "-c", "commit.gpgsign=false",
               "-c", "init.templateDir=", *args]
    try:
        done = subprocess.run(command, cwd=root, env=_environment(date), capture_output=True,
                              text=True, timeout=_GIT_TIMEOUT_S, check=False)
    except FileNotFoundError as error:
        raise DemoError("git is not installed: the demo project is a git repository") from error
    if done.returncode != 0:
        detail = done.stderr.strip().splitlines()
        raise DemoError(f"git {args[0]} failed: {detail[-1] if detail else done.returncode}")


# --- the sample project -------------------------------------------------------------------------

_README = """\
# Bookshelf

A small Flask app to keep track of the books a team shares. It is the sample project of
Flask Checklist: it follows some best practices and misses others on purpose.

    pip install -r requirements.txt
    flask --app bookshelf run
"""

_REQUIREMENTS = """\
Flask==3.0.3
Flask-SQLAlchemy==3.1.1
Flask-Migrate==4.0.7
WTForms==3.1.2
"""

_REQUIREMENTS_DEV = """\
-r requirements.txt
pytest==8.2.0
"""

_GITIGNORE = """\
__pycache__/
*.pyc
instance/
.venv/
"""

_CONFIG = '''\
"""Configuration per environment: pick one with create_app("bookshelf.config.Testing")."""

import os


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY", "")
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL", "sqlite:///bookshelf.db")
    SQLALCHEMY_TRACK_MODIFICATIONS = False


class Development(Config):
    DEBUG = True


class Testing(Config):
    TESTING = True
    SQLALCHEMY_DATABASE_URI = "sqlite://"


class Production(Config):
    SESSION_COOKIE_SECURE = True
'''

_EXTENSIONS = '''\
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

db = SQLAlchemy()
migrate = Migrate()
'''

_INIT_V1 = '''\
"""The Bookshelf application factory."""

from flask import Flask


def create_app(config="bookshelf.config.Development"):
    app = Flask(__name__)
    app.config.from_object(config)

    from bookshelf.books import books

    app.register_blueprint(books)
    return app
'''

_INIT_V2 = '''\
"""The Bookshelf application factory."""

import click
from flask import Flask

from bookshelf.extensions import db, migrate


def create_app(config="bookshelf.config.Development"):
    app = Flask(__name__)
    app.config.from_object(config)
    db.init_app(app)
    migrate.init_app(app, db)

    from bookshelf.books import books

    app.register_blueprint(books)

    @app.cli.command("add-reader")
    @click.argument("name")
    @click.argument("password")
    def add_reader(name, password):
        """Add a reader who can lend books."""
        from bookshelf.models import Reader

        reader = Reader(name=name)
        reader.set_password(password)
        db.session.add(reader)
        db.session.commit()

    return app
'''

_BOOKS_INIT = '''\
from flask import Blueprint

books = Blueprint("books", __name__, url_prefix="/books")

from bookshelf.books import views  # noqa: E402,F401
'''

_VIEWS_V1 = '''\
from flask import render_template

from bookshelf.books import books


@books.route("/")
def index():
    return render_template("books/index.html", books=[])
'''

_VIEWS_V2 = '''\
from flask import redirect, render_template, request, url_for
from sqlalchemy import text

from bookshelf.books import books
from bookshelf.books.forms import BookForm
from bookshelf.extensions import db
from bookshelf.models import Book


@books.route("/")
def index():
    shelf = db.session.scalars(db.select(Book).order_by(Book.title)).all()
    return render_template("books/index.html", books=shelf)


@books.route("/new", methods=["GET", "POST"])
def new():
    form = BookForm(request.form)
    if request.method == "POST" and form.validate():
        db.session.add(Book(title=form.title.data, author=form.author.data))
        db.session.commit()
        return redirect(url_for("books.index"))
    return render_template("books/new.html", form=form)
'''

_VIEWS_V3 = _VIEWS_V2 + '''

@books.route("/search")
def search():
    term = request.args.get("q", "")
    rows = db.session.execute(
        text(f"SELECT id, title, author FROM book WHERE title LIKE '%{term}%'")
    ).all()
    return render_template("books/index.html", books=rows)
'''

_FORMS = '''\
from wtforms import Form, StringField
from wtforms.validators import DataRequired, Length


class BookForm(Form):
    title = StringField("Title", validators=[DataRequired(), Length(max=200)])
    author = StringField("Author", validators=[DataRequired(), Length(max=120)])
'''

_MODELS = '''\
from werkzeug.security import check_password_hash, generate_password_hash

from bookshelf.extensions import db


class Reader(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(80), unique=True, nullable=False)
    password_hash = db.Column(db.String(256), nullable=False)

    def set_password(self, password):
        self.password_hash = generate_password_hash(password)

    def check_password(self, password):
        return check_password_hash(self.password_hash, password)


class Book(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    title = db.Column(db.String(200), nullable=False)
    author = db.Column(db.String(120), nullable=False)
    reader_id = db.Column(db.Integer, db.ForeignKey("reader.id"))
    reader = db.relationship("Reader", backref="books")
'''

_MIGRATION = '''\
"""Books and readers.

Revision ID: 1a2b3c4d5e6f
Revises:
Create Date: 2024-03-05 09:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "1a2b3c4d5e6f"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "reader",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(80), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(256), nullable=False),
    )
    op.create_table(
        "book",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("author", sa.String(120), nullable=False),
        sa.Column("reader_id", sa.Integer(), sa.ForeignKey("reader.id")),
    )


def downgrade():
    op.drop_table("book")
    op.drop_table("reader")
'''

_ALEMBIC_ENV = '''\
from alembic import context
from flask import current_app

config = context.config
target_metadata = current_app.extensions["migrate"].db.metadata


def run_migrations_online():
    with current_app.extensions["migrate"].db.engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
'''

_TEMPLATE_BASE = """\
<!doctype html>
<title>{% block title %}Bookshelf{% endblock %}</title>
<main>{% block content %}{% endblock %}</main>
"""

_TEMPLATE_INDEX = """\
{% extends "base.html" %}
{% block content %}
<h1>Books</h1>
<ul>{% for book in books %}<li>{{ book.title }} by {{ book.author }}</li>{% endfor %}</ul>
<a href="{{ url_for('books.new') }}">Add a book</a>
{% endblock %}
"""

_TEMPLATE_NEW = """\
{% extends "base.html" %}
{% block content %}
<form method="post">
  {{ form.title.label }} {{ form.title() }}
  {{ form.author.label }} {{ form.author() }}
  <button type="submit">Add</button>
</form>
{% endblock %}
"""

_CONFTEST = '''\
import pytest

from bookshelf import create_app
from bookshelf.extensions import db


@pytest.fixture
def app():
    app = create_app("bookshelf.config.Testing")
    with app.app_context():
        db.create_all()
        yield app
        db.drop_all()


@pytest.fixture
def client(app):
    return app.test_client()
'''

_TEST_MODELS = '''\
from bookshelf.models import Reader


def test_passwords_are_hashed(app):
    reader = Reader(name="ada")
    reader.set_password("correct horse")
    assert reader.password_hash != "correct horse"
    assert reader.check_password("correct horse")
'''

_TEST_VIEWS = '''\
def test_index_lists_books(client):
    response = client.get("/books/")
    assert response.status_code == 200


def test_new_book_redirects(client):
    response = client.post("/books/new", data={"title": "Dune", "author": "Herbert"})
    assert response.status_code == 302
'''

DEMO_HISTORY: tuple[DemoCommit, ...] = (
    DemoCommit("Start Bookshelf: application factory and a books blueprint",
               "2024-03-04T10:00:00+01:00", {
                   "README.md": _README,
                   "requirements.txt": "Flask==3.0.3\n",
                   ".gitignore": _GITIGNORE,
                   "bookshelf/__init__.py": _INIT_V1,
                   "bookshelf/config.py": _CONFIG,
                   "bookshelf/books/__init__.py": _BOOKS_INIT,
                   "bookshelf/books/views.py": _VIEWS_V1,
                   "bookshelf/templates/base.html": _TEMPLATE_BASE,
                   "bookshelf/templates/books/index.html": _TEMPLATE_INDEX,
               }),
    DemoCommit("Add models, migrations and the new-book form", "2024-03-05T09:30:00+01:00", {
        "requirements.txt": _REQUIREMENTS,
        "bookshelf/__init__.py": _INIT_V2,
        "bookshelf/extensions.py": _EXTENSIONS,
        "bookshelf/models.py": _MODELS,
        "bookshelf/books/forms.py": _FORMS,
        "bookshelf/books/views.py": _VIEWS_V2,
        "bookshelf/templates/books/new.html": _TEMPLATE_NEW,
        "migrations/env.py": _ALEMBIC_ENV,
        "migrations/versions/1a2b3c4d5e6f_books_and_readers.py": _MIGRATION,
    }),
    DemoCommit("Add tests for models and views", "2024-03-06T16:15:00+01:00", {
        "requirements-dev.txt": _REQUIREMENTS_DEV,
        "tests/conftest.py": _CONFTEST,
        "tests/test_models.py": _TEST_MODELS,
        "tests/test_views.py": _TEST_VIEWS,
    }),
    DemoCommit("Add a quick title search", "2024-03-08T11:45:00+01:00", {
        "bookshelf/books/views.py": _VIEWS_V3,
    }),
)
