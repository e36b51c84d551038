"""Indexing many modules at once, on every core.

Parsing and indexing is pure CPU work per module, so a large project is split into chunks that
worker processes index in parallel; a small one is indexed in this process, where starting
workers would cost more than it saves. Workers read the modules themselves (vetted as this
process would) and send back each module's content key and facts (see module_facts), never its
source or index.

Workers are forked when this process runs a single thread (they start at once, with the code
already imported) and spawned otherwise: forking a process that runs other threads can leave
the child holding a lock that no thread will ever release.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable, Container, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from checklist_app.collector import collector_paused
from checklist_app.project import files as project_files
from checklist_app.project.module_facts import ModuleFact, ModuleFacts, facts_of_source

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing.context import BaseContext

_Result = TypeVar("_Result")

PARALLEL_FROM_MODULES = 400
"""Below this many modules to index, one process is faster than spawning workers..."""
PARALLEL_FROM_MODULES_FORKED = 100
"""... or than forking them."""


def _context() -> BaseContext:
    import multiprocessing  # here: a scan that indexes in this process does without it

    if "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def parallel_from() -> int:
    """How many modules to index make workers worth starting, here and now."""
    forked = _context().get_start_method() == "fork"
    return PARALLEL_FROM_MODULES_FORKED if forked else PARALLEL_FROM_MODULES

CHUNKS_PER_WORKER = 8
"""Each worker is sent this many chunks of a large project, one after another, so that a worker
that finishes early takes on more and results come back while others are still indexed."""
SMALLEST_CHUNK = 16


class ReadModule(NamedTuple):
    """What was made of one Python file: its content key and facts; only its key when facts for
    that content are known already (`facts` None); or why it could not be read (`skipped`)."""

    path: str
    key: bytes | None = None
    facts: ModuleFacts | None = None
    skipped: str | None = None


def module_key(path: str, data: bytes) -> bytes:
    """The digest that keys a module's facts: its path and its content."""
    return hashlib.sha1(path.encode("utf-8", "surrogateescape") + b"\0" + data).digest()


def read_module(root: Path, path: str, known: Container[bytes], facts: Sequence[ModuleFact[Any]],
                real_folders: dict[str, str | None]) -> ReadModule:
    """Read one module (vetted as `files.read_bytes` does), and index it and compute `facts`
    unless its key is `known`."""
    data = project_files.read_bytes(root, path, real_folders)
    if data is None:
        return ReadModule(path, skipped="could not be read")
    if project_files.looks_binary(data):
        return ReadModule(path, skipped="binary file with a .py name")
    key = module_key(path, data)
    if key in known:
        return ReadModule(path, key)
    return ReadModule(path, key, facts_of_source(path, project_files.decode(data), facts))


def read_modules(root: Path, paths: Sequence[str], known: Container[bytes],
                 facts: Sequence[ModuleFact[Any]]) -> list[ReadModule]:
    """`read_module` for each of `paths`, in order, with the garbage collector paused (indexing
    creates many acyclic values)."""
    real_folders: dict[str, str | None] = {}
    with collector_paused():
        return [read_module(root, path, known, facts, real_folders) for path in paths]


def _warm(facts: Sequence[ModuleFact[Any]]) -> None:
    """Run in each worker as it starts: receiving the facts imports the code that computes
    them, before any module arrives."""


class IndexingPool:
    """Worker processes for indexing, started as soon as the project's files are listed (before
    any thread of the scan starts, so that they can be forked). Each reads its modules itself;
    they are kept for other work of the scan (see `map`) until it closes them."""

    def __init__(self, facts: Sequence[ModuleFact[Any]]) -> None:
        self.workers = min(os.cpu_count() or 1, 8)
        self._pool: ProcessPoolExecutor | None = None
        self._smallest = parallel_from()
        if self.workers < 2:
            return
        from concurrent.futures import ProcessPoolExecutor  # see _context

        try:
            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=_context(),
                                             initializer=_warm, initargs=(tuple(facts),))
            for _ in range(self.workers):
                self._pool.submit(_warm, ())
        except (OSError, RuntimeError):
            self._pool = None

    def read_many(self, root: Path, paths: Sequence[str], known: frozenset[bytes],
                  facts: Sequence[ModuleFact[Any]]) -> list[ReadModule]:
        """`read_modules`, in the workers when there are many modules, in chunks."""
        if self._pool is None or len(paths) < self._smallest:
            return read_modules(root, paths, known, facts)
        size = max(SMALLEST_CHUNK, -(-len(paths) // (self.workers * CHUNKS_PER_WORKER)))
        try:
            pending = [self._pool.submit(read_modules, root, paths[start:start + size], known,
                                         tuple(facts))
                       for start in range(0, len(paths), size)]
            return [made for chunk in pending for made in chunk.result()]
        except (OSError, RuntimeError):  # no processes to be had: do it here
            return read_modules(root, paths, known, facts)

    @property
    def running(self) -> bool:
        return self._pool is not None

    def map(self, function: Callable[..., _Result],
            arguments: Sequence[tuple[Any, ...]]) -> list[_Result]:
        """`function(*each)` for each of `arguments`, in the workers (here when there are none
        or they cannot be had)."""
        pool = self._pool
        if pool is None or len(arguments) < 2:
            return [function(*each) for each in arguments]
        try:
            pending = [pool.submit(function, *each) for each in arguments]
            return [done.result() for done in pending]
        except (OSError, RuntimeError):  # the pool was shut down or broke: do it here
            return [function(*each) for each in arguments]

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def read_many(root: Path, paths: Sequence[str], known: frozenset[bytes],
              facts: Sequence[ModuleFact[Any]]) -> list[ReadModule]:
    """`read_modules`, in parallel when there are many."""
    if len(paths) < PARALLEL_FROM_MODULES_FORKED or len(paths) < parallel_from() \
            or (os.cpu_count() or 1) < 2:
        return read_modules(root, paths, known, facts)
    pool = IndexingPool(facts)
    try:
        return pool.read_many(root, paths, known, facts)
    finally:
        pool.close()
