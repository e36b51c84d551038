"""Opening a piece of evidence in the user's editor, at its line.

The editor is `$VISUAL`, else `$EDITOR` (terminal-only editors are skipped: there is no terminal
to run them in), else VS Code or PyCharm when they are on the PATH. Each is given the line in its
own convention (`code -g path:line`, `pycharm --line N path`, `subl path:line`, `+N path`...).
Without an editor the system handler opens the file, and only files that are plainly text: a
hostile project could otherwise have its `.desktop` or `.html` file run by a double-click.
Pure functions; the window starts the command detached.
"""

from __future__ import annotations

import os
import shlex
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path, PurePosixPath

Which = Callable[[str], str | None]

TERMINAL_EDITORS = frozenset({
    "vi", "vim", "nvim", "view", "nano", "pico", "ed", "ex", "joe", "jed", "micro", "hx",
    "helix", "kak", "ne", "mg", "mcedit", "jove", "zile", "less", "more",
})
_GOTO = frozenset({"code", "code-insiders", "codium", "vscodium", "cursor", "windsurf"})
_JETBRAINS = frozenset({"pycharm", "pycharm.sh", "charm", "pycharm-community",
                        "pycharm-professional", "idea", "idea.sh", "pycharm64"})
_COLON = frozenset({"subl", "sublime_text", "zed", "mate"})
_PLUS = frozenset({"gvim", "mvim", "emacs", "emacsclient", "gedit", "xed", "pluma", "mousepad"})
_DASH_L = frozenset({"kate", "kwrite"})
_FALLBACKS = (("code", _GOTO), ("pycharm", _JETBRAINS), ("charm", _JETBRAINS))

TEXT_SUFFIXES = frozenset({
    ".py", ".pyi", ".txt", ".md", ".rst", ".cfg", ".ini", ".toml", ".yaml", ".yml", ".json",
    ".lock", ".in", ".sql", ".css", ".csv", ".log", ".conf", ".j2", ".jinja", ".jinja2",
    ".mako", ".po", ".pot", ".xml", ".env", ".example", ".sample", ".gitignore", ".dockerignore",
})


def _program(argv: list[str]) -> str:
    return PurePosixPath(argv[0].replace("\\", "/")).name.lower().removesuffix(".exe")


def with_location(argv: list[str], path: str, line: int | None) -> list[str]:
    """`argv` plus the file (and the line, in this editor's convention)."""
    program = _program(argv)
    if line is None:
        return [*argv, path]
    if program in _GOTO:
        return [*argv, "-g", f"{path}:{line}"]
    if program in _JETBRAINS:
        return [*argv, "--line", str(line), path]
    if program in _COLON:
        return [*argv, f"{path}:{line}"]
    if program in _PLUS:
        return [*argv, f"+{line}", path]
    if program in _DASH_L:
        return [*argv, "-l", str(line), path]
    return [*argv, path]


def editor_command(environ: Mapping[str, str], path: str, line: int | None,
                   which: Which = shutil.which) -> list[str] | None:
    """The command that opens `path` (absolute) at `line`; None: use the system handler."""
    for variable in ("VISUAL", "EDITOR"):
        value = environ.get(variable, "").strip()
        if not value:
            continue
        try:
            argv = shlex.split(value)
        except ValueError:
            continue
        if not argv or _program(argv) in TERMINAL_EDITORS:
            continue
        return with_location(argv, path, line)
    for name, _family in _FALLBACKS:
        found = which(name)
        if found:
            return with_location([found], path, line)
    return None


def project_file(root: Path, relative: str) -> Path | None:
    """The evidence file inside the project, or None when it is missing or would lead out of
    the project (an absolute path, `..`, a link pointing outside)."""
    if not relative or relative.startswith(("/", "\\")) or ".." in PurePosixPath(relative).parts:
        return None
    base = root.resolve()
    try:
        target = (base / relative).resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    if not target.is_relative_to(base) or not target.is_file():
        return None
    return target


def safe_for_system_handler(path: Path) -> bool:
    """A file the desktop's default handler may open: plain text by name, never executable."""
    if os.access(path, os.X_OK):
        return False
    name = path.name.lower()
    if path.suffix.lower() in TEXT_SUFFIXES or name in TEXT_SUFFIXES:
        return True
    return path.suffix == "" and name in {"dockerfile", "procfile", "makefile", "license",
                                          "readme", "changelog", "authors", "pipfile"}
