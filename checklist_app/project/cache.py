"""Facts from the previous scan of a project, reused when the content has not changed.

Module indexes are kept by a digest of path and content; the git history by the HEAD it was read
at, so a rescan parses only changed files and reads only the new commits. The cache is one pickle
file per project in the user cache folder. It is written by this program only; a file that does
not load is ignored and rewritten.
"""

from __future__ import annotations

import gc
import hashlib
import os
import pickle
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from checklist_app.project.git import Commit
from checklist_app.project.pyindex import INDEX_FORMAT, ModuleIndex

_FORMAT = ("checklist-app facts", INDEX_FORMAT, 1)


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while many acyclic values are created at once
    (loading the cache, indexing every module): it would otherwise scan them again and again."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class FactsCache:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._modules: dict[bytes, ModuleIndex] = {}
        self._used: set[bytes] = set()
        self._head: str | None = None
        self._commits: tuple[Commit, ...] = ()
        self._facts: dict[tuple[str, str], object] = {}
        self._facts_used: set[tuple[str, str]] = set()
        self._changed = False
        self._load()

    @classmethod
    def for_project(cls, cache_dir: Path, root: Path) -> FactsCache:
        digest = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:24]
        return cls(cache_dir / f"{digest}.facts")

    def _load(self) -> None:
        try:
            with open(self.path, "rb") as handle, collector_paused():
                data: Any = pickle.load(handle)  # noqa: S301 - our own file
        except (OSError, pickle.PickleError, EOFError, AttributeError, ValueError,
                TypeError, ImportError, IndexError):
            return
        if not isinstance(data, dict) or data.get("format") != _FORMAT:
            return
        self._modules = data.get("modules", {})
        self._head = data.get("head")
        self._commits = data.get("commits", ())
        self._facts = data.get("facts", {})

    def module(self, key: bytes) -> ModuleIndex | None:
        return self._modules.get(key)

    def keep_module(self, key: bytes) -> None:
        self._used.add(key)

    def put_module(self, key: bytes, index: ModuleIndex) -> None:
        self._modules[key] = index
        self._used.add(key)
        self._changed = True

    def fact(self, key: tuple[str, str]) -> tuple[bool, object]:
        """(found, value) for a fact derived from immutable input (see Project.remembered)."""
        if key in self._facts:
            self._facts_used.add(key)
            return True, self._facts[key]
        return False, None

    def put_fact(self, key: tuple[str, str], value: object) -> None:
        self._facts[key] = value
        self._facts_used.add(key)
        self._changed = True

    def history(
        self, head: str, is_ancestor: Callable[[str, str], bool]
    ) -> tuple[tuple[Commit, ...], str] | None:
        """Cached commits and the commit they end at, when that commit leads to `head`."""
        if self._head is None:
            return None
        if self._head == head or is_ancestor(self._head, head):
            return self._commits, self._head
        return None

    def put_history(self, head: str, commits: tuple[Commit, ...]) -> None:
        if head != self._head:
            self._head = head
            self._commits = commits
            self._changed = True

    def save(self) -> None:
        """Write the cache, keeping only the modules this scan used."""
        if len(self._used) != len(self._modules) or len(self._facts_used) != len(self._facts):
            self._changed = True
        if not self._changed:
            return
        modules = {k: v for k, v in self._modules.items() if k in self._used}
        facts = {k: v for k, v in self._facts.items() if k in self._facts_used}
        data = {"format": _FORMAT, "modules": modules, "head": self._head,
                "commits": self._commits, "facts": facts}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self.path.parent, suffix=".tmp")
            with os.fdopen(handle, "wb") as stream:
                pickle.dump(data, stream, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temporary, self.path)
        except OSError:
            return
