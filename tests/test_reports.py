from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

from checklist_app.findings import (
    Answer,
    AnswerValue,
    Evidence,
    Finding,
    ProjectInfo,
    ScanResult,
    failed,
    passed,
)
from checklist_app.progress import Progress, build_progress
from checklist_app.reports import (
    csv_report,
    html_report,
    json_report,
    markdown_report,
    sarif_report,
    text_report,
)
from tests.test_progress import checklists, item

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
HOSTILE = '<script>alert("x")</script> & =cmd|'


def with_id(finding: Finding, item_id: str) -> Finding:
    return Finding(finding.outcome, finding.confidence, finding.message, finding.evidence, item_id)


def sample() -> Progress:
    rules = checklists(item("security.csrf"), item("security.https"), item("testing.ci"))
    scan = ScanResult(
        ProjectInfo("/work/<proj>", "<proj>", "a" * 40, "main", False, True), NOW, 1.5, "d", (
            with_id(passed("CSRFProtect(app) is initialised",
                           Evidence("app/__init__.py", 14, None, "csrf.init_app(app)")),
                    "security.csrf"),
            with_id(failed("no HTTPS setting found"), "security.https"),
            with_id(failed(f"workflow {HOSTILE}", Evidence("ci/<x>.yml", 2, None, HOSTILE)),
                    "testing.ci"),
        ))
    answers = [Answer("security.https", AnswerValue.MET, HOSTILE, NOW, note=HOSTILE,
                      justification=HOSTILE, finding_fingerprint="stale")]
    return build_progress(rules, scan, answers, NOW)


def test_html_escapes_everything_people_and_projects_wrote() -> None:
    page = html_report.render(sample(), now=NOW)
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; =cmd|" in page
    assert "&lt;proj&gt;" in page and "<proj>" not in page
    assert "app/__init__.py:14" in page and "csrf.init_app(app)" in page
    assert "needs re-review" in page
    assert "commit <code>aaaaaaaaaaaa</code> on main" in page
    assert page.count("<table>") == 1 + 2  # summary + one per topic
    assert "@media print" in page


def test_csv_has_a_row_per_item_and_neutralises_formulas() -> None:
    rows = list(csv.reader(io.StringIO(csv_report.render(sample()))))
    assert rows[0] == list(csv_report.COLUMNS)
    assert [r[0] for r in rows[1:]] == ["security.csrf", "security.https", "testing.ci"]
    https = dict(zip(rows[0], rows[2], strict=True))
    assert https["status"] == "met" and https["answer"] == "met"
    assert https["needs_review"] == "yes"
    formula = rows[3][rows[0].index("message")]
    assert formula == f"workflow {HOSTILE}"
    assert csv_report._cell("=SUM(A1)") == "'=SUM(A1)"


def test_markdown_escapes_table_breaking_text() -> None:
    text = markdown_report.render(sample())
    assert "\\<script\\>" in text and "\\|" in text
    for line in text.splitlines():
        if line.startswith("| ") and "testing.ci" in line:
            assert line.count(" | ") == 4  # five cells, none broken by the hostile text


def test_sarif_reports_only_unmet_items_with_locations() -> None:
    document = json.loads(sarif_report.render(sample()))
    results = document["runs"][0]["results"]
    assert [r["ruleId"] for r in results] == ["testing.ci"]
    location = results[0]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "ci/%3Cx%3E.yml"
    assert location["region"]["startLine"] == 2


def test_json_and_text_carry_answers_and_review_flags() -> None:
    data = json.loads(json_report.render(sample()))
    https = next(i for i in data["items"] if i["id"] == "security.https")
    assert https["answer"]["justification"] == HOSTILE
    assert https["needs_review"] is True and https["status"] == "met"
    text = text_report.render(sample())
    assert "needs re-review" in text
