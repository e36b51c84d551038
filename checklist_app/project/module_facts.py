"""Facts about one module, computed where the module is indexed.

A detector that needs something from every module declares a `ModuleFact`: a pure function of
one module (a `ParsedModule`: its index, its syntax tree, and views of them that the module's
facts share) that returns a small plain value, such as the lines where passwords are hashed.
Every declared fact is computed right after a module is indexed, in the indexing worker, and
the values are kept in the facts cache by the module's content. Detectors then combine small
values instead of walking every module's index, the indexes never travel between processes,
and a rescan computes facts only for the modules that changed.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, NamedTuple, TypeVar

from checklist_app.project.pyindex import ModuleIndex, parse_module

_Value = TypeVar("_Value")
_View = TypeVar("_View")


class ParsedModule:
    """One module as its facts see it: its index, its syntax tree (None when it does not parse),
    and the views derived from them that several of its facts share (see `view`). Made for each
    module, handed to each of its facts in turn, then dropped."""

    __slots__ = ("index", "tree", "_views")

    def __init__(self, index: ModuleIndex, tree: ast.Module | None) -> None:
        self.index = index
        self.tree = tree
        self._views: dict[Callable[[ParsedModule], object], object] = {}

    @property
    def path(self) -> str:
        return self.index.path

    def view(self, make: Callable[[ParsedModule], _View]) -> _View:
        """`make(self)`, made on first use and kept for the module's other facts; `make` (a
        class or a module-level function) names the view."""
        if make not in self._views:
            self._views[make] = make(self)
        return self._views[make]  # type: ignore[return-value]


@dataclass(frozen=True, slots=True)
class ModuleFact(Generic[_Value]):
    """A named fact about one module. `kind` names the computation and its version (change it
    when `compute` changes); `compute` must be a module-level function (so worker processes can
    be sent it) returning a picklable value, and must not raise on odd code."""

    kind: str
    compute: Callable[[ParsedModule], _Value]


class FactFailure(NamedTuple):
    """Stands for the value of a fact whose computation raised on a module."""

    message: str


class FactError(Exception):
    """A fact could not be computed for a module (the detector that asked gets an error)."""


class ModuleFacts(NamedTuple):
    """What the scan keeps of one module: whether it parsed, and its facts by kind."""

    path: str
    syntax_error: str | None
    values: dict[str, object]


def compute_facts(index: ModuleIndex, tree: ast.Module | None,
                  facts: Sequence[ModuleFact[Any]]) -> dict[str, object]:
    """Every fact's value for one module; a computation that raises gives a FactFailure."""
    values: dict[str, object] = {}
    module = ParsedModule(index, tree)
    for fact in facts:
        try:
            values[fact.kind] = fact.compute(module)
        except Exception as error:  # noqa: BLE001 - one bad fact never stops a scan
            values[fact.kind] = FactFailure(f"{fact.kind} failed on {index.path}: "
                                            f"{type(error).__name__}: {error}")
    return values


def facts_of_source(path: str, source: str, facts: Sequence[ModuleFact[Any]]) -> ModuleFacts:
    """Parse and index one module, and compute `facts` from it."""
    index, tree = parse_module(path, source)
    return ModuleFacts(path, index.syntax_error, compute_facts(index, tree, facts))


# --- facts every scan computes ----------------------------------------------------------------


def _imports(module: ParsedModule) -> tuple[tuple[str, int], ...]:
    return tuple((i.qualified, i.line) for i in module.index.imports)


IMPORTS: ModuleFact[tuple[tuple[str, int], ...]] = ModuleFact("project.imports.1", _imports)
"""Each import's fully qualified name (`flask_wtf.csrf.CSRFProtect`) and line."""
