"""benchmarks/accuracy.py: scoring hand labels against scan JSON (no corpus, no network)."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from benchmarks import accuracy

LABELS_YAML = """\
project: shop
commit: abc123
labels:
  organization.app-factory: {label: yes, evidence: "shop/__init__.py:3", reason: "create_app"}
  security.csrf: {label: no, evidence: "shop/forms.py:9", reason: "form without token"}
  security.no-sql-injection: {label: no, evidence: "shop/db.py:2", reason: "f-string SQL"}
  testing.ci: {label: yes, evidence: ".github/workflows/ci.yml", reason: "pytest in CI"}
  database.migrations: {label: "no", evidence: "none", reason: "create_all only"}
  advanced.websockets: {label: na, evidence: "shop/", reason: "not needed"}
  performance.caching: {label: unsure, evidence: "shop/", reason: "lru_cache on a helper"}
  security.debug-off: {label: no, evidence: "run.py:4", reason: "app.run(debug=True)"}
  performance.profiling: {label: no, evidence: "shop/", reason: "no profiler"}
  advanced.cli-commands: {label: yes, evidence: "shop/cli.py:5", reason: "app.cli.command"}
"""


def item(item_id: str, status: str, outcome: str, message: str,
         evidence: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"id": item_id, "topic": item_id.split(".")[0], "title": item_id,
            "finding": {"outcome": outcome, "confidence": "high", "message": message,
                        "evidence": evidence or []},
            "answer": None, "status": status, "needs_review": False}


SCAN = {
    "schema": 1,
    "tool": {"name": "checklist-app", "version": "0.1.0"},
    "project": {"root": "/x/shop", "name": "shop", "commit": "abc123", "branch": "main",
                "dirty": False},
    "items": [
        item("organization.app-factory", "met", "pass", "create_app() returns the app",
             [{"path": "shop/__init__.py", "line": 3, "commit": None, "excerpt": None}]),
        item("security.csrf", "met", "pass", "CSRFProtect initialised",
             [{"path": "shop/app.py", "line": 7, "commit": None, "excerpt": None}]),
        item("security.no-sql-injection", "unmet", "fail", "string-built SQL",
             [{"path": "shop/db.py", "line": 2, "commit": None, "excerpt": None}]),
        item("testing.ci", "unknown", "unknown", "no git history"),
        item("database.migrations", "na", "not_applicable", "no SQLAlchemy"),
        item("advanced.websockets", "unmet", "fail", "no websockets found"),
        item("performance.caching", "met", "pass", "cache found"),
        item("testing.tests-with-code", "met", "pass", "tests change with code"),
        item("performance.profiling", "met", "pass", "profiler found"),
        item("advanced.cli-commands", "unmet", "fail", "no CLI command found"),
    ],
}


@pytest.fixture
def labels_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "labels"
    folder.mkdir()
    (folder / "shop.yaml").write_text(LABELS_YAML, encoding="utf-8")
    return folder


@pytest.fixture
def scan_file(tmp_path: Path) -> Path:
    path = tmp_path / "scan.json"
    path.write_text(json.dumps(SCAN), encoding="utf-8")
    return path


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = accuracy.main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize(("raw", "expected"), [
    (True, "yes"), (False, "no"), ("yes", "yes"), ("No", "no"), ("na", "na"),
    (" unsure ", "unsure"),
])
def test_label_values(raw: object, expected: str) -> None:
    assert accuracy.label_value(raw, "x") == expected


@pytest.mark.parametrize("raw", ["maybe", None, 1, ""])
def test_bad_label_values_are_refused(raw: object) -> None:
    with pytest.raises(accuracy.InputError, match="label must be one of"):
        accuracy.label_value(raw, "f.yaml: security.csrf")


def test_comparisons_and_tally(labels_dir: Path, scan_file: Path) -> None:
    labels = accuracy.load_labels(labels_dir / "shop.yaml")
    comparisons = accuracy.compare(labels, accuracy.load_scan(scan_file))

    scored = {c.label.item_id: c.agrees for c in comparisons if c.scored}
    # yes/no labels with a scan item are scored; na, unsure and debug-off (not in scan) are not
    assert scored == {"organization.app-factory": True, "security.csrf": False,
                      "security.no-sql-injection": True, "testing.ci": False,
                      "database.migrations": False, "performance.profiling": False,
                      "advanced.cli-commands": False}
    assert accuracy.tally(comparisons) == accuracy.Tally(
        scored=7, agreed=2, unknown=1, false_pass=2, false_fail=1, security_false_pass=1)
    assert accuracy.tally(comparisons).percent == pytest.approx(200 / 7)
    assert [c.label.item_id for c in accuracy.disagreements(comparisons)] == [
        "security.csrf", "testing.ci", "database.migrations", "performance.profiling",
        "advanced.cli-commands"]
    false_passes = [c for c in comparisons if c.security_false_pass]
    assert [(c.label.item_id, c.label.evidence) for c in false_passes] == [
        ("security.csrf", "shop/forms.py:9")]
    missing = [c.label.item_id for c in comparisons if c.tool is None]
    assert missing == ["security.debug-off"]


def test_report_of_a_saved_scan(labels_dir: Path, scan_file: Path) -> None:
    code, out, err = run("--scan-json", str(scan_file), "--labels", str(labels_dir))

    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert f"- shop: scored {scan_file}" in lines
    assert "- shop: scan items without a label: testing.tests-with-code" in lines
    assert "| security.csrf | 1 | 0 | 0.0% | 0 | 1 | 0 | 1 | 0 |" in lines
    assert "| testing.ci | 1 | 0 | 0.0% | 1 | 0 | 0 | 0 | 0 |" in lines
    assert "| organization.app-factory | 1 | 1 | 100.0% | 0 | 0 | 0 | 0 | 0 |" in lines
    assert "| advanced.websockets | 0 | 0 | - | 0 | 0 | 0 | 0 | 0 |" in lines
    assert "| security.debug-off | 0 | 0 | - | 0 | 0 | 0 | 0 | 1 |" in lines
    assert "| performance.profiling | 1 | 0 | 0.0% | 0 | 1 | 0 | 0 | 0 |" in lines
    assert "| advanced.cli-commands | 1 | 0 | 0.0% | 0 | 0 | 1 | 0 | 0 |" in lines
    assert "| shop | 7 | 2 | 28.6% | 1 | 2 | 1 | 1 | 1 |" in lines
    assert ("**Overall: 2/7 agree (28.6%); 1 unknown, 2 false passes (1 on security items),"
            " 1 false fails.**") in lines
    security = out.split("## Security false passes (must be zero)\n\n")[1].split("\n\n")[0]
    assert security.splitlines() == [
        "- shop security.csrf: label no (form without token; shop/forms.py:9); tool: "
        "CSRFProtect initialised"]
    assert ("- shop security.csrf: label no (form without token; shop/forms.py:9); tool: "
            "CSRFProtect initialised") in lines
    assert ("| shop | security.csrf | no | met (pass, high) | form without token "
            "(shop/forms.py:9) | CSRFProtect initialised (shop/app.py:7) |") in lines
    assert ("| shop | testing.ci | yes | unknown (unknown, high) | pytest in CI "
            "(.github/workflows/ci.yml) | no git history |") in lines
    table = out.split("## Disagreements\n\n")[1].split("\n\n")[0].splitlines()
    assert len(table) == 2 + 5
    unscored = out.split("where the tool said otherwise\n\n")[1].splitlines()
    assert unscored == [
        "| project | item | label | tool | label reason | tool message |",
        "|---|---|---|---|---|---|",
        "| shop | advanced.websockets | na | unmet | not needed | no websockets found |",
        "| shop | performance.caching | unsure | met | lru_cache on a helper | cache found |",
    ]


def test_no_security_false_pass_says_none(labels_dir: Path, tmp_path: Path) -> None:
    scan = json.loads(json.dumps(SCAN))
    scan["items"][1] = item("security.csrf", "unmet", "fail", "no CSRF protection found")
    path = tmp_path / "clean.json"
    path.write_text(json.dumps(scan), encoding="utf-8")

    code, out, _ = run("--scan-json", str(path), "--labels", str(labels_dir))

    assert code == 0
    section = out.split("## Security false passes (must be zero)\n\n")[1]
    assert section.startswith("None.\n")


@pytest.mark.parametrize(("minimum", "expected"), [("28", 0), ("28.5", 0), ("28.6", 1),
                                                    ("90", 1)])
def test_min_agreement_sets_the_exit_status(labels_dir: Path, scan_file: Path, minimum: str,
                                            expected: int) -> None:
    code, _, err = run("--scan-json", str(scan_file), "--labels", str(labels_dir),
                       "--min-agreement", minimum)

    assert code == expected
    if expected:
        assert err == f"accuracy: agreement 28.6% is below --min-agreement {minimum}%\n"


def test_project_option_and_commit_mismatch(labels_dir: Path, tmp_path: Path) -> None:
    scan = json.loads(json.dumps(SCAN))
    scan["project"].update({"name": "checkout-dir", "commit": "fff999"})
    path = tmp_path / "other.json"
    path.write_text(json.dumps(scan), encoding="utf-8")

    code, out, _ = run("--scan-json", str(path), "--labels", str(labels_dir),
                       "--project", "shop")

    assert code == 0
    assert "- shop: scanned commit fff999 is not the labelled commit abc123" in out.splitlines()


@pytest.mark.parametrize(("labels_text", "scan_text", "message"), [
    (LABELS_YAML, "{not json", "scan.json: not JSON"),
    (LABELS_YAML, json.dumps({"schema": 2, "items": []}), "not a schema-1 scan JSON object"),
    (LABELS_YAML.replace("label: unsure", "label: maybe"), json.dumps(SCAN),
     "shop.yaml: performance.caching: label must be one of yes, no, na, unsure"),
    (LABELS_YAML.replace("testing.ci:", "Testing CI:"), json.dumps(SCAN),
     "shop.yaml: Testing CI: not an item id"),
    (LABELS_YAML.replace('reason: "create_app"', 'reason: ""'), json.dumps(SCAN),
     "organization.app-factory.reason: expected a non-empty string"),
    (LABELS_YAML.replace("project: shop", "project: other"), json.dumps(SCAN),
     "project is 'other', expected 'shop'"),
])
def test_unusable_input_exits_2(tmp_path: Path, labels_text: str, scan_text: str,
                                message: str) -> None:
    (tmp_path / "shop.yaml").write_text(labels_text, encoding="utf-8")
    (tmp_path / "scan.json").write_text(scan_text, encoding="utf-8")

    code, out, err = run("--scan-json", str(tmp_path / "scan.json"), "--labels", str(tmp_path))

    assert (code, out) == (2, "")
    assert err.startswith("accuracy: ") and message in err


FAKE_SCANNER = """\
import json, sys
args = sys.argv[1:]
assert args[0] == "scan" and args[2:] == ["--format", "json", "--no-save"], args
scan = json.loads(open({scan_path!r}, encoding="utf-8").read())
print(json.dumps(scan))
"""


def test_corpus_run_scans_each_checkout(tmp_path: Path, labels_dir: Path,
                                        scan_file: Path) -> None:
    corpus = tmp_path / "corpus.yaml"
    corpus.write_text(
        "projects:\n"
        "  - {name: shop, repository: acme/shop, commit: abc123, why: test}\n"
        "  - {name: absent, repository: acme/absent, commit: def456, why: test}\n",
        encoding="utf-8")
    checkouts = tmp_path / "checkouts"
    (checkouts / "shop" / "shop").mkdir(parents=True)
    (checkouts / "shop" / "shop" / "__init__.py").write_text("a\nb\n", encoding="utf-8")
    (checkouts / "shop" / "shop" / "db.py").write_text("x\ny", encoding="utf-8")
    scanner = tmp_path / "fake_scanner.py"
    scanner.write_text(FAKE_SCANNER.format(scan_path=str(scan_file)), encoding="utf-8")
    saved = tmp_path / "saved"

    code, out, err = run("--corpus", str(corpus), "--labels", str(labels_dir),
                         "--checkouts", str(checkouts), "--save-scans", str(saved),
                         "--scan-command", f"{sys.executable} {scanner}")

    assert code == 0, err
    assert err == "scanning shop ...\n"
    notes = [line for line in out.splitlines() if line.startswith("- ")]
    assert notes == [
        "- shop organization.app-factory: shop/__init__.py:3 is past the end (2 lines)",
        "- shop security.csrf: shop/forms.py does not exist",
        "- shop testing.ci: .github/workflows/ci.yml does not exist",
        "- shop security.debug-off: run.py does not exist",
        "- shop advanced.cli-commands: shop/cli.py does not exist",
        "- shop: scanned " + str(checkouts / "shop") + " at abc123",
        "- shop: scan items without a label: testing.tests-with-code",
        "- absent: skipped, no checkout at " + str(checkouts / "absent"),
        "- shop security.csrf: label no (form without token; shop/forms.py:9); tool: "
        "CSRFProtect initialised",
    ]
    assert json.loads((saved / "shop.json").read_text(encoding="utf-8")) == SCAN
    assert "| shop | 7 | 2 | 28.6% | 1 | 2 | 1 | 1 | 1 |" in out.splitlines()


def test_corpus_only_must_name_entries(tmp_path: Path, labels_dir: Path) -> None:
    corpus = tmp_path / "corpus.yaml"
    corpus.write_text("projects:\n  - {name: shop, repository: a/b, commit: c}\n",
                      encoding="utf-8")

    code, _, err = run("--corpus", str(corpus), "--labels", str(labels_dir),
                       "--checkouts", str(tmp_path), "--only", "nope")

    assert code == 2
    assert err == f"accuracy: --only: not in {corpus}: nope\n"


def test_failing_scan_is_reported(tmp_path: Path, labels_dir: Path) -> None:
    corpus = tmp_path / "corpus.yaml"
    corpus.write_text("projects:\n  - {name: shop, repository: a/b, commit: abc123}\n",
                      encoding="utf-8")
    (tmp_path / "shop").mkdir()
    scanner = tmp_path / "broken.py"
    scanner.write_text("import sys\nprint('boom', file=sys.stderr)\nsys.exit(3)\n",
                       encoding="utf-8")

    code, out, err = run("--corpus", str(corpus), "--labels", str(labels_dir),
                         "--checkouts", str(tmp_path),
                         "--scan-command", f"{sys.executable} {scanner}")

    assert (code, out) == (2, "")
    assert err.endswith(f"accuracy: {tmp_path / 'shop'}: scan exited 3: boom\n")


def test_the_real_labels_are_valid_and_complete() -> None:
    """Every corpus entry has a label file for its commit covering the same items."""
    entries = accuracy.load_corpus(accuracy.DEFAULT_CORPUS)
    assert len(entries) >= 6
    item_sets = set()
    for entry in entries:
        labels = accuracy.load_labels(accuracy.DEFAULT_LABELS / f"{entry.name}.yaml")
        assert (labels.project, labels.commit) == (entry.name, entry.commit)
        ids = [label.item_id for label in labels.labels]
        assert len(ids) == len(set(ids)) == 26
        item_sets.add(frozenset(ids))
    assert len(item_sets) == 1
