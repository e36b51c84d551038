"""Scanning hostile repositories: nothing the repository configures starts a program, odd files
end up as notes, and every scan finishes.

Each trap is shown to be live: the same mechanism run through plain git creates its marker file,
so a scan that leaves no marker has really switched it off.
"""

from __future__ import annotations

import io
import json
import os
import pty
import shlex
import shutil
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from checklist_app.checklists import Checklists
from checklist_app.cli import main
from checklist_app.detectors.registry import REGEX_TIMEOUT_S
from checklist_app.findings import Confidence, Evidence, Finding, Note, Outcome, ScanResult
from checklist_app.project import Project, indexing
from checklist_app.project.git import Git
from checklist_app.scan import load_rules, scan_path
from tests.repos import GIT_ENV, Repo, git

FLASK_APP = "from flask import Flask\napp = Flask(__name__)\n"

EVERY_HOOK = (
    "applypatch-msg", "pre-applypatch", "post-applypatch", "pre-commit", "pre-merge-commit",
    "prepare-commit-msg", "commit-msg", "post-commit", "pre-rebase", "post-checkout",
    "post-merge", "pre-push", "pre-receive", "update", "proc-receive", "post-receive",
    "post-update", "reference-transaction", "push-to-checkout", "pre-auto-gc", "post-rewrite",
    "sendemail-validate", "fsmonitor-watchman", "p4-changelist", "p4-prepare-changelist",
    "p4-post-changelist", "p4-pre-submit", "post-index-change",
)

PROBE_RULES = """\
topic: probe
title: Probes for hostile input
order: 900
items:
  - id: probe.latin1-python
    title: Code in a Latin-1 file is read
    why: The file is not UTF-8.
    how: Nothing to do.
    detectors:
      - python_call: {names: [zlib.crc32]}
  - id: probe.latin1-requirements
    title: A Latin-1 requirements file is read
    why: The file is not UTF-8.
    how: Nothing to do.
    detectors:
      - dependency_declared: {names: [flask]}
  - id: probe.outside-never-read
    title: Nothing outside the project, too large or binary is read
    why: Links lead out of the project; some files are huge or binary.
    how: Nothing to do.
    detectors:
      - file_contains: {paths: ["*"], pattern: "TOP-SECRET"}
  - id: probe.odd-names
    title: Files with odd names are read
    why: A name may hold any byte but '/' and NUL.
    how: Nothing to do.
    detectors:
      - python_call: {names: [json.dumps, os.getcwd]}
  - id: probe.history
    title: History is read
    why: Some items need it.
    how: Nothing to do.
    detectors:
      - git_path_touched: {paths: [app.py]}
  - id: probe.never-committed
    title: No key was ever committed
    why: Some items need the whole history.
    how: Nothing to do.
    detectors:
      - git_never_committed: {paths: ["*.pem"]}
"""

BOMB_PATTERN = "(a+)+$"

BOMB_RULES = f"""\
topic: bomb
title: A pattern that backtracks catastrophically
items:
  - id: bomb.backtracking
    title: The pattern is stopped
    why: A checklist's regular expression can take forever.
    how: Nothing to do.
    detectors:
      - file_contains: {{paths: [bomb.txt], pattern: "{BOMB_PATTERN}"}}
"""


# --- helpers -------------------------------------------------------------------------------


def _plain_git_env() -> dict[str, str]:
    """What a person's own git would see: no pager override, no GIT_ variables of ours."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("GIT_") and k not in ("PAGER", "LESS")}
    env.update(GIT_ENV)
    return env


def _plain_git(root: Path, *args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    """Run git the ordinary way (the control: what the trap does when nothing stops it)."""
    return subprocess.run(["git", *args], cwd=root, env=_plain_git_env(), input=stdin,
                          capture_output=True, timeout=60, check=False)


def _program(bin_dir: Path, markers: Path, name: str, passthrough: bool = False) -> Path:
    """A program that leaves the marker `name` behind (and copies stdin for filters)."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    markers.mkdir(parents=True, exist_ok=True)
    path = bin_dir / name
    tail = "exec cat\n" if passthrough else "exit 0\n"
    path.write_text(f"#!/bin/sh\ntouch {shlex.quote(str(markers / name))}\n{tail}")
    path.chmod(0o755)
    return path


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _append_config(repo: Path, sections: Mapping[str, Mapping[str, str]]) -> None:
    """Write settings straight into .git/config (`'diff "evil"'` names a subsection)."""
    lines = []
    for section, values in sections.items():
        lines.append(f"[{section}]")
        lines.extend(f"\t{key} = {_quoted(value)}" for key, value in values.items())
    with open(repo / ".git" / "config", "a", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")


def _markers(markers: Path) -> list[str]:
    return sorted(p.name for p in markers.iterdir()) if markers.exists() else []


def _make_stat_dirty(root: Path, *paths: str) -> None:
    """New times on every file so that `git status` would re-read (and clean-filter) them."""
    later = time.time() + 120
    for path in paths:
        os.utime(root / path, (later, later))


def _scan(root: Path, rules: Checklists, tmp_path: Path) -> ScanResult:
    return scan_path(root, rules, cache_dir=tmp_path / "facts-cache")


def _rules_dir(tmp_path: Path, name: str, text: str) -> Path:
    folder = tmp_path / f"rules-{name}"
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.yaml").write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def probe_dir(tmp_path: Path) -> Path:
    return _rules_dir(tmp_path, "probe", PROBE_RULES)


@pytest.fixture
def probe_rules(probe_dir: Path) -> Checklists:
    rules = load_rules([probe_dir])
    assert [p for p in rules.problems if "probe.yaml" in p.path] == []
    return rules


def _cli(*argv: str) -> tuple[int, str, str]:
    """`checklist-app ARGV` with stdout as strict UTF-8 bytes, as a real terminal or pipe."""
    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding="utf-8", errors="strict", newline="")
    err = io.StringIO()
    code = main(list(argv), out, err)
    out.flush()
    out.detach()
    return code, raw.getvalue().decode("utf-8"), err.getvalue()


def _cli_json(root: Path, *extra: str) -> dict[str, Any]:
    code, out, err = _cli("scan", str(root), "--format", "json", "--no-save", *extra)
    assert code == 0, err
    data: dict[str, Any] = json.loads(out)
    return data


def _json_item(data: Mapping[str, Any], item_id: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [i for i in data["items"] if i["id"] == item_id]
    assert len(found) == 1, item_id
    return found[0]


def _listed(root: Path) -> tuple[str, ...]:
    """The files a scan of `root` reads."""
    project = Project(root)
    try:
        return project.files
    finally:
        project.close()


def _notes(result: ScanResult) -> list[tuple[str, str]]:
    return sorted((n.path or "", n.message) for n in result.notes)


def _errors(result: ScanResult) -> list[Finding]:
    return [f for f in result.findings if f.outcome is Outcome.ERROR]


def _finding(result: ScanResult, item_id: str) -> Finding:
    found = result.finding(item_id)
    assert found is not None, item_id
    return found


# --- 1. nothing the repository configures starts a program ----------------------------------


@dataclass(frozen=True, slots=True)
class Trap:
    repo: Path
    markers: Path


def _build_trap(base: Path) -> Trap:
    """A repository whose config points every program-starting setting at a marker program."""
    markers = base / "markers"
    bin_dir = base / "bin"
    repo = Repo(base / "repo")
    repo.commit({"app.py": FLASK_APP, "README.md": "hello\n",
                 ".gitattributes": "*.py diff=evil\n* filter=evil\n"})
    hooks = base / "hooks"
    hooks.mkdir()
    for hook in EVERY_HOOK:
        (hooks / hook).symlink_to(_program(bin_dir, markers, f"hook-{hook}"))

    def program(name: str, passthrough: bool = False) -> str:
        return str(_program(bin_dir, markers, name, passthrough))

    _append_config(repo.root, {
        "core": {"fsmonitor": program("fsmonitor"), "hooksPath": str(hooks),
                 "pager": program("pager"), "sshCommand": program("ssh"),
                 "askPass": program("askpass")},
        "diff": {"external": program("diff-external")},
        'diff "evil"': {"textconv": program("textconv")},
        'filter "evil"': {"clean": program("filter-clean", passthrough=True),
                          "smudge": program("filter-smudge", passthrough=True),
                          "process": program("filter-process"), "required": "true"},
        "credential": {"helper": program("credential")},
    })
    with open(repo.root / "app.py", "a", encoding="utf-8") as handle:
        handle.write("x = 1\n")
    _make_stat_dirty(repo.root, "app.py", "README.md", ".gitattributes")
    assert _markers(markers) == []
    return Trap(repo.root, markers)


@pytest.fixture
def trap(tmp_path: Path) -> Trap:
    return _build_trap(tmp_path / "trap")


CREDENTIAL_QUERY = b"protocol=https\nhost=example.invalid\n\n"

# marker -> plain git commands that make it appear ("config --unset filter.evil.process" first
# where git would prefer the process filter to the clean and smudge commands)
CONTROLS: dict[str, tuple[tuple[str, ...], ...]] = {
    "fsmonitor": (("status",),),
    "filter-process": (("status",),),
    "filter-clean": (("config", "--unset", "filter.evil.process"), ("status",)),
    "filter-smudge": (("config", "--unset", "filter.evil.process"),
                      ("cat-file", "--filters", "HEAD:README.md")),
    "hook-post-index-change": (("config", "--unset", "filter.evil.process"), ("status",)),
    "hook-pre-commit": (("config", "--unset", "filter.evil.process"), ("commit", "-qam", "x")),
    "diff-external": (("config", "--unset", "filter.evil.process"), ("diff",)),
    "textconv": (("config", "--unset", "filter.evil.process"), ("diff", "--no-ext-diff")),
    "ssh": (("ls-remote", "ssh://example.invalid/repo"),),
    "credential": (("credential", "fill"),),
    "askpass": (("-c", "credential.helper=", "credential", "fill"),),
}


@pytest.mark.parametrize("marker", sorted(CONTROLS))
def test_control_each_trap_starts_its_program_under_plain_git(trap: Trap, marker: str) -> None:
    for command in CONTROLS[marker]:
        _plain_git(trap.repo, *command, stdin=CREDENTIAL_QUERY)
    assert marker in _markers(trap.markers)


def test_control_the_pager_trap_starts_on_a_terminal(trap: Trap) -> None:
    leader, follower = pty.openpty()
    try:
        subprocess.run(["git", "log", "-1"], cwd=trap.repo, env=_plain_git_env(),
                       stdin=subprocess.DEVNULL, stdout=follower, stderr=subprocess.DEVNULL,
                       timeout=60, check=False)
    finally:
        os.close(follower)
        os.close(leader)
    assert _markers(trap.markers) == ["pager"]


def test_a_scan_and_the_cli_start_no_program_of_the_repository(
    trap: Trap, rules: Checklists, tmp_path: Path
) -> None:
    result = _scan(trap.repo, rules, tmp_path)
    assert _markers(trap.markers) == []
    assert result.project.is_git and result.project.dirty  # status ran despite `required`
    assert result.notes == ()
    assert _errors(result) == []
    data = _cli_json(trap.repo)
    assert data["project"]["dirty"] is True
    code, text, _ = _cli("scan", str(trap.repo), "--no-save")
    assert code == 0 and "uncommitted changes" in text
    assert _markers(trap.markers) == []
    # The same repository, left as the scan found it, does start programs under plain git.
    _plain_git(trap.repo, "status")
    assert _markers(trap.markers) == ["filter-process", "fsmonitor"]


RISKY_COMMANDS: tuple[tuple[str, ...], ...] = (
    ("status",),
    ("diff",),
    ("diff", "HEAD"),
    ("log", "-p"),
    ("show", "HEAD"),
    ("cat-file", "--filters", "HEAD:README.md"),
    ("cat-file", "--textconv", "HEAD:app.py"),
    ("grep", "--textconv", "-e", "Flask"),
    ("log", "--show-signature", "-1"),
    ("ls-remote", "ssh://example.invalid/repo"),
    ("credential", "fill"),
)


def test_git_run_starts_no_program_whatever_the_command(trap: Trap) -> None:
    runner = Git(trap.repo)
    for command in RISKY_COMMANDS:
        runner.run(command, stdin=CREDENTIAL_QUERY)
        assert _markers(trap.markers) == [], command
    diff = runner.run(["diff", "--no-ext-diff", "--no-textconv"])
    assert diff.status == 0 and b"+x = 1\n" in diff.out


def _sign(repo: Path) -> str:
    """A commit carrying a (fake) signature, made the new HEAD."""
    tree = git(repo, "rev-parse", "HEAD^{tree}").strip()
    parent = git(repo, "rev-parse", "HEAD").strip()
    body = (f"tree {tree}\nparent {parent}\n"
            "author Test Author <author@example.com> 1700000000 +0000\n"
            "committer Test Author <author@example.com> 1700000000 +0000\n"
            "gpgsig -----BEGIN PGP SIGNATURE-----\n \n iQEzBAABCAAdFiEE\n"
            " -----END PGP SIGNATURE-----\n\nsigned\n")
    done = subprocess.run(["git", "hash-object", "-t", "commit", "-w", "--stdin"], cwd=repo,
                          env=_plain_git_env(), input=body.encode(), capture_output=True,
                          check=True)
    sha = done.stdout.decode().strip()
    git(repo, "update-ref", "refs/heads/main", sha)
    return sha


def test_a_signature_verifier_is_never_started(
    tmp_path: Path, make_repo: Callable[..., Repo], rules: Checklists
) -> None:
    repo = make_repo({"app.py": FLASK_APP})
    signed = _sign(repo.root)
    markers = tmp_path / "markers"
    verifier = _program(tmp_path / "bin", markers, "gpg")
    _append_config(repo.root, {"log": {"showSignature": "true"},
                               "gpg": {"program": str(verifier)},
                               'gpg "ssh"': {"program": str(verifier)}})
    result = _scan(repo.root, rules, tmp_path)
    assert result.project.commit == signed and _errors(result) == []
    assert _markers(markers) == []
    _plain_git(repo.root, "log", "-1")
    assert _markers(markers) == ["gpg"]


def test_a_partial_clone_never_fetches_from_its_promisor_remote(
    tmp_path: Path, make_repo: Callable[..., Repo], probe_rules: Checklists
) -> None:
    source = make_repo({"app/__init__.py": FLASK_APP})
    source.commit({"app/views.py": "x = 1\n"})  # the clone lacks the first commit's trees
    git(source.root, "config", "uploadpack.allowFilter", "true")
    clone = tmp_path / "clone"
    git(tmp_path, "-c", "protocol.file.allow=always", "clone", "-q", "--filter=tree:0",
        f"file://{source.root}", str(clone))
    markers = tmp_path / "markers"
    upload_pack = _program(tmp_path / "bin", markers, "upload-pack")
    _append_config(clone, {'remote "origin"': {"uploadpack": str(upload_pack)},
                           'protocol "file"': {"allow": "always"},
                           'protocol "ssh"': {"allow": "always"}})
    result = _scan(clone, probe_rules, tmp_path)
    assert _markers(markers) == []
    history_notes = [n.message for n in result.notes if n.message.startswith("git log failed")]
    assert len(history_notes) == 1 and "promisor remote" in history_notes[0]
    finding = _finding(result, "probe.history")
    assert finding.outcome is Outcome.UNKNOWN
    assert finding.message.startswith("git history cannot be read: ")
    _plain_git(clone, "log", "--name-status")
    assert _markers(markers) == ["upload-pack"]


# Driver names are config subsections: any byte but newline and NUL, even '=' or nothing.
ODD_DRIVERS: tuple[bytes, ...] = (b"x=y", b'a"b', b"", b"caf\xe9", b"Upper.Dot")


def test_filter_drivers_with_odd_names_are_switched_off_too(
    tmp_path: Path, make_repo: Callable[..., Repo], rules: Checklists
) -> None:
    names = [f"f{index}.py" for index in range(len(ODD_DRIVERS))]
    attributes = b"".join(f"{name} filter=".encode() + driver + b"\n"
                          for name, driver in zip(names, ODD_DRIVERS, strict=True))
    repo = make_repo({**{name: "x = 1\n" for name in names}, ".gitattributes": attributes,
                      "app.py": FLASK_APP})
    markers = tmp_path / "markers"
    config = b""
    for index, driver in enumerate(ODD_DRIVERS):
        program = _program(tmp_path / "bin", markers, f"clean-{index}", passthrough=True)
        escaped = driver.replace(b"\\", b"\\\\").replace(b'"', b'\\"')
        config += b'[filter "' + escaped + b'"]\n\tclean = ' + str(program).encode() + b"\n"
        config += b"\trequired = true\n"
    with open(repo.root / ".git" / "config", "ab") as handle:
        handle.write(config)
    with open(repo.root / "app.py", "a", encoding="utf-8") as handle:
        handle.write("y = 2\n")
    _make_stat_dirty(repo.root, *names)
    result = _scan(repo.root, rules, tmp_path)
    assert result.project.dirty is True  # status ran: the required filters were made optional
    assert _markers(markers) == []
    _plain_git(repo.root, "status")
    assert _markers(markers) == [f"clean-{index}" for index in range(len(ODD_DRIVERS))]


# --- 2. hostile files end up as notes, and the scan finishes ---------------------------------

ODD_BYTES_NAME = b"caf\xe9.py".decode("utf-8", "surrogateescape")
NEWLINE_NAME = "new\nline.py"

REGULAR_FILES: dict[str, str | bytes] = {
    "app.py": FLASK_APP,
    "requirements.txt": b"# caf\xe9 cr\xe8me\nflask==3.0.0  # \xe9t\xe9\n",
    "latin1.py": b"# -*- coding: latin-1 -*-\nimport zlib\nzlib.crc32(b'x')  # caf\xe9\n",
    "broken.py": "def f(:\n    pass\n",
    "binary.py": b"\x00\x01TOP-SECRET\x00" * 64,
    "deep.py": "x = " + "+".join(["1"] * 100_000) + "\n",
    "lib/inner.py": "import os\n",
    "pkgdir/__init__.py": "",
    NEWLINE_NAME: "import os\nos.getcwd()\n",
}

LINKS = ("a", "b", "sub/up", "secret_link.py", "outside_dir", "pkg.py")


def _outside(base: Path) -> Path:
    """A folder next to the project whose content must never be read."""
    outside = base / "outside"
    (outside / "lib").mkdir(parents=True, exist_ok=True)
    (outside / "secret.py").write_text("TOP-SECRET = 1\n")
    (outside / "lib" / "inner.py").write_text("TOP-SECRET = 2\n")
    return outside


def _plant_links_and_specials(root: Path, outside: Path) -> None:
    (root / "a").symlink_to("b")
    (root / "b").symlink_to("a")
    (root / "sub").mkdir()
    (root / "sub" / "up").symlink_to("..")
    (root / "secret_link.py").symlink_to(outside / "secret.py")
    (root / "outside_dir").symlink_to(outside)
    (root / "pkg.py").symlink_to("pkgdir")
    shutil.rmtree(root / "lib")
    (root / "lib").symlink_to(outside / "lib")  # lib/inner.py now leads out of the project
    with open(root / "huge.py", "wb") as handle:
        handle.write(b"TOP-SECRET = 3\n")
        handle.truncate(50_000_000)
    os.mkfifo(root / "pipe.py")  # opening it would block the scan forever


def _hostile_repo(base: Path, git_repo: bool, odd_bytes_name: bool) -> tuple[Path, str | None]:
    """The hostile tree as a git repository (links committed) or as a plain folder."""
    outside = _outside(base)
    files = dict(REGULAR_FILES)
    if odd_bytes_name:
        files[ODD_BYTES_NAME] = "import json\njson.dumps(1)\n"
    repo = Repo(base / "project", init_git=git_repo)
    first = None
    if git_repo:
        first = repo.commit(files, "hostile files")
    else:
        repo.write(files)
    _plant_links_and_specials(repo.root, outside)
    if git_repo:
        git(repo.root, "add", *LINKS)
        git(repo.root, "commit", "-qm", "links")
    return repo.root, first


OUTSIDE = "skipped: symbolic link points outside the project"
COMMON_NOTES = [
    ("a", "skipped: symbolic link loop"),
    ("b", "skipped: symbolic link loop"),
    ("binary.py", "skipped: binary file with a .py name"),
    ("broken.py", "not parsed: invalid syntax at line 1"),
    ("deep.py", "not parsed: too deeply nested to parse"),
    ("huge.py", "skipped: larger than 2 MB (50 MB)"),
    ("lib", OUTSIDE),
    ("outside_dir", OUTSIDE),
    ("pkg.py", "skipped: symbolic link to a folder, not followed"),
    ("secret_link.py", OUTSIDE),
    ("sub/up", "skipped: symbolic link to a folder, not followed"),
]
NOTES_BY_MODE = {
    # git keeps listing the committed lib/inner.py; git never lists a fifo
    "git": sorted([*COMMON_NOTES, ("lib/inner.py", "skipped: reached through a symbolic link "
                                                   "that points outside the project")]),
    "folder": sorted([*COMMON_NOTES, ("", "git history not available: not a git repository"),
                      ("pipe.py", "skipped: not a regular file")]),
}


@pytest.mark.parametrize("in_workers", [False, True], ids=["here", "in-workers"])
@pytest.mark.parametrize("mode", ["git", "folder"])
def test_hostile_files_become_notes_and_nothing_outside_is_read(
    tmp_path: Path, probe_rules: Checklists, mode: str, in_workers: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pools: list[bool] = []
    if in_workers:  # the modules are read and parsed by worker processes, as in a large project
        if (os.cpu_count() or 1) < 2:
            pytest.skip("one core: no worker processes")
        monkeypatch.setattr(indexing, "PARALLEL_FROM_MODULES", 2)
        monkeypatch.setattr(indexing, "PARALLEL_FROM_MODULES_FORKED", 2)
        real = indexing.IndexingPool.read_many

        def spying(pool: indexing.IndexingPool, *args: Any) -> list[indexing.ReadModule]:
            pools.append(pool.running)
            return real(pool, *args)

        monkeypatch.setattr(indexing.IndexingPool, "read_many", spying)
    root, first = _hostile_repo(tmp_path, git_repo=mode == "git", odd_bytes_name=True)
    result = _scan(root, probe_rules, tmp_path)
    assert pools == ([True] if in_workers else [])
    assert _notes(result) == NOTES_BY_MODE[mode]
    assert _errors(result) == []
    assert _listed(root) == tuple(sorted(
        [p for p in REGULAR_FILES if not p.startswith("lib/")] + [ODD_BYTES_NAME]))
    expected = {
        "probe.latin1-python": Finding(
            Outcome.PASS, Confidence.HIGH, "zlib.crc32 is called",
            (Evidence("latin1.py", 3, None, "zlib.crc32(b'x') # caf\ufffd"),)),
        "probe.latin1-requirements": Finding(
            Outcome.PASS, Confidence.HIGH, "flask is declared in requirements.txt",
            (Evidence("requirements.txt", 2, None, "flask==3.0.0 # \ufffdt\ufffd"),)),
        "probe.outside-never-read": Finding(
            Outcome.FAIL, Confidence.HIGH,
            "no line matching 'TOP-SECRET' in 9 file(s) matching *"),
        "probe.odd-names": Finding(
            Outcome.PASS, Confidence.HIGH, "json.dumps, os.getcwd is called",
            (Evidence(ODD_BYTES_NAME, 2, None, "json.dumps(1)"),
             Evidence(NEWLINE_NAME, 2, None, "os.getcwd()"))),
        "probe.history": Finding(
            Outcome.PASS, Confidence.HIGH, f"app.py was changed in {(first or '')[:10]}",
            (Evidence("app.py", None, first, "hostile files"),)) if first else Finding(
            Outcome.UNKNOWN, Confidence.LOW,
            "git history cannot be read: not a git repository"),
    }
    for item_id, finding in expected.items():
        assert _finding(result, item_id) == Finding(
            finding.outcome, finding.confidence, finding.message, finding.evidence, item_id)


@pytest.mark.parametrize("mode", ["git", "folder"])
def test_the_cli_reports_every_hostile_file_in_its_notes(
    tmp_path: Path, probe_dir: Path, mode: str
) -> None:
    root, _ = _hostile_repo(tmp_path, git_repo=mode == "git", odd_bytes_name=False)
    data = _cli_json(root, "--rules", str(probe_dir))
    assert _json_item(data, "probe.outside-never-read")["finding"] == {
        "outcome": "fail", "confidence": "high", "evidence": [],
        "message": "no line matching 'TOP-SECRET' in 8 file(s) matching *"}
    assert _json_item(data, "probe.odd-names")["finding"]["evidence"] == [
        {"path": NEWLINE_NAME, "line": 2, "commit": None, "excerpt": "os.getcwd()"}]
    assert [i["id"] for i in data["items"] if i["finding"]["outcome"] == "error"] == []
    code, text, _ = _cli("scan", str(root), "--no-save", "--rules", str(probe_dir))
    assert code == 0
    notes = text[text.index("\nNotes ("):].splitlines()[2:]
    assert sorted(notes) == sorted(
        f"  {path}: {message}" if path else f"  {message}" for path, message in
        NOTES_BY_MODE[mode])


@pytest.mark.parametrize("format_", ["json", "text", "markdown"])
def test_a_file_name_that_is_not_utf8_does_not_break_the_output(
    make_repo: Callable[..., Repo], probe_dir: Path, format_: str
) -> None:
    repo = make_repo({ODD_BYTES_NAME: "import json\njson.dumps(1)\n"})
    code, out, err = _cli("scan", str(repo.root), "--no-save", "--format", format_,
                          "--rules", str(probe_dir))
    assert code == 0, err
    expected = {"json": '"path": "caf\\\\xe9.py"', "text": "caf\\xe9.py:2",
                "markdown": "caf\\xe9.py:2"}[format_]
    assert expected in out
    if format_ != "markdown":  # the markdown table shows locations, not excerpts
        assert "json.dumps(1)" in out


def test_a_binary_python_file_is_noted_once(
    make_repo: Callable[..., Repo], probe_rules: Checklists, tmp_path: Path
) -> None:
    repo = make_repo({"binary.py": b"\x00\x01" * 64})
    result = _scan(repo.root, probe_rules, tmp_path)
    assert len([n for n in result.notes if n.path == "binary.py"]) == 1


def test_a_folder_that_is_not_a_repository_honours_its_gitignore(
    make_repo: Callable[..., Repo], probe_rules: Checklists, tmp_path: Path
) -> None:
    repo = make_repo({
        ".gitignore": "ignored/\nsecret_*.py\n",
        "ignored/app.py": FLASK_APP,
        "secret_app.py": FLASK_APP,
        "keep/views.py": "import zlib\nzlib.crc32(b'')\n",
        "keep/.gitignore": "*.txt\n",
        "keep/notes.txt": "TOP-SECRET\n",
    }, git=False)
    assert _listed(repo.root) == (".gitignore", "keep/.gitignore", "keep/views.py")
    result = _scan(repo.root, probe_rules, tmp_path)
    assert result.project.is_git is False and result.project.commit is None
    assert _notes(result) == [("", "git history not available: not a git repository")]
    assert _finding(result, "probe.latin1-python").evidence == (
        Evidence("keep/views.py", 2, None, "zlib.crc32(b'')"),)
    assert _finding(result, "probe.outside-never-read").message == (
        "no line matching 'TOP-SECRET' in 3 file(s) matching *")
    assert _finding(result, "probe.history") == Finding(
        Outcome.UNKNOWN, Confidence.LOW, "git history cannot be read: not a git repository",
        (), "probe.history")
    assert _errors(result) == []


def test_a_submodule_is_noted_and_not_scanned(
    tmp_path: Path, make_repo: Callable[..., Repo], probe_rules: Checklists
) -> None:
    inner = make_repo({"secret.py": "TOP-SECRET = 1\n"})
    repo = make_repo({"app.py": FLASK_APP})
    git(repo.root, "-c", "protocol.file.allow=always", "submodule", "add", "-q",
        str(inner.root), "vendor/inner")
    git(repo.root, "commit", "-qm", "a submodule")
    result = _scan(repo.root, probe_rules, tmp_path)
    assert Note("skipped: a git submodule (a repository of its own), not scanned",
                "vendor/inner") in result.notes
    assert _finding(result, "probe.outside-never-read").message == (
        "no line matching 'TOP-SECRET' in 2 file(s) matching *")
    assert _errors(result) == []


def test_an_empty_repository_is_scanned(
    tmp_path: Path, make_repo: Callable[..., Repo], probe_rules: Checklists, probe_dir: Path
) -> None:
    repo = make_repo()
    repo.write({"app.py": FLASK_APP})
    result = _scan(repo.root, probe_rules, tmp_path)
    assert (result.project.is_git, result.project.commit, result.project.branch) == (
        True, None, "main")
    assert _errors(result) == []
    assert _finding(result, "probe.odd-names").outcome is Outcome.FAIL
    data = _cli_json(repo.root, "--rules", str(probe_dir))
    assert data["project"]["commit"] is None


def test_an_empty_repository_says_it_has_no_history(
    tmp_path: Path, make_repo: Callable[..., Repo], probe_rules: Checklists
) -> None:
    repo = make_repo()
    repo.write({"app.py": FLASK_APP})
    result = _scan(repo.root, probe_rules, tmp_path)
    assert any("no commits" in n.message and n.path is None for n in result.notes)
    for item_id in ("probe.history", "probe.never-committed"):
        finding = _finding(result, item_id)
        assert finding.outcome is Outcome.UNKNOWN and "no commits" in finding.message


def _shallow_clone(tmp_path: Path, make_repo: Callable[..., Repo]) -> tuple[Path, str, str]:
    source = make_repo({"app.py": FLASK_APP}, message="add the app")
    first = git(source.root, "rev-parse", "HEAD").strip()
    last = source.commit({"views.py": "x = 1\n"}, "add views")
    clone = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{source.root}", str(clone))
    return clone, first, last


def test_a_shallow_clone_is_noted_and_lowers_history_confidence(
    tmp_path: Path, make_repo: Callable[..., Repo], probe_rules: Checklists, probe_dir: Path
) -> None:
    clone, _, last = _shallow_clone(tmp_path, make_repo)
    result = _scan(clone, probe_rules, tmp_path)
    assert result.project.commit == last
    assert _notes(result) == [("", "shallow clone: history before the clone's depth is missing")]
    assert _finding(result, "probe.never-committed") == Finding(
        Outcome.PASS, Confidence.MEDIUM, "no file matching *.pem in 1 commits", (),
        "probe.never-committed")
    assert _errors(result) == []
    code, text, _ = _cli("scan", str(clone), "--no-save", "--rules", str(probe_dir))
    assert code == 0 and "  shallow clone: history before the clone's depth is missing" in text


def test_a_shallow_clone_does_not_credit_the_boundary_commit(
    tmp_path: Path, make_repo: Callable[..., Repo], probe_rules: Checklists
) -> None:
    clone, _, last = _shallow_clone(tmp_path, make_repo)
    finding = _finding(_scan(clone, probe_rules, tmp_path), "probe.history")
    assert not (finding.outcome is Outcome.PASS and finding.evidence[0].commit == last)


def _bomb_repo(make_repo: Callable[..., Repo]) -> Path:
    return make_repo({"app.py": FLASK_APP, "bomb.txt": "a" * 100_000 + "b\n"}).root


BOMB_MESSAGE = (f"the pattern '{BOMB_PATTERN}' took longer than {REGEX_TIMEOUT_S:g} s on "
                "bomb.txt and was stopped; simplify the expression")


def test_a_backtracking_pattern_is_stopped_by_the_time_limit(
    make_repo: Callable[..., Repo], tmp_path: Path
) -> None:
    root = _bomb_repo(make_repo)
    rules = load_rules([_rules_dir(tmp_path, "bomb", BOMB_RULES)], include_builtin=False)
    assert rules.problems == ()
    started = time.monotonic()
    result = _scan(root, rules, tmp_path)
    assert time.monotonic() - started < 10 * REGEX_TIMEOUT_S
    assert result.findings == (Finding(Outcome.UNKNOWN, Confidence.LOW, BOMB_MESSAGE,
                                       (Evidence("bomb.txt"),), "bomb.backtracking"),)


def test_the_cli_stops_a_backtracking_pattern_from_a_rules_folder(
    make_repo: Callable[..., Repo], tmp_path: Path
) -> None:
    root = _bomb_repo(make_repo)
    started = time.monotonic()
    data = _cli_json(root, "--rules", str(_rules_dir(tmp_path, "bomb", BOMB_RULES)))
    assert time.monotonic() - started < 10 * REGEX_TIMEOUT_S
    item = _json_item(data, "bomb.backtracking")
    assert (item["status"], item["finding"]) == ("unknown", {
        "outcome": "unknown", "confidence": "low", "message": BOMB_MESSAGE,
        "evidence": [{"path": "bomb.txt", "line": None, "commit": None, "excerpt": ""}]})
