"""The one `git log` a scan reads: every commit, each file it changed with the blob before and
after, and for a merge only what the merge changed itself."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from checklist_app.project.git import ZERO_BLOB, Git, log_command, parse_log
from tests.repos import Repo, git

MakeRepo = Callable[..., Repo]


def _log(root: Path) -> list[tuple[str, bool, list[tuple[str, str, str, str]]]]:
    done = Git(root).run(log_command())
    commits = parse_log(iter([done.out[start:start + 97] for start in range(0, len(done.out), 97)]))
    return [(c.subject, c.merge, [(ch.status, ch.path, ch.old_blob, ch.blob) for ch in c.changes])
            for c in commits]


def _blob(root: Path, revision: str, path: str) -> str:
    return git(root, "rev-parse", f"{revision}:{path}").strip()


def test_changes_of_plain_commits_and_of_merges(make_repo: MakeRepo) -> None:
    repo = make_repo({"a.py": "a = 1\n", "b.py": "b = 1\n", "gone.py": "x\n", "é/ü.py": "u\n"})
    root = repo.root
    first = {path: _blob(root, "HEAD", path) for path in ("a.py", "b.py", "gone.py", "é/ü.py")}
    git(root, "checkout", "-q", "-b", "side")
    repo.commit({"b.py": "b = 2\n"}, "side changes b")
    git(root, "checkout", "-q", "main")
    repo.delete("gone.py")
    repo.commit({"a.py": "a = 2\n", "new.py": "n\n"}, "main changes a")
    git(root, "merge", "-q", "--no-ff", "-m", "clean merge", "side")
    git(root, "checkout", "-q", "-b", "other", "HEAD~1")
    repo.commit({"a.py": "a = 3\n"}, "other changes a")
    git(root, "checkout", "-q", "main")
    git(root, "merge", "-q", "--no-commit", "-s", "ours", "other")
    repo.write({"a.py": "a = 4  # resolved by hand\n"})
    git(root, "add", "a.py")
    git(root, "commit", "-q", "-m", "evil merge")
    log = _log(root)
    assert sorted(subject for subject, _, _ in log) == sorted([
        "evil merge", "other changes a", "clean merge", "main changes a", "side changes b",
        "initial"])
    assert log[0][0] == "evil merge"  # newest first
    by_subject = {subject: (merge, changes) for subject, merge, changes in log}
    two, three = _blob(root, "HEAD~2", "a.py"), _blob(root, "other", "a.py")
    assert by_subject["evil merge"] == (True, [("M", "a.py", two, _blob(root, "HEAD", "a.py"))])
    assert by_subject["clean merge"] == (True, [])  # its branches brought every change
    assert by_subject["other changes a"] == (False, [("M", "a.py", two, three)])
    assert by_subject["main changes a"] == (False, [
        ("M", "a.py", first["a.py"], two),
        ("D", "gone.py", first["gone.py"], ZERO_BLOB),
        ("A", "new.py", ZERO_BLOB, _blob(root, "HEAD", "new.py"))])
    assert by_subject["initial"] == (False, sorted(
        ("A", path, ZERO_BLOB, blob) for path, blob in first.items()))
