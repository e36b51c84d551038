"""Indexing many modules at once, on every core.

Parsing and indexing is pure CPU work per module, so a large project is split into chunks that
worker processes index in parallel; a small one is indexed in this process, where starting
workers would cost more than it saves. Workers send back each module's facts (see
module_facts), never its index.

Workers are forked when this process runs a single thread (they start at once, with the code
already imported) and spawned otherwise: forking a process that runs other threads can leave
the child holding a lock that no thread will ever release.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from multiprocessing.context import BaseContext
from typing import Any

from checklist_app.project.module_facts import ModuleFact, ModuleFacts, facts_of_source

PARALLEL_FROM_MODULES = 400
"""Below this many modules to index, one process is faster than spawning workers..."""
PARALLEL_FROM_MODULES_FORKED = 100
"""... or than forking them."""


def _context() -> BaseContext:
    if "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def parallel_from() -> int:
    """How many modules to index make workers worth starting, here and now."""
    forked = _context().get_start_method() == "fork"
    return PARALLEL_FROM_MODULES_FORKED if forked else PARALLEL_FROM_MODULES

CHUNKS_PER_WORKER = 2


def facts_of_sources(sources: Sequence[tuple[str, str]],
                     facts: Sequence[ModuleFact[Any]]) -> list[ModuleFacts]:
    """Index (path, source) pairs and compute `facts` for each, in order."""
    return [facts_of_source(path, source, facts) for path, source in sources]


def _warm(facts: Sequence[ModuleFact[Any]]) -> None:
    """Run in each worker as it starts: receiving the facts imports the code that computes
    them, before any module arrives."""


class IndexingPool:
    """Worker processes for indexing, started before the sources are read, so that their start
    overlaps that reading."""

    def __init__(self, facts: Sequence[ModuleFact[Any]]) -> None:
        self.workers = min(os.cpu_count() or 1, 8)
        self._pool: ProcessPoolExecutor | None = None
        self._smallest = parallel_from()
        if self.workers < 2:
            return
        try:
            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=_context(),
                                             initializer=_warm, initargs=(tuple(facts),))
            for _ in range(self.workers):
                self._pool.submit(_warm, ())
        except (OSError, RuntimeError):
            self._pool = None

    def facts_many(self, sources: Sequence[tuple[str, str]],
                   facts: Sequence[ModuleFact[Any]]) -> list[ModuleFacts]:
        """Index (path, source) pairs and compute `facts` for each, in order, in the workers
        when there are many."""
        if self._pool is None or len(sources) < self._smallest:
            return facts_of_sources(sources, facts)
        count = self.workers * CHUNKS_PER_WORKER
        size = -(-len(sources) // count)
        chunks = [sources[start:start + size] for start in range(0, len(sources), size)]
        try:
            results = list(self._pool.map(facts_of_sources, chunks, [facts] * len(chunks)))
        except (OSError, RuntimeError):  # no processes to be had: do it here
            return facts_of_sources(sources, facts)
        return [made for chunk in results for made in chunk]

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def facts_many(sources: Sequence[tuple[str, str]],
               facts: Sequence[ModuleFact[Any]]) -> list[ModuleFacts]:
    """Index (path, source) pairs and compute `facts` for each, in order, in parallel when
    there are many."""
    if len(sources) < parallel_from() or (os.cpu_count() or 1) < 2:
        return facts_of_sources(sources, facts)
    pool = IndexingPool(facts)
    try:
        return pool.facts_many(sources, facts)
    finally:
        pool.close()
