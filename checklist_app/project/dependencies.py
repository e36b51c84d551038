"""Declared dependencies, read from every common packaging file.

requirements*.txt (and requirements/ folders, following -r), pyproject.toml (PEP 621, Poetry,
PDM, dependency groups), setup.cfg, setup.py (read with ast, never run) and Pipfile.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterable
from pathlib import PurePosixPath
from typing import NamedTuple

from checklist_app.project.pyindex import parse_python

_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*(.*)$")
_EXACT = re.compile(r"^\s*===?\s*[^,;*\s\\]+\s*(;.*)?$")
_DEV_WORDS = frozenset({"dev", "develop", "development", "test", "tests", "testing", "lint",
                        "linting", "doc", "docs", "ci", "check", "checks", "typing", "types",
                        "qa", "style", "e2e", "bench", "benchmark"})


def normalize(name: str) -> str:
    """PEP 503 normalised name: `Flask_SQLAlchemy` -> `flask-sqlalchemy`."""
    return re.sub(r"[-_.]+", "-", name).lower()


class Dependency(NamedTuple):
    name: str
    """Normalised (PEP 503)."""
    spec: str
    """The version constraint as written (may be empty)."""
    path: str
    line: int
    dev: bool
    """Declared for development or tests only."""

    @property
    def pinned(self) -> bool:
        """An exact version (`==1.2.3`), the form reproducible installs need."""
        return bool(_EXACT.match(self.spec))

    @property
    def bounded(self) -> bool:
        """Some version constraint is given."""
        return bool(self.spec.strip()) and not self.spec.strip().startswith(";")


def is_dependency_file(path: str) -> bool:
    folder, _, name = path.lower().rpartition("/")
    parent = folder.rpartition("/")[2]
    return (
        (name.startswith("requirements") and name.endswith((".txt", ".in")))
        or (parent.startswith("requirements") and name.endswith((".txt", ".in")))
        or name in ("pyproject.toml", "setup.cfg", "setup.py", "pipfile")
    )


def _is_dev_name(text: str) -> bool:
    """Whether a file or group name says development only: `dev`, `requirements-test.txt`,
    `docs` (whole words: `docker` is not `doc`)."""
    words = re.split(r"[^a-z0-9]+", text.lower())
    return any(word in _DEV_WORDS for word in words)


def _requirement(text: str, path: str, line: int, dev: bool) -> Dependency | None:
    text = text.split(" #", 1)[0].strip().removesuffix("\\").strip()
    text = re.split(r"\s--hash[=\s]", text, maxsplit=1)[0].strip()
    if not text or text.startswith(("#", "-", "git+", "http:", "https:", "file:", ".", "/")):
        return None
    match = _NAME.match(text)
    if match is None:
        return None
    spec = match.group(3).strip()
    if spec.startswith("@"):
        spec = ""
    return Dependency(normalize(match.group(1)), spec, path, line, dev)


def parse_requirements(path: str, text: str) -> list[Dependency]:
    dev = _is_dev_name(PurePosixPath(path).name.replace("requirements", ""))
    result = []
    for number, raw in enumerate(text.splitlines(), start=1):
        dependency = _requirement(raw, path, number, dev)
        if dependency is not None:
            result.append(dependency)
    return result


def _line_finder(text: str) -> Callable[[str], int]:
    """The first line where `needle` stands as a whole name (`flask` is not in `flaskr`)."""
    lines = text.splitlines()

    def find(needle: str) -> int:
        pattern = re.compile(r"(?<![\w.-])" + re.escape(needle.strip()) + r"(?![\w-])")
        for number, line in enumerate(lines, start=1):
            if pattern.search(line):
                return number
        return 1

    return find


def parse_pyproject(path: str, text: str) -> list[Dependency]:
    import tomllib  # here, as the parsers below: a rescan that reads no such file does without

    try:
        data = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, ValueError):
        return []
    find = _line_finder(text)
    result: list[Dependency] = []

    def add_pep508(entries: object, dev: bool) -> None:
        if not isinstance(entries, list):
            return
        for entry in entries:
            if isinstance(entry, str):
                dependency = _requirement(entry, path, find(entry), dev)
                if dependency is not None:
                    result.append(dependency)

    project = data.get("project", {})
    if isinstance(project, dict):
        add_pep508(project.get("dependencies"), False)
        optional = project.get("optional-dependencies", {})
        if isinstance(optional, dict):
            for group, entries in optional.items():
                add_pep508(entries, _is_dev_name(group))
    groups = data.get("dependency-groups", {})
    if isinstance(groups, dict):
        for group, entries in groups.items():
            add_pep508(entries, True if _is_dev_name(group) else False)
    tool = data.get("tool", {})
    if not isinstance(tool, dict):
        return result
    poetry = tool.get("poetry", {})
    if isinstance(poetry, dict):
        _poetry_table(poetry.get("dependencies"), path, find, False, result)
        _poetry_table(poetry.get("dev-dependencies"), path, find, True, result)
        poetry_groups = poetry.get("group", {})
        if isinstance(poetry_groups, dict):
            for group, table in poetry_groups.items():
                if isinstance(table, dict):
                    _poetry_table(table.get("dependencies"), path, find, _is_dev_name(group),
                                  result)
    pdm = tool.get("pdm", {})
    if isinstance(pdm, dict):
        dev_groups = pdm.get("dev-dependencies", {})
        if isinstance(dev_groups, dict):
            for entries in dev_groups.values():
                add_pep508(entries, True)
    return result


def _poetry_table(
    table: object, path: str, find: Callable[[str], int], dev: bool, result: list[Dependency]
) -> None:
    if not isinstance(table, dict):
        return
    for name, value in table.items():
        if not isinstance(name, str) or normalize(name) == "python":
            continue
        if isinstance(value, str):
            spec = value
        elif isinstance(value, dict) and isinstance(value.get("version"), str):
            spec = value["version"]
        else:
            spec = ""
        spec = _poetry_spec(spec)
        result.append(Dependency(normalize(name), spec, path, find(name), dev))


def _poetry_spec(spec: str) -> str:
    """Poetry writes an exact pin as a bare version (`1.2.3`); say it the PEP 440 way."""
    spec = spec.strip()
    if spec and spec[0].isdigit() and "*" not in spec and "," not in spec:
        return "==" + spec
    return spec


def parse_setup_cfg(path: str, text: str) -> list[Dependency]:
    import configparser

    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(text)
    except configparser.Error:
        return []
    find = _line_finder(text)
    result: list[Dependency] = []
    if parser.has_option("options", "install_requires"):
        for entry in parser.get("options", "install_requires").splitlines():
            dependency = _requirement(entry, path, find(entry.strip() or "\0"), False)
            if dependency is not None:
                result.append(dependency)
    if parser.has_section("options.extras_require"):
        for group, value in parser.items("options.extras_require"):
            for entry in value.splitlines():
                dependency = _requirement(entry, path, find(entry.strip() or "\0"),
                                          _is_dev_name(group))
                if dependency is not None:
                    result.append(dependency)
    return result


def parse_setup_py(path: str, text: str) -> list[Dependency]:
    """The literal lists given to setup(install_requires=..., extras_require=...)."""
    try:
        tree = parse_python(text)
    except (SyntaxError, ValueError, RecursionError):
        return []
    result: list[Dependency] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        for keyword in node.keywords:
            if keyword.arg in ("install_requires", "tests_require"):
                _literal_requirements(keyword.value, path, keyword.arg != "install_requires",
                                      result)
            elif keyword.arg == "extras_require" and isinstance(keyword.value, ast.Dict):
                for key, value in zip(keyword.value.keys, keyword.value.values, strict=False):
                    group = key.value if isinstance(key, ast.Constant) else ""
                    _literal_requirements(value, path, _is_dev_name(str(group)), result)
    return result


def _literal_requirements(node: ast.expr, path: str, dev: bool, result: list[Dependency]) -> None:
    if isinstance(node, ast.List | ast.Tuple):
        for element in node.elts:
            if isinstance(element, ast.Constant) and isinstance(element.value, str):
                dependency = _requirement(element.value, path, element.lineno, dev)
                if dependency is not None:
                    result.append(dependency)


def parse_pipfile(path: str, text: str) -> list[Dependency]:
    import tomllib

    try:
        data = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, ValueError):
        return []
    find = _line_finder(text)
    result: list[Dependency] = []
    for section, dev in (("packages", False), ("dev-packages", True)):
        table = data.get(section, {})
        if not isinstance(table, dict):
            continue
        for name, value in table.items():
            spec = value if isinstance(value, str) else (
                value.get("version", "") if isinstance(value, dict) else "")
            spec = "" if spec == "*" else str(spec)
            result.append(Dependency(normalize(name), spec, path, find(name), dev))
    return result


def parse_dependency_file(path: str, text: str) -> list[Dependency]:
    name = PurePosixPath(path).name.lower()
    if name == "pyproject.toml":
        return parse_pyproject(path, text)
    if name == "setup.cfg":
        return parse_setup_cfg(path, text)
    if name == "setup.py":
        return parse_setup_py(path, text)
    if name == "pipfile":
        return parse_pipfile(path, text)
    return parse_requirements(path, text)


def collect(files: Iterable[tuple[str, str]]) -> tuple[Dependency, ...]:
    """Dependencies from (path, text) pairs of dependency files."""
    result: list[Dependency] = []
    for path, text in files:
        result.extend(parse_dependency_file(path, text))
    return tuple(result)
