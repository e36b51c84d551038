"""Which files of a project are read, and reading them safely.

In a git repository the listing is `git ls-files` (tracked plus untracked-but-not-ignored);
elsewhere it is a walk that honours every .gitignore. Either way virtualenvs, node_modules and
build output are left out, links never lead outside the root, and huge or binary files are
skipped with a note instead of being read.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    import pathspec


MAX_FILE_BYTES = 2_000_000
BINARY_SNIFF_BYTES = 8192

SKIPPED_DIRS = frozenset({
    ".git", ".hg", ".svn", "node_modules", "__pycache__", ".venv", "venv", "env", ".env",
    "virtualenv", ".tox", ".nox", ".mypy_cache", ".pytest_cache", ".ruff_cache", "build",
    "dist", "site-packages", ".eggs", "htmlcov", ".idea", ".vscode", "bower_components",
})


def is_skipped_dir(part: str) -> bool:
    return part in SKIPPED_DIRS or part.endswith(".egg-info")


class Skipped(NamedTuple):
    path: str
    reason: str


class FileListing(NamedTuple):
    paths: tuple[str, ...]
    """Readable regular files, relative to the root with '/'."""
    skipped: tuple[Skipped, ...]
    """Files that exist but are not read, with the reason."""
    stamps: dict[str, FileStamp]
    """For each listed file that is not a link: what its size and change time were."""


FileStamp = tuple[int, int, int]
"""(size, modification time in ns, inode) of a file: when all three are as they were, its
content is taken to be unchanged (as git does for its index)."""


def _inside(root: str, target: str) -> bool:
    """`target` (resolved) is `root` (resolved) or inside it."""
    return target == root or target.startswith(_joined(root, ""))


def _joined(folder: str, relative: str) -> str:
    """`os.path.join` for a relative path from git or a walk, without its checks (this runs for
    every listed file)."""
    return folder + relative if folder.endswith(os.sep) else folder + os.sep + relative


def _real_folder(root: str, folder: str, real_folders: dict[str, str | None]) -> str | None:
    """The folder (a relative path with '/', '' for the root) with every link on its way
    resolved (None when it cannot be), remembered: each folder is resolved from its parent's
    real path, so the folders of a listing cost one `lstat` each. `root` is resolved."""
    if folder in real_folders:
        return real_folders[folder]
    unknown = []
    while folder and folder not in real_folders:
        unknown.append(folder)
        folder = folder.rpartition("/")[0]
    real = real_folders[folder] if folder else root
    for child in reversed(unknown):
        if real is not None:
            real = _real_child(real, child.rpartition("/")[2])
        real_folders[child] = real
    return real


def _real_child(real_parent: str, name: str) -> str | None:
    """The real path of `name` in an already resolved folder (None when it cannot be)."""
    path = _joined(real_parent, name)
    try:
        if not stat.S_ISLNK(os.lstat(path).st_mode):
            return path
        return os.path.realpath(path, strict=True)
    except OSError:
        return None


def _vet(
    root: Path, relative: str, real_folders: dict[str, str | None] | None = None,
    stamps: dict[str, FileStamp] | None = None,
) -> Skipped | None:
    """None when the file can be read; otherwise why not. `root` is resolved.

    The whole path is resolved, not only its last part: a folder on the way that is a link out
    of the project (a tracked `lib/app.py` whose `lib` was replaced by a link) is refused too.
    `real_folders` remembers resolved folders across the files of one listing; `stamps` gets the
    stamp of each regular file that is not a link.
    (Plain strings and `os` calls rather than `pathlib`: this runs for every listed file.)
    """
    base = str(root)
    path = _joined(base, relative)
    try:
        info = os.lstat(path)
    except OSError as error:
        if error.errno == errno.ELOOP:
            return Skipped(relative, "symbolic link loop")
        return Skipped(relative, "listed but missing on disk")
    is_link = stat.S_ISLNK(info.st_mode)
    if is_link:
        try:
            target = os.path.realpath(path, strict=True)
        except OSError as error:
            if error.errno == errno.ELOOP:
                return Skipped(relative, "symbolic link loop")
            return Skipped(relative, "broken symbolic link")
    else:
        folder, _, name = relative.rpartition("/")
        real_folder = _real_folder(base, folder, {} if real_folders is None else real_folders)
        if real_folder is None:
            return Skipped(relative, "listed but missing on disk")
        target = _joined(real_folder, name)
    if not _inside(base, target):
        if is_link:
            return Skipped(relative, "symbolic link points outside the project")
        return Skipped(relative, "reached through a symbolic link that points outside the project")
    if is_link:
        try:
            info = os.stat(target)
        except OSError:
            return Skipped(relative, "broken symbolic link")
    if stat.S_ISDIR(info.st_mode):
        return Skipped(relative, "symbolic link to a folder, not followed" if is_link
                       else "a git submodule (a repository of its own), not scanned")
    if not stat.S_ISREG(info.st_mode):
        return Skipped(relative, "not a regular file")
    if info.st_size > MAX_FILE_BYTES:
        return Skipped(relative, f"larger than {MAX_FILE_BYTES // 1_000_000} MB "
                                 f"({info.st_size // 1_000_000} MB)")
    if stamps is not None and not is_link:
        stamps[relative] = (info.st_size, info.st_mtime_ns, info.st_ino)
    return None


def _is_skipped_folder(folder: str) -> bool:
    """A folder path (with '/') that is or lies inside a skipped folder (a virtualenv, ...)."""
    return any(is_skipped_dir(part) for part in folder.split("/") if part)


def from_paths(root: Path, candidates: list[str]) -> FileListing:
    """Vet a list of candidate paths (from git) into a listing."""
    root = root.resolve()
    paths: list[str] = []
    skipped: list[Skipped] = []
    real_folders: dict[str, str | None] = {}
    stamps: dict[str, FileStamp] = {}
    skipped_folders: dict[str, bool] = {}
    for relative in candidates:
        folder = relative.rpartition("/")[0]
        hidden = skipped_folders.get(folder)
        if hidden is None:
            hidden = skipped_folders[folder] = _is_skipped_folder(folder)
        if hidden:
            continue
        problem = _vet(root, relative, real_folders, stamps)
        if problem is None:
            paths.append(relative)
        else:
            skipped.append(problem)
    return FileListing(tuple(sorted(paths)), tuple(skipped), stamps)


def walk(root: Path) -> FileListing:
    """List a folder that is not a git repository, honouring .gitignore files.

    Links to folders are listed (and then skipped with a note by `from_paths`), never followed.
    """
    import pathspec  # only for folders outside git: git honours .gitignore itself

    root = root.resolve()
    candidates: list[str] = []
    specs: list[tuple[str, pathspec.GitIgnoreSpec]] = []
    seen_dirs: set[tuple[int, int]] = set()
    for current, dirs, files in os.walk(root, followlinks=False):
        here = Path(current)
        relative_dir = here.relative_to(root).as_posix()
        prefix = "" if relative_dir == "." else relative_dir + "/"
        try:
            info = here.stat()
        except OSError:
            dirs[:] = []
            continue
        key = (info.st_dev, info.st_ino)
        if key in seen_dirs:
            dirs[:] = []
            continue
        seen_dirs.add(key)
        if ".gitignore" in files:
            data = read_bytes(root, prefix + ".gitignore")
            if data is not None:
                lines = decode(data).splitlines()
                specs.append((prefix, pathspec.GitIgnoreSpec.from_lines(lines)))
        active = [(p, s) for p, s in specs if prefix.startswith(p)]

        def ignored(relative: str, is_dir: bool, active: list[tuple[str, pathspec.GitIgnoreSpec]]
                    = active) -> bool:
            text = relative + "/" if is_dir else relative
            return any(spec.match_file(text[len(p):]) for p, spec in active)

        links = {d for d in dirs if (here / d).is_symlink()}
        dirs[:] = sorted(d for d in dirs if d not in links and not is_skipped_dir(d)
                         and not ignored(prefix + d, True))
        for name in sorted([*files, *links]):
            relative = prefix + name
            if not ignored(relative, False):
                candidates.append(relative)
    return from_paths(root, candidates)


def read_bytes(root: Path, relative: str,
               real_folders: dict[str, str | None] | None = None) -> bytes | None:
    """The file's bytes, or None when it cannot be read or has become unsafe since listing.

    `root` is resolved (as `Project.root` is); `real_folders` remembers resolved folders across
    the reads of one scan.
    """
    if _vet(root, relative, real_folders) is not None:
        return None
    try:
        with open(os.path.join(root, relative), "rb") as handle:
            return handle.read(MAX_FILE_BYTES + 1)[:MAX_FILE_BYTES]
    except OSError:
        return None


def looks_binary(data: bytes) -> bool:
    return b"\0" in data[:BINARY_SNIFF_BYTES]


def decode(data: bytes) -> str:
    """Text as UTF-8 (with a BOM removed), undecodable bytes replaced, never an exception."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    return data.decode("utf-8", errors="replace")

