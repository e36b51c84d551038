"""The detector registry: `@detector("name")` puts a function in one typed table.

A detector is a small typed function `(project, **params) -> Finding`. Its docstring is its
documentation. The registry checks a checklist's parameters against the function's signature,
so a typo fails when rules load, not in the middle of a scan.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable, Mapping
from types import NoneType, UnionType
from typing import NamedTuple, NewType

from checklist_app.findings import Finding
from checklist_app.project import ModuleFact, ParsedModule, Project

_Value = typing.TypeVar("_Value")

Regex = NewType("Regex", str)
"""A parameter holding a regular expression; checked to compile when rules load."""

REGEX_TIMEOUT_S = 1.0


class Parameter(NamedTuple):
    name: str
    annotation: object
    required: bool


FactsFor = Callable[..., tuple[ModuleFact[typing.Any], ...]]
"""The module facts a detector reads that depend on its parameters (such as the names of the
calls to look for), from those parameters."""


class Detector(NamedTuple):
    name: str
    function: Callable[..., Finding]
    doc: str
    parameters: tuple[Parameter, ...]
    facts: FactsFor | None = None
    early: bool = False
    """Mostly reads the git history (and the blobs it names): a scan starts it in a thread
    while the modules are being indexed."""

    def run(self, project: Project, params: Mapping[str, object]) -> Finding:
        return self.function(project, **params)

    def facts_for(self, params: Mapping[str, object]) -> tuple[ModuleFact[typing.Any], ...]:
        """The facts that depend on the parameters; raises TypeError when they do not fit."""
        return self.facts(**params) if self.facts is not None else ()


class DuplicateDetectorError(Exception):
    pass


_REGISTRY: dict[str, Detector] = {}


def detector(
    name: str, facts: FactsFor | None = None, *, early: bool = False
) -> Callable[[Callable[..., Finding]], Callable[..., Finding]]:
    """Register a detector under `name`; `facts` gives the module facts it reads that depend on
    its parameters; `early` says it mostly reads the git history (and the blobs it names), so
    a scan starts it while the modules are being indexed. A second registration of a name is
    an error."""

    def register(function: Callable[..., Finding]) -> Callable[..., Finding]:
        if name in _REGISTRY:
            raise DuplicateDetectorError(f"detector {name!r} is registered twice")
        hints = typing.get_type_hints(function)
        signature = inspect.signature(function)
        parameters = []
        for position, parameter in enumerate(signature.parameters.values()):
            if position == 0:
                continue  # the project
            parameters.append(Parameter(parameter.name, hints.get(parameter.name, object),
                                        parameter.default is inspect.Parameter.empty))
        doc = inspect.cleandoc(function.__doc__ or "")
        _REGISTRY[name] = Detector(name, function, doc, tuple(parameters), facts, early)
        return function

    return register


_FACTS: dict[str, ModuleFact[typing.Any]] = {}


def module_fact(kind: str, compute: Callable[[ParsedModule], _Value]) -> ModuleFact[_Value]:
    """Declare a module fact that detectors read (see project.module_facts): every scan
    computes it while indexing, in the indexing workers. `kind` names the computation and its
    version; `compute` must be a module-level function. A fact not declared is still computed
    when a detector asks for it, but later and in the scan's own process (slow)."""
    if kind in _FACTS:
        raise DuplicateDetectorError(f"module fact {kind!r} is declared twice")
    fact = ModuleFact(kind, compute)
    _FACTS[kind] = fact
    return fact


def registered_facts() -> tuple[ModuleFact[typing.Any], ...]:
    """Every declared module fact."""
    return tuple(_FACTS.values())


def registered() -> Mapping[str, Detector]:
    """Every registered detector by name (the built-ins are registered on import of detectors)."""
    return _REGISTRY


def check_params(name: str, params: Mapping[str, object]) -> list[str]:
    """The problems with calling detector `name` with `params`; empty when they fit."""
    found = _REGISTRY.get(name)
    if found is None:
        return [f"unknown detector {name!r}"]
    problems = []
    known = {p.name: p for p in found.parameters}
    for key in params:
        if key not in known:
            expected = ", ".join(known) or "no parameters"
            problems.append(f"unknown parameter {key!r} (expected: {expected})")
    for parameter in found.parameters:
        if parameter.name not in params:
            if parameter.required:
                problems.append(f"missing parameter {parameter.name!r}")
            continue
        problem = _type_problem(parameter.annotation, _freeze(params[parameter.name]))
        if problem:
            problems.append(f"parameter {parameter.name!r}: {problem}")
    return problems


def _freeze(value: object) -> object:
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value


def _type_problem(annotation: object, value: object) -> str | None:
    """None when `value` fits `annotation`; otherwise what is wrong, in words."""
    if annotation is Regex:
        if not isinstance(value, str):
            return f"expected a regular expression, got {type(value).__name__}"
        import regex  # only when checking a pattern: it is slow to import

        try:
            regex.compile(value)
        except regex.error as error:
            return f"invalid regular expression: {error}"
        return None
    origin = typing.get_origin(annotation)
    if origin is UnionType or origin is typing.Union:
        choices = typing.get_args(annotation)
        if value is None and NoneType in choices:
            return None
        results = [_type_problem(c, value) for c in choices if c is not NoneType]
        return None if any(r is None for r in results) else results[0]
    if origin is tuple:
        args = typing.get_args(annotation)
        if not isinstance(value, tuple):
            return f"expected a list, got {type(value).__name__}"
        element = args[0] if args else object
        for entry in value:
            problem = _type_problem(element, entry)
            if problem:
                return f"list entry {entry!r}: {problem}"
        return None
    if annotation is bool:
        return None if isinstance(value, bool) else f"expected true or false, got {value!r}"
    if annotation is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
        return None if ok else f"expected a whole number, got {value!r}"
    if annotation is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return None if ok else f"expected a number, got {value!r}"
    if annotation is str:
        return None if isinstance(value, str) else f"expected a text, got {value!r}"
    return None
