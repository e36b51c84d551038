"""Read-only access to one project, gathered once per scan.

`Project` is the only way detectors see a project: its file listing, file text, the index of
every Python module, its declared dependencies and its git history. Everything is read lazily
and at most once; the git log streams in a background process while Python is being parsed.
"""

from __future__ import annotations

import ast
import fnmatch
import hashlib
import re
import threading
import time
from collections.abc import Callable, Sequence
from functools import partial
from operator import itemgetter
from pathlib import Path
from typing import Any, TypeVar

from checklist_app.collector import collector_paused
from checklist_app.findings import Note, ProjectInfo
from checklist_app.project import files as project_files
from checklist_app.project.cache import CachedHistory, FactsCache
from checklist_app.project.dependencies import Dependency, collect, is_dependency_file
from checklist_app.project.git import (
    Commit,
    Git,
    RepoState,
    repo_state,
    tracked_and_untracked_files,
)
from checklist_app.project.history import (
    ChunkRange,
    History,
    HistoryChunk,
    LogReader,
)
from checklist_app.project.indexing import IndexingPool, parallel_from, read_many
from checklist_app.project.module_facts import (
    IMPORTS,
    FactError,
    FactFailure,
    ModuleFact,
    ModuleFacts,
    ParsedModule,
    compute_facts,
)
from checklist_app.project.pyindex import ModuleIndex, index_module, parse_module

__all__ = ["Commit", "Dependency", "History", "ModuleFact", "ModuleIndex", "ParsedModule",
           "Project"]

_Fact = TypeVar("_Fact")
_Value = TypeVar("_Value")
_Result = TypeVar("_Result")


STAMP_SETTLE_NS = 2_000_000_000
"""A file changed this recently before a scan might change again within the clock's
resolution without its stamp changing: its stamp is not kept, so the next scan reads it."""


def _over_commits(compute: Callable[[tuple[Commit, ...]], _Fact], chunk: HistoryChunk) -> _Fact:
    return compute(chunk.commits)


def _gathered(paths: list[str], values: list[dict[str, object]], kind: str
               ) -> dict[str, object] | None:
    """One fact's table (path -> value, in path order) from each module's facts (`values`, in
    the order of `paths`); None when a module lacks it. Built by `map` and `zip` in C: a scan
    builds one table per fact kind over every module."""
    try:
        return dict(zip(paths, map(itemgetter(kind), values), strict=True))
    except KeyError:
        return None


def _first_failure(table: dict[str, object]) -> FactFailure | None:
    """The first module's failure in a fact's table (None when it was computed everywhere)."""
    if FactFailure not in set(map(type, table.values())):
        return None
    return next(v for v in table.values() if type(v) is FactFailure)


def _without(commits: tuple[Commit, ...], boundary: frozenset[str]) -> tuple[Commit, ...]:
    """In a shallow clone git shows each boundary commit as a root that adds every file; those
    changes are not real, so they are dropped (the commits stay)."""
    if not boundary:
        return commits
    return tuple(c._replace(changes=()) if c.sha in boundary else c for c in commits)


class Project:
    """One project on disk, read-only. Create one per scan."""

    def __init__(self, root: Path, cache: FactsCache | None = None,
                 facts: Sequence[ModuleFact[Any]] = ()) -> None:
        """`facts` are the module facts to compute while indexing (the detectors' facts); a
        fact asked for later is computed then, in this process."""
        self.root = root.resolve()
        if not self.root.is_dir():
            raise NotADirectoryError(f"{root} is not a folder")
        self._cache = cache
        self._facts: dict[str, ModuleFact[Any]] = {f.kind: f for f in (IMPORTS, *facts)}
        self._parsed: dict[str, ModuleFacts] | None = None
        self._fact_tables: dict[str, dict[str, object]] = {}
        self._fact_values: tuple[list[str], list[dict[str, object]]] | None = None
        """The modules' paths and their facts (kind -> value), in the same order."""
        self._failed_facts: dict[str, str] = {}
        """Fact kind -> why its computation failed on some module (the first such module)."""
        self.late_work: list[str] = []
        """What was computed in this process after indexing because no worker did it: fact
        kinds nobody declared, and full indexes asked for by `modules()` (both slow)."""
        self._notes: list[Note] = []
        self._texts: dict[str, str | None] = {}
        self._real_folders: dict[str, str | None] = {}
        """Folders resolved while files are read (see files.read_bytes)."""
        self._modules: dict[str, ModuleIndex] | None = None
        self._dependencies: tuple[Dependency, ...] | None = None
        self._history: History | None = None
        self._memo: dict[tuple[str, str], object] = {}
        self._once: dict[str, object] = {}
        self._once_lock = threading.RLock()
        self._content_keys: dict[str, str] = {}
        self._python_digest: str | None = None
        self._lock = threading.RLock()
        """Guards the module facts."""
        self._notes_lock = threading.Lock()
        self._history_lock = threading.Lock()
        """Guards the history, read on its own so that a thread can wait for it while another
        waits for the modules."""
        self.git = Git(self.root)
        self.state: RepoState = repo_state(self.git)
        if self.state.is_git and self.state.toplevel is not None:
            if self.state.toplevel.resolve() != self.root:
                # A subfolder of a repository: git paths are relative to the top level.
                self._notes.append(Note(f"the project is a subfolder of the git repository at "
                                        f"{self.state.toplevel}; history covers the whole "
                                        "repository"))
        if not self.state.is_git and self.state.problem:
            self._notes.append(Note(f"git history not available: {self.state.problem}"))
        self._started_ns = time.time_ns()
        listing = self._list_files()
        self.files: tuple[str, ...] = listing.paths
        self._listed = frozenset(listing.paths)
        self._stamps = listing.stamps
        for skipped in listing.skipped:
            self._notes.append(Note(f"skipped: {skipped.reason}", skipped.path))
        self._pool: IndexingPool | None = None
        self.python_files: tuple[str, ...] = tuple(p for p in self.files if p.endswith(".py"))
        python_count = len(self.python_files)
        if (cache is None or cache.module_count() < python_count // 2) \
                and python_count >= parallel_from():
            # Most modules will be indexed: start the workers now, while the history starts to
            # be read (and before any thread of this project starts, so that they can be forked).
            self._pool = IndexingPool(tuple(self._facts.values()))
        self._log: LogReader | None = None
        self._cached: CachedHistory | None = None
        if self.state.is_git and self.state.commit:
            if cache is not None:
                self._cached = cache.history(self.state.commit, self._is_ancestor)
            since = self._cached.head if self._cached is not None else None
            if since != self.state.commit:
                self._log = LogReader(self.git, since)

    # --- identity -----

    @property
    def info(self) -> ProjectInfo:
        return ProjectInfo(
            root=str(self.root), name=self.root.name, commit=self.state.commit,
            branch=self.state.branch, dirty=self.state.dirty, is_git=self.state.is_git,
        )

    @property
    def notes(self) -> tuple[Note, ...]:
        return tuple(self._notes)

    # --- files -----

    def _list_files(self) -> project_files.FileListing:
        if self.state.is_git:
            listed = tracked_and_untracked_files(self.git)
            if listed is not None:
                return project_files.from_paths(self.root, listed)
        return project_files.walk(self.root)

    def exists(self, path: str) -> bool:
        return path in self._listed

    def glob(self, *patterns: str) -> list[str]:
        """Files whose path matches any of the shell-style patterns (`*` also crosses '/')."""
        if not patterns:
            return []
        matches = re.compile("|".join(fnmatch.translate(pattern) for pattern in patterns)).match
        return [path for path in self.files if matches(path)]

    def text(self, path: str) -> str | None:
        """The text of a listed file; None for a binary, unreadable or unlisted file."""
        if path in self._texts:
            return self._texts[path]
        text: str | None = None
        if path in self._listed:
            data = project_files.read_bytes(self.root, path, self._real_folders)
            if data is None:
                self._note(Note("skipped: could not be read", path))
            elif project_files.looks_binary(data):
                self._note(Note("skipped: binary file", path))
            else:
                text = project_files.decode(data)
        self._texts[path] = text
        return text

    def _note(self, note: Note) -> None:
        """Add a note; a file that was already skipped for a reason is not noted again."""
        with self._notes_lock:
            if note in self._notes:
                return
            if note.path is not None and note.message.startswith("skipped:") and any(
                n.path == note.path and n.message.startswith("skipped:") for n in self._notes
            ):
                return
            self._notes.append(note)

    # --- python -----

    def parsed(self) -> dict[str, ModuleFacts]:
        """Every readable Python module's facts by path, in path order (a module that does not
        parse is here, with its syntax error)."""
        with self._lock:
            if self._parsed is None:
                with collector_paused():
                    self._parsed = self._read_facts()
            return self._parsed

    def module_fact(self, fact: ModuleFact[_Value]) -> dict[str, _Value]:
        """The value of `fact` for every readable Python module, by path in path order (one
        table per fact and scan, shared by every caller: read it, do not change it).
        Raises FactError when its computation failed on a module."""
        parsed = self.parsed()
        known = self._fact_tables.get(fact.kind)
        if known is None:
            with self._lock:
                known = self._fact_tables.get(fact.kind)
                if known is None:
                    known = self._table(fact, parsed)
                    self._fact_tables[fact.kind] = known
        failed = self._failed_facts.get(fact.kind)
        if failed is not None:
            raise FactError(failed)
        return known  # type: ignore[return-value]

    def _table(self, fact: ModuleFact[Any], parsed: dict[str, ModuleFacts]) -> dict[str, object]:
        """The fact's table, computing it first where some modules lack it."""
        if self._fact_values is None:
            self._fact_values = ([*parsed], [facts.values for facts in parsed.values()])
        paths, values = self._fact_values
        table = _gathered(paths, values, fact.kind)
        if table is None:
            self._compute_late(fact, parsed)
            table = {path: facts.values[fact.kind] for path, facts in parsed.items()}
        failure = _first_failure(table)
        if failure is not None:
            self._failed_facts.setdefault(fact.kind, failure.message)
        return table

    def _compute_late(self, fact: ModuleFact[Any], parsed: dict[str, ModuleFacts]) -> None:
        """Compute in this process a fact that some modules lack (no worker was asked for it)."""
        missing = [path for path, facts in parsed.items() if fact.kind not in facts.values]
        if not missing:  # no module at all: nothing was left to compute
            return
        self.late_work.append(f"fact {fact.kind} ({len(missing)} modules)")
        for path in missing:
            facts = parsed[path]
            index, tree = self._parse(path)
            facts.values.update(compute_facts(index, tree, [fact]))
            if self._cache is not None:
                self._cache.put_module(bytes.fromhex(self._content_keys[path]), facts)

    def _parse(self, path: str) -> tuple[ModuleIndex, ast.Module | None]:
        """Parse one module again in this process (for a fact no worker computed)."""
        text = self.text(path)
        return parse_module(path, text if text is not None else "")

    def modules(self) -> tuple[ModuleIndex, ...]:
        """The full index of every Python module, in path order, built in this process.
        Detectors use module facts instead: this is for tools and tests."""
        return tuple(self._indexed().values())

    def _indexed(self) -> dict[str, ModuleIndex]:
        parsed = self.parsed()
        with self._lock:
            if self._modules is None:
                self.late_work.append(f"full index ({len(parsed)} modules)")
                with collector_paused():
                    self._modules = {path: index_module(path, self.text(path) or "")
                                     for path in parsed}
            return self._modules

    def _read_facts(self) -> dict[str, ModuleFacts]:
        """The facts of every Python module: from the cache when its content is unchanged and
        every fact is there, the rest indexed (in parallel when there are many)."""
        found: dict[str, ModuleFacts] = {}
        to_read: list[str] = []
        kinds = frozenset(self._facts)
        for path in self.python_files:
            known = self._stamped_key(path)
            if known is not None and self._cache is not None:
                facts = self._cache.module(bytes.fromhex(known), kinds)
                if facts is not None:
                    # Unchanged since the last scan (same size, time and inode): not read.
                    self._content_keys[path] = known
                    found[path] = facts
                    continue
            to_read.append(path)
        complete = frozenset[bytes]()
        if self._cache is not None and to_read:
            complete = self._cache.complete_modules(kinds)
        wanted = tuple(self._facts.values())
        if self._pool is not None:  # kept for `in_workers` until the project is closed
            made = self._pool.read_many(self.root, to_read, complete, wanted)
        else:
            made = read_many(self.root, to_read, complete, wanted)
        for read in made:
            if read.key is None:
                self._note(Note(f"skipped: {read.skipped}", read.path))
                self._texts[read.path] = None
                continue
            key = read.key.hex()
            self._content_keys[read.path] = key
            self._keep_stamp(read.path, key)
            facts = read.facts
            if self._cache is not None:
                if facts is None:  # known: the cache has them
                    facts = self._cache.module(read.key, kinds)
                else:
                    self._cache.put_module(read.key, facts)
            if facts is not None:
                found[read.path] = facts
        result: dict[str, ModuleFacts] = {}
        for path in self.python_files:
            facts = found.get(path)
            if facts is None:
                continue
            if facts.syntax_error:
                self._note(Note(f"not parsed: {facts.syntax_error}", path))
            result[path] = facts
        return result

    def python_digest(self) -> str:
        """A key for the content of every Python module, for facts computed from all of them
        (the models, the Flask layout): it changes when any module changes."""
        with self._lock:
            if self._python_digest is None:
                keys = "".join([self.content_key(path) for path in self.parsed()])
                self._python_digest = hashlib.sha1(keys.encode("ascii"),
                                                   usedforsecurity=False).hexdigest()
            return self._python_digest

    def content_key(self, path: str) -> str:
        """A digest of a file's path and content, to key remembered facts about that file:
        they are recomputed only when the file changes. Python modules reuse the digest taken
        when they were indexed, so an unchanged module is not read again."""
        if path.endswith(".py"):
            self.parsed()
        key = self._content_keys.get(path)
        if key is not None:
            return key
        key = self._stamped_key(path)
        if key is None:
            text = self.text(path)
            data = path.encode("utf-8", "surrogateescape") + b"\0"
            if text is not None:
                data += text.encode("utf-8", "surrogateescape")
            key = hashlib.sha1(data).hexdigest()
            self._keep_stamp(path, key)
        self._content_keys[path] = key
        return key

    def _stamped_key(self, path: str) -> str | None:
        """The content key the cache holds for the file as its stamp is now, if any."""
        stamp = self._stamps.get(path)
        if self._cache is None or stamp is None:
            return None
        return self._cache.stamped_key(path, stamp)

    def _keep_stamp(self, path: str, key: str) -> None:
        """Remember the file's stamp with its content key, unless it changed too recently for
        the stamp to be trusted (see STAMP_SETTLE_NS)."""
        stamp = self._stamps.get(path)
        if self._cache is not None and stamp is not None \
                and stamp[1] < self._started_ns - STAMP_SETTLE_NS:
            self._cache.put_stamp(path, stamp, key)

    def text_fact(self, kind: str, path: str, compute: Callable[[str], _Fact]) -> _Fact | None:
        """`compute` over the text of a listed file, remembered by its content (see
        `remembered`): a rescan reads the file only when it changed. None when it cannot be
        read as text."""
        if path not in self._listed:
            return None

        def read() -> tuple[bool, _Fact | None]:
            text = self.text(path)
            return (False, None) if text is None else (True, compute(text))

        readable, value = self.remembered(kind, self.content_key(path), read)
        if not readable:
            self.text(path)  # says why, in a note
        return value

    # --- remembered facts -----

    def once(self, name: str, compute: Callable[[], _Fact]) -> _Fact:
        """`compute()`, made the first time a detector of this scan asks for `name` and shared
        with those that ask after it (a value derived from the facts or files, such as which
        modules import a library); never kept in the cache. `name` must say what is computed
        and from what, like a module-level name."""
        with self._once_lock:
            if name not in self._once:
                self._once[name] = compute()
            return self._once[name]  # type: ignore[return-value]

    def remembered(self, kind: str, key: str, compute: Callable[[], _Fact],
                   keep: Callable[[_Fact], bool] | None = None) -> _Fact:
        """A fact derived from input that never changes (a git blob, a file's content hash):
        computed once, kept in the facts cache, and reused by later scans.

        `kind` names the computation (and its version: change it when the computation
        changes); `key` names the input; `keep` may refuse to keep a value (one that says git
        failed), which is then computed again when asked for. Values must be plain picklable
        values. Facts that a scan does not ask for are dropped from the cache when it is saved.
        """
        found, value = self.recall(kind, key)
        if found:
            return value  # type: ignore[return-value]
        made = compute()
        if keep is None or keep(made):
            self._memo[(kind, key)] = made
            if self._cache is not None:
                self._cache.put_fact((kind, key), made)
        return made

    def recall(self, kind: str, key: str) -> tuple[bool, object]:
        """(found, value) of a fact remembered by this scan or an earlier one, computing
        nothing (to gather the missing ones and compute them together)."""
        memo_key = (kind, key)
        if memo_key in self._memo:
            return True, self._memo[memo_key]
        if self._cache is not None:
            found, value = self._cache.fact(memo_key)
            if found:
                self._memo[memo_key] = value
                return True, value
        return False, None

    # --- dependencies -----

    def dependencies(self) -> tuple[Dependency, ...]:
        if self._dependencies is None:
            sources = []
            for path in self.files:
                if is_dependency_file(path):
                    text = self.text(path)
                    if text is not None:
                        sources.append((path, text))
            self._dependencies = collect(sources)
        return self._dependencies

    def dependency(self, *names: str) -> Dependency | None:
        """The first declared dependency among `names` (normalised names)."""
        wanted = set(names)
        for dependency in self.dependencies():
            if dependency.name in wanted:
                return dependency
        return None

    # --- git history -----

    def _is_ancestor(self, old: str, new: str) -> bool:
        return self.git.run(["merge-base", "--is-ancestor", old, new]).status == 0

    def history(self) -> History:
        with self._history_lock:
            if self._history is None:
                self._history = self._read_history()
            return self._history

    def history_facts(self, kind: str, compute: Callable[[tuple[Commit, ...]], _Fact],
                      remember: Callable[[_Fact], bool] | None = None) -> list[_Fact]:
        """`compute` over the commits of each chunk of the history, newest chunk first,
        remembered per chunk: a rescan computes it only over the commits made since the last
        scan, and older chunks are not even loaded. `kind` names the computation and
        everything besides the commits it depends on; `remember` may refuse a value (one
        that says git failed). A chunk that git did not read completely is not remembered."""
        history = self.history()
        shallow = ":shallow" if history.shallow else ""
        values = []
        for position, chunk in enumerate(history.chunks):
            if position == 0 and not history.available:
                values.append(compute(chunk.commits))
            else:
                values.append(self.remembered(  # the chunk is loaded only when computed
                    kind, chunk.span.key + shallow, partial(_over_commits, compute, chunk),
                    remember))
        return values

    def _read_history(self) -> History:
        if not self.state.is_git:
            return History((), False, problem=self.state.problem or "not a git repository")
        head = self.state.commit
        if head is None:
            empty = "the repository has no commits yet"
            self._note(Note(f"git history not available: {empty}"))
            return History((), False, problem=empty)
        boundary = self._shallow_boundary() if self.state.shallow else frozenset()
        cached = self._cached
        chunks: list[HistoryChunk] = []
        new: tuple[Commit, ...] = ()
        problem: str | None = None
        if self._log is not None:
            new, problem = self._log.commits()
            span = ChunkRange(cached.head if cached is not None else None, head, len(new))
            chunks.append(HistoryChunk.loaded(span, _without(new, boundary)))
        if cached is not None:
            for older in cached.chunks:
                chunks.append(HistoryChunk(older, partial(self._load_chunk, older, boundary)))
        if self._cache is not None and problem is None and self._log is not None:
            self._cache.put_history(chunks[0].span, new)
            self._cache.save_history()  # now, while other threads or processes index
        if problem:
            self._note(Note(f"git log failed: {problem}"))
        if self.state.shallow:
            self._note(Note("shallow clone: history before the clone's depth is missing"))
        return History(tuple(chunks), problem is None, shallow=self.state.shallow,
                       problem=problem)

    def _load_chunk(self, span: ChunkRange, boundary: frozenset[str]) -> tuple[Commit, ...]:
        """A cached chunk's commits; read from git again when the cache file does not load."""
        commits = self._cache.load_chunk(span) if self._cache is not None else None
        if commits is None:
            commits, _ = LogReader(self.git, span.since, span.head).commits()
        return _without(commits, boundary)

    def _shallow_boundary(self) -> frozenset[str]:
        """The commits at a shallow clone's depth."""
        where = self.git.run(["rev-parse", "--git-path", "shallow"])
        path = Path(where.out.decode("utf-8", "surrogateescape").strip())
        if not path.is_absolute():
            path = self.root / path
        try:
            return frozenset(path.read_text("ascii", "replace").split())
        except OSError:
            return frozenset()

    # --- work in parallel -----

    @property
    def workers(self) -> int:
        """How many worker processes `in_workers` spreads work over (1: none, all here)."""
        pool = self._pool
        return pool.workers if pool is not None and pool.running else 1

    def in_workers(self, function: Callable[..., _Result],
                   arguments: Sequence[tuple[Any, ...]]) -> list[_Result]:
        """`function(*each)` for each of `arguments`, in order: in the worker processes that
        index the modules of a large project (those started for this scan), else here one after
        another. `function` must be a module-level function, and its arguments and results
        plain picklable values."""
        pool = self._pool
        if pool is None:
            return [function(*each) for each in arguments]
        return pool.map(function, arguments)

    def close(self) -> None:
        """Finish reading git, stop any indexing workers and write the cache."""
        if self._pool is not None:
            self._pool.close()
            self._pool = None
        if self.state.is_git and self.state.commit:
            self.history()
        if self._cache is not None:
            self._cache.save()

