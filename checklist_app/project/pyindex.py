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

from checklist_app.project.packing import Packed
from checklist_app.project.query_loops import LoopQuery, find_loop_queries
from checklist_app.project.sql_flow import SqlSite, find_sql_sites

INDEX_FORMAT = 4
"""Bump when the shape of ModuleIndex changes, so cached indexes are rebuilt."""

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


@dataclass(frozen=True, slots=True)
class Value(Packed):
    """A summary of an expression: a constant, a (resolved) name, a call, or a built string."""

    kind: ValueKind
    name: str = ""
    """The resolved dotted name for NAME, the callee for CALL."""
    const: Const = None
    """The constant for CONST (long text is cut)."""

    @property
    def is_constant_text(self) -> bool:
        return self.kind is ValueKind.CONST and isinstance(self.const, str)


@dataclass(frozen=True, slots=True)
class Import(Packed):
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


@dataclass(frozen=True, slots=True)
class Call(Packed):
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


@dataclass(frozen=True, slots=True)
class Decorator(Packed):
    name: str
    """The decorator's resolved dotted name without its call: `app.route`, `bp.get`."""
    line: int
    target: str
    """The qualified name of the decorated function or class."""
    call: Call | None
    """The decorator call with its arguments, when it is called (`@app.route("/")`)."""


@dataclass(frozen=True, slots=True)
class Function(Packed):
    name: str
    qualname: str
    line: int
    end_line: int
    is_async: bool
    decorators: tuple[str, ...]
    params: tuple[str, ...]
    class_name: str | None


@dataclass(frozen=True, slots=True)
class Class(Packed):
    name: str
    qualname: str
    line: int
    bases: tuple[str, ...]
    """Resolved dotted names of the base classes."""
    decorators: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Assignment(Packed):
    target: str
    """`NAME`, `obj.attr`, or `obj.attr[KEY]` for a subscript with a constant key."""
    line: int
    value: Value
    function: str | None
    class_name: str | None
    """The enclosing class when assigned directly in a class body (config classes)."""


@dataclass(frozen=True, slots=True)
class ModuleIndex(Packed):
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

    def imports_module(self, prefix: str) -> Import | None:
        """The first import of `prefix` or of a submodule or name inside it."""
        for imported in self.imports:
            qualified = imported.qualified
            if qualified == prefix or qualified.startswith(prefix + "."):
                return imported
        return None


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
        self._values: dict[tuple[object, ...], Value] = {}
        self.aliases: dict[str, str] = {}
        for imported in imports:
            qualified = imported.qualified
            if imported.name is None and qualified.partition(".")[0] == imported.alias:
                qualified = imported.alias  # `import a.b` binds `a`
            self.aliases.setdefault(imported.alias, qualified)

    def name(self, node: ast.expr) -> str:
        kind = type(node)
        if kind is ast.Name:  # the common case, without building the dotted text
            head: str = node.id  # type: ignore[attr-defined]
            return self.aliases.get(head, head)
        if kind is not ast.Attribute:
            text = dotted(node)
            if text is None:
                return ""
            head, dot, rest = text.partition(".")
            target = self.aliases.get(head)
            return text if target is None else target + dot + rest
        names: list[str] = []
        current: ast.expr = node
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
        kind, name, const = self._summary(node)
        key = (kind, name, type(const), const)
        made = self._values.get(key)
        if made is None:
            made = self._values[key] = Value(kind, name, const)
        return made

    def _summary(self, node: ast.expr) -> tuple[ValueKind, str, Const]:
        """(kind, name, const) of the Value for an expression."""
        node_kind = type(node)
        if node_kind is ast.Constant:
            const = node.value  # type: ignore[attr-defined]
            if isinstance(const, str) and len(const) > MAX_CONST_TEXT:
                const = const[:MAX_CONST_TEXT]
            if isinstance(const, bytes):
                const = const[:MAX_CONST_TEXT].decode("latin-1")
            if not isinstance(const, str | int | float | bool) and const is not None:
                return _OTHER
            return ValueKind.CONST, "", const
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


class _Scopes:
    """Finds the innermost function enclosing a line, and the main-guard line ranges."""

    def __init__(self) -> None:
        self.functions: list[Function] = []
        self.starts: list[int] = []
        self.guards: list[tuple[int, int]] = []

    def enclosing(self, line: int) -> str | None:
        # The innermost enclosing function is the one starting last at or before the line.
        functions = self.functions
        for position in range(bisect.bisect_right(self.starts, line) - 1, -1, -1):
            function = functions[position]
            if line <= function.end_line:
                return function.qualname
        return None

    def guarded(self, line: int) -> bool:
        for start, end in self.guards:
            if start <= line <= end:
                return True
        return False


def _is_main_guard(node: ast.If) -> bool:
    test = node.test
    if not isinstance(test, ast.Compare) or len(test.comparators) != 1:
        return False
    sides = [test.left, test.comparators[0]]
    names = [s for s in sides if isinstance(s, ast.Name) and s.id == "__name__"]
    consts = [s for s in sides if isinstance(s, ast.Constant) and s.value == "__main__"]
    return bool(names and consts)


def _definitions(
    body: list[ast.stmt], prefix: str, class_name: str | None, resolver: Resolver,
    functions: list[Function], classes: list[Class], decorators: list[Decorator],
    scopes: _Scopes, decorator_nodes: set[int],
) -> None:
    """Walk statement bodies (not expressions) to name functions and classes with their nesting."""
    for node in body:
        kind = type(node)
        if kind not in _DEFINITION_KINDS:
            continue
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            qualname = prefix + node.name
            params = tuple(a.arg for a in (*node.args.posonlyargs, *node.args.args,
                                            *node.args.kwonlyargs))
            names = tuple(resolver.name(_decorator_callee(d)) for d in node.decorator_list)
            functions.append(Function(
                node.name, qualname, node.lineno, node.end_lineno or node.lineno,
                isinstance(node, ast.AsyncFunctionDef), names, params, class_name))
            decorators.extend(_decorators(node.decorator_list, qualname, resolver))
            decorator_nodes.update(id(d) for d in node.decorator_list)
            _definitions(node.body, qualname + ".", None, resolver, functions, classes,
                         decorators, scopes, decorator_nodes)
        elif isinstance(node, ast.ClassDef):
            qualname = prefix + node.name
            names = tuple(resolver.name(_decorator_callee(d)) for d in node.decorator_list)
            bases = tuple(resolver.name(b) for b in node.bases)
            classes.append(Class(node.name, qualname, node.lineno, bases, names))
            decorators.extend(_decorators(node.decorator_list, qualname, resolver))
            decorator_nodes.update(id(d) for d in node.decorator_list)
            _definitions(node.body, qualname + ".", qualname, resolver, functions, classes,
                         decorators, scopes, decorator_nodes)
        elif isinstance(node, ast.If):
            if not prefix and _is_main_guard(node):
                scopes.guards.append((node.lineno, node.end_lineno or node.lineno))
            _definitions(node.body, prefix, class_name, resolver, functions, classes,
                         decorators, scopes, decorator_nodes)
            _definitions(node.orelse, prefix, class_name, resolver, functions, classes,
                         decorators, scopes, decorator_nodes)
        elif isinstance(node, ast.Try | ast.With | ast.AsyncWith | ast.For | ast.AsyncFor
                        | ast.While):
            for block in ("body", "orelse", "finalbody"):
                _definitions(getattr(node, block, []), prefix, class_name, resolver,
                             functions, classes, decorators, scopes, decorator_nodes)
            for handler in getattr(node, "handlers", []):
                _definitions(handler.body, prefix, class_name, resolver, functions, classes,
                             decorators, scopes, decorator_nodes)


_DEFINITION_KINDS = frozenset({
    ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.If, ast.Try, ast.With,
    ast.AsyncWith, ast.For, ast.AsyncFor, ast.While,
})
"""Statements that `_definitions` looks at or into; any other statement is passed over."""


def _decorator_callee(node: ast.expr) -> ast.expr:
    return node.func if isinstance(node, ast.Call) else node


def _decorators(nodes: list[ast.expr], target: str, resolver: Resolver) -> list[Decorator]:
    result = []
    for node in nodes:
        call = None
        if isinstance(node, ast.Call):
            call = _call(node, resolver, None, False)
        result.append(Decorator(resolver.name(_decorator_callee(node)), node.lineno, target, call))
    return result


def _call(node: ast.Call, resolver: Resolver, function: str | None, guarded: bool) -> Call:
    value = resolver.value
    args = tuple([value(a) for a in node.args])
    keywords = tuple([(k.arg or "**", value(k.value)) for k in node.keywords])
    return Call(resolver.name(node.func), node.lineno, args, keywords, function, guarded)


def index_module(path: str, source: str) -> ModuleIndex:
    """Parse and index one module. A syntax error gives an index that says so, never raises."""
    return parse_module(path, source)[0]


def parse_module(path: str, source: str) -> tuple[ModuleIndex, ast.Module | None]:
    """Parse and index one module: its index and its syntax tree (None when it does not parse
    or cannot be analysed). Never raises."""
    module = module_name(path)
    line_count = source.count("\n") + 1
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(source, filename=path)
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


_NOT_NODES = frozenset({
    "ctx", "op", "ops", "id", "attr", "name", "names", "arg", "module", "level", "kind",
    "type_comment", "is_async", "conversion", "simple", "tag", "lineno", "rest", "kwd_attrs",
})
"""Fields that never hold a call, an assignment or an import (names, operators, contexts)."""

_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}
"""Node type -> the fields the collecting walk follows (filled on first sight of a type)."""


def _child_fields(kind: type) -> tuple[str, ...]:
    if not issubclass(kind, ast.AST) or kind in (ast.Constant, ast.MatchSingleton):
        fields: tuple[str, ...] = ()
    else:
        fields = tuple(f for f in kind._fields if f not in _NOT_NODES)
    _CHILD_FIELDS[kind] = fields
    return fields


def _collect(
    tree: ast.Module,
) -> tuple[list[ast.Call], list[ast.stmt], list[ast.Import | ast.ImportFrom]]:
    """The calls, assignments and imports of a module, in `ast.walk`'s breadth-first order.

    The queue may also hold non-node field values (None, text); they have no fields and are
    skipped, so the order of the nodes is exactly that of `ast.walk`.
    """
    calls: list[ast.Call] = []
    assigns: list[ast.stmt] = []
    imports: list[ast.Import | ast.ImportFrom] = []
    queue: list[object] = [tree]
    fields_of = _CHILD_FIELDS
    call_kind, import_kind, from_kind = ast.Call, ast.Import, ast.ImportFrom
    assign_kinds = (ast.Assign, ast.AnnAssign, ast.AugAssign)
    for node in queue:  # the loop sees what is appended while it runs
        kind = type(node)
        if kind is call_kind:
            calls.append(node)  # type: ignore[arg-type]
        elif kind in assign_kinds:
            assigns.append(node)  # type: ignore[arg-type]
        elif kind is import_kind or kind is from_kind:
            imports.append(node)  # type: ignore[arg-type]
        fields = fields_of.get(kind)
        if fields is None:
            fields = _child_fields(kind)
        for field_name in fields:
            child = getattr(node, field_name, None)
            if type(child) is list:
                queue.extend(child)
            elif child is not None:
                queue.append(child)
    return calls, assigns, imports


def _index_tree(
    path: str, module: str, package: str, lines: int, tree: ast.Module, source: str
) -> ModuleIndex:
    imports: list[Import] = []
    calls, assigns, import_nodes = _collect(tree)
    for statement in import_nodes:
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
    resolver = Resolver(imports)
    functions: list[Function] = []
    classes: list[Class] = []
    decorators: list[Decorator] = []
    scopes = _Scopes()
    decorator_calls: set[int] = set()
    _definitions(tree.body, "", None, resolver, functions, classes, decorators, scopes,
                 decorator_calls)
    scopes.functions = sorted(functions, key=lambda f: f.line)
    scopes.starts = [f.line for f in scopes.functions]
    enclosing, guarded = scopes.enclosing, scopes.guarded
    call_values = tuple([
        _call(node, resolver, enclosing(node.lineno), guarded(node.lineno))
        for node in calls if id(node) not in decorator_calls
    ])
    class_bodies = _class_body_lines(tree)
    assignments: list[Assignment] = []
    for node in assigns:
        if isinstance(node, ast.Assign):
            targets = node.targets
            value = node.value
        elif isinstance(node, ast.AnnAssign):
            if node.value is None:
                continue
            targets, value = [node.target], node.value
        else:
            continue
        summary = resolver.value(value)
        function = scopes.enclosing(node.lineno)
        class_name = class_bodies.get(node.lineno) if function is None else None
        for target in targets:
            for single in (target.elts if isinstance(target, ast.Tuple) else [target]):
                text = _target_text(single, resolver)
                if text:
                    assignments.append(Assignment(text, node.lineno, summary, function,
                                                  class_name))
    return ModuleIndex(
        path=path, module=module, lines=lines, syntax_error=None, imports=tuple(imports),
        calls=call_values, decorators=tuple(decorators), functions=tuple(functions),
        classes=tuple(classes), assignments=tuple(assignments),
        sql_sites=find_sql_sites(tree, resolver, calls),
        loop_queries=find_loop_queries(tree, resolver, source),
    )


def _class_body_lines(tree: ast.Module) -> dict[int, str]:
    """Line of each statement directly in a class body -> the class's qualified name."""
    result: dict[int, str] = {}

    def visit(body: list[ast.stmt], prefix: str) -> None:
        for node in body:
            if isinstance(node, ast.ClassDef):
                qualname = prefix + node.name
                for statement in node.body:
                    result[statement.lineno] = qualname
                visit(node.body, qualname + ".")
            elif isinstance(node, ast.If | ast.Try):
                visit(node.body, prefix)
                visit(node.orelse, prefix)

    visit(tree.body, "")
    return result
