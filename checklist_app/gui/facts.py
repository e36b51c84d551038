"""What the window needs to know about a project besides its scan: is it a Flask project, and
which paths to watch for changes. Read on the scan worker's thread, after the scan, through
`Project` (no Qt here)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from checklist_app.project import Project
from checklist_app.project.cache import FactsCache
from checklist_app.project.dependencies import is_dependency_file
from checklist_app.project.module_facts import IMPORTS

MAX_WATCHED_PATHS = 4000
"""inotify watches are a shared, limited resource: a huge project is watched partly."""


@dataclass(frozen=True, slots=True)
class ProjectFacts:
    is_flask: bool
    watch_paths: tuple[str, ...]
    """Absolute folders and files whose change should trigger a rescan, most telling first."""
    watch_complete: bool
    """False when the project has more paths than are watched."""


def is_flask_project(project: Project) -> bool:
    """Flask (or a Flask extension) is a declared dependency, or a module imports flask."""
    for dependency in project.dependencies():
        if dependency.name == "flask" or dependency.name.startswith("flask-"):
            return True
    return any(qualified == "flask" or qualified.startswith("flask.")
               for imports in project.module_fact(IMPORTS).values()
               for qualified, _ in imports)


def watch_paths(root: Path, files: tuple[str, ...], git_dir: bool) -> tuple[list[str], bool]:
    """Folders first (a file added, removed or renamed), then the files whose content matters
    most (dependency files, Python, configuration), then the rest; capped."""
    folders = {""}
    for path in files:
        parent = PurePosixPath(path).parent
        while str(parent) not in ("", "."):
            folders.add(str(parent))
            parent = parent.parent
    wanted = [str(root / folder) if folder else str(root) for folder in sorted(folders)]
    if git_dir:  # a commit, checkout or reset moves HEAD's reflog
        for marker in ("HEAD", "logs/HEAD"):
            if (root / ".git" / marker).is_file():
                wanted.append(str(root / ".git" / marker))

    def rank(path: str) -> int:
        if is_dependency_file(path):
            return 0
        if path.endswith(".py"):
            return 1
        if path.endswith((".toml", ".cfg", ".ini", ".yaml", ".yml", ".json", ".txt")):
            return 2
        return 3

    wanted += [str(root / path) for path in sorted(files, key=rank)]
    complete = len(wanted) <= MAX_WATCHED_PATHS
    return wanted[:MAX_WATCHED_PATHS], complete


def project_facts(root: Path, cache_dir: Path | None) -> ProjectFacts:
    """Read after a scan of `root`: with the scan's facts cache the modules and history are
    already known, so this costs little. The cache is only read here, never written."""
    cache = FactsCache.for_project(cache_dir, root) if cache_dir is not None else None
    project = Project(root, cache)
    try:
        flask = is_flask_project(project)
        git_dir = project.state.is_git and (project.root / ".git").is_dir()
        paths, complete = watch_paths(project.root, project.files, git_dir)
    finally:
        project.history()  # finish any git log it started; the cache is not saved
    return ProjectFacts(flask, tuple(paths), complete)
