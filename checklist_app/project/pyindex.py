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
        text = dotted(node)
        if text is None:
            return ""
        head, dot, rest = text.partition(".")
        target = self.aliases.get(head)
        if target is None:
            return text
        return target + dot + rest

    def value(self, node: ast.expr) -> Value:
        """The summary of an expression; equal summaries are one shared object."""
        made = self._summary(node)
        key = (made.kind, made.name, type(made.const), made.const)
        return self._values.setdefault(key, made)

    def _summary(self, node: ast.expr) -> Value:
        if isinstance(node, ast.Constant):
            const = node.value
            if isinstance(const, str) and len(const) > MAX_CONST_TEXT:
                const = const[:MAX_CONST_TEXT]
            if isinstance(const, bytes):
                const = const[:MAX_CONST_TEXT].decode("latin-1")
            if not isinstance(const, str | int | float | bool) and const is not None:
                return Value(ValueKind.OTHER)
            return Value(ValueKind.CONST, const=const)
        if isinstance(node, ast.Name | ast.Attribute):
            return Value(ValueKind.NAME, self.name(node))
        if isinstance(node, ast.JoinedStr):
            if all(isinstance(part, ast.Constant) for part in node.values):
                return Value(ValueKind.CONST, const="".join(
                    str(part.value) for part in node.values if isinstance(part, ast.Constant)))
            return Value(ValueKind.FSTRING)
        if isinstance(node, ast.BinOp):
            if isinstance(node.op, ast.Mod) and _is_text(node.left):
                return Value(ValueKind.PERCENT)
            if isinstance(node.op, ast.Add) and (_is_text(node.left) or _is_text(node.right)
                                                 or isinstance(node.left, ast.BinOp)):
                return Value(ValueKind.CONCAT)
            return Value(ValueKind.OTHER)
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr == "format" and _is_text(func.value):
                return Value(ValueKind.FORMAT)
            return Value(ValueKind.CALL, self.name(func))
        if isinstance(node, ast.List | ast.Tuple | ast.Set | ast.Dict):
            return Value(ValueKind.COLLECTION)
        if isinstance(node, ast.UnaryOp) and isinstance(node.operand, ast.Constant):
            inner = self._summary(node.operand)
            if isinstance(node.op, ast.Not) and inner.kind is ValueKind.CONST:
                return Value(ValueKind.CONST, const=not inner.const)
            if isinstance(node.op, ast.USub) and isinstance(inner.const, int | float):
                return Value(ValueKind.CONST, const=-inner.const)
        return Value(ValueKind.OTHER)


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
        best: Function | None = None
        position = bisect.bisect_right(self.starts, line)
        for function in reversed(self.functions[:position]):
            if function.line <= line <= function.end_line and (
                best is None or function.line > best.line
            ):
                best = function
                break
        return best.qualname if best else None

    def guarded(self, line: int) -> bool:
        return any(start <= line <= end for start, end in self.guards)


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
    args = tuple(resolver.value(a) for a in node.args)
    keywords = tuple((k.arg or "**", resolver.value(k.value)) for k in node.keywords)
    return Call(resolver.name(node.func), node.lineno, args, keywords, function, guarded)


def index_module(path: str, source: str) -> ModuleIndex:
    """Parse and index one module. A syntax error gives an index that says so, never raises."""
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
        return ModuleIndex(path, module, line_count, reason)
    package = module if path.endswith("__init__.py") else module.rpartition(".")[0]
    try:
        return _index_tree(path, module, package, line_count, tree, source)
    except RecursionError:
        return ModuleIndex(path, module, line_count, "too deeply nested to analyse")


def _index_tree(
    path: str, module: str, package: str, lines: int, tree: ast.Module, source: str
) -> ModuleIndex:
    imports: list[Import] = []
    calls: list[ast.Call] = []
    assigns: list[ast.stmt] = []
    for node in ast.walk(tree):
        kind = type(node)
        if kind is ast.Call:
            calls.append(node)  # type: ignore[arg-type]
        elif kind is ast.Assign or kind is ast.AnnAssign or kind is ast.AugAssign:
            assigns.append(node)  # type: ignore[arg-type]
        elif kind is ast.Import:
            for alias in node.names:  # type: ignore[attr-defined]
                local = alias.asname or alias.name.partition(".")[0]
                imports.append(Import(alias.name, None, local,
                                      node.lineno))  # type: ignore[attr-defined]
        elif kind is ast.ImportFrom:
            base = _absolute_module(node.module, node.level, package)  # type: ignore[attr-defined]
            for alias in node.names:  # type: ignore[attr-defined]
                if alias.name == "*":
                    continue
                imports.append(Import(base, alias.name, alias.asname or alias.name,
                                      node.lineno))  # type: ignore[attr-defined]
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
    call_values = tuple(
        _call(node, resolver, scopes.enclosing(node.lineno), scopes.guarded(node.lineno))
        for node in calls if id(node) not in decorator_calls
    )
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
