from __future__ import annotations

import textwrap

import pytest

from checklist_app.project.pyindex import ValueKind, index_module, module_name


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
