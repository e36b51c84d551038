"""Pausing Python's cyclic garbage collector while a scan makes many values at once.

A scan creates hundreds of thousands of small values (module facts, commits, index entries),
nearly none of them in reference cycles; with the collector running, each new batch makes it
walk all the values made before, again and again. Reference counting frees the values either
way.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for the block (as it was before, after it)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
