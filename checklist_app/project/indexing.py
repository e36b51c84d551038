"""Indexing many modules at once, on every core.

Parsing and indexing is pure CPU work per module, so a large project is split into chunks that
worker processes index in parallel (spawned, so nothing of the caller's threads or state is
inherited); a small one is indexed in this process, where starting workers would cost more
than it saves.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

from checklist_app.project.pyindex import ModuleIndex, index_module

PARALLEL_FROM_MODULES = 400
"""Below this many modules to index, one process is faster than starting workers."""

CHUNKS_PER_WORKER = 2


def index_sources(sources: Sequence[tuple[str, str]]) -> list[ModuleIndex]:
    """Index (path, source) pairs, in order."""
    return [index_module(path, source) for path, source in sources]


def index_many(sources: Sequence[tuple[str, str]]) -> list[ModuleIndex]:
    """Index (path, source) pairs, in order, in parallel when there are many."""
    workers = min(os.cpu_count() or 1, 8)
    if len(sources) < PARALLEL_FROM_MODULES or workers < 2:
        return index_sources(sources)
    count = workers * CHUNKS_PER_WORKER
    size = -(-len(sources) // count)
    chunks = [sources[start:start + size] for start in range(0, len(sources), size)]
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
            results = list(pool.map(index_sources, chunks))
    except (OSError, RuntimeError):  # no processes to be had: do it here
        return index_sources(sources)
    return [index for chunk in results for index in chunk]
