"""Security detectors on small sample projects: exact outcome, confidence and evidence."""

from __future__ import annotations

import ast
import pickle
import re
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from checklist_app.checklists import BUILTIN_RULES_DIR, Checklists, load_checklists
from checklist_app.detectors import registered, security
from checklist_app.findings import Confidence, Finding, Outcome
from checklist_app.project import Project
from checklist_app.project.cache import FactsCache
from checklist_app.project.pyindex import index_module, parse_module
from checklist_app.project.sql_flow import SiteKind
from checklist_app.scan import facts_for
from tests.repos import Repo

MakeRepo = Callable[..., Repo]

PASS = Outcome.PASS
FAIL = Outcome.FAIL
UNKNOWN = Outcome.UNKNOWN
HIGH = Confidence.HIGH
MEDIUM = Confidence.MEDIUM
LOW = Confidence.LOW


def src(text: str) -> str:
    """Dedented source whose first line is line 1."""
    return textwrap.dedent(text).lstrip("\n")


@dataclass(frozen=True)
class Case:
    id: str
    files: dict[str, str]
    outcome: Outcome
    evidence: tuple[str, ...] = ()
    """Exact `path:line` of every evidence, in order."""
    confidence: Confidence = HIGH
    message: tuple[str, ...] = field(default=())
    """Texts the message must contain."""


def detect(root: Path, name: str) -> Finding:
    project = Project(root)
    try:
        return registered()[name].run(project, {})
    finally:
        project.close()


def check(case: Case, make_repo: MakeRepo, name: str) -> None:
    repo = make_repo(case.files)
    found = detect(repo.root, name)
    assert (found.outcome, found.confidence) == (case.outcome, case.confidence), found.message
    assert tuple(e.location for e in found.evidence) == case.evidence, found.message
    for text in case.message:
        assert text in found.message


def ids(cases: list[Case]) -> list[str]:
    return [c.id for c in cases]


# --- password hashing ---------------------------------------------------------------------------

MODEL = src("""
    from app import db

    class User(db.Model):
        id = db.Column(db.Integer, primary_key=True)
        password_hash = db.Column(db.String(255))
""")

HANDLES_PASSWORDS = [
    Case("model attribute", {"app/models.py": MODEL}, PASS, ("app/models.py:5",)),
    Case("password input in a template",
         {"app/templates/login.html": '<form method="post">\n<input type="password" name="pw">\n'},
         PASS, ("app/templates/login.html:2",)),
    Case("settings and tests only", {
        "config.py": "import os\nMAIL_PASSWORD = os.environ.get('MAIL_PASSWORD')\n",
        "tests/test_login.py": "def login(client, password):\n    pass\n",
    }, FAIL),
]


@pytest.mark.parametrize("case", HANDLES_PASSWORDS, ids=ids(HANDLES_PASSWORDS))
def test_handles_passwords(case: Case, make_repo: MakeRepo) -> None:
    check(case, make_repo, "handles_passwords")


PASSWORD_HASHING = [
    Case("werkzeug through an alias", {"app/models.py": src("""
        from werkzeug.security import generate_password_hash as make_hash
        from werkzeug.security import check_password_hash

        class User:
            def set_password(self, password):
                self.password_hash = make_hash(password)

            def check_password(self, password):
                return check_password_hash(self.password_hash, password)
    """)}, PASS, ("app/models.py:6", "app/models.py:9")),
    Case("flask-bcrypt instance", {"app/__init__.py": src("""
        from flask_bcrypt import Bcrypt
        bcrypt = Bcrypt()

        def register(password):
            return bcrypt.generate_password_hash(password)
    """)}, PASS, ("app/__init__.py:2", "app/__init__.py:5")),
    Case("argon2 and passlib", {"auth.py": src("""
        from argon2 import PasswordHasher
        from passlib.hash import pbkdf2_sha256

        ph = PasswordHasher()
        legacy = pbkdf2_sha256.hash("x")
    """)}, PASS, ("auth.py:4", "auth.py:5")),
    Case("md5 over a password", {"app/auth.py": src("""
        import hashlib
        from werkzeug.security import generate_password_hash

        def register(password):
            return hashlib.md5(password.encode()).hexdigest()

        def token(reset_token):
            return hashlib.sha256(reset_token.encode()).hexdigest()
    """)}, FAIL, ("app/auth.py:5",), message=("fast hash hashlib.md5()",)),
    Case("sha256 object updated with a password", {"app/auth.py": src("""
        from hashlib import sha256

        def digest(salt, password):
            h = sha256()
            h.update(salt)
            h.update(password.encode())
            return h.hexdigest()
    """)}, FAIL, ("app/auth.py:6",)),
    Case("werkzeug with a fast method", {"app/auth.py": src("""
        from werkzeug.security import generate_password_hash

        def register(password):
            slow = generate_password_hash(password, "pbkdf2:sha256:600000")
            return generate_password_hash(password, method="sha256")
    """)}, FAIL, ("app/auth.py:5",), message=("one fast hash round",)),
    Case("query by password", {"app/views.py": src("""
        from flask import request
        from app.models import User

        def login():
            return User.query.filter_by(name=request.form["name"],
                                        password=request.form["password"]).first()
    """)}, FAIL, ("app/views.py:5",), message=("filter_by",)),
    Case("password in an SQL WHERE clause", {"app/db.py": src("""
        def login(db, name, password):
            sql = "SELECT id FROM users WHERE name = ? AND password = ?"
            return db.execute(sql, (name, password)).fetchone()
    """)}, FAIL, ("app/db.py:2",)),
    Case("stored password compared in clear", {"app/views.py": src("""
        from flask import request
        from werkzeug.security import generate_password_hash

        def login(user):
            if user.password != request.form["password"]:
                return "no"
            if request.form["password"] != request.form["confirm"]:
                return "mismatch"
    """)}, FAIL, ("app/views.py:5",), MEDIUM),
    Case("form data stored as typed", {
        "app/models.py": "from app import db\n\nclass User(db.Model):\n    pass\n",
        "app/views.py": src("""
            from app.models import User
            from app.dto import Registration

            def register(form):
                info = Registration(name=form.name.data, password=form.password.data)
                user = User(name=form.name.data, password=form.password.data)
                user.password = form.password.data
                return user
        """),
    }, FAIL, ("app/views.py:6", "app/views.py:7"), MEDIUM),
    Case("a synonym with a hashing property", {
        "app/models.py": src("""
            from sqlalchemy.orm import synonym
            from werkzeug.security import generate_password_hash
            from app import db

            class User(db.Model):
                def _get_password(self):
                    return self._password

                def _set_password(self, password):
                    self._password = generate_password_hash(password)

                password = synonym("_password", descriptor=property(_get_password, _set_password))
        """),
        "app/populate.py": "from app.models import User\nadmin = User(password='admin')\n",
    }, PASS, ("app/models.py:10",)),
    Case("a password parameter stored or inserted as given", {
        "app/models.py": "from app import db\n\nclass User(db.Model):\n    pass\n",
        "app/users.py": src("""
            from werkzeug.security import generate_password_hash
            from app.models import User

            def create(db, name, password):
                db.session.add(User(name=name, password=password))

            def create_raw(cur, name, password):
                cur.execute("INSERT INTO users (name, password) VALUES (?, ?)", (name, password))

            def create_hashed(cur, name, password):
                hashed = generate_password_hash(password)
                cur.execute("INSERT INTO users (name, password) VALUES (?, ?)", (name, hashed))
                password = generate_password_hash(password)
                cur.execute("UPDATE users SET password = ? WHERE name = ?", (password, name))
        """),
    }, FAIL, ("app/users.py:5", "app/users.py:8"), MEDIUM),
    Case("a hashing property setter makes assignment fine", {
        "app/models.py": src("""
            from werkzeug.security import generate_password_hash

            class User:
                @property
                def password(self):
                    raise AttributeError("write-only")

                @password.setter
                def password(self, value):
                    self.password_hash = generate_password_hash(value)
        """),
        "app/views.py": src("""
            def change(user, form):
                user.password = form.password.data
                if form.password.data != form.confirm.data:
                    return "mismatch"
        """),
    }, PASS, ("app/models.py:10",)),
    Case("passwords handled but never hashed", {"app/forms.py": src("""
        from wtforms import Form, PasswordField

        class LoginForm(Form):
            password = PasswordField("Password")
    """)}, FAIL, (), MEDIUM, ("no password hashing found",)),
    Case("Flask-Security hashes for you", {"app/security.py": src("""
        from flask_security import Security, SQLAlchemyUserDatastore
    """)}, PASS, ("app/security.py:1",), MEDIUM),
    Case("a model that hashes into its own password column", {"app/models.py": src("""
        import bcrypt
        from app import db

        class User(db.Model):
            username = db.Column(db.String(64))
            password = db.Column(db.String(64))

            def __init__(self, username=None, password=None, plain_text_password=None):
                self.username = username
                self.password = password
                self.plain_text_password = plain_text_password

            def get_hashed_password(self, plain):
                return bcrypt.hashpw(plain.encode(), bcrypt.gensalt())

            def create_local_user(self):
                self.password = self.get_hashed_password(self.plain_text_password)

            def create_remote_user(self):
                self.password = "*"
    """)}, PASS, ("app/models.py:14",)),
    Case("a model storing its password parameter as given", {"app/models.py": src("""
        import bcrypt

        class User(db.Model):
            def __init__(self, username, password):
                self.password = password

        def check(user, typed):
            return bcrypt.checkpw(typed.encode(), user.password)
    """)}, FAIL, ("app/models.py:5",), MEDIUM, ("password stored as typed",)),
    Case("a class built with a hashed password", {
        "app/models.py": src("""
            class User:
                def __init__(self, login, password):
                    self.login = login
                    self.password = password  # hashed
        """),
        "app/commands.py": src("""
            from werkzeug.security import generate_password_hash
            from app.models import User

            def add_user(login, password):
                return User(login=login, password=generate_password_hash(password))
        """),
    }, PASS, ("app/commands.py:5",)),
    Case("tests are not read", {
        "app/models.py": "from werkzeug.security import generate_password_hash\n"
                         "h = generate_password_hash('x')\n",
        "tests/test_auth.py": "import hashlib\n\ndef test(password):\n"
                              "    hashlib.md5(password)\n",
    }, PASS, ("app/models.py:2",)),
]


@pytest.mark.parametrize("case", PASSWORD_HASHING, ids=ids(PASSWORD_HASHING))
def test_password_hashing(case: Case, make_repo: MakeRepo) -> None:
    check(case, make_repo, "password_hashing")


# --- CSRF ---------------------------------------------------------------------------------

HANDLES_FORMS = [
    Case("flask-wtf imported", {"app/forms.py": "from flask_wtf import FlaskForm\n"}, PASS,
         ("app/forms.py:1",)),
    Case("request.form read", {"app/views.py": src("""
        from flask import request as req

        def save():
            return req.form["name"]
    """)}, PASS, ("app/views.py:4",)),
    Case("a route accepting POST with a cookie session", {"app/views.py": src("""
        from flask import Blueprint, session
        bp = Blueprint("x", __name__)

        @bp.route("/items", methods=["GET", "post"])
        def items():
            return session.get("user", "")
    """)}, PASS, ("app/views.py:4", "app/views.py:1")),
    Case("the post shortcut with Flask-Login", {
        "app/views.py": src("""
            from flask import Flask
            app = Flask(__name__)

            @app.post("/items")
            def items():
                return ""
        """),
        "app/auth.py": "from flask_login import LoginManager\n",
    }, PASS, ("app/views.py:4", "app/auth.py:1")),
    Case("a JSON API with header tokens", {"app/views.py": src("""
        from flask import Flask, request
        from flask_jwt_extended import jwt_required
        app = Flask(__name__)

        @app.route("/api/items", methods=["POST"])
        @jwt_required()
        def items():
            return request.get_json()
    """)}, FAIL),
    Case("a posting form in a template", {
        "app/templates/new.html": "<h1>New</h1>\n<form action='/x' method='POST'>\n</form>\n",
    }, PASS, ("app/templates/new.html:2",)),
    Case("read-only app", {"app/views.py": src("""
        from flask import Flask, request
        app = Flask(__name__)

        @app.route("/")
        def index():
            return request.args.get("q", "")
    """)}, FAIL),
]


@pytest.mark.parametrize("case", HANDLES_FORMS, ids=ids(HANDLES_FORMS))
def test_handles_forms(case: Case, make_repo: MakeRepo) -> None:
    check(case, make_repo, "handles_forms")


CSRF_APP = src("""
    from flask import Flask
    from flask_wtf.csrf import CSRFProtect

    app = Flask(__name__)
    CSRFProtect(app)
""")

CSRF_FACTORY = ("from flask_wtf.csrf import CSRFProtect\ncsrf = CSRFProtect()\n"
                "def create_app(app):\n    csrf.init_app(app)\n")
"""An app package whose factory initialises CSRFProtect, `csrf` importable from `app`."""

CSRF = [
    Case("CSRFProtect(app)", {"app.py": CSRF_APP}, PASS, ("app.py:5",)),
    Case("aliased, created in extensions, init_app in the factory", {
        "app/extensions.py": "from flask_wtf import CSRFProtect as Protect\ncsrf = Protect()\n",
        "app/__init__.py": src("""
            from flask import Flask
            from app.extensions import csrf

            def create_app():
                app = Flask(__name__)
                csrf.init_app(app)
                return app
        """),
    }, PASS, ("app/__init__.py:6",)),
    Case("exempt views are listed", {
        "app/__init__.py": CSRF_FACTORY,
        "app/hooks.py": src("""
            from app import csrf

            @csrf.exempt
            def webhook():
                return ""
        """),
    }, PASS, ("app/__init__.py:4", "app/hooks.py:3"), message=("1 view(s) or blueprint(s) are "
                                                               "exempt: app/hooks.py:3",)),
    Case("an exempt view behind @login_required takes writes", {
        "app/__init__.py": CSRF_FACTORY,
        "app/views.py": src("""
            from flask import Blueprint
            from flask_login import login_required
            from app import csrf

            bp = Blueprint("main", __name__)

            @bp.route("/profile", methods=["GET", "POST"])
            @csrf.exempt
            @login_required
            def profile():
                return ""

            @bp.route("/ping")
            @csrf.exempt
            @login_required
            def ping():
                return ""
        """),
    }, FAIL, ("app/views.py:8",), MEDIUM,
        message=("1 view(s) are open to forged requests: exempt from CSRF protection, takes "
                 "writes and lets the login session in (profile) at app/views.py:8",)),
    Case("exempt views let in by the project's own session check", {
        "app/__init__.py": CSRF_FACTORY,
        "app/auth.py": src("""
            from functools import wraps
            from flask import abort, request
            from flask_login import current_user

            def session_user(f):
                @wraps(f)
                def decorated(*args, **kwargs):
                    if not current_user.is_authenticated:
                        abort(401)
                    return f(*args, **kwargs)
                return decorated

            def token_user(f):
                @wraps(f)
                def decorated(*args, **kwargs):
                    if request.headers.get("X-Api-Key") != "k":
                        abort(401)
                    return f(*args, **kwargs)
                return decorated
        """),
        "app/views.py": src("""
            from flask import Blueprint
            from flask_login import current_user
            from .auth import session_user, token_user
            from app import csrf

            bp = Blueprint("main", __name__)

            @bp.route("/update", methods=["POST"])
            @csrf.exempt
            @session_user
            def update():
                return ""

            @bp.route("/api/items", methods=["POST"])
            @csrf.exempt
            @token_user
            def create_item():
                return ""

            @bp.route("/hook", methods=["POST"])
            @csrf.exempt
            def hook():
                if current_user.is_anonymous:
                    return "", 401
                return ""
        """),
    }, FAIL, ("app/views.py:9", "app/views.py:21"), MEDIUM,
        message=("2 view(s) are open", "session in (update, hook) at app/views.py:9, "
                 "app/views.py:21")),
    Case("a view deletes rows on GET", {
        "app/__init__.py": CSRF_FACTORY,
        "app/views.py": src("""
            from flask import Blueprint, request
            from app.models import Post, db

            bp = Blueprint("main", __name__)

            @bp.route("/post/<int:id>/delete")
            def delete_post(id):
                db.session.delete(Post.query.get(id))
                db.session.commit()
                return ""

            @bp.get("/tags/clear")
            def clear_tags():
                Post.query.filter_by(draft=True).delete()
                return ""

            @bp.route("/post/<int:id>/remove", methods=["GET", "POST"])
            def remove_post(id):
                if request.method == "POST":
                    db.session.delete(Post.query.get(id))
                return ""

            @bp.route("/post/<int:id>/drop", methods=["POST"])
            def drop_post(id):
                db.session.delete(Post.query.get(id))
                return ""
        """),
    }, FAIL, ("app/views.py:7", "app/views.py:13"), MEDIUM,
        message=("2 view(s) are open to forged requests: changes data on a GET request "
                 "(delete_post, clear_tags) at ",)),
    Case("a view commits a change for the logged-in user on GET", {
        "app/__init__.py": CSRF_FACTORY,
        "app/views.py": src("""
            from flask import Blueprint
            from flask_login import current_user, login_required
            from app.models import User, db

            bp = Blueprint("main", __name__)

            @bp.route("/follow/<name>")
            @login_required
            def follow(name):
                current_user.follow(User.query.filter_by(name=name).first())
                db.session.commit()
                return ""

            @bp.route("/confirm/<token>")
            @login_required
            def confirm(token):
                current_user.confirm(token)
                db.session.commit()
                return ""

            @bp.route("/visit/<int:id>")
            def visit(id):
                User.query.get(id).visits += 1
                db.session.commit()
                return ""

            @bp.route("/messages")
            @login_required
            def messages():
                current_user.last_read = 1
                db.session.commit()
                return ""
        """),
    }, FAIL, ("app/views.py:9",), MEDIUM,
        message=("1 view(s) are open to forged requests: changes data on a GET request "
                 "(follow) at app/views.py:9",)),
    Case("both kinds of open views are reported together", {
        "app/__init__.py": CSRF_FACTORY,
        "app/views.py": src("""
            from flask import Blueprint
            from flask_login import login_required
            from app import csrf
            from app.models import Post, db

            bp = Blueprint("main", __name__)

            @bp.route("/post/<int:id>/delete")
            def delete_post(id):
                db.session.delete(Post.query.get(id))
                return ""

            @bp.route("/profile", methods=["POST"])
            @csrf.exempt
            @login_required
            def profile():
                return ""
        """),
    }, FAIL, ("app/views.py:9", "app/views.py:14"), MEDIUM,
        message=("2 view(s) are open to forged requests: changes data on a GET request "
                 "(delete_post); exempt from CSRF protection, takes writes and lets the login "
                 "session in (profile) at app/views.py:9, app/views.py:14",)),
    Case("FlaskForm only", {"app/forms.py": src("""
        from flask_wtf import FlaskForm

        class LoginForm(FlaskForm):
            pass
    """)}, PASS, ("app/forms.py:3",)),
    Case("FlaskForm and raw request.form", {
        "app/forms.py": "from flask_wtf import FlaskForm\n\nclass F(FlaskForm):\n    pass\n",
        "app/views.py": "from flask import request\n\ndef save():\n"
                        "    return request.form['x']\n",
    }, PASS, ("app/forms.py:3", "app/views.py:4"), MEDIUM),
    Case("turned off in a production config class", {
        "app.py": CSRF_APP,
        "config.py": src("""
            class Config:
                WTF_CSRF_ENABLED = False

            class TestingConfig(Config):
                WTF_CSRF_ENABLED = False
        """),
    }, FAIL, ("config.py:2",), message=("WTF_CSRF_ENABLED = False",)),
    Case("turned off only for tests", {
        "app.py": CSRF_APP,
        "config.py": "class TestingConfig:\n    WTF_CSRF_ENABLED = False\n",
        "app/factory.py": src("""
            def create_app(app, test_config=None):
                if test_config is None:
                    app.config.from_pyfile("config.py")
                else:
                    app.config["WTF_CSRF_ENABLED"] = False
                if app.testing:
                    app.config.update(WTF_CSRF_ENABLED=False)
        """),
        "tests/conftest.py": "def app(app):\n    app.config['WTF_CSRF_ENABLED'] = False\n",
    }, PASS, ("app.py:5",)),
    Case("a base class turned off but every production subclass turns it on", {
        "app.py": CSRF_APP,
        "config.py": src("""
            class Config:
                WTF_CSRF_ENABLED = False

            class ProductionConfig(Config):
                WTF_CSRF_ENABLED = True

            class DevelopmentConfig(Config):
                pass
        """),
    }, PASS, ("app.py:5",)),
    Case("config.update() in the factory", {
        "app.py": src("""
            from flask import Flask
            from flask_wtf.csrf import CSRFProtect

            def create_app():
                app = Flask(__name__)
                app.config.update({"WTF_CSRF_ENABLED": False})
                CSRFProtect(app)
                return app
        """),
    }, FAIL, ("app.py:6",)),
    Case("turned off in a development config", {
        "app.py": CSRF_APP,
        "config.py": "class DevelopmentConfig:\n    WTF_CSRF_ENABLED = False\n",
    }, FAIL, ("config.py:2",), MEDIUM),
    Case("a form with csrf turned off", {"app/forms.py": src("""
        from flask_wtf import FlaskForm

        class SearchForm(FlaskForm):
            class Meta:
                csrf = False
    """)}, FAIL, ("app/forms.py:5",)),
    Case("a hand-written session token check", {"app/hooks.py": src("""
        from flask import abort, request, session

        def csrf_check():
            if request.method == "POST":
                if session["nonce"] != request.form.get("nonce"):
                    abort(403)
    """)}, PASS, ("app/hooks.py:5",), MEDIUM),
    Case("created but never given the app", {
        "app/extensions.py": "from flask_wtf.csrf import CSRFProtect\ncsrf = CSRFProtect()\n",
    }, FAIL, ("app/extensions.py:2",), MEDIUM),
    Case("nothing", {"app.py": "from flask import Flask, request\napp = Flask(__name__)\n"},
         FAIL, (), message=("no CSRF protection found",)),
]


@pytest.mark.parametrize("case", CSRF, ids=ids(CSRF))
def test_csrf_protection(case: Case, make_repo: MakeRepo) -> None:
    check(case, make_repo, "csrf_protection")


# --- SQL injection --------------------------------------------------------------------------

USES_SQL = [
    Case("sqlite3 imported", {"app/db.py": "import sqlite3\n"}, PASS, ("app/db.py:1",)),
    Case("a driver declared", {"requirements.txt": "flask==3.0\npsycopg2-binary==2.9.9\n"},
         PASS, ("requirements.txt:2",)),
    Case("no database", {"app.py": "import requests\nimport dataset\n",
                         "requirements.txt": "flask\nrequests\n"}, FAIL),
]


@pytest.mark.parametrize("case", USES_SQL, ids=ids(USES_SQL))
def test_uses_sql_database(case: Case, make_repo: MakeRepo) -> None:
    check(case, make_repo, "uses_sql_database")


SQL = [
    Case("f-string and concatenation through a variable", {
        "app/db.py": src("""
            import sqlite3
            from flask import request

            def find(name):
                cur = sqlite3.connect("app.db").cursor()
                cur.execute(f"SELECT * FROM users WHERE name = '{name}'")
                query = "SELECT * FROM users WHERE id = " + request.args["id"]
                cur.execute(query)
        """),
        "tests/test_db.py": src("""
            def test_wipe(cur, table):
                cur.execute(f"DELETE FROM {table}")
        """),
    }, FAIL, ("app/db.py:6", "app/db.py:7", "app/db.py:8"), message=("(1 with request data)",)),
    Case("bound parameters and constants are fine", {
        "app/db.py": src("""
            from sqlalchemy import text
            from app import db

            TABLE = "users"

            def find(cur, name, ids):
                cur.execute("SELECT * FROM users WHERE name = %s", (name,))
                sql = "SELECT * FROM users WHERE name = ?"
                cur.execute(sql, (name,))
                marks = ", ".join("?" * len(ids))
                cur.execute(f"SELECT * FROM {TABLE} WHERE id IN ({marks})", ids)
                db.session.execute(text("SELECT * FROM users WHERE name = :n"), {"n": name})
        """),
    }, PASS, (), message=("5 SQL call(s) checked",)),
    Case("through a helper, also from another module", {
        "app/db.py": src("""
            def query_db(query, args=(), one=False):
                cur = get_db().execute(query, args)
                return cur.fetchall()

            def by_name(name):
                return query_db("SELECT * FROM users WHERE name = '%s'" % name)
        """),
        "app/views.py": src("""
            from app.db import query_db

            def show(user_id):
                safe = query_db("SELECT * FROM users WHERE id = ?", (user_id,))
                return query_db(f"SELECT * FROM posts WHERE author = {user_id}")
        """),
    }, FAIL, ("app/db.py:6", "app/views.py:5")),
    Case("a module that does not parse was not checked", {
        "app/db.py": "def find(cur, name):\n    cur.execute('SELECT 1')\n",
        "app/views.py": "def index():\n    return 'ok'\n",
        "app/legacy.py": "def old(cur, name):\n    print 'SELECT * FROM t WHERE n = ' + name\n",
        "tests/test_db.py": "print 'py2 test'\n",
    }, PASS, (), LOW, message=("(1 of 3 application module(s) could not be parsed and were not "
                               "checked, e.g. app/legacy.py)",)),
    Case("Python 2 code is not judged", {
        "app/db.py": "def find(cur, name):\n    print name\n    cur.execute('SELECT 1')\n",
        "app/views.py": "def index():\n    print 'ok'\n",
    }, UNKNOWN, (), LOW, message=("2 of 2 application module(s) could not be parsed",)),
]


@pytest.mark.parametrize("case", SQL, ids=ids(SQL))
def test_no_sql_injection(case: Case, make_repo: MakeRepo) -> None:
    check(case, make_repo, "no_sql_injection")


@dataclass(frozen=True)
class Flow:
    id: str
    code: str
    sites: tuple[tuple[int, str], ...]
    """(line, construction) of every BUILT site."""


FLOWS = [
    Flow("concatenation", 'def f(c, x):\n    c.execute("SELECT a FROM t WHERE b = " + x)\n',
         ((2, "concatenation"),)),
    Flow("%-formatting", 'def f(c, x):\n    c.execute("SELECT a FROM t WHERE b = %s" % x)\n',
         ((2, "%-formatting"),)),
    Flow(".format()", 'def f(c, x):\n    c.execute("SELECT a FROM t WHERE b = {}".format(x))\n',
         ((2, ".format()"),)),
    Flow("f-string through two variables", src("""
        def f(c, x):
            where = f"WHERE b = {x}"
            sql = "SELECT a FROM t " + where
            c.execute(sql)
    """), ((4, "concatenation"),)),
    Flow("augmented assignment", src("""
        def f(c, x):
            sql = "SELECT a FROM t"
            sql += " WHERE b = '" + x + "'"
            c.execute(sql)
    """), ((4, "concatenation"),)),
    Flow("sqlalchemy text() with an alias", src("""
        import sqlalchemy as sa

        def f(conn, x):
            conn.execute(sa.text(f"SELECT a FROM t WHERE b = {x}"))
    """), ((4, "f-string"),)),
    Flow("db.text()", src("""
        from app import db

        def f(x):
            db.session.execute(db.text("DELETE FROM t WHERE b = " + x))
    """), ((4, "concatenation"),)),
    Flow("pandas read_sql", src("""
        import pandas as pd

        def f(engine, x):
            return pd.read_sql(f"select * from t where a = {x}", engine)
    """), ((4, "f-string"),)),
    Flow("string filter", src("""
        def f(User, name):
            return User.query.filter(f"name = '{name}'").all()
    """), ((2, "f-string"),)),
    Flow("join of built pieces", src("""
        def f(c, a):
            clauses = ["x = 1"]
            clauses.append(f"a = '{a}'")
            c.execute("SELECT * FROM t WHERE " + " AND ".join(clauses))
    """), ((4, "concatenation"),)),
    Flow("join of constant pieces", src("""
        def f(c, a, b):
            clauses, params = [], []
            if a:
                clauses.append("a = ?")
            if b:
                clauses.extend(["b = ?", "c = ?"])
            c.execute("SELECT * FROM t WHERE " + " AND ".join(clauses), params)
    """), ()),
    Flow("numbers, whitelists and constant loops", src("""
        ORDER = {"asc": "ASC", "desc": "DESC"}

        def f(c, page, direction, ids):
            limit = int(page)
            c.execute(f"SELECT * FROM t LIMIT {limit}")
            c.execute("SELECT * FROM t LIMIT %d OFFSET %d" % (page, page))
            c.execute(f"SELECT * FROM t ORDER BY id {ORDER[direction]}")
            c.execute(f"SELECT * FROM t ORDER BY id {ORDER.get(direction, 'ASC')}")
            for table in ("a", "b"):
                c.execute(f"DELETE FROM {table}")
            marks = ",".join(f":p{i}" for i in range(len(ids)))
            c.execute(f"SELECT * FROM t WHERE id IN ({marks})")
            c.execute(f"SELECT * FROM t LIMIT {page:d}")
    """), ()),
    Flow("a constant passed through a variable", src("""
        QUERY = "SELECT * FROM t WHERE a = ?"

        def f(c, a):
            sql = QUERY
            c.execute(sql, (a,))
            other = "SELECT 1" if a else "SELECT 2"
            c.execute(other)
    """), ()),
    Flow("execute on something that is not a database", src("""
        def f(runner, path):
            runner.execute(f"ls {path}")
    """), ()),
    Flow("a parameter alone is not built text", src("""
        def run(c, sql, params):
            return c.execute(sql, params)
    """), ()),
    Flow("module level and class bodies", src("""
        import sqlite3
        name = input()
        conn = sqlite3.connect("x")
        conn.execute("DELETE FROM t WHERE n = '%s'" % name)
    """), ((4, "%-formatting"),)),
    Flow("a helper that returns built SQL", src("""
        def where(column):
            return f"{column} = ?"

        def by_name(name):
            return f"SELECT * FROM users WHERE name = '{name}'"

        def f(c, x):
            c.execute("SELECT * FROM t WHERE " + where("name"), (x,))
            c.execute(by_name(x))
            c.execute("SELECT * FROM t WHERE " + where(x))
    """), ((9, "f-string"), (10, "concatenation"))),
    Flow("executescript and executemany", src("""
        def f(conn, table):
            conn.executescript("DROP TABLE " + table)
            conn.executemany(f"INSERT INTO {table} VALUES (?)", [(1,)])
    """), ((2, "concatenation"), (3, "f-string"))),
]


@pytest.mark.parametrize("flow", FLOWS, ids=[f.id for f in FLOWS])
def test_sql_flow(flow: Flow) -> None:
    index = index_module("app/db.py", flow.code)
    built = tuple((s.line, s.construction) for s in index.sql_sites if s.kind is SiteKind.BUILT)
    assert built == flow.sites


def test_sql_flow_records_wrappers_for_other_modules() -> None:
    index = index_module("app/db.py", src("""
        def query_db(query, args=(), one=False):
            return get_db().execute(query, args).fetchall()

        class Repo:
            def run(self, sql):
                return self.db.execute(sql)
    """))
    wrappers = [(s.function, s.parameter, s.parameter_index) for s in index.sql_sites
                if s.kind is SiteKind.PARAMETER]
    assert wrappers == [("query_db", "query", 0)]


def test_sql_sites_survive_the_facts_cache() -> None:
    code = "def f(c, x):\n    c.execute('DELETE FROM t WHERE a = ' + x)\n"
    index = index_module("app/db.py", code)
    assert pickle.loads(pickle.dumps(index)).sql_sites == index.sql_sites != ()


def test_sql_flow_survives_deep_expressions() -> None:
    code = "def f(c, x):\n    c.execute(" + " + ".join(['"a"'] * 3000) + " + x)\n"
    index = index_module("app/db.py", code)
    assert index.syntax_error is not None or \
        [(s.line, s.construction) for s in index.sql_sites] == [(2, "concatenation")]


# --- HTTPS ------------------------------------------------------------------------------------

HTTPS = [
    Case("Talisman", {"app.py": "from flask_talisman import Talisman\nTalisman(app)\n"}, PASS,
         ("app.py:2",), message=("Flask-Talisman",)),
    Case("the application's own redirect to https", {"app/factory.py": src("""
        from flask import redirect, request

        def configure_ssl_redirect(app):
            @app.before_request
            def to_https():
                if not request.is_secure and request.url.startswith("http://"):
                    return redirect(request.url.replace("http://", "https://", 1), code=301)

        def links(text):
            return text.replace("http://", "https://")
    """)}, PASS, ("app/factory.py:7",), MEDIUM,
        message=("the application redirects http to https",)),
    Case("Talisman without forcing HTTPS", {
        "app.py": "from flask_talisman import Talisman\nTalisman(app, force_https=False)\n",
    }, PASS, ("app.py:2",), MEDIUM),
    Case("secure cookies in production", {"config.py": src("""
        class DevelopmentConfig:
            SESSION_COOKIE_SECURE = False

        class ProductionConfig:
            SESSION_COOKIE_SECURE = True
    """)}, PASS, ("config.py:5",)),
    Case("secure cookies only in development", {
        "config.py": "class DevelopmentConfig:\n    SESSION_COOKIE_SECURE = True\n",
    }, FAIL, (), MEDIUM, ("can be answered by hand",)),
    Case("HSTS header", {"app/headers.py": src("""
        def add_headers(response):
            response.headers["Strict-Transport-Security"] = "max-age=31536000"
            return response
    """)}, PASS, ("app/headers.py:2",)),
    Case("nginx with TLS", {"deploy/nginx.conf": src("""
        server {
            listen 80;
            server_name example.com;
        }
        server {
            listen 443 ssl http2;
            ssl_certificate /etc/letsencrypt/live/example.com/fullchain.pem;
        }
    """)}, PASS, ("deploy/nginx.conf:6", "deploy/nginx.conf:7")),
    Case("nginx without TLS", {"deploy/nginx.conf": "server {\n    listen 80;\n}\n"}, FAIL, (),
         MEDIUM),
    Case("a deployment config template", {
        "app/configs/config.cfg.template": 'SERVER_NAME = "{{ server_name }}"\n'
        "SESSION_COOKIE_SECURE = {% if use_https %}True{% else %}False{% endif %}\n",
    }, PASS, ("app/configs/config.cfg.template:2",), MEDIUM),
    Case("preferred scheme only", {
        "config.py": "class ProductionConfig:\n    PREFERRED_URL_SCHEME = 'https'\n",
    }, PASS, ("config.py:2",), MEDIUM),
    Case("Caddy", {"Caddyfile": "example.com {\n    reverse_proxy app:8000\n}\n"}, PASS,
         ("Caddyfile:1",), MEDIUM),
    Case("nothing", {"app.py": "from flask import Flask\napp = Flask(__name__)\n"}, FAIL, (),
         MEDIUM, ("terminated outside the repository",)),
]


@pytest.mark.parametrize("case", HTTPS, ids=ids(HTTPS))
def test_https_configured(case: Case, make_repo: MakeRepo) -> None:
    check(case, make_repo, "https_configured")


# --- debug mode -------------------------------------------------------------------------------

APP = "from flask import Flask\napp = Flask(__name__)\n"

DEBUG = [
    Case("app.run(debug=True) at module level", {"app.py": APP + "app.run(debug=True)\n"}, FAIL,
         ("app.py:3",)),
    Case("app.run(debug=True) under the main guard", {
        "app.py": APP + "\nif __name__ == '__main__':\n    app.run(host='0.0.0.0', debug=True)\n",
    }, FAIL, ("app.py:5",), MEDIUM, ("under if __name__ == '__main__'",)),
    Case("main guard, and the Dockerfile runs that file", {
        "app.py": APP + "\nif __name__ == '__main__':\n    app.run(debug=True)\n",
        "Dockerfile": 'FROM python:3.12\nCOPY . .\nCMD ["python", "app.py"]\n',
    }, FAIL, ("Dockerfile:3", "app.py:5")),
    Case("development and testing configs are fine", {
        "config.py": src("""
            class Config:
                DEBUG = False

            class DevelopmentConfig(Config):
                DEBUG = True

            class TestingConfig(Config):
                DEBUG = True
        """),
        "app.py": APP + "if app.debug:\n    app.run(debug=True)\n",
        "tests/conftest.py": "def app(app):\n    app.config['DEBUG'] = True\n",
        "run.py": "import asyncio\nasyncio.run(main(), debug=True)\n",
    }, PASS),
    Case("a base config with debug on", {"config.py": src("""
        class Config:
            DEBUG = True

        class DevelopmentConfig(Config):
            pass
    """)}, FAIL, ("config.py:2",), message=("DEBUG = True in Config",)),
    Case("a base config overridden by production", {"config.py": src("""
        class Config:
            DEBUG = True

        class ProductionConfig(Config):
            DEBUG = False
    """)}, PASS),
    Case("app.config, app.debug and config.update()", {"app/__init__.py": src("""
        from flask import Flask

        def create_app():
            app = Flask(__name__)
            app.config["DEBUG"] = True
            app.debug = True
            app.config.update(DEBUG=1)
            return app
    """)}, FAIL, ("app/__init__.py:5", "app/__init__.py:6", "app/__init__.py:7")),
    Case("an environment default that turns debug on", {"config.py": src("""
        import os

        class Config:
            DEBUG = os.environ.get("DEBUG", True)
            OTHER = os.environ.get("FLASK_DEBUG", "0") == "1"

        class ProductionConfig(Config):
            DEBUG = os.getenv("FLASK_DEBUG", "false").lower() in ("1", "true")
    """)}, FAIL, ("config.py:4",), MEDIUM, ("defaults to on",)),
    Case("FLASK_DEBUG in the Dockerfile", {
        "Dockerfile": "FROM python:3.12\nENV FLASK_APP=app.py FLASK_DEBUG=1\n"
                      "CMD gunicorn app:app\n",
    }, FAIL, ("Dockerfile:2",)),
    Case("FLASK_DEBUG in an env file for production", {
        ".env.production": "FLASK_DEBUG=1\n", ".env.development": "FLASK_DEBUG=1\n",
    }, FAIL, (".env.production:1",)),
    Case(".flaskenv for flask run in development", {".flaskenv": "FLASK_APP=app\nFLASK_DEBUG=1\n",
                                                     "app.py": APP}, PASS),
    Case(".flaskenv and a container that serves with flask run", {
        ".flaskenv": "FLASK_APP=app\nFLASK_DEBUG=1\n",
        "Dockerfile": 'FROM python:3.12\nCMD ["flask", "run", "--host", "0.0.0.0"]\n',
    }, FAIL, (".flaskenv:2",)),
    Case("the default config is the development one", {"config.py": src("""
        class DevelopmentConfig:
            DEBUG = True

        class ProductionConfig:
            DEBUG = False

        config = {
            "development": DevelopmentConfig,
            "production": ProductionConfig,
            "default": DevelopmentConfig,
        }
    """)}, FAIL, ("config.py:10",), MEDIUM),
    Case("a development runner bound to this machine", {
        "serve.py": APP + "app.run(debug=True, host='127.0.0.1', port=4000)\n",
        "wsgi.py": APP + "if __name__ == '__main__':\n    app.run(debug=True, host='localhost')\n",
    }, PASS, ("serve.py:3", "wsgi.py:4"), MEDIUM, ("bound to this machine only",)),
    Case("DebuggedApplication", {"wsgi.py": src("""
        from werkzeug.debug import DebuggedApplication
        from app import app
        application = DebuggedApplication(app, evalex=True)
    """)}, FAIL, ("wsgi.py:3",)),
]


@pytest.mark.parametrize("case", DEBUG, ids=ids(DEBUG))
def test_debug_off(case: Case, make_repo: MakeRepo) -> None:
    check(case, make_repo, "debug_off")


# --- SECRET_KEY -------------------------------------------------------------------------------

SECRET = [
    Case("app.secret_key literal", {"app.py": APP + "app.secret_key = 'super-secret-123'\n"},
         FAIL, ("app.py:3",)),
    Case("config class literal", {"config.py": src("""
        class Config:
            SECRET_KEY = "7c4a8d09ca3762af61e59520943dc264"

        class TestingConfig(Config):
            SECRET_KEY = "testing"
    """)}, FAIL, ("config.py:2",)),
    Case("from the environment", {"config.py": src("""
        import os

        class Config:
            SECRET_KEY = os.environ["SECRET_KEY"]

        class TestingConfig(Config):
            SECRET_KEY = "testing"
    """)}, PASS, ("config.py:4",)),
    Case("a literal fallback", {"app.py": APP + src("""
        import os
        app.config["SECRET_KEY"] = os.environ.get("SECRET_KEY", "dev-key-change-me")
        app.config["JWT_SECRET_KEY"] = os.getenv("JWT_SECRET_KEY") or "jwt-dev"
    """)}, FAIL, ("app.py:4", "app.py:5"), message=("falls back to the hard-coded secret",)),
    Case("from_mapping() overridden by the instance config", {"flaskr/__init__.py": src("""
        from flask import Flask

        def create_app(test_config=None):
            app = Flask(__name__, instance_relative_config=True)
            app.config.from_mapping(SECRET_KEY="dev")
            if test_config is None:
                app.config.from_pyfile("config.py", silent=True)
            else:
                app.config.update({"SECRET_KEY": "test"})
            return app
    """)}, FAIL, ("flaskr/__init__.py:5",), MEDIUM),
    Case("config.update() with a dict", {"app.py": APP + src("""
        app.config.update({"SECRET_KEY": "abc123abc123"})
    """)}, FAIL, ("app.py:3",)),
    Case("through a name, here and imported", {
        "app/settings.py": "KEY = 'from-settings-module'\n",
        "app/__init__.py": src("""
            from flask import Flask
            from app.settings import KEY

            LOCAL = "local-secret-value"
            app = Flask(__name__)
            app.config["SECRET_KEY"] = LOCAL
            app.secret_key = KEY
        """),
    }, FAIL, ("app/__init__.py:6", "app/__init__.py:7")),
    Case("assembled from literals, or a literal in one branch", {"app.py": APP + src("""
        import os
        PREFIX = "prod"
        app.config["SECRET_KEY"] = PREFIX + "-" + "5f2b1c9e"
        app.config["JWT_SECRET_KEY"] = "dev-jwt" if app.debug else os.environ["JWT_SECRET_KEY"]
    """)}, FAIL, ("app.py:5", "app.py:6")),
    Case("generated", {"app.py": APP + "import secrets\napp.secret_key = secrets.token_hex(32)\n"},
         PASS, ("app.py:4",)),
    Case("never set in code", {"app.py": APP}, PASS, (), MEDIUM),
    Case("a Python config file read by from_pyfile", {
        "app.py": APP + "app.config.from_pyfile('settings.cfg')\n",
        "settings.cfg": "DEBUG = False\nSECRET_KEY = 'a1b2c3d4e5f6'\n",
        "setup.cfg": "[metadata]\nname = app\n",
    }, FAIL, ("settings.cfg:2",)),
    Case("a .env file with a value, examples are fine", {
        ".env": "FLASK_APP=app\nSECRET_KEY=s3cr3t-value\n",
        ".env.example": "SECRET_KEY=change-me\n",
        "docker-compose.yml": "services:\n  web:\n    environment:\n"
                              "      - SECRET_KEY=${SECRET_KEY}\n",
    }, FAIL, (".env:2",), MEDIUM),
]


@pytest.mark.parametrize("case", SECRET, ids=ids(SECRET))
def test_secret_key_not_hardcoded(case: Case, make_repo: MakeRepo) -> None:
    check(case, make_repo, "secret_key_not_hardcoded")


# --- Jinja autoescape -------------------------------------------------------------------------

JINJA = [
    Case("Environment without autoescape", {"app/mail.py": src("""
        from jinja2 import Environment, FileSystemLoader, select_autoescape

        html = Environment(loader=FileSystemLoader("t"), autoescape=select_autoescape())
        text = Environment(loader=FileSystemLoader("t"))
    """)}, FAIL, ("app/mail.py:4",), message=("Jinja's default is off",)),
    Case("autoescape turned off", {"app.py": APP + src("""
        import jinja2
        app.jinja_env.autoescape = False
        env = jinja2.Environment(autoescape=False)
    """)}, FAIL, ("app.py:4", "app.py:5")),
    Case("autoescape false in a template", {
        "app/templates/page.html": "<p>\n{% autoescape false %}{{ body }}{% endautoescape %}\n",
    }, FAIL, ("app/templates/page.html:2",)),
    Case("template injection", {"app/views.py": src("""
        from flask import render_template_string, request

        def hello(name):
            return render_template_string(f"<h1>Hello {name}</h1>")

        def preview():
            return render_template_string(request.args.get("template"))
    """)}, FAIL, ("app/views.py:4", "app/views.py:7"), message=("template injection",)),
    Case("constant templates and helpers are fine", {"app/views.py": src("""
        from flask import render_template_string
        from markupsafe import Markup

        PAGE = "<h1>{{ name }}</h1>"

        def hello(name):
            render_template_string(PAGE, name=name)
            Markup("<b>{}</b>").format(name)
            Markup("<b>%s</b>") % name
            return render_template_string("<p>{{ name }}</p>", name=name)

        def render(template, **context):
            return render_template_string(template, **context)
    """)}, PASS),
    Case("a template read from a file", {"app/admin.py": src("""
        import os
        from flask import render_template_string

        def plugin_config(root, plugin):
            config_html = open(os.path.join(root, plugin, "config.html")).read()
            return render_template_string(config_html)
    """)}, PASS),
    Case("templates the application loaded, looked up by name", {
        "app/templates.py": "TEMPLATES = {'mail.html': open('mail.html').read()}\n",
        "app/mail.py": src("""
            from flask import render_template_string
            from app.templates import TEMPLATES

            LOCAL = {"reset.html": "<p>{{ link }}</p>"}

            def mail(link):
                render_template_string(LOCAL["reset.html"], link=link)
                return render_template_string(TEMPLATES.get("mail.html"), link=link)

            def page(stored, name):
                return render_template_string(stored.get(name))
        """)}, FAIL, ("app/mail.py:11",), MEDIUM),
    Case("a template from stored data", {"app/views.py": src("""
        from flask import render_template_string

        def page(row):
            return render_template_string(row.body)
    """)}, FAIL, ("app/views.py:4",), MEDIUM),
    Case("Markup over formatted text", {"app/helpers.py": src("""
        from flask import Markup

        def badge(user):
            return Markup(f"<span>{user.name}</span>")
    """)}, FAIL, ("app/helpers.py:4",), MEDIUM),
    Case("Markup over configuration, constants and computed values", {"app/widgets.py": src("""
        from urllib.parse import urlencode
        from flask import current_app
        from markupsafe import Markup

        TEMPLATE = '<script src="%s"></script><div %s></div>'

        def widget(public_key):
            script = "https://example.com/api.js"
            params = current_app.config.get("WIDGET_PARAMETERS")
            if params:
                script += "?" + urlencode(params)
            attrs = current_app.config.get("WIDGET_ATTRS", {})
            snippet = " ".join(['data-%s="%s"' % (k, attrs[k]) for k in attrs])
            return Markup(TEMPLATE % (script, snippet))

        def time_tag(when, what):
            content = format_date(when)
            content += " UTC"
            return Markup('<time datetime="{}" data-x="{}">{}</time>'.format(
                when.isoformat(), what, content))
    """)}, PASS),
    Case("Markup over a model field through a local name", {"app/helpers.py": src("""
        from markupsafe import Markup

        def title(post):
            text = post.title
            return Markup("<h1>%s</h1>" % text)
    """)}, FAIL, ("app/helpers.py:5",), MEDIUM),
    Case("Markup over a form field", {"app/views.py": src("""
        from markupsafe import Markup

        def preview(form):
            return Markup("<p>" + form.body.data + "</p>")
    """)}, FAIL, ("app/views.py:4",), MEDIUM),
    Case("Markup over request data", {"app/views.py": src("""
        from flask import request
        from markupsafe import Markup as M

        def echo():
            text = "<p>%s</p>" % request.args["q"]
            return M(text)
    """)}, FAIL, ("app/views.py:6",), HIGH, ("Markup() over text built with %-formatting",)),
    Case("an Environment for config files only", {"app/cli.py": src("""
        from jinja2 import Environment, FileSystemLoader

        def generate_config():
            env = Environment(loader=FileSystemLoader("configs"))
            return env.get_template("config.cfg.template").render()
    """)}, PASS),
    Case("|safe is listed for review", {
        "app/templates/post.html": "<h1>{{ post.title }}</h1>\n<div>{{ post.html | safe }}</div>\n",
    }, PASS, ("app/templates/post.html:2",), MEDIUM),
    Case("request data marked safe", {
        "app/templates/search.html": "<p>You searched {{ request.args.q|safe }}</p>\n",
    }, FAIL, ("app/templates/search.html:1",)),
    Case("flashed messages with data printed |safe", {
        "app/views.py": src("""
            from flask import flash

            def renamed(user):
                flash(f"Renamed to {user.name}")
        """),
        "app/templates/base.html": "<ul>{% for message in get_flashed_messages() %}\n"
                                   "<li>{{ message|safe }}</li>{% endfor %}</ul>\n",
        "app/templates/macros.html": "{% macro notes(items, title='') %}<ul>\n"
                                     "{% for item in items %}<li>{{ item | safe }}</li>\n"
                                     "{% endfor %}</ul>{% endmacro %}\n",
        "app/templates/page.html": "{% import 'macros.html' as m %}<div>\n"
                                   "{% set flashes = {'error': get_flashed_messages("
                                   "category_filter=['error'])} %}\n"
                                   "{{ m.notes(flashes['error'], title='Oops') }}\n"
                                   "{{ m.notes(page.links) }}</div>\n",
    }, FAIL, ("app/templates/base.html:2", "app/templates/page.html:3"), MEDIUM,
        message=("flashed messages printed |safe (flash() gets text built from data, e.g. at "
                 "app/views.py:4)", "flashed messages printed |safe by macro notes()")),
    Case("constant flashed messages printed |safe", {
        "app/views.py": src("""
            from flask import flash

            def saved():
                flash("Saved. <a href='/'>Back</a>")
        """),
        "app/templates/base.html": "<ul>{% for message in get_flashed_messages() %}\n"
                                   "<li>{{ message|safe }}</li>{% endfor %}</ul>\n",
    }, PASS, ("app/templates/base.html:2",), MEDIUM),
    Case("values escaped before |safe", {
        "app/templates/base.html": "<script>var root = {{ request.script_root|tojson|safe }};"
                                   "\nvar q = {{ request.args.q | e | safe }};</script>\n",
    }, PASS),
    Case("request data marked safe after an escaped value", {
        "app/templates/base.html": "<p>{{ request.path|tojson|safe }} {{ request.args.q|safe }}"
                                   "</p>\n",
    }, FAIL, ("app/templates/base.html:1",)),
    Case("an HTML template Flask does not autoescape", {
        "app/views.py": src("""
            from flask import render_template

            def page():
                render_template("mail.txt")
                return render_template("page.jinja2")
        """),
        "app/templates/page.jinja2": "<div>{{ content }}</div>\n",
        "app/templates/mail.txt": "Hello {{ name }}\n",
    }, FAIL, ("app/views.py:5",), MEDIUM),
]


@pytest.mark.parametrize("case", JINJA, ids=ids(JINJA))
def test_jinja_autoescape(case: Case, make_repo: MakeRepo) -> None:
    check(case, make_repo, "jinja_autoescape")


def test_template_tags_are_read_as_jinja_reads_them() -> None:
    text = ("<p>{%- for m in get_flashed_messages() -%}\n{{ m|safe }}{% endfor %}</p>\n"
            "{{ unclosed " + "{% " * 50_000)
    assert list(security._jinja_tags(text)) == [
        (3, True, "for m in get_flashed_messages()"), (43, False, "m|safe"),
        (55, True, "endfor")]
    found = security._flash_safe(text)
    assert found is not None and found.direct == (2,)


def test_security_checklist_items() -> None:
    """The items, in order; detector names are checked by the rules catalogue tests."""
    loaded = load_checklists([BUILTIN_RULES_DIR], lambda name, params: [])
    security = [c for c in loaded.checklists if c.topic == "security"]
    assert [(c.title, c.order) for c in security] == [("Security Measures", 3)]
    items = {item.id: item for item in security[0].items}
    assert list(items) == [
        "security.password-hashing", "security.csrf", "security.no-sql-injection",
        "security.https", "security.debug-off", "security.secret-key",
        "security.jinja-autoescape", "security.no-committed-secrets",
    ]
    assert [ref.name for ref in items["security.no-committed-secrets"].detectors] == \
        ["committed_secrets"]
    assert [[ref.name for ref in item.applies_when] for item in items.values()] == [
        ["handles_passwords"], ["handles_forms"], ["uses_sql_database"], [], [], [], [], []]
    known = registered()
    for item in items.values():
        for ref in item.detectors + item.applies_when:
            assert ref.name in known or ref.name == "committed_secrets", ref.name


def test_hostile_inputs_end_quickly_and_raise_nothing(make_repo: MakeRepo) -> None:
    """Long lines, deep nesting and huge strings: every detector answers (no error, no hang)."""
    long_line = "{{ request." * 20000 + "\n"
    repo = make_repo({
        "app/templates/huge.html": "<form method=post " + "x" * 50000 + "\n" + long_line,
        "app/unparsable.py": "x = " + "not " * 3000 + "y\n",
        "app/deep.py": "if " + "not " * 150 + "debug:\n    DEBUG = 1\n",
        "app/strings.py": "Q = '" + "where " * 20000 + "'\ndef f(c, password):\n"
                          "    c.execute(Q, (password,))\n",
        ".env": "SECRET_KEY=" + " " * 50000 + "x\n",
        "Dockerfile": "CMD flask " + "--a " * 20000 + "\n",
        "app/sql.py": "def f(c, x):\n    c.execute(" + " + ".join(["'a'"] * 2000) + " + x)\n",
    })
    names = ["handles_passwords", "password_hashing", "handles_forms", "csrf_protection",
             "uses_sql_database", "no_sql_injection", "https_configured", "debug_off",
             "secret_key_not_hardcoded", "jinja_autoescape"]
    outcomes = [detect(repo.root, name).outcome for name in names]
    assert outcomes == [PASS, FAIL, PASS, FAIL, FAIL, FAIL, FAIL, FAIL, FAIL, PASS]


SECURITY_DETECTORS = ("handles_passwords", "password_hashing", "handles_forms", "csrf_protection",
                      "uses_sql_database", "no_sql_injection", "https_configured", "debug_off",
                      "secret_key_not_hardcoded", "jinja_autoescape")

EVERY_FACT = {
    "app/__init__.py": src("""
        from flask import Flask, render_template, request, session
        from flask_wtf.csrf import CSRFProtect
        from flask_talisman import Talisman
        from markupsafe import Markup

        csrf = CSRFProtect()

        def create_app():
            app = Flask(__name__)
            app.config.from_object("app.config.ProductionConfig")
            app.config.from_pyfile("settings.cfg")
            csrf.init_app(app)
            Talisman(app)
            return app

        def page():
            if session["nonce"] != request.form["nonce"]:
                return "no"
            return Markup("<b>%s</b>" % request.args["name"])

        def other():
            return render_template("page.jinja2")

        if __name__ == "__main__":
            create_app().run(debug=True)
    """),
    "app/config.py": src("""
        import os

        KEY = "constant-secret"

        class Config:
            DEBUG = True
            SECRET_KEY = os.environ.get("SECRET_KEY", "fallback-secret")
            WTF_CSRF_ENABLED = False

        class ProductionConfig(Config):
            DEBUG = False
            WTF_CSRF_ENABLED = True
            SESSION_COOKIE_SECURE = True

        class DevelopmentConfig(Config):
            DEBUG = True

        config = {"development": DevelopmentConfig, "default": DevelopmentConfig}
    """),
    "app/models.py": src("""
        import hashlib
        from app import db
        from app.config import KEY

        class User(db.Model):
            password = db.Column(db.String(64))

            def set_password(self, password):
                self.password = hashlib.md5(password.encode()).hexdigest()

        def make(form):
            return User(password=form.password.data)
    """),
    "app/db.py": src("""
        import sqlite3

        def query(sql):
            return sqlite3.connect("x").execute(sql).fetchall()

        def find(name):
            return sqlite3.connect("x").execute(f"SELECT * FROM t WHERE n = '{name}'")
    """),
    "app/views.py": "from app.db import query\n\ndef v(x):\n    return query('SELECT ' + x)\n",
    "app/jwt.py": "from app.config import KEY\n\ndef setup(app):\n"
                  "    app.config['JWT_SECRET_KEY'] = KEY\n",
    "app/forms.py": "from flask_wtf import FlaskForm\n\nclass F(FlaskForm):\n"
                    "    class Meta:\n        csrf = False\n",
    "app/templates/page.jinja2": "<p>{{ name }}</p>\n",
    "settings.cfg": "SECRET_KEY = 'cfg-secret'\nDEBUG = True\n",
    "tests/test_app.py": "SECRET_KEY = 'test'\nDEBUG = True\n",
}


def test_security_detectors_read_only_facts_computed_while_indexing(
        make_repo: MakeRepo, rules: Checklists) -> None:
    """With the facts the scan declares, nothing is computed late; the findings are those of a
    project that computes every fact when it is asked for."""
    repo = make_repo(EVERY_FACT, git=False)
    project = Project(repo.root, None, facts_for(rules))
    try:
        found = [registered()[name].run(project, {}) for name in SECURITY_DETECTORS]
        assert project.late_work == []
    finally:
        project.close()
    assert Outcome.ERROR not in [f.outcome for f in found]
    late = [detect(repo.root, name) for name in SECURITY_DETECTORS]
    assert [(f.outcome, f.confidence, f.message, [e.location for e in f.evidence])
            for f in found] == [(f.outcome, f.confidence, f.message,
                                 [e.location for e in f.evidence]) for f in late]
    assert [f.outcome for f in found] == [PASS, FAIL, PASS, FAIL, PASS, FAIL, PASS, FAIL, FAIL,
                                          FAIL]


# --- facts remembered across scans follow the content ---------------------------------------------


def _scan_with_cache(root: Path, cache_dir: Path, *names: str) -> list[Finding]:
    project = Project(root, FactsCache.for_project(cache_dir, root))
    try:
        return [registered()[name].run(project, {}) for name in names]
    finally:
        project.close()


def test_a_rescan_sees_the_changed_module_and_reuses_the_rest(
        make_repo: Callable[..., Repo], tmp_path: Path) -> None:
    repo = make_repo({
        "app/__init__.py": "from flask import Flask\n\ndef create_app():\n    return Flask('a')\n",
        "app/config.py": "class Config:\n    DEBUG = False\n    WTF_CSRF_ENABLED = True\n",
        "app/views.py": "def index():\n    return 'hi'\n",
        "app/forms.py": "from flask_wtf import FlaskForm\n\nclass F(FlaskForm):\n    pass\n",
    }, git=False)
    names = ("debug_off", "app_factory", "orm_anti_patterns", "csrf_protection")
    first = _scan_with_cache(repo.root, tmp_path / "cache", *names)
    assert [f.outcome for f in first] == [Outcome.PASS] * 4
    repo.write({
        "app/__init__.py": "from flask import Flask\napp = Flask('a')\n",
        "app/config.py": "class Config:\n    DEBUG = True\n    WTF_CSRF_ENABLED = False\n",
        "app/views.py": src("""
            from app.models import Post, db

            def count():
                return len(Post.query.all())
        """),
        "app/models.py": src("""
            from flask_sqlalchemy import SQLAlchemy
            db = SQLAlchemy()

            class Post(db.Model):
                id = db.Column(db.Integer, primary_key=True)
        """),
    })
    debug, factory, orm, csrf = _scan_with_cache(repo.root, tmp_path / "cache", *names)
    assert (debug.outcome, [e.location for e in debug.evidence]) == (
        Outcome.FAIL, ["app/config.py:2"])
    assert (csrf.outcome, [e.location for e in csrf.evidence]) == (
        Outcome.FAIL, ["app/config.py:3"])
    assert factory.outcome is Outcome.FAIL
    assert (orm.outcome, [e.location for e in orm.evidence]) == (
        Outcome.FAIL, ["app/views.py:4"])


# --- the walk and the cheap tests of what a module mentions -------------------------------------

_NEEDLES = [
    (security._PASSWORD_NEEDLE, security._PASSWORD_HINTS,
     ["password", "PASSWD", "user_pwd", "pw", "x_PW", "Passphrase", "passport", "paſſword",
      "hash_pw2", "pwned", "spw"]),
    (security._FORM_NEEDLE, security._FORM_HINTS,
     ["request", "REQUESTS", "post", "Posted", "methods", "MethodView", "methodview", "form"]),
    (security._METHOD_VIEW, security._METHOD_VIEW_HINTS, ["MethodView", "methodview", "View"]),
    (security._CSRF_SWITCH_WORD, security._CSRF_SWITCH_HINTS, ["WTF_CSRF_ENABLED", "wtf_csrf"]),
    (security._HTTPS_NEEDLE, security._HTTPS_HINTS,
     ["SESSION_COOKIE_SECURE", "PREFERRED_URL_SCHEME", "ssl_context", "certfile",
      "Strict-Transport-Security", "STRICT-TRANSPORT-SECURITY", "ssl"]),
    (security._DEBUG_WORDS, security._DEBUG_HINTS,
     ["DEBUG", "FLASK_DEBUG", "app.DEBUG", "use_debugger", "DebuggedApplication", "FLASK_ENV",
      "debug", "XDEBUG"]),
    (security._SECRET_NEEDLE, security._SECRET_HINTS, ["SECRET_KEY", "secret_key", "secret"]),
    (security._JINJA_NEEDLE, security._JINJA_HINTS,
     ["render_template_string", "Markup", "from_string", "Template", "template"]),
]


@pytest.mark.parametrize(("needle", "hints", "samples"), _NEEDLES,
                         ids=[n.pattern[:20] for n, _, _ in _NEEDLES])
def test_a_module_says_what_its_pattern_finds(needle: re.Pattern[str], hints: tuple[str, ...],
                                              samples: list[str]) -> None:
    """The hints that answer `says` without the pattern never miss one of its matches."""
    for sample in samples:
        for source in (f"x = {sample!r}\n", f"{sample} = 1\n" if sample.isidentifier() else ""):
            if not source:
                continue
            index, tree = parse_module("app/views.py", source)
            assert tree is not None
            parsed = security.Parsed("app/views.py", index, tree)
            expected = needle.search(parsed.words().joined) is not None
            assert parsed.says(needle, hints) == expected, (needle.pattern, source)


def _reference_walk(tree: ast.Module, path: str) -> Iterator[tuple[ast.AST, security.Context]]:
    """`security.walk` as first written: every node, statements depth first, the nodes of each
    statement's expressions breadth first (`ast.walk`), contexts made with `replace`."""
    root = security.Context(kinds=security._path_kinds(path))
    stack: list[tuple[ast.AST, security.Context]] = [(n, root) for n in reversed(tree.body)]
    while stack:
        node, context = stack.pop()
        yield node, context
        blocks: list[tuple[ast.AST, security.Context]] = []
        expressions: list[ast.AST] = []
        if isinstance(node, ast.ClassDef):
            inner = context._replace(kinds=context.kinds | security._kinds_of(node.name),
                            classes=(*context.classes, node.name), class_body=True,
                            module_level=False)
            expressions = [*node.decorator_list, *node.bases, *node.keywords]
            blocks = [(n, inner) for n in node.body]
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            prefix = f"{context.function}." if context.function else \
                ".".join(context.classes) + "." if context.classes else ""
            inner = context._replace(kinds=context.kinds | security._kinds_of(node.name),
                            function=prefix + node.name, class_body=False, module_level=False)
            expressions = [*node.decorator_list, node.args]
            blocks = [(n, inner) for n in node.body]
        elif isinstance(node, ast.If):
            body_kinds, else_kinds = security._polarity(node.test)
            guarded = context.main_guarded or (
                context.module_level and security._is_main_guard(node))
            expressions = [node.test]
            body = context._replace(kinds=context.kinds | body_kinds, main_guarded=guarded)
            orelse = context._replace(kinds=context.kinds | else_kinds)
            blocks = [(n, body) for n in node.body]
            blocks += [(n, orelse) for n in node.orelse]
        else:
            for _name, value in ast.iter_fields(node):
                for item in value if isinstance(value, list) else [value]:
                    if isinstance(item, ast.stmt | ast.excepthandler | ast.match_case):
                        blocks.append((item, context))
                    elif isinstance(item, ast.AST):
                        expressions.append(item)
        for expression in expressions:
            for sub in ast.walk(expression):
                yield sub, context
        stack.extend(reversed(blocks))


WALKED = src('''
    """Docstring with password = ? where"""
    import os
    from flask import request as r, Flask
    app = Flask(__name__)

    @app.route("/a", methods=["POST"])
    @app.post("/b")
    def view(x=r.form["a"], *, y: "T" = {"DEBUG": True}) -> r.values:
        if app.testing or os.environ.get("DEBUG") == "1":
            data = {k: v for k, v in r.form.items() if k != "password"}
        elif not app.debug:
            return [f"{x!r:>{y}}", lambda z: z.password == r.args["p"]]
        try:
            import json
        except (ValueError, KeyError) as error:
            raise RuntimeError(error) from None
        else:
            pass
        finally:
            del data
        with open("f") as handle, open("g"):
            async def inner():
                async for item in handle:
                    await item.save(password=r.form["pw"])
        match x:
            case {"DEBUG": True, **rest} if rest:
                class Meta:
                    csrf = False
            case [1, *others] | (2 as others):
                pass
        while (n := len(data)) > 0:
            global app
            data.popitem()
        return app.run(debug=True, host="127.0.0.1")

    class DevelopmentConfig(object, metaclass=type):
        SECRET_KEY = "x" + os.environ["Y"]

        def setup(self):
            self.config.update({"WTF_CSRF_ENABLED": False}, TESTING=True)

    if __name__ == "__main__":
        app.run(ssl_context="adhoc")
''')


@pytest.mark.parametrize("path", ["app/views.py", "tests/test_views.py", "config/dev.py"])
def test_the_walk_gives_the_nodes_facts_look_at_in_order(path: str) -> None:
    tree = ast.parse(WALKED)
    expected = [(node, context) for node, context in _reference_walk(tree, path)
                if type(node) in security._LOOKED_AT]
    found = security.walk(tree, path)
    assert [node for node, _ in found] == [node for node, _ in expected]
    assert [context for _, context in found] == [context for _, context in expected]


def test_the_words_of_a_module() -> None:
    words = security.words_of(index_module("app/views.py", WALKED + "b = b'\\xe9t\\xe9'\n"))
    assert {"request", "r", "Flask", "route", "methods", "form", "values", "password", "debug",
            "ssl_context", "popitem", "TESTING", "metaclass"} <= words.names
    assert {"/a", "POST", "DEBUG", "password", "pw", "f", "x", "adhoc", "WTF_CSRF_ENABLED",
            "\xe9t\xe9"} <= words.texts
    assert "view" not in words.names  # function names are not names the code uses
    assert words.lower == words.joined.lower() and not words.ascii


def test_the_index_keeps_every_name_and_text_ast_walk_finds() -> None:
    source = WALKED + "import os.path as p, sys\nfrom . import x as y\nb = b'\\xe9t\\xe9'\n"
    names, texts = set(), set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, ast.Attribute):
            names.add(node.attr)
        elif isinstance(node, ast.keyword) and node.arg:
            names.add(node.arg)
        elif isinstance(node, ast.alias):
            names.update(n for n in (node.name, node.asname) if n)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str | bytes):
            value = node.value
            texts.add(value.decode("latin-1") if isinstance(value, bytes) else value)
    index = index_module("app/views.py", source)
    assert (index.names, index.texts) == (frozenset(names), frozenset(texts))
    assert {"os.path", "p", "sys", "x", "y"} <= index.names
