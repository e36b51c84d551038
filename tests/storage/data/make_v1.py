"""How tests/storage/data/v1.sqlite was made: a store at the first released schema (revision
0001) with a project, two scans and answers with history. It is a frozen fixture: never
regenerate it after revision 0002 exists (this script refuses to), so the test keeps proving
that a store of the first release migrates forward with its data.

    python tests/storage/data/make_v1.py
"""

from __future__ import annotations

import sys
from pathlib import Path

from checklist_app.storage import Store
from checklist_app.storage.location import sqlite_url
from checklist_app.storage.migrate import head_revision

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from checklist_app.findings import AnswerValue  # noqa: E402
from tests.storage.samples import answer, at, scan_result  # noqa: E402

TARGET = Path(__file__).resolve().parent / "v1.sqlite"


def main() -> int:
    if head_revision() != "0001":
        print("v1.sqlite is frozen at revision 0001; the code is past it", file=sys.stderr)
        return 1
    TARGET.unlink(missing_ok=True)
    with Store.open(sqlite_url(TARGET)) as store:
        project = store.project("/work/shop", "shop")
        store.record_scan(project.id, scan_result(scanned_at=at(0), commit="c0"))
        store.record_scan(project.id, scan_result(scanned_at=at(10), commit="c1"))
        store.save_answer(project.id, answer("security.csrf", AnswerValue.NA, minutes=11,
                                             justification="JSON API, no forms"), "", None)
        store.save_answer(project.id, answer("security.csrf", AnswerValue.MET, author="bo",
                                             minutes=12, note="forms added"), "forms now", 1)
        store.save_answer(project.id, answer("testing.ci", AnswerValue.UNMET, minutes=13,
                                             expires=at(60 * 24 * 30)), "", None)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
