"""Where rows loaded by a query are used in a way that costs a query per row, or loads too much.

One pass over a module's functions finds loops (`for` statements and comprehensions) over the
results of an ORM query and records what their bodies do with each row:

- `attribute`: `row.attr` (and `row.attr.other`), a lazy load when `attr` is a relationship;
  the index cannot know which attributes are relationships (models live in other modules), so
  every attribute path is recorded and the database detectors keep the relationships;
- `query`: a query run in the body (`Model.query....first()`, `session.execute(...)`);

and a few ways of loading every row to do in Python what the database does better:

- `filter`: a comprehension with an `if` over the rows of a query (`[p for p in q.all() if ..]`);
- `aggregate`: `sum`/`min`/`max` over a generator of a column of the rows;
- `count`: `len(query.all())`, and `len(obj.attr.all())` with `path` = (text of `obj`, `attr`)
  (a `lazy="dynamic"` relationship is a query: the detector checks the models);
- `slice`: `query.all()[0]`, `query.all()[:10]`.

Query results are recognised syntactically, with names resolved through the module's imports:
`Model.query...`, `session.query(Model)...`, `select(Model)...` executed by `session.execute(..)
.scalars()` / `session.scalars(..)`, Flask-SQLAlchemy's `db.paginate(..)` and `.items`, a name
assigned from one of these earlier in the same function, and a relationship of a result
(`for c in post.comments`). Eager-loading options on the query (`options(joinedload(..))`) are
recorded as relationship paths, so the detector can tell which lazy loads they prevent. Nothing is
imported or run.
"""

from __future__ import annotations

import ast
import bisect
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, NamedTuple

from checklist_app.project.sql_flow import NODE_FIELDS, callee_name

if TYPE_CHECKING:
    from checklist_app.project.pyindex import Resolver

MAX_TEXT = 60
PEEK_DEPTH = 2
"""How deep into an expression outside loops the analysis looks for a comprehension or a call."""

EAGER_LOADERS = frozenset({
    "joinedload", "selectinload", "subqueryload", "contains_eager", "raiseload", "noload",
    "immediateload", "joinedload_all", "subqueryload_all", "selectin_polymorphic",
})
"""Loader options after which touching the relationship costs no query per row."""
PATH_LOADERS = frozenset({"defaultload", "lazyload", "load_only", "undefer", "defer",
                          "undefer_group", "Load"})
"""Loader options that only lead the way to a deeper option (`defaultload(A.b).joinedload(..)`)."""

_BUILDERS = frozenset({
    "filter", "filter_by", "where", "order_by", "group_by", "having", "join", "outerjoin",
    "join_from", "outerjoin_from", "options", "limit", "offset", "distinct", "select_from",
    "execution_options", "params", "correlate", "with_for_update", "populate_existing",
    "yield_per", "enable_eagerloads", "autoflush", "reset_joinpoint", "with_parent",
    "unique", "slice", "union", "union_all",
})
_ROWS = frozenset({"all", "fetchall"})
_ONE = frozenset({"first", "one", "one_or_none", "get", "get_or_404", "first_or_404",
                  "one_or_404", "scalar_one", "scalar_one_or_none"})
_RUNNERS = _ROWS | _ONE | frozenset({"count", "scalar", "paginate", "delete", "update",
                                     "fetchone", "fetchmany"})
"""Methods of a query that send SQL when called."""
_SESSION_RUNNERS = frozenset({"execute", "scalars", "scalar", "get", "refresh", "get_one"})
_DB_RUNNERS = frozenset({"get_or_404", "first_or_404", "one_or_404", "paginate"})
_CONNECTIONS = frozenset({"conn", "connection", "cursor", "cur", "engine"})
_NOT_SESSIONS = ("flask.", "requests.", "httpx.", "aiohttp.", "werkzeug.")
_ROOT_METHODS = frozenset({"select", "query", "get", "execute", "scalars", "scalar",
                           "get_or_404", "first_or_404", "one_or_404", "paginate"})
_SOURCE_METHODS = _BUILDERS | _ROWS | _ONE | _ROOT_METHODS | frozenset({"unique"})
"""Methods whose call can give query results; a call of any other method is not looked into."""
_PASS_THROUGH = frozenset({"reversed", "sorted", "list", "tuple", "iter"})
_AGGREGATES = frozenset({"sum", "min", "max"})
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)
_COMPREHENSION_KINDS = frozenset(_COMPREHENSIONS)
_PEEKED = frozenset({*_COMPREHENSIONS, ast.Call, ast.Subscript, ast.Tuple, ast.List, ast.Set,
                     ast.Dict, ast.Starred, ast.Await, ast.NamedExpr, ast.Yield, ast.YieldFrom,
                     ast.IfExp})
"""Expressions outside loops that can hold a comprehension or a call worth a look."""


class LoopKind(StrEnum):
    ATTRIBUTE = "attribute"
    QUERY = "query"
    FILTER = "filter"
    AGGREGATE = "aggregate"
    COUNT = "count"
    SLICE = "slice"


class LoopQuery(NamedTuple):
    """One site found by the analysis (see the module documentation for the kinds)."""

    line: int
    """The use: the attribute, the query call, the comprehension or the call of len/sum."""
    loop_line: int
    """The loop over query results (the line of the site itself for count and slice)."""
    description: str
    function: str | None
    kind: LoopKind = LoopKind.ATTRIBUTE
    model: str = ""
    """The entity the source query selects, as a resolved dotted name ('' when unknown)."""
    path: tuple[str, ...] = ()
    """Attributes from an object of `model` to what is used: for `attribute`, the last entry is
    the attribute touched (`("comments", "author")` for `c.author` in a loop over
    `post.comments`); for `query`, the path to the loop's rows; else ()."""
    eager: tuple[str, ...] = ()
    """Relationship paths the source loads eagerly (`comments`, `comments.author`; `*` for all,
    also used when an option could not be read)."""
    query_model: str = ""
    """For `query`: the entity of the query run in the loop ('' when unknown)."""
    columns: tuple[str, ...] = ()
    """For `filter` and `aggregate`: the attributes of the rows compared or summed."""


class _Kind(StrEnum):
    QUERY = "query"
    """An iterable query: iterating it runs it and yields objects (also a ScalarResult)."""
    SELECT = "select"
    """A `select(...)` statement, run by `session.execute`/`scalars`."""
    RESULT = "result"
    """The result of `session.execute(select(..))`: rows; `.scalars()` gives objects."""
    ROWS = "rows"
    """A list of objects (`.all()`)."""
    PAGE = "page"
    """A Flask-SQLAlchemy pagination: `.items` are the objects; iterable too."""
    ONE = "one"
    """A single object, or the element of a loop over objects."""
    RELATED = "related"
    """`obj.attr` of an object: a relationship (object or collection) or a plain attribute."""


class _Loop(NamedTuple):
    line: int
    text: str


@dataclass(slots=True)
class _Source:
    kind: _Kind
    model: str
    path: tuple[str, ...] = ()
    eager: tuple[str, ...] = ()
    loop: _Loop | None = None
    """For an object bound by a loop over query results: that loop."""

    @property
    def iterable(self) -> bool:
        return self.kind in (_Kind.QUERY, _Kind.ROWS, _Kind.PAGE, _Kind.RELATED)

    @property
    def direct_rows(self) -> bool:
        """The rows of a query itself, not of a relationship."""
        return self.kind in (_Kind.QUERY, _Kind.ROWS, _Kind.PAGE) and not self.path


def _text(node: ast.AST) -> str:
    text = _dotted_text(node)  # what ast.unparse gives for a name or `name.attr.attr`
    if text is None:
        try:
            text = ast.unparse(node)
        except (ValueError, RecursionError, AttributeError):  # pragma: no cover - odd trees
            return "?"
        text = " ".join(text.split())
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


def _dotted_text(node: ast.AST) -> str | None:
    """`a.b.c` for a name or a chain of attributes on a name, None for anything else."""
    names: list[str] = []
    while isinstance(node, ast.Attribute):
        names.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    names.append(node.id)
    names.reverse()
    return ".".join(names)


def _children(node: ast.AST) -> list[ast.AST]:
    """The child nodes of a node in `ast.iter_child_nodes` order, without the contexts and
    operators (which hold nothing): `ast.iter_child_nodes`, made cheaper."""
    children: list[ast.AST] = []
    for field_name in NODE_FIELDS.get(type(node), ()):
        child = getattr(node, field_name, None)
        if type(child) is list:
            if None in child:  # a dict display's `**`, a missing default
                child = [item for item in child if item is not None]
            children.extend(child)
        elif child is not None:
            children.append(child)
    return children


def _last(name: str) -> str:
    return name.rpartition(".")[2]


def _merge(*groups: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(entry for group in groups for entry in group))


class _Analysis:
    """Walks one module; `sites` collects what it finds."""

    def __init__(self, resolver: Resolver, places: _Places | None = None) -> None:
        self.resolver = resolver
        self.sites: list[LoopQuery] = []
        self._seen: set[tuple[int, LoopKind, tuple[str, ...]]] = set()
        self._active = 0
        """How many loops over query results enclose the code being looked at."""
        self._places = places
        """Where sites can be: a function or class whose lines cannot hold one is not walked
        (its names start empty: nothing outside it depends on it). None: walk them all."""

    def _may_hold_site(self, node: ast.stmt) -> bool:
        return self._places is None or self._places.hold_site(node)

    # --- recording -----

    def _add(self, site: LoopQuery) -> None:
        key = (site.line, site.kind, site.path)
        if key not in self._seen:
            self._seen.add(key)
            self.sites.append(site)

    # --- classifying expressions -----

    def _is_session(self, node: ast.expr) -> bool:
        """A database session by its name (`db.session`, `session`, `Session()`); Flask's cookie
        session and HTTP client sessions are not."""
        name = self.resolver.name(node)
        if name.startswith(_NOT_SESSIONS):
            return False
        last = _last(name).lower()
        return last.endswith("session") or last.endswith("session()")

    @staticmethod
    def _model_argument(node: ast.Call) -> bool:
        """`session.get(Model, id)`: an entity and a key, not `session.get("key")`."""
        return len(node.args) >= 2 and isinstance(node.args[0], ast.Name | ast.Attribute)

    def classify(self, node: ast.expr, names: dict[str, _Source]) -> _Source | None:
        """What a query-related expression holds, or None."""
        if isinstance(node, ast.Name):
            return names.get(node.id)
        if isinstance(node, ast.Attribute):
            return self._attribute(node, names)
        if isinstance(node, ast.Call):
            return self._call(node, names)
        return None

    def _attribute(self, node: ast.Attribute, names: dict[str, _Source]) -> _Source | None:
        base = self.classify(node.value, names)
        if base is None:
            # `Model.query` (Flask-SQLAlchemy): a class, so a capitalised name; `self.query`
            # or `obj.query` may be anything.
            if node.attr == "query" and isinstance(node.value, ast.Name | ast.Attribute):
                owner = self.resolver.name(node.value)
                if _last(owner)[:1].isupper():
                    return _Source(_Kind.QUERY, owner)
            return None
        if base.kind is _Kind.PAGE and node.attr == "items":
            return _Source(_Kind.ROWS, base.model, base.path, base.eager)
        if base.kind in (_Kind.ONE, _Kind.RELATED):
            return _Source(_Kind.RELATED, base.model, base.path + (node.attr,), base.eager,
                           base.loop)
        return None

    def _entity(self, node: ast.Call) -> str:
        """The entity a call selects (`session.query(Post)`), '' when it is not a name that
        can be a class (`session.query(model)` with a variable)."""
        if node.args and isinstance(node.args[0], ast.Name | ast.Attribute):
            name = self.resolver.name(node.args[0])
            parts = name.split(".")
            if any(part[:1].isupper() for part in parts):
                return name
        return ""

    def _call(self, node: ast.Call, names: dict[str, _Source]) -> _Source | None:
        func = node.func
        if isinstance(func, ast.Name):
            name = self.resolver.aliases.get(func.id, func.id)
            if _last(name) == "select":
                return _Source(_Kind.SELECT, self._entity(node))
            if name in _PASS_THROUGH and node.args:
                inner = self.classify(node.args[0], names)
                if inner is not None and inner.iterable:
                    return _Source(_Kind.ROWS, inner.model, inner.path, inner.eager, inner.loop)
            return None
        if not isinstance(func, ast.Attribute) or func.attr not in _SOURCE_METHODS:
            return None
        method = func.attr
        base = self.classify(func.value, names)
        if base is None:
            return self._root_call(node, func, names)
        if base.kind is _Kind.SELECT:
            if method in _BUILDERS:
                return _Source(_Kind.SELECT, base.model, (), _merge(base.eager,
                                                                     self._options(node, method)))
            return None
        if base.kind is _Kind.RESULT:
            if method == "scalars":
                return _Source(_Kind.QUERY, base.model, (), base.eager)
            if method == "unique":
                return base
            if method in ("scalar_one", "scalar_one_or_none", "scalar"):
                return _Source(_Kind.ONE, base.model, (), base.eager)
            return None
        if base.kind in (_Kind.QUERY, _Kind.RELATED):
            extra = self._options(node, method)
            if method in _BUILDERS:
                return _Source(base.kind, base.model, base.path, _merge(base.eager, extra),
                               base.loop)
            if method in _ROWS:
                kind = _Kind.ROWS if base.kind is _Kind.QUERY else _Kind.RELATED
                return _Source(kind, base.model, base.path, base.eager, base.loop)
            if method in _ONE:
                kind = _Kind.ONE if base.kind is _Kind.QUERY else _Kind.RELATED
                return _Source(kind, base.model, base.path, base.eager, base.loop)
            if method == "paginate" and base.kind is _Kind.QUERY:
                return _Source(_Kind.PAGE, base.model, base.path, base.eager)
        return None

    def _root_call(self, node: ast.Call, func: ast.Attribute,
                   names: dict[str, _Source]) -> _Source | None:
        """Calls that start a query: session.query/execute/scalars/get, db.paginate, select."""
        method = func.attr
        if method == "select" and not self._is_session(func.value):
            return _Source(_Kind.SELECT, self._entity(node))
        statement = self.classify(node.args[0], names) if node.args else None
        if self._is_session(func.value):
            if method == "query":
                return _Source(_Kind.QUERY, self._entity(node))
            if method == "get" and self._model_argument(node):
                return _Source(_Kind.ONE, self._entity(node))
            if statement is not None and statement.kind is _Kind.SELECT:
                if method == "execute":
                    return _Source(_Kind.RESULT, statement.model, (), statement.eager)
                if method == "scalars":
                    return _Source(_Kind.QUERY, statement.model, (), statement.eager)
                if method == "scalar":
                    return _Source(_Kind.ONE, statement.model, (), statement.eager)
            return None
        if method == "get_or_404" and node.args and isinstance(node.args[0], ast.Name):
            return _Source(_Kind.ONE, self._entity(node))
        if statement is not None and statement.kind is _Kind.SELECT:
            if method == "paginate":
                return _Source(_Kind.PAGE, statement.model, (), statement.eager)
            if method in ("first_or_404", "one_or_404"):
                return _Source(_Kind.ONE, statement.model, (), statement.eager)
        if method == "paginate" and node.args and _last(self.resolver.name(func.value)) == "db":
            # Flask-SQLAlchemy's db.paginate(select) over a statement built elsewhere (a
            # parameter): a page of rows of an unknown model.
            return _Source(_Kind.PAGE, "")
        return None

    def _options(self, node: ast.Call, method: str) -> tuple[str, ...]:
        if method != "options":
            return ()
        paths: list[str] = []
        for arg in node.args:
            found = self._loader_paths(arg) if not isinstance(arg, ast.Starred) else None
            if found is None:
                return ("*",)
            paths.extend(found)
        return tuple(paths)

    def _loader_paths(self, node: ast.expr) -> list[str] | None:
        """Eager-loaded paths of one loader option; None when it cannot be read."""
        chain: list[ast.Call] = []
        current: ast.expr = node
        while isinstance(current, ast.Call):
            chain.append(current)
            func = current.func
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Call):
                current = func.value
            else:
                break
        if not chain:
            return None
        chain.reverse()
        paths: list[str] = []
        prefix: list[str] = []
        for call in chain:
            func = call.func
            loader = func.attr if isinstance(func, ast.Attribute) else _last(
                self.resolver.name(func))
            if loader == "Load":
                continue
            if loader not in EAGER_LOADERS and loader not in PATH_LOADERS:
                return None
            steps = [self._step(arg) for arg in call.args]
            if not steps or any(step is None for step in steps):
                if loader in ("raiseload", "noload") and not steps:
                    return ["*"]
                return None
            for step in steps:
                assert step is not None
                prefix.extend(step.split("."))
                if loader in EAGER_LOADERS:
                    paths.append(".".join(prefix))
        return paths

    @staticmethod
    def _step(node: ast.expr) -> str | None:
        if isinstance(node, ast.Attribute):
            return node.attr
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        return None

    # --- walking statements -----

    def module(self, tree: ast.Module) -> None:
        self._block(tree.body, {}, None, "")

    def _block(self, body: list[ast.stmt], names: dict[str, _Source], function: str | None,
               prefix: str) -> None:
        for statement in body:
            self._statement(statement, names, function, prefix)

    def _statement(self, node: ast.stmt, names: dict[str, _Source], function: str | None,
                   prefix: str) -> None:
        # Most frequent statements first: this runs once per statement of every module walked.
        kind = type(node)
        if kind is ast.Expr or kind is ast.Return:
            value = node.value  # type: ignore[attr-defined]
            if value is not None:
                self._scan(value, names, function)
        elif kind is ast.Assign or kind is ast.AnnAssign:
            self._assign(node, names, function)  # type: ignore[arg-type]
        elif kind is ast.If or kind is ast.While:
            self._scan(node.test, names, function)  # type: ignore[attr-defined]
            self._block(node.body, names, function, prefix)  # type: ignore[attr-defined]
            self._block(node.orelse, names, function, prefix)  # type: ignore[attr-defined]
        elif kind is ast.FunctionDef or kind is ast.AsyncFunctionDef:
            if self._may_hold_site(node):
                qualname = prefix + node.name  # type: ignore[attr-defined]
                active, self._active = self._active, 0
                self._block(node.body, {}, qualname, qualname + ".")  # type: ignore[attr-defined]
                self._active = active
        elif kind is ast.ClassDef:
            if self._may_hold_site(node):
                active, self._active = self._active, 0
                self._block(node.body, {}, function,  # type: ignore[attr-defined]
                            prefix + node.name + ".")  # type: ignore[attr-defined]
                self._active = active
        elif kind is ast.For or kind is ast.AsyncFor:
            self._scan(node.iter, names, function)  # type: ignore[attr-defined]
            self._loop(node.target, node.iter, node.lineno, names,  # type: ignore[attr-defined]
                       function, node.body)  # type: ignore[attr-defined]
            self._block(node.orelse, names, function, prefix)  # type: ignore[attr-defined]
        elif kind is ast.With or kind is ast.AsyncWith:
            for item in node.items:  # type: ignore[attr-defined]
                self._scan(item.context_expr, names, function)
                if item.optional_vars is not None:
                    for bound in _bound_names(item.optional_vars):
                        names.pop(bound, None)
            self._block(node.body, names, function, prefix)  # type: ignore[attr-defined]
        elif kind is ast.Try or kind is ast.TryStar:
            self._block(node.body, names, function, prefix)  # type: ignore[attr-defined]
            for handler in node.handlers:  # type: ignore[attr-defined]
                self._block(handler.body, names, function, prefix)
            self._block(node.orelse, names, function, prefix)  # type: ignore[attr-defined]
            self._block(node.finalbody, names, function, prefix)  # type: ignore[attr-defined]
        elif kind is ast.Match:
            self._scan(node.subject, names, function)  # type: ignore[attr-defined]
            for case in node.cases:  # type: ignore[attr-defined]
                self._block(case.body, names, function, prefix)
        elif self._active:
            for child in _children(node):
                if isinstance(child, ast.expr):
                    self._scan(child, names, function)

    def _assign(self, node: ast.Assign | ast.AnnAssign, names: dict[str, _Source],
                function: str | None) -> None:
        value = node.value
        if value is None:
            return
        self._scan(value, names, function)
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        source = self.classify(value, names)
        for target in targets:
            if isinstance(target, ast.Name):
                if source is None:
                    names.pop(target.id, None)
                else:
                    names[target.id] = source
            else:
                if self._active:
                    self._scan(target, names, function)
                for bound in _bound_names(target):
                    names.pop(bound, None)

    def _element(self, target: ast.expr, iterator: ast.expr,
                 names: dict[str, _Source]) -> tuple[str, _Source] | None:
        """The loop variable and what it holds, when the loop runs over query results."""
        if isinstance(iterator, ast.Call) and isinstance(iterator.func, ast.Name) \
                and self.resolver.name(iterator.func) == "enumerate" and iterator.args \
                and isinstance(target, ast.Tuple) and len(target.elts) == 2:
            iterator, target = iterator.args[0], target.elts[1]
        if not isinstance(target, ast.Name):
            return None
        source = self.classify(iterator, names)
        if source is None or not source.iterable:
            return None
        return target.id, source

    def _loop(self, target: ast.expr, iterator: ast.expr, line: int, names: dict[str, _Source],
              function: str | None, body: list[ast.stmt]) -> None:
        found = self._element(target, iterator, names)
        saved = {name: names.get(name) for name in _bound_names(target)}
        for name in saved:
            names.pop(name, None)
        loop: _Loop | None = None
        if found is not None:
            variable, source = found
            self._iterated_query(line, source, names, function)
            loop = _Loop(line, _text(iterator))
            names[variable] = _Source(_Kind.ONE, source.model, source.path, source.eager, loop)
            self._active += 1
        self._block(body, names, function, "")
        if loop is not None:
            self._active -= 1
        _restore(names, saved, loop)

    # --- walking expressions -----

    def _innermost(self, names: dict[str, _Source]) -> _Source | None:
        best: _Source | None = None
        for source in names.values():
            if source.loop is not None and (best is None or best.loop is None
                                            or source.loop.line >= best.loop.line):
                best = source
        return best

    def _scan(self, root: ast.expr, names: dict[str, _Source], function: str | None) -> None:
        """Look at an expression: all of it inside a loop over query results, else only the
        shapes that can start one (a comprehension, len/sum/min/max, a subscript) near the top,
        which keeps the analysis far cheaper than a walk of every node."""
        if self._active:
            self._walk(root, names, function)
        elif type(root) in _PEEKED:  # nothing to peek at in names, constants, attributes
            self._peek(root, names, function, PEEK_DEPTH)

    def _peek(self, node: ast.expr, names: dict[str, _Source], function: str | None,
              depth: int) -> None:
        kind = type(node)
        if kind in _COMPREHENSION_KINDS:
            self._comprehension(node, names, function)  # type: ignore[arg-type]
            return
        if depth <= 0:
            return
        children: list[ast.expr]
        if kind is ast.Call:
            self._call_site(node, names, function)  # type: ignore[arg-type]
            children = [*node.args, *(k.value for k in node.keywords)]  # type: ignore[attr-defined]
            func = node.func  # type: ignore[attr-defined]
            if type(func) is ast.Attribute:
                children.append(func.value)
        elif kind is ast.Subscript:
            self._slice_site(node, names, function)  # type: ignore[arg-type]
            children = [node.value]  # type: ignore[attr-defined]
        elif kind is ast.Tuple or kind is ast.List or kind is ast.Set:
            children = node.elts  # type: ignore[attr-defined]
        elif kind is ast.Dict:
            children = [value for value in node.values  # type: ignore[attr-defined]
                        if value is not None]
        elif kind is ast.Starred or kind is ast.Await or kind is ast.NamedExpr:
            children = [node.value]  # type: ignore[attr-defined]
        elif kind is ast.Yield or kind is ast.YieldFrom:
            value = node.value  # type: ignore[attr-defined]
            children = [value] if value is not None else []
        elif kind is ast.IfExp:
            children = [node.body, node.orelse]  # type: ignore[attr-defined]
        else:
            return
        for child in children:
            if type(child) in _PEEKED:  # skip names, constants and attributes cheaply
                self._peek(child, names, function, depth - 1)

    def _walk(self, root: ast.expr, names: dict[str, _Source], function: str | None) -> None:
        stack: list[ast.AST] = [root]
        while stack:
            node = stack.pop()
            if isinstance(node, ast.Attribute):
                if self._attribute_use(node, names, function):
                    continue
            elif isinstance(node, ast.Call):
                self._call_site(node, names, function)
            elif isinstance(node, ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp):
                self._comprehension(node, names, function)
                continue
            elif isinstance(node, ast.Subscript):
                self._slice_site(node, names, function)
            elif isinstance(node, ast.Name | ast.Constant | ast.Lambda):
                continue
            stack.extend(_children(node))

    def _attribute_use(self, node: ast.Attribute, names: dict[str, _Source],
                       function: str | None) -> bool:
        """Record `row.a.b` for a loop variable `row`; True when the chain was handled."""
        chain: list[str] = []
        current: ast.expr = node
        while isinstance(current, ast.Attribute):
            chain.append(current.attr)
            current = current.value
        if not isinstance(current, ast.Name):
            return False
        source = names.get(current.id)
        if source is None or source.loop is None:
            return False
        chain.reverse()
        # Assigning `row.rel = x` or deleting it loads nothing; `row.a.b = x` still loads a.
        longest = len(chain) if isinstance(node.ctx, ast.Load) else len(chain) - 1
        for length in range(1, longest + 1):
            used = ".".join([current.id, *chain[:length]])
            self._add(LoopQuery(
                node.lineno, source.loop.line,
                f"{used} inside the loop over {source.loop.text}", function,
                LoopKind.ATTRIBUTE, source.model, source.path + tuple(chain[:length]),
                source.eager,
            ))
        return True

    def _runs_query(self, node: ast.Call, names: dict[str, _Source]) -> tuple[bool, str]:
        """Whether the call sends SQL, and the entity it selects when known."""
        func = node.func
        if not isinstance(func, ast.Attribute):
            return False, ""
        method = func.attr
        base = self.classify(func.value, names)
        if base is not None:
            if base.kind is _Kind.QUERY and not base.path and method in _RUNNERS:
                return True, base.model
            return False, ""
        if self._is_session(func.value) and method in _SESSION_RUNNERS and (
                method != "get" or self._model_argument(node)):
            statement = self.classify(node.args[0], names) if node.args else None
            model = statement.model if statement is not None else self._entity(node)
            return True, model
        receiver = _last(self.resolver.name(func.value))
        if method in _DB_RUNNERS and receiver == "db":
            statement = self.classify(node.args[0], names) if node.args else None
            return True, statement.model if statement is not None else self._entity(node)
        if method == "execute" and receiver in _CONNECTIONS:
            return True, ""
        return False, ""

    def _iterated_query(self, line: int, source: _Source, names: dict[str, _Source],
                        function: str | None) -> None:
        """A loop over a query that is run by the iteration itself, inside another loop."""
        outer = self._innermost(names)
        if outer is None or outer.loop is None or source.kind is not _Kind.QUERY or source.path:
            return
        self._add(LoopQuery(
            line, outer.loop.line, f"a query iterated inside the loop over {outer.loop.text}",
            function, LoopKind.QUERY, outer.model, outer.path, outer.eager, source.model,
        ))

    def _call_site(self, node: ast.Call, names: dict[str, _Source], function: str | None) -> None:
        loop_source = self._innermost(names) if self._active else None
        if loop_source is not None and loop_source.loop is not None:
            runs, model = self._runs_query(node, names)
            if runs:
                self._add(LoopQuery(
                    node.lineno, loop_source.loop.line,
                    f"query {_text(node)} inside the loop over {loop_source.loop.text}",
                    function, LoopKind.QUERY, loop_source.model, loop_source.path,
                    loop_source.eager, model,
                ))
        func = node.func
        if not isinstance(func, ast.Name) or len(node.args) != 1:
            return
        builtin = self.resolver.name(func)
        argument = node.args[0]
        if builtin == "len" and isinstance(argument, ast.Call):
            rows = self.classify(argument, names)
            if rows is not None and rows.kind is _Kind.ROWS and rows.direct_rows:
                self._add(LoopQuery(
                    node.lineno, node.lineno,
                    f"{_text(node)} loads every row to count them; use count()",
                    function, LoopKind.COUNT, rows.model,
                ))
            elif rows is None:
                self._attribute_count_site(node, argument, function)
        elif builtin in _AGGREGATES and isinstance(argument, ast.GeneratorExp | ast.ListComp):
            self._aggregate_site(node, builtin, argument, names, function)

    def _attribute_count_site(self, node: ast.Call, argument: ast.Call,
                              function: str | None) -> None:
        """`len(obj.attr.all())`: a count site whose `path` is (the owner's text, `attr`); the
        detector keeps it only when `attr` is a `lazy="dynamic"` relationship (a query)."""
        func = argument.func
        if argument.args or argument.keywords or not isinstance(func, ast.Attribute) \
                or func.attr not in _ROWS or not isinstance(func.value, ast.Attribute):
            return
        owner = func.value.value
        if not isinstance(owner, ast.Name | ast.Attribute):
            return
        self._add(LoopQuery(
            node.lineno, node.lineno,
            f"{_text(node)} loads every related row to count them; use .count()",
            function, LoopKind.COUNT, "", (_text(owner), func.value.attr),
        ))

    def _aggregate_site(self, node: ast.Call, builtin: str,
                        argument: ast.GeneratorExp | ast.ListComp,
                        names: dict[str, _Source], function: str | None) -> None:
        if len(argument.generators) != 1:
            return
        generator = argument.generators[0]
        found = self._element(generator.target, generator.iter, names)
        element = argument.elt
        if found is None or not found[1].direct_rows or generator.ifs:
            return
        variable, source = found
        if isinstance(element, ast.Attribute) and isinstance(element.value, ast.Name) \
                and element.value.id == variable:
            self._add(LoopQuery(
                node.lineno, node.lineno,
                f"{_text(node)} loads every row to compute {builtin}() in Python; "
                f"use func.{builtin}() in the query", function, LoopKind.AGGREGATE,
                source.model, columns=(element.attr,),
            ))

    def _slice_site(self, node: ast.Subscript, names: dict[str, _Source],
                    function: str | None) -> None:
        if not isinstance(node.value, ast.Call):
            return
        rows = self.classify(node.value, names)
        if rows is not None and rows.kind is _Kind.ROWS and rows.direct_rows:
            hint = "limit()" if isinstance(node.slice, ast.Slice) else "first() or offset()"
            self._add(LoopQuery(
                node.lineno, node.lineno,
                f"{_text(node)} loads every row to keep some; use {hint}", function,
                LoopKind.SLICE, rows.model,
            ))

    def _comprehension(self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp,
                       names: dict[str, _Source], function: str | None) -> None:
        saved: dict[str, _Source | None] = {}
        active = self._active
        for generator in node.generators:
            self._scan(generator.iter, names, function)
            found = self._element(generator.target, generator.iter, names)
            for name in _bound_names(generator.target):
                saved.setdefault(name, names.get(name))
                names.pop(name, None)
            if found is not None:
                variable, source = found
                self._iterated_query(node.lineno, source, names, function)
                loop = _Loop(node.lineno, _text(generator.iter))
                names[variable] = _Source(_Kind.ONE, source.model, source.path, source.eager,
                                          loop)
                self._active += 1
                if generator.ifs and source.direct_rows:
                    self._filter_site(node, variable, source, generator.ifs, function)
            for condition in generator.ifs:
                self._scan(condition, names, function)
        if isinstance(node, ast.DictComp):
            self._scan(node.key, names, function)
            self._scan(node.value, names, function)
        else:
            self._scan(node.elt, names, function)
        self._active = active
        _restore(names, saved, None)
        for name in [name for name, source in names.items()
                     if source.loop is not None and source.loop.line == node.lineno
                     and name not in saved]:
            del names[name]

    def _filter_site(self, node: ast.expr, variable: str, source: _Source,
                     conditions: list[ast.expr], function: str | None) -> None:
        columns: list[str] = []
        for condition in conditions:
            found = _simple_condition(condition, variable)
            if found is None:
                return
            columns.extend(found)
        if columns:
            self._add(LoopQuery(
                node.lineno, node.lineno,
                f"{_text(node)} loads every row and filters in Python; filter in the query",
                function, LoopKind.FILTER, source.model, columns=tuple(dict.fromkeys(columns)),
            ))


def _restore(names: dict[str, _Source], saved: dict[str, _Source | None],
             loop: _Loop | None) -> None:
    """Leave a loop: its variables get their previous meaning, names bound to its rows go."""
    if loop is not None:
        for name in [name for name, source in names.items() if source.loop is loop]:
            del names[name]
    for name, previous in saved.items():
        if previous is None:
            names.pop(name, None)
        else:
            names[name] = previous


def _bound_names(target: ast.expr) -> list[str]:
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, ast.Tuple | ast.List):
        return [name for element in target.elts for name in _bound_names(element)]
    if isinstance(target, ast.Starred):
        return _bound_names(target.value)
    return []


def _simple_condition(node: ast.expr, variable: str) -> list[str] | None:
    """The attributes of `variable` a condition tests, when it is a plain comparison that SQL
    could do (`p.published`, `p.user_id == uid and not p.hidden`); None otherwise."""
    if isinstance(node, ast.BoolOp):
        found: list[str] = []
        for value in node.values:
            part = _simple_condition(value, variable)
            if part is None:
                return None
            found.extend(part)
        return found
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return _simple_condition(node.operand, variable)
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
            and node.value.id == variable:
        return [node.attr]
    if isinstance(node, ast.Compare):
        found = []
        for operand in (node.left, *node.comparators):
            if isinstance(operand, ast.Attribute) and isinstance(operand.value, ast.Name) \
                    and operand.value.id == variable:
                found.append(operand.attr)
            elif not _constant_like(operand, variable):
                return None
        return found or None
    return None


def _constant_like(node: ast.expr, variable: str) -> bool:
    """A value that does not depend on the row: a constant, a name, `obj.attr` of another
    object, or a tuple/list of those."""
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.Name):
        return node.id != variable
    if isinstance(node, ast.Attribute):
        return _constant_like(node.value, variable)
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return all(_constant_like(element, variable) for element in node.elts)
    return False


_QUERY_WORDS = ("query", "select", "execute", "scalar", "paginate", "_or_404", "session",
                "Session", ".all(", "fetch")
"""Text without any of these cannot hold a site: every site starts from a query or `.all()`."""

_STARTS = frozenset({"select", "query", "get_or_404", "paginate", *_ROWS})
"""Methods whose call can start query results on its own (`get` too, given an entity and a key),
or be counted with len() (`.all()`, `.fetchall()`)."""


def may_hold_queries(source: str) -> bool:
    """Whether a module's text can contain a site at all (a cheap test before the walk)."""
    for word in _QUERY_WORDS:
        if word in source:
            return True
    return False


class _Places(NamedTuple):
    """Where in a module sites can be: a site uses query results (in a loop, a comprehension,
    a subscript of a call or a call of len()) that start somewhere (see `_places`)."""

    starts: list[int] | None
    """The lines where query results may start, in order; None: anywhere."""
    uses: list[int] | None
    """The lines of the loops, comprehensions, subscripts of calls and calls of len(), in
    order; None: anywhere."""

    def hold_site(self, node: ast.stmt) -> bool:
        """Whether the lines of a definition hold both a start and a use."""
        first, last = node.lineno, node.end_lineno or node.lineno
        return _holds(self.starts, first, last) and _holds(self.uses, first, last)


def _holds(lines: list[int] | None, first: int, last: int) -> bool:
    """Whether one of `lines` (in order; None: any line) is between `first` and `last`."""
    if lines is None:
        return True
    position = bisect.bisect_left(lines, first)
    return position < len(lines) and lines[position] <= last


def _calls_len(resolver: Resolver, callees: AbstractSet[str]) -> bool:
    """Whether the last name of one of the callees resolves to `len` (as `_len_names`)."""
    aliases = resolver.aliases
    if "len" in callees and "len" not in aliases:
        return True
    return "len" in aliases.values() and any(aliases.get(name) == "len" for name in callees)


def _len_names(resolver: Resolver) -> set[str]:
    """The local names that resolve to `len` (as `_Analysis._call_site` resolves them)."""
    lens = {local for local, name in resolver.aliases.items() if name == "len"}
    if "len" not in resolver.aliases:
        lens.add("len")
    return lens


def _places(source: str, resolver: Resolver, calls: Sequence[ast.Call],
            callees: AbstractSet[str], loops: Sequence[int] | None) -> _Places:
    """Where sites can be in a module, from its text, its calls, the last names of their
    callees (`callees`) and the lines of its loops, comprehensions and subscripts of calls.

    Query results start only from `Model.query` (an attribute named `query`, so the word is on
    its line, unless non-ASCII letters spell it), a call of `select()`, of a method in
    `_STARTS`, or of `get(Entity, key)`; every other source is made from one of these. The one
    site that needs no query, `len(obj.attr.all())`, calls `all()`.
    """
    aliases = resolver.aliases
    lens = _len_names(resolver)
    # The local names that resolve to `select` (as in `_Analysis._call`).
    selects = {local for local, name in aliases.items() if _last(name) == "select"}
    if "select" not in aliases:
        selects.add("select")
    starts: list[int] = []
    uses = list(loops) if loops is not None else []
    if not _STARTS.isdisjoint(callees) or "get" in callees or not selects.isdisjoint(callees) \
            or not lens.isdisjoint(callees):
        for call in calls:
            func = call.func
            kind = type(func)
            if kind is ast.Attribute:
                method = func.attr  # type: ignore[attr-defined]
                if method in _STARTS or (method == "get" and _Analysis._model_argument(call)):
                    starts.append(call.lineno)
            elif kind is ast.Name:
                name = func.id  # type: ignore[attr-defined]
                if name in selects:
                    starts.append(call.lineno)
                elif name in lens:
                    uses.append(call.lineno)
    if not source.isascii():
        return _Places(None, sorted(uses) if loops is not None else None)
    starts.extend(_word_lines(source, "query"))
    starts.sort()
    return _Places(starts, sorted(uses) if loops is not None else None)


def _word_lines(source: str, word: str) -> list[int]:
    """The line of each occurrence of `word` in `source`, in order."""
    lines: list[int] = []
    position = source.find(word)
    if position >= 0:
        if "\r" in source:  # Python also ends lines with a lone carriage return
            source = source.replace("\r\n", "\n").replace("\r", "\n")
            position = source.find(word)
        line, counted = 1, 0
        while position >= 0:
            line += source.count("\n", counted, position)
            counted = position
            lines.append(line)
            position = source.find(word, position + len(word))
    return lines


def find_loop_queries(tree: ast.Module, resolver: Resolver, source: str | None = None,
                      calls: Sequence[ast.Call] | None = None,
                      callees: AbstractSet[str] | None = None,
                      loops: Sequence[int] | None = None) -> tuple[LoopQuery, ...]:
    """Every site in the module, in line order.

    With the module's `source`, a module whose text mentions no query at all is not walked.
    With its `source` and all its `calls` too (and the last names of their callees, `callees`,
    and the lines of its loops, comprehensions and subscripts of calls, `loops`), neither are
    the functions and classes that cannot hold a site (see `_places`)."""
    if calls is not None and callees is None:
        callees = {callee_name(call) for call in calls}
    if loops is not None and not loops and callees is not None \
            and not _calls_len(resolver, callees):
        return ()  # nothing can use query results: no loop, comprehension, subscript, len()
    if source is not None and not may_hold_queries(source):
        return ()
    places = None
    if source is not None and calls is not None and callees is not None:
        places = _places(source, resolver, calls, callees, loops)
        if places.starts == [] or places.uses == []:
            return ()
    analysis = _Analysis(resolver, places)
    analysis.module(tree)
    return tuple(sorted(analysis.sites, key=lambda site: (site.line, site.kind, site.path)))
