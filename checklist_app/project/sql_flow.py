"""Where SQL text built from non-constant parts reaches a database call.

The analysis reads one parsed module (never runs it). For every call that receives SQL text
(`execute()`, `executemany()`, `executescript()`, `exec_driver_sql()`, sqlalchemy `text()` and
`literal_column()`, pandas `read_sql()`, psycopg `sql.SQL()`, string filters such as
`Model.query.filter("...")`), it asks how the text argument was made, following local variables
assigned in the same function, module-level names, and what module-level helper functions return
for the arguments given (`where("name")` with `def where(col): return f"{col} = ?"`):

- `SAFE`: provably constant: literals, names assigned only literals, ALL_CAPS constants, numbers
  (`int(x)`, `%d`, `{x:d}`), joins of constant pieces (`", ".join("?" * n)`), loop variables over
  constant lists, look-ups in constant dictionaries (whitelists).
- `OPAQUE`: not built here but not known either: a parameter, a call result, an attribute.
- `BUILT`: made by concatenation, %-formatting, `.format()`, an f-string or `str.join()` with at
  least one part that is not SAFE.

Only BUILT text reaching a sink is a site. Generic method names (`execute`, `fetch`, `raw`) count
only when the text visibly holds SQL or the receiver is a database object (`cursor`, `conn`,
`session`, `engine`, `db`). A plain function that passes one of its parameters straight to a sink
is a *wrapper* (the Flask tutorial's `query_db(query, args)`): calls to it in the same module are
checked like sinks, and it is recorded as a PARAMETER site so that callers in other modules can be
checked from the index.

`TextFlow` is the reusable part: detectors use it to ask the same question about other sinks
(`render_template_string()`, `Markup()`).
"""

from __future__ import annotations

import ast
import bisect
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import TYPE_CHECKING, Final, NamedTuple

if TYPE_CHECKING:
    from checklist_app.project.pyindex import Resolver

MAX_DEPTH = 40
"""Expressions nested deeper than this are treated as OPAQUE."""

WRAPPER_ROUNDS = 3
"""How many levels of same-module wrappers (a wrapper calling a wrapper) are followed."""


class SiteKind(StrEnum):
    BUILT = "built"
    """SQL text built from non-constant parts reaches the sink."""
    PARAMETER = "parameter"
    """A module-level function passes its parameter straight to the sink (a wrapper)."""


class SqlSite(NamedTuple):
    line: int
    sink: str
    """The call that receives the SQL: `db.session.execute`, `sqlalchemy.text`, `cursor.execute`."""
    construction: str
    """How the text was built: concatenation, %-formatting, .format(), f-string, str.join();
    empty for a PARAMETER site."""
    function: str | None
    """The qualified name of the enclosing function, None at module level."""
    built_line: int = 0
    """Where the text was built (may be an assignment above the sink)."""
    request_data: bool = False
    """Part of the text comes from `flask.request`."""
    kind: SiteKind = SiteKind.BUILT
    parameter: str = ""
    """For a PARAMETER site: the parameter passed to the sink."""
    parameter_index: int = -1
    """For a PARAMETER site: its position in the function's signature."""


class TextKind(StrEnum):
    SAFE = "safe"
    OPAQUE = "opaque"
    BUILT = "built"


@dataclass(frozen=True, slots=True)
class Text:
    """What is known about how a text expression was made."""

    kind: TextKind
    construction: str = ""
    line: int = 0
    fragments: tuple[str, ...] = ()
    """Constant pieces seen in the text (to tell whether it holds SQL)."""
    request_data: bool = False
    parameter: str | None = None
    """Set when the expression is exactly this parameter of the enclosing function."""


SAFE = Text(TextKind.SAFE)
OPAQUE = Text(TextKind.OPAQUE)

F_STRING = "f-string"
CONCATENATION = "concatenation"
PERCENT = "%-formatting"
FORMAT = ".format()"
JOIN = "str.join()"

_SAFE_CALLS = frozenset({"int", "float", "len", "bool", "abs", "round", "ord", "hash"})
_TEXT_PRESERVING = frozenset({
    "strip", "lstrip", "rstrip", "lower", "upper", "title", "capitalize", "casefold",
    "expandtabs", "removeprefix", "removesuffix", "encode", "decode",
})
_NUMERIC_SPEC = frozenset("bcdeEfFgGnoxX%")
_PERCENT_SPEC = re.compile(
    r"%(?:\([^)]{0,100}\))?[-#0 +]{0,5}(?:\*|\d{1,5})?(?:\.(?:\*|\d{1,5}))?[hlL]?"
    r"([diouxXeEfFgGcrsa%])")
_NUMERIC_CONVERSIONS = frozenset("diouxXeEfFgG")
_ALL_CAPS = re.compile(r"^_?[A-Z][A-Z0-9_]*$")
_SQL_WORDS = re.compile(
    r"\b(select|insert|update|delete|create|drop|alter|truncate|replace|pragma|where|from|"
    r"values|join|order\s+by|group\s+by|exec|merge|union|limit|set|into|table)\b",
    re.IGNORECASE)
_DB_RECEIVER = re.compile(
    r"(cursor|^cur$|^c$|conn|connection|session|engine|^db$|_db$|db\(\)$|database|sql|sqlite|"
    r"mysql|postgres|^pg$|^op$)", re.IGNORECASE)
_QUERY_RECEIVER = re.compile(r"(query|select|stmt|statement|session|sqlalchemy)", re.IGNORECASE)

# Sinks: resolved function names that take SQL text as their first argument.
_STRONG_FUNCTIONS = frozenset({
    "sqlalchemy.text", "sqlalchemy.sql.text", "sqlalchemy.sql.expression.text",
    "sqlalchemy.literal_column", "sqlalchemy.sql.literal_column",
    "sqlalchemy.sql.expression.literal_column", "sqlmodel.text",
    "pandas.read_sql", "pandas.read_sql_query", "pandas.io.sql.read_sql",
    "pandas.io.sql.read_sql_query",
    "psycopg2.sql.SQL", "psycopg.sql.SQL",
})
_STRONG_METHODS = frozenset({"executescript", "executemany", "exec_driver_sql", "execute_sql"})
_WEAK_METHODS = frozenset({"execute", "fetch", "fetchrow", "fetchval", "raw", "mogrify"})
_QUERY_METHODS = frozenset({"filter", "where", "having", "order_by", "group_by",
                            "from_statement"})
_SQL_KEYWORDS = ("statement", "sql", "query", "operation", "text", "clause", "sql_query")


_SINK_METHODS = _STRONG_METHODS | _WEAK_METHODS | {
    "text", "literal_column", "read_sql", "read_sql_query", "SQL"}
"""The last names of sinks other than query filters (strong functions end with one of them)."""
_CANDIDATE_NAMES = _SINK_METHODS | _QUERY_METHODS


def find_sql_sites(tree: ast.Module, resolver: Resolver,
                   calls: Sequence[ast.Call] | None = None,
                   callees: AbstractSet[str] | None = None,
                   source: str | None = None,
                   operations: Sequence[ast.AST] | None = None) -> tuple[SqlSite, ...]:
    """Every place in the module where built SQL text reaches a sink, and every wrapper.

    `calls` are the module's call nodes when the caller has already walked the tree (the index
    has), and `callees` the last names of their callees (`callee_name`); without them the tree is
    walked here. With the module's `source` too, a module without `:=` and list changes is
    analysed from its statements alone. With its binary operations, augmented assignments and
    f-strings (`operations`) too, a module that cannot build text is only checked for wrappers.
    """
    if calls is None:
        calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call)]
    if callees is None:
        callees = {callee_name(call) for call in calls}
    if _CANDIDATE_NAMES.isdisjoint(callees):
        return ()
    expressions = source is None or ":=" in source or not _LIST_CHANGES.isdisjoint(callees)
    builds = operations is None or not _BUILDING_METHODS.isdisjoint(callees) \
        or any(_builds(node) for node in operations)
    try:
        flow = TextFlow(tree, resolver, track_request=False, expressions=expressions)
        return _SqlFinder(flow, calls, builds).sites()
    except RecursionError:
        return ()


_LIST_CHANGES = frozenset({"append", "insert", "extend"})
"""The methods whose calls `_collect_list_change` reads."""

_BUILDING_METHODS = frozenset({"format", "format_map", "join", "replace"})
"""The methods whose calls can build text (see `TextFlow._call`)."""


def _builds(node: ast.AST) -> bool:
    """Whether an operation can build text: a concatenation or %-formatting (also augmented),
    or an f-string with a formatted value. Text is BUILT only by these and `_BUILDING_METHODS`
    (see `_build` and its callers): in a module without them, no text is ever BUILT."""
    if isinstance(node, ast.BinOp | ast.AugAssign):
        return isinstance(node.op, ast.Add | ast.Mod)
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(value, ast.FormattedValue) for value in node.values)
    return True


def _may_be_parameter(node: ast.expr) -> bool:
    """Whether the text of an expression can be a parameter of the function it is in: only a
    name, or what `TextFlow.evaluate` reads through to one (`:=`, `str()`, `format()`, `.strip()`
    and the other text-preserving methods); anything else is never a PARAMETER text."""
    while True:
        if isinstance(node, ast.Name):
            return True
        if isinstance(node, ast.NamedExpr):
            node = node.value
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id in {"str", "format"} and node.args:
            node = node.args[0]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr in _TEXT_PRESERVING:
            node = node.func.value
        else:
            return False


def callee_name(call: ast.Call) -> str:
    """The last name of the called function: `execute` for `db.session.execute(...)`."""
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return ""


# --- scopes -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _LoopBinding:
    """A name bound as (part of) a `for` target: its value is an element of `iterable`."""

    iterable: ast.expr
    position: int | None
    """The index inside a tuple target (`for i, x in ...`), None for a plain name."""


@dataclass(frozen=True, slots=True)
class _Unknown:
    """A name bound by something the analysis does not follow (with, except, import, def)."""


@dataclass(frozen=True, slots=True)
class _Given:
    """A parameter bound to what a caller passed (when following a helper's return value)."""

    text: Text


Binding = ast.expr | _LoopBinding | _Unknown | _Given


@dataclass
class Scope:
    """The names bound in one function (or the module body) and how."""

    node: ast.AST
    parent: Scope | None
    qualname: str | None
    params: tuple[str, ...] = ()
    bindings: dict[str, list[Binding]] = field(default_factory=dict)
    augmented: dict[str, list[tuple[ast.operator, ast.expr]]] = field(default_factory=dict)
    additions: dict[str, list[ast.expr]] = field(default_factory=dict)
    """Elements added to a list with append()/insert()."""
    extensions: dict[str, list[ast.expr]] = field(default_factory=dict)
    """Iterables added to a list with extend() or `+=`."""
    built: bool = False
    expressions: bool = True
    """Whether names may be bound (`:=`) or lists changed (`x.append(..)`) inside expressions;
    when not, the bindings are read from the statements alone."""

    def lookup(self, name: str) -> Scope | None:
        scope: Scope | None = self
        while scope is not None:
            scope.ensure_built()
            if name in scope.bindings or name in scope.params:
                return scope
            scope = scope.parent
        return None

    def ensure_built(self) -> None:
        if not self.built:
            self.built = True
            _collect_bindings(self)


def _node_types(kind: type[ast.AST]) -> list[type[ast.AST]]:
    """`kind` and every node type derived from it."""
    found = [kind]
    for sub in kind.__subclasses__():
        found.extend(_node_types(sub))
    return found


_NOT_NODES = frozenset({
    "ctx", "op", "ops", "id", "attr", "name", "names", "arg", "module", "level", "kind",
    "type_comment", "is_async", "conversion", "simple", "tag", "lineno", "rest", "kwd_attrs",
})
"""Fields that never hold a statement or an expression (names, operators, contexts)."""


def _child_fields(kind: type) -> tuple[str, ...]:
    """The fields of a node type that can hold statements or expressions."""
    if not issubclass(kind, ast.AST) or kind in (ast.Constant, ast.MatchSingleton):
        return ()
    return tuple(f for f in kind._fields if f not in _NOT_NODES)


NODE_FIELDS: Final[Mapping[type, tuple[str, ...]]] = {
    kind: _child_fields(kind) for kind in (*_node_types(ast.AST), str, type(None))}
"""Node type -> its fields that can hold statements or expressions, in `_fields` order (text
and None, which field lists may hold, have none). Walks that look for calls, assignments,
imports or bindings follow these and pass over names, operators and contexts."""

_SCOPE_BOUNDARIES = frozenset({
    ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda, ast.ListComp, ast.SetComp,
    ast.DictComp, ast.GeneratorExp,
})
"""Nodes whose insides are another scope."""


def _body_nodes(node: ast.AST) -> list[ast.AST]:
    """The nodes of a scope's body, depth first in field order (a node before its children),
    not entering nested functions, classes, lambdas or comprehensions (listed themselves), and
    without the names, constants, operators and contexts, which bind nothing."""
    stack: list[ast.AST | None]
    if isinstance(node, ast.Lambda):
        stack = [node.body]
    elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Module | ast.ClassDef):
        stack = list(reversed(node.body))
    else:
        return []
    found: list[ast.AST] = []
    fields_of = NODE_FIELDS
    name_kind, constant_kind, boundaries = ast.Name, ast.Constant, _SCOPE_BOUNDARIES
    while stack:
        current = stack.pop()
        if current is None:
            continue  # a missing key of a dict display, a missing default
        kind = type(current)
        if kind is name_kind or kind is constant_kind:
            continue
        found.append(current)
        if kind in boundaries:
            continue
        children: list[ast.AST | None] = []
        for field_name in fields_of.get(kind, ()):
            child = getattr(current, field_name, None)
            if type(child) is list:
                children.extend(child)
            elif child is not None:
                children.append(child)
        children.reverse()
        stack.extend(children)
    return found


def _bind(scope: Scope, name: str, binding: Binding) -> None:
    scope.bindings.setdefault(name, []).append(binding)


def _bind_target(scope: Scope, target: ast.expr, value: ast.expr | None) -> None:
    if isinstance(target, ast.Name):
        _bind(scope, target.id, value if value is not None else _Unknown())
    elif isinstance(target, ast.Tuple | ast.List):
        values = value.elts if isinstance(value, ast.Tuple | ast.List) else None
        for position, element in enumerate(target.elts):
            if values is not None and len(values) == len(target.elts):
                _bind_target(scope, element, values[position])
            else:
                _bind_target(scope, element, None)
    elif isinstance(target, ast.Starred):
        _bind_target(scope, target.value, None)


def _bind_loop(scope: Scope, target: ast.expr, iterable: ast.expr) -> None:
    if isinstance(target, ast.Name):
        _bind(scope, target.id, _LoopBinding(iterable, None))
    elif isinstance(target, ast.Tuple | ast.List):
        for position, element in enumerate(target.elts):
            if isinstance(element, ast.Name):
                _bind(scope, element.id, _LoopBinding(iterable, position))
            else:
                _bind_target(scope, element, None)


_BLOCKS = ("body", "orelse", "finalbody", "handlers", "cases")
"""The fields that hold statements (or except handlers, match cases)."""


def _block_fields(kind: type[ast.AST]) -> tuple[str, ...]:
    return tuple(f for f in kind._fields if f in _BLOCKS)


_BLOCK_HOLDERS: list[type[ast.AST]] = [*_node_types(ast.stmt), ast.ExceptHandler, ast.match_case]
_BLOCK_FIELDS: Final[Mapping[type, tuple[str, ...]]] = {
    kind: _block_fields(kind) for kind in _BLOCK_HOLDERS if _block_fields(kind)}
"""Statement type (or except handler, match case) -> its fields that hold statements (or
handlers, cases), in `_fields` order."""


def _statement_nodes(node: ast.AST) -> list[ast.AST]:
    """The statements and except handlers of a scope's body, in `_body_nodes` order (what it
    lists without the expressions and what is in them; statements are never in expressions)."""
    if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Module | ast.ClassDef):
        return []  # a lambda's body is an expression
    stack: list[ast.AST] = list(reversed(node.body))
    found: list[ast.AST] = []
    blocks_of, boundaries = _BLOCK_FIELDS, _SCOPE_BOUNDARIES
    while stack:
        current = stack.pop()
        found.append(current)
        kind = type(current)
        blocks = blocks_of.get(kind)
        if blocks and kind not in boundaries:
            children: list[ast.AST] = []
            for block in blocks:
                children.extend(getattr(current, block))
            children.reverse()
            stack.extend(children)
    return found


def _collect_bindings(scope: Scope) -> None:
    nodes = _body_nodes(scope.node) if scope.expressions else _statement_nodes(scope.node)
    for node in nodes:
        kind = type(node)
        if kind not in _BINDING_KINDS:
            continue
        if kind is ast.Call:
            _collect_list_change(scope, node)  # type: ignore[arg-type]
        elif kind is ast.Assign:
            value = node.value  # type: ignore[attr-defined]
            for target in node.targets:  # type: ignore[attr-defined]
                _bind_target(scope, target, value)
        elif kind is ast.AnnAssign:
            if node.value is not None:  # type: ignore[attr-defined]
                _bind_target(scope, node.target, node.value)  # type: ignore[attr-defined]
        elif kind is ast.AugAssign:
            target = node.target  # type: ignore[attr-defined]
            if isinstance(target, ast.Name):
                name = target.id
                scope.augmented.setdefault(name, []).append(
                    (node.op, node.value))  # type: ignore[attr-defined]
                if isinstance(node.op, ast.Add):  # type: ignore[attr-defined]
                    scope.extensions.setdefault(name, []).append(
                        node.value)  # type: ignore[attr-defined]
        elif kind is ast.NamedExpr:
            _bind(scope, node.target.id, node.value)  # type: ignore[attr-defined]
        elif kind is ast.For or kind is ast.AsyncFor:
            _bind_loop(scope, node.target, node.iter)  # type: ignore[attr-defined]
        elif kind is ast.With or kind is ast.AsyncWith:
            for item in node.items:  # type: ignore[attr-defined]
                if item.optional_vars is not None:
                    _bind_target(scope, item.optional_vars, None)
        elif kind is ast.ExceptHandler:
            if node.name:  # type: ignore[attr-defined]
                _bind(scope, node.name, _Unknown())  # type: ignore[attr-defined]
        elif kind is ast.Import or kind is ast.ImportFrom:
            for alias in node.names:  # type: ignore[attr-defined]
                _bind(scope, (alias.asname or alias.name).partition(".")[0], _Unknown())
        elif node is not scope.node:  # a function or a class
            _bind(scope, node.name, _Unknown())  # type: ignore[attr-defined]


_BINDING_KINDS = frozenset({
    ast.Call, ast.Assign, ast.AnnAssign, ast.AugAssign, ast.NamedExpr, ast.For, ast.AsyncFor,
    ast.With, ast.AsyncWith, ast.ExceptHandler, ast.Import, ast.ImportFrom, ast.FunctionDef,
    ast.AsyncFunctionDef, ast.ClassDef,
})
"""The nodes `_collect_bindings` reads."""


def _collect_list_change(scope: Scope, node: ast.Call) -> None:
    func = node.func
    if not isinstance(func, ast.Attribute) or not isinstance(func.value, ast.Name):
        return
    name = func.value.id
    if func.attr == "append" and node.args:
        scope.additions.setdefault(name, []).append(node.args[0])
    elif func.attr == "insert" and len(node.args) >= 2:
        scope.additions.setdefault(name, []).append(node.args[1])
    elif func.attr == "extend" and node.args:
        scope.extensions.setdefault(name, []).append(node.args[0])


def _parameters(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> tuple[str, ...]:
    arguments = node.args
    names = [a.arg for a in (*arguments.posonlyargs, *arguments.args)]
    if arguments.vararg:
        names.append(arguments.vararg.arg)
    names += [a.arg for a in arguments.kwonlyargs]
    if arguments.kwarg:
        names.append(arguments.kwarg.arg)
    return tuple(names)


# --- evaluation ---------------------------------------------------------------------------------


def _combine(results: list[Text]) -> Text:
    """One text from several possible values (branches, several assignments)."""
    if not results:
        return OPAQUE
    for result in results:
        if result.kind is TextKind.BUILT:
            return result
    fragments = tuple(f for r in results for f in r.fragments)
    request = any(r.request_data for r in results)
    if all(r.kind is TextKind.SAFE for r in results):
        return Text(TextKind.SAFE, fragments=fragments)
    parameter = results[0].parameter if len(results) == 1 else None
    return Text(TextKind.OPAQUE, fragments=fragments, request_data=request, parameter=parameter)


def _build(parts: list[Text], construction: str, line: int) -> Text:
    """The text made by an operation over `parts`: SAFE when every part is, else BUILT."""
    fragments = tuple(f for p in parts for f in p.fragments)
    if all(p.kind is TextKind.SAFE for p in parts):
        return Text(TextKind.SAFE, fragments=fragments)
    request = any(p.request_data for p in parts)
    return Text(TextKind.BUILT, construction, line, fragments, request)


def _is_numeric_spec(spec: ast.expr | None) -> bool:
    if not isinstance(spec, ast.JoinedStr) or not spec.values:
        return False
    last = spec.values[-1]
    return (isinstance(last, ast.Constant) and isinstance(last.value, str) and bool(last.value)
            and last.value[-1] in _NUMERIC_SPEC)


def _only_numeric_conversions(template: str) -> bool:
    conversions = [m.group(1) for m in _PERCENT_SPEC.finditer(template) if m.group(1) != "%"]
    return bool(conversions) and all(c in _NUMERIC_CONVERSIONS for c in conversions)


_COMPOUND = frozenset({
    ast.If, ast.For, ast.AsyncFor, ast.While, ast.With, ast.AsyncWith, ast.Try, ast.TryStar,
    ast.Match,
})
"""Statements other than definitions that have blocks (`_BLOCKS`) of statements."""


class TextFlow:
    """Answers "how was this text made?" for expressions of one module.

    With `track_request`, OPAQUE and BUILT texts say whether they come from `flask.request`;
    that costs a look at every name of an opaque expression, so the SQL analysis first
    evaluates without it and asks again only for the sites it reports.
    """

    def __init__(self, tree: ast.Module, resolver: Resolver, *,
                 track_request: bool = True, expressions: bool = True) -> None:
        self.tree = tree
        self.resolver = resolver
        self.track_request = track_request
        self.expressions = expressions
        """False when no expression of the module binds a name (`:=`) or changes a list
        (`x.append(..)`), so that scopes read their bindings from statements alone."""
        self.module_scope = Scope(tree, None, None, expressions=expressions)
        self._memo: dict[tuple[int, str], Text] = {}
        self._active: set[tuple[int, str]] = set()
        self._starts: list[int] | None = None
        self._ranges: list[tuple[int, int, int]] = []
        """(first line, last line, index in `_definitions`) of each def and class, in order."""
        self._parents: list[int] = []
        self._definitions: list[
            tuple[ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef, int, str]] = []
        """(node, index of the function enclosing it or -1, qualified name) of each def and
        class."""
        self._scopes: list[Scope | None] = []
        """The scope of each of `_definitions`, once made."""
        self._functions = {node.name: node for node in tree.body
                           if isinstance(node, ast.FunctionDef)}
        """Module-level functions, whose return values calls can be followed into."""

    # --- which scope a line is in -----

    def scope_at(self, line: int) -> Scope:
        """The innermost function (or class body) whose lines contain `line`."""
        if self._starts is None:
            self._index_scopes()
        assert self._starts is not None
        # Ranges nest or are disjoint, so the innermost one holding `line` is the last one
        # starting at or before it, or one of that range's ancestors.
        position = bisect.bisect_right(self._starts, line) - 1
        while position >= 0:
            start, end, index = self._ranges[position]
            if start <= line <= end:
                return self._scope(index)
            position = self._parents[position]
        return self.module_scope

    def _scope(self, index: int) -> Scope:
        """The scope of the definition `_definitions[index]`, made on first use."""
        made = self._scopes[index]
        if made is None:
            node, outer, qualname = self._definitions[index]
            parent = self.module_scope if outer < 0 else self._scope(outer)
            params = () if isinstance(node, ast.ClassDef) else _parameters(node)
            made = self._scopes[index] = Scope(node, parent, qualname, params,
                                               expressions=self.expressions)
        return made

    def _index_scopes(self) -> None:
        """Every def and class of the module with its line range, read from statements only."""
        definitions = self._definitions
        ranges: list[tuple[int, int, int]] = []
        # (statements, the qualified name of the def or class holding them, the index of the
        # function whose scope their names are looked up in, -1 for the module)
        stack: list[tuple[list[ast.stmt], str | None, int]] = [(self.tree.body, None, -1)]
        while stack:
            body, holder, outer = stack.pop()
            for node in body:
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    qualname = f"{holder}.{node.name}" if holder else node.name
                    index = len(definitions)
                    definitions.append((node, outer, qualname))
                    start = node.body[0].lineno if node.body else node.lineno
                    ranges.append((start, node.end_lineno or node.lineno, index))
                    stack.append((node.body, qualname,
                                  outer if isinstance(node, ast.ClassDef) else index))
                elif type(node) in _COMPOUND:
                    for block in _BLOCKS:
                        for child in getattr(node, block, ()):
                            if isinstance(child, ast.stmt):
                                stack.append(([child], holder, outer))
                            elif hasattr(child, "body"):  # except handlers, match cases
                                stack.append((child.body, holder, outer))
        self._scopes = [None] * len(definitions)
        ranges.sort(key=lambda r: (r[0], -r[1]))
        parents: list[int] = []
        open_ranges: list[int] = []
        for position, (start, _end, _index) in enumerate(ranges):
            while open_ranges and ranges[open_ranges[-1]][1] < start:
                open_ranges.pop()
            parents.append(open_ranges[-1] if open_ranges else -1)
            open_ranges.append(position)
        self._ranges = ranges
        self._parents = parents
        self._starts = [r[0] for r in ranges]

    def calls(self) -> Iterator[tuple[ast.Call, Scope]]:
        """Every call of the module with the scope it runs in."""
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Call):
                yield node, self.scope_at(node.lineno)

    # --- evaluation -----

    def evaluate(self, node: ast.expr, scope: Scope, depth: int = 0) -> Text:
        """How the text `node` (in `scope`) was made."""
        if depth > MAX_DEPTH:
            return OPAQUE
        if isinstance(node, ast.Constant):
            if isinstance(node.value, str):
                return Text(TextKind.SAFE, fragments=(node.value,))
            if isinstance(node.value, bytes):
                return Text(TextKind.SAFE, fragments=(node.value.decode("latin-1"),))
            return SAFE
        if isinstance(node, ast.JoinedStr):
            return self._fstring(node, scope, depth)
        if isinstance(node, ast.BinOp):
            return self._binop(node, scope, depth)
        if isinstance(node, ast.Name):
            return self._name(node.id, scope, depth)
        if isinstance(node, ast.Attribute):
            return self._attribute(node, scope, depth)
        if isinstance(node, ast.Call):
            return self._call(node, scope, depth)
        if isinstance(node, ast.Subscript):
            return self._subscript(node, scope, depth)
        if isinstance(node, ast.IfExp):
            return _combine([self.evaluate(node.body, scope, depth + 1),
                             self.evaluate(node.orelse, scope, depth + 1)])
        if isinstance(node, ast.BoolOp):
            return _combine([self.evaluate(v, scope, depth + 1) for v in node.values])
        if isinstance(node, ast.NamedExpr):
            return self.evaluate(node.value, scope, depth + 1)
        if isinstance(node, ast.UnaryOp):
            inner = self.evaluate(node.operand, scope, depth + 1)
            return SAFE if inner.kind is TextKind.SAFE else self._opaque(node, scope, depth)
        if isinstance(node, ast.Tuple | ast.List):
            parts = [self.evaluate(e, scope, depth + 1) for e in node.elts]
            if all(p.kind is TextKind.SAFE for p in parts):
                return SAFE
            return Text(TextKind.OPAQUE, request_data=any(p.request_data for p in parts))
        return self._opaque(node, scope, depth)

    def _opaque(self, node: ast.AST, scope: Scope, depth: int = 0) -> Text:
        if not self.track_request:
            return OPAQUE
        return Text(TextKind.OPAQUE, request_data=self._mentions_request(node, scope, depth))

    def _mentions_request(self, node: ast.AST, scope: Scope, depth: int) -> bool:
        """Whether `flask.request`, or a local name made from it, appears in `node`."""
        for sub in ast.walk(node):
            if isinstance(sub, ast.Attribute | ast.Name) and \
                    self.resolver.name(sub).startswith("flask.request"):
                return True
            if isinstance(sub, ast.Name) and depth < MAX_DEPTH and \
                    self._name(sub.id, scope, depth + 1).request_data:
                return True
        return False

    def _fstring(self, node: ast.JoinedStr, scope: Scope, depth: int) -> Text:
        parts: list[Text] = []
        for value in node.values:
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                parts.append(Text(TextKind.SAFE, fragments=(value.value,)))
            elif isinstance(value, ast.FormattedValue):
                if _is_numeric_spec(value.format_spec):
                    parts.append(SAFE)
                else:
                    parts.append(self.evaluate(value.value, scope, depth + 1))
        return _build(parts, F_STRING, node.lineno)

    def _binop(self, node: ast.BinOp, scope: Scope, depth: int) -> Text:
        if isinstance(node.op, ast.Add):
            operands: list[ast.expr] = []
            current: ast.expr = node
            while isinstance(current, ast.BinOp) and isinstance(current.op, ast.Add):
                operands.append(current.right)
                current = current.left
            operands.append(current)
            parts = [self.evaluate(o, scope, depth + 1) for o in reversed(operands)]
            return _build(parts, CONCATENATION, node.lineno)
        if isinstance(node.op, ast.Mod):
            left = self.evaluate(node.left, scope, depth + 1)
            if left.kind is TextKind.SAFE and len(left.fragments) == 1 and \
                    _only_numeric_conversions(left.fragments[0]):
                return left
            right = self.evaluate(node.right, scope, depth + 1) \
                if not isinstance(node.right, ast.Tuple | ast.Dict) else \
                self._elements(node.right, scope, depth + 1)
            return _build([left, right], PERCENT, node.lineno)
        if isinstance(node.op, ast.Mult):
            for side in (node.left, node.right):
                if isinstance(side, ast.Constant) and isinstance(side.value, str):
                    return Text(TextKind.SAFE, fragments=(side.value,))
        parts = [self.evaluate(node.left, scope, depth + 1),
                 self.evaluate(node.right, scope, depth + 1)]
        if all(p.kind is TextKind.SAFE for p in parts):
            return SAFE
        return Text(TextKind.OPAQUE, request_data=any(p.request_data for p in parts))

    def _elements(self, node: ast.expr, scope: Scope, depth: int) -> Text:
        """A tuple or dict of formatting arguments: SAFE when every element is."""
        values: list[ast.expr] = []
        if isinstance(node, ast.Tuple):
            values = list(node.elts)
        elif isinstance(node, ast.Dict):
            values = list(node.values)
        return _build([self.evaluate(v, scope, depth) for v in values], PERCENT, node.lineno)

    def _name(self, name: str, scope: Scope, depth: int) -> Text:
        owner = scope.lookup(name)
        if owner is None:
            return SAFE if _ALL_CAPS.match(name) else OPAQUE
        key = (id(owner), name)
        if key in self._memo:
            return self._memo[key]
        if key in self._active:
            return SAFE  # a self-reference (`sql = sql + x`): the other assignments decide
        self._active.add(key)
        try:
            result = self._name_value(name, owner, depth)
        finally:
            self._active.discard(key)
        self._memo[key] = result
        return result

    def _name_value(self, name: str, owner: Scope, depth: int) -> Text:
        bindings = owner.bindings.get(name, [])
        if name in owner.params and not bindings and name not in owner.augmented:
            return Text(TextKind.OPAQUE, parameter=name)
        results = [self._binding(b, owner, depth) for b in bindings]
        if name in owner.params:
            results.append(OPAQUE)
        for op, value in owner.augmented.get(name, []):
            part = self.evaluate(value, owner, depth + 1)
            if isinstance(op, ast.Add):
                results.append(_build([part], CONCATENATION, value.lineno))
            elif isinstance(op, ast.Mod):
                results.append(_build([part], PERCENT, value.lineno))
            else:
                results.append(part)
        return _combine(results)

    def _binding(self, binding: Binding, owner: Scope, depth: int) -> Text:
        if isinstance(binding, _Unknown):
            return OPAQUE
        if isinstance(binding, _Given):
            return binding.text
        if isinstance(binding, _LoopBinding):
            return self._loop_element(binding, owner, depth)
        return self.evaluate(binding, owner, depth + 1)

    def _loop_element(self, binding: _LoopBinding, scope: Scope, depth: int) -> Text:
        iterable = binding.iterable
        if isinstance(iterable, ast.Call) and isinstance(iterable.func, ast.Name):
            if iterable.func.id == "range":
                return SAFE
            if iterable.func.id == "enumerate" and iterable.args:
                if binding.position == 0:
                    return SAFE
                if binding.position == 1:
                    return self._element_of(iterable.args[0], scope, depth + 1)
                return OPAQUE
        if binding.position is not None:
            return OPAQUE
        return self._element_of(iterable, scope, depth + 1)

    def _element_of(self, iterable: ast.expr, scope: Scope, depth: int) -> Text:
        """What an element of `iterable` is: SAFE when every element is provably SAFE."""
        if depth > MAX_DEPTH:
            return OPAQUE
        if isinstance(iterable, ast.List | ast.Tuple | ast.Set):
            if not iterable.elts:
                return SAFE
            return _combine([self.evaluate(e, scope, depth + 1) for e in iterable.elts])
        if isinstance(iterable, ast.Constant) and isinstance(iterable.value, str):
            return Text(TextKind.SAFE, fragments=(iterable.value,))
        if isinstance(iterable, ast.BinOp) and isinstance(iterable.op, ast.Mult):
            for side in (iterable.left, iterable.right):
                if isinstance(side, ast.List | ast.Tuple | ast.Constant):
                    return self._element_of(side, scope, depth + 1)
        if isinstance(iterable, ast.ListComp | ast.GeneratorExp | ast.SetComp):
            return self._comprehension(iterable, scope, depth + 1)
        if isinstance(iterable, ast.Call) and isinstance(iterable.func, ast.Name) \
                and iterable.func.id in {"list", "tuple", "sorted", "reversed", "set"} \
                and iterable.args:
            return self._element_of(iterable.args[0], scope, depth + 1)
        if isinstance(iterable, ast.Name):
            return self._list_elements(iterable.id, scope, depth + 1)
        return self._opaque(iterable, scope, depth)

    def _list_elements(self, name: str, scope: Scope, depth: int) -> Text:
        owner = scope.lookup(name)
        if owner is None:
            return SAFE if _ALL_CAPS.match(name) else OPAQUE
        if name in owner.params:
            return Text(TextKind.OPAQUE, parameter=name)
        key = (id(owner), "[]" + name)
        if key in self._memo:
            return self._memo[key]
        if key in self._active:
            return SAFE
        self._active.add(key)
        try:
            results = []
            for binding in owner.bindings.get(name, []):
                if isinstance(binding, ast.expr):
                    results.append(self._element_of(binding, owner, depth + 1))
                else:
                    results.append(OPAQUE)
            results += [self.evaluate(e, owner, depth + 1)
                        for e in owner.additions.get(name, [])]
            results += [self._element_of(e, owner, depth + 1)
                        for e in owner.extensions.get(name, [])]
            result = _combine(results)
        finally:
            self._active.discard(key)
        self._memo[key] = result
        return result

    def _comprehension(self, node: ast.ListComp | ast.GeneratorExp | ast.SetComp, scope: Scope,
                       depth: int) -> Text:
        inner = Scope(node, scope, scope.qualname)
        inner.built = True
        for generator in node.generators:
            _bind_loop(inner, generator.target, generator.iter)
        return self.evaluate(node.elt, inner, depth + 1)

    def _returned(self, helper: ast.FunctionDef, call: ast.Call, scope: Scope, depth: int
                  ) -> Text:
        """What a module-level helper returns for this call, its parameters bound to the
        arguments (`def where(col): return f"{col} = ?"` is SAFE for `where("name")`)."""
        key = (id(helper), "<return>")
        if key in self._active or depth > MAX_DEPTH or \
                any(isinstance(a, ast.Starred) for a in call.args):
            return self._opaque(call, scope, depth)
        inner = Scope(helper, self.module_scope, helper.name, expressions=self.expressions)
        inner.ensure_built()
        given = _arguments(helper, call)
        for name in _parameters(helper):
            value = given.get(name)
            text = self.evaluate(value, scope, depth + 1) if value is not None else OPAQUE
            inner.bindings.setdefault(name, []).append(_Given(text))
        returns = [n.value for n in _statement_nodes(helper)
                   if isinstance(n, ast.Return) and n.value is not None]
        self._active.add(key)
        try:
            results = [self.evaluate(r, inner, depth + 1) for r in returns]
        finally:
            self._active.discard(key)
        result = _combine(results)
        if result.kind is TextKind.OPAQUE and result.parameter is not None:
            return replace(result, parameter=None)
        return result

    def _attribute(self, node: ast.Attribute, scope: Scope, depth: int) -> Text:
        resolved = self.resolver.name(node)
        if resolved.startswith("flask.request"):
            return Text(TextKind.OPAQUE, request_data=True)
        if _ALL_CAPS.match(node.attr) or node.attr == "__tablename__":
            return SAFE
        if node.attr in {"value", "name"} and isinstance(node.value, ast.Attribute) \
                and _ALL_CAPS.match(node.value.attr):
            return SAFE  # an enum member's value
        return self._opaque(node, scope, depth)

    def _subscript(self, node: ast.Subscript, scope: Scope, depth: int) -> Text:
        if self._constant_container(node.value, scope, depth):
            return SAFE
        return self._opaque(node, scope, depth)

    def _constant_container(self, node: ast.expr, scope: Scope, depth: int) -> bool:
        """A dict, list or tuple whose values are all SAFE (a whitelist look-up)."""
        if isinstance(node, ast.Dict):
            return all(self.evaluate(v, scope, depth + 1).kind is TextKind.SAFE
                       for v in node.values)
        if isinstance(node, ast.List | ast.Tuple):
            return all(self.evaluate(v, scope, depth + 1).kind is TextKind.SAFE
                       for v in node.elts)
        if isinstance(node, ast.Name):
            owner = scope.lookup(node.id)
            if owner is None or node.id in owner.params or node.id in owner.additions \
                    or node.id in owner.augmented:
                return False
            bindings = owner.bindings.get(node.id, [])
            return bool(bindings) and all(
                isinstance(b, ast.Dict | ast.List | ast.Tuple)
                and self._constant_container(b, owner, depth + 1) for b in bindings)
        return False

    def _call(self, node: ast.Call, scope: Scope, depth: int) -> Text:
        func = node.func
        if isinstance(func, ast.Name):
            if func.id in _SAFE_CALLS:
                return SAFE
            if func.id in {"str", "format"} and node.args:
                return self.evaluate(node.args[0], scope, depth + 1)
            helper = self._functions.get(func.id)
            if helper is not None and scope.lookup(func.id) is self.module_scope:
                return self._returned(helper, node, scope, depth + 1)
            return self._opaque(node, scope, depth)
        if not isinstance(func, ast.Attribute):
            return self._opaque(node, scope, depth)
        method = func.attr
        if method in {"format", "format_map"}:
            parts = [self.evaluate(func.value, scope, depth + 1)]
            parts += [self.evaluate(a, scope, depth + 1) for a in node.args]
            parts += [self.evaluate(k.value, scope, depth + 1) for k in node.keywords]
            return _build(parts, FORMAT, node.lineno)
        if method == "join" and len(node.args) == 1:
            separator = self.evaluate(func.value, scope, depth + 1)
            elements = self._element_of(node.args[0], scope, depth + 1)
            return _build([separator, elements], JOIN, node.lineno)
        if method == "replace" and len(node.args) >= 2:
            parts = [self.evaluate(func.value, scope, depth + 1),
                     self.evaluate(node.args[1], scope, depth + 1)]
            return _build(parts, CONCATENATION, node.lineno)
        if method in _TEXT_PRESERVING:
            return self.evaluate(func.value, scope, depth + 1)
        if method == "get" and node.args and self._constant_container(func.value, scope, depth):
            if len(node.args) < 2 or \
                    self.evaluate(node.args[1], scope, depth + 1).kind is TextKind.SAFE:
                return SAFE
        return self._opaque(node, scope, depth)


# --- SQL sinks ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Wrapper:
    name: str
    position: int
    parameter: str


class _SqlFinder:
    def __init__(self, flow: TextFlow, calls: Sequence[ast.Call], builds: bool = True) -> None:
        self.flow = flow
        self.resolver = flow.resolver
        self.all_calls = calls
        self.builds = builds
        """False when no text of the module can be BUILT (see `_builds`): then the only sites
        are PARAMETER sites, and only sinks that can make one are evaluated."""
        self._tracking: TextFlow | None = None

    def sites(self) -> tuple[SqlSite, ...]:
        calls: list[ast.Call] = []  # the calls of names, or of methods a sink can have
        for call in self.all_calls:
            func = call.func
            kind = type(func)
            if kind is ast.Name or (kind is ast.Attribute
                                    and func.attr in _CANDIDATE_NAMES):  # type: ignore[attr-defined]
                calls.append(call)
        found: dict[tuple[int, str], SqlSite] = {}
        wrappers: dict[str, _Wrapper] = {}
        for call in calls:
            for site, scope in self._check_sink(call):
                self._keep(found, site, scope, wrappers)
        for _ in range(WRAPPER_ROUNDS if wrappers else 0):
            known = len(wrappers)
            for call in calls:
                if isinstance(call.func, ast.Name) and call.func.id in wrappers:
                    wrapper = wrappers[call.func.id]
                    argument = _argument_at(call, wrapper.position, wrapper.parameter)
                    if argument is None:
                        continue
                    scope = self.flow.scope_at(call.lineno)
                    through = self._site(call, scope, argument, wrapper.name, strong=True)
                    if through is not None:
                        self._keep(found, through, scope, wrappers)
            if len(wrappers) == known:
                break
        return tuple(sorted(found.values(), key=lambda s: (s.line, s.kind, s.sink)))

    def _keep(self, found: dict[tuple[int, str], SqlSite], site: SqlSite, scope: Scope,
              wrappers: dict[str, _Wrapper]) -> None:
        if site.kind is SiteKind.PARAMETER:
            node = scope.node
            if scope.parent is not self.flow.module_scope or "." in (scope.qualname or ".") \
                    or not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                return  # only module-level functions can be followed from their callers
            wrappers.setdefault(node.name, _Wrapper(node.name, site.parameter_index,
                                                    site.parameter))
        found.setdefault((site.line, site.kind.value), site)

    def _check_sink(self, call: ast.Call) -> list[tuple[SqlSite, Scope]]:
        """The site a call makes when it is a sink, with the scope the call is in."""
        func = call.func
        if isinstance(func, ast.Attribute):
            method = func.attr
            if method in _QUERY_METHODS:  # (no strong function ends with one of these names)
                # A filter's only site is BUILT text.
                return self._query_filter(call, func) if self.builds else []
            if method not in _SINK_METHODS:
                return []  # its name cannot be a strong function's either
        elif isinstance(func, ast.Name):
            method = func.id
        else:
            return []  # neither a method nor a function that can be a sink
        name = self.resolver.name(func)
        if name in _STRONG_FUNCTIONS or method in _STRONG_METHODS:
            return self._first_argument(call, name, strong=True)
        receiver = self.resolver.name(func.value) if isinstance(func, ast.Attribute) else ""
        last = receiver.rpartition(".")[2]
        if method in {"text", "literal_column"} and (
                last in {"db", "sa", "sqlalchemy"} or name.startswith("sqlalchemy.")):
            return self._first_argument(call, name, strong=True)
        if method in _WEAK_METHODS or method in {"text", "read_sql", "read_sql_query"}:
            strong = bool(_DB_RECEIVER.search(last)) if last else False
            return self._first_argument(call, name or method, strong=strong)
        return []

    def _query_filter(self, call: ast.Call, func: ast.Attribute) -> list[tuple[SqlSite, Scope]]:
        """A string filter of a query (`Model.query.filter("...")`)."""
        if not _QUERY_RECEIVER.search(_chain_text(func.value)):
            return []
        scope = self.flow.scope_at(call.lineno)
        for argument in call.args:
            site = self._site(call, scope, argument, "", strong=True, wrappers=False)
            if site is not None:
                return [(site._replace(sink=self.resolver.name(func) or func.attr), scope)]
        return []

    def _first_argument(self, call: ast.Call, sink: str, *,
                        strong: bool) -> list[tuple[SqlSite, Scope]]:
        argument = _sql_argument(call)
        if argument is None:
            return []
        if not self.builds and not (strong and _may_be_parameter(argument)):
            return []  # it could only make a PARAMETER site (see `_site`)
        scope = self.flow.scope_at(call.lineno)
        if not self.builds and not scope.params:
            return []
        site = self._site(call, scope, argument, sink, strong=strong)
        return [(site, scope)] if site is not None else []

    def _site(self, call: ast.Call, scope: Scope, argument: ast.expr, sink: str, *,
              strong: bool, wrappers: bool = True) -> SqlSite | None:
        text = self.flow.evaluate(argument, scope)
        if text.kind is TextKind.BUILT:
            if not strong and not _SQL_WORDS.search(" ".join(text.fragments)):
                return None
            return SqlSite(call.lineno, sink, text.construction, scope.qualname,
                           text.line or call.lineno, self._request_data(argument, call))
        if wrappers and strong and text.parameter in scope.params and isinstance(
                scope.node, ast.FunctionDef | ast.AsyncFunctionDef):
            # (A parameter of an enclosing function does not make this one a wrapper.)
            assert text.parameter is not None
            return SqlSite(call.lineno, sink, "", scope.qualname, call.lineno, False,
                           SiteKind.PARAMETER, text.parameter,
                           scope.params.index(text.parameter))
        return None

    def _request_data(self, argument: ast.expr, call: ast.Call) -> bool:
        """Whether a reported text comes from `flask.request` (asked only for sites)."""
        if self._tracking is None:
            self._tracking = TextFlow(self.flow.tree, self.resolver, track_request=True,
                                      expressions=self.flow.expressions)
        scope = self._tracking.scope_at(call.lineno)
        return self._tracking.evaluate(argument, scope).request_data


def _chain_text(node: ast.expr) -> str:
    """The receiver chain as text, calls included (`db.session.query().filter`)."""
    parts: list[str] = []
    current: ast.expr = node
    for _ in range(MAX_DEPTH):
        if isinstance(current, ast.Attribute):
            parts.append(current.attr)
            current = current.value
        elif isinstance(current, ast.Call):
            parts.append("()")
            current = current.func
        elif isinstance(current, ast.Name):
            parts.append(current.id)
            break
        else:
            break
    return ".".join(reversed(parts))


def _sql_argument(call: ast.Call) -> ast.expr | None:
    if call.args:
        first = call.args[0]
        return None if isinstance(first, ast.Starred) else first
    for keyword in call.keywords:
        if keyword.arg in _SQL_KEYWORDS:
            return keyword.value
    return None


def _arguments(function: ast.FunctionDef, call: ast.Call) -> dict[str, ast.expr]:
    """Parameter name -> the argument a call passes for it (defaults included)."""
    arguments = function.args
    positional = [a.arg for a in (*arguments.posonlyargs, *arguments.args)]
    result: dict[str, ast.expr] = {}
    defaults = arguments.defaults
    for name, default in zip(positional[len(positional) - len(defaults):], defaults,
                             strict=True):
        result[name] = default
    for kwarg, kw_default in zip(arguments.kwonlyargs, arguments.kw_defaults, strict=True):
        if kw_default is not None:
            result[kwarg.arg] = kw_default
    for name, value in zip(positional, call.args, strict=False):
        result[name] = value
    for keyword in call.keywords:
        if keyword.arg is not None:
            result[keyword.arg] = keyword.value
    return result


def _argument_at(call: ast.Call, position: int, name: str) -> ast.expr | None:
    if position < len(call.args) and not any(isinstance(a, ast.Starred) for a in call.args):
        return call.args[position]
    for keyword in call.keywords:
        if keyword.arg == name:
            return keyword.value
    return None


def calls_named(flow: TextFlow, wanted: Callable[[str], bool]) -> Iterator[tuple[ast.Call, Scope,
                                                                                  str]]:
    """The calls of a module whose resolved callee satisfies `wanted`, with their scopes."""
    for call, scope in flow.calls():
        name = flow.resolver.name(call.func)
        if name and wanted(name):
            yield call, scope, name
