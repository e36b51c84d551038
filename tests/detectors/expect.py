"""What detector tests share: sample sources, and one exact check of a finding."""

from __future__ import annotations

from collections.abc import Callable
from textwrap import dedent

from checklist_app.findings import Confidence, Finding, Outcome
from tests.repos import Repo

MakeRepo = Callable[..., Repo]
RunDetector = Callable[..., Finding]


def src(text: str) -> str:
    """Source text whose first line is line 1."""
    return dedent(text).lstrip("\n")


def where(finding: Finding) -> list[str]:
    return [e.location for e in finding.evidence]


def check(finding: Finding, outcome: Outcome, confidence: Confidence,
          evidence: list[str]) -> None:
    assert (finding.outcome, finding.confidence, where(finding)) == (
        outcome, confidence, evidence), finding.message
