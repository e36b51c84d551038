"""The catalogue and the code agree: the real rules load, every detector they name exists with
fitting parameters and documentation, and the seed practices are all there."""

from __future__ import annotations

from checklist_app.checklists import Checklists
from checklist_app.detectors import registered
from tests.test_cli import SEED_IDS

EXTRA_IDS = {
    "security.debug-off", "security.secret-key", "security.no-committed-secrets",
    "database.migrations-with-models", "testing.tests-with-code",
    "organization.pinned-dependencies", "security.jinja-autoescape",
}


def test_the_real_rules_load_without_problems(rules: Checklists) -> None:
    assert [str(p) for p in rules.problems] == []


def test_every_seed_and_promised_item_is_present(rules: Checklists) -> None:
    ids = {item.id for item in rules.items}
    assert SEED_IDS | EXTRA_IDS <= ids


def test_every_item_is_complete(rules: Checklists) -> None:
    for item in rules.items:
        assert item.references, f"{item.id} has no references"
        assert len(item.why) > 40, f"{item.id}: why is too short"
        assert len(item.how) > 40, f"{item.id}: how is too short"
        assert item.title[0].isupper(), f"{item.id}: title should start with a capital"


def test_every_detector_named_by_the_rules_exists_and_is_documented(rules: Checklists) -> None:
    detectors = registered()
    for item in rules.items:
        for ref in item.detectors + item.applies_when:
            assert ref.name in detectors, f"{item.id} names unknown detector {ref.name}"
    for name, entry in detectors.items():
        if name.startswith("test_"):
            continue
        assert len(entry.doc) > 20, f"detector {name} has no documentation"
