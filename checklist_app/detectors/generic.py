"""Generic detectors, so a team can write its own items in YAML without Python.

Each one answers a plain question: does a file exist, does a file contain a pattern, is a
dependency declared, is a call, import or decorator present in the Python code, has a path been
touched in git history, has a path ever been committed.
"""

from __future__ import annotations

import fnmatch
from functools import partial

from checklist_app.detectors.evidence import at_line, in_commit
from checklist_app.detectors.organization import IMPORTED_TOPS
from checklist_app.detectors.registry import REGEX_TIMEOUT_S, Regex, detector
from checklist_app.findings import Confidence, Evidence, Finding, failed, passed, unknown
from checklist_app.project import ModuleFact, ParsedModule, Project
from checklist_app.project.module_facts import IMPORTS

MAX_EVIDENCE = 5


def _listing(values: tuple[str, ...]) -> str:
    return ", ".join(values)


@detector("file_exists")
def file_exists(project: Project, paths: tuple[str, ...]) -> Finding:
    """Passes when any file matches one of `paths` (shell patterns, `*` crosses folders)."""
    found = project.glob(*paths)
    if found:
        return passed(f"found {found[0]}", *(Evidence(p) for p in found[:MAX_EVIDENCE]))
    return failed(f"no file matches {_listing(paths)}")


@detector("file_contains")
def file_contains(
    project: Project, paths: tuple[str, ...], pattern: Regex, ignore_case: bool = False
) -> Finding:
    """Passes when a file matching `paths` has a line matching the regular expression `pattern`.

    The expression runs with a time limit; one that takes too long gives `unknown`, not a hang.
    """
    import regex  # only when a checklist uses a pattern: it is slow to import

    compiled = regex.compile(pattern, regex.IGNORECASE if ignore_case else 0)
    candidates = project.glob(*paths)
    timed_out: list[str] = []
    for path in candidates:
        text = project.text(path)
        if text is None:
            continue
        try:
            match = compiled.search(text, timeout=REGEX_TIMEOUT_S)
        except TimeoutError:
            timed_out.append(path)
            continue
        if match is not None:
            line = text.count("\n", 0, match.start()) + 1
            return passed(f"{path} matches {pattern!r}", at_line(project, path, line))
    if timed_out:
        return unknown(f"the pattern {pattern!r} took longer than {REGEX_TIMEOUT_S:g} s on "
                       f"{timed_out[0]} and was stopped; simplify the expression",
                       Evidence(timed_out[0]))
    if not candidates:
        return failed(f"no file matches {_listing(paths)}")
    return failed(f"no line matching {pattern!r} in {len(candidates)} file(s) "
                  f"matching {_listing(paths)}")


@detector("dependency_declared")
def dependency_declared(project: Project, names: tuple[str, ...]) -> Finding:
    """Passes when any of the named packages is declared in a dependency file."""
    from checklist_app.project.dependencies import normalize

    wanted = {normalize(n) for n in names}
    found = [d for d in project.dependencies() if d.name in wanted]
    if found:
        first = found[0]
        return passed(f"{first.name} is declared in {first.path}",
                      *(at_line(project, d.path, d.line) for d in found[:MAX_EVIDENCE]))
    return failed(f"none of {_listing(names)} is declared in requirements, pyproject.toml, "
                  "setup.cfg, setup.py or Pipfile")


@detector("python_import")
def python_import(project: Project, modules: tuple[str, ...]) -> Finding:
    """Passes when any Python file imports one of `modules` (or something inside it)."""
    evidence = []
    tops = {m.partition(".")[0] for m in modules}
    imported_tops = project.module_fact(IMPORTED_TOPS)
    for path, imports in project.module_fact(IMPORTS).items():
        if imported_tops[path].isdisjoint(tops):
            continue
        for qualified, line in imports:
            if any(qualified == m or qualified.startswith(m + ".") for m in modules):
                evidence.append(at_line(project, path, line))
                break
        if len(evidence) >= MAX_EVIDENCE:
            break
    if evidence:
        return passed(f"{evidence[0].path} imports {_listing(modules)}", *evidence)
    return failed(f"no Python file imports {_listing(modules)}")


def _matches(name: str, patterns: tuple[str, ...]) -> bool:
    """Whether a resolved dotted name is one of `patterns` (exact names or shell patterns)."""
    for pattern in patterns:
        if any(char in pattern for char in "*?["):
            if fnmatch.fnmatchcase(name, pattern):
                return True
        elif name == pattern:
            return True
    return False


def _call_lines(names: tuple[str, ...], source: ParsedModule) -> tuple[int, ...]:
    """The lines of the module's calls to one of `names`, one per call, in order."""
    index = source.index
    return tuple(sorted(c.line for c in index.calls if _matches(c.name, names)))


def _decorator_lines(names: tuple[str, ...], source: ParsedModule) -> tuple[int, ...]:
    """The lines of the module's decorators named one of `names`, one per decorator, in
    order."""
    index = source.index
    return tuple(sorted(d.line for d in index.decorators if _matches(d.name, names)))


def _calls_fact(names: tuple[str, ...]) -> ModuleFact[tuple[int, ...]]:
    names = tuple(names)
    return ModuleFact(f"generic.calls.1:{names!r}", partial(_call_lines, names))


def _decorators_fact(names: tuple[str, ...]) -> ModuleFact[tuple[int, ...]]:
    names = tuple(names)
    return ModuleFact(f"generic.decorators.1:{names!r}", partial(_decorator_lines, names))


def _first_lines(project: Project, fact: ModuleFact[tuple[int, ...]]) -> list[Evidence]:
    """Evidence for the first lines of `fact` over the modules, in path and line order."""
    evidence: list[Evidence] = []
    for path, lines in project.module_fact(fact).items():
        evidence.extend(at_line(project, path, line) for line in lines[:MAX_EVIDENCE])
        if len(evidence) >= MAX_EVIDENCE:
            break
    return evidence[:MAX_EVIDENCE]


@detector("python_call", facts=lambda names: (_calls_fact(names),))
def python_call(project: Project, names: tuple[str, ...]) -> Finding:
    """Passes when the code calls one of `names` (resolved dotted names, shell patterns allowed:
    `flask_wtf.csrf.CSRFProtect`, `*.init_app`)."""
    evidence = _first_lines(project, _calls_fact(names))
    if evidence:
        return passed(f"{_listing(names)} is called", *evidence)
    return failed(f"no call to {_listing(names)} in {len(project.python_files)} Python files")


@detector("python_decorator", facts=lambda names: (_decorators_fact(names),))
def python_decorator(project: Project, names: tuple[str, ...]) -> Finding:
    """Passes when a function or class is decorated with one of `names` (patterns allowed:
    `*.cli.command`)."""
    evidence = _first_lines(project, _decorators_fact(names))
    if evidence:
        return passed(f"decorator {_listing(names)} is used", *evidence)
    return failed(f"no function is decorated with {_listing(names)}")


@detector("git_path_touched")
def git_path_touched(project: Project, paths: tuple[str, ...], within_commits: int = 0) -> Finding:
    """Passes when a commit changed a file matching `paths`; `within_commits` limits the search
    to the newest N commits (0: all history)."""
    history = project.history()
    if not history.available:
        return unknown(f"git history cannot be read: {history.problem}")
    commits = history.commits[:within_commits] if within_commits > 0 else history.commits
    for commit in commits:
        for change in commit.changes:
            if any(fnmatch.fnmatchcase(change.path, p) for p in paths):
                return passed(f"{change.path} was changed in {commit.sha[:10]}",
                              in_commit(change.path, commit.sha, commit.subject))
    scope = f"the last {len(commits)} commits" if within_commits > 0 else \
        f"{len(commits)} commits"
    return failed(f"no commit in {scope} changed {_listing(paths)}",
                  confidence=Confidence.MEDIUM if history.shallow else Confidence.HIGH)


@detector("git_never_committed")
def git_never_committed(project: Project, paths: tuple[str, ...]) -> Finding:
    """Fails when a file matching `paths` was ever added in any commit, even if deleted since."""
    history = project.history()
    if not history.available:
        return unknown(f"git history cannot be read: {history.problem}")
    found = []
    for commit in history.commits:
        for change in commit.changes:
            if change.status == "A" and any(fnmatch.fnmatchcase(change.path, p) for p in paths):
                found.append(in_commit(change.path, commit.sha, commit.subject))
    if found:
        first = found[0]
        return failed(f"{first.path} was committed in {(first.commit or '')[:10]}",
                      *found[:MAX_EVIDENCE])
    return passed(f"no file matching {_listing(paths)} in {len(history.commits)} commits",
                  confidence=Confidence.MEDIUM if history.shallow else Confidence.HIGH)
