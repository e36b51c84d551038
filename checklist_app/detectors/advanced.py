"""Detectors: advanced Flask features (async, WebSockets, custom CLI commands).

These practices are optional: a project that does not need them fails with a message saying
the item can be answered n/a. Only the application's code counts (test files are left out).
"""

from __future__ import annotations

import re
from functools import partial
from typing import NamedTuple

from checklist_app.detectors.evidence import at_line
from checklist_app.detectors.organization import (
    FACTS_VERSION,
    Library,
    LibraryUse,
    ModuleNames,
    application_names,
    derived_classes,
    find_libraries,
    flask_layout,
    labels,
    modules_with,
    not_found,
    qualify,
    route_object,
    subclasses_of,
    with_own_names,
)
from checklist_app.detectors.registry import detector, module_fact
from checklist_app.findings import Confidence, Evidence, Finding, passed
from checklist_app.project import ModuleIndex, ParsedModule, Project

MAX_EVIDENCE = 5

# --- advanced.async -------------------------------------------------------------------------------

_FLASK_MODULES = ("flask", "quart", "apiflask", "flask_openapi3")
_VIEW_CLASSES = frozenset({"flask.views.MethodView", "flask.views.View",
                           "flask.MethodView", "flask.View"})
_VIEW_METHODS = frozenset({"get", "post", "put", "patch", "delete", "head", "options",
                           "dispatch_request"})
TASK_QUEUES = (
    Library("Celery", ("celery",), ("celery",)),
    Library("RQ", ("rq", "flask_rq2", "flask_rq"), ("rq", "flask-rq2", "flask-rq")),
    Library("Dramatiq", ("dramatiq", "flask_dramatiq"), ("dramatiq", "flask-dramatiq")),
    Library("Huey", ("huey",), ("huey",)),
    Library("arq", ("arq",), ("arq",)),
    Library("Flask-Executor", ("flask_executor",), ("flask-executor",)),
    Library("Taskiq", ("taskiq",), ("taskiq",)),
)
QUART = Library("Quart", ("quart",), ("quart",))
_GREEN = frozenset({"gevent.monkey.patch_all", "eventlet.monkey_patch"})


def _is_flask_module(module: ModuleIndex) -> bool:
    return any(module.imports_module(name) is not None for name in _FLASK_MODULES)


class AsyncFacts(NamedTuple):
    """What one application module holds for advanced.async."""

    functions: tuple[tuple[int, tuple[str, ...], tuple[str, ...]], ...]
    """`async def` functions with route decorators or named like a view method, in order:
    (line, qualified owners of its route decorators, qualified bases of its class when it is
    named like a view method)."""
    flask_module: bool
    """The module imports Flask, Quart, APIFlask or flask-openapi3."""
    asyncio_line: int | None
    """The first call into asyncio."""
    green_lines: tuple[int, ...]
    """gevent/eventlet monkey patching."""


def _async_facts(source: ParsedModule) -> AsyncFacts | None:
    """The module's AsyncFacts; None for a test module and a module with none of them."""
    index = source.index
    names = application_names(source)
    if names is None:
        return None
    functions = []
    local = names.local
    for function in [f for f in index.functions if f.is_async]:
        owners = tuple(qualify(index, o, local) for o in map(route_object, function.decorators)
                       if o is not None)
        bases: tuple[str, ...] = ()
        if function.class_name is not None and function.name in _VIEW_METHODS:
            bases = tuple(qualify(index, b, local) for c in index.classes
                          if c.qualname == function.class_name for b in c.bases)
        if owners or bases:
            functions.append((function.line, owners, bases))
    asyncio_line = next((c.line for c in index.calls if c.name.startswith("asyncio.")), None) \
        if "asyncio." in names.call_text else None
    green_lines = tuple(c.line for c in index.calls if c.name in _GREEN) \
        if not names.calls.isdisjoint(_GREEN) else ()
    if not functions and asyncio_line is None and not green_lines:
        return None
    return AsyncFacts(tuple(functions), _is_flask_module(index), asyncio_line, green_lines)


_ASYNC = module_fact(f"advanced.async.1.{FACTS_VERSION}", _async_facts)
"""Per application module: its AsyncFacts, or None."""


def _async_views(project: Project, modules: dict[str, AsyncFacts]) -> list[Evidence]:
    """`async def` route handlers and async methods of class-based views."""
    found: list[Evidence] = []
    view_classes: frozenset[str] | None = None
    routers: frozenset[str] | None = None
    for path, facts in modules.items():
        for line, owners, bases in facts.functions:
            routed = bool(owners) and facts.flask_module
            if owners and not routed:
                if routers is None:
                    layout = flask_layout(project)
                    routers = layout.app_objects | layout.blueprint_objects
                routed = any(o in routers for o in owners)
            in_view = False
            if bases and not routed:
                if view_classes is None:
                    view_classes = subclasses_of(project, _VIEW_CLASSES)
                in_view = any(b in view_classes for b in bases)
            if routed or in_view:
                found.append(at_line(project, path, line))
    return found


def _asyncio_use(project: Project, modules: dict[str, AsyncFacts]) -> list[Evidence]:
    """Calls into asyncio in the application's code (one per module)."""
    return [at_line(project, path, facts.asyncio_line) for path, facts in modules.items()
            if facts.asyncio_line is not None]


def _green_threads(project: Project, modules: dict[str, AsyncFacts]) -> list[Evidence]:
    """gevent/eventlet monkey patching in the application's code."""
    return [at_line(project, path, line) for path, facts in modules.items()
            for line in facts.green_lines]


@detector("async_support")
def async_support(project: Project) -> Finding:
    """Passes when the application uses Python's async features: `async def` views
    (functions decorated with a route in a module using Flask or Quart or on an app or
    blueprint of the project, or async methods of a MethodView) or a Quart application
    (high); asyncio calls in the application's code (medium).

    A task queue (Celery, RQ, Dramatiq, Huey, arq, Flask-Executor, Taskiq) or gevent/eventlet
    workers run work concurrently but are not async views or asyncio: they are named in the
    message of a failure (medium), so a person can answer the item. Fails otherwise; the item
    can be answered n/a when the application does not need to handle work concurrently.
    """
    modules = dict(modules_with(project, _ASYNC))
    views = _async_views(project, modules)
    if views:
        return passed(f"{len(views)} async view(s) ({views[0].location})",
                      *views[:MAX_EVIDENCE])
    quart = [u for u in find_libraries(project, (QUART,), include_tests=False) if u.imported]
    if quart:
        return passed(f"the application runs on {_how(quart)}", quart[0].evidence)
    asyncio = _asyncio_use(project, modules)
    if asyncio:
        return passed(f"asyncio is used in the application's code ({asyncio[0].location}); no "
                      "async view was found", *asyncio[:MAX_EVIDENCE],
                      confidence=Confidence.MEDIUM)
    hint = "This item can be answered n/a when the application does not need async code"
    queues = [u for u in find_libraries(project, TASK_QUEUES, include_tests=False) if u.imported]
    green = _green_threads(project, modules)
    if queues or green:
        others = [u.how for u in queues] + [f"gevent/eventlet ({e.location})" for e in green[:1]]
        return not_found(project,
                         f"no async views or asyncio; work runs concurrently through "
                         f"{', '.join(others)}. If that is all the application needs, answer the "
                         f"item by hand. {hint}",
                         *([u.evidence for u in queues] + green)[:MAX_EVIDENCE],
                         confidence=Confidence.MEDIUM)
    return not_found(project,
                     f"no async views, Quart or asyncio found in the application's code (task "
                     f"queues looked for: {labels(TASK_QUEUES)}). {hint}")


def _how(uses: list[LibraryUse]) -> str:
    return ", ".join(u.how for u in uses)


# --- advanced.websockets --------------------------------------------------------------------------

WEBSOCKET_LIBRARIES = (
    Library("Flask-SocketIO", ("flask_socketio",), ("flask-socketio",)),
    Library("flask-sock", ("flask_sock",), ("flask-sock",)),
    Library("Flask-Sockets", ("flask_sockets",), ("flask-sockets",)),
    Library("simple-websocket", ("simple_websocket",), ("simple-websocket",)),
    Library("gevent-websocket", ("geventwebsocket",), ("gevent-websocket",)),
    Library("python-socketio", ("socketio",), ("python-socketio",)),
    Library("websockets", ("websockets",), ("websockets",)),
    Library("Flask-uWSGI-WebSocket", ("flask_uwsgi_websocket",), ("flask-uwsgi-websocket",)),
)


def _quart_websocket_lines(source: ParsedModule) -> tuple[int, ...]:
    """`@app.websocket(...)` routes of an application module that uses Quart."""
    index = source.index
    names = application_names(source)
    if names is None or "websocket" not in names.decorator_ends or \
            index.imports_module("quart") is None:
        return ()
    return tuple(d.line for d in index.decorators if d.name.endswith(".websocket"))


_QUART_WEBSOCKETS = module_fact(f"advanced.quart-websockets.1.{FACTS_VERSION}",
                                _quart_websocket_lines)


def _quart_websockets(project: Project) -> list[Evidence]:
    """`@app.websocket(...)` routes in modules that use Quart."""
    return [at_line(project, path, line)
            for path, lines in project.module_fact(_QUART_WEBSOCKETS).items() for line in lines]


@detector("websockets")
def websockets(project: Project) -> Finding:
    """Passes when the application's code imports a WebSocket library (Flask-SocketIO,
    flask-sock, Flask-Sockets, simple-websocket, gevent-websocket, python-socketio,
    websockets, Flask-uWSGI-WebSocket) or declares Quart websocket routes. A library that is
    only declared as a dependency is not enough (it is often pulled in by another package):
    that fails with medium confidence and names it. Fails otherwise; the item can be answered
    n/a when the application needs no real-time communication.
    """
    uses = find_libraries(project, WEBSOCKET_LIBRARIES, include_tests=False)
    imported = [u for u in uses if u.imported]
    if imported:
        return passed(f"real-time communication with {_how(imported)}",
                      *(u.evidence for u in imported[:MAX_EVIDENCE]))
    quart = _quart_websockets(project)
    if quart:
        return passed(f"Quart websocket routes ({quart[0].location})", *quart[:MAX_EVIDENCE])
    hint = ("This item can be answered n/a when the application needs no real-time "
            "communication")
    if uses:
        return not_found(project,
                         f"a WebSocket library is declared but the application's code never "
                         f"imports it: {_how(uses)}. {hint}",
                         *(u.evidence for u in uses[:MAX_EVIDENCE]), confidence=Confidence.MEDIUM)
    return not_found(project,
                     f"no WebSocket support found: looked for {labels(WEBSOCKET_LIBRARIES)} and "
                     f"Quart websocket routes. {hint}")


# --- advanced.cli-commands ------------------------------------------------------------------------

_CLI_DECORATOR = re.compile(r".\.cli\.(command|group)$")
"""`app.cli.command`, `bp.cli.group`: commands on the flask CLI (a bare click group named
`cli` is not attached to the app)."""
_CLI_CLASSES = frozenset({"flask.cli.AppGroup", "flask.cli.FlaskGroup",
                          "flask_script.Manager", "flask_script.Command"})
_CLI_DECORATORS = frozenset({"flask.cli.with_appcontext", "flask.cli.pass_script_info"})
_CLI_DECORATOR_ENDS = frozenset({"command", "group",
                                 *(name.rpartition(".")[2] for name in _CLI_DECORATORS)})
"""The last part of the name of each decorator `_cli_sites` looks for."""
_ENTRY_POINT = re.compile(r"""["']?flask\.commands["']?""")


def _cli_sites(names: ModuleNames, classes: frozenset[str]) -> tuple[tuple[str, int], ...]:
    """CLI decorators, then calls adding commands or making one of `classes`: (the class
    called, or "" for the others, line)."""
    index, local = names.index, names.local
    lasts = {name.rsplit(".", 1)[-1] for name in classes}
    found: list[tuple[str, int]] = []
    if not names.decorator_ends.isdisjoint(_CLI_DECORATOR_ENDS):
        for decorator in index.decorators:
            if _CLI_DECORATOR.search(decorator.name) or decorator.name in _CLI_DECORATORS:
                found.append(("", decorator.line))
    if "add_command" not in names.call_ends and names.call_ends.isdisjoint(lasts):
        return tuple(found)  # most modules stop here
    for call in index.calls:
        if call.name.endswith(".cli.add_command"):
            found.append(("", call.line))
        elif call.name.rpartition(".")[2] in lasts:  # qualify keeps the last part
            called = qualify(index, call.name, local)
            if called in classes:
                found.append((called, call.line))
    return tuple(found)


def _module_cli_sites(classes: frozenset[str], source: ParsedModule) -> tuple[tuple[str, int], ...]:
    """The CLI sites of an application module, with calls to `classes` and to the module's
    classes with bases (any may be a project subclass of a CLI class)."""
    index = source.index
    names = application_names(source)
    if names is None:
        return ()
    return _cli_sites(names, classes | derived_classes(index))


_CLI_SITES = module_fact(f"advanced.cli-sites.1.{FACTS_VERSION}",
                         partial(_module_cli_sites, _CLI_CLASSES))


def _cli_code(project: Project) -> list[Evidence]:
    groups = subclasses_of(project, _CLI_CLASSES)
    sites = with_own_names(project, _CLI_SITES, groups - _CLI_CLASSES,
                           partial(_module_cli_sites, groups))
    found = [at_line(project, path, line) for path, module_sites in sites.items()
             for called, line in module_sites if not called or called in groups]
    return sorted(found, key=lambda e: (e.path, e.line or 0))


def _cli_entry_points(project: Project) -> list[Evidence]:
    """`flask.commands` entry points in packaging files (commands installed as plugins)."""
    found = []
    for path in project.glob("pyproject.toml", "setup.py", "setup.cfg", "*/pyproject.toml"):
        text = project.text(path)
        if text is None:
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.lstrip().startswith("#") and _ENTRY_POINT.search(line):
                found.append(at_line(project, path, number))
                break
    return found


@detector("cli_commands")
def cli_commands(project: Project) -> Finding:
    """Passes when the application adds its own `flask` commands: `@app.cli.command()`,
    `@bp.cli.command()`, `@app.cli.group()`, `flask.cli.AppGroup` or `FlaskGroup`,
    `app.cli.add_command(...)`, `@with_appcontext` click commands, Flask-Script managers, or
    `flask.commands` entry points in packaging files. Test files are not considered. Fails
    otherwise; a small app can answer the item n/a.
    """
    found = _cli_code(project) + _cli_entry_points(project)
    if found:
        return passed(f"custom CLI commands ({found[0].location})", *found[:MAX_EVIDENCE])
    return not_found(project,
                     "no custom CLI command found: looked for @app.cli.command(), "
                     "@bp.cli.command(), AppGroup, app.cli.add_command() and with_appcontext. A "
                     "small app without maintenance tasks can answer this item n/a")
