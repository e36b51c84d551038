"""Indexing workers: forked only while this process runs a single thread."""

from __future__ import annotations

import multiprocessing
import threading

import pytest

from checklist_app.project import indexing


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(),
                    reason="this platform cannot fork")
def test_workers_are_forked_only_while_no_other_thread_runs() -> None:
    if threading.active_count() != 1:
        pytest.skip("another thread is running in this test process")
    assert indexing.parallel_from() == indexing.PARALLEL_FROM_MODULES_FORKED
    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        assert indexing.parallel_from() == indexing.PARALLEL_FROM_MODULES
    finally:
        release.set()
        other.join()
