"""Facts from the previous scan of a project, reused when the content has not changed.

Module facts are kept by a digest of path and content, remembered facts by their input, and
the git history in chunks by the range of commits each holds, so a rescan parses only changed
files and reads only the new commits.

On disk a project's cache is a folder in the user cache folder: module facts and remembered
facts in shards (a rescan that changed one file rewrites one or two shards, not everything) and
the history as chunks, one per scan that found new commits, listed in order by a small
manifest (see project.history). Every file is written by this program only, atomically; one
that does not load is ignored and rewritten.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

from checklist_app.collector import collector_paused
from checklist_app.pickled import read_pickled, write_pickled
from checklist_app.project.files import FileStamp
from checklist_app.project.git import Commit
from checklist_app.project.history import ChunkRange
from checklist_app.project.module_facts import ModuleFacts
from checklist_app.project.pyindex import INDEX_FORMAT

_FORMAT = ("checklist-app facts", INDEX_FORMAT, 6)
SHARDS = 16
MAX_HISTORY_CHUNKS = 24


class CachedHistory(NamedTuple):
    """What the cache knows of a history: the commit it was read at and its chunks (newest
    first)."""

    head: str
    chunks: tuple[ChunkRange, ...]


def _chunk_name(span: ChunkRange) -> str:
    return f"history-{hashlib.sha1(span.key.encode()).hexdigest()[:16]}.pickle"


def _shard_of(key: bytes) -> int:
    return key[0] % SHARDS


def _input_digest(key: tuple[str, str]) -> bytes:
    """The shard of a remembered fact is chosen by its input alone (a file's content, a chunk
    of history): the facts a rescan adds about a new input go to one shard, not to many."""
    return hashlib.sha1(key[1].encode("utf-8", "surrogateescape")).digest()


class _Sharded:
    """A dict split over SHARDS files; remembers which shards changed or lost entries."""

    def __init__(self, folder: Path, prefix: str) -> None:
        self.folder = folder
        self.prefix = prefix
        self.entries: dict[Any, Any] = {}
        self.shard: dict[Any, int] = {}
        self.used: set[Any] = set()
        self.dirty: set[int] = set()
        self.loaded: set[int] = set()

    def load(self) -> None:
        for number in range(SHARDS):
            data = _read(self.folder / f"{self.prefix}-{number:02d}.pickle")
            if not isinstance(data, dict):
                continue
            self.loaded.add(number)
            for key, value in data.items():
                self.entries[key] = value
                self.shard[key] = number

    def get(self, key: Any) -> Any:
        if key in self.entries:
            self.used.add(key)
            return self.entries[key]
        return None

    def has(self, key: Any) -> bool:
        return key in self.entries

    def put(self, key: Any, value: Any, number: int) -> None:
        self.entries[key] = value
        self.shard[key] = number
        self.used.add(key)
        self.dirty.add(number)

    def save(self) -> None:
        for key, number in self.shard.items():
            if key not in self.used:
                self.dirty.add(number)
        for number in sorted(self.dirty):
            kept = {k: v for k, v in self.entries.items()
                    if self.shard[k] == number and k in self.used}
            _write(self.folder / f"{self.prefix}-{number:02d}.pickle", kept)


def _read(path: Path) -> Any:
    return read_pickled(path, _FORMAT)


def _write(path: Path, value: Any) -> None:
    write_pickled(path, _FORMAT, value)


def default_cache_dir() -> Path:
    """Where facts caches live: CHECKLIST_APP_CACHE, else the platform's user cache folder."""
    override = os.environ.get("CHECKLIST_APP_CACHE")
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_cache_dir("flask-checklist"))


class FactsCache:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._modules = _Sharded(folder, "modules")
        self._facts = _Sharded(folder, "facts")
        self._chunks: list[tuple[str, ChunkRange]] = []
        """(file name, the commits it holds), oldest first."""
        self._head: str | None = None
        self._new_chunk: tuple[ChunkRange, tuple[Commit, ...]] | None = None
        self._stamps: dict[str, tuple[FileStamp, str]] = {}
        self._stamps_changed = False
        self._stamps_asked: set[str] = set()
        """The paths whose stamps this scan asked for or gave; only theirs are kept."""
        with collector_paused():
            stamps = _read(folder / "stamps.pickle")
            if isinstance(stamps, dict):
                self._stamps = stamps
            self._modules.load()
            self._facts.load()
            self._load_history()

    @classmethod
    def for_project(cls, cache_dir: Path, root: Path) -> FactsCache:
        digest = hashlib.sha256(str(root.resolve()).encode("utf-8", "surrogateescape"))
        return cls(cache_dir / digest.hexdigest()[:24])

    # --- modules --------------------------------------------------------------------------------

    def module(self, key: bytes, kinds: frozenset[str]) -> ModuleFacts | None:
        """The cached facts of a module's content when they include each of `kinds` (they are
        then kept at the next save)."""
        found: ModuleFacts | None = self._modules.get(key)
        return found if found is not None and found.values.keys() >= kinds else None

    def complete_modules(self, kinds: frozenset[str]) -> frozenset[bytes]:
        """The keys of the modules whose cached facts include each of `kinds`."""
        return frozenset(key for key, facts in self._modules.entries.items()
                         if facts.values.keys() >= kinds)

    def module_count(self) -> int:
        """How many modules' facts the cache holds."""
        return len(self._modules.entries)

    def stamped_key(self, path: str, stamp: FileStamp) -> str | None:
        """The content key a file had when it last had this stamp, if any."""
        self._stamps_asked.add(path)
        known = self._stamps.get(path)
        return known[1] if known is not None and known[0] == stamp else None

    def put_stamp(self, path: str, stamp: FileStamp, key: str) -> None:
        self._stamps_asked.add(path)
        if self._stamps.get(path) != (stamp, key):
            self._stamps[path] = (stamp, key)
            self._stamps_changed = True

    def put_module(self, key: bytes, facts: ModuleFacts) -> None:
        self._modules.put(key, facts, _shard_of(key))

    # --- remembered facts ----------------------------------------------------------------------

    def fact(self, key: tuple[str, str]) -> tuple[bool, object]:
        """(found, value) for a fact derived from immutable input (see Project.remembered)."""
        if self._facts.has(key):
            return True, self._facts.get(key)
        return False, None

    def put_fact(self, key: tuple[str, str], value: object) -> None:
        self._facts.put(key, value, _shard_of(_input_digest(key)))

    # --- history ---------------------------------------------------------------------------------

    def _load_history(self) -> None:
        manifest = _read(self.folder / "history.pickle")
        if not isinstance(manifest, list) or not manifest:
            return
        if not all((self.folder / name).is_file() for name, _ in manifest):
            return  # a chunk is missing: read the whole history again
        self._chunks = list(manifest)
        self._head = manifest[-1][1].head

    def history(self, head: str, is_ancestor: Callable[[str, str], bool]) -> CachedHistory | None:
        """The cached chunks, when the commit they end at leads to `head`."""
        if self._head is None:
            return None
        if self._head == head or is_ancestor(self._head, head):
            return CachedHistory(self._head, tuple(span for _, span in reversed(self._chunks)))
        return None

    def load_chunk(self, span: ChunkRange) -> tuple[Commit, ...] | None:
        """The commits of a cached chunk, newest first; None when its file does not load."""
        for name, known in self._chunks:
            if known == span:
                chunk = _read(self.folder / name)
                if isinstance(chunk, tuple) and len(chunk) == span.count:
                    return chunk
        return None

    def put_history(self, span: ChunkRange, commits: tuple[Commit, ...]) -> None:
        """The commits this scan read (`span`, newest first). A chunk that does not continue the
        cached ones replaces them."""
        if span.head == self._head:
            return
        if span.since is None or span.since != self._head:
            self._chunks = []
        self._new_chunk = (span, commits)
        self._head = span.head

    def save_history(self) -> None:
        """Write the chunk of history read by this scan now (it does not change any more)."""
        if self._new_chunk is None:
            return
        span, commits = self._new_chunk
        chunks = [*self._chunks, (_chunk_name(span), span)]
        if len(chunks) > MAX_HISTORY_CHUNKS:  # many small chunks: one again
            loaded = [commits]
            for name, _ in reversed(self._chunks):
                chunk = _read(self.folder / name)
                if not isinstance(chunk, tuple):
                    return
                loaded.append(chunk)
            commits = tuple(c for chunk in loaded for c in chunk)
            span = ChunkRange(None, span.head, len(commits))
            chunks = [(_chunk_name(span), span)]
        _write(self.folder / chunks[-1][0], commits)
        _write(self.folder / "history.pickle", chunks)
        kept = {name for name, _ in chunks}
        for stale in self.folder.glob("history-*.pickle"):
            if stale.name not in kept:
                stale.unlink(missing_ok=True)
        self._chunks = chunks
        self._new_chunk = None

    def save(self) -> None:
        """Write what changed: the shards that gained or lost entries, and new history."""
        self._modules.save()
        self._facts.save()
        if not self._stamps.keys() <= self._stamps_asked:  # files deleted, renamed or unread
            self._stamps = {path: self._stamps[path] for path in self._stamps_asked
                            if path in self._stamps}
            self._stamps_changed = True
        if self._stamps_changed:
            _write(self.folder / "stamps.pickle", self._stamps)
            self._stamps_changed = False
        self.save_history()
