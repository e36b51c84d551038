"""Detectors: security (passwords, CSRF, SQL injection, HTTPS, debug, secret key, autoescape).

The detectors read module facts (see `checklist_app.project.module_facts`): small values that
a pure function computes from one module's index and syntax tree, in the indexing workers, kept
in the facts cache by the module's content. Where a detector needs the exact shape of an
expression (a default value, the condition around a statement, the arguments of a call), its
fact walks the syntax tree of the few modules whose names and strings mention what it looks
for; what depends on the whole project (model classes, config class hierarchies, module
constants, deployment files) is combined in the detector. Nothing of the project is imported
or run.

Where a setting is made matters: code in test files, in config classes named for testing
(`TestingConfig`) or development (`DevelopmentConfig`, `LocalConfig`), in functions named so, or
under a condition about testing or debugging (`if app.testing:`) is not production code. Each
detector documents which of those it excuses.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import PurePosixPath
from typing import Generic, NamedTuple, TypeVar

from checklist_app.detectors.database import Models, find_models
from checklist_app.detectors.evidence import at_line
from checklist_app.detectors.organization import (
    CLASS_BASES,
    DEFINITIONS,
    FACTS_VERSION,
    FUNCTION_DEFS,
    ModuleNames,
    module_names,
    modules_with,
    none_found,
    qualified_name,
)
from checklist_app.detectors.registry import detector, module_fact
from checklist_app.findings import (
    Confidence,
    Evidence,
    Finding,
    failed,
    passed,
)
from checklist_app.project import ModuleIndex, ParsedModule, Project
from checklist_app.project.pyindex import (
    Call,
    Resolver,
    ValueKind,
    index_module,
    module_name,
    parse_python,
)
from checklist_app.project.sql_flow import (
    Scope,
    SiteKind,
    Text,
    TextFlow,
    TextKind,
    calls_named,
)

_Fact = TypeVar("_Fact")
_Value = TypeVar("_Value")
MAX_EVIDENCE = 10
MAX_CONDITION_DEPTH = 20
MAX_SQL_EVIDENCE = 200

TESTING = "testing"
DEVELOPMENT = "development"

_TEST_WORDS = frozenset({"test", "tests", "testing", "pytest", "unittest"})
_DEV_WORDS = frozenset({"dev", "development", "develop", "debug", "local"})
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
_TEST_FOLDERS = frozenset({"tests", "test", "testing"})
_PYTHON_CONFIG_SUFFIXES = (".cfg",)
_NOT_PYTHON_CFG = frozenset({"setup.cfg", "tox.ini", "mypy.ini", ".flake8", "pytest.ini"})


# --- where code stands ------------------------------------------------------------------------


def words(name: str) -> set[str]:
    """The lower-case words of an identifier or path: `DevelopmentConfig` -> development, config."""
    return {w.lower() for w in _WORD.findall(name)}


def _kinds_of(name: str) -> frozenset[str]:
    found = words(name)
    kinds = set()
    if found & _TEST_WORDS:
        kinds.add(TESTING)
    if found & _DEV_WORDS:
        kinds.add(DEVELOPMENT)
    return frozenset(kinds)


def is_test_path(path: str) -> bool:
    """Test code: under a tests folder, `test_*.py`, `*_test.py`, `conftest.py`."""
    folders, _slash, name = path.rpartition("/")
    if name.startswith("test_") or name.endswith("_test.py") or name == "conftest.py":
        return True
    return "test" in folders and not _TEST_FOLDERS.isdisjoint(folders.split("/"))


def _path_kinds(path: str) -> frozenset[str]:
    """Kinds a module's own name gives (`config/development.py`, `settings_test.py`), or a
    tests folder. Other folder names do not count: a package called `flask_test_app` is still
    the application."""
    kinds = set(_kinds_of(PurePosixPath(path).stem))
    if is_test_path(path):
        kinds.add(TESTING)
    return frozenset(kinds)


class Context(NamedTuple):
    """Where a node stands: enclosing classes and function, conditions around it."""

    kinds: frozenset[str] = frozenset()
    """TESTING / DEVELOPMENT when a class, function, condition or the path says so."""
    classes: tuple[str, ...] = ()
    function: str | None = None
    class_body: bool = False
    """Directly in a class body (a config class attribute)."""
    module_level: bool = True
    main_guarded: bool = False
    """Inside `if __name__ == "__main__":`."""

    @property
    def testing(self) -> bool:
        return TESTING in self.kinds

    @property
    def not_production(self) -> bool:
        return bool(self.kinds)


def _name_words_in(node: ast.AST) -> set[str]:
    found: set[str] = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            found |= words(sub.id)
        elif isinstance(sub, ast.Attribute):
            found |= words(sub.attr)
        elif isinstance(sub, ast.Constant) and isinstance(sub.value, str) and \
                len(sub.value) < 40:
            found |= words(sub.value)
    return found


def _kinds_in(node: ast.AST) -> frozenset[str]:
    """Kinds a condition names (`app.testing`, `FLASK_ENV == "development"`). "local" does not
    count here: `if settings.LOCAL_UPLOADS:` is not about development."""
    found = _name_words_in(node)
    kinds = set()
    if found & _TEST_WORDS:
        kinds.add(TESTING)
    if found & (_DEV_WORDS - {"local"}):
        kinds.add(DEVELOPMENT)
    return frozenset(kinds)


def _polarity(test: ast.expr, depth: int = 0) -> tuple[frozenset[str], frozenset[str]]:
    """The kinds an `if` test gives its body and its else branch.

    `if app.testing:` makes the body testing; `if not app.debug:` makes the else branch
    development; `if test_config is None:` makes the else branch testing.
    """
    empty: frozenset[str] = frozenset()
    if depth > MAX_CONDITION_DEPTH:
        return empty, empty
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        body, orelse = _polarity(test.operand, depth + 1)
        return orelse, body
    if isinstance(test, ast.BoolOp):
        branches = [_polarity(v, depth + 1)[0] for v in test.values]
        if isinstance(test.op, ast.And):
            return frozenset().union(*branches), empty
        return frozenset.intersection(*branches) if branches else empty, empty
    if isinstance(test, ast.Compare) and len(test.ops) == 1:
        op = test.ops[0]
        other = test.comparators[0]
        kinds = _kinds_in(test)
        is_none = isinstance(other, ast.Constant) and other.value is None
        if isinstance(op, ast.NotEq | ast.NotIn) or (isinstance(op, ast.Is) and is_none):
            return empty, kinds
        if isinstance(op, ast.Eq | ast.In | ast.Is | ast.IsNot):
            return kinds, empty
        return empty, empty
    if isinstance(test, ast.Name | ast.Attribute | ast.Subscript | ast.Call):
        return _kinds_in(test), empty
    return empty, empty


def _is_main_guard(node: ast.If) -> bool:
    test = node.test
    if not isinstance(test, ast.Compare) or len(test.comparators) != 1:
        return False
    sides = [test.left, test.comparators[0]]
    return any(isinstance(s, ast.Name) and s.id == "__name__" for s in sides) and any(
        isinstance(s, ast.Constant) and s.value == "__main__" for s in sides)


def walk(tree: ast.Module, path: str) -> list[tuple[ast.AST, Context]]:
    """The nodes of the module that facts look at (`_LOOKED_AT`) with their context, in order:
    each statement (depth first), then the nodes of its expressions (each breadth first, as
    `ast.walk`), then the statements it holds.

    Context is tracked per statement (classes, functions, `if` branches); the expressions of a
    statement share its context.
    """
    root = Context(kinds=_path_kinds(path))
    found: list[tuple[ast.AST, Context]] = []
    stack: list[tuple[ast.stmt, Context]] = [(n, root) for n in reversed(tree.body)]
    looked_at = _LOOKED_AT
    while stack:
        node, context = stack.pop()
        kind = type(node)
        if kind in looked_at:
            found.append((node, context))
        blocks: list[tuple[ast.stmt, Context]] = []
        expressions: list[ast.AST]
        if isinstance(node, ast.Assign):  # the most common statements first
            expressions = [*node.targets, node.value]
        elif isinstance(node, ast.Expr):
            expressions = [node.value]
        elif isinstance(node, ast.Return):
            expressions = [] if node.value is None else [node.value]
        elif isinstance(node, _IMPORTS):
            continue  # names only
        elif isinstance(node, ast.ClassDef):
            inner = Context(context.kinds | _kinds_of(node.name), (*context.classes, node.name),
                            context.function, True, False, context.main_guarded)
            expressions = [*node.decorator_list, *node.bases, *node.keywords]
            blocks = [(n, inner) for n in node.body]
        elif isinstance(node, FUNCTION_DEFS):
            prefix = f"{context.function}." if context.function else \
                ".".join(context.classes) + "." if context.classes else ""
            inner = Context(context.kinds | _kinds_of(node.name), context.classes,
                            prefix + node.name, False, False, context.main_guarded)
            expressions = [*node.decorator_list, node.args]
            blocks = [(n, inner) for n in node.body]
        elif isinstance(node, ast.If):
            body_kinds, else_kinds = _polarity(node.test)
            guarded = context.main_guarded or (context.module_level and _is_main_guard(node))
            expressions = [node.test]
            body = Context(context.kinds | body_kinds, context.classes, context.function,
                           context.class_body, context.module_level, guarded)
            orelse = Context(context.kinds | else_kinds, context.classes, context.function,
                             context.class_body, context.module_level, context.main_guarded)
            blocks = [(n, body) for n in node.body]
            blocks += [(n, orelse) for n in node.orelse]
        else:
            expressions = []
            for name in _STATEMENT_FIELDS.get(kind, ()):
                value = getattr(node, name, None)
                for item in value if type(value) is list else (value,):
                    if isinstance(item, _BLOCKS):
                        blocks.append((item, context))  # type: ignore[arg-type]
                    elif isinstance(item, ast.AST):
                        expressions.append(item)
        for expression in expressions:
            _add_expression(expression, context, found)
        stack.extend(reversed(blocks))
    return found


def _add_expression(expression: ast.AST, context: Context,
                    found: list[tuple[ast.AST, Context]]) -> None:
    """Add the nodes of an expression that facts look at, breadth first (as `ast.walk`)."""
    queue: list[ast.AST | None] = [expression]
    looked_at = _LOOKED_AT
    for node in queue:  # the loop sees what is appended while it runs
        kind = type(node)
        if kind is ast.Name:  # the most common nodes first
            continue
        if kind in looked_at:
            found.append((node, context))  # type: ignore[arg-type]
        if kind is ast.Attribute:
            queue.append(node.value)  # type: ignore[union-attr]
        elif kind is ast.Call:
            queue.append(node.func)  # type: ignore[union-attr]
            queue.extend(node.args)  # type: ignore[union-attr]
            queue.extend(node.keywords)  # type: ignore[union-attr]
        elif kind is ast.keyword:
            queue.append(node.value)  # type: ignore[union-attr]
        elif kind is not ast.Constant:
            for name in _CHILD_FIELDS.get(kind, ()):
                child = getattr(node, name)
                if type(child) is list:
                    queue.extend(child)
                elif child is not None:
                    queue.append(child)


_ASSIGNS = (ast.Assign, ast.AnnAssign)
_IMPORTS = (ast.Import, ast.ImportFrom)
_NAME_NODES = (ast.Name, ast.Attribute)
"""Kinds of nodes tested in loops over many nodes (a tuple is tested faster than `A | B`)."""
_LOOKED_AT = frozenset({ast.Assign, ast.AnnAssign, ast.FunctionDef, ast.AsyncFunctionDef,
                       ast.ClassDef, ast.Call, ast.Attribute, ast.Compare, ast.Dict,
                       ast.Constant})
"""The kinds of nodes that facts look at in `walk`'s nodes (`Parsed.nodes`)."""
_BLOCKS = (ast.stmt, ast.excepthandler, ast.match_case)
"""What `walk` takes as statements (each with its own expressions), not as expressions."""
_NOT_CHILDREN = frozenset({
    "ctx", "op", "ops", "id", "attr", "arg", "name", "asname", "module", "level", "kind",
    "type_comment", "is_async", "conversion", "simple", "tag", "rest", "kwd_attrs", "lineno",
})
"""Fields that never hold a node that a fact looks at (names, operators, contexts)."""


def _node_classes() -> list[type[ast.AST]]:
    """Every node class of the `ast` module."""
    return [kind for kind in vars(ast).values()
            if isinstance(kind, type) and issubclass(kind, ast.AST)]


_CHILD_FIELDS: dict[type, tuple[str, ...]] = {
    kind: () if kind in (ast.Constant, ast.MatchSingleton) else
    tuple(f for f in kind._fields if f not in _NOT_CHILDREN) for kind in _node_classes()}
"""Node class -> the fields that may hold nodes that facts look at. A name (`ast.Name`) or a
constant holds none."""
_STATEMENT_FIELDS: dict[type, tuple[str, ...]] = {
    kind: tuple(f for f in kind._fields
                if f not in ("type_comment", "name", "module", "level", "op"))
    for kind in _node_classes() if issubclass(kind, _BLOCKS)}
"""Statement class -> the fields `walk` reads for its expressions and inner statements."""


class Parsed:
    """One module's syntax tree with its index, for a fact that needs its exact syntax."""

    def __init__(self, path: str, index: ModuleIndex, tree: ast.Module) -> None:
        self.path = path
        self.index = index
        self.tree = tree
        self.test = is_test_path(path)
        """The module is test code (`is_test_path`)."""
        self._resolver: Resolver | None = None
        self._nodes: list[tuple[ast.AST, Context]] | None = None
        self._flow: TextFlow | None = None
        self._settings: list[Setting] | None = None
        self._words: Words | None = None

    @property
    def resolver(self) -> Resolver:
        """Resolves the module's names through its imports (made when first asked for)."""
        if self._resolver is None:
            self._resolver = Resolver(list(self.index.imports))
        return self._resolver

    def flow(self) -> TextFlow:
        """The text-flow analysis of this module (made once, without request tracking)."""
        if self._flow is None:
            self._flow = TextFlow(self.tree, self.resolver, track_request=False)
        return self._flow

    def nodes(self) -> list[tuple[ast.AST, Context]]:
        """The nodes facts look at with their context (see `walk`; walked once, then
        kept)."""
        if self._nodes is None:
            self._nodes = walk(self.tree, self.path)
        return self._nodes

    def config_settings(self) -> list[Setting]:
        """Every configuration value the module sets (see `settings`), found once, then kept."""
        if self._settings is None:
            self._settings = list(settings(self))
        return self._settings

    def words(self) -> Words:
        """The names and texts the module's code is written with (made once, then kept)."""
        if self._words is None:
            self._words = words_of(self.index)
        return self._words

    def says(self, needle: re.Pattern[str], hints: tuple[str, ...]) -> bool:
        """Whether `needle` matches one of the module's names or texts: a cheap test of whether
        the module's code mentions something, before it is walked. `hints` are lower-case
        texts one of which every match of `needle` holds: a module (of ASCII code) holding none
        of them is answered without the pattern, which is much slower."""
        words = self.words()
        if words.ascii:
            for hint in hints:
                if hint in words.lower:
                    break
            else:
                return False
        return needle.search(words.joined) is not None

    def name(self, node: ast.expr) -> str:
        return self.resolver.name(node)


class Words(NamedTuple):
    """What a module's code is written with. Comments are not in the syntax tree, so they are
    not here."""

    names: frozenset[str]
    """Names, attribute names, keyword argument names and imported names."""
    texts: frozenset[str]
    """The text of its string (and bytes) literals."""
    joined: str
    """All of them, one a line, to search with a pattern."""
    lower: str
    """`joined` in lower case."""
    ascii: bool
    """`joined` is ASCII: no case folding but the plain one."""


def words_of(index: ModuleIndex) -> Words:
    """See `Words`: from the names and texts the index keeps."""
    joined = "\n".join([*index.names, *index.texts])
    return Words(index.names, index.texts, joined, joined.lower(), joined.isascii())


def parsed_module(module: ParsedModule) -> Parsed:
    """The Parsed view of a module that parsed, made once for all of its facts (its walk, words
    and settings are then shared by them)."""
    return module.view(_parsed_of)


def _parsed_of(module: ParsedModule) -> Parsed:
    assert module.tree is not None  # see parsed_module
    return Parsed(module.path, module.index, module.tree)


def _app_tree(module: ParsedModule) -> Parsed | None:
    """The Parsed view of a module that parsed and is not a test, else None."""
    if module.tree is None:
        return None
    parsed = parsed_module(module)
    return None if parsed.test else parsed


def text_matches(project: Project, path: str, pattern: re.Pattern[str]) -> bool:
    """Whether the file's text matches `pattern`; remembered per file content, so a rescan only
    searches the files that changed. For files that are not Python modules (which have facts)."""
    return bool(project.text_fact(_match_kind(pattern), path,
                                  lambda text: pattern.search(text) is not None))


def _first_line_matching(pattern: re.Pattern[str], text: str) -> int | None:
    """The line where `pattern` first matches in `text`, None when it does not."""
    match = pattern.search(text)
    return None if match is None else text.count("\n", 0, match.start()) + 1


def _match_kind(pattern: re.Pattern[str]) -> str:
    return f"security.text-matches.{FACTS_VERSION}:{pattern.flags}:{pattern.pattern}"


def _parse(path: str, text: str) -> Parsed | None:
    try:
        tree = parse_python(text, filename=path)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    index = index_module(path, text)
    return Parsed(path, index, tree)


def config_files(project: Project, needle: re.Pattern[str], kind: str,
                 compute: Callable[[Parsed], _Fact | None]) -> list[tuple[str, _Fact]]:
    """`compute` over each `*.cfg` file that is Python (read by `app.config.from_pyfile`) and
    whose text matches `needle`, test files aside: (path, value) where the value is not None.
    Remembered per file content (these are not Python modules, so they have no module facts);
    `kind` names the computation, with a version to change when it changes."""
    result: list[tuple[str, _Fact]] = []
    for path in project.files:
        if not path.endswith(_PYTHON_CONFIG_SUFFIXES) or \
                path.rpartition("/")[2] in _NOT_PYTHON_CFG or is_test_path(path):
            continue
        if not text_matches(project, path, needle):
            continue
        value = project.remembered(f"{kind}.{FACTS_VERSION}", project.content_key(path),
                                   partial(_config_file_value, project, path, compute))
        if value is not None:
            result.append((path, value))
    return result


def _config_file_value(project: Project, path: str, compute: Callable[[Parsed], _Fact | None]
                       ) -> _Fact | None:
    text = project.text(path)
    parsed = _parse(path, text) if text is not None else None
    return compute(parsed) if parsed is not None else None


def _evidence(project: Project, places: Iterable[tuple[str, int]], limit: int = MAX_EVIDENCE
              ) -> list[Evidence]:
    result: list[Evidence] = []
    for path, line in dict.fromkeys(places):
        result.append(at_line(project, path, line))
        if len(result) >= limit:
            break
    return result


def _where(places: list[tuple[str, int]]) -> str:
    shown = ", ".join(f"{p}:{n}" for p, n in places[:3])
    more = len(places) - 3
    return shown + (f" and {more} more" if more > 0 else "")


def _truthy(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, str):
            return value.strip().lower() in {"1", "true", "yes", "on"}
        return isinstance(value, bool | int) and bool(value)
    return False


def _falsy(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, str):
            return value.strip().lower() in {"0", "false", "no", "off"}
        return value is None or (isinstance(value, bool | int) and not value)
    return False


def _literal_text(node: ast.expr) -> str | None:
    """The text of a string (or bytes) literal, None for anything else."""
    if isinstance(node, ast.Constant):
        if isinstance(node.value, str):
            return node.value
        if isinstance(node.value, bytes):
            return node.value.decode("latin-1")
    if isinstance(node, ast.JoinedStr) and all(isinstance(v, ast.Constant) for v in node.values):
        return "".join(str(v.value) for v in node.values if isinstance(v, ast.Constant))
    return None


# --- settings: config classes, app.config, config.update() ----------------------------------


class Setting(NamedTuple):
    """One configuration value set in code."""

    key: str
    value: ast.expr
    line: int
    context: Context
    form: str
    owner: str | None = None
    """The config class for a class attribute."""
    function: str | None = None


_ALL_CAPS = re.compile(r"^[A-Z][A-Z0-9_]*$")
_ATTRIBUTE_SETTINGS = {"secret_key": "SECRET_KEY", "debug": "DEBUG", "testing": "TESTING"}


def _is_config(parsed: Parsed, node: ast.expr) -> bool:
    """`app.config`, `current_app.config`, `self.app.config`, `config`."""
    text = parsed.name(node)
    return text == "config" or text.endswith(".config") or text == "flask.current_app.config"


def settings(parsed: Parsed) -> Iterator[Setting]:
    """Every configuration value the module sets, with where it stands."""
    seen: set[int] = set()
    for node, context in parsed.nodes():
        if isinstance(node, _ASSIGNS) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                yield from _target_settings(parsed, target, node.value, context)
        elif isinstance(node, ast.Call):
            yield from _call_settings(parsed, node, context, seen)
        elif isinstance(node, ast.Dict) and id(node) not in seen:
            yield from _dict_settings(node, context, "dict entry")


def _target_settings(parsed: Parsed, target: ast.expr, value: ast.expr, context: Context
                     ) -> Iterator[Setting]:
    if isinstance(target, ast.Name) and _ALL_CAPS.match(target.id):
        if context.class_body:
            yield Setting(target.id, value, target.lineno, context, "class attribute",
                          context.classes[-1] if context.classes else None)
        elif context.module_level:
            yield Setting(target.id, value, target.lineno, context, "module constant")
        else:
            yield Setting(target.id, value, target.lineno, context, "local name",
                          function=context.function)
    elif isinstance(target, ast.Attribute) and target.attr in _ATTRIBUTE_SETTINGS:
        owner = parsed.name(target.value)
        if owner and not owner.startswith(("os.", "sys.", "logging")):
            yield Setting(_ATTRIBUTE_SETTINGS[target.attr], value, target.lineno, context,
                          f"{owner}.{target.attr}", function=context.function)
    elif isinstance(target, ast.Subscript) and (_is_config(parsed, target.value)
                                                 or parsed.name(target.value) == "os.environ"):
        key = target.slice
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            yield Setting(key.value, value, target.lineno, context,
                          f"{parsed.name(target.value)}[...]", function=context.function)


def _call_settings(parsed: Parsed, node: ast.Call, context: Context, seen: set[int]
                   ) -> Iterator[Setting]:
    func = node.func
    if not isinstance(func, ast.Attribute):
        if isinstance(func, ast.Name) and func.id == "dict":
            for keyword in node.keywords:
                if keyword.arg and _ALL_CAPS.match(keyword.arg):
                    yield Setting(keyword.arg, keyword.value, keyword.value.lineno, context,
                                  "dict entry", function=context.function)
        return
    method = func.attr
    if method in {"update", "from_mapping"} and (
            method == "from_mapping" or _is_config(parsed, func.value)):
        form = f"{parsed.name(func)}()"
        for keyword in node.keywords:
            if keyword.arg:
                yield Setting(keyword.arg, keyword.value, keyword.value.lineno, context, form,
                              function=context.function)
        for argument in node.args:
            if isinstance(argument, ast.Dict):
                seen.add(id(argument))
                yield from _dict_settings(argument, context, form)
    elif method == "setdefault" and len(node.args) == 2 and (
            _is_config(parsed, func.value) or parsed.name(func.value) == "os.environ"):
        key = node.args[0]
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            yield Setting(key.value, node.args[1], node.lineno, context,
                          f"{parsed.name(func)}()", function=context.function)


def _dict_settings(node: ast.Dict, context: Context, form: str) -> Iterator[Setting]:
    for key, value in zip(node.keys, node.values, strict=True):
        if isinstance(key, ast.Constant) and isinstance(key.value, str) and \
                _ALL_CAPS.match(key.value):
            yield Setting(key.value, value, key.lineno, context, form,
                          function=context.function)


@dataclass
class ConfigClasses(Generic[_Value]):
    """The config classes of the project and who inherits from whom (by class name)."""

    bases: dict[str, set[str]] = field(default_factory=dict)
    """Class name -> names of its bases (last dotted component)."""
    values: dict[tuple[str, str], list[_Value]] = field(default_factory=dict)
    """(class name, key) -> values assigned in that class body (expressions, or what a
    detector keeps of them)."""

    def add_value(self, owner: str, key: str, value: _Value) -> None:
        self.values.setdefault((owner.rpartition(".")[2], key), []).append(value)

    def subclasses(self, name: str) -> list[str]:
        return [c for c, bases in self.bases.items() if name in bases]

    def overridden(self, name: str, key: str, fine: Callable[[_Value], bool],
                   seen: frozenset[str] = frozenset()) -> bool:
        """True when every non-development subclass of `name` (and there is at least one)
        sets `key` to a value that `fine` accepts, directly or through its own subclasses."""
        seen = seen | {name}
        production = [c for c in self.subclasses(name) if not _kinds_of(c)]
        if not production or any(c in seen for c in production):
            return False
        for child in production:
            values = self.values.get((child, key))
            if values is not None:
                if not all(fine(v) for v in values):
                    return False
            elif not self.overridden(child, key, fine, seen):
                return False
        return True


def config_bases(project: Project) -> dict[str, set[str]]:
    """Class name -> the last names of its bases, for every class of the project that has
    bases (made once per scan, from organization's class bases)."""
    return project.once("security.config_bases", partial(_config_bases, project))


def _config_bases(project: Project) -> dict[str, set[str]]:
    bases: dict[str, set[str]] = {}
    for classes in project.module_fact(CLASS_BASES).values():
        for qualified, resolved in classes:
            parents = {base.rpartition(".")[2] for base in resolved if base}
            if parents:
                bases.setdefault(qualified.rpartition(".")[2], set()).update(parents)
    return bases


# --- env files, Dockerfiles, compose files ----------------------------------------------------


class EnvEntry(NamedTuple):
    """`KEY=value` in an env file, a Dockerfile ENV/ARG line or a compose `environment:`."""

    path: str
    line: int
    key: str
    value: str
    not_production: bool
    """The file is named for development or tests (`.env.dev`, `docker-compose.override.yml`),
    or is `.flaskenv` (read by `flask run` only)."""


_ENV_LINE = re.compile(r"\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=(.*)")
_DOCKER_ENV = re.compile(r"\s*(?:ENV|ARG)\s+(.+)", re.IGNORECASE)
_COMPOSE_ENV = re.compile(r"\s*-?\s*[\"']?([A-Z_][A-Z0-9_]*)[\"']?\s*[:=](.*)")
_EXAMPLE_WORDS = frozenset({"example", "sample", "template", "dist", "defaults", "default",
                            "tmpl", "tpl"})


def file_kinds(path: str) -> frozenset[str]:
    """What a non-Python file is for, from its name alone (cheap: no pattern matching):
    `template`, `web-server`, `deploy`, `caddy`, `fly`, `app-engine`."""
    lower = path.lower()
    name = lower.rpartition("/")[2]
    kinds = set()
    if name.endswith((".html", ".htm", ".jinja", ".jinja2", ".j2")) or \
            lower.startswith("templates/") or "/templates/" in lower:
        kinds.add("template")
    if name.endswith((".conf", ".vhost")) or any(
            part in lower for part in ("nginx", "sites-available/", "sites-enabled/", "httpd",
                                       "apache")):
        kinds.add("web-server")
    if name.startswith(("dockerfile", "procfile", "makefile")) or \
            name.endswith((".dockerfile", ".sh", ".service", ".yml", ".yaml", ".toml", ".ini",
                           ".tf")):
        kinds.add("deploy")
    if name.startswith("caddyfile"):
        kinds.add("caddy")
    if name.endswith((".template", ".tmpl", ".example", ".sample", ".dist", ".j2", ".jinja")) \
            and any(f".{ext}." in name for ext in ("cfg", "py", "ini", "env", "conf")):
        kinds.add("config-template")
    if name == "fly.toml":
        kinds.add("fly")
    if name in {"app.yaml", "app.yml"}:
        kinds.add("app-engine")
    return frozenset(kinds)


def files_of_kind(project: Project, *kinds: str) -> list[str]:
    wanted = set(kinds)
    return [p for p in project.files if not p.endswith(".py") and file_kinds(p) & wanted]


def _env_kind(path: str) -> str | None:
    name = path.rpartition("/")[2].lower()
    if name == ".flaskenv" or name == ".env" or name.startswith(".env.") or \
            name.endswith(".env"):
        return "env"
    if name.startswith("dockerfile") or name.endswith(".dockerfile"):
        return "docker"
    if (name.startswith(("docker-compose", "compose")) and name.endswith((".yml", ".yaml"))):
        return "compose"
    return None


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    if " #" in value:
        value = value.split(" #", 1)[0].strip()
    return value


def env_entries(project: Project) -> tuple[EnvEntry, ...]:
    """Every `KEY=value` set in the project's env, Docker and compose files (not examples),
    read once per scan."""
    return project.once("security.env_entries", partial(_env_entries, project))


def _env_entries(project: Project) -> tuple[EnvEntry, ...]:
    result: list[EnvEntry] = []
    for path in project.files:
        kind = _env_kind(path)
        if kind is None:
            continue
        name = PurePosixPath(path).name.lower()
        name_words = words(name.replace(".", " "))
        if name_words & _EXAMPLE_WORDS:
            continue
        text = project.text(path)
        if text is None:
            continue
        not_production = bool(_kinds_of(name)) or name == ".flaskenv" or \
            "override" in name_words or is_test_path(path)
        for number, line in enumerate(text.splitlines(), start=1):
            for key, value in _line_entries(kind, line):
                result.append(EnvEntry(path, number, key, _unquote(value), not_production))
    return tuple(result)


def _line_entries(kind: str, line: str) -> list[tuple[str, str]]:
    if line.lstrip().startswith("#"):
        return []
    if kind == "env":
        match = _ENV_LINE.match(line)
        return [(match.group(1), match.group(2).strip())] if match else []
    if kind == "docker":
        match = _DOCKER_ENV.match(line)
        if not match:
            return []
        body = match.group(1).strip()
        if "=" not in body.split(" ", 1)[0]:
            key, _, value = body.partition(" ")
            return [(key, value)]
        return [(k, v) for k, _, v in (p.partition("=") for p in body.split()) if k]
    match = _COMPOSE_ENV.match(line)
    return [(match.group(1), match.group(2).strip())] if match else []


def _is_reference(value: str) -> bool:
    """An env value that refers to another variable (`${SECRET_KEY}`), or is empty."""
    return not value or value.startswith("$")


# --- password hashing -------------------------------------------------------------------------


_NOT_A_PASSWORD = ("hash", "digest", "token", "reset", "salt", "policy", "length", "min_",
                   "max_", "forgot", "field", "regex", "pattern", "rule", "strength")
_FAST_HASHES = frozenset({
    "hashlib.md5", "hashlib.sha1", "hashlib.sha224", "hashlib.sha256", "hashlib.sha384",
    "hashlib.sha512", "hashlib.sha3_224", "hashlib.sha3_256", "hashlib.sha3_384",
    "hashlib.sha3_512", "hashlib.blake2b", "hashlib.blake2s", "hashlib.new",
    "Crypto.Hash.MD5.new", "Crypto.Hash.SHA1.new", "Crypto.Hash.SHA256.new",
    "Cryptodome.Hash.MD5.new", "Cryptodome.Hash.SHA256.new", "md5.new", "sha.new",
})
_HASHER_NAMES = frozenset({
    "werkzeug.security.generate_password_hash", "werkzeug.generate_password_hash",
    "werkzeug.security.check_password_hash", "werkzeug.check_password_hash",
    "bcrypt.hashpw", "bcrypt.checkpw", "bcrypt.kdf",
    "flask_bcrypt.generate_password_hash", "flask_bcrypt.check_password_hash",
    "flask_bcrypt.Bcrypt", "flask_argon2.Argon2",
    "argon2.PasswordHasher", "argon2.hash_password", "argon2.hash_password_raw",
    "argon2.low_level.hash_secret", "argon2.low_level.hash_secret_raw",
    "passlib.context.CryptContext", "passlib.apps.custom_app_context.hash",
    "hashlib.pbkdf2_hmac", "hashlib.scrypt",
    "cryptography.hazmat.primitives.kdf.pbkdf2.PBKDF2HMAC",
    "cryptography.hazmat.primitives.kdf.scrypt.Scrypt",
    "cryptography.hazmat.primitives.kdf.argon2.Argon2id",
    "flask_security.hash_password", "flask_security.utils.hash_password",
    "flask_security.verify_password", "flask_security.utils.verify_password",
    "nacl.pwhash.str", "nacl.pwhash.argon2id.str", "nacl.pwhash.scryptsalsa208sha256.str",
})
_DESCRIPTORS = frozenset({"property", "synonym", "hybrid_property", "column_property"})
_HASHING_EXTENSIONS = ("flask_security", "flask_user", "flask_praetorian", "flask_appbuilder")
_SQL_WHERE = re.compile(r"\bwhere\b", re.IGNORECASE)
_PASSWORD_WRITE = re.compile(
    r"\binsert\s+into\b[^;]{0,400}?\bpass(?:word|wd)\b|"
    r"\bupdate\b[^;]{0,200}?\bset\b[^;]{0,400}?\bpass(?:word|wd)\s*=", re.IGNORECASE)
_PASSWORD_EQUALS = re.compile(
    r"\bpass(?:word|wd)\b\s*=\s*(?:\?|%s|%\(\w+\)s|:\w+|'|\"|\{|\$\d)", re.IGNORECASE)
_PASSWORD_INPUT = re.compile(r"<input\b[^>]{0,400}?\btype\s*=\s*[\"']?password",
                             re.IGNORECASE)


def is_password_name(name: str) -> bool:
    """`password`, `new_password`, `userPassword`, `pwd`, `passwd`; not `password_hash`,
    `reset_password_token` or `PASSWORD_MIN_LENGTH`-style settings."""
    lower = name.lower()
    if "pw" not in lower and "pass" not in lower:
        return False
    if any(part in lower for part in _NOT_A_PASSWORD):
        return False
    if "password" in lower or "passwd" in lower or "passphrase" in lower:
        return True
    return bool(words(name) & {"pwd", "pw"})


def _stored_password_name(name: str) -> bool:
    """A name a stored password (or its hash) lives under: `password`, `password_hash`."""
    lower = name.lower()
    if "pw" not in lower and "pass" not in lower:
        return False
    if any(part in lower for part in ("token", "reset", "policy", "length", "field", "rule")):
        return False
    return "password" in lower or "passwd" in lower or bool(words(name) & {"pwd"})


def _names_in(node: ast.AST) -> Iterator[str]:
    """Identifiers an expression reads: names, attributes, constant subscript keys."""
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            yield sub.id
        elif isinstance(sub, ast.Attribute):
            yield sub.attr
        elif isinstance(sub, ast.Subscript) and isinstance(sub.slice, ast.Constant) and \
                isinstance(sub.slice.value, str):
            yield sub.slice.value


def _mentions_password(node: ast.AST) -> bool:
    return any(is_password_name(n) for n in _names_in(node))


@detector("handles_passwords")
def handles_passwords(project: Project) -> Finding:
    """Passes when the project handles user passwords: a model or form attribute named like
    `password`/`password_hash`, a `PasswordField`, a function parameter named `password`, a
    password hashing call, request data read under a password key, or an
    `<input type="password">` in a template. Settings (`MAIL_PASSWORD`) and test files do not
    count. Used as `applies_when` of security.password-hashing."""
    places: list[tuple[str, int]] = []
    for path, lines in project.module_fact(_PASSWORD_PLACES).items():
        places += [(path, line) for line in lines]
    for path in files_of_kind(project, "template"):
        if is_test_path(path):
            continue
        line = project.text_fact(f"security.password-input.{FACTS_VERSION}", path,
                                 partial(_first_line_matching, _PASSWORD_INPUT))
        if line is not None:
            places.append((path, line))
    if places:
        places = sorted(set(places))
        return passed(f"passwords are handled at {_where(places)}",
                      *_evidence(project, places, 3))
    return failed("no sign of user passwords: no password attribute, PasswordField, password "
                  "parameter or password input was found")


def _password_places(source: ParsedModule) -> tuple[int, ...]:
    """Lines of a module that handle passwords (see handles_passwords); none in tests."""
    module = source.index
    if is_test_path(module.path):
        return ()
    lines: list[int] = []
    for assignment in module.assignments:
        if assignment.class_name:
            last = assignment.target.rpartition(".")[2]
            if _stored_password_name(last) and not _ALL_CAPS.match(last):
                lines.append(assignment.line)
    names = module_names(source)
    hashes = _may_hash(names)
    fields = "PasswordField" in names.call_ends
    if hashes or fields or "flask.request." in names.call_text:
        for call in module.calls:
            if fields and call.name.rpartition(".")[2] == "PasswordField" or \
                    hashes and _is_hasher(call.name):
                lines.append(call.line)
            elif call.name.startswith("flask.request.") and any(
                    v.is_constant_text and is_password_name(str(v.const)) for v in call.args):
                lines.append(call.line)
    if _may_name_password(p for function in module.functions for p in function.params):
        for function in module.functions:
            if any(is_password_name(p) for p in function.params):
                lines.append(function.line)
    return tuple(lines)


def _may_name_password(names: Iterable[str]) -> bool:
    """Whether one of `names` may be a password's (`is_password_name`): one test over all of
    them."""
    text = "\n".join(names).lower()
    return "pw" in text or "pass" in text


_PASSWORD_PLACES = module_fact(f"security.password-places.{FACTS_VERSION}", _password_places)


def _hasher_lines(source: ParsedModule) -> tuple[int, ...]:
    """Lines of a module that call a password hasher; none in tests."""
    module = source.index
    if not _may_hash(module_names(source)) or is_test_path(module.path):
        return ()
    return tuple(call.line for call in module.calls if _is_hasher(call.name))


_HASHERS = module_fact(f"security.hashers.{FACTS_VERSION}", _hasher_lines)


def _may_hash(names: ModuleNames) -> bool:
    """Whether the module may call a password hasher (see `_is_hasher`)."""
    return not names.calls.isdisjoint(_HASHER_NAMES) or not names.call_ends.isdisjoint(
        _HASHER_ENDS) or "passlib.hash." in names.call_text


_HASHER_ENDS = frozenset({"generate_password_hash", "check_password_hash"})


def _is_hasher(name: str) -> bool:
    if name in _HASHER_NAMES or name.rpartition(".")[2] in _HASHER_ENDS:
        return True
    return name.startswith("passlib.hash.") and name.rpartition(".")[2] in {
        "hash", "encrypt", "using", "verify"}


class _PasswordSite(NamedTuple):
    """A place in one module where a password is mishandled, or is unless the project says
    otherwise (see `applies`)."""

    line: int
    what: str
    certain: bool
    model: str = ""
    """When set, only when this class is a model of the project without its own `__init__`
    (a model built with the password as typed)."""
    attributes: tuple[str, ...] = ()
    """When set, only when one of these attributes runs no code on assignment (is not a
    password setter)."""
    otherwise: tuple[str, bool] | None = None
    """(what, certain) of the same call when the conditions above do not hold."""
    owner: str = ""
    """For `self.<attribute> = ...` in a class: that class. When it is a model declaring
    columns, an attribute that is none of them is not stored (a value kept until it is
    hashed)."""
    parameter: bool = False
    """The value is a parameter of the class's `__init__`: a hash when the project builds the
    class with that keyword given a hashing call (`User(password=generate_password_hash(p))`)."""

    def applies(self, setters: set[str], models: set[str]) -> tuple[str, bool] | None:
        """(what, certain) of this place given the project's password setters and models."""
        if self.model and (self.model not in models or f"{self.model}()" in setters):
            return self.otherwise
        if self.attributes and all(a in setters for a in self.attributes):
            return self.otherwise
        return self.what, self.certain


@detector("password_hashing")
def password_hashing(project: Project) -> Finding:
    """Passes when passwords are hashed with a salted, slow password hash: werkzeug
    `generate_password_hash`, bcrypt / Flask-Bcrypt, argon2 `PasswordHasher`, passlib,
    `hashlib.pbkdf2_hmac` / `hashlib.scrypt`, cryptography's KDFs, or an extension that hashes
    for you (Flask-Security, Flask-User, Flask-Praetorian, Flask-AppBuilder: medium confidence).

    Fails, with every place as evidence, when a password is hashed with a fast hash
    (`hashlib.md5/sha1/sha256(password)`, `.update(password)`,
    `generate_password_hash(password, method="sha256")`), looked up in SQL
    (`WHERE password = ?`) or with `filter_by(password=...)`, compared in clear
    (`user.password == password`, `compare_digest(user.password, ...)`: medium confidence), or
    stored as typed (medium confidence): `user.password = form.password.data`, a model built
    with `password=` the request data, a literal or an unhashed `password` parameter, or an
    `INSERT`/`UPDATE` whose parameters hold such a value. Models whose `password` runs code
    (`@password.setter`, `synonym(..., descriptor=property(...))`, `@validates("password")`, a
    custom `__init__`) are trusted to hash. Fails with medium confidence when passwords are
    handled but no hashing is found. Test files are not read."""
    hashers: list[tuple[str, int]] = []
    for path, lines in project.module_fact(_HASHERS).items():
        hashers += [(path, line) for line in lines]
    violations = _password_violations(project)
    if violations:
        violations.sort()
        certain = any(v[3] for v in violations)
        kinds = ", ".join(dict.fromkeys(v[2] for v in violations))
        places = [(p, n) for p, n, _, _ in violations]
        return failed(f"passwords are not (only) stored as salted slow hashes: {kinds} at "
                      f"{_where(places)}; use werkzeug.security.generate_password_hash or "
                      "bcrypt/argon2 and compare with check_password_hash",
                      *_evidence(project, places),
                      confidence=Confidence.HIGH if certain else Confidence.MEDIUM)
    if hashers:
        hashers.sort()
        return passed(f"passwords are hashed with a salted password hash at "
                      f"{_where(hashers)}", *_evidence(project, hashers, 5))
    extension = _hashing_extension(project)
    if extension is not None:
        path, line, name = extension
        return passed(f"{name} is used, which hashes passwords itself", at_line(project, path,
                                                                                   line),
                      confidence=Confidence.MEDIUM)
    return failed("no password hashing found: looked for generate_password_hash, bcrypt, argon2, "
                  "passlib, hashlib.pbkdf2_hmac/scrypt and Flask-Security in "
                  f"{len(project.python_files)} Python files", confidence=Confidence.MEDIUM)


def _password_violations(project: Project) -> list[tuple[str, int, str, bool]]:
    """(path, line, what, certain) for each password violation of the project. The project's
    password setters and model classes are only gathered when a place depends on them."""
    sites = [(path, site) for path, found in project.module_fact(_PASSWORD_SITES).items()
             for site in found]
    setters: set[str] = set()
    models: set[str] = set()
    if any(site.model or site.attributes for _path, site in sites):
        setters = _password_setters(project)
        if any(site.model for _path, site in sites):
            models = _model_classes(project)
    columns: Models | None = None
    hashed: set[str] | None = None
    result = []
    for path, site in sites:
        if site.owner:
            columns = find_models(project) if columns is None else columns
            if not _stored_column(columns, site.owner, site.attributes):
                continue
        if site.parameter:
            hashed = _built_with_hashes(project) if hashed is None else hashed
            if site.owner in hashed:
                continue
        found = site.applies(setters, models)
        if found is not None:
            result.append((path, site.line, *found))
    return result


def _hash_keywords(source: ParsedModule) -> tuple[str, ...]:
    """Names of the classes (or functions) the module calls with a password keyword given a
    hashing call: `User(password=generate_password_hash(p))`; none in tests."""
    index = source.index
    if is_test_path(index.path):
        return ()
    return tuple(dict.fromkeys(
        call.name.rpartition(".")[2] for call in index.calls
        if any(_stored_password_name(key) and value.kind is ValueKind.CALL and
               _is_hashing_call(value.name) for key, value in call.keywords)))


_HASH_KEYWORDS = module_fact(f"security.hash-keywords.{FACTS_VERSION}", _hash_keywords)


def _built_with_hashes(project: Project) -> set[str]:
    """The classes the project builds with a hashed password keyword (see `_hash_keywords`)."""
    return {name for names in project.module_fact(_HASH_KEYWORDS).values() for name in names}


def _stored_column(models: Models, owner: str, attributes: tuple[str, ...]) -> bool:
    """Whether one of `attributes` of class `owner` may be stored: it is a column of the model
    or of a model it derives from, or the class is not a model declaring columns."""
    lineage = set(models.lineage(owner))
    columns = {attribute for name, attribute in models.columns if name in lineage}
    return not columns or not columns.isdisjoint(attributes)


def _hashing_extension_import(source: ParsedModule) -> tuple[int, str] | None:
    """(line, package) of the module's first import of an extension that hashes passwords
    itself (test modules too)."""
    module = source.index
    if module_names(source).import_tops.isdisjoint(_HASHING_EXTENSIONS):
        return None
    for imported in module.imports:
        top = imported.module.partition(".")[0]
        if top in _HASHING_EXTENSIONS:
            return imported.line, top
    return None


_HASHING_EXTENSION = module_fact(f"security.hashing-extension.{FACTS_VERSION}",
                                 _hashing_extension_import)


def _hashing_extension(project: Project) -> tuple[str, int, str] | None:
    for path, found in project.module_fact(_HASHING_EXTENSION).items():
        if found is not None:
            return path, found[0], found[1]
    return None


def _model_classes(project: Project) -> set[str]:
    """Names of the project's ORM model classes (`db.Model`, `Base`, `DeclarativeBase`, and
    their subclasses)."""
    bases = config_bases(project)
    models = {name for name, parents in bases.items()
              if parents & {"Model", "DeclarativeBase", "Document", "Base", "BaseModel"}}
    changed = True
    while changed:
        changed = False
        for name, parents in bases.items():
            if name not in models and parents & models:
                models.add(name)
                changed = True
    return models


def _setters_of(source: ParsedModule) -> tuple[str, ...]:
    """Attribute names whose assignment runs code: `@password.setter`, `@validates("password")`,
    descriptors (`password = synonym(...)`), and `Name()` for classes with their own
    `__init__` (test modules too)."""
    module = source.index
    result: list[str] = []
    names = module_names(source)
    setters = "setter" in names.decorator_ends
    for function in module.functions:
        if setters:
            for decorator_name in function.decorators:
                if decorator_name.endswith(".setter"):
                    result.append(decorator_name.rpartition(".")[0].rpartition(".")[2])
        if function.name == "__init__" and function.class_name:
            result.append(function.class_name.rpartition(".")[2] + "()")
    if not names.call_ends.isdisjoint(_DESCRIPTORS):
        for assignment in module.assignments:
            if assignment.class_name and assignment.value.kind is ValueKind.CALL and \
                    assignment.value.name.rpartition(".")[2] in _DESCRIPTORS:
                result.append(assignment.target)
    if not any(end.endswith("validates") for end in names.decorator_ends):
        return tuple(result)
    for decorator in module.decorators:
        if decorator.name.endswith("validates") and decorator.call is not None:
            for value in decorator.call.args:
                if value.is_constant_text:
                    result.append(str(value.const))
    return tuple(result)


_PASSWORD_SETTERS = module_fact(f"security.password-setters.{FACTS_VERSION}", _setters_of)


def _password_setters(project: Project) -> set[str]:
    """Attribute names whose assignment runs code, and class names with their own `__init__`
    (see `_setters_of`)."""
    result: set[str] = set()
    for names in project.module_fact(_PASSWORD_SETTERS).values():
        result.update(names)
    return result


def _password_sites(source: ParsedModule) -> tuple[_PasswordSite, ...]:
    """The places of one module where a password is mishandled (see `_PasswordSite`); none in
    tests, or when no name or text of the module is about passwords."""
    parsed = _app_tree(source)
    if parsed is None or not parsed.says(_PASSWORD_NEEDLE, _PASSWORD_HINTS):
        return ()
    hash_objects: set[tuple[str | None, str]] = set()
    hashed_into: set[tuple[tuple[str, ...], str]] = set()
    for node, context in parsed.nodes():
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            called = parsed.name(node.value.func)
            for target in node.targets:
                if isinstance(target, ast.Name) and called in _FAST_HASHES:
                    hash_objects.add((context.function, target.id))
                elif isinstance(target, ast.Attribute) and context.classes and \
                        _is_hashing_call(called) and called not in _FAST_HASHES:
                    hashed_into.add((context.classes, target.attr))
    result = []
    for node, context in parsed.nodes():
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and \
                isinstance(node.value, ast.Name) and isinstance(node.targets[0], ast.Attribute) \
                and (context.classes, node.targets[0].attr) in hashed_into:
            continue  # a value the class hashes into this attribute itself elsewhere
        found = _password_violation(parsed, node, context, hash_objects)
        if found is not None:
            result.append(found._replace(line=getattr(node, "lineno", 1)))
    return tuple(result)


_PASSWORD_NEEDLE = re.compile(r"passw|pwd|passphrase|\bpw|_pw", re.IGNORECASE)
_PASSWORD_HINTS = ("pw", "passw", "passphrase")
"""What a module's words must mention to be read for password violations."""
_PASSWORD_SITES = module_fact(f"security.password-sites.3.{FACTS_VERSION}", _password_sites)


def _password_violation(parsed: Parsed, node: ast.AST, context: Context,
                        hash_objects: set[tuple[str | None, str]]) -> _PasswordSite | None:
    """The password violation at a node (its line is set by the caller)."""
    if isinstance(node, ast.Call):
        return _password_call(parsed, node, context, hash_objects)
    if isinstance(node, ast.Compare):
        return _site(_password_compare(node))
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and \
            _password_in_sql(node.value):
        return _PasswordSite(0, "password looked up in SQL (stored in clear or unsalted)", True)
    if isinstance(node, ast.Assign) and len(node.targets) == 1:
        target = node.targets[0]
        if isinstance(target, ast.Attribute) and _stored_password_name(target.attr) and \
                "hash" not in target.attr.lower() and \
                _from_user_input(parsed, node.value, context):
            owner = context.classes[-1].rpartition(".")[2] if context.classes and \
                isinstance(target.value, ast.Name) and target.value.id == "self" else ""
            parameter = bool(owner) and isinstance(node.value, ast.Name) and \
                (context.function or "").rpartition(".")[2] == "__init__"
            return _PasswordSite(0, "password stored as typed", False,
                                 attributes=(target.attr,), owner=owner, parameter=parameter)
    return None


def _site(found: tuple[str, bool] | None) -> _PasswordSite | None:
    return _PasswordSite(0, *found) if found is not None else None


def _password_call(parsed: Parsed, node: ast.Call, context: Context,
                   hash_objects: set[tuple[str | None, str]]) -> _PasswordSite | None:
    found = _password_call_kind(parsed, node, context, hash_objects)
    if found is not None:
        return _site(found)
    written = _password_written(parsed, node, context)
    name = parsed.name(node.func)
    last = name.rpartition(".")[2]
    typed = [k.arg for k in node.keywords
             if k.arg and _stored_password_name(k.arg) and "hash" not in k.arg.lower() and
             _from_user_input(parsed, k.value, context)]
    if last and typed:
        return _PasswordSite(0, "password stored as typed", False, model=last,
                             attributes=tuple(typed), otherwise=written)
    return _site(written)


def _password_call_kind(parsed: Parsed, node: ast.Call, context: Context,
                        hash_objects: set[tuple[str | None, str]]) -> tuple[str, bool] | None:
    """What a call does wrong with a password, whatever the project's models."""
    name = parsed.name(node.func)
    if name in _FAST_HASHES and any(_mentions_password(a) for a in
                                    (*node.args, *(k.value for k in node.keywords))):
        return f"fast hash {name}() over a password", True
    func = node.func
    if isinstance(func, ast.Attribute) and func.attr == "update" and \
            isinstance(func.value, ast.Name) and (context.function, func.value.id) in \
            hash_objects and any(_mentions_password(a) for a in node.args):
        return "fast hash .update() over a password", True
    if name.endswith("generate_password_hash"):
        method = _keyword(node, "method")
        if method is None and len(node.args) >= 2:
            method = node.args[1]
        text = _literal_text(method) if method is not None else None
        if text is not None and text.startswith("plain"):
            return "generate_password_hash(method='plain') stores the password in clear", True
        if text is not None and not text.startswith(("pbkdf2", "scrypt")):
            return f"generate_password_hash(method={text!r}) is one fast hash round", True
    if isinstance(func, ast.Attribute) and func.attr == "filter_by" and any(
            k.arg and _stored_password_name(k.arg) for k in node.keywords):
        return "query by password with filter_by() (stored in clear or unsalted)", True
    if name.rpartition(".")[2] == "compare_digest" and any(
            _stored_password(a) for a in node.args):
        return "stored password compared in clear", False
    return None


def _password_written(parsed: Parsed, node: ast.Call, context: Context
                      ) -> tuple[str, bool] | None:
    """`execute("INSERT ... password ...", (request.form["password"],))`."""
    func = node.func
    if isinstance(func, ast.Attribute) and func.attr in {"execute", "executemany"} and \
            len(node.args) >= 2:
        sql = _literal_text(node.args[0])
        params = node.args[1]
        values = params.elts if isinstance(params, ast.Tuple | ast.List) else \
            [v for v in params.values if v is not None] if isinstance(params, ast.Dict) else []
        if sql is not None and _PASSWORD_WRITE.search(sql) and any(
                _from_user_input(parsed, v, context) for v in values):
            return "password written to the database as typed", False
    return None


def _is_hashing_call(name: str) -> bool:
    """A known password hasher, or any function named like hashing (`hash_password`)."""
    last = name.rpartition(".")[2].lower()
    return _is_hasher(name) or any(word in last for word in ("hash", "crypt", "digest"))


def _password_in_sql(text: str) -> bool:
    """`... WHERE name = ? AND password = ?`: a password compared inside SQL."""
    where = _SQL_WHERE.search(text)
    return where is not None and _PASSWORD_EQUALS.search(text, where.end()) is not None


def _keyword(node: ast.Call, name: str) -> ast.expr | None:
    for keyword in node.keywords:
        if keyword.arg == name:
            return keyword.value
    return None


def _stored_password(node: ast.expr) -> bool:
    """`user.password`, `row["password"]`, `user.password_hash`: not a form or the request."""
    if isinstance(node, ast.Attribute):
        chain = _chain(node).lower()
        return _stored_password_name(node.attr) and not any(
            word in chain for word in ("form", "request", "args", "json", "data"))
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) and \
            isinstance(node.slice.value, str):
        chain = _chain(node.value).lower()
        return _stored_password_name(node.slice.value) and not any(
            word in chain for word in ("form", "request", "args", "json", "data"))
    return False


def _chain(node: ast.expr) -> str:
    parts: list[str] = []
    current: ast.expr = node
    while True:
        if isinstance(current, ast.Attribute):
            parts.append(current.attr)
            current = current.value
        elif isinstance(current, ast.Call):
            current = current.func
        elif isinstance(current, ast.Subscript):
            current = current.value
        else:
            if isinstance(current, ast.Name):
                parts.append(current.id)
            break
    return ".".join(reversed(parts))


def _password_compare(node: ast.Compare) -> tuple[str, bool] | None:
    if len(node.ops) != 1 or not isinstance(node.ops[0], ast.Eq | ast.NotEq):
        return None
    left, right = node.left, node.comparators[0]
    for stored, other in ((left, right), (right, left)):
        if _stored_password(stored) and not isinstance(other, ast.Constant) and \
                not _stored_password(other) and not isinstance(other, ast.Call):
            return "stored password compared in clear", False
    return None


def _from_user_input(parsed: Parsed, node: ast.expr, context: Context) -> bool:
    """The value is the password as typed: from the request, a form field
    (`form.password.data`), a string literal (a hard-coded password), or a local name or
    parameter called `password` that the function never hashes."""
    literal = _literal_text(node)
    if literal is not None:  # "*" or "!" marks an account without a password
        return any(character.isalnum() for character in literal)
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call) and _is_hashing_call(parsed.name(sub.func)):
            return False
    if isinstance(node, ast.Name) and is_password_name(node.id):
        return not any(
            a.target == node.id and a.function == context.function and
            a.value.kind is ValueKind.CALL and _is_hashing_call(a.value.name)
            for a in parsed.index.assignments)
    for sub in ast.walk(node):
        if isinstance(sub, _NAME_NODES) and \
                parsed.name(sub).startswith("flask.request"):
            return True
        if isinstance(sub, ast.Attribute) and sub.attr == "data" and \
                isinstance(sub.value, ast.Attribute) and is_password_name(sub.value.attr):
            return True
    return False


# --- CSRF ---------------------------------------------------------------------------------


_CSRF_CLASSES = frozenset({
    "flask_wtf.csrf.CSRFProtect", "flask_wtf.CSRFProtect", "flask_wtf.csrf.CsrfProtect",
    "flask_wtf.CsrfProtect", "flask_seasurf.SeaSurf", "flask.ext.seasurf.SeaSurf",
})
_FLASK_FORMS = frozenset({"flask_wtf.FlaskForm", "flask_wtf.Form", "flask_wtf.form.FlaskForm",
                          "flask_wtf.form.Form"})
_CSRF_NEEDLE = re.compile(r"WTF_CSRF|\bcsrf\s*=|[\"']csrf[\"']|\.exempt\b|\.protect\(")
"""What a Python `.cfg` file must say to be read for CSRF switches."""
_CSRF_WORDS = frozenset({"csrf", "protect", "exempt"})
_CSRF_SWITCH_WORD = re.compile("WTF_CSRF")
_CSRF_SWITCH_HINTS = ("wtf_csrf",)
"""A module is read for CSRF switches, exemptions and protect() calls when it has one of these
names or texts, or one with WTF_CSRF in it (`_CSRF_NEEDLE` in words)."""
_FORM_NEEDLE = re.compile(r"request|POST|methods|MethodView", re.IGNORECASE)
_FORM_HINTS = ("request", "post", "methods", "methodview")
"""What a module's words must mention to be read for form reads and routes."""
_FORM_WORDS = frozenset({"form", "files", "values", "methods", "post", "put", "patch",
                         "delete"})
_METHOD_VIEW = re.compile("MethodView")
_METHOD_VIEW_HINTS = ("methodview",)
"""A module reads forms or has routes that accept writes only with one of these names, or a
MethodView."""
_FORM_POST = re.compile(r"<form\b[^>]{0,400}?\bmethod\s*=\s*[\"']?post", re.IGNORECASE)
_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class _Instance(NamedTuple):
    """A module-level object made by a constructor: `csrf = CSRFProtect()` in app/ext.py."""

    module: str
    name: str
    path: str
    line: int
    initialised: bool


def _csrf_instances(source: ParsedModule) -> tuple[_Instance, ...]:
    """CSRFProtect (or SeaSurf) objects the module creates; `initialised` when the app is
    passed directly. None in tests (empty)."""
    index = source.index
    if module_names(source).calls.isdisjoint(_CSRF_CLASSES) or is_test_path(index.path):
        return ()
    targets = {(a.line, a.value.name): a.target for a in index.assignments
               if a.value.kind is ValueKind.CALL}
    result = []
    for call in index.calls:
        if call.name not in _CSRF_CLASSES:
            continue
        initialised = bool(call.args) or call.keyword("app") is not None
        target = targets.get((call.line, call.name), "")
        result.append(_Instance(index.module, target, index.path, call.line, initialised))
    return tuple(result)


_CSRF_INSTANCES = module_fact(f"security.csrf-instances.{FACTS_VERSION}", _csrf_instances)


def _init_app_receivers(source: ParsedModule) -> tuple[tuple[str, int, bool], ...]:
    """(receiver, line, direct) of each `x.init_app(...)` call of the module; `direct` when the
    receiver is a CSRF class or a name it is imported as (`CSRFProtect().init_app(app)`).
    None in tests (empty)."""
    index = source.index
    if "init_app" not in module_names(source).call_ends or is_test_path(index.path):
        return ()
    aliases = {i.alias for i in index.imports if i.qualified in _CSRF_CLASSES}
    result = []
    for call in index.calls:
        if not call.name.endswith(".init_app"):
            continue
        receiver = call.name[: -len(".init_app")]
        bare = receiver.removesuffix("()")
        result.append((receiver, call.line, bare in aliases or bare in _CSRF_CLASSES))
    return tuple(result)


_INIT_APP_CALLS = module_fact(f"security.init-app-calls.{FACTS_VERSION}", _init_app_receivers)


def _init_app_calls(project: Project, instances: list[_Instance]) -> list[tuple[str, int]]:
    """`x.init_app(app)` calls on one of `instances` (resolved through imports), or on a CSRF
    class directly."""
    keys_by_module: dict[str, set[str]] = {}
    qualified: set[str] = set()
    for instance in instances:
        if instance.name:
            keys_by_module.setdefault(instance.module, set()).add(instance.name)
            qualified.add(f"{instance.module}.{instance.name}")
    names = {i.name for i in instances if i.name and "." not in i.name}
    found: list[tuple[str, int]] = []
    for path, calls in project.module_fact(_INIT_APP_CALLS).items():
        if not calls:
            continue
        local = keys_by_module.get(module_name(path), set()) if keys_by_module else set()
        for receiver, line, direct in calls:
            if direct or receiver in local or receiver in qualified or \
                    receiver.rpartition(".")[2] in names:
                found.append((path, line))
    return found


def _form_classes_of(source: ParsedModule) -> tuple[tuple[int, str], ...]:
    """(line, name) of the module's classes built on FlaskForm; none in tests."""
    index = source.index
    if not index.classes or is_test_path(index.path):
        return ()
    return tuple((cls.line, cls.name) for cls in index.classes
                 if any(b in _FLASK_FORMS for b in cls.bases))


_FLASK_FORM_CLASSES = module_fact(f"security.flask-form-classes.{FACTS_VERSION}",
                                  _form_classes_of)


def _flask_form_classes(project: Project) -> list[tuple[str, int, str]]:
    return [(path, line, name) for path, classes in project.module_fact(_FLASK_FORM_CLASSES)
            .items() for line, name in classes]


def _form_library_import(source: ParsedModule) -> int | None:
    """The line of the module's first import of Flask-WTF (else of WTForms); none in tests."""
    index = source.index
    if module_names(source).import_tops.isdisjoint(("flask_wtf", "wtforms")) or \
            is_test_path(index.path):
        return None
    imported = index.imports_module("flask_wtf") or index.imports_module("wtforms")
    return imported.line if imported is not None else None


_FORM_LIBRARY = module_fact(f"security.form-library.{FACTS_VERSION}", _form_library_import)


@detector("handles_forms")
def handles_forms(project: Project) -> Finding:
    """Passes when the project takes form posts: Flask-WTF or WTForms imported, `request.form`
    / `request.files` / `request.values` read, a template with `<form method="post">`, or a
    route accepting POST, PUT, PATCH or DELETE (`methods=[...]`, `@app.post`, a MethodView with
    `post()`) in an app that keeps users in cookies (`flask.session`, Flask-Login,
    Flask-Security). A JSON API authenticated by header tokens only is not exposed to CSRF.
    Used as `applies_when` of security.csrf. Test files do not count."""
    places: list[tuple[str, int]] = []
    writes: list[tuple[str, int]] = []
    for path, line in project.module_fact(_FORM_LIBRARY).items():
        if line is not None:
            places.append((path, line))
    if not places:
        for path, found in project.module_fact(_FORM_PLACES).items():
            if found is None:
                continue
            places += [(path, line) for line in found.reads]
            writes += [(path, line) for line in found.writes]
            if places:
                break
    if not places:
        for path in files_of_kind(project, "template"):
            line = project.text_fact(f"security.form-post.{FACTS_VERSION}", path,
                                     partial(_first_line_matching, _FORM_POST))
            if line is not None:
                places.append((path, line))
                break
    if places:
        return passed(f"the project handles form posts: {_where(places)}",
                      *_evidence(project, places, 3))
    cookies = _cookie_auth(project)
    if writes and cookies is not None:
        return passed(f"routes accept POST/PUT/PATCH/DELETE ({_where(writes)}) and users are "
                      f"kept in cookies ({cookies[0]}:{cookies[1]})",
                      *_evidence(project, [*writes[:2], cookies], 3))
    return failed("no forms found: no Flask-WTF/WTForms, no request.form, no "
                  "<form method=\"post\"> in templates, and no route taking writes in an app "
                  "that keeps users in cookies")


_COOKIE_AUTH = ("flask_login", "flask_security", "flask_user", "flask_session")
_COOKIE_AUTH_TOPS = frozenset({*_COOKIE_AUTH, "flask"})


def _cookie_auth_import(source: ParsedModule) -> int | None:
    """The line of the module's first import that keeps users in cookies (`flask.session`,
    Flask-Login, Flask-Security); none in tests."""
    index = source.index
    if module_names(source).import_tops.isdisjoint(_COOKIE_AUTH_TOPS) or is_test_path(index.path):
        return None
    for imported in index.imports:
        if imported.qualified == "flask.session" or \
                imported.module.partition(".")[0] in _COOKIE_AUTH:
            return imported.line
    return None


_COOKIE_AUTH_IMPORT = module_fact(f"security.cookie-auth.{FACTS_VERSION}", _cookie_auth_import)


def _cookie_auth(project: Project) -> tuple[str, int] | None:
    """Where the app keeps users in cookies: `flask.session`, Flask-Login, Flask-Security."""
    for path, line in project.module_fact(_COOKIE_AUTH_IMPORT).items():
        if line is not None:
            return path, line
    return None


class _FormPlaces(NamedTuple):
    """Where one module reads forms and accepts writes."""

    reads: tuple[int, ...]
    """Lines reading `request.form`, `request.files` or `request.values`, in walk order."""
    writes: tuple[int, ...]
    """Lines of routes that accept POST, PUT, PATCH or DELETE, in walk order."""


def _form_places(source: ParsedModule) -> _FormPlaces | None:
    """Form reads (`request.form`) and routes that accept writes; None when the module has
    neither, and in tests."""
    parsed = _app_tree(source)
    if parsed is None or not parsed.says(_FORM_NEEDLE, _FORM_HINTS) or (
            parsed.words().names.isdisjoint(_FORM_WORDS) and
            not parsed.says(_METHOD_VIEW, _METHOD_VIEW_HINTS)):
        return None
    reads: list[int] = []
    writes: list[int] = []
    for node, _context in parsed.nodes():
        if isinstance(node, ast.Attribute) and node.attr in {"form", "files", "values"} and \
                parsed.name(node.value) == "flask.request":
            reads.append(node.lineno)
        elif isinstance(node, ast.Call) and _accepts_writes(node):
            writes.append(node.lineno)
        elif isinstance(node, FUNCTION_DEFS):
            for decorator in node.decorator_list:
                target = decorator.func if isinstance(decorator, ast.Call) else decorator
                if isinstance(target, ast.Attribute) and target.attr in {
                        "post", "put", "patch", "delete"} and isinstance(decorator, ast.Call):
                    writes.append(decorator.lineno)
        elif isinstance(node, ast.ClassDef) and any(
                parsed.name(b).endswith("MethodView") for b in node.bases):
            for statement in node.body:
                if isinstance(statement, ast.FunctionDef) and statement.name in {
                        "post", "put", "patch", "delete"}:
                    writes.append(statement.lineno)
    if not reads and not writes:
        return None
    return _FormPlaces(tuple(reads), tuple(writes))


_FORM_PLACES = module_fact(f"security.form-places.{FACTS_VERSION}", _form_places)


def _accepts_writes(node: ast.Call) -> bool:
    """`route(..., methods=["POST"])` or `add_url_rule(..., methods=(...))`."""
    if not isinstance(node.func, ast.Attribute) or node.func.attr not in {"route",
                                                                           "add_url_rule"}:
        return False
    methods = _route_methods(node)
    return methods is not None and not methods.isdisjoint(_WRITE_METHODS)


def _route_methods(node: ast.Call) -> frozenset[str] | None:
    """The methods a `route()` (or `add_url_rule()`) call names, upper case: None without
    `methods=`, and only the constant ones of a literal list, tuple or set."""
    methods = _keyword(node, "methods")
    if methods is None:
        return None
    if not isinstance(methods, ast.List | ast.Tuple | ast.Set):
        return frozenset()
    return frozenset(e.value.upper() for e in methods.elts
                     if isinstance(e, ast.Constant) and isinstance(e.value, str))


def _view_decorators(parsed: Parsed, node: ast.FunctionDef | ast.AsyncFunctionDef,
                     kinds: tuple[str, ...], left_out: ast.expr | None = None
                     ) -> tuple[list[ast.Call], tuple[str, ...]]:
    """A view's route decorators (`@x.route(...)`, or another of `kinds`: `@x.get(...)`) and
    the project-wide names of its other decorators (`left_out` aside)."""
    routes = [d for d in node.decorator_list if isinstance(d, ast.Call) and
              isinstance(d.func, ast.Attribute) and d.func.attr in kinds]
    others = tuple(_project_name(parsed, d.func if isinstance(d, ast.Call) else d)
                   for d in node.decorator_list if d is not left_out and d not in routes)
    return routes, others


@detector("csrf_protection")
def csrf_protection(project: Project) -> Finding:
    """Passes when CSRF protection is on: Flask-WTF `CSRFProtect` (or Flask-SeaSurf) initialised
    with the app (`CSRFProtect(app)` or `csrf.init_app(app)`, followed through imports), or
    forms built on `FlaskForm` (medium confidence when views also read `request.form` directly,
    which FlaskForm does not protect).

    Fails when neither is found, or when CSRF is turned off outside testing:
    `WTF_CSRF_ENABLED = False` (or `WTF_CSRF_CHECK_DEFAULT = False` without `csrf.protect()`) in
    a config class, `app.config`, `config.update()`, or `class Meta: csrf = False` /
    `meta={"csrf": False}` on a form. Testing config classes, test files and code under
    `if app.testing:` are fine; development-only settings fail with medium confidence.
    `csrf.exempt` uses are listed in the message and the evidence; an exempt view that takes
    writes and lets the request in on the login session (`@login_required`, a decorator of
    the project's checking `current_user.is_authenticated`, or that check in the view) fails
    with medium confidence: a forged request carries the session cookie too. So does a view
    routed for GET that deletes rows (`db.session.delete`, `query.filter_by(...).delete()`) or
    commits changes for the logged-in user (no CSRF token is checked on GET); a route taking
    a token (`/confirm/<token>`) is protected by it."""
    protect = [i for found in project.module_fact(_CSRF_INSTANCES).values() for i in found]
    initialised = [(i.path, i.line) for i in protect if i.initialised]
    initialised += _init_app_calls(project, [i for i in protect if not i.initialised])
    forms = _flask_form_classes(project)
    violations, exempt, protect_calls = _csrf_settings(project)
    if protect_calls:
        violations = [v for v in violations if not v[2].startswith("WTF_CSRF_CHECK_DEFAULT")]
    if violations:
        violations.sort()
        certain = any(v[3] for v in violations)
        places = [(p, n) for p, n, _, _ in violations]
        what = ", ".join(dict.fromkeys(v[2] for v in violations))
        return failed(f"CSRF protection is turned off: {what} at {_where(places)}",
                      *_evidence(project, places),
                      confidence=Confidence.HIGH if certain else Confidence.MEDIUM)
    exempt_note = ""
    exempt_evidence: list[Evidence] = []
    if exempt:
        exempt_note = f"; {len(exempt)} view(s) or blueprint(s) are exempt: {_where(exempt)}"
        exempt_evidence = _evidence(project, exempt)
    holes = _csrf_holes(project) if initialised or forms else []
    if holes:
        places = [(path, line) for path, line, _view, _what in holes]
        what = "; ".join(
            f"{kind} ({', '.join(dict.fromkeys(v for _p, _l, v, k in holes if k == kind))})"
            for kind in dict.fromkeys(kind for _p, _l, _v, kind in holes))
        return failed(f"CSRF protection is on, but {len(holes)} view(s) are open to forged "
                      f"requests: {what} at {_where(places)}. A link, an image or a form on "
                      "another site makes the browser send them with the login cookie; accept "
                      "changes only on POST (or DELETE) with the token, and authenticate "
                      "exempt views with a header or token", *_evidence(project, places),
                      confidence=Confidence.MEDIUM)
    if initialised:
        initialised.sort()
        return passed(f"CSRF protection (CSRFProtect) is initialised with the app at "
                      f"{_where(initialised)}{exempt_note}",
                      *_evidence(project, initialised, 3), *exempt_evidence)
    if forms:
        raw = _raw_form_reads(project)
        places = [(p, n) for p, n, _ in forms]
        if raw:
            return passed(f"forms use FlaskForm ({_where(places)}), which checks a CSRF token "
                          f"on validate_on_submit(); but request.form is also read directly at "
                          f"{_where(raw)}, which only CSRFProtect(app) would protect"
                          f"{exempt_note}", *_evidence(project, places, 3),
                          *_evidence(project, raw, 3), *exempt_evidence,
                          confidence=Confidence.MEDIUM)
        return passed(f"forms use FlaskForm, which checks a CSRF token: {_where(places)}"
                      f"{exempt_note}", *_evidence(project, places, 3), *exempt_evidence)
    custom = _custom_csrf_checks(project)
    if custom:
        return passed(f"a hand-written CSRF check compares a token kept in the session with "
                      f"the request at {_where(custom)}; prefer Flask-WTF's CSRFProtect",
                      *_evidence(project, custom, 3), confidence=Confidence.MEDIUM)
    created = [(i.path, i.line) for i in protect]
    if created:
        return failed(f"CSRFProtect() is created at {_where(created)} but never given the app "
                      "(no CSRFProtect(app) or csrf.init_app(app) was found); if it is "
                      "initialised another way, answer this item by hand",
                      *_evidence(project, created), confidence=Confidence.MEDIUM)
    return failed("no CSRF protection found: no CSRFProtect(app) / csrf.init_app(app) and no "
                  f"FlaskForm subclass in {len(project.python_files)} Python files")


_CSRF_SWITCHES = frozenset({"WTF_CSRF_ENABLED", "WTF_CSRF_CHECK_DEFAULT"})


class _CsrfModule(NamedTuple):
    """What one module says about CSRF switches."""

    class_values: tuple[tuple[str, str, bool], ...]
    """(config class, switch, whether the value is true) for switches set in class bodies."""
    switched_off: tuple[tuple[int, str, str | None, bool], ...]
    """(line, switch, config class or None, certain) where a switch is set false outside
    testing (certain: not development-only either)."""
    form_meta: tuple[tuple[int, str], ...]
    """(line, what) where a form turns its CSRF check off."""
    exempt: tuple[int, ...]
    protect_calls: bool
    exempt_views: tuple[ExemptView, ...] = ()
    """The functions decorated with `@csrf.exempt`."""


class ExemptView(NamedTuple):
    """A view function exempt from CSRF protection (`@csrf.exempt`)."""

    line: int
    """The line of its `@csrf.exempt`."""
    name: str
    writes: bool
    """It may accept a state-changing method: a route decorator names POST, PUT, PATCH or
    DELETE, or none of its decorators is a route (it is registered elsewhere)."""
    decorators: tuple[str, ...]
    """Its other decorators, by resolved name."""
    login_gate: bool
    """Its own code checks `current_user.is_authenticated` (or `is_anonymous`)."""


def _csrf_fact(source: ParsedModule) -> _CsrfModule | None:
    """What the module says about CSRF switches; None when nothing, and in tests."""
    parsed = _app_tree(source)
    if parsed is None:
        return None
    words = parsed.words()
    if words.names.isdisjoint(_CSRF_WORDS) and words.texts.isdisjoint(_CSRF_WORDS) and \
            not parsed.says(_CSRF_SWITCH_WORD, _CSRF_SWITCH_HINTS):
        return None
    return _csrf_module(parsed)


def _csrf_module(parsed: Parsed) -> _CsrfModule | None:
    class_values: list[tuple[str, str, bool]] = []
    switched_off: list[tuple[int, str, str | None, bool]] = []
    for setting in parsed.config_settings():
        if setting.key not in _CSRF_SWITCHES:
            continue
        if setting.owner is not None:
            class_values.append((setting.owner, setting.key, _truthy(setting.value)))
        if _falsy(setting.value) and not setting.context.testing:
            switched_off.append((setting.line, setting.key, setting.owner,
                                 not setting.context.not_production))
    form_meta: list[tuple[int, str]] = []
    exempt: list[int] = []
    exempt_views: list[ExemptView] = []
    protect_calls = False
    for node, context in parsed.nodes():
        if context.testing:
            continue
        if isinstance(node, ast.ClassDef) and node.name == "Meta":
            for statement in node.body:
                if isinstance(statement, ast.Assign) and any(
                        isinstance(t, ast.Name) and t.id == "csrf"
                        for t in statement.targets) and _falsy(statement.value):
                    form_meta.append((statement.lineno, "form Meta csrf = False"))
        elif isinstance(node, ast.Call):
            meta = _keyword(node, "meta")
            if isinstance(meta, ast.Dict) and any(
                    isinstance(k, ast.Constant) and k.value == "csrf" and _falsy(v)
                    for k, v in zip(meta.keys, meta.values, strict=True)):
                form_meta.append((node.lineno, "form meta csrf False"))
            if isinstance(node.func, ast.Attribute) and node.func.attr == "protect":
                protect_calls = True
            if isinstance(node.func, ast.Attribute) and node.func.attr == "exempt" and \
                    "csrf" in _chain(node.func.value).lower():
                exempt.append(node.lineno)
        elif isinstance(node, DEFINITIONS):
            for decorator in node.decorator_list:
                if isinstance(decorator, ast.Attribute) and decorator.attr == "exempt" and \
                        "csrf" in _chain(decorator.value).lower():
                    exempt.append(decorator.lineno)
                    if not isinstance(node, ast.ClassDef):
                        exempt_views.append(_exempt_view(parsed, node, decorator))
    if not (class_values or switched_off or form_meta or exempt or protect_calls):
        return None
    return _CsrfModule(tuple(class_values), tuple(switched_off), tuple(form_meta),
                       tuple(exempt), protect_calls, tuple(exempt_views))


def _exempt_view(parsed: Parsed, node: ast.FunctionDef | ast.AsyncFunctionDef,
                 exempt: ast.expr) -> ExemptView:
    routes, others = _view_decorators(parsed, node, ("route",), exempt)
    writes = not routes or any(_accepts_writes(route) for route in routes)
    return ExemptView(exempt.lineno, node.name, writes, others, _checks_login(parsed, node))


def _project_name(parsed: Parsed, node: ast.expr) -> str:
    """The project-wide name of what `node` names: through the imports, or in this module."""
    name = parsed.name(node)
    return name if "." in name else qualified_name(parsed.index.module, name)


_LOGIN_CHECKS = frozenset({"is_authenticated", "is_anonymous"})
_CURRENT_USERS = frozenset({"flask_login.current_user", "flask_login.utils.current_user",
                            "flask_security.current_user", "flask_user.current_user"})
_LOGIN_REQUIRED = frozenset({
    "flask_login.login_required", "flask_login.utils.login_required",
    "flask_security.login_required", "flask_security.decorators.login_required",
    "flask_user.login_required", "flask_user.decorators.login_required",
})
"""Decorators that let a request in on the login session (a cookie)."""


def _checks_login(parsed: Parsed, node: ast.AST) -> bool:
    """Whether the code under `node` checks `current_user.is_authenticated` (or
    `is_anonymous`): the login session, which the browser sends with every request."""
    return any(isinstance(sub, ast.Attribute) and sub.attr in _LOGIN_CHECKS and
               parsed.name(sub.value) in _CURRENT_USERS for sub in ast.walk(node))


def _login_gates(source: ParsedModule) -> tuple[str, ...]:
    """Project-wide names of the module's functions (decorators, mostly) that check
    `current_user.is_authenticated` or wrap with `login_required`: a view they decorate is let
    in on the login session."""
    parsed = _app_tree(source)
    if parsed is None:
        return ()
    names = parsed.words().names
    if names.isdisjoint(_LOGIN_CHECKS) and "login_required" not in names:
        return ()
    module = parsed.index.module
    return tuple(
        qualified_name(module, node.name) for node in parsed.tree.body
        if isinstance(node, FUNCTION_DEFS) and (
            _checks_login(parsed, node) or any(
                isinstance(sub, ast.Call) and parsed.name(sub.func) in _LOGIN_REQUIRED
                for sub in ast.walk(node))))


_LOGIN_GATES = module_fact(f"security.login-gates.{FACTS_VERSION}", _login_gates)


class GetWrite(NamedTuple):
    """A view routed for GET that changes data."""

    line: int
    name: str
    deletes: bool
    """It deletes rows (`db.session.delete(...)`, `Model.query.filter_by(...).delete()`)."""
    decorators: tuple[str, ...]
    """Its decorators other than routes, by project-wide name (see `_session_exempt_views`)."""
    current_user: bool
    """Its code reads `current_user`: the user the login session cookie names."""


def _get_writes(source: ParsedModule) -> tuple[GetWrite, ...]:
    """The module's views that answer GET and delete rows or commit changes, outside a branch
    for form posts: a link or an image on another site makes the browser send that GET, and
    no CSRF token is checked on GET. Views whose route takes a token (`/confirm/<token>`) are
    left out: the token in the link is their protection. None in tests, or when the module
    has no route or no write."""
    parsed = _app_tree(source)
    if parsed is None:
        return ()
    names = parsed.words().names
    if names.isdisjoint({"delete", "commit"}) or names.isdisjoint({"route", "get"}):
        return ()
    found = []
    for node, _context in parsed.nodes():
        if not isinstance(node, FUNCTION_DEFS) or not _answers_get(node) or \
                _route_takes_token(node):
            continue
        deletes, commits = _writes_rows(parsed, node)
        if deletes or commits:
            _routes, decorators = _view_decorators(parsed, node, ("route", "get"))
            reads_user = any(isinstance(sub, ast.Name | ast.Attribute) and
                             parsed.name(sub) in _CURRENT_USERS for sub in ast.walk(node))
            found.append(GetWrite(node.lineno, node.name, deletes, decorators, reads_user))
    return tuple(found)


def _route_takes_token(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    return any(isinstance(d, ast.Call) and d.args and isinstance(d.args[0], ast.Constant) and
               isinstance(d.args[0].value, str) and "token" in d.args[0].value.lower()
               for d in node.decorator_list)


def _answers_get(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """A view routed for GET: `@x.route(...)` without methods (GET is the default) or with
    GET among them, or `@x.get(...)`."""
    for decorator in node.decorator_list:
        if not isinstance(decorator, ast.Call) or not isinstance(decorator.func, ast.Attribute):
            continue
        if decorator.func.attr == "get" and decorator.args:
            return True
        if decorator.func.attr == "route":
            methods = _route_methods(decorator)
            if methods is None or "GET" in methods:
                return True
    return False


def _writes_rows(parsed: Parsed, node: ast.FunctionDef | ast.AsyncFunctionDef
                 ) -> tuple[bool, bool]:
    """(deletes rows, commits) for the view's code outside a branch taken for a form post only
    (`if request.method == "POST":`, `if form.validate_on_submit():`)."""
    deletes = commits = False
    pending: list[ast.AST] = list(node.body)
    while pending:
        current = pending.pop()
        if isinstance(current, ast.If) and _posted_only(parsed, current.test):
            pending.extend(current.orelse)
            continue
        if isinstance(current, (*FUNCTION_DEFS, ast.ClassDef, ast.Lambda)):
            continue
        pending.extend(ast.iter_child_nodes(current))
        if not isinstance(current, ast.Call):
            continue
        func = current.func
        if not isinstance(func, ast.Attribute):
            continue
        receiver = _chain(func.value)
        if func.attr == "commit" and receiver.endswith("session"):
            commits = True
        elif func.attr == "delete" and (
                (receiver.endswith("session") and current.args
                 and not parsed.name(func.value).startswith("flask."))
                or any(part in receiver.split(".") for part in ("query", "filter", "filter_by"))):
            deletes = True
    return deletes, commits


def _posted_only(parsed: Parsed, test: ast.expr) -> bool:
    """`request.method == "POST"` (or another write method) or `form.validate_on_submit()`."""
    for sub in ast.walk(test):
        if isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute) and \
                sub.func.attr in ("validate_on_submit", "is_submitted"):
            return True
        if isinstance(sub, ast.Compare) and isinstance(sub.left, ast.Attribute) and \
                sub.left.attr == "method" and parsed.name(sub.left.value) == "flask.request" \
                and isinstance(sub.ops[0], ast.Eq | ast.In) and any(
                    isinstance(c, ast.Constant) and isinstance(c.value, str)
                    and c.value.upper() in _WRITE_METHODS for c in ast.walk(sub.comparators[0])):
            return True
    return False


_GET_WRITES = module_fact(f"security.get-writes.{FACTS_VERSION}", _get_writes)


def _get_writes_found(project: Project) -> list[tuple[str, int, str]]:
    """(path, line, view) of the views that change data on GET: any that deletes rows, and
    those named for an action (`follow`, `moderate_enable`) committing changes for the user
    of the login session (`@login_required`, a decorator of the project's checking
    `current_user.is_authenticated`, or `current_user` read in the view)."""
    views = [(path, view) for path, found in project.module_fact(_GET_WRITES).items()
             for view in found]
    if not views:
        return []
    gates = _login_gates_of(project)
    return sorted((path, view.line, view.name) for path, view in views
                  if view.deletes or (words(view.name) & _ACTION_WORDS and (
                      view.current_user or not gates.isdisjoint(view.decorators))))


_ACTION_WORDS = frozenset({
    "follow", "unfollow", "enable", "disable", "approve", "reject", "delete", "remove", "ban",
    "unban", "block", "unblock", "activate", "deactivate", "moderate", "like", "unlike", "vote",
    "upvote", "downvote", "toggle", "publish", "unpublish", "archive", "promote", "demote",
    "subscribe", "unsubscribe", "revoke", "grant", "kick", "invite", "accept", "decline",
    "cancel", "lock", "unlock", "pin", "unpin", "star", "unstar", "join", "leave", "hide",
})
"""Words naming an action in a view's name (`follow`, `moderate_disable`): a GET view so named
that commits a change is a state change a link can trigger. Page views that keep bookkeeping
(marking messages read) are not so named."""


def _csrf_holes(project: Project) -> list[tuple[str, int, str, str]]:
    """(path, line, view, what) of the views a forged request reaches while CSRF protection is
    on: views changing data on GET, and exempt views let in on the login session."""
    holes = [(*found, "changes data on a GET request") for found in _get_writes_found(project)]
    holes += [(*found, "exempt from CSRF protection, takes writes and lets the login session "
                       "in") for found in _session_exempt_views(project)]
    return sorted(holes)


def _session_exempt_views(project: Project) -> list[tuple[str, int, str]]:
    """(path, line, view) of the views exempt from CSRF protection that accept a
    state-changing method and let the request in on the login session: `@login_required`,
    a decorator of the project's that checks `current_user.is_authenticated`, or such a
    check in the view itself. The browser sends that session cookie with a forged request
    too. Views authenticated by a header or token are fine exempt."""
    views = [(path, view) for path, fact in modules_with(project, _CSRF_MODULES)
             for view in fact.exempt_views if view.writes]
    if not views:
        return []
    gates = _login_gates_of(project)
    return sorted((path, view.line, view.name) for path, view in views
                  if view.login_gate or not gates.isdisjoint(view.decorators))


def _login_gates_of(project: Project) -> frozenset[str]:
    """Decorators that let a request in on the login session: the extensions' and the
    project's own (see `_login_gates`)."""
    return _LOGIN_REQUIRED | {name for found in project.module_fact(_LOGIN_GATES).values()
                              for name in found}


_CSRF_MODULES = module_fact(f"security.csrf-module.2.{FACTS_VERSION}", _csrf_fact)


def _csrf_settings(project: Project) -> tuple[list[tuple[str, int, str, bool]],
                                              list[tuple[str, int]], bool]:
    """CSRF turned off (path, line, what, certain), exempt uses, and csrf.protect() calls."""
    facts = modules_with(project, _CSRF_MODULES)
    facts += config_files(project, _CSRF_NEEDLE, "security.csrf-config-file.2",
                          _csrf_module)
    classes: ConfigClasses[bool] = ConfigClasses()
    if any(owner for _path, fact in facts for _line, _key, owner, _certain in fact.switched_off):
        classes.bases = config_bases(project)
    for _path, fact in facts:
        for config_class, switch, truthy in fact.class_values:
            classes.add_value(config_class, switch, truthy)
    violations: list[tuple[str, int, str, bool]] = []
    exempt: list[tuple[str, int]] = []
    protect_calls = False
    for path, fact in facts:
        for line, key, owner, certain in fact.switched_off:
            if owner and classes.overridden(owner.rpartition(".")[2], key, bool):
                continue
            violations.append((path, line, f"{key} = False", certain))
        violations += [(path, line, what, True) for line, what in fact.form_meta]
        exempt += [(path, line) for line in fact.exempt]
        protect_calls = protect_calls or fact.protect_calls
    return violations, sorted(set(exempt)), protect_calls


def _custom_csrf_checks(project: Project) -> list[tuple[str, int]]:
    """`if session["nonce"] != request.form.get("nonce"): abort(403)` and
    `compare_digest(session[...], request.headers[...])`: a token kept in the session compared
    with one sent in the request."""
    return sorted({(path, line) for path, lines in project.module_fact(_TOKEN_CHECKS).items()
                   for line in lines})


def _token_checks(source: ParsedModule) -> tuple[int, ...]:
    """Lines of one module comparing a session value with a request value; none in tests and
    in modules that do not import both from flask."""
    index = source.index
    parsed = _app_tree(source)
    if parsed is None or "flask" not in module_names(source).import_tops or \
            index.imports_module("flask") is None:
        return ()
    names = parsed.words().names
    if not {"session", "request"} <= names or not _may_name(parsed, "flask.session") or \
            not _may_name(parsed, "flask.request"):
        return ()
    digests = "compare_digest" in names or any(
        bound.endswith(".compare_digest") for bound in parsed.resolver.aliases.values())
    lines: list[int] = []
    for node, _context in parsed.nodes():
        if type(node) is ast.Compare and len(node.ops) == 1 and \
                isinstance(node.ops[0], ast.Eq | ast.NotEq):
            sides = [node.left, node.comparators[0]]
        elif digests and type(node) is ast.Call and \
                parsed.name(node.func).rpartition(".")[2] == "compare_digest":
            sides = list(node.args[:2])
        else:
            continue
        sources = {_source(parsed, side) for side in sides}
        if sources == {"flask.session", "flask.request"}:
            lines.append(node.lineno)
    return tuple(lines)


_TOKEN_CHECKS = module_fact(f"security.token-checks.{FACTS_VERSION}", _token_checks)


def _may_name(parsed: Parsed, target: str) -> bool:
    """Whether a name of the module may resolve to `target` (`flask.session`) or to something
    inside it: an import binds a name to it, to something inside it or to its package
    (`flask`), or the package's name is used without an import binding it."""
    package = target.rpartition(".")[0]
    aliases = parsed.resolver.aliases
    if package not in aliases and package in parsed.words().names:
        return True
    return any(bound in (package, target) or bound.startswith(target + ".")
               for bound in aliases.values())


def _source(parsed: Parsed, node: ast.expr) -> str:
    """`flask.session` or `flask.request` when the expression reads one of them."""
    for sub in ast.walk(node):
        if isinstance(sub, _NAME_NODES):
            name = parsed.name(sub)
            for source in ("flask.session", "flask.request"):
                if name == source or name.startswith(source + "."):
                    return source
    return ""


def _raw_form_reads(project: Project) -> list[tuple[str, int]]:
    """Where `request.form`, `request.files` or `request.values` is read (not in tests)."""
    return sorted({(path, line) for path, found in project.module_fact(_FORM_PLACES).items()
                   if found is not None for line in found.reads})


# --- SQL injection --------------------------------------------------------------------------


_SQL_LIBRARIES = {
    "sqlite3": "sqlite3", "sqlalchemy": "sqlalchemy", "flask_sqlalchemy": "flask-sqlalchemy",
    "sqlmodel": "sqlmodel", "psycopg2": "psycopg2", "psycopg": "psycopg", "pymysql": "pymysql",
    "MySQLdb": "mysqlclient", "mysql": "mysql-connector-python", "asyncpg": "asyncpg",
    "aiosqlite": "aiosqlite", "peewee": "peewee", "pony": "pony",
    "cx_Oracle": "cx-oracle", "oracledb": "oracledb", "pyodbc": "pyodbc",
    "pymssql": "pymssql", "duckdb": "duckdb",
    "flask_mysqldb": "flask-mysqldb", "flaskext": "flask-mysql", "pg8000": "pg8000",
    "aiomysql": "aiomysql", "aiopg": "aiopg", "tortoise": "tortoise-orm",
}
_SQL_DEPENDENCIES = frozenset({
    *_SQL_LIBRARIES.values(), "records", "dataset", "databases", "psycopg2-binary",
    "psycopg-binary", "flask-sqlalchemy-lite", "mysql-connector", "flask-peewee", "pysqlite3",
})


@detector("uses_sql_database")
def uses_sql_database(project: Project) -> Finding:
    """Passes when the project uses an SQL database: a database driver or ORM (sqlite3,
    SQLAlchemy, Flask-SQLAlchemy, psycopg, PyMySQL, peewee, ...) is imported or declared as a
    dependency. Used as `applies_when` of security.no-sql-injection."""
    for path, found in project.module_fact(_SQL_IMPORT).items():
        if found is not None:
            qualified, line = found
            return passed(f"{path} imports {qualified}", at_line(project, path, line))
    for dependency in project.dependencies():
        if dependency.name in _SQL_DEPENDENCIES:
            return passed(f"{dependency.name} is declared in {dependency.path}",
                          at_line(project, dependency.path, dependency.line))
    return failed("no SQL database library is imported or declared (sqlite3, SQLAlchemy, "
                  "psycopg, PyMySQL, peewee, ...)")


def _sql_import(source: ParsedModule) -> tuple[str, int] | None:
    """(qualified name, line) of the module's first import of an SQL driver or ORM (test
    modules too)."""
    index = source.index
    if module_names(source).import_tops.isdisjoint(_SQL_LIBRARIES):  # most modules stop here
        return None
    for imported in index.imports:
        top = imported.module.partition(".")[0]
        if top in _SQL_LIBRARIES and (top not in {"flaskext", "pony"}
                                      or imported.qualified.startswith(("flaskext.mysql",
                                                                        "pony.orm"))):
            return imported.qualified, imported.line
    return None


_SQL_IMPORT = module_fact(f"security.sql-import.{FACTS_VERSION}", _sql_import)


_BUILT_VALUES = {ValueKind.FSTRING: "f-string", ValueKind.CONCAT: "concatenation",
                 ValueKind.PERCENT: "%-formatting", ValueKind.FORMAT: ".format()"}
_BUILT_KINDS = tuple(_BUILT_VALUES)
"""The kinds of `_BUILT_VALUES`, as a tuple: testing a kind against it compares without
hashing (an enum member hashes slowly)."""
_SQL_CALL_NAMES = frozenset({"execute", "executemany", "executescript", "exec_driver_sql",
                             "execute_sql", "text", "read_sql", "read_sql_query",
                             "literal_column", "raw", "fetch", "fetchrow", "fetchval"})


@detector("no_sql_injection")
def no_sql_injection(project: Project) -> Finding:
    """Fails when SQL text built by concatenation, %-formatting, `.format()`, `str.join()` or an
    f-string with non-constant parts reaches `execute()` / `executemany()` /
    `executescript()` / `exec_driver_sql()`, sqlalchemy `text()` / `literal_column()`, a string
    filter (`Model.query.filter("...")`, `order_by`, `where`), pandas `read_sql()` or
    psycopg `sql.SQL()`: directly or through local variables of the same function, and through
    functions that pass their argument to such a call (`query_db(f"...")`, also across modules).

    Constant strings, names assigned only constants, ALL_CAPS constants, numbers (`int(x)`, `%d`),
    placeholders built from constants (`", ".join("?" * n)`), loops over constant lists and
    look-ups in constant dictionaries are fine, as are bound parameters. Evidence: every site,
    and the line that builds the text when it is not the line that runs it.
    Passes (saying how many SQL calls were checked) when there is none. Test files are not
    checked. Calls that reach SQL only through another module's local variables are not seen."""
    sites: list[tuple[str, int, str, str, bool]] = []
    wrappers: dict[str, tuple[int, str, str]] = {}
    built: set[tuple[str, int, int]] = set()
    checked = 0
    facts = modules_with(project, _SQL_MODULES)
    for _path, fact in facts:
        for function, position, parameter, sink in fact.wrappers:
            wrappers[function] = (position, parameter, sink)
    for path, fact in facts:
        checked += fact.checked
        for call in fact.calls:
            wrapper = wrappers.get(call.name)
            if wrapper is None:
                continue
            position, parameter, _sink = wrapper
            construction = call.built_at(position, parameter)
            if construction is not None:
                sites.append((path, call.line, call.name, construction, False))
        for line, sink, construction, request_data, built_line in fact.sites:
            sites.append((path, line, sink, construction, request_data))
            if built_line and built_line != line:
                built.add((path, line, built_line))
    if sites:
        sites.sort()
        places = [(p, n) for p, n, _, _, _ in sites]
        # Where the text is built, beside where it is run, when the two differ.
        shown = sorted({*places, *((p, b) for p, _n, b in built)})
        kinds = ", ".join(dict.fromkeys(c for _, _, _, c, _ in sites))
        request = sum(1 for s in sites if s[4])
        note = f" ({request} with request data)" if request else ""
        return failed(f"{len(sites)} SQL statement(s) built with {kinds} reach the database"
                      f"{note}: {_where(places)}; pass values as bound parameters "
                      "(text(\"... :name\"), execute(sql, params)) instead",
                      *_evidence(project, shown, MAX_SQL_EVIDENCE))
    return none_found(project, f"no SQL built by concatenation, %-formatting, .format() or "
                      f"f-strings reaches the database: {checked} SQL call(s) checked in "
                      f"{len(project.python_files)} Python files (test files skipped)")


class _BuiltArguments(NamedTuple):
    """A call that passes text built by formatting: it builds SQL when the function it calls
    passes that argument to the database (a wrapper, see `_SqlModule.wrappers`)."""

    name: str
    line: int
    positional: int
    """How many positional arguments the call passes."""
    built: tuple[tuple[int, str], ...]
    """(position, construction) of each positional argument built by formatting."""
    built_keywords: tuple[tuple[str, str], ...]
    """(name, construction) of each keyword argument built by formatting."""

    def built_at(self, position: int, parameter: str) -> str | None:
        """How the argument for a parameter (at `position`, or named) is built, if it is."""
        if position < self.positional:
            return dict(self.built).get(position)
        return dict(self.built_keywords).get(parameter)


class _SqlModule(NamedTuple):
    """What one module holds about SQL."""

    wrappers: tuple[tuple[str, int, str, str], ...]
    """(function, parameter position, parameter, sink) of functions that pass a parameter to
    the database as SQL (test modules too)."""
    checked: int
    """How many SQL calls the module makes."""
    sites: tuple[tuple[int, str, str, bool, int], ...]
    """(line, sink, construction, request data, line where built) of SQL built by formatting
    that reaches the database."""
    calls: tuple[_BuiltArguments, ...]
    """Calls to other modules' functions that pass text built by formatting."""


def _sql_module(source: ParsedModule) -> _SqlModule | None:
    """See `_SqlModule`; in tests only the wrappers. None when the module has nothing."""
    index = source.index
    wrappers = tuple((f"{index.module}.{site.function}", site.parameter_index, site.parameter,
                      site.sink) for site in index.sql_sites
                     if site.kind is SiteKind.PARAMETER and site.function)
    checked = 0
    sites: list[tuple[int, str, str, bool, int]] = []
    calls: list[_BuiltArguments] = []
    if not is_test_path(index.path):
        if not module_names(source).call_ends.isdisjoint(_SQL_CALL_NAMES):
            checked = sum(1 for call in index.calls
                          if call.name.rpartition(".")[2] in _SQL_CALL_NAMES)
        own = index.module + "."
        for call in index.calls:
            if (call.args or call.keywords) and _passes_built_text(call) and \
                    not call.name.startswith(own):
                calls.append(_BuiltArguments(
                    call.name, call.line, len(call.args),
                    tuple((n, _BUILT_VALUES[v.kind]) for n, v in enumerate(call.args)
                          if v.kind in _BUILT_KINDS),
                    tuple((k, _BUILT_VALUES[v.kind]) for k, v in call.keywords
                          if v.kind in _BUILT_KINDS)))
        sites = [(site.line, site.sink, site.construction, site.request_data, site.built_line)
                 for site in index.sql_sites if site.kind is SiteKind.BUILT]
    if not (wrappers or checked or sites or calls):
        return None
    return _SqlModule(wrappers, checked, tuple(sites), tuple(calls))


def _passes_built_text(call: Call) -> bool:
    """Whether one of the call's arguments is text built by formatting (`_BUILT_VALUES`)."""
    for value in call.args:
        if value.kind in _BUILT_KINDS:
            return True
    for _key, value in call.keywords:
        if value.kind in _BUILT_KINDS:
            return True
    return False


_SQL_MODULES = module_fact(f"security.sql-module.{FACTS_VERSION}", _sql_module)


# --- HTTPS ------------------------------------------------------------------------------------


_HTTPS_NEEDLE = re.compile(r"_COOKIE_SECURE|PREFERRED_URL_SCHEME|ssl_context|certfile|"
                           r"(?i:strict-transport-security)")
_HTTPS_HINTS = ("_cookie_secure", "preferred_url_scheme", "ssl_context", "certfile",
                "strict-transport-security")
_HTTPS_CALLS = {"flask_talisman.Talisman": "Flask-Talisman",
                "flask_talisman.talisman.Talisman": "Flask-Talisman",
                "flask_sslify.SSLify": "Flask-SSLify"}
_HSTS = "strict-transport-security"


class _TextRule(NamedTuple):
    """A line pattern in deployment files that shows HTTPS is served."""

    kinds: tuple[str, ...]
    """Which files it reads (see `file_kinds`)."""
    pattern: re.Pattern[str]
    what: str
    certain: bool
    requires: re.Pattern[str] | None = None
    """Another pattern the same file must contain."""


_WEB_SERVER_FILES = ("web-server",)
_DEPLOY_FILES = ("deploy",)
_TEXT_RULES = (
    _TextRule(_WEB_SERVER_FILES, re.compile(r"^\s*listen\s+[^;#\n]*\bssl\b", re.M),
              "a web server listens with TLS", True),
    _TextRule(_WEB_SERVER_FILES, re.compile(r"^\s*ssl_certificate\s", re.M),
              "a web server has a TLS certificate", True),
    _TextRule(_WEB_SERVER_FILES, re.compile(r"^\s*SSLEngine\s+on\b", re.M | re.I),
              "Apache has SSLEngine on", True),
    _TextRule(_WEB_SERVER_FILES, re.compile(r"^\s*return\s+30[18]\s+https://", re.M),
              "the web server redirects to HTTPS", True),
    _TextRule((*_WEB_SERVER_FILES, *_DEPLOY_FILES),
              re.compile(r"Strict-Transport-Security", re.I), "an HSTS header is set", True),
    _TextRule(("config-template",), re.compile(
        r"^\s*(?:SESSION_COOKIE_SECURE|REMEMBER_COOKIE_SECURE)\s*=\s*(?:True\b|\{)|"
        r"^\s*PREFERRED_URL_SCHEME\s*=\s*(?:[\"']https|\{)", re.M),
        "a configuration template for deployments sets secure cookies or https", False),
    _TextRule(("caddy",), re.compile(
        r"^\s*(?:https://)?[a-z0-9-]+(?:\.[a-z0-9-]+)+(?::\d+)?\s*(?:,|\{|$)", re.M | re.I),
        "Caddy serves a host name (with automatic HTTPS)", False),
    _TextRule(_DEPLOY_FILES, re.compile(r"--certfile\b|^\s*certfile\s*=", re.M),
              "gunicorn is given a TLS certificate", True),
    _TextRule(_DEPLOY_FILES, re.compile(r"\bcertbot\b"), "certbot obtains certificates", False),
    _TextRule(_DEPLOY_FILES, re.compile(r"certresolver|\.tls\s*[=:]\s*[\"']?true|websecure",
                                        re.I),
              "traefik serves TLS", False, re.compile(r"traefik", re.I)),
    _TextRule(_DEPLOY_FILES, re.compile(r"^\s*tls:\s*$", re.M), "a Kubernetes Ingress has TLS",
              False, re.compile(r"^kind:\s*Ingress\b", re.M)),
    _TextRule(("fly",), re.compile(r"^\s*force_https\s*=\s*true", re.M),
              "Fly.io forces HTTPS", True),
    _TextRule(("app-engine",), re.compile(r"^\s*secure:\s*always", re.M),
              "App Engine requires HTTPS", True),
)


@detector("https_configured")
def https_configured(project: Project) -> Finding:
    """Passes when the repository shows the app is served over HTTPS: Flask-Talisman or
    Flask-SSLify, `SESSION_COOKIE_SECURE` / `REMEMBER_COOKIE_SECURE = True` outside development
    and testing, a `Strict-Transport-Security` header, nginx/Apache TLS config (`listen 443 ssl`,
    `ssl_certificate`), gunicorn `--certfile`, fly.toml `force_https`, App Engine
    `secure: always` (high confidence); `PREFERRED_URL_SCHEME = "https"`, `ssl_context` on the
    development server, the application's own redirect (`redirect(request.url.replace("http://",
    "https://"))`), a Caddyfile, certbot, traefik TLS or a Kubernetes Ingress with TLS
    (medium confidence).

    When nothing is found it fails with medium confidence: HTTPS is often terminated outside the
    repository (a load balancer, a platform), so the item can be answered by hand."""
    certain: list[tuple[str, int, str]] = []
    likely: list[tuple[str, int, str]] = []
    found_in_python = [*project.module_fact(_HTTPS_PLACES).items(),
                       *config_files(project, _HTTPS_NEEDLE, "security.https-config-file",
                                     _https_settings)]
    for path, in_module in found_in_python:
        for line, what, sure in in_module:
            (certain if sure else likely).append((path, line, what))
    for path in project.files:
        if path.endswith(".py") or is_test_path(path):
            continue
        kinds = file_kinds(path)
        rules = tuple(n for n, r in enumerate(_TEXT_RULES) if kinds.intersection(r.kinds))
        if not rules:
            continue
        kind = f"security.https-text.{FACTS_VERSION}:{rules}"
        for line, what, sure in project.text_fact(kind, path,
                                                  partial(_https_text, rules)) or ():
            (certain if sure else likely).append((path, line, what))
    for found, confidence in ((certain, Confidence.HIGH), (likely, Confidence.MEDIUM)):
        if found:
            found.sort()
            what = ", ".join(dict.fromkeys(w for _, _, w in found))
            places = [(p, n) for p, n, _ in found]
            return passed(f"HTTPS: {what} ({_where(places)})", *_evidence(project, places, 5),
                          confidence=confidence)
    return failed("no HTTPS configuration found in the repository (Flask-Talisman, secure "
                  "cookies, HSTS, TLS in nginx/Apache/Caddy/traefik, certbot); HTTPS is often "
                  "terminated outside the repository (a load balancer or the hosting platform), "
                  "so this can be answered by hand", confidence=Confidence.MEDIUM)


def _https_text(rules: tuple[int, ...], text: str) -> tuple[tuple[int, str, bool], ...]:
    """(line, what, certain) for each of the text rules (by position) that a file matches."""
    found = []
    for number in rules:
        rule = _TEXT_RULES[number]
        if rule.requires is not None and not rule.requires.search(text):
            continue
        match = rule.pattern.search(text)
        if match:
            found.append((text.count("\n", 0, match.start()) + 1, rule.what, rule.certain))
    return tuple(found)


def _https_places(source: ParsedModule) -> tuple[tuple[int, str, bool], ...]:
    """(line, what, certain) where the module shows HTTPS is served: Flask-Talisman or
    Flask-SSLify (not certain with `force_https=False`), and what `_https_settings` finds when
    its words mention HTTPS settings. None in tests (empty)."""
    index = source.index
    if is_test_path(index.path):
        return ()
    result: list[tuple[int, str, bool]] = []
    for call in index.calls if not module_names(source).calls.isdisjoint(_HTTPS_CALLS) else ():
        what = _HTTPS_CALLS.get(call.name)
        if what is not None:
            force = call.keyword("force_https")
            weak = force is not None and force.kind is ValueKind.CONST and not force.const
            result.append((call.line, what, not weak))
    result += _https_redirects(index)
    parsed = _app_tree(source)
    if parsed is not None and parsed.says(_HTTPS_NEEDLE, _HTTPS_HINTS):
        result += _https_settings(parsed)
    return tuple(result)


def _https_redirects(index: ModuleIndex) -> list[tuple[int, str, bool]]:
    """The application's own redirect to HTTPS: a function that calls `redirect()` with the
    request URL rewritten by `.replace("http://", "https://")` (usually a `before_request`
    hook)."""
    if "https://" not in index.texts:
        return []
    redirecting = {c.function for c in index.calls if c.name in _REDIRECTS}
    return [(call.line, "the application redirects http to https", False)
            for call in index.calls
            if call.function in redirecting and call.name.endswith(".replace")
            and len(call.args) >= 2 and call.args[0].const == "http://"
            and call.args[1].const == "https://"]


_REDIRECTS = frozenset({"flask.redirect", "flask.helpers.redirect", "werkzeug.utils.redirect"})


def _https_settings(parsed: Parsed) -> tuple[tuple[int, str, bool], ...]:
    """(line, what, certain) for secure cookies, an https URL scheme, a gunicorn certificate, an
    HSTS header and a development server with `ssl_context`, outside development and
    testing."""
    result: list[tuple[int, str, bool]] = []
    for setting in parsed.config_settings():
        if setting.context.not_production:
            continue
        if setting.key in {"SESSION_COOKIE_SECURE", "REMEMBER_COOKIE_SECURE"} and \
                _truthy(setting.value):
            result.append((setting.line, f"{setting.key} = True", True))
        elif setting.key == "PREFERRED_URL_SCHEME" and \
                (_literal_text(setting.value) or "").lower() == "https":
            result.append((setting.line, "PREFERRED_URL_SCHEME = 'https'", False))
    gunicorn = "gunicorn" in PurePosixPath(parsed.path).name.lower()
    for node, context in parsed.nodes():
        if context.testing:
            continue
        if gunicorn and context.module_level and isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "certfile" for t in node.targets):
            result.append((node.lineno, "gunicorn is given a TLS certificate", True))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and \
                node.value.strip().lower() == _HSTS:
            result.append((node.lineno, "an HSTS header is set", True))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                node.func.attr in {"run", "run_simple"}:
            ssl = _keyword(node, "ssl_context")
            if ssl is not None and not _falsy(ssl):
                result.append((node.lineno, "the development server runs with ssl_context",
                               False))
    return tuple(result)


_HTTPS_PLACES = module_fact(f"security.https-places.2.{FACTS_VERSION}", _https_places)


# --- debug mode -----------------------------------------------------------------------------


_DEBUG_NEEDLE = re.compile(r"(?<![\w.])DEBUG\b|FLASK_DEBUG|\.debug\s*=|\bdebug\s*=|use_debugger|"
                           r"DebuggedApplication|FLASK_ENV|[\"']default[\"']\s*:\s*[A-Za-z_][\w.]*\s*[,}\n]")
_COMMAND_TOKEN = re.compile(r"[^\s\"',\[\]]+")
MAX_COMMAND_LINE = 2000
_NOT_FLASK_RUN = ("asyncio.", "uvicorn.", "subprocess.", "trio.", "anyio.")
_DEBUG_WORDS = re.compile(r"(?<![\w.])DEBUG\b|FLASK_DEBUG|use_debugger|DebuggedApplication|"
                          r"FLASK_ENV")
"""A module is read for debug mode when its names or texts mention one of these, or it has the
name `debug` or the text "default" (`_DEBUG_NEEDLE` in words)."""
_DEBUG_HINTS = ("debug", "flask_env")


class _Violation(NamedTuple):
    path: str
    line: int
    what: str
    certain: bool


@detector("debug_off")
def debug_off(project: Project) -> Finding:
    """Fails when code turns Flask's debug mode (the Werkzeug debugger, which runs any Python a
    visitor types) on outside development and testing: `app.run(debug=True)` (also
    `socketio.run`, `run_simple(use_debugger=True)`), `app.debug = True`,
    `app.config["DEBUG"] = True`, `config.update(DEBUG=True)`, `DEBUG = True` in a config class
    or config module, a DEBUG read from the environment with a true default
    (`os.environ.get("DEBUG", True)`), `DebuggedApplication(app)`, a config mapping whose
    "default" is a development config with DEBUG on, or `FLASK_DEBUG=1` / `FLASK_ENV=development`
    in a Dockerfile, compose file or `.env`.

    Config classes named for development or testing (`DevelopmentConfig`, `DevConfig`,
    `LocalConfig`, `TestingConfig`), such modules (`config/development.py`), functions, and code
    under `if app.debug:`-style conditions are fine, as is a base class whose production
    subclasses set DEBUG = False.

    `app.run(debug=True)` under `if __name__ == "__main__":` only runs when the file is started
    with `python file.py`, usually in development; it still starts the debugger whenever that
    happens, so it fails with medium confidence, and with high confidence when a Dockerfile,
    Procfile or compose file starts that file with python. A runner explicitly bound to this
    machine (`host="127.0.0.1"` or "localhost") is a development runner nobody else reaches: the
    item passes with medium confidence and the runner as evidence.
    `FLASK_DEBUG=1` in `.flaskenv` or `.env` only configures `flask run` for development, so it
    fails only when a production Dockerfile/Procfile/compose file serves the app with
    `flask run`, or when the env file is named for production (`.env.production`). Passes when
    none of this is found."""
    modules = modules_with(project, _DEBUG_MODULES)
    modules += config_files(project, _DEBUG_NEEDLE, "security.debug-config-file",
                            _debug_module)
    classes: ConfigClasses[_Switch] = ConfigClasses()
    if any(s.overridable for _path, fact in modules for s in fact.settings):
        classes.bases = config_bases(project)
    for _path, fact in modules:
        for owner, key, switch in fact.class_values:
            classes.add_value(owner, key, switch)
    violations: list[_Violation] = []
    for path, fact in modules:
        for setting in fact.settings:
            if setting.overridable and classes.overridden(setting.owner, setting.key,
                                                          _Switch.is_off):
                continue
            violations.append(_Violation(path, setting.line, setting.what, setting.certain))
    for path, fact in modules:
        for call in fact.calls:
            if not call.main_guarded:
                violations.append(_Violation(path, call.line, call.what, call.certain))
                continue
            violations += _guarded_run(path, call, _deploy_text(project))
        for line, target in fact.defaults:
            if any(v.on for v in classes.values.get((target, "DEBUG"), [])):
                violations.append(_Violation(path, line, f"the default config is {target}, "
                                             "which has DEBUG on", False))
    for entry in env_entries(project):
        if not _debug_entry(entry) or entry.not_production and \
                PurePosixPath(entry.path).name != ".flaskenv":
            continue
        certain = entry.key != "DEBUG"
        if _env_kind(entry.path) != "env" or \
                words(entry.path.rpartition("/")[2].replace(".", " ")) & {"prod", "production"}:
            violations.append(_Violation(entry.path, entry.line, f"{entry.key}={entry.value}",
                                         certain))
            continue
        flask_run = project.once("security.flask_run_line", partial(_flask_run_line, project))
        if flask_run is not None:
            violations.append(_Violation(entry.path, entry.line,
                                         f"{entry.key}={entry.value} while {flask_run[0]}:"
                                         f"{flask_run[1]} serves the app with flask run",
                                         certain))
    if violations:
        violations.sort(key=lambda v: (v.path, v.line))
        places = [(v.path, v.line) for v in violations]
        what = ", ".join(dict.fromkeys(v.what for v in violations))
        certain = any(v.certain for v in violations)
        return failed(f"debug mode is turned on: {what} at {_where(places)}; the Werkzeug "
                      "debugger lets anyone who reaches it run code. Turn debug on only in "
                      "development (FLASK_DEBUG=1 in your shell, a DevelopmentConfig)",
                      *_evidence(project, places),
                      confidence=Confidence.HIGH if certain else Confidence.MEDIUM)
    local = [(path, line) for path, fact in modules for line in fact.local_runners]
    if local:
        return none_found(project, f"no code turns debug mode on where others can reach it; "
                          f"development runners call app.run(debug=True) bound to this machine "
                          f"only at {_where(local)} (never serve the app with them)",
                          *_evidence(project, local), confidence=Confidence.MEDIUM)
    return none_found(project, f"no code turns debug mode on outside development and testing "
                      f"({len(project.python_files)} Python files, env and Docker files "
                      "checked)")


def _debug_entry(entry: EnvEntry) -> bool:
    if entry.key in {"FLASK_DEBUG", "DEBUG"}:
        return _truthy(ast.Constant(entry.value))
    return entry.key == "FLASK_ENV" and entry.value.lower() == "development"


class _Switch(NamedTuple):
    """What a DEBUG-like value set in a config class body is."""

    on: bool
    off: bool
    """Explicitly false (`False`, `0`, `None`, `"false"`); a value can be neither on nor off."""

    def is_off(self) -> bool:
        return self.off


class _DebugSetting(NamedTuple):
    """A setting that turns debug mode on."""

    line: int
    what: str
    certain: bool
    key: str
    owner: str = ""
    """The config class, when the setting is dropped if every production subclass turns
    `key` off."""

    @property
    def overridable(self) -> bool:
        return bool(self.owner)


class _DebugCall(NamedTuple):
    """`app.run(debug=True)`, `run_simple(use_debugger=True)` or `DebuggedApplication(app)`."""

    line: int
    what: str
    certain: bool
    main_guarded: bool
    """Under `if __name__ == "__main__":` (see `_guarded_run`; `certain` does not apply)."""


class _DebugModule(NamedTuple):
    """What one module says about debug mode."""

    class_values: tuple[tuple[str, str, _Switch], ...]
    """(config class, key, value) for DEBUG and FLASK_DEBUG set in class bodies."""
    settings: tuple[_DebugSetting, ...]
    calls: tuple[_DebugCall, ...]
    defaults: tuple[tuple[int, str], ...]
    """(line, class) where a config mapping's "default" is a development config class, which
    fails when that class turns DEBUG on."""
    local_runners: tuple[int, ...]
    """Lines of development runners bound to this machine (`app.run(debug=True,
    host="127.0.0.1")`)."""


def _debug_fact(source: ParsedModule) -> _DebugModule | None:
    """What the module says about debug mode; None when nothing, and in tests."""
    parsed = _app_tree(source)
    if parsed is None:
        return None
    words = parsed.words()
    if "debug" not in words.names and "default" not in words.texts and \
            not parsed.says(_DEBUG_WORDS, _DEBUG_HINTS):
        return None
    return _debug_module(parsed)


def _debug_module(parsed: Parsed) -> _DebugModule | None:
    class_values: list[tuple[str, str, _Switch]] = []
    found: list[_DebugSetting] = []
    for setting in parsed.config_settings():
        if setting.key not in {"DEBUG", "FLASK_DEBUG"}:
            continue
        if setting.owner is not None:
            class_values.append((setting.owner.rpartition(".")[2], setting.key,
                                 _Switch(_truthy(setting.value), _falsy(setting.value))))
        made = _debug_setting(parsed, setting)
        if made is not None:
            found.append(made)
    calls = _debug_calls(parsed)
    defaults = _default_dev_configs(parsed)
    local = _local_runners(parsed)
    if not (class_values or found or calls or defaults or local):
        return None
    return _DebugModule(tuple(class_values), tuple(found), calls, defaults, local)


_DEBUG_MODULES = module_fact(f"security.debug-module.{FACTS_VERSION}", _debug_fact)


def _debug_setting(parsed: Parsed, setting: Setting) -> _DebugSetting | None:
    if setting.key not in {"DEBUG", "FLASK_DEBUG"} or setting.context.not_production:
        return None
    if setting.form == "local name":
        return None
    value = setting.value
    key = setting.key
    if _truthy(value):
        if setting.form == "module constant" and not _looks_like_config(parsed):
            return _DebugSetting(setting.line, f"{key} = True", False, key)
        where = f"in {setting.owner}" if setting.owner else f"({setting.form})"
        return _DebugSetting(setting.line, f"{key} = True {where}", True, key,
                             setting.owner.rpartition(".")[2] if setting.owner else "")
    default = _env_default(value)
    if default is not None and _truthy(default):
        return _DebugSetting(setting.line, f"{key} defaults to on when the variable is unset",
                             False, key)
    return None


def _looks_like_config(parsed: Parsed) -> bool:
    """A module read by from_object/from_pyfile: named config/settings, or a .cfg file."""
    name = PurePosixPath(parsed.path).name.lower()
    return not name.endswith(".py") or bool(words(name) & {"config", "settings", "conf",
                                                          "configuration"}) or any(
        "config" in part for part in PurePosixPath(parsed.path).parts[:-1])


def _env_default(node: ast.expr) -> ast.expr | None:
    """The literal fallback of `os.environ.get("X", fallback)`, `os.getenv`, `env("X", ...)`,
    `config("X", default=...)` or `os.environ.get("X") or fallback`."""
    if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or) and len(node.values) >= 2:
        last = node.values[-1]
        if _literal_text(last) is not None or isinstance(last, ast.Constant):
            if any(_reads_environment(v) for v in node.values[:-1]):
                return last
        return None
    if isinstance(node, ast.Call) and _reads_environment(node):
        if len(node.args) >= 2 and isinstance(node.args[1], ast.Constant):
            return node.args[1]
        default = _keyword(node, "default")
        if default is not None and isinstance(default, ast.Constant):
            return default
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
            node.func.id in {"bool", "int", "str"} and node.args:
        return _env_default(node.args[0])
    if isinstance(node, ast.Compare) and len(node.comparators) == 1:
        inner = _env_default(node.left)
        expected = node.comparators[0]
        if inner is not None and isinstance(inner, ast.Constant) and \
                isinstance(expected, ast.Constant) and isinstance(node.ops[0], ast.Eq):
            same = str(inner.value).lower() == str(expected.value).lower()
            return ast.Constant(same)
        if inner is not None and isinstance(node.ops[0], ast.In) and \
                isinstance(expected, ast.Tuple | ast.List | ast.Set):
            values = {str(e.value).lower() for e in expected.elts if isinstance(e, ast.Constant)}
            return ast.Constant(isinstance(inner, ast.Constant)
                                and str(inner.value).lower() in values)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
            node.func.attr == "lower":
        return _env_default(node.func.value)
    return None


def _reads_environment(node: ast.expr) -> bool:
    """`os.environ.get("X")`, `os.getenv("X")`, `env("X")`, `config("X")`, `os.environ["X"]`:
    a call or subscript whose first argument is an ALL_CAPS name."""
    if isinstance(node, ast.Subscript):
        key = node.slice
        return isinstance(key, ast.Constant) and isinstance(key.value, str) and \
            bool(_ALL_CAPS.match(key.value)) and "environ" in _chain(node.value)
    if not isinstance(node, ast.Call) or not node.args:
        return False
    first = node.args[0]
    return isinstance(first, ast.Constant) and isinstance(first.value, str) and \
        bool(_ALL_CAPS.match(first.value))


def _deploy_text(project: Project) -> list[tuple[str, str]]:
    """(path, text) of each deploy file (Dockerfile, Procfile, compose, fly, App Engine), read
    once per scan."""
    return project.once("security.deploy_text", partial(_read_deploy_text, project))


def _read_deploy_text(project: Project) -> list[tuple[str, str]]:
    result = []
    for path in files_of_kind(project, "deploy", "fly", "app-engine"):
        text = project.text(path)
        if text is not None:
            result.append((path, text))
    return result


def _started_by_deploy(path: str, deploy: list[tuple[str, str]]) -> tuple[str, int] | None:
    """A Dockerfile/Procfile/compose line that runs `python <path>`."""
    name = PurePosixPath(path).name

    def starts(tokens: list[str]) -> bool:
        for position, token in enumerate(tokens):
            if re.fullmatch(r"python[0-9.]*", PurePosixPath(token).name):
                rest = [t for t in tokens[position + 1:position + 6] if not t.startswith("-")]
                if rest and PurePosixPath(rest[0]).name == name:
                    return True
        return False

    return _deploy_line(deploy, starts)


def _runs_flask_run(tokens: list[str]) -> bool:
    """`flask run`, `flask --app x run`, `["flask", "run", "--host", "0.0.0.0"]`."""
    for position, token in enumerate(tokens):
        if token == "flask" and "run" in tokens[position + 1:position + 6]:
            return True
    return False


def _flask_run_line(project: Project) -> tuple[str, int] | None:
    """The production deploy line that serves the app with `flask run`, if any."""
    return _deploy_line(_deploy_text(project), _runs_flask_run)


def _deploy_line(deploy: list[tuple[str, str]], wanted: Callable[[list[str]], bool]
                 ) -> tuple[str, int] | None:
    """The first line of a production deployment file (not one named for development or
    tests) whose command tokens satisfy `wanted`."""
    for deploy_path, text in deploy:
        if _kinds_of(PurePosixPath(deploy_path).name) or "override" in deploy_path:
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            if len(line) <= MAX_COMMAND_LINE and ("flask" in line or "python" in line) and \
                    wanted(_COMMAND_TOKEN.findall(line)):
                return deploy_path, number
    return None


def _debug_calls(parsed: Parsed) -> tuple[_DebugCall, ...]:
    result: list[_DebugCall] = []
    for node, context in parsed.nodes():
        if not isinstance(node, ast.Call) or context.not_production:
            continue
        name = parsed.name(node.func)
        last = name.rpartition(".")[2]
        if name in {"werkzeug.debug.DebuggedApplication", "werkzeug.DebuggedApplication"}:
            result.append(_DebugCall(node.lineno, "DebuggedApplication", True, False))
            continue
        if last not in {"run", "run_simple"} or name.startswith(_NOT_FLASK_RUN):
            continue
        flag = _keyword(node, "debug") if last == "run" else _keyword(node, "use_debugger")
        if flag is None:
            continue
        on = _truthy(flag)
        if not on:
            default = _env_default(flag)
            if default is None or not _truthy(default):
                continue
        shown = f"{last}(debug=True)" if last == "run" else "run_simple(use_debugger=True)"
        if not on:
            shown = f"{last}(debug=...) defaults to on when the variable is unset"
        if _local_only(node):
            continue  # a development runner bound to this machine: see `_local_runners`
        result.append(_DebugCall(node.lineno, shown, context.module_level and on,
                                 context.main_guarded))
    return tuple(result)


def _guarded_run(path: str, call: _DebugCall, deploy: list[tuple[str, str]]
                 ) -> list[_Violation]:
    """A debug runner under `if __name__ == "__main__":`: certain when a deployment file starts
    the file with python (that line is a violation too), else not."""
    started = _started_by_deploy(path, deploy)
    if started is None:
        return [_Violation(path, call.line, f"{call.what} under if __name__ == '__main__'",
                           False)]
    return [_Violation(path, call.line, f"{call.what} in a file that {started[0]}:{started[1]} "
                       "starts with python", True),
            _Violation(started[0], started[1], f"{started[0]} starts {path} with python", True)]


def _local_runners(parsed: Parsed) -> tuple[int, ...]:
    """`app.run(debug=True, host="127.0.0.1")`: development runners only this machine reaches."""
    lines = []
    for node, context in parsed.nodes():
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                node.func.attr == "run" and not context.not_production and \
                _truthy(_keyword(node, "debug") or ast.Constant(None)) and _local_only(node):
            lines.append(node.lineno)
    return tuple(lines)


def _local_only(node: ast.Call) -> bool:
    """`app.run(host="127.0.0.1")`: the development server only listens on this machine."""
    host = _keyword(node, "host")
    return host is not None and _literal_text(host) in {"127.0.0.1", "localhost", "::1"}


def _default_dev_configs(parsed: Parsed) -> tuple[tuple[int, str], ...]:
    """`config = {"development": DevelopmentConfig, ..., "default": DevelopmentConfig}`:
    (line, class) where the default config is a development class; the app runs in debug mode
    when no config name is given if that class turns DEBUG on."""
    result: list[tuple[int, str]] = []
    for node, context in parsed.nodes():
        if not isinstance(node, ast.Dict) or context.testing:
            continue
        for key, value in zip(node.keys, node.values, strict=True):
            if not (isinstance(key, ast.Constant) and key.value == "default"):
                continue
            target = parsed.name(value).rpartition(".")[2] if isinstance(
                value, ast.Name | ast.Attribute) else ""
            if target and _kinds_of(target) - {TESTING}:
                result.append((key.lineno, target))
    return tuple(result)


# --- SECRET_KEY -------------------------------------------------------------------------------


_SECRET_NEEDLE = re.compile(r"secret_key", re.IGNORECASE)
_SECRET_HINTS = ("secret_key",)
_SECRET_KEYS = re.compile(r"^(?:[A-Z0-9_]*_)?SECRET_KEY$")
_INSTANCE_CONFIG = frozenset({"from_pyfile", "from_envvar", "from_prefixed_env", "from_file"})


class _SecretFinding(NamedTuple):
    path: str
    line: int
    what: str
    certain: bool


@detector("secret_key_not_hardcoded")
def secret_key_not_hardcoded(project: Project) -> Finding:
    """Fails when a string literal is assigned to SECRET_KEY (or another `*_SECRET_KEY` such as
    JWT_SECRET_KEY): in a config class or config module, `app.config["SECRET_KEY"]`,
    `app.secret_key`, `config.update()` / `from_mapping()` keywords and dicts, through a name
    bound to a literal, or as the literal fallback of `os.environ.get("SECRET_KEY", "...")` /
    `os.getenv` / `... or "..."` (the fallback is a hard-coded secret that production silently
    uses when the variable is missing). Also fails on `SECRET_KEY=value` in a `.env` file,
    Dockerfile or compose file that is part of the project.

    Testing config classes, test files and code under `if app.testing:` are fine. Literals in
    development-only configs, and literal defaults followed by `from_pyfile` / `from_envvar` /
    `from_prefixed_env` in the same function, fail with medium confidence. Passes when the key
    comes from the environment, an instance config file or is generated
    (`secrets.token_hex()`), with the places as evidence; passes with medium confidence when no
    SECRET_KEY is set in the code at all."""
    findings: list[_SecretFinding] = []
    good: list[tuple[str, int]] = []
    modules = modules_with(project, _SECRET_MODULES)
    modules += config_files(project, _SECRET_NEEDLE, "security.secret-config-file",
                            _secret_module)
    overrides = any(fact.overrides for _path, fact in modules)
    constants = _module_constants(project, {lookup.constant for _path, fact in modules
                                            for setting in fact.settings
                                            for lookup in setting.lookups if lookup.constant})
    for path, fact in modules:
        for setting in fact.settings:
            finding = setting.finding(path, constants)
            if finding is None:
                if not setting.constant:
                    good.append((path, setting.line))
            else:
                findings.append(finding)
    for entry in env_entries(project):
        if _SECRET_KEYS.match(entry.key) and not _is_reference(entry.value) and \
                not is_test_path(entry.path):
            findings.append(_SecretFinding(entry.path, entry.line,
                                           f"{entry.key} has a value in {entry.path}", False))
    if findings:
        findings.sort(key=lambda f: (f.path, f.line))
        places = [(f.path, f.line) for f in findings]
        what = "; ".join(dict.fromkeys(f.what for f in findings))
        return failed(f"SECRET_KEY is hard-coded: {what} ({_where(places)}); read it from the "
                      "environment or an instance config file with no literal fallback, and "
                      "rotate the committed value", *_evidence(project, places),
                      confidence=Confidence.HIGH if any(f.certain for f in findings)
                      else Confidence.MEDIUM)
    if good:
        good.sort()
        return passed(f"SECRET_KEY is read from the environment or generated, with no literal "
                      f"fallback: {_where(good)}", *_evidence(project, good, 5))
    if overrides:
        return passed("SECRET_KEY is not set in the code; the config is loaded from an instance "
                      "file or the environment (from_pyfile / from_envvar / from_prefixed_env)",
                      confidence=Confidence.MEDIUM)
    return passed(f"no SECRET_KEY is set in the {len(project.python_files)} Python files, so "
                  "none is hard-coded; where the deployed app gets it could not be seen",
                  confidence=Confidence.MEDIUM)


class _Literal(NamedTuple):
    """The literal text an expression is or names, once the project's module constants are
    known (see `_literal_behind`)."""

    text: str | None
    """The literal found in the module (None when none)."""
    constant: str = ""
    """A module constant (`app.settings.KEY`) the expression names: its text when the project
    has it, else `text`."""

    def resolve(self, constants: dict[str, str]) -> str | None:
        return constants.get(self.constant, self.text) if self.constant else self.text


class _SecretSetting(NamedTuple):
    """A SECRET_KEY-like setting of one module, outside testing."""

    line: int
    key: str
    where: str
    """The config class, or how it is set (`app.config[...]`)."""
    production: bool
    """Neither development-only, nor followed by instance config in the same function."""
    constant: bool
    """The value is a constant (`None`, a literal): not read from anywhere."""
    value: _Literal
    branches: tuple[_Literal, ...]
    """The literals of `a if c else b`."""
    fallback: str | None
    """The literal fallback of `os.environ.get("SECRET_KEY", fallback)` and the like."""

    @property
    def lookups(self) -> tuple[_Literal, ...]:
        return (self.value, *self.branches)

    def finding(self, path: str, constants: dict[str, str]) -> _SecretFinding | None:
        """The hard-coded secret this setting makes, if any."""
        literal = self.value.resolve(constants)
        if literal is not None and literal.strip():
            return _SecretFinding(path, self.line,
                                  f"{self.key} is the literal {_shown(literal)} ({self.where})",
                                  self.production)
        for branch in self.branches:
            literal = branch.resolve(constants)
            if literal is not None and literal.strip():
                return _SecretFinding(path, self.line,
                                      f"{self.key} is the literal {_shown(literal)} in one "
                                      f"branch ({self.where})", False)
        if self.fallback is not None and self.fallback.strip():
            return _SecretFinding(path, self.line,
                                  f"{self.key} falls back to the hard-coded secret "
                                  f"{_shown(self.fallback)} when the environment variable is "
                                  f"unset ({self.where})", self.production)
        return None


class _SecretModule(NamedTuple):
    """What one module says about SECRET_KEY."""

    overrides: bool
    """The module loads instance config (`app.config.from_pyfile`) outside testing."""
    settings: tuple[_SecretSetting, ...]


def _secret_fact(source: ParsedModule) -> _SecretModule | None:
    """What the module says about SECRET_KEY; None when nothing, and in tests."""
    parsed = _app_tree(source)
    if parsed is None or not parsed.says(_SECRET_NEEDLE, _SECRET_HINTS):
        return None
    return _secret_module(parsed)


def _secret_module(parsed: Parsed) -> _SecretModule | None:
    later = _instance_config_lines(parsed)
    found: list[_SecretSetting] = []
    for setting in parsed.config_settings():
        if not _SECRET_KEYS.match(setting.key) or setting.context.testing:
            continue
        if setting.form == "local name":
            continue
        found.append(_secret_setting(parsed, setting, later))
    if not later and not found:
        return None
    return _SecretModule(bool(later), tuple(found))


_SECRET_MODULES = module_fact(f"security.secret-module.{FACTS_VERSION}", _secret_fact)


def _instance_config_lines(parsed: Parsed) -> dict[str | None, int]:
    """Per function, the first line that loads instance config (`app.config.from_pyfile`)."""
    result: dict[str | None, int] = {}
    for node, context in parsed.nodes():
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                node.func.attr in _INSTANCE_CONFIG and not context.testing:
            current = result.get(context.function)
            if current is None or node.lineno < current:
                result[context.function] = node.lineno
    return result


def _constants_of(source: ParsedModule) -> tuple[tuple[str, str], ...]:
    """(`module.NAME`, literal text) for the module's top-level names assigned a string
    literal (test modules too)."""
    index = source.index
    return tuple((f"{index.module}.{a.target}", str(a.value.const)) for a in index.assignments
                 if a.function is None and a.class_name is None and
                 a.value.is_constant_text and "." not in a.target)


_MODULE_CONSTANTS = module_fact(f"security.module-constants.{FACTS_VERSION}", _constants_of)


def _module_constants(project: Project, wanted: set[str]) -> dict[str, str]:
    """`module.NAME` -> literal text, for the module-level names in `wanted` that are assigned
    a string literal (the last assignment in path order)."""
    result: dict[str, str] = {}
    if not wanted:
        return result
    for constants in project.module_fact(_MODULE_CONSTANTS).values():
        for name, text in constants:
            if name in wanted:
                result[name] = text
    return result


def _literal_behind(parsed: Parsed, node: ast.expr, context: Context) -> _Literal:
    """The literal an expression is or names (a module constant, here or imported)."""
    text = _literal_text(node)
    if text is not None:
        return _Literal(text)
    if isinstance(node, ast.Name) and context.function is not None:
        for assignment in parsed.index.assignments:
            if assignment.target == node.id and assignment.function == context.function and \
                    assignment.value.is_constant_text:
                return _Literal(str(assignment.value.const))
    constant = ""
    if isinstance(node, ast.Name | ast.Attribute):
        constant = parsed.name(node)
        if "." not in constant:
            constant = f"{parsed.index.module}.{constant}"
        if isinstance(node, ast.Attribute):
            return _Literal(None, constant)
    return _Literal(_built_literal(parsed, node), constant)


def _built_literal(parsed: Parsed, node: ast.expr) -> str | None:
    """The text a name, concatenation, f-string or call always makes from constants."""
    if isinstance(node, ast.Name | ast.BinOp | ast.JoinedStr | ast.Call):
        try:
            flow = parsed.flow()
            made = flow.evaluate(node, flow.scope_at(node.lineno))
        except RecursionError:
            return None
        joined = "".join(made.fragments)
        if made.kind is TextKind.SAFE and joined.strip():
            return joined
    return None


def _secret_setting(parsed: Parsed, setting: Setting, later: dict[str | None, int]
                    ) -> _SecretSetting:
    value = setting.value
    overridden = setting.context.function in later and \
        later[setting.context.function] > setting.line
    branches: tuple[_Literal, ...] = ()
    if isinstance(value, ast.IfExp):
        branches = (_literal_behind(parsed, value.body, setting.context),
                    _literal_behind(parsed, value.orelse, setting.context))
    default = _env_default(value)
    return _SecretSetting(
        setting.line, setting.key, setting.owner or setting.form,
        not setting.context.not_production and not overridden,
        isinstance(value, ast.Constant), _literal_behind(parsed, value, setting.context),
        branches, _literal_text(default) if default is not None else None)


def _shown(secret: str) -> str:
    """A secret shown in a message without repeating it whole."""
    return repr(secret[:3] + "…") if len(secret) > 6 else repr(secret)


# --- Jinja autoescape -------------------------------------------------------------------------


_ENVIRONMENTS = frozenset({"jinja2.Environment", "jinja2.environment.Environment",
                           "jinja2.sandbox.SandboxedEnvironment",
                           "jinja2.sandbox.ImmutableSandboxedEnvironment"})
_TEMPLATE_CLASSES = frozenset({"jinja2.Template", "jinja2.environment.Template"})
_STRING_TEMPLATES = frozenset({"flask.render_template_string", "flask.templating."
                               "render_template_string", "flask.stream_template_string"})
_MARKUPS = frozenset({"markupsafe.Markup", "flask.Markup", "jinja2.Markup",
                      "jinja2.utils.Markup", "flask.helpers.Markup"})
_RENDER_TEMPLATE = frozenset({"flask.render_template", "flask.templating.render_template",
                              "flask.stream_template"})
_AUTOESCAPED = (".html", ".htm", ".xml", ".xhtml", ".svg")
_AUTOESCAPE_FALSE = re.compile(r"\{%-?\s*autoescape\s+(?:false|False)\s*-?%\}")
_SAFE_FILTER = re.compile(r"\|\s*safe\b")
_ESCAPED_THEN_SAFE = re.compile(r"\|\s*(?:tojson|e|escape|forceescape|urlencode)\s*"
                                r"(?:\([^()|]*\))?\s*\|\s*safe\b")
"""`|tojson|safe`, `|e|safe`: the value is escaped before it is marked safe (Flask's `tojson`
escapes <, >, & and ' for HTML and scripts), so nothing prints unescaped."""
_EXPRESSION = re.compile(r"\{\{([^{}]{0,400})\}\}")
_REQUEST = re.compile(r"\brequest\.")
_HTML_TAG = re.compile(r"<(?:html|body|div|p|a|span|table|form|ul|li|h[1-6]|script|input)\b",
                       re.IGNORECASE)
_UNESCAPING_CLASSES = _ENVIRONMENTS | _TEMPLATE_CLASSES
"""The calls `_environment_violation` looks at."""
_SINKS = _STRING_TEMPLATES | _MARKUPS | _TEMPLATE_CLASSES
"""The template sinks (see `_template_sink`) other than `jinja_env.from_string`."""
_JINJA_NEEDLE = re.compile(r"render_template_string|Markup|from_string|Template")
_JINJA_HINTS = ("markup", "from_string", "template")


@detector("jinja_autoescape")
def jinja_autoescape(project: Project) -> Finding:
    """Fails when Jinja autoescaping is off or bypassed with data:
    `jinja2.Environment(...)` without `autoescape` (Jinja's default is off) or with
    `autoescape=False`, `jinja2.Template(...)` (medium), `app.jinja_env.autoescape = False`,
    `app.jinja_options["autoescape"] = False`, `{% autoescape false %}` in a template,
    `{{ request...|safe }}`, `render_template_string()` / `jinja_env.from_string()` with a
    template built by formatting or from request data (high: server-side template injection) or
    from any other non-constant value (medium), `Markup()` over text built by formatting or from
    request data, and `render_template("page.jinja2")` on an HTML template whose name Flask does
    not autoescape (only .html, .htm, .xml, .xhtml, .svg are; medium), and flashed messages
    printed `|safe` (directly or through a macro) when `flash()` is given text built from data
    (medium: a user's name in a flash becomes markup).

    Other `|safe` filters are not failures by themselves (they are how trusted HTML is shown):
    when the item otherwise passes, they are listed as evidence to review and the pass has medium
    confidence. Test files are not read."""
    violations: list[_Violation] = []
    rendered: list[tuple[str, int, str]] = []
    for path, fact in project.module_fact(_JINJA_MODULES).items():
        if fact is not None:
            violations += [_Violation(path, line, what, certain)
                           for line, what, certain in fact.violations]
            rendered += [(path, line, name) for line, name in fact.rendered]
    safe_uses: list[tuple[str, int]] = []
    templates = [p for p in files_of_kind(project, "template") if not is_test_path(p)]
    for path in templates:
        lines = project.text_fact(f"security.template-escapes.2.{FACTS_VERSION}", path,
                                  _template_escapes) or ()
        for number, what in lines:
            if what:
                violations.append(_Violation(path, number, what, True))
            else:
                safe_uses.append((path, number))
    violations += _unescaped_template_names(project, rendered)
    violations += _flashes_printed_safe(project, templates)
    if violations:
        violations.sort(key=lambda v: (v.path, v.line))
        places = [(v.path, v.line) for v in violations]
        what = ", ".join(dict.fromkeys(v.what for v in violations))
        return failed(f"Jinja autoescaping is off or bypassed: {what} at {_where(places)}",
                      *_evidence(project, places),
                      confidence=Confidence.HIGH if any(v.certain for v in violations)
                      else Confidence.MEDIUM)
    if safe_uses:
        return none_found(project, f"autoescape is not turned off ({len(templates)} templates "
                          f"checked), but {len(safe_uses)} |safe filter(s) print HTML unescaped: "
                          f"{_where(safe_uses)}; check that each one only shows trusted or "
                          "sanitised HTML", *_evidence(project, safe_uses),
                          confidence=Confidence.MEDIUM)
    return none_found(project, f"autoescape is not turned off: no jinja2.Environment without "
                      f"autoescape, no render_template_string or Markup over built text, and no "
                      f"{{% autoescape false %}} or |safe in {len(templates)} templates")


class _JinjaModule(NamedTuple):
    """What one module does that bypasses Jinja autoescaping."""

    violations: tuple[tuple[int, str, bool], ...]
    """(line, what, certain) in the order `jinja_autoescape` reports them."""
    rendered: tuple[tuple[int, str], ...]
    """(line, template name) of `render_template("x.jinja2")` calls whose template name Flask
    does not autoescape (a violation when that template is HTML)."""


def _jinja_module(source: ParsedModule) -> _JinjaModule | None:
    """See `_JinjaModule`; None when nothing, and in tests. Template strings are followed only in
    modules whose words mention a template sink and that call one."""
    index, tree = source.index, source.tree
    if is_test_path(index.path):
        return None
    names = module_names(source)
    violations: list[_Violation] = []
    for call in index.calls if not names.calls.isdisjoint(_UNESCAPING_CLASSES) else ():
        found = _environment_violation(index.path, call.name, call)
        if found and not _renders_only_text(index, call):
            violations += found
    for assignment in index.assignments:
        target = assignment.target
        if target.endswith(("jinja_env.autoescape", "jinja_options[autoescape]")) and \
                assignment.value.kind is ValueKind.CONST and not assignment.value.const:
            violations.append(_Violation(index.path, assignment.line, f"{target} = False", True))
    if tree is not None and _calls_template_sink(names):
        parsed = parsed_module(source)
        if parsed.says(_JINJA_NEEDLE, _JINJA_HINTS):
            violations += _template_string_violations(parsed)
    rendered = tuple(_unescaped_names(index)) if not names.calls.isdisjoint(
        _RENDER_TEMPLATE) else ()
    if not violations and not rendered:
        return None
    return _JinjaModule(tuple((v.line, v.what, v.certain) for v in violations), rendered)


_JINJA_MODULES = module_fact(f"security.jinja-module.2.{FACTS_VERSION}", _jinja_module)


def _renders_only_text(module: ModuleIndex, call: Call) -> bool:
    """An Environment assigned to a name whose templates, all named, are not HTML
    (`env.get_template("config.cfg.template")`): autoescape would only corrupt them."""
    targets = [a.target for a in module.assignments
               if a.line == call.line and a.value.kind is ValueKind.CALL
               and a.value.name == call.name]
    if not targets:
        return False
    names: list[str] = []
    for other in module.calls:
        if other.name.rpartition(".")[0] in targets:
            method = other.name.rpartition(".")[2]
            if method in {"from_string", "select_template", "get_or_select_template"}:
                return False
            if method == "get_template":
                if not other.args or not other.args[0].is_constant_text:
                    return False
                names.append(str(other.args[0].const))
    return bool(names) and all(_text_template(n) for n in names)


_TEMPLATE_SUFFIXES = (".template", ".tmpl", ".tpl", ".jinja", ".jinja2", ".j2", ".in")
_TEXT_EXTENSIONS = frozenset({".cfg", ".ini", ".txt", ".py", ".sql", ".yaml", ".yml", ".toml",
                              ".md", ".rst", ".sh", ".conf", ".json", ".env", ".csv", ".tex",
                              ".js", ".css", ".ts", ".service"})


def _text_template(name: str) -> bool:
    """`config.cfg.template`, `query.sql.j2`, `README.md`: a template that is not HTML."""
    lower = name.lower()
    while lower.endswith(_TEMPLATE_SUFFIXES):
        lower = lower[: lower.rfind(".")]
    return PurePosixPath(lower).suffix in _TEXT_EXTENSIONS


def _environment_violation(path: str, name: str, call: Call) -> list[_Violation]:
    if name in _ENVIRONMENTS:
        autoescape = call.keyword("autoescape")
        if autoescape is None and call.keyword("**") is None:
            return [_Violation(path, call.line, f"{name.rpartition('.')[2]}() without "
                               "autoescape (Jinja's default is off)", True)]
        if autoescape is not None and autoescape.kind is ValueKind.CONST and \
                not autoescape.const:
            return [_Violation(path, call.line, "autoescape=False", True)]
    if name in _TEMPLATE_CLASSES and call.keyword("autoescape") is None:
        return [_Violation(path, call.line, "jinja2.Template() renders without autoescape",
                           False)]
    return []


def _template_sink(name: str) -> bool:
    return name in _STRING_TEMPLATES or name in _MARKUPS or \
        name.endswith("jinja_env.from_string") or name in _TEMPLATE_CLASSES


def _calls_template_sink(names: ModuleNames) -> bool:
    return not names.calls.isdisjoint(_SINKS) or (
        "from_string" in names.call_ends and any(_template_sink(name) for name in names.calls))


def _template_string_violations(parsed: Parsed) -> list[_Violation]:
    result: list[_Violation] = []
    flow = TextFlow(parsed.tree, parsed.resolver)
    try:
        for call, scope, name in calls_named(flow, _template_sink):
            if is_test_path(parsed.path) or not call.args or \
                    _read_from_file(call.args[0], scope) or _from_registry(call.args[0], scope):
                continue
            text = flow.evaluate(call.args[0], scope)
            if name in _MARKUPS and text.kind is TextKind.BUILT and not text.request_data and \
                    not _object_fields(call.args[0], scope, parsed.resolver):
                continue  # built from constants, configuration, parameters and computed values
            violation = _template_text_violation(parsed.path, call.lineno, name, text)
            if violation is not None:
                result.append(violation)
    except RecursionError:
        return result
    return result


_TRUSTED_OWNERS = ("flask.current_app", "current_app", "app", "config", "os", "settings")
MAX_BINDING_DEPTH = 4


def _object_fields(node: ast.expr, scope: Scope, resolver: Resolver) -> bool:
    """Whether text built for Markup() reads a field of an object (`post.body`, `form.x.data`,
    `self.name`): data a user may control, unescaped. Local names are followed to what they are
    bound to; configuration (`current_app.config`), module constants, parameters (their callers
    decide) and method calls (`d.isoformat()`) are not fields."""
    pending: list[tuple[ast.AST, int]] = [(node, 0)]
    seen: set[int] = set()
    while pending:
        current, depth = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        called = {id(n.func) for n in ast.walk(current) if isinstance(n, ast.Call)}
        for sub in ast.walk(current):
            if isinstance(sub, ast.Attribute) and id(sub) not in called and \
                    isinstance(sub.ctx, ast.Load) and not _ALL_CAPS.match(sub.attr):
                owner = resolver.name(sub.value)
                if owner and owner.split(".")[0] not in _TRUSTED_OWNERS and \
                        owner not in _TRUSTED_OWNERS and ".config" not in f".{owner}" and \
                        not owner.endswith(".config"):
                    if not (isinstance(sub.value, ast.Name) and
                            resolver.aliases.get(sub.value.id)):
                        return True
            elif isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Load) and \
                    depth < MAX_BINDING_DEPTH:
                owner_scope = scope.lookup(sub.id)
                if owner_scope is None or sub.id in owner_scope.params:
                    continue
                for bound in owner_scope.bindings.get(sub.id, []):
                    if isinstance(bound, ast.expr):
                        pending.append((bound, depth + 1))
                for _op, value in owner_scope.augmented.get(sub.id, []):
                    pending.append((value, depth + 1))
    return False


def _read_from_file(node: ast.expr, scope: Scope) -> bool:
    """`open(path).read()`, `Path(p).read_text()`, or a local name only bound to such a read:
    a template file of the project, not text from a user."""
    values: list[ast.expr] = [node]
    if isinstance(node, ast.Name):
        owner = scope.lookup(node.id)
        if owner is None or node.id in owner.params:
            return False
        bound = owner.bindings.get(node.id, [])
        if not bound or not all(isinstance(b, ast.expr) for b in bound):
            return False
        values = [b for b in bound if isinstance(b, ast.expr)]
    return all(isinstance(v, ast.Call) and isinstance(v.func, ast.Attribute)
               and v.func.attr in {"read", "read_text"} for v in values)


def _from_registry(node: ast.expr, scope: Scope) -> bool:
    """`TEMPLATES["mail.html"]` or `TEMPLATES.get("mail.html")` on a name of the module (or
    imported) that no function binds: templates the application loaded once, looked up by a
    constant name, not text from a user."""
    key: ast.expr | None = None
    if isinstance(node, ast.Subscript):
        owner, key = node.value, node.slice
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
            node.func.attr == "get" and node.args:
        owner, key = node.func.value, node.args[0]
    else:
        return False
    if not isinstance(key, ast.Constant) or not isinstance(owner, ast.Name):
        return False
    bound = scope.lookup(owner.id)
    return bound is None or bound.parent is None  # imported, or bound in the module body


def _template_text_violation(path: str, line: int, name: str, text: Text) -> _Violation | None:
    short = name.rpartition(".")[2]
    if name in _MARKUPS:
        if text.kind is TextKind.BUILT:
            return _Violation(path, line, f"Markup() over text built with {text.construction}"
                              " (escape the parts, or use Markup(...).format())",
                              text.request_data)
        if text.request_data:
            return _Violation(path, line, "Markup() over request data", True)
        return None
    if text.kind is TextKind.SAFE:
        return None
    if text.parameter is not None and not text.request_data:
        return None  # a helper that renders what its caller passes: its callers decide
    if text.kind is TextKind.BUILT or text.request_data:
        how = f"built with {text.construction}" if text.kind is TextKind.BUILT else \
            "from request data"
        return _Violation(path, line, f"{short}() with a template {how} (template injection)",
                          True)
    return _Violation(path, line, f"{short}() with a non-constant template", False)


def _unescaped_names(index: ModuleIndex) -> Iterator[tuple[int, str]]:
    """(line, name) of `render_template("x.jinja2")` calls: Flask only autoescapes templates
    named .html/.htm/.xml/.xhtml/.svg."""
    for call in index.calls:
        if call.name not in _RENDER_TEMPLATE or not call.args or \
                not call.args[0].is_constant_text:
            continue
        name = str(call.args[0].const)
        if not name.lower().endswith(_AUTOESCAPED):
            yield call.line, name


def _is_html_template(text: str) -> bool:
    return bool(_HTML_TAG.search(text)) and "{{" in text


def _template_escapes(text: str) -> tuple[tuple[int, str], ...]:
    """(line, violation) where a template turns autoescape off or marks request data |safe;
    (line, "") where it marks anything else |safe (not a value escaped first: `|tojson|safe`)."""
    if "autoescape" not in text and not _SAFE_FILTER.search(text):
        return ()
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        if _AUTOESCAPE_FALSE.search(line):
            found.append((number, "{% autoescape false %}"))
            continue
        if not _SAFE_FILTER.search(line):
            continue
        line = _ESCAPED_THEN_SAFE.sub("", line)
        if _SAFE_FILTER.search(line):
            if any(_SAFE_FILTER.search(e) and _REQUEST.search(e)
                   for e in _EXPRESSION.findall(line)):
                found.append((number, "request data marked |safe"))
            else:
                found.append((number, ""))
    return tuple(found)


class _FlashSafe(NamedTuple):
    """How one template prints flashed messages unescaped."""

    direct: tuple[int, ...]
    """Lines printing a flashed message `|safe`."""
    macros: tuple[str, ...]
    """Macros it defines that print (an item of) one of their arguments `|safe`."""
    calls: tuple[tuple[int, str], ...]
    """(line, macro name) of calls given flashed messages."""


_TAG_OPEN = re.compile(r"\{[%{]")


def _jinja_tags(text: str) -> Iterator[tuple[int, bool, str]]:
    """(offset, is a statement, text inside) of each `{% ... %}` and `{{ ... }}` tag, in order,
    with whitespace control (`{%-`) stripped. Each tag ends at the first closer after it, as
    Jinja reads it; an unclosed tag ends the reading (linear in the size of the template,
    whatever it holds)."""
    position = 0
    while (opened := _TAG_OPEN.search(text, position)) is not None:
        statement = opened.group() == "{%"
        closing = text.find("%}" if statement else "}}", opened.end())
        if closing < 0:
            return
        yield opened.start(), statement, text[opened.end():closing].strip().strip("-").strip()
        position = closing + 2


_BINDING = re.compile(r"(?:for\s+(.+?)\s+in|with\s+(\w+)\s*=|set\s+(\w+)\s*=)\s*(.*)",
                      re.DOTALL)
_MACRO = re.compile(r"macro\s+(\w+)\s*\(([^)]*)\)")
_IDENTIFIER = re.compile(r"[A-Za-z_]\w*")
_CALLED = re.compile(r"(\w+)\s*\(")
_PRINTED_SAFE = re.compile(r"^(\w+).*\|\s*safe\b", re.DOTALL)


def _called_with(expression: str, names: set[str]) -> list[str]:
    """The functions (macros) an expression calls with flashed messages among what follows
    their `(`: `get_flashed_messages` or one of `names`. Read from the end, once."""
    found: list[str] = []
    flashed_after = False
    end = len(expression)
    for called in reversed(list(_CALLED.finditer(expression))):
        after = expression[called.end():end]
        flashed_after = flashed_after or "get_flashed_messages" in after or \
            not names.isdisjoint(_IDENTIFIER.findall(after))
        if flashed_after:
            found.append(called.group(1))
        end = called.end()
    return found[::-1]


def _flash_safe(text: str) -> _FlashSafe | None:
    """See `_FlashSafe`; None when the template does neither. Names bound to flashed messages
    (`get_flashed_messages()` and loops or sets over those) are followed through the template,
    a macro's arguments through its body."""
    if "get_flashed_messages" not in text and not ("macro" in text and "safe" in text):
        return None
    direct: list[int] = []
    macros: list[str] = []
    calls: list[tuple[int, str]] = []
    flashed: set[str] = set()
    macro: tuple[str, set[str]] | None = None
    line, counted = 1, 0
    for offset, is_statement, inside in _jinja_tags(text):
        line += text.count("\n", counted, offset)
        counted = offset
        bound = macro[1] if macro is not None else flashed
        if is_statement:
            found = _MACRO.match(inside)
            if found:
                macro = (found.group(1), {w.split("=")[0].strip()
                                          for w in found.group(2).split(",") if w.strip()})
            elif inside.startswith("endmacro"):
                macro = None
            elif (binding := _BINDING.match(inside)) is not None:
                source = binding.group(4)
                if "get_flashed_messages" in source or \
                        not bound.isdisjoint(_IDENTIFIER.findall(source)):
                    for group in (1, 2, 3):
                        if binding.group(group):
                            bound.update(_IDENTIFIER.findall(binding.group(group)))
            continue
        printed = _PRINTED_SAFE.match(inside)
        if printed and printed.group(1) in bound:
            if macro is None:
                direct.append(line)
            elif macro[0] not in macros:
                macros.append(macro[0])
        if macro is None:
            calls += [(line, name) for name in _called_with(inside, flashed)]
    if not (direct or macros or calls):
        return None
    return _FlashSafe(tuple(direct), tuple(macros), tuple(calls))


def _flash_with_data(source: ParsedModule) -> int | None:
    """The line of the module's first `flash()` of text built from data (formatting or `+`,
    followed through local names like the SQL and template checks), which a `|safe` in a
    template would turn into markup; None in tests."""
    index = source.index
    if is_test_path(index.path) or source.tree is None or \
            "flash" not in module_names(source).call_ends:
        return None
    flow = parsed_module(source).flow()
    try:
        for call, scope, _name in calls_named(flow, _FLASHES.__contains__):
            if call.args and flow.evaluate(call.args[0], scope).kind is TextKind.BUILT:
                return call.lineno
    except RecursionError:
        return None
    return None


_FLASHES = frozenset({"flask.flash", "flask.helpers.flash"})


_FLASH_WITH_DATA = module_fact(f"security.flash-with-data.2.{FACTS_VERSION}",
                               _flash_with_data)


def _flashes_printed_safe(project: Project, templates: list[str]) -> list[_Violation]:
    """Templates printing flashed messages `|safe` (directly, or through a macro given them)
    when some `flash()` gets text built from data; none when every flash is constant text."""
    facts = [(path, fact) for path in templates
             if (fact := project.text_fact(f"security.flash-safe.{FACTS_VERSION}", path,
                                           _flash_safe)) is not None]
    if not facts:
        return []
    flashes = sorted((path, line) for path, line in
                     project.module_fact(_FLASH_WITH_DATA).items() if line is not None)
    if not flashes:
        return []
    unsafe_macros = {name for _path, fact in facts for name in fact.macros}
    where = f"{flashes[0][0]}:{flashes[0][1]}"
    result = [_Violation(path, line, f"flashed messages printed |safe (flash() gets text built "
                                     f"from data, e.g. at {where})", False)
              for path, fact in facts for line in fact.direct]
    result += [_Violation(path, line, f"flashed messages printed |safe by macro {name}() "
                                      f"(flash() gets text built from data, e.g. at {where})",
                          False)
               for path, fact in facts for line, name in fact.calls if name in unsafe_macros]
    return result


def _unescaped_template_names(project: Project, rendered: list[tuple[str, int, str]]
                              ) -> list[_Violation]:
    """The `render_template` calls of `rendered` (path, line, name) whose template is HTML."""
    result: list[_Violation] = []
    for module_path, line, name in rendered:
        for path in [p for p in project.files if p.endswith(f"templates/{name}")]:
            if project.text_fact(f"security.html-template.{FACTS_VERSION}", path,
                                 _is_html_template):
                result.append(_Violation(module_path, line,
                                         f"render_template({name!r}) is HTML but not "
                                         "autoescaped (Flask autoescapes only .html, .htm, "
                                         ".xml, .xhtml and .svg)", False))
                break
    return result
