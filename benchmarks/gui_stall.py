"""The desktop app's budgets: main-thread stalls during a scan, and start-up to first paint.

    python benchmarks/gui_stall.py [--repo PATH | --modules 2000 --commits 20000]
                                   [--startup-runs 5] [--check]

Stall: the real main window opens the repository (a synthetic one by default, built with
`synthetic_repo.py`) with a fresh store, settings and facts cache; a QTimer ticks every 10 ms on
the main thread and the largest gap between two ticks is recorded from the moment the scan
has started until its result has been recorded and shown (the store write, the models, the
file watcher included). The time the main thread took to start the scan is printed beside it
(for the first scan that includes opening the project and painting it for the first time).
Measured for a first scan (empty facts cache) and a rescan (warm cache).

Start-up: a fresh `python` imports the CLI and starts the app the way `checklist-app` does, and
prints when the main window is first painted; the figure is the wall time from launching the
process to that line (so interpreter start-up counts), the median of `--startup-runs`.

Runs offscreen unless QT_QPA_PLATFORM says otherwise. Budgets (DESIGN.md): stall <= 100 ms,
start-up <= 500 ms; `--check` exits 1 when one is over.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STALL_BUDGET_MS = 100.0
STARTUP_BUDGET_MS = 500.0
TICK_MS = 10
SCAN_TIMEOUT_S = 600.0

STARTUP_CHILD = """
import sys, time
import checklist_app.cli
from pathlib import Path
from PySide6.QtWidgets import QApplication
from checklist_app.gui.app import FirstPaint, start
from checklist_app.gui.settings import file_settings

app, window = start(None, settings=file_settings(Path(sys.argv[1])))

def painted():
    print("painted", flush=True)
    app.quit()

app.installEventFilter(FirstPaint(window, painted))
app.exec()
"""


@dataclass(frozen=True, slots=True)
class Stall:
    label: str
    start_ms: float
    """Main-thread time to start the scan (opening a project includes its first paint)."""
    scan_s: float
    largest_gap_ms: float
    gaps_over_budget: int
    ticks: int
    findings: int
    errors: int
    """Findings whose detector failed: a scan that errors out is not a measurement."""


def isolated_env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    for variable, folder in (("XDG_DATA_HOME", "data"), ("XDG_CACHE_HOME", "cache"),
                             ("XDG_CONFIG_HOME", "config")):
        env[variable] = str(home / folder)
    env.pop("CHECKLIST_APP_DB", None)
    env.pop("CHECKLIST_APP_CACHE", None)
    return env


def measure_startup(runs: int, work: Path) -> list[float]:
    samples = []
    for run in range(runs):
        home = work / f"startup{run}"
        home.mkdir(parents=True)
        started = time.perf_counter()
        child = subprocess.Popen(
            [sys.executable, "-c", STARTUP_CHILD, str(home / "settings.ini")],
            cwd=ROOT, env=isolated_env(home), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            text=True)
        assert child.stdout is not None
        line = child.stdout.readline()
        elapsed = (time.perf_counter() - started) * 1000
        child.wait(timeout=60)
        if line.strip() != "painted":
            raise RuntimeError(f"the app did not paint its window (exit {child.returncode})")
        samples.append(elapsed)
    return samples


def measure_stalls(repo: Path, work: Path) -> list[Stall]:
    for key, value in isolated_env(work / "stall").items():
        os.environ[key] = value
    from PySide6.QtCore import QElapsedTimer, QTimer
    from PySide6.QtWidgets import QApplication

    from checklist_app.findings import Outcome
    from checklist_app.gui.main_window import MainWindow
    from checklist_app.gui.settings import file_settings
    from checklist_app.gui.worker import ScanDone
    from checklist_app.workspace import Workspace

    app = QApplication.instance() or QApplication([])
    window = MainWindow(
        file_settings(work / "stall" / "settings.ini"),
        lambda: Workspace.open(str(work / "stall" / "progress.db"),
                               cache_dir=work / "stall" / "cache"))
    window.resize(1280, 800)
    window.show()
    window.start()
    clock = QElapsedTimer()
    gaps: list[float] = []
    last = [0.0]

    def tick() -> None:
        now = clock.nsecsElapsed() / 1e6
        gaps.append(now - last[0])
        last[0] = now

    timer = QTimer()
    timer.setInterval(TICK_MS)
    timer.timeout.connect(tick)
    results = []
    for label, action in (("first scan (empty cache)", lambda: window.open_project(repo)),
                          ("rescan (warm cache)", window.rescan)):
        finished: list[ScanDone] = []

        def done(result: ScanDone, seen: list[ScanDone] = finished) -> None:
            seen.append(result)

        window.scanner.finished.connect(done)
        started = time.perf_counter()
        action()  # opening a project paints it first, then starts the scan
        opened_ms = (time.perf_counter() - started) * 1000
        gaps.clear()
        clock.start()
        last[0] = 0.0
        timer.start()
        deadline = started + SCAN_TIMEOUT_S
        while not finished and time.perf_counter() < deadline:
            app.processEvents()
            time.sleep(0.001)
        # the result is recorded and shown in the slot that set the flag; one more tick
        end = time.perf_counter() + 0.05
        while time.perf_counter() < end:
            app.processEvents()
            time.sleep(0.001)
        timer.stop()
        window.scanner.finished.disconnect(done)
        if not finished:
            raise RuntimeError(f"{label}: no result within {SCAN_TIMEOUT_S:.0f} s")
        result = finished[0].result
        if finished[0].error is not None or result is None or result.cancelled:
            raise RuntimeError(f"{label}: the scan did not complete: {finished[0].error}\n"
                               f"{finished[0].details}")
        largest = max(gaps) if gaps else 0.0
        errors = sum(found.outcome is Outcome.ERROR for found in result.findings)
        results.append(Stall(label, opened_ms, time.perf_counter() - started, largest,
                             sum(gap > STALL_BUDGET_MS for gap in gaps), len(gaps),
                             len(result.findings), errors))
    window.close()
    return results


def prepare_repo(args: argparse.Namespace, work: Path) -> Path:
    if args.repo is not None:
        return Path(args.repo).resolve()
    sys.path.insert(0, str(ROOT))
    from benchmarks.synthetic_repo import build

    out = work / "repo"
    print(f"building a synthetic repository: {args.modules} modules, {args.commits} commits…",
          file=sys.stderr)
    build(out, modules=args.modules, commits=args.commits)
    return out


def verdict(value: float, budget: float) -> str:
    return "PASS" if value <= budget else "OVER"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repo", help="scan this repository instead of a synthetic one")
    parser.add_argument("--modules", type=int, default=2000)
    parser.add_argument("--commits", type=int, default=20000)
    parser.add_argument("--startup-runs", type=int, default=5)
    parser.add_argument("--check", action="store_true", help="exit 1 when a budget is over")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="gui-bench-") as temporary:
        work = Path(temporary)
        startup = measure_startup(args.startup_runs, work)
        repo = prepare_repo(args, work)
        stalls = measure_stalls(repo, work)
    median = statistics.median(startup)
    print(f"start-up to first paint: {median:.0f} ms median of {len(startup)} "
          f"({', '.join(f'{s:.0f}' for s in startup)})  budget {STARTUP_BUDGET_MS:.0f} ms "
          f"{verdict(median, STARTUP_BUDGET_MS)}")
    over = median > STARTUP_BUDGET_MS
    for stall in stalls:
        print(f"{stall.label}: {stall.scan_s:.2f} s (started in {stall.start_ms:.0f} ms), "
              f"largest main-thread stall "
              f"{stall.largest_gap_ms:.0f} ms ({stall.gaps_over_budget} of {stall.ticks} ticks "
              f"over {STALL_BUDGET_MS:.0f} ms)  budget {STALL_BUDGET_MS:.0f} ms "
              f"{verdict(stall.largest_gap_ms, STALL_BUDGET_MS)}; "
              f"{stall.findings} findings, {stall.errors} detector errors")
        over = over or stall.largest_gap_ms > STALL_BUDGET_MS
    return 1 if args.check and over else 0


if __name__ == "__main__":
    sys.exit(main())
