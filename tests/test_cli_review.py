"""The release commands through main(argv): report, review ..., answers ..."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli_run import run
from tests.repos import Repo, git

APP = {"app.py": "from flask import Flask\napp = Flask(__name__)\n"}
TOPICS = ("organization", "database", "security", "testing", "performance", "advanced")
HOSTILE = "<script>alert(1)</script>"


@pytest.fixture
def root(make_repo: Callable[..., Repo], db: str, capsys: pytest.CaptureFixture[str]) -> str:
    repo = make_repo(APP)
    git(repo.root, "tag", "v1.0")
    code, _, err = run(capsys, "scan", str(repo.root), "--db", db)
    assert code == 0, err
    return str(repo.root)


def test_review_start_sign_close_and_require_signed(
    root: str, db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "review", "show", root, "--db", db)
    assert (code, err) == (2, f"checklist-app: {Path(root).name} has no review yet; start one "
                           "with `review start`\n")
    code, _, err = run(capsys, "review", "sign", root, "security", "--approve", "--db", db)
    assert (code, err) == (2, f"checklist-app: {Path(root).name} has no open review; start one "
                           "with `review start`\n")
    code, out, err = run(capsys, "review", "start", root, "--title", "Release 1.0", "--by",
                         "Ann", "--db", db)
    assert code == 0, err
    assert out.startswith("Review 1: Release 1.0 — commit ") and "(v1.0); started " in out
    code, _, err = run(capsys, "review", "start", root, "--title", "again", "--db", db)
    assert (code, err) == (2, "checklist-app: review 1 ('Release 1.0') is still open: close it "
                           "before starting another\n")
    code, _, err = run(capsys, "review", "sign", root, "nope", "--approve", "--db", db)
    assert code == 2 and err.startswith("checklist-app: no topic 'nope' in the checklists")
    for topic in TOPICS[:-1]:
        code, out, err = run(capsys, "review", "sign", root, topic, "--approve", "--reviewer",
                             "Bo", "--db", db)
        assert (code, out) == (0, f"review 1: {topic} approved\n"), err
    code, out, err = run(capsys, "review", "sign", root, "advanced", "--request-changes",
                         "--comment", HOSTILE, "--reviewer", "Cy", "--db", db)
    assert (code, out) == (0, "review 1: advanced changes requested\n"), err
    code, out, err = run(capsys, "review", "show", root, "--require-signed", "--db", db)
    assert code == 1
    assert err == "checklist-app: review 1 is not signed off: advanced changes requested\n"
    assert "    changes by Cy on " in out and out.count(": approved\n") == 5
    run(capsys, "review", "sign", root, "advanced", "--approve", "--reviewer", "Cy", "--db", db)
    code, out, err = run(capsys, "review", "close", root, "--by", "Ann", "--db", db)
    assert code == 0, err
    assert "closed " in out and "deferred" in out
    code, out, err = run(capsys, "review", "show", root, "--require-signed", "--db", db)
    assert (code, err) == (0, "")
    assert "Deferred (unmet at close): " in out
    assert "  organization.app-factory: no justification\n" in out
    assert out.endswith("No earlier closed review to compare with.\n")
    code, _, err = run(capsys, "review", "sign", root, "security", "--approve", "--review", "1",
                       "--db", db)
    assert code == 2 and "review 1 ('Release 1.0') was closed on " in err
    assert "cannot be signed any more" in err
    code, out, _ = run(capsys, "review", "list", root, "--db", db)
    assert out.endswith("6/6 topics approved\n")


def test_review_diff_between_a_review_and_now(
    root: str, db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "review", "diff", root, "--db", db)
    assert code == 2 and "has no closed review to compare with" in err
    run(capsys, "review", "start", root, "--title", "1.0", "--db", db)
    run(capsys, "review", "close", root, "--db", db)
    code, out, _ = run(capsys, "review", "diff", root, "--db", db)
    assert code == 0
    assert out.endswith(":\n  no change\n") and out.startswith("From review 1 (")
    run(capsys, "answer", root, "security.https", "--met", "--justification", "LB", "--author",
        "Ann", "--db", db)
    code, out, _ = run(capsys, "review", "diff", root, "1", "now", "--db", db)
    assert "  improvement     security.https: unmet -> met; answer no answer -> met by Ann: " \
           "LB\n" in out
    code, _, err = run(capsys, "review", "diff", root, "x", "--db", db)
    assert (code, err) == (2, "checklist-app: 'x' is neither a review id nor now\n")


def test_review_diff_as_a_report_file(root: str, db: str, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "review", "start", root, "--title", "1.0", "--db", db)
    run(capsys, "review", "close", root, "--db", db)
    run(capsys, "answer", root, "security.https", "--met", "--justification", "<b>LB</b>",
        "--author", "Ann", "--db", db)
    page = tmp_path / "diff.html"
    code, out, err = run(capsys, "review", "diff", root, "1", "now", "--format", "html",
                         "--output", str(page), "--db", db)
    assert (code, out, err) == (0, "", f"wrote {page}\n")
    text = page.read_text()
    assert text.startswith("<!DOCTYPE html>") and "<code>security.https</code>" in text
    assert "&lt;b&gt;LB&lt;/b&gt;" in text and "<b>LB</b>" not in text
    code, out, _ = run(capsys, "review", "diff", root, "1", "now", "--format", "json",
                       "--db", db)
    data = json.loads(out)
    assert code == 0 and "security.https" in json.dumps(data)
    code, out, _ = run(capsys, "review", "diff", root, "1", "now", "--format", "markdown",
                       "--db", db)
    assert all(line.startswith("    ") for line in out.splitlines())


@pytest.mark.parametrize("format_", ["html", "markdown", "json", "sarif", "csv"])
def test_report_in_every_format(root: str, db: str, tmp_path: Path, format_: str,
                                capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "answer", root, "security.https", "--met", "--justification", HOSTILE,
        "--author", "Ann", "--db", db)
    run(capsys, "review", "start", root, "--title", HOSTILE, "--db", db)
    output = tmp_path / f"report.{format_}"
    code, out, err = run(capsys, "report", root, "--format", format_, "--output", str(output),
                         "--db", db)
    assert (code, out, err) == (0, "", f"wrote {output}\n")
    text = output.read_text(encoding="utf-8")
    head = git(Path(root), "rev-parse", "HEAD").strip()
    if format_ == "html":
        assert "<script>" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
        assert f"commit <code>{head[:12]}</code>" in text and "<svg" in text
        assert "Answered <b>met</b> by Ann" in text and "unsigned" in text
    elif format_ == "json":
        data = json.loads(text)
        assert data["project"]["commit"] == head
        assert data["answers"][0]["item_id"] == "security.https"
        assert data["answers"][0]["justification"] == HOSTILE
        assert [h["item_id"] for h in data["history"]] == ["security.https"]
        assert data["review"]["title"] == HOSTILE and data["review"]["closed_at"] is None
        assert [p["kind"] for p in data["progress_over_time"]] == ["scan"]
    elif format_ == "markdown":
        assert f"Commit `{head[:10]}`" in text and "Report made " in text
        assert "\\<script\\>" in text and "<script>" not in text
    elif format_ == "csv":
        rows = list(csv.DictReader(io.StringIO(text)))
        https = next(r for r in rows if r["id"] == "security.https")
        assert (https["author"], https["commit"]) == ("Ann", head)
    else:
        assert json.loads(text)["runs"][0]["versionControlProvenance"][0]["revisionId"] == head


def test_report_pdf_is_rendered_with_qt(root: str, db: str, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "report", root, "--format", "pdf", "--db", db)
    assert (code, out, err) == (2, "", "checklist-app: a pdf report needs --output FILE\n")
    target = tmp_path / "report.pdf"
    code, out, err = run(capsys, "report", root, "--format", "pdf", "--db", db,
                         "--output", str(target))
    assert code == 0, err
    assert err == f"wrote {target}\n"
    data = target.read_bytes()
    assert data.startswith(b"%PDF-") and b"/Type /Page" in data


def test_answers_export_import_and_decide(root: str, db: str, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "answer", root, "advanced.websockets", "--na", "--justification", "CLI only",
        "--author", "Ann", "--db", db)
    code, _, err = run(capsys, "answers", "export", root, "--db", db)
    shared = Path(root) / ".flask-checklist.yaml"
    assert (code, err) == (0, f"wrote {shared}\n")
    other_db = str(tmp_path / "other.db")
    run(capsys, "scan", root, "--db", other_db)
    run(capsys, "answer", root, "advanced.websockets", "--na", "--justification", "mine",
        "--author", "Bo", "--db", other_db)
    code, out, err = run(capsys, "answers", "import", root, "--by", "Bo", "--db", other_db)
    assert (code, err) == (0, "")
    assert out.startswith("1 proposal(s) recorded, 0 already answered the same, 0 already ")
    code, out, _ = run(capsys, "answers", "proposals", root, "--db", other_db)
    assert out == (f"#1 advanced.websockets (from {shared}, imported by Bo)\n"
                   "  CONFLICT  proposed: na by Ann: CLI only\n"
                   "            local:    na by Bo: mine\n")
    code, _, err = run(capsys, "answers", "accept", root, "1", "--db", other_db)
    assert code == 2 and "accept it with --replace, or reject it" in err
    code, out, err = run(capsys, "answers", "accept", root, "1", "--replace", "--by", "Cy",
                         "--db", other_db)
    assert (code, out) == (0, "advanced.websockets: na by Ann (revision 2), accepted by Cy\n")
    code, _, err = run(capsys, "answers", "reject", root, "1", "--db", other_db)
    assert (code, err) == (2, "checklist-app: proposal 1 was already accepted by Cy\n")


def test_a_hostile_answers_file_is_a_clear_error(root: str, db: str, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("format: 1\nanswers:\n  security.https:\n    value: met\n    author: A\n"
                   "    answered_at: 2026-13-01\n", encoding="utf-8")
    code, out, err = run(capsys, "answers", "import", root, str(bad), "--db", db)
    assert (code, out) == (2, "")
    assert err == (f"checklist-app: {bad}:6: security.https.answered_at: '2026-13-01' is not a "
                   "date like 2026-12-31 or 2026-12-31T09:30:00+00:00\n")
    bad.write_bytes(b"#" * 2_000_000)
    code, _, err = run(capsys, "answers", "import", root, str(bad), "--db", db)
    assert err == (f"checklist-app: {bad}: the file is larger than 1000000 bytes, the limit of "
                   "an answers file\n")
    code, out, _ = run(capsys, "answers", "proposals", root, "--db", db)
    assert out == "no open proposals\n"
    code, _, err = run(capsys, "answers", "import", root, str(tmp_path / "none.yaml"), "--db", db)
    assert (code, err) == (2, f"checklist-app: cannot read {tmp_path / 'none.yaml'}: No such "
                           "file or directory\n")
