"""Read-only git access that nothing in the scanned repository can turn into running a program.

Every call goes through `Git.run`, which switches off everything a repository's configuration
could use to start a program: fsmonitor, hooks, external diff, textconv, filter drivers, pagers,
credential helpers and ssh. Queries are small typed functions over it.
"""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, NamedTuple

GIT_TIMEOUT_S = 120.0

_SAFE_CONFIG = (
    "core.fsmonitor=false",
    "core.hooksPath=/dev/null",
    "core.pager=cat",
    "core.sshCommand=false",
    "core.gitProxy=",
    "core.askPass=",
    "credential.helper=",
    "diff.external=",
    "pager.log=false",
    "pager.diff=false",
    "protocol.allow=never",
    "core.untrackedCache=false",
    "gc.auto=0",
    "maintenance.auto=false",
    "log.showSignature=false",
    "gpg.program=false",
    "gpg.openpgp.program=false",
    "gpg.x509.program=false",
    "gpg.ssh.program=false",
    "safe.bareRepository=explicit",
)
"""Settings given on every command line. `log.showSignature` and the `gpg.*` programs stop
`git log` from running a verifier on signed commits; `safe.bareRepository` stops a bare
repository planted in the project from being used as the project's repository."""


class GitOutput(NamedTuple):
    status: int
    out: bytes
    err: str


def _environment() -> dict[str, str]:
    """The caller's environment without its GIT_ variables, and nothing that can start a program.

    GIT_ALLOW_PROTOCOL empty allows no transport at all: a partial clone would otherwise fetch
    missing objects from its promisor remote, running the repository's `uploadpack` or ssh
    command (`protocol.<name>.allow` in the repository beats our `protocol.allow=never`).
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update({
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_OPTIONAL_LOCKS": "0",
        "GIT_PAGER": "cat",
        "PAGER": "cat",
        "GIT_ASKPASS": "",
        "SSH_ASKPASS": "",
        "GIT_SSH_COMMAND": "false",
        "GIT_ALLOW_PROTOCOL": "",
        "GIT_NO_LAZY_FETCH": "1",
        "LC_ALL": "C",
    })
    return env


def _driver_overrides(keys: Sequence[str]) -> list[tuple[str, str]]:
    """Settings that switch off the filter, diff and merge drivers named by these config keys.

    A driver's name is the key's subsection and may hold any character, even '=' or nothing
    (`[filter ""]`): every filter driver found loses its clean, smudge and process commands and
    is made optional, every diff driver its textconv and command, every merge driver its program.
    """
    overrides: dict[str, str] = {}
    for key in keys:
        section, _, rest = key.partition(".")
        driver, dot, _ = rest.rpartition(".")
        if not dot:
            continue  # no subsection: `diff.external` and the like, set in _SAFE_CONFIG
        prefix = f"{section}.{driver}"
        if section == "filter":
            for variable in ("clean", "smudge", "process"):
                overrides[f"{prefix}.{variable}"] = ""
            overrides[f"{prefix}.required"] = "false"
        elif section == "diff":
            overrides[f"{prefix}.textconv"] = ""
            overrides[f"{prefix}.command"] = ""
        elif section == "merge":
            overrides[f"{prefix}.driver"] = "false"
    return list(overrides.items())


def _config_args(settings: Sequence[str]) -> tuple[str, ...]:
    return tuple(arg for setting in settings for arg in ("-c", setting))


class Git:
    """Runs git in one repository with every program-starting setting switched off."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._env = _environment()
        self._prepared: tuple[tuple[str, ...], dict[str, str]] | None = None

    def _prepare(self) -> tuple[tuple[str, ...], dict[str, str]]:
        """The `-c` arguments and the environment that every command of this repository gets.

        Driver settings go on the command line (`-c key=value`) unless the key holds '=', which
        `-c` cannot express; those go through GIT_CONFIG_COUNT/KEY/VALUE (git 2.31 and later).
        """
        if self._prepared is None:
            safe = _config_args(_SAFE_CONFIG)
            listed = self._raw([*safe, "config", "--null", "--get-regexp",
                                r"^(filter|diff|merge)\."], self._env)
            keys = []
            if listed.status == 0:
                for entry in listed.out.split(b"\0"):
                    if entry:
                        keys.append(entry.split(b"\n", 1)[0].decode("utf-8", "surrogateescape"))
            overrides = _driver_overrides(keys)
            args = safe + _config_args([f"{k}={v}" for k, v in overrides if "=" not in k])
            in_env = [(k, v) for k, v in overrides if "=" in k]
            env = dict(self._env)
            if in_env:
                env["GIT_CONFIG_COUNT"] = str(len(in_env))
                for index, (key, value) in enumerate(in_env):
                    env[f"GIT_CONFIG_KEY_{index}"] = key
                    env[f"GIT_CONFIG_VALUE_{index}"] = value
            self._prepared = (args, env)
        return self._prepared

    def _raw(
        self, args: Sequence[str], env: dict[str, str], timeout: float = GIT_TIMEOUT_S,
        stdin: bytes | None = None,
    ) -> GitOutput:
        try:
            done = subprocess.run(
                ["git", "--no-pager", *args], cwd=self.root, env=env,
                input=stdin if stdin is not None else b"", capture_output=True,
                timeout=timeout, check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            return GitOutput(-1, b"", str(error))
        return GitOutput(done.returncode, done.stdout, done.stderr.decode("utf-8", "replace"))

    def run(
        self, args: Sequence[str], timeout: float = GIT_TIMEOUT_S, stdin: bytes | None = None
    ) -> GitOutput:
        config, env = self._prepare()
        return self._raw([*config, *args], env, timeout, stdin)

    def stream(self, args: Sequence[str], fed: bool = False) -> subprocess.Popen[bytes]:
        """Start a long git command whose output is read as it comes (git log); `fed` gives it
        a pipe for its input (git cat-file --batch) and drops its error output."""
        config, env = self._prepare()
        return subprocess.Popen(
            ["git", "--no-pager", *config, *args], cwd=self.root, env=env,
            stdin=subprocess.PIPE if fed else subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL if fed else subprocess.PIPE,
        )


class RepoState(NamedTuple):
    """Where a git checkout stands; `problem` says why git could not be read."""

    is_git: bool
    toplevel: Path | None = None
    commit: str | None = None
    branch: str | None = None
    dirty: bool = False
    shallow: bool = False
    problem: str | None = None


def repo_state(git: Git) -> RepoState:
    top = git.run(["rev-parse", "--show-toplevel", "--is-shallow-repository"])
    if top.status != 0:
        message = top.err.strip().splitlines()[-1] if top.err.strip() else "git failed"
        if "not a git repository" in top.err:
            return RepoState(False, problem="not a git repository")
        return RepoState(False, problem=f"git cannot read this folder: {message}")
    lines = top.out.decode("utf-8", "replace").splitlines()
    toplevel = Path(lines[0]) if lines else None
    shallow = len(lines) > 1 and lines[1].strip() == "true"
    head = git.run(["rev-parse", "--verify", "-q", "HEAD"])
    commit = head.out.decode().strip() if head.status == 0 else None
    branch_out = git.run(["symbolic-ref", "-q", "--short", "HEAD"])
    branch = branch_out.out.decode("utf-8", "replace").strip() or None
    status = git.run(["status", "--porcelain", "-z", "--untracked-files=no", "--ignore-submodules"])
    dirty = status.status == 0 and bool(status.out.strip(b"\0"))
    return RepoState(True, toplevel, commit, branch, dirty, shallow)


def tracked_and_untracked_files(git: Git) -> list[str] | None:
    """Paths git knows or would add (ignored files left out), relative with '/'."""
    listed = git.run(["ls-files", "-z", "--cached", "--others", "--exclude-standard",
                      "--deduplicate"])
    if listed.status != 0:
        return None
    return [p.decode("utf-8", "surrogateescape") for p in listed.out.split(b"\0") if p]


ZERO_BLOB = "0" * 40
"""The blob id git shows for a side of a change where the file does not exist."""


class Change(NamedTuple):
    status: str
    """A, M, D or T: added, modified, deleted, type changed (renames show as D and A)."""
    path: str
    old_blob: str = ZERO_BLOB
    """The file's blob before the change (ZERO_BLOB when added); in a merge, the first
    parent's."""
    blob: str = ZERO_BLOB
    """The file's blob after the change (ZERO_BLOB when deleted)."""


class Commit(NamedTuple):
    sha: str
    author: str
    email: str
    timestamp: int
    subject: str
    changes: tuple[Change, ...]
    merge: bool = False
    """A merge commit: its changes are only those made in the merge itself (conflicts
    resolved by hand), not those its branches brought."""


_COMMIT_MARK = b"\x1e"
_FORMAT = "--format=%x1e%H%x1f%an%x1f%ae%x1f%at%x1f%P%x1f%s"


def log_command(since: str | None = None, head: str = "HEAD") -> list[str]:
    """The one `git log` call: every commit reachable from `head` (and not from `since`), with
    each file it changed and the blob ids before and after. A merge shows the files it changed
    from every parent (a conflict resolved by hand), not those its branches brought."""
    revision = f"{since}..{head}" if since else head
    return ["log", revision, "-z", "--raw", "--no-abbrev", "-c", "--no-renames",
            "--no-ext-diff", "--no-textconv", "--no-color", _FORMAT, "--"]


def parse_log(stream: Iterator[bytes]) -> Iterator[Commit]:
    """Parse the output of `log_command` as it streams in, one commit at a time."""
    pending = b""
    for chunk in stream:
        pending += chunk
        records = pending.split(_COMMIT_MARK)
        pending = records.pop()
        for record in records:
            if record:
                commit = _parse_record(record)
                if commit is not None:
                    yield commit
    if pending:
        commit = _parse_record(pending)
        if commit is not None:
            yield commit


def _parse_record(record: bytes) -> Commit | None:
    header, _, body = record.partition(b"\0")
    fields = header.rstrip(b"\n").decode("utf-8", "replace").split("\x1f", 5)
    if len(fields) < 6:
        return None
    sha, author, email, timestamp, parents, subject = fields
    parts = body.split(b"\0")
    changes: list[Change] = []
    index = 0
    while index + 1 < len(parts):
        meta = parts[index].lstrip(b"\n")
        if not meta.startswith(b":"):
            index += 1
            continue
        change = _parse_raw(meta, parts[index + 1])
        if change is not None:
            changes.append(change)
        index += 2
    try:
        stamp = int(timestamp)
    except ValueError:
        stamp = 0
    return Commit(sha, author, email, stamp, subject, tuple(changes), " " in parents.strip())


def _parse_raw(meta: bytes, path: bytes) -> Change | None:
    """One `--raw` entry: `:mode mode old new S` (a merge: one more colon, mode and blob per
    parent and a status letter per parent)."""
    parents = len(meta) - len(meta.lstrip(b":"))
    words = meta[parents:].decode("ascii", "replace").split()
    if len(words) != 2 * parents + 3:
        return None
    blobs = words[parents + 1:2 * parents + 2]
    status = words[-1][:1]
    if parents > 1:  # a merge: added or deleted for every parent, else modified
        if blobs[-1] == ZERO_BLOB:
            status = "D"
        elif all(b == ZERO_BLOB for b in blobs[:-1]):
            status = "A"
        else:
            status = "M"
    return Change(status, path.decode("utf-8", "surrogateescape"), blobs[0], blobs[-1])


def blob_sizes(git: Git, shas: Sequence[str]) -> dict[str, int] | None:
    """The size of each blob git has (missing objects and other kinds left out), with one
    `git cat-file --batch-check`; None when git fails."""
    if not shas:
        return {}
    done = git.run(["cat-file", "--batch-check"], stdin="\n".join(shas).encode("ascii") + b"\n")
    if done.status != 0:
        return None
    sizes = {}
    for line in done.out.splitlines():
        fields = line.split()
        if len(fields) == 3 and fields[1] == b"blob" and fields[2].isdigit():
            sizes[fields[0].decode("ascii")] = int(fields[2])
    return sizes


def read_blobs(git: Git, shas: Iterable[str], max_bytes: int) -> Iterator[tuple[str, bytes]]:
    """Yield (sha, content) for each blob as git reads it, through one `git cat-file --batch`
    process fed from a thread, so the caller works on one blob while git reads the next ones.

    `shas` may be a generator (it is consumed in the feeding thread). Blobs larger than
    `max_bytes` are yielded empty; missing objects are left out. Filters and textconv are never
    applied (`--batch` prints the object as stored). Stopping early ends the git process.
    """
    process = git.stream(["cat-file", "--batch"], fed=True)
    stdin, stdout = process.stdin, process.stdout
    assert stdin is not None and stdout is not None

    def feed() -> None:
        try:
            for sha in shas:
                stdin.write(sha.encode("ascii", "replace") + b"\n")
            stdin.close()
        except (OSError, ValueError):
            return  # git ended (or the reader stopped early)

    feeder = threading.Thread(target=feed, name="cat-file-feed", daemon=True)
    feeder.start()
    try:
        while header := stdout.readline():
            fields = header.split()
            if len(fields) < 3 or fields[1] != b"blob" or not fields[2].isdigit():
                continue  # `<sha> missing`, or an object that is not a blob
            size = int(fields[2])
            content = _read_exactly(stdout, size + 1)
            if len(content) < size + 1:
                return
            yield fields[0].decode("ascii", "replace"), content[:size] if size <= max_bytes \
                else b""
    finally:
        if process.poll() is None:
            process.kill()
        stdout.close()
        process.wait()
        feeder.join()
        if not stdin.closed:
            try:
                stdin.close()
            except OSError:
                pass


def _read_exactly(stream: IO[bytes], size: int) -> bytes:
    """`size` bytes from a pipe (fewer only at its end)."""
    data = stream.read(size)
    if len(data) == size or not data:
        return data
    parts = [data]
    missing = size - len(data)
    while missing > 0 and (more := stream.read(missing)):
        parts.append(more)
        missing -= len(more)
    return b"".join(parts)
