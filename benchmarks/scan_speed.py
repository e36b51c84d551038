"""Measure a whole `checklist-app scan` against the floor and the performance budgets.

On one repository (built by synthetic_repo.py unless `--repo` names a real one) it measures, as
whole-process wall times, each repeated `--repeat` times (median shown):

- the floor: one fresh Python process that reads and `ast.parse`s every Python file git lists,
  then reads one `git log --name-status` of the whole history;
- a full scan: `checklist-app scan REPO --format json --no-save` with an empty facts cache,
  with its peak memory (the largest resident set of the process and the git it waits for);
- a rescan: the same scan after one Python file was changed (and committed), with the cache
  the previous scan left;
- for information, the same rescan in a process that already scanned (the desktop app's scan
  process, which stays up between scans): the time of the second `scan_path` call alone,
  without Python's start and the imports. The budget is judged on the whole-process rescan.

It prints the figures and the ratios against the budgets in DESIGN.md (full/floor <= 1.5,
rescan/full <= 0.10, peak memory <= 400 MB), each PASS or OVER. A `--repo` is never touched:
it is cloned into a temporary folder first, and the change is made in the clone.

With `--profile FILE` it also runs one full scan under cProfile and prints the top costs.

    python benchmarks/scan_speed.py [--repo PATH] [--modules N] [--commits N] [--repeat N]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

BUDGET_FULL_OVER_FLOOR = 1.5
BUDGET_RESCAN_OVER_FULL = 0.10
BUDGET_PEAK_MB = 400.0

PROFILE_LINES = 30
LOG_FORMAT = "--format=%x1e%H%x1f%an%x1f%ae%x1f%at%x1f%s"

FLOOR_SCRIPT = """
import ast, os, subprocess, sys
root = sys.argv[1]
listed = subprocess.run(["git", "ls-files", "-z"], cwd=root, capture_output=True, check=True)
parsed = 0
for raw in listed.stdout.split(b"\\0"):
    if not raw.endswith(b".py"):
        continue
    with open(os.path.join(root, os.fsdecode(raw)), "rb") as handle:
        text = handle.read().decode("utf-8", "replace")
    try:
        ast.parse(text)
    except (SyntaxError, ValueError):
        pass
    parsed += 1
log = subprocess.run(["git", "log", "HEAD", "-z", "--name-status", "--no-renames",
                      sys.argv[2], "--"], cwd=root, capture_output=True, check=True)
print(parsed, len(log.stdout))
"""

WARM_RESCAN_SCRIPT = """
import sys, time
from pathlib import Path
from checklist_app.scan import load_rules, scan_path
root, cache = Path(sys.argv[1]), Path(sys.argv[2])
rules = load_rules(cache_dir=cache)
scan_path(root, rules, cache_dir=cache)
print("scanned", flush=True)
sys.stdin.readline()  # the benchmark changes one file meanwhile
started = time.perf_counter()
scan_path(root, rules, cache_dir=cache)
print(time.perf_counter() - started, flush=True)
"""


@dataclass(frozen=True, slots=True)
class Run:
    """One finished child process."""

    seconds: float
    peak_mb: float
    status: int
    stdout: bytes
    stderr: str


@dataclass(frozen=True, slots=True)
class Figures:
    repo: str
    python_files: int
    commits: int
    repeat: int
    committed: bool
    """Whether the rescan's change was committed."""
    floor_s: float
    full_s: float
    rescan_s: float
    warm_rescan_s: float
    peak_mb: float
    floor_samples: tuple[float, ...]
    full_samples: tuple[float, ...]
    rescan_samples: tuple[float, ...]
    warm_rescan_samples: tuple[float, ...]
    peak_samples: tuple[float, ...]

    @property
    def full_over_floor(self) -> float:
        return self.full_s / self.floor_s

    @property
    def rescan_over_full(self) -> float:
        return self.rescan_s / self.full_s

    @property
    def warm_rescan_over_full(self) -> float:
        return self.warm_rescan_s / self.full_s


class BenchmarkError(Exception):
    pass


def _git_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update({"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
                "GIT_TERMINAL_PROMPT": "0", "GIT_AUTHOR_NAME": "Benchmark",
                "GIT_AUTHOR_EMAIL": "benchmark@example.com", "GIT_COMMITTER_NAME": "Benchmark",
                "GIT_COMMITTER_EMAIL": "benchmark@example.com"})
    return env


def _git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=root, env=_git_env(), capture_output=True,
                          text=True, check=False)
    if done.returncode != 0:
        raise BenchmarkError(f"git {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


def _max_rss_mb(kilobytes_or_bytes: int) -> float:
    """ru_maxrss is in kilobytes on Linux and in bytes on macOS."""
    if sys.platform == "darwin":
        return kilobytes_or_bytes / (1024 * 1024)
    return kilobytes_or_bytes / 1024


def run_process(argv: Sequence[str], env: dict[str, str], scratch: Path) -> Run:
    """Run a command to the end; wall time from start to exit, peak memory from wait4."""
    out_path = scratch / "stdout"
    err_path = scratch / "stderr"
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        started = time.perf_counter()
        process = subprocess.Popen(list(argv), stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                   env=env)
        _, wait_status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(wait_status)
    return Run(seconds, _max_rss_mb(usage.ru_maxrss), process.returncode,
               out_path.read_bytes(), err_path.read_text("utf-8", "replace"))


def _checked(run: Run, what: str) -> Run:
    if run.status != 0:
        tail = "\n".join(run.stderr.strip().splitlines()[-15:])
        raise BenchmarkError(f"{what} exited with {run.status}:\n{tail}")
    return run


def scan_command() -> list[str]:
    """`checklist-app` from this interpreter's environment, or `python -m checklist_app`."""
    script = Path(sys.executable).parent / "checklist-app"
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-m", "checklist_app"]


def _scan_env(cache: Path) -> dict[str, str]:
    """The environment of a scan: its own facts cache and database, nothing of the user's."""
    env = dict(os.environ)
    env["CHECKLIST_APP_CACHE"] = str(cache)
    env["CHECKLIST_APP_DB"] = str(cache / "progress.db")
    return env


class Bench:
    """The measurements on one repository, with scratch folders under `work`."""

    def __init__(self, repo: Path, work: Path) -> None:
        self.repo = repo
        self.work = work
        self._counter = 0

    def _scratch(self) -> Path:
        self._counter += 1
        folder = self.work / f"run{self._counter}"
        folder.mkdir()
        return folder

    def floor(self) -> Run:
        argv = [sys.executable, "-c", FLOOR_SCRIPT, str(self.repo), LOG_FORMAT]
        return _checked(run_process(argv, _git_env(), self._scratch()), "the floor")

    def scan(self, cache: Path) -> Run:
        env = _scan_env(cache)
        argv = [*scan_command(), "scan", str(self.repo), "--format", "json", "--no-save"]
        run = _checked(run_process(argv, env, self._scratch()), "checklist-app scan")
        try:
            json.loads(run.stdout)
        except ValueError as error:
            raise BenchmarkError(f"checklist-app scan printed no JSON: {error}") from error
        return run

    def profile(self, output: Path) -> str:
        """One full scan under cProfile (empty cache); the top costs in checklist_app."""
        env = _scan_env(self.fresh_cache())
        argv = [sys.executable, "-m", "cProfile", "-o", str(output), "-m", "checklist_app",
                "scan", str(self.repo), "--format", "json", "--no-save"]
        _checked(run_process(argv, env, self._scratch()), "the profiled scan")
        text = io.StringIO()
        stats = pstats.Stats(str(output), stream=text)
        stats.sort_stats("cumulative").print_stats("checklist_app", PROFILE_LINES)
        stats.sort_stats("tottime").print_stats(PROFILE_LINES)
        return text.getvalue()

    def warm_rescan(self, cache: Path, number: int, commit: bool) -> float:
        """Seconds of a rescan (after `change_one_file`) in a process that scanned already."""
        argv = [sys.executable, "-c", WARM_RESCAN_SCRIPT, str(self.repo), str(cache)]
        with subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, env=_scan_env(cache), text=True) as child:
            assert child.stdin is not None and child.stdout is not None
            ready = child.stdout.readline()
            if ready.strip() == "scanned":
                self.change_one_file(number, commit)
                child.stdin.write("\n")
                child.stdin.flush()
            answer = child.stdout.readline()
            error = child.stderr.read() if child.stderr is not None else ""
        try:
            return float(answer)
        except ValueError:
            tail = "\n".join(error.strip().splitlines()[-15:])
            raise BenchmarkError(f"the warm rescan failed:\n{tail}") from None

    def fresh_cache(self) -> Path:
        return Path(tempfile.mkdtemp(prefix="cache-", dir=self.work))

    def change_one_file(self, number: int, commit: bool) -> str:
        """Append a function to one Python module (and commit it); returns its path."""
        listed = [p for p in _git(self.repo, "ls-files", "-z").split("\0") if p.endswith(".py")]
        if not listed:
            raise BenchmarkError("the repository has no Python file to change")
        path = sorted(listed, key=lambda p: (p.count("/"), p))[len(listed) // 2]
        with open(self.repo / path, "a", encoding="utf-8") as handle:
            handle.write(f"\n\ndef benchmark_touch_{number}():\n    return {number}\n")
        if commit:
            _git(self.repo, "commit", "-q", "--no-verify", "-m", f"benchmark change {number}",
                 "--", path)
        return path


def _median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def measure(repo: Path, work: Path, repeat: int, commit: bool = True,
            profile: Path | None = None) -> tuple[Figures, str]:
    """The figures, and the profile's top costs when `profile` names an output file."""
    bench = Bench(repo, work)
    python_files = sum(1 for p in _git(repo, "ls-files", "-z").split("\0") if p.endswith(".py"))
    commits = int(_git(repo, "rev-list", "--count", "HEAD").strip() or 0)
    bench.floor()  # once unmeasured, so every measurement starts with the files in page cache
    floors = [bench.floor().seconds for _ in range(repeat)]
    fulls = [bench.scan(bench.fresh_cache()) for _ in range(repeat)]
    profiled = bench.profile(profile) if profile is not None else ""
    rescans: list[float] = []
    for number in range(repeat):
        cache = bench.fresh_cache()
        bench.scan(cache)
        bench.change_one_file(number, commit)
        rescans.append(bench.scan(cache).seconds)
    warm = [bench.warm_rescan(bench.fresh_cache(), repeat + number, commit)
            for number in range(repeat)]
    figures = Figures(
        repo=str(repo), python_files=python_files, commits=commits, repeat=repeat,
        floor_s=_median(floors), full_s=_median([r.seconds for r in fulls]),
        rescan_s=_median(rescans), warm_rescan_s=_median(warm),
        peak_mb=max(r.peak_mb for r in fulls), committed=commit,
        floor_samples=tuple(floors), full_samples=tuple(r.seconds for r in fulls),
        rescan_samples=tuple(rescans), warm_rescan_samples=tuple(warm),
        peak_samples=tuple(r.peak_mb for r in fulls),
    )
    return figures, profiled


def _verdict(value: float, budget: float) -> str:
    return "PASS" if value <= budget else "OVER"


def over_budget(figures: Figures) -> bool:
    return (figures.full_over_floor > BUDGET_FULL_OVER_FLOOR
            or figures.rescan_over_full > BUDGET_RESCAN_OVER_FULL
            or figures.peak_mb > BUDGET_PEAK_MB)


def report(figures: Figures) -> str:
    def samples(values: Sequence[float]) -> str:
        return ", ".join(f"{v:.2f}" for v in values)

    f = figures
    return "\n".join([
        f"repository: {f.repo} ({f.python_files} Python files, {f.commits} commits)",
        f"each measured {f.repeat} time(s); median times, highest peak; whole-process",
        f"floor   {f.floor_s:8.2f} s   read + ast.parse every Python file, one git log "
        f"--name-status   [{samples(f.floor_samples)}]",
        f"full    {f.full_s:8.2f} s   checklist-app scan --format json --no-save, empty cache"
        f"   [{samples(f.full_samples)}]",
        f"rescan  {f.rescan_s:8.2f} s   after one Python file changed"
        f"{' and committed' if f.committed else ' (not committed)'}, warm cache   "
        f"[{samples(f.rescan_samples)}]",
        f"warm    {f.warm_rescan_s:8.2f} s   the same rescan in a process that scanned before "
        f"(as in the app; information only)   [{samples(f.warm_rescan_samples)}]",
        f"peak    {f.peak_mb:8.1f} MB  largest resident set of the full scan   "
        f"[{samples(f.peak_samples)}]",
        "",
        f"full / floor     {f.full_over_floor:7.2f}   budget <= {BUDGET_FULL_OVER_FLOOR:.2f}   "
        f"{_verdict(f.full_over_floor, BUDGET_FULL_OVER_FLOOR)}",
        f"rescan / full    {f.rescan_over_full:7.2f}   budget <= {BUDGET_RESCAN_OVER_FULL:.2f}   "
        f"{_verdict(f.rescan_over_full, BUDGET_RESCAN_OVER_FULL)}",
        f"warm rescan / full {f.warm_rescan_over_full:5.2f}   (information only)",
        f"peak memory MB   {f.peak_mb:7.1f}   budget <= {BUDGET_PEAK_MB:.0f}     "
        f"{_verdict(f.peak_mb, BUDGET_PEAK_MB)}",
    ])


def _prepare(args: argparse.Namespace, work: Path) -> Path:
    """The repository to measure: a clone of --repo, or a freshly built synthetic one."""
    target = work / "repo"
    if args.repo is not None:
        source: Path = args.repo
        if not (source / ".git").exists():
            raise BenchmarkError(f"{source} is not the top of a git repository")
        _git(work, "clone", "-q", "--", str(source.resolve()), str(target))
        return target
    builder = Path(__file__).with_name("synthetic_repo.py")
    done = subprocess.run(
        [sys.executable, str(builder), str(target), "--modules", str(args.modules),
         "--commits", str(args.commits), "--seed", str(args.seed)],
        capture_output=True, text=True, check=False,
    )
    if done.returncode != 0:
        raise BenchmarkError(f"synthetic_repo.py failed: {done.stderr.strip()}")
    print(done.stdout.strip(), flush=True)
    return target


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Measure checklist-app scan speed.")
    parser.add_argument("--repo", type=Path,
                        help="measure this repository (a clone of it) instead of a synthetic one")
    parser.add_argument("--modules", type=int, default=2_000, help="synthetic modules (2000)")
    parser.add_argument("--commits", type=int, default=20_000, help="synthetic commits (20000)")
    parser.add_argument("--seed", type=int, default=1, help="synthetic seed (1)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (3)")
    parser.add_argument("--no-commit", dest="commit", action="store_false",
                        help="leave the rescan's change uncommitted")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--profile", type=Path, metavar="FILE",
                        help="also profile one full scan with cProfile into FILE and print "
                             "its top costs")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    parser.add_argument("--check", action="store_true", help="exit 1 when a budget is over")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    work = Path(tempfile.mkdtemp(prefix="checklist-bench-"))
    try:
        repo = _prepare(args, work)
        figures, profiled = measure(repo, work, args.repeat, args.commit, args.profile)
    except BenchmarkError as error:
        print(f"scan_speed: {error}", file=sys.stderr)
        return 2
    finally:
        if args.keep:
            print(f"scratch folder kept: {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(report(figures))
    if profiled:
        print(f"\nprofile of one full scan (cProfile, written to {args.profile}):\n{profiled}")
    if args.json is not None:
        data = asdict(figures) | {"full_over_floor": figures.full_over_floor,
                                  "rescan_over_full": figures.rescan_over_full,
                                  "over_budget": over_budget(figures)}
        args.json.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return 1 if args.check and over_budget(figures) else 0


if __name__ == "__main__":
    sys.exit(main())
