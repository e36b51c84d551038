"""A child process for the store's reliability tests. Prints one line per write, after the
write returned (so after its commit):

    python writer.py forever URL            answers (and every third time a scan) until killed
    python writer.py open URL AUTHOR        says "ready", waits for a line on stdin, then opens
                                            (creates) the store and saves one answer
    python writer.py pair URL AUTHOR COUNT  says "ready", waits for a line on stdin, then
                                            writes its own answers and scans, and takes turns
                                            at one shared answer with optimistic locking
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime

from checklist_app.findings import Answer, AnswerValue, ProjectInfo, ScanResult
from checklist_app.storage import AnswerConflict, Store, StoreBusy
from tests.storage.samples import scan_result

SHARED = "shared.item"


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def now_answer(item_id: str, author: str, value: AnswerValue = AnswerValue.MET) -> Answer:
    return Answer(item_id=item_id, value=value, author=author, answered_at=datetime.now(UTC),
                  note=f"note of {item_id}")


def scan(root: str) -> ScanResult:
    result = scan_result(root, scanned_at=datetime.now(UTC))
    return ScanResult(ProjectInfo(root, "shop"), result.scanned_at, result.duration_s,
                      result.rules_digest, result.findings, result.notes)


def forever(store: Store) -> None:
    project = store.project("/work/shop", "shop")
    number = 0
    while True:
        number += 1
        item = f"kill.i{number:05d}"
        store.save_answer(project.id, now_answer(item, "child"), "saved in a loop", None)
        say(f"answer {item}")
        if number % 3 == 0:
            say(f"scan {store.record_scan(project.id, scan('/work/shop'))}")


def pair(store: Store, author: str, count: int) -> None:
    project = store.project("/work/shop", "shop")
    say("ready")
    sys.stdin.readline()  # both children start writing at the same moment
    for number in range(count):
        try:
            item = f"{author}.i{number:03d}"
            store.save_answer(project.id, now_answer(item, author), "", None)
            say(f"answer {item}")
            if number % 5 == 0:
                say(f"scan {store.record_scan(project.id, scan('/work/shop'))}")
            seen = {a.item_id: a.revision for a in store.answers(project.id)}.get(SHARED)
            try:
                saved = store.save_answer(project.id, now_answer(SHARED, author), "", seen)
                say(f"shared {saved.revision} {author}")
            except AnswerConflict:
                say("conflict")
        except StoreBusy as busy:
            say(f"busy {busy}")


def first_open(url: str, author: str) -> None:
    say("ready")
    sys.stdin.readline()  # every child opens the new store at the same moment
    with Store.open(url) as store:
        project = store.project("/work/shop", "shop")
        store.save_answer(project.id, now_answer(f"open.{author}", author), "", None)
        say(f"answer open.{author}")


def main(argv: list[str]) -> int:
    mode, url = argv[0], argv[1]
    if mode == "open":
        first_open(url, argv[2])
        return 0
    with Store.open(url) as store:
        if mode == "forever":
            forever(store)
        else:
            pair(store, argv[2], int(argv[3]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
