"""Database detectors and the query-loop analysis on small sample projects: outcome, confidence
and exact evidence."""

from __future__ import annotations

import ast

import pytest

from checklist_app.detectors.database import find_models
from checklist_app.findings import Confidence, Outcome
from checklist_app.project import Project
from checklist_app.project.pyindex import Resolver, index_module
from checklist_app.project.query_loops import LoopKind, find_loop_queries, may_hold_queries
from tests.detectors.expect import MakeRepo, RunDetector, check, src, where

PASS, FAIL = Outcome.PASS, Outcome.FAIL
HIGH, MEDIUM, LOW = Confidence.HIGH, Confidence.MEDIUM, Confidence.LOW

EXTENSIONS = src("""
    from flask_sqlalchemy import SQLAlchemy

    db = SQLAlchemy()
    """)

MODELS = src("""
    from app.extensions import db


    class User(db.Model):
        id = db.Column(db.Integer, primary_key=True)
        name = db.Column(db.String(80))
        posts = db.relationship("Post", backref="author")


    class Post(db.Model):
        id = db.Column(db.Integer, primary_key=True)
        title = db.Column(db.String(200))
        views = db.Column(db.Integer)
        published = db.Column(db.Boolean)
        user_id = db.Column(db.Integer, db.ForeignKey("user.id"))
        comments = db.relationship("Comment", lazy="select")
        tags = db.relationship("Tag", lazy="selectin")
        likes = db.relationship("Like", lazy="dynamic")

        def is_visible_to(self, user):
            return self.published


    class Comment(db.Model):
        id = db.Column(db.Integer, primary_key=True)
        post_id = db.Column(db.Integer, db.ForeignKey("post.id"))
        writer = db.relationship("User")


    class Tag(db.Model):
        id = db.Column(db.Integer, primary_key=True)


    class Like(db.Model):
        id = db.Column(db.Integer, primary_key=True)
    """)


def project_with(views: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    return {"app/__init__.py": "", "app/extensions.py": EXTENSIONS, "app/models.py": MODELS,
            "app/views.py": src(views), **(extra or {})}


# --- is a database used --------------------------------------------------------------------------

USE_CASES = [
    pytest.param({"app.py": "from flask_sqlalchemy import SQLAlchemy\n"}, PASS, PASS,
                 ["app.py:1"], id="flask-sqlalchemy-import"),
    pytest.param({"app.py": "import sqlite3\n"}, PASS, FAIL, ["app.py:1"], id="sqlite3-driver"),
    pytest.param({"requirements.txt": "Flask==3.0\nSQLAlchemy==2.0.30\n", "app.py": "x = 1\n"},
                 PASS, PASS, ["requirements.txt:2"], id="declared-only"),
    pytest.param({"tests/test_db.py": "import sqlite3\n", "app.py": "x = 1\n"}, FAIL, FAIL, [],
                 id="only-in-tests"),
    pytest.param({"app.py": "import json\n"}, FAIL, FAIL, [], id="no-database"),
]


@pytest.mark.parametrize(("files", "sql", "orm", "evidence"), USE_CASES)
def test_database_use(make_repo: MakeRepo, run_detector: RunDetector, files: dict[str, str],
                      sql: Outcome, orm: Outcome, evidence: list[str]) -> None:
    repo = make_repo(files, git=False)
    found = run_detector("sql_database", repo.root)
    assert (found.outcome, where(found)) == (sql, evidence)
    assert run_detector("orm_used", repo.root).outcome is orm


# --- database.migrations -------------------------------------------------------------------------

FLASK_MIGRATE_APP = src("""
    from flask import Flask
    from flask_migrate import Migrate
    from app.extensions import db

    def create_app():
        app = Flask(__name__)
        Migrate(app, db)
        return app
    """)
MIGRATIONS_FOLDER = {
    "migrations/env.py": "import logging\nfrom alembic import context\n",
    "migrations/versions/0001_init.py": src("""
        revision = "0001"
        down_revision = None


        def upgrade():
            pass
        """),
}
REVISION_SCRIPT = MIGRATIONS_FOLDER["migrations/versions/0001_init.py"]

MIGRATION_CASES = [
    pytest.param({"app/__init__.py": FLASK_MIGRATE_APP, **MIGRATIONS_FOLDER}, PASS, HIGH,
                 ["app/__init__.py:7", "migrations/env.py:2"], id="migrate-app-db"),
    pytest.param({"app/__init__.py": FLASK_MIGRATE_APP,
                  "db/versions/0001_init.py": REVISION_SCRIPT}, PASS, HIGH,
                 ["app/__init__.py:7", "db/versions/0001_init.py:1"],
                 id="migrate-with-revision-scripts-elsewhere"),
    pytest.param({"app/__init__.py": FLASK_MIGRATE_APP}, FAIL, MEDIUM, ["app/__init__.py:7"],
                 id="migrate-without-committed-migrations"),
    pytest.param({"app/__init__.py": FLASK_MIGRATE_APP,
                  "migrations/README": "Single-database configuration for Flask.\n"}, FAIL,
                 MEDIUM, ["app/__init__.py:7"], id="migrate-with-folder-but-no-env"),
    pytest.param({"app/__init__.py": FLASK_MIGRATE_APP,
                  "tests/migrations/env.py": "from alembic import context\n"}, PASS, HIGH,
                 ["app/__init__.py:7", "tests/migrations/env.py:1"],
                 id="migrate-with-env-anywhere"),
    pytest.param({"app/extensions.py": src("""
        import flask_migrate as fm

        migrate = fm.Migrate()

        def init(app, db):
            migrate.init_app(app, db)
        """), **MIGRATIONS_FOLDER}, PASS, HIGH, ["app/extensions.py:3", "migrations/env.py:2"],
        id="migrate-init-app"),
    pytest.param({"app/extensions.py": src("""
        import flask_migrate as fm

        migrate = fm.Migrate()
        """)}, FAIL, MEDIUM, ["app/extensions.py:3"], id="migrate-init-app-without-scripts"),
    pytest.param({
        "alembic.ini": "[alembic]\nscript_location = migrations\n",
        "migrations/env.py": "from alembic import context\nimport sqlalchemy\n",
        "migrations/versions/0001_init.py": "revision = '0001'\n",
    }, PASS, HIGH, ["migrations/env.py:1", "alembic.ini"], id="alembic-environment"),
    pytest.param({"app/ext.py": src("""
        import flask_alembic


        class Alembic(flask_alembic.Alembic):
            pass


        alembic = Alembic(run_mkdir=False)
        """), "migrations/0001_init.py": REVISION_SCRIPT}, PASS, HIGH,
        ["app/ext.py:8", "migrations/0001_init.py:1"], id="subclass-of-flask-alembic"),
    pytest.param({"app/ext.py": src("""
        from flask_migrate import Migrate


        class AppMigrate(Migrate):
            pass
        """), "app/__init__.py": src("""
        from app.ext import AppMigrate


        def create_app(app, db):
            AppMigrate(app, db)
        """), **MIGRATIONS_FOLDER}, PASS, HIGH, ["app/__init__.py:5", "migrations/env.py:2"],
        id="subclass-of-migrate-called-from-another-module"),
    pytest.param({"app/migrations/2015_init.py": src("""
        revision = "8ad96e49dc6"
        down_revision = None


        def upgrade():
            pass
        """)}, PASS, HIGH, ["app/migrations/2015_init.py:1"], id="revision-scripts"),
    pytest.param({
        "db/migrations/V1__init.sql": "CREATE TABLE t (id int);\n",
        "app.py": "import psycopg2\n",
    }, PASS, MEDIUM, ["db/migrations/V1__init.sql"], id="sql-migration-files"),
    pytest.param({"app.py": src("""
        from flask_sqlalchemy import SQLAlchemy
        db = SQLAlchemy()

        def setup(app):
            with app.app_context():
                db.create_all()
        """), "tests/conftest.py": "def x(db):\n    db.create_all()\n"},
        FAIL, HIGH, ["app.py:6"], id="create-all-only"),
    pytest.param({"app.py": "import sqlite3\n"}, FAIL, MEDIUM, [], id="nothing"),
]


@pytest.mark.parametrize(("files", "outcome", "confidence", "evidence"), MIGRATION_CASES)
def test_schema_migrations(make_repo: MakeRepo, run_detector: RunDetector,
                           files: dict[str, str], outcome: Outcome, confidence: Confidence,
                           evidence: list[str]) -> None:
    found = run_detector("schema_migrations", make_repo(files, git=False).root)
    check(found, outcome, confidence, evidence)


def test_a_declared_but_unused_flask_migrate_is_named(make_repo: MakeRepo,
                                                      run_detector: RunDetector) -> None:
    repo = make_repo({"requirements.txt": "flask-migrate\n", "app.py": "import sqlite3\n"},
                     git=False)
    found = run_detector("schema_migrations", repo.root)
    assert found.outcome is FAIL
    assert "flask-migrate is declared in requirements.txt but never set up" in found.message


# --- models --------------------------------------------------------------------------------------


def test_models_relationships_and_columns(make_repo: MakeRepo) -> None:
    repo = make_repo(project_with("x = 1\n", {"app/base.py": src("""
        from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


        class Base(DeclarativeBase):
            pass


        class Account(Base):
            __tablename__ = "account"
            id: Mapped[int] = mapped_column(primary_key=True)
            owner: Mapped["User"] = relationship(lazy="joined")


        class Admin(Account):
            level = mapped_column()


        class Plain:
            __slots__ = ()
        """)}), git=False)
    models = find_models(Project(repo.root))
    assert [(c.name, c.path, c.line) for c in models.classes] == [
        ("Account", "app/base.py", 8), ("Admin", "app/base.py", 14),
        ("User", "app/models.py", 4), ("Post", "app/models.py", 10),
        ("Comment", "app/models.py", 24), ("Tag", "app/models.py", 30),
        ("Like", "app/models.py", 34),
    ]
    assert {(r.owner, r.name, r.target, r.lazy) for r in models.relationships} == {
        ("Account", "owner", "", "joined"), ("User", "posts", "Post", "select"),
        ("Post", "author", "User", "select"), ("Post", "comments", "Comment", "select"),
        ("Post", "tags", "Tag", "selectin"), ("Post", "likes", "Like", "dynamic"),
        ("Comment", "writer", "User", "select"),
    }
    assert models.relationship("Admin", "owner") is not None  # inherited
    assert models.is_column("Post", "views") and not models.is_column("Post", "comments")
    assert models.is_column("Admin", "id")


# --- the query-loop analysis ---------------------------------------------------------------------


def sites(source: str) -> list[tuple[int, LoopKind, tuple[str, ...], tuple[str, ...]]]:
    module = index_module("app/views.py", src(source))
    return [(s.line, s.kind, s.path, s.eager) for s in module.loop_queries]


def test_loop_analysis_records_attribute_paths_queries_and_eager_options() -> None:
    found = sites("""
        from sqlalchemy import select
        from sqlalchemy.orm import selectinload
        from app.models import Post, Comment
        from app.extensions import db

        def index():
            stmt = select(Post).options(selectinload(Post.comments).joinedload(Comment.writer))
            for post in db.session.scalars(stmt):
                for comment in post.comments:
                    print(comment.writer)
                Comment.query.filter_by(post_id=post.id).count()
        """)
    assert found == [
        (9, LoopKind.ATTRIBUTE, ("comments",), ("comments", "comments.writer")),
        (10, LoopKind.ATTRIBUTE, ("comments", "writer"), ("comments", "comments.writer")),
        (11, LoopKind.ATTRIBUTE, ("id",), ("comments", "comments.writer")),
        (11, LoopKind.QUERY, (), ("comments", "comments.writer")),
    ]


def test_loop_analysis_ignores_loops_over_other_things() -> None:
    assert sites("""
        from flask import session

        def view(items):
            for item in items:
                item.owner.name
                session.get("user")
            rows = [r.author for r in load()]
            post = Post.query.get(1)
            post.author = None
        """) == []


def test_loop_variable_rebinding_ends_the_loop() -> None:
    found = sites("""
        def view():
            for post in Post.query.all():
                author = post.author
            author.company
            post = None
            post.comments
        """)
    assert found == [(3, LoopKind.ATTRIBUTE, ("author",), ())]


# --- database.eager-loading ----------------------------------------------------------------------

EAGER_CASES = [
    pytest.param("""
        from app.models import Post

        def index():
            posts = Post.query.all()
            for post in posts:
                print(post.title, post.author.name)
        """, FAIL, HIGH, ["app/views.py:6"], id="backref-in-loop"),
    pytest.param("""
        from app.models import Post

        def index():
            return [(p.title, len(p.comments)) for p in Post.query.filter_by(views=1)]
        """, FAIL, HIGH, ["app/views.py:4"], id="comprehension"),
    pytest.param("""
        from sqlalchemy.orm import joinedload
        from app.models import Post

        def index():
            for post in Post.query.options(joinedload(Post.author)).all():
                print(post.author.name)
        """, PASS, LOW, ["app/models.py:17", "app/views.py:5"], id="joinedload-option"),
    pytest.param("""
        from app.models import Post

        def index():
            for post in Post.query.all():
                print(post.title, post.tags, post.views)
        """, PASS, LOW, ["app/models.py:17"], id="selectin-relationship"),
    pytest.param("""
        from app.models import Post

        def index():
            for post in Post.query.all():
                print(post.likes.count())
        """, FAIL, HIGH, ["app/views.py:5"], id="dynamic-relationship"),
    pytest.param("""
        from app.models import Post, Comment

        def index():
            for post in Post.query.all():
                n = Comment.query.filter_by(post_id=post.id).count()
        """, FAIL, HIGH, ["app/views.py:5"], id="query-in-loop"),
    pytest.param("""
        from sqlalchemy import select
        from sqlalchemy.orm import selectinload
        from app.extensions import db
        from app.models import Post

        def index(page):
            pagination = db.paginate(select(Post).options(selectinload(Post.comments)))
            for post in pagination.items:
                for comment in post.comments:
                    print(comment.writer.name)
        """, FAIL, HIGH, ["app/views.py:10"], id="nested-relationship-not-loaded"),
    pytest.param("""
        from app.models import Post

        def detail(post_id):
            post = Post.query.get_or_404(post_id)
            for comment in post.comments:
                comment.writer = None
                comment.post_id = post.id
        """, PASS, LOW, ["app/models.py:17"], id="assignments-load-nothing"),
]


@pytest.mark.parametrize(("views", "outcome", "confidence", "evidence"), EAGER_CASES)
def test_eager_loading(make_repo: MakeRepo, run_detector: RunDetector, views: str,
                       outcome: Outcome, confidence: Confidence, evidence: list[str]) -> None:
    found = run_detector("eager_loading", make_repo(project_with(views), git=False).root)
    check(found, outcome, confidence, evidence)


def test_eager_loading_leaves_tests_out(make_repo: MakeRepo, run_detector: RunDetector) -> None:
    loop = "from app.models import Post\n\nfor p in Post.query.all():\n    p.author\n"
    repo = make_repo(project_with("x = 1\n", {"tests/test_views.py": loop}), git=False)
    check(run_detector("eager_loading", repo.root), PASS, LOW, ["app/models.py:17"])


def test_eager_loading_by_attribute_name_when_the_model_is_unknown(
        make_repo: MakeRepo, run_detector: RunDetector) -> None:
    views = """
        from app.extensions import db

        def index(model):
            for row in db.session.query(model).all():
                row.comments
                row.tags
        """
    found = run_detector("eager_loading", make_repo(project_with(views), git=False).root)
    check(found, FAIL, MEDIUM, ["app/views.py:5"])


# --- database.orm-sensibly -----------------------------------------------------------------------

ORM_CASES = [
    pytest.param("""
        from app.models import Post

        def count():
            return len(Post.query.all())
        """, FAIL, ["app/views.py:4"], id="len-all"),
    pytest.param("""
        from app.models import Post

        def mine(uid):
            return [p for p in Post.query.all() if p.user_id == uid and not p.published]
        """, FAIL, ["app/views.py:4"], id="filter-in-python"),
    pytest.param("""
        from app.extensions import db
        from app.models import Post

        def total():
            return sum(p.views for p in db.session.query(Post).all())
        """, FAIL, ["app/views.py:5"], id="sum-in-python"),
    pytest.param("""
        from app.models import Post

        def first():
            return Post.query.order_by(Post.id).all()[0]
        """, FAIL, ["app/views.py:4"], id="first-of-all"),
    pytest.param("""
        from app.models import Post

        def visible(user):
            posts = Post.query.all()
            return [p for p in posts if p.is_visible_to(user)], len(posts)
        """, PASS, [], id="python-logic-is-fine"),
    pytest.param("""
        def like_count(post):
            return len(post.likes.all())
        """, FAIL, ["app/views.py:2"], id="len-all-of-a-dynamic-relationship"),
    pytest.param("""
        def comment_count(post):
            return len(post.comments.all())
        """, PASS, [], id="len-all-of-a-list-relationship-is-not-a-query"),
    pytest.param("""
        def size(cart):
            return len(cart.items.all())
        """, PASS, [], id="len-all-of-an-attribute-that-is-no-relationship"),
    pytest.param("""
        def like_count(post):
            return len(post.likes.all(), 1), len(post.likes.all(True))
        """, PASS, [], id="len-with-other-arguments"),
]


MODELS_WITH_METHODS = MODELS + src("""


    class Article(db.Model):
        id = db.Column(db.Integer, primary_key=True)
        fans = db.relationship("User", lazy="dynamic")
        readers = db.relationship("User")

        @property
        def fans_count(self):
            return len(self.fans.all())

        def reader_count(self):
            return len(self.readers.all())


    class Book(db.Model):
        id = db.Column(db.Integer, primary_key=True)
        fans = db.relationship("User")

        def fan_count(self):
            return len(self.fans.all())
    """)


def test_len_all_of_self_uses_the_methods_own_model(make_repo: MakeRepo,
                                                    run_detector: RunDetector) -> None:
    # Article.fans is dynamic (a query per call); Book.fans is a list; Article.readers too.
    files = {**project_with("x = 1\n"), "app/models.py": MODELS_WITH_METHODS}
    found = run_detector("orm_anti_patterns", make_repo(files, git=False).root)
    check(found, FAIL, MEDIUM, ["app/models.py:43"])


@pytest.mark.parametrize(("views", "outcome", "evidence"), ORM_CASES)
def test_orm_anti_patterns(make_repo: MakeRepo, run_detector: RunDetector, views: str,
                           outcome: Outcome, evidence: list[str]) -> None:
    found = run_detector("orm_anti_patterns", make_repo(project_with(views), git=False).root)
    check(found, outcome, MEDIUM if outcome is FAIL else LOW, evidence)


def test_anti_patterns_in_tests_are_fine(make_repo: MakeRepo, run_detector: RunDetector) -> None:
    test = "from app.models import Post\n\ndef test_x():\n    assert len(Post.query.all()) == 1\n"
    repo = make_repo(project_with("x = 1\n", {"tests/test_models.py": test}), git=False)
    check(run_detector("orm_anti_patterns", repo.root), PASS, LOW, [])


# --- query-loop analysis: modules without queries are not walked ---------------------------------

QUERY_TEXT_CASES = [
    pytest.param("def f(rows):\n    return [r.name for r in rows]\n", False, id="no-query-words"),
    pytest.param("def f():\n    return len(Post.query.all())\n", True, id="model-query"),
    pytest.param("def f(s):\n    return s.execute(stmt)\n", True, id="execute"),
    pytest.param("def f(p):\n    return len(p.likes.all())\n", True, id="all-of-a-relationship"),
    pytest.param("def f(S):\n    return S().scalars(q)\n", True, id="scalars"),
    pytest.param("def f():\n    return db.get_or_404(User, 1)\n", True, id="get-or-404"),
    pytest.param("def f(c):\n    return c.fetchall()\n", True, id="cursor-fetch"),
]


@pytest.mark.parametrize(("source", "expected"), QUERY_TEXT_CASES)
def test_modules_that_cannot_hold_a_query(source: str, expected: bool) -> None:
    assert may_hold_queries(source) is expected
    tree = ast.parse(source)
    walked = find_loop_queries(tree, Resolver([]))
    assert find_loop_queries(tree, Resolver([]), source) == (walked if expected else ())
    if not expected:
        assert walked == ()


# --- database.eager-loading: queries hidden in the row model's methods -------------------------

METHOD_MODELS = src("""
    import sqlalchemy as sa
    from app.extensions import db


    class User(db.Model):
        id = db.Column(db.Integer, primary_key=True)
        posts = db.relationship("Post", lazy="dynamic")
        name = db.Column(db.String(80))

        def posts_count(self):
            return db.session.scalar(sa.select(sa.func.count()).select_from(Post))

        def likes_count(self):
            return self.posts.count()

        def to_dict(self):
            return {"name": self.name, "posts": self.posts_count()}

        def to_api(self):
            return {"likes": self.likes_count()}

        def label(self):
            return self.name.title()


    class Post(db.Model):
        id = db.Column(db.Integer, primary_key=True)
        user_id = db.Column(db.Integer, db.ForeignKey("user.id"))

        def to_dict(self):
            return {"id": self.id}


    class Comment(db.Model):
        id = db.Column(db.Integer, primary_key=True)
        user_id = db.Column(db.Integer, db.ForeignKey("user.id"))
        author = db.relationship("User")

        def to_json(self):
            return {"id": self.id, "by": self.author.name}
    """)

METHOD_CASES = [
    pytest.param("""
        from app.models import User

        def users():
            return [u.to_dict() for u in User.query.all()]
        """, FAIL, MEDIUM, ["app/views.py:4"], id="method-calling-a-querying-method"),
    pytest.param("""
        from app.models import User

        def users():
            for u in User.query.all():
                u.to_api()
        """, FAIL, MEDIUM, ["app/views.py:5"], id="method-using-a-dynamic-relationship"),
    pytest.param("""
        from app.models import User

        def users():
            return [u.label() for u in User.query.all()]
        """, PASS, LOW, [], id="method-without-a-query"),
    pytest.param("""
        from app.extensions import db

        def page(query):
            rows = db.paginate(query, page=1, per_page=10)
            return [row.to_dict() for row in rows.items]
        """, PASS, LOW, [], id="unknown-model-one-method-of-that-name-queries-not"),
    pytest.param("""
        from app.extensions import db

        def page(query):
            rows = db.paginate(query, page=1, per_page=10)
            return [row.to_api() for row in rows.items]
        """, FAIL, MEDIUM, ["app/views.py:5"], id="unknown-model-every-such-method-queries"),
    pytest.param("""
        from app.models import Comment

        def comments():
            return [c.to_json() for c in Comment.query.all()]
        """, FAIL, MEDIUM, ["app/views.py:4"], id="method-reading-a-lazy-relationship"),
    pytest.param("""
        from sqlalchemy.orm import joinedload
        from app.models import Comment

        def comments():
            rows = Comment.query.options(joinedload(Comment.author)).all()
            return [c.to_json() for c in rows]
        """, PASS, LOW, ["app/views.py:5"], id="method-reading-a-relationship-the-query-loads"),
]


@pytest.mark.parametrize(("views", "outcome", "confidence", "evidence"), METHOD_CASES)
def test_eager_loading_follows_model_methods(make_repo: MakeRepo, run_detector: RunDetector,
                                             views: str, outcome: Outcome,
                                             confidence: Confidence, evidence: list[str]) -> None:
    files = {**project_with(views), "app/models.py": METHOD_MODELS}
    found = run_detector("eager_loading", make_repo(files, git=False).root)
    check(found, outcome, confidence, evidence)
