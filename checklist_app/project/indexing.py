"""Indexing many modules at once, on every core.

Parsing and indexing is pure CPU work per module, so a large project is split into chunks that
worker processes index in parallel (spawned, so nothing of the caller's threads or state is
inherited); a small one is indexed in this process, where starting workers would cost more
than it saves. Workers send back each module's facts (see module_facts), never its index.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from typing import Any

from checklist_app.project.module_facts import ModuleFact, ModuleFacts, facts_of_source

PARALLEL_FROM_MODULES = 400
"""Below this many modules to index, one process is faster than starting workers."""

CHUNKS_PER_WORKER = 2


def facts_of_sources(sources: Sequence[tuple[str, str]],
                     facts: Sequence[ModuleFact[Any]]) -> list[ModuleFacts]:
    """Index (path, source) pairs and compute `facts` for each, in order."""
    return [facts_of_source(path, source, facts) for path, source in sources]


def facts_many(sources: Sequence[tuple[str, str]],
               facts: Sequence[ModuleFact[Any]]) -> list[ModuleFacts]:
    """Index (path, source) pairs and compute `facts` for each, in order, in parallel when
    there are many."""
    workers = min(os.cpu_count() or 1, 8)
    if len(sources) < PARALLEL_FROM_MODULES or workers < 2:
        return facts_of_sources(sources, facts)
    count = workers * CHUNKS_PER_WORKER
    size = -(-len(sources) // count)
    chunks = [sources[start:start + size] for start in range(0, len(sources), size)]
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
            results = list(pool.map(facts_of_sources, chunks, [facts] * len(chunks)))
    except (OSError, RuntimeError):  # no processes to be had: do it here
        return facts_of_sources(sources, facts)
    return [made for chunk in results for made in chunk]
