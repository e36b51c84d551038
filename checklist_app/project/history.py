"""The git history of a project, read with one streaming `git log` and kept in chunks.

A chunk is the run of commits one `git log since..head` gave: immutable, so the facts cache keeps
it (and facts computed from it) under its range. A rescan reads only the commits made since the
last scan, as a new chunk; older chunks are loaded from the cache only when a detector walks
the whole history (detectors summarise each chunk once, see Project.history_facts).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from checklist_app.project.git import Commit, Git, log_command, parse_log


@dataclass(frozen=True, slots=True)
class ChunkRange:
    """The commits reachable from `head` and not from `since` (all of them when None)."""

    since: str | None
    head: str
    count: int

    @property
    def key(self) -> str:
        return f"{self.since or ''}..{self.head}"


class HistoryChunk:
    """One chunk of commits, newest first, loaded on first use."""

    def __init__(self, span: ChunkRange, load: Callable[[], tuple[Commit, ...]]) -> None:
        self.span = span
        self._load: Callable[[], tuple[Commit, ...]] | None = load
        self._commits: tuple[Commit, ...] | None = None
        self._lock = threading.Lock()

    @classmethod
    def loaded(cls, span: ChunkRange, commits: tuple[Commit, ...]) -> HistoryChunk:
        chunk = cls(span, lambda: commits)
        chunk._commits = commits
        chunk._load = None
        return chunk

    @property
    def count(self) -> int:
        return self.span.count

    @property
    def commits(self) -> tuple[Commit, ...]:
        with self._lock:
            if self._commits is None:
                assert self._load is not None
                self._commits = self._load()
                self._load = None
            return self._commits


class History:
    """The commits reachable from HEAD, newest first, in chunks. `problem` says why it may be
    incomplete."""

    def __init__(self, chunks: tuple[HistoryChunk, ...], available: bool, *,
                 shallow: bool = False, problem: str | None = None) -> None:
        self.chunks = chunks
        """Newest first."""
        self.available = available
        self.shallow = shallow
        self.problem = problem
        self.count = sum(chunk.count for chunk in chunks)
        self._all: tuple[Commit, ...] | None = None

    @property
    def commits(self) -> tuple[Commit, ...]:
        """Every commit, newest first (loads every chunk)."""
        if self._all is None:
            self._all = tuple(c for chunk in self.chunks for c in chunk.commits)
        return self._all


class LogReader:
    """Reads and parses a streaming `git log` in a thread, so git runs and its output is parsed
    while the modules are being indexed."""

    def __init__(self, git: Git, since: str | None, head: str = "HEAD") -> None:
        self._process = git.stream(log_command(since, head))
        self._commits: list[Commit] = []
        self._thread = threading.Thread(target=self._drain, daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        stdout = self._process.stdout
        assert stdout is not None
        self._commits.extend(parse_log(iter(lambda: stdout.read(1 << 16), b"")))

    def commits(self) -> tuple[tuple[Commit, ...], str | None]:
        """The commits, newest first, and the problem when git failed."""
        self._thread.join()
        stderr = self._process.stderr.read() if self._process.stderr else b""
        status = self._process.wait()
        for stream in (self._process.stdout, self._process.stderr):
            if stream is not None:
                stream.close()
        commits = tuple(self._commits)
        self._commits = []
        if status != 0:
            message = stderr.decode("utf-8", "replace").strip().splitlines()
            return commits, message[-1] if message else f"git log exited with {status}"
        return commits, None
