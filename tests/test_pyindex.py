from __future__ import annotations

import ast
import textwrap

import pytest

from checklist_app.project.pyindex import (
    Resolver,
    ValueKind,
    _collect,
    _imports,
    index_module,
    module_name,
    parse_module,
)
from checklist_app.project.query_loops import find_loop_queries
from checklist_app.project.sql_flow import callee_name, find_sql_sites


def index(source: str, path: str = "app/views.py"):  # type: ignore[no-untyped-def]
    return index_module(path, textwrap.dedent(source))


def test_calls_resolve_imported_aliases() -> None:
    module = index("""
        import flask_wtf.csrf as csrf_mod
        from flask_wtf.csrf import CSRFProtect as Protect
        import sqlalchemy as sa

        Protect(app)
        csrf_mod.CSRFProtect()
        sa.text("select 1")
        db.session.execute(x)
    """)
    assert [(c.name, c.line) for c in module.calls] == [
        ("flask_wtf.csrf.CSRFProtect", 6),
        ("flask_wtf.csrf.CSRFProtect", 7),
        ("sqlalchemy.text", 8),
        ("db.session.execute", 9),
    ]


def test_import_of_dotted_module_binds_the_top_name() -> None:
    module = index("""
        import os.path
        os.getcwd()
        os.path.join("a", "b")
    """)
    assert [c.name for c in module.calls] == ["os.getcwd", "os.path.join"]
    assert module.imports_module("os.path") is not None


def test_relative_imports_resolve_against_the_package() -> None:
    module = index("from .extensions import db\nfrom ..core import thing\n", "pkg/sub/mod.py")
    assert [i.qualified for i in module.imports] == ["pkg.sub.extensions.db", "pkg.core.thing"]
    init = index("from .views import bp\n", "pkg/__init__.py")
    assert init.imports[0].qualified == "pkg.views.bp"


def test_functions_decorators_and_enclosing_scope() -> None:
    module = index("""
        from flask import Flask

        def create_app():
            app = Flask(__name__)

            @app.route("/")
            async def home():
                return "hi"

            return app

        class Config:
            DEBUG = False
            SECRET_KEY = "literal"
    """)
    assert [(f.qualname, f.is_async) for f in module.functions] == [
        ("create_app", False), ("create_app.home", True)]
    flask_call = next(c for c in module.calls if c.name == "flask.Flask")
    assert flask_call.function == "create_app"
    route = module.decorators[0]
    assert (route.name, route.line, route.target) == ("app.route", 7, "create_app.home")
    assert route.call is not None and route.call.args[0].const == "/"
    secret = next(a for a in module.assignments if a.target == "SECRET_KEY")
    assert (secret.class_name, secret.value.const, secret.line) == ("Config", "literal", 15)


def test_main_guard_and_keyword_values() -> None:
    module = index("""
        app.run(debug=False)
        if __name__ == "__main__":
            app.run(debug=True, port=-1)
    """)
    first, second = module.calls
    assert not first.main_guarded and second.main_guarded
    debug = second.keyword("debug")
    assert debug is not None and debug.const is True
    port = second.keyword("port")
    assert port is not None and port.const == -1


@pytest.mark.parametrize(("expression", "kind"), [
    ('"a" + b', ValueKind.CONCAT),
    ('"a %s" % b', ValueKind.PERCENT),
    ('"a {}".format(b)', ValueKind.FORMAT),
    ('f"a {b}"', ValueKind.FSTRING),
    ('f"plain"', ValueKind.CONST),
    ("os.environ.get('X')", ValueKind.CALL),
    ("settings.KEY", ValueKind.NAME),
    ("[1, 2]", ValueKind.COLLECTION),
])
def test_value_kinds(expression: str, kind: ValueKind) -> None:
    module = index(f"x = {expression}\n")
    assert module.assignments[0].value.kind is kind


def test_subscript_targets_keep_constant_keys() -> None:
    module = index('app.config["SECRET_KEY"] = "abc"\napp.config[key] = 1\n')
    assert [a.target for a in module.assignments] == ["app.config[SECRET_KEY]"]


def test_syntax_error_gives_an_index_that_says_so() -> None:
    module = index("def broken(:\n    pass\n")
    assert module.syntax_error is not None and "line 1" in module.syntax_error
    assert module.calls == ()


def test_deep_nesting_does_not_crash() -> None:
    module = index("x = " + "(" * 300 + "1" + ")" * 300 + "\n")
    assert module.path == "app/views.py"


@pytest.mark.parametrize(("path", "name"), [
    ("app/views.py", "app.views"),
    ("app/__init__.py", "app"),
    ("src/pkg/mod.py", "pkg.mod"),
    ("manage.py", "manage"),
])
def test_module_names(path: str, name: str) -> None:
    assert module_name(path) == name


# --- the walk and the fast constructors ----------------------------------------------------------

TRICKY = """
import os, json as j
from .models import Post as P

@app.route("/x", methods=["GET"])
@login_required
def view(a=f(), *args, b: g() = h(), **kw) -> r():
    x = y = [c() for c in d(e())]
    x[k()] += 1
    z: int = m(n(o=p()), *q(), **s())
    lambda: t()
    if (w := u()):
        import sys
        return {v(): v2() for v in w}
    try:
        pass
    except E(e1()) as err:
        del a[b()]
    with open(name()) as fh, ctx() as (c1, c2):
        yield fh.read().strip()[0:len(c())]
    for i in range(3):
        P.query.filter(P.id == i).all()[0]
    else:
        f"{os.getcwd()!r:>{width()}}"

class K(Base, metaclass=Meta(1)):
    a = b.c.d().e
    async def run(self):
        await self.go(*[1, 2], key=lambda v: v.x())
        async with self.lock() as l:
            async for r in self.rows():
                match r.kind():
                    case {"k": value} if check(value):
                        print(value)
"""


def test_collect_keeps_the_order_of_ast_walk() -> None:
    tree = ast.parse(TRICKY)
    walked = list(ast.walk(tree))
    nodes = _collect(tree)
    assert nodes.calls == [n for n in walked if isinstance(n, ast.Call)]
    assert nodes.assigns == [n for n in walked if isinstance(n, ast.Assign | ast.AnnAssign)]
    assert nodes.operations == [n for n in walked
                                if isinstance(n, ast.AugAssign | ast.BinOp | ast.JoinedStr)]
    assert nodes.loops == [n.lineno for n in walked if isinstance(n, ast.For | ast.AsyncFor
                                                                  | ast.ListComp | ast.SetComp
                                                                  | ast.DictComp
                                                                  | ast.GeneratorExp)
                           or isinstance(n, ast.Subscript) and isinstance(n.value, ast.Call)]
    assert nodes.imports == [n for n in walked if isinstance(n, ast.Import | ast.ImportFrom)]
    assert nodes.callees == {callee_name(n) for n in nodes.calls} - {""}
    assert sorted(nodes.definitions) == sorted(
        n.lineno for n in walked
        if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef))


def test_index_values_cannot_be_changed() -> None:
    module = index_module("app/x.py", "import os\nos.getenv('A')\n")
    with pytest.raises(AttributeError):
        module.calls[0].line = 4  # type: ignore[misc]
    with pytest.raises(AttributeError):
        module.path = "other.py"  # type: ignore[misc]


def test_lines_ended_by_carriage_returns_have_their_functions() -> None:
    module = index_module("app/cr.py", "def f():\r    g()\r\rh()\r")
    assert sorted((c.line, c.name, c.function) for c in module.calls) == [
        (2, "g", "f"), (4, "h", None)]


def test_nested_definitions_are_found_where_the_walk_looks() -> None:
    module = index("""
        class A:
            x = 1
            class B:
                def f(self):
                    def g():
                        pass
        def h():
            if True:
                class C:
                    y = 2
    """)
    assert [f.qualname for f in module.functions] == ["A.B.f", "A.B.f.g", "h"]
    assert [c.qualname for c in module.classes] == ["A", "A.B", "h.C"]
    assert [(a.target, a.class_name, a.function) for a in module.assignments] == [
        ("x", "A", None), ("y", None, "h")]


# --- the analyses give the same sites with and without the index's hints -------------------------

ANALYSED = [
    # SQL: built text, wrappers, parameters read through names and text methods
    "def f(c, x):\n    c.execute('SELECT * FROM t WHERE a = ' + x)\n",
    "def f(c, x):\n    q = f'SELECT {x}'\n    c.execute(q)\n",
    "def run(c, q):\n    c.execute(q.strip())\n\ndef g(c):\n    run(c, 'x' % 1)\n",
    "def run(c, q):\n    c.execute(str(q))\n",
    "def run(c, q):\n    sql = q\n    c.execute(sql)\n",
    "def run(c, q):\n    c.execute(s := q)\n",
    "def run(c, qs):\n    for q in qs:\n        c.execute(q)\n",
    "def run(c, qs):\n    parts = []\n    parts.append(qs)\n    c.execute(parts[0])\n",
    "def outer(q):\n    def inner(c):\n        c.execute(q)\n    return inner\n",
    "import sqlalchemy as sa\ndef f(x):\n    return sa.text(x)\n",
    "def f(db, n):\n    return db.session.query(User).filter('id = %d' % n)\n",
    "def f(db, name):\n    return User.query.filter('name = ' + name).all()\n",
    "def f(c, x):\n    q = 'a'\n    q += x\n    c.execute(q)\n",
    "class R:\n    def run(self, sql):\n        return self.db.execute(sql)\n",
    # query loops: starts and uses in different places
    "def f():\n    for p in Post.query.all():\n        p.author\n",
    "def f(db):\n    rows = db.session.execute(select(Post)).scalars()\n"
    "    return [r.tags for r in rows]\n",
    "def f():\n    posts = Post.query.all()\n\n"
    "def g(posts):\n    for p in posts:\n        p.author\n",
    "def f(db):\n    for c in db.session.get(Post, 1).comments:\n        c.author\n",
    "def f(p):\n    return len(p.likes.all())\n",
    "from builtins import len as size\ndef f(p):\n    return size(p.likes.all())\n",
    "from sqlalchemy import select as pick\n"
    "def f(db):\n    for p in db.session.scalars(pick(Post)):\n        p.author\n",
    "def f():\n    return Post.query.all()[0]\n",
    "def f():\n    return sum(p.views for p in Post.query.all())\n",
    "class V:\n    rows = [p.author for p in Post.query]\n",
    "def f():\n    for p in Post.query:\n        Comment.query.filter_by(post=p).first()\n",
    "# café\ndef f():\n    for p in Post.ｑuery:\n        p.author\n",
    "def f():\r    for p in Post.query:\r        p.author\r",
    "def f():\n    return [p for p in Post.query.all() if p.published]\n",
]


@pytest.mark.parametrize("code", ANALYSED)
def test_the_analyses_find_the_same_sites_with_the_hints(code: str) -> None:
    tree = ast.parse(code)
    nodes = _collect(tree)
    resolver = Resolver(_imports(nodes.imports, ""))
    assert find_sql_sites(tree, resolver) == find_sql_sites(
        tree, resolver, nodes.calls, nodes.callees, code, nodes.operations)
    assert find_loop_queries(tree, resolver, code) == find_loop_queries(
        tree, resolver, code, nodes.calls, nodes.callees, nodes.loops)


def test_a_parameter_of_an_enclosing_function_makes_no_wrapper() -> None:
    module = index("""
        def outer(query):
            def inner(cursor):
                cursor.execute(query)
            return inner
    """)
    assert module.sql_sites == ()


def test_some_analysed_code_has_sites() -> None:
    found = [index_module("app/m.py", code) for code in ANALYSED]
    assert sum(len(m.sql_sites) for m in found) >= 10
    assert sum(len(m.loop_queries) for m in found) >= 10


def test_code_of_python_3_6_that_names_something_async_is_parsed() -> None:
    source = "from tasks import async\n\n@async\ndef send(message):\n    return message\n"
    index, tree = parse_module("app/mail.py", source)
    assert index.syntax_error is None and tree is not None
    assert [f.name for f in index.functions] == ["send"]
    index, tree = parse_module("app/new.py", "async def f():\n    await g()\n")
    assert index.syntax_error is None and tree is not None
    index, tree = parse_module("app/py2.py", "print 'async'\n")
    assert tree is None
    assert index.syntax_error is not None and "print" in index.syntax_error
