"""One parse of each Python module into an index that every detector shares.

A module is parsed once with `ast` (never imported or run) and walked once. The index keeps what
detectors ask about: imports with their aliases resolved, calls, decorators, function and class
definitions and assignments, each with its line, plus the SQL-building and query-in-loop sites
found by the analyses in `sql_flow` and `query_loops`. Indexes are plain frozen values, so they
can be cached by content hash and reused by the next scan.
"""

from __future__ import annotations

import ast
import bisect
import warnings
from dataclasses import dataclass
from enum import StrEnum
from operator import attrgetter
from typing import Any, NamedTuple

from checklist_app.project.query_loops import LoopQuery, find_loop_queries
from checklist_app.project.sql_flow import NODE_FIELDS, SqlSite, find_sql_sites

INDEX_FORMAT = 6
"""Bump when the shape of ModuleIndex changes, or which modules parse, so cached indexes are
rebuilt."""

MAX_CONST_TEXT = 160

Const = str | int | float | bool | None


class ValueKind(StrEnum):
    CONST = "const"
    NAME = "name"
    CALL = "call"
    FSTRING = "fstring"
    CONCAT = "concat"
    PERCENT = "percent"
    FORMAT = "format"
    COLLECTION = "collection"
    OTHER = "other"


class Value(NamedTuple):
    """A summary of an expression: a constant, a (resolved) name, a call, or a built string."""

    kind: ValueKind
    name: str = ""
    """The resolved dotted name for NAME, the callee for CALL."""
    const: Const = None
    """The constant for CONST (long text is cut)."""

    @property
    def is_constant_text(self) -> bool:
        return self.kind is ValueKind.CONST and isinstance(self.const, str)


class Import(NamedTuple):
    module: str
    """The absolute module (relative imports resolved against the file's package)."""
    name: str | None
    """The imported name for `from module import name`, else None."""
    alias: str
    """The local name it is bound to."""
    line: int

    @property
    def qualified(self) -> str:
        return f"{self.module}.{self.name}" if self.name else self.module


class Call(NamedTuple):
    name: str
    """The callee as a dotted name, with imported aliases resolved: `flask_wtf.csrf.CSRFProtect`,
    `app.run`, `db.session.execute`."""
    line: int
    args: tuple[Value, ...]
    keywords: tuple[tuple[str, Value], ...]
    """Keyword arguments; `**kwargs` appears as the keyword '**'."""
    function: str | None
    """The qualified name of the enclosing function, None at module or class level."""
    main_guarded: bool
    """Inside `if __name__ == "__main__":`."""

    def keyword(self, name: str) -> Value | None:
        for key, value in self.keywords:
            if key == name:
                return value
        return None


class Decorator(NamedTuple):
    name: str
    """The decorator's resolved dotted name without its call: `app.route`, `bp.get`."""
    line: int
    target: str
    """The qualified name of the decorated function or class."""
    call: Call | None
    """The decorator call with its arguments, when it is called (`@app.route("/")`)."""


class Function(NamedTuple):
    name: str
    qualname: str
    line: int
    end_line: int
    is_async: bool
    decorators: tuple[str, ...]
    params: tuple[str, ...]
    class_name: str | None


class Class(NamedTuple):
    name: str
    qualname: str
    line: int
    bases: tuple[str, ...]
    """Resolved dotted names of the base classes."""
    decorators: tuple[str, ...]


class Assignment(NamedTuple):
    target: str
    """`NAME`, `obj.attr`, or `obj.attr[KEY]` for a subscript with a constant key."""
    line: int
    value: Value
    function: str | None
    class_name: str | None
    """The enclosing class when assigned directly in a class body (config classes)."""


class ModuleIndex(NamedTuple):
    path: str
    module: str
    """The dotted module name derived from the path (`app/views.py` -> `app.views`)."""
    lines: int
    syntax_error: str | None
    imports: tuple[Import, ...] = ()
    calls: tuple[Call, ...] = ()
    decorators: tuple[Decorator, ...] = ()
    functions: tuple[Function, ...] = ()
    classes: tuple[Class, ...] = ()
    assignments: tuple[Assignment, ...] = ()
    sql_sites: tuple[SqlSite, ...] = ()
    loop_queries: tuple[LoopQuery, ...] = ()
    names: frozenset[str] = frozenset()
    """Every name, attribute name, keyword argument name and imported name the module uses."""
    texts: frozenset[str] = frozenset()
    """The text of every string literal (bytes literals read as latin-1)."""

    def imports_module(self, prefix: str) -> Import | None:
        """The first import of `prefix` or of a submodule or name inside it."""
        for imported in self.imports:
            qualified = imported.qualified
            if qualified == prefix or qualified.startswith(prefix + "."):
                return imported
        return None


# --- reading a module ----------------------------------------------------------------------------


def module_name(path: str) -> str:
    parts = path[:-3].split("/") if path.endswith(".py") else path.split("/")
    if parts and parts[-1] == "__init__":
        parts = parts[:-1]
    if parts and parts[0] == "src" and len(parts) > 1:
        parts = parts[1:]
    return ".".join(parts)


def dotted(node: ast.expr) -> str | None:
    """`a.b.c` for a chain of attributes on a name, None for anything else."""
    names: list[str] = []
    while isinstance(node, ast.Attribute):
        names.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        names.append(node.id)
        return ".".join(reversed(names))
    if isinstance(node, ast.Call):
        inner = dotted(node.func)
        if inner is not None:
            names.append(inner + "()")
            return ".".join(reversed(names))
    return None


class Resolver:
    """Turns local names into qualified ones using the module's imports."""

    def __init__(self, imports: list[Import]) -> None:
        self._texts: dict[str, Value] = {}
        """CONST values of text, by text."""
        self._constants: dict[tuple[type, Const], Value] = {}
        """Other CONST values by (type, constant): 1, 1.0 and True are different values."""
        self._names: dict[str, Value] = {}
        """NAME values by resolved name."""
        self._calls: dict[str, Value] = {}
        """CALL values by callee."""
        self._others: dict[ValueKind, Value] = {}
        """Values of the kinds that have neither a name nor a constant."""
        self.aliases: dict[str, str] = {}
        aliases = self.aliases
        for imported in imports:
            alias = imported.alias
            if alias in aliases:
                continue  # the first import of a name wins
            name = imported.name
            qualified = f"{imported.module}.{name}" if name else imported.module  # .qualified
            if name is None and qualified.partition(".")[0] == alias:
                qualified = alias  # `import a.b` binds `a`
            aliases[alias] = qualified

    def name(self, node: ast.expr) -> str:
        kind = type(node)
        if kind is ast.Name:  # the common cases, without building the dotted text
            head: str = node.id  # type: ignore[attr-defined]
            return self.aliases.get(head, head)
        if kind is not ast.Attribute:
            text = dotted(node)
            if text is None:
                return ""
            head, dot, rest = text.partition(".")
            target = self.aliases.get(head)
            return text if target is None else target + dot + rest
        current: ast.expr = node.value  # type: ignore[attr-defined]
        last: str = node.attr  # type: ignore[attr-defined]
        if type(current) is ast.Name:  # `name.attr`
            head = current.id
            return f"{self.aliases.get(head, head)}.{last}"
        if type(current) is ast.Attribute and type(current.value) is ast.Name:  # `name.a.b`
            head = current.value.id
            return f"{self.aliases.get(head, head)}.{current.attr}.{last}"
        names: list[str] = [last]
        while type(current) is ast.Attribute:
            names.append(current.attr)
            current = current.value
        if type(current) is ast.Name:
            head = current.id
            head = self.aliases.get(head, head)
        else:
            inner = dotted(current)
            if inner is None:
                return ""
            first, dot, rest = inner.partition(".")
            target = self.aliases.get(first)
            if target is not None:
                inner = target + dot + rest
            head = inner  # `a.b.c` as far as the call, now resolved
        names.append(head)
        names.reverse()
        return ".".join(names)

    def value(self, node: ast.expr) -> Value:
        """The summary of an expression; equal summaries are one shared object."""
        kind = type(node)
        if kind is ast.Constant:  # the common cases first, without the call to `_summary`
            const = node.value  # type: ignore[attr-defined]
            const_type = type(const)
            if const_type is str:
                if len(const) > MAX_CONST_TEXT:
                    const = const[:MAX_CONST_TEXT]
                made = self._texts.get(const)
                if made is None:
                    made = self._texts[const] = Value(ValueKind.CONST, "", const)
                return made
            if const_type not in _PLAIN_CONSTANTS:
                return self._shared(*_constant_summary(const))
            made = self._constants.get((const_type, const))
            if made is None:
                made = self._constants[const_type, const] = Value(ValueKind.CONST, "", const)
            return made
        if kind is ast.Name or kind is ast.Attribute:
            if kind is ast.Name:  # as `name` does, without the call
                head: str = node.id  # type: ignore[attr-defined]
                name = self.aliases.get(head, head)
            else:
                name = self.name(node)
            made = self._names.get(name)
            if made is None:
                made = self._names[name] = Value(ValueKind.NAME, name)
            return made
        if kind is ast.Call:
            func = node.func  # type: ignore[attr-defined]
            if type(func) is not ast.Attribute or func.attr != "format":
                name = self.name(func)
                made = self._calls.get(name)
                if made is None:
                    made = self._calls[name] = Value(ValueKind.CALL, name)
                return made
        return self._shared(*self._summary(node))

    def _shared(self, kind: ValueKind, name: str, const: Const) -> Value:
        """The one Value of these fields."""
        made: Value | None
        if kind is ValueKind.CONST and type(const) is str:
            made = self._texts.get(const)
            if made is None:
                made = self._texts[const] = Value(kind, name, const)
        elif kind is ValueKind.CONST:
            made = self._constants.get((type(const), const))
            if made is None:
                made = self._constants[type(const), const] = Value(kind, name, const)
        elif kind is ValueKind.NAME or kind is ValueKind.CALL:
            table = self._names if kind is ValueKind.NAME else self._calls
            made = table.get(name)
            if made is None:
                made = table[name] = Value(kind, name, const)
        else:
            made = self._others.get(kind)
            if made is None:
                made = self._others[kind] = Value(kind, name, const)
        return made

    def _summary(self, node: ast.expr) -> tuple[ValueKind, str, Const]:
        """(kind, name, const) of the Value for an expression."""
        node_kind = type(node)
        if node_kind is ast.Constant:
            return _constant_summary(node.value)  # type: ignore[attr-defined]
        if node_kind is ast.Name or node_kind is ast.Attribute:
            return ValueKind.NAME, self.name(node), None
        if node_kind is ast.Call:
            func = node.func  # type: ignore[attr-defined]
            if type(func) is ast.Attribute and func.attr == "format" and _is_text(func.value):
                return _FORMAT
            return ValueKind.CALL, self.name(func), None
        if node_kind is ast.JoinedStr:
            values = node.values  # type: ignore[attr-defined]
            if all(isinstance(part, ast.Constant) for part in values):
                return ValueKind.CONST, "", "".join(
                    str(part.value) for part in values if isinstance(part, ast.Constant))
            return _FSTRING
        if node_kind is ast.BinOp:
            op = node.op  # type: ignore[attr-defined]
            left = node.left  # type: ignore[attr-defined]
            if isinstance(op, ast.Mod) and _is_text(left):
                return _PERCENT
            if isinstance(op, ast.Add) and (_is_text(left) or _is_text(node.right)  # type: ignore[attr-defined]
                                            or isinstance(left, ast.BinOp)):
                return _CONCAT
            return _OTHER
        if node_kind is ast.List or node_kind is ast.Tuple or node_kind is ast.Set \
                or node_kind is ast.Dict:
            return _COLLECTION
        if node_kind is ast.UnaryOp and isinstance(node.operand, ast.Constant):  # type: ignore[attr-defined]
            inner_kind, _, inner_const = self._summary(node.operand)  # type: ignore[attr-defined]
            op = node.op  # type: ignore[attr-defined]
            if isinstance(op, ast.Not) and inner_kind is ValueKind.CONST:
                return ValueKind.CONST, "", not inner_const
            if isinstance(op, ast.USub) and isinstance(inner_const, int | float):
                return ValueKind.CONST, "", -inner_const
        return _OTHER


def _constant_summary(const: object) -> tuple[ValueKind, str, Const]:
    """(kind, name, const) of the Value for a constant: long text is cut and bytes are read as
    text; a constant that a Value cannot hold (an ellipsis, a complex number) is OTHER."""
    if isinstance(const, str) and len(const) > MAX_CONST_TEXT:
        const = const[:MAX_CONST_TEXT]
    if isinstance(const, bytes):
        const = const[:MAX_CONST_TEXT].decode("latin-1")
    if isinstance(const, str | int | float | bool) or const is None:
        return ValueKind.CONST, "", const
    return _OTHER


_PLAIN_CONSTANTS = frozenset({int, float, bool, type(None)})
"""Types of the constants a Value holds as they are (text may be cut)."""
_OTHER: tuple[ValueKind, str, Const] = (ValueKind.OTHER, "", None)
_FORMAT: tuple[ValueKind, str, Const] = (ValueKind.FORMAT, "", None)
_FSTRING: tuple[ValueKind, str, Const] = (ValueKind.FSTRING, "", None)
_PERCENT: tuple[ValueKind, str, Const] = (ValueKind.PERCENT, "", None)
_CONCAT: tuple[ValueKind, str, Const] = (ValueKind.CONCAT, "", None)
_COLLECTION: tuple[ValueKind, str, Const] = (ValueKind.COLLECTION, "", None)


def _is_text(node: ast.expr) -> bool:
    return (isinstance(node, ast.Constant) and isinstance(node.value, str)) or isinstance(
        node, ast.JoinedStr)


def _absolute_module(module: str | None, level: int, package: str) -> str:
    if level == 0:
        return module or ""
    parts = package.split(".") if package else []
    if level > 1:
        parts = parts[: max(0, len(parts) - (level - 1))]
    if module:
        parts.append(module)
    return ".".join(parts)


def _target_text(node: ast.expr, resolver: Resolver) -> str | None:
    if isinstance(node, ast.Name | ast.Attribute):
        return resolver.name(node) or None
    if isinstance(node, ast.Subscript):
        base = resolver.name(node.value) if isinstance(node.value, ast.Name | ast.Attribute) \
            else None
        key = node.slice
        if base and isinstance(key, ast.Constant) and isinstance(key.value, str | int):
            return f"{base}[{key.value}]"
    return None


def _is_main_guard(node: ast.If) -> bool:
    test = node.test
    if not isinstance(test, ast.Compare) or len(test.comparators) != 1:
        return False
    sides = [test.left, test.comparators[0]]
    names = [s for s in sides if isinstance(s, ast.Name) and s.id == "__name__"]
    consts = [s for s in sides if isinstance(s, ast.Constant) and s.value == "__main__"]
    return bool(names and consts)


class _Definitions:
    """One walk over a module's statements (not its expressions): the functions, classes and
    decorators with their nesting, and what the index needs to place calls and assignments."""

    def __init__(self, resolver: Resolver, lines: list[int]) -> None:
        self.resolver = resolver
        self._lines = lines
        """The lines of all the module's functions and classes, in order: the
        body of a definition holding no other is not walked."""
        self.functions: list[Function] = []
        """In the order of the walk: outer before inner, in source order but for a `try`'s
        handlers, which come after its other blocks."""
        self.classes: list[Class] = []
        self.decorators: list[Decorator] = []
        self.guards: list[tuple[int, int]] = []
        """First and last line of each module-level `if __name__ == "__main__":`."""
        self.decorator_nodes: set[int] = set()
        """`id()` of every decorator expression: their calls are decorators, not calls."""
        self.class_lines: dict[int, str] = {}
        """Line of each statement directly in a class body -> the class's qualified name, for
        classes at module level or nested in such classes, also under `if` and `try` (not in
        functions, loops, `with` or `except`); a later class on the same line wins."""

    def walk(self, body: list[ast.stmt], prefix: str, class_name: str | None,
             class_lines: bool) -> None:
        """Name the functions and classes of `body`, nested in `prefix` (`Outer.` or ''), in the
        class `class_name` when the body is a class's; `class_lines` when this body's classes
        go into `class_lines`."""
        for node in body:
            kind = type(node)
            if kind not in _DEFINITION_KINDS:
                continue
            if kind is ast.FunctionDef or kind is ast.AsyncFunctionDef:
                self._function(node, prefix, class_name)  # type: ignore[arg-type]
            elif kind is ast.ClassDef:
                self._class(node, prefix, class_lines)  # type: ignore[arg-type]
            elif kind is ast.If:
                if not prefix and _is_main_guard(node):  # type: ignore[arg-type]
                    self.guards.append((node.lineno, node.end_lineno or node.lineno))
                self.walk(node.body, prefix, class_name, class_lines)  # type: ignore[attr-defined]
                self.walk(node.orelse, prefix, class_name, class_lines)  # type: ignore[attr-defined]
            elif kind is ast.Try:
                self.walk(node.body, prefix, class_name, class_lines)  # type: ignore[attr-defined]
                self.walk(node.orelse, prefix, class_name, class_lines)  # type: ignore[attr-defined]
                self.walk(node.finalbody, prefix, class_name, False)  # type: ignore[attr-defined]
                for handler in node.handlers:  # type: ignore[attr-defined]
                    self.walk(handler.body, prefix, class_name, False)
            elif kind is ast.For or kind is ast.AsyncFor or kind is ast.While:
                self.walk(node.body, prefix, class_name, False)  # type: ignore[attr-defined]
                self.walk(node.orelse, prefix, class_name, False)  # type: ignore[attr-defined]
            elif kind is ast.With or kind is ast.AsyncWith:
                self.walk(node.body, prefix, class_name, False)  # type: ignore[attr-defined]

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef, prefix: str,
                  class_name: str | None) -> None:
        name = node.name
        qualname = prefix + name
        arguments = node.args
        if arguments.posonlyargs or arguments.kwonlyargs:
            params = tuple(map(_ARG_NAME, (*arguments.posonlyargs, *arguments.args,
                                           *arguments.kwonlyargs)))
        else:
            params = tuple(map(_ARG_NAME, arguments.args))
        found = node.decorator_list
        if found:
            decorators = _decorators(found, qualname, self.resolver)
            names = tuple(map(_NAME, decorators))
        else:
            names = ()
        line = node.lineno
        self.functions.append(Function(
            name, qualname, line, node.end_lineno or line, type(node) is ast.AsyncFunctionDef,
            names, params, class_name))
        if found:
            self.decorators.extend(decorators)
            self.decorator_nodes.update(map(id, found))
        if self._holds_definitions(node):
            self.walk(node.body, qualname + ".", None, False)

    def _holds_definitions(self, node: ast.stmt) -> bool:
        """Whether a definition's body may hold other functions or classes."""
        lines = self._lines
        # A definition is the only statement on its first line.
        position = bisect.bisect_right(lines, node.lineno)
        return position < len(lines) and lines[position] <= (node.end_lineno or node.lineno)

    def _class(self, node: ast.ClassDef, prefix: str, class_lines: bool) -> None:
        resolver = self.resolver
        qualname = prefix + node.name
        found = node.decorator_list
        decorators = _decorators(found, qualname, resolver) if found else []
        bases = tuple(map(resolver.name, node.bases))
        self.classes.append(Class(node.name, qualname, node.lineno, bases,
                                  tuple(map(_NAME, decorators))))
        if found:
            self.decorators.extend(decorators)
            self.decorator_nodes.update(map(id, found))
        if class_lines:
            lines = self.class_lines
            for statement in node.body:
                lines[statement.lineno] = qualname
        if self._holds_definitions(node):
            self.walk(node.body, qualname + ".", qualname, class_lines)


_ARG_NAME = attrgetter("arg")
_NAME = attrgetter("name")

_DEFINITION_KINDS = frozenset({
    ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.If, ast.Try, ast.With,
    ast.AsyncWith, ast.For, ast.AsyncFor, ast.While,
})
"""Statements that `_Definitions.walk` looks at or into; any other statement is passed over."""


def _function_lines(functions: list[Function], last_line: int) -> list[str | None]:
    """Line (1 to `last_line`) -> the qualified name of the innermost function enclosing it:
    of the functions whose lines hold it, the one starting last; None outside functions."""
    table: list[str | None] = [None] * (last_line + 1)
    for function in sorted(functions, key=_start):  # inner functions overwrite outer ones
        start, end = function.line, function.end_line
        table[start:end + 1] = [function.qualname] * (end + 1 - start)
    return table


def _start(function: Function) -> int:
    return function.line


def _guarded(guards: list[tuple[int, int]], line: int) -> bool:
    """Whether a line is inside one of the main-guard line ranges."""
    for start, end in guards:
        if start <= line <= end:
            return True
    return False


def _decorators(nodes: list[ast.expr], target: str, resolver: Resolver) -> list[Decorator]:
    result = []
    for node in nodes:
        if isinstance(node, ast.Call):
            call = _call(node, resolver, None, False)  # its name is the decorator's
            result.append(Decorator(call.name, node.lineno, target, call))
        else:
            result.append(Decorator(resolver.name(node), node.lineno, target, None))
    return result


def _call(node: ast.Call, resolver: Resolver, function: str | None, guarded: bool) -> Call:
    value = resolver.value
    args = tuple([value(a) for a in node.args])
    keywords = tuple([(k.arg or "**", value(k.value)) for k in node.keywords])
    return Call(resolver.name(node.func), node.lineno, args, keywords, function, guarded)


def index_module(path: str, source: str) -> ModuleIndex:
    """Parse and index one module. A syntax error gives an index that says so, never raises."""
    return parse_module(path, source)[0]


OLD_GRAMMAR = (3, 6)
"""The grammar tried when the current one refuses a module: before Python 3.7, `async` and
`await` were names (`from celery_tasks import async`), and code of that time still runs."""


def parse_python(source: str, filename: str = "<unknown>") -> ast.Module:
    """`ast.parse`, and when that raises SyntaxError, a second try with the grammar of Python
    3.6 (see OLD_GRAMMAR); the first error is raised when both fail."""
    try:
        return ast.parse(source, filename=filename)
    except SyntaxError as error:
        if "async" not in source and "await" not in source:
            raise
        try:
            return ast.parse(source, filename=filename, feature_version=OLD_GRAMMAR)
        except (SyntaxError, ValueError):  # ValueError: a Python without that grammar
            raise error from None


def parse_module(path: str, source: str) -> tuple[ModuleIndex, ast.Module | None]:
    """Parse and index one module: its index and its syntax tree (None when it does not parse
    or cannot be analysed). Never raises."""
    module = module_name(path)
    line_count = source.count("\n") + 1
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = parse_python(source, filename=path)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as error:
        if isinstance(error, SyntaxError):
            where = f" at line {error.lineno}" if error.lineno else ""
            reason = f"{error.msg}{where}"
        elif isinstance(error, RecursionError | MemoryError):
            reason = "too deeply nested to parse"
        else:
            reason = f"not Python source ({error})"
        return ModuleIndex(path, module, line_count, reason), None
    package = module if path.endswith("__init__.py") else module.rpartition(".")[0]
    try:
        return _index_tree(path, module, package, line_count, tree, source), tree
    except RecursionError:
        return ModuleIndex(path, module, line_count, "too deeply nested to analyse"), None


@dataclass(slots=True)
class _Nodes:
    """The nodes of a module that the index reads, each list in `ast.walk`'s order."""

    calls: list[ast.Call]
    callees: set[str]
    """The last name of every callee (`execute` for `db.session.execute(...)`, `f` for `f()`)."""
    assigns: list[ast.stmt]
    """The assignments with `=` or `:` (not the augmented ones)."""
    imports: list[ast.Import | ast.ImportFrom]
    loops: list[int]
    """The lines of the loops, comprehensions and subscripts of calls (`f()[0]`): where, with
    calls of `len()`, the query-loop analysis can find a site."""
    operations: list[ast.AST]
    """The binary operations, augmented assignments and f-strings: where text can be built."""
    definitions: list[int]
    """The lines of the functions and classes."""
    names: set[str]
    """Every name, attribute name and keyword argument name (imported names are added from
    the imports)."""
    texts: set[str]
    """The text of every string (and bytes, read as latin-1) literal."""


_LOOP_KINDS = frozenset({
    ast.For, ast.AsyncFor, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp})


def _collect(tree: ast.Module) -> _Nodes:
    """The nodes the index reads (see `_Nodes`), in `ast.walk`'s breadth-first order.

    The queue may also hold non-node field values (text, None); they have no fields and are
    skipped, so the order of the nodes is exactly that of `ast.walk`. The most frequent nodes
    have their fields followed directly, and what cannot hold a call, an assignment, an import
    or a loop is not queued where it is seen: a name, or a chain of attributes on a name.
    """
    calls: list[ast.Call] = []
    callees: set[str] = set()
    assigns: list[ast.stmt] = []  # with `:` or `=` (augmented assignments are operations)
    imports: list[ast.Import | ast.ImportFrom] = []
    loops: list[ast.stmt | ast.expr] = []  # and subscripts
    operations: list[ast.AST] = []
    definitions: list[ast.stmt] = []
    annotated_kind, augmented_kind = ast.AnnAssign, ast.AugAssign
    import_kinds = (ast.Import, ast.ImportFrom)
    loop_kinds, subscript_kind = _LOOP_KINDS, ast.Subscript
    binary_kind, fstring_kind = ast.BinOp, ast.JoinedStr
    definition_kinds = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    queue: list[Any] = [tree]
    fields_of = NODE_FIELDS
    name_kind, attribute_kind, call_kind = ast.Name, ast.Attribute, ast.Call
    constant_kind, keyword_kind, assign_kind = ast.Constant, ast.keyword, ast.Assign
    expr_kind, arg_kind = ast.Expr, ast.arg
    names: set[str] = set()
    texts: set[str] = set()
    add_name, add_text = names.add, texts.add
    for node in queue:  # the loop sees what is appended while it runs
        kind = type(node)
        if kind is name_kind:
            add_name(node.id)
            continue
        if kind is attribute_kind:
            add_name(node.attr)
            base = value = node.value
            while type(value) is attribute_kind:
                add_name(value.attr)
                value = value.value
            if type(value) is name_kind:  # `a.b.c` holds nothing more: a name and attributes
                add_name(value.id)
            else:
                queue.append(base)
            continue
        if kind is call_kind:
            calls.append(node)
            func = node.func
            func_kind = type(func)
            if func_kind is name_kind:
                callees.add(func.id)
                add_name(func.id)
            elif func_kind is attribute_kind:
                callees.add(func.attr)
                add_name(func.attr)
                value = func.value
                while type(value) is attribute_kind:
                    add_name(value.attr)
                    value = value.value
                if type(value) is name_kind:
                    add_name(value.id)
                else:
                    queue.append(func)
            else:
                queue.append(func)
            queue.extend(node.args)
            queue.extend(node.keywords)
            continue
        if kind is constant_kind:
            constant = node.value
            if type(constant) is str:
                add_text(constant)
            elif type(constant) is bytes:
                add_text(constant.decode("latin-1"))
            continue
        if kind is assign_kind:
            assigns.append(node)
            queue.extend(node.targets)
            queue.append(node.value)
            continue
        if kind is keyword_kind:
            if node.arg:
                add_name(node.arg)
            queue.append(node.value)
            continue
        if kind is expr_kind:
            queue.append(node.value)
            continue
        if kind is arg_kind:
            if node.annotation is not None:
                queue.append(node.annotation)
            continue
        if kind is annotated_kind:
            assigns.append(node)
        elif kind is augmented_kind:
            operations.append(node)
        elif kind is binary_kind or kind is fstring_kind:
            operations.append(node)
        elif kind in import_kinds:
            imports.append(node)
        elif kind in loop_kinds or kind is subscript_kind:
            loops.append(node)
        elif kind in definition_kinds:
            definitions.append(node)
        for field_name in fields_of.get(kind, ()):
            child = getattr(node, field_name, None)
            if type(child) is list:
                queue.extend(child)
            elif child is not None:
                queue.append(child)
    for statement in imports:
        for alias in statement.names:
            add_name(alias.name)
            if alias.asname:
                add_name(alias.asname)
    return _Nodes(calls, callees, assigns, imports,
                  [node.lineno for node in loops
                   if type(node) is not ast.Subscript or type(node.value) is call_kind],
                  operations, [node.lineno for node in definitions], names, texts)


def _imports(nodes: list[ast.Import | ast.ImportFrom], package: str) -> list[Import]:
    imports: list[Import] = []
    for statement in nodes:
        if isinstance(statement, ast.Import):
            for alias in statement.names:
                local = alias.asname or alias.name.partition(".")[0]
                imports.append(Import(alias.name, None, local, statement.lineno))
        else:
            base = _absolute_module(statement.module, statement.level, package)
            for alias in statement.names:
                if alias.name == "*":
                    continue
                imports.append(Import(base, alias.name, alias.asname or alias.name,
                                           statement.lineno))
    return imports


def _index_tree(
    path: str, module: str, package: str, lines: int, tree: ast.Module, source: str
) -> ModuleIndex:
    nodes = _collect(tree)
    calls, assigns = nodes.calls, nodes.assigns
    imports = _imports(nodes.imports, package)
    resolver = Resolver(imports)
    found = _Definitions(resolver, sorted(nodes.definitions))
    found.walk(tree.body, "", None, True)
    # No node is on a line after the end of the last statement.
    last_line = max(lines, tree.body[-1].end_lineno or 0) if tree.body else lines
    function_at = _function_lines(found.functions, last_line)
    calls_made = _call_values(calls, resolver, function_at, found)
    assignments = _assignments(assigns, resolver, function_at, found.class_lines)
    return ModuleIndex(  # path, module, lines, syntax_error, imports, calls, decorators,
        # functions, classes, assignments, sql_sites, loop_queries, names, texts
        path, module, lines, None, tuple(imports), calls_made, tuple(found.decorators),
        tuple(found.functions), tuple(found.classes), assignments,
        find_sql_sites(tree, resolver, calls, nodes.callees, source, nodes.operations),
        find_loop_queries(tree, resolver, source, calls, nodes.callees, nodes.loops),
        frozenset(nodes.names), frozenset(nodes.texts),
    )


def _call_values(calls: list[ast.Call], resolver: Resolver, function_at: list[str | None],
                 found: _Definitions) -> tuple[Call, ...]:
    """The Call of each call node that is not a decorator, in order; `function_at` gives the
    function enclosing each line."""
    aliases, name, value = resolver.aliases, resolver.name, resolver.value
    guards, decorator_nodes = found.guards, found.decorator_nodes
    name_kind, attribute_kind = ast.Name, ast.Attribute
    made: list[Call] = []
    for node in calls:
        if decorator_nodes and id(node) in decorator_nodes:
            continue
        func = node.func
        # The common cases as `resolver.name` does, without the call.
        if isinstance(func, name_kind):
            callee = aliases.get(func.id, func.id)
        elif isinstance(func, attribute_kind) and isinstance(func.value, name_kind):
            head = func.value.id
            callee = f"{aliases.get(head, head)}.{func.attr}"
        else:
            callee = name(func)
        line = node.lineno
        args = node.args
        if not args:
            arg_values: tuple[Value, ...] = ()
        elif len(args) == 1:
            arg_values = (value(args[0]),)
        else:
            arg_values = tuple(map(value, args))
        keywords = node.keywords
        if keywords:
            pairs = []
            for keyword in keywords:
                pairs.append((keyword.arg or "**", value(keyword.value)))
            keyword_values: tuple[tuple[str, Value], ...] = tuple(pairs)
        else:
            keyword_values = ()
        made.append(Call(callee, line, arg_values, keyword_values, function_at[line],
                         _guarded(guards, line) if guards else False))
    return tuple(made)


def _assignments(assigns: list[ast.stmt], resolver: Resolver, function_at: list[str | None],
                 class_lines: dict[int, str]) -> tuple[Assignment, ...]:
    """The Assignment of each target of each assignment with a value, in order; `function_at`
    gives the function enclosing each line, `class_lines` the class of each class-body line."""
    aliases, value = resolver.aliases, resolver.value
    made: list[Assignment] = []
    for statement in assigns:
        if type(statement) is ast.Assign:
            targets = statement.targets
            assigned = statement.value
        elif type(statement) is ast.AnnAssign:
            if statement.value is None:
                continue
            targets, assigned = [statement.target], statement.value
        else:
            continue
        summary = value(assigned)
        line = statement.lineno
        function = function_at[line]
        class_name = class_lines.get(line) if function is None else None
        for target in targets:
            if type(target) is ast.Name:  # as `_target_text` does, without the call
                text: str | None = aliases.get(target.id, target.id)
                if text:
                    made.append(Assignment(text, line, summary, function, class_name))
                continue
            for single in (target.elts if type(target) is ast.Tuple else [target]):
                text = _target_text(single, resolver)
                if text:
                    made.append(Assignment(text, line, summary, function, class_name))
    return tuple(made)
