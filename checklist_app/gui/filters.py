"""Which items the table shows: a topic, a filter and a search text. Pure functions (no Qt)."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from checklist_app.findings import Status
from checklist_app.progress import ItemProgress


class Filter(StrEnum):
    ALL = "all"
    ATTENTION = "attention"
    """Unmet, unknown, needing re-review or with an expired answer."""
    UNKNOWN = "unknown"
    OVERRIDDEN = "overridden"
    """Answered against the finding."""
    REVIEW = "review"
    """The finding changed since the answer was given."""


FILTER_LABELS = {
    Filter.ALL: "All",
    Filter.ATTENTION: "Attention",
    Filter.UNKNOWN: "Unknown",
    Filter.OVERRIDDEN: "Overridden",
    Filter.REVIEW: "Re-review",
}
"""Short, for the filter buttons above the table."""

FILTER_TIPS = {
    Filter.ALL: "All items",
    Filter.ATTENTION: "Items needing attention: unmet, unknown, needing re-review or with an "
                      "expired answer",
    Filter.UNKNOWN: "Items the scan could not decide",
    Filter.OVERRIDDEN: "Items answered against the scan's finding",
    Filter.REVIEW: "Items needing re-review: the finding changed since the answer was given",
}

FILTER_MENU_TEXT = {
    Filter.ALL: "Show &All Items",
    Filter.ATTENTION: "Show Items Needing A&ttention",
    Filter.UNKNOWN: "Show &Unknown Items",
    Filter.OVERRIDDEN: "Show &Overridden Items",
    Filter.REVIEW: "Show Items Needing &Re-review",
}


def passes_filter(entry: ItemProgress, filter_: Filter) -> bool:
    if filter_ is Filter.ATTENTION:
        return entry.needs_attention
    if filter_ is Filter.UNKNOWN:
        return entry.status is Status.UNKNOWN
    if filter_ is Filter.OVERRIDDEN:
        return entry.overridden
    if filter_ is Filter.REVIEW:
        return entry.needs_review
    return True


def matches_search(entry: ItemProgress, search: str) -> bool:
    """Every word of `search` appears (case-insensitively) in the item's id, title, level,
    finding message, evidence paths, answer note or justification."""
    words = search.casefold().split()
    if not words:
        return True
    parts = [entry.item.id, entry.item.title, entry.item.level.value]
    if entry.finding is not None:
        parts.append(entry.finding.message)
        parts += [evidence.location for evidence in entry.finding.evidence]
    if entry.answer is not None:
        parts += [entry.answer.note, entry.answer.justification, entry.answer.author]
    haystack = "\n".join(parts).casefold()
    return all(word in haystack for word in words)


def shown(entry: ItemProgress, topic: str | None, filter_: Filter, search: str) -> bool:
    """`topic` None: every topic."""
    return (topic is None or entry.item.topic == topic) and passes_filter(entry, filter_) \
        and matches_search(entry, search)


def filter_counts(entries: Iterable[ItemProgress], topic: str | None) -> dict[Filter, int]:
    """How many items of the topic each filter keeps (search not applied)."""
    counts = dict.fromkeys(Filter, 0)
    for entry in entries:
        if topic is not None and entry.item.topic != topic:
            continue
        for filter_ in Filter:
            counts[filter_] += passes_filter(entry, filter_)
    return counts


def next_needing_attention(entries: list[ItemProgress], after: str | None) -> str | None:
    """The id of the first item needing attention after the item `after` (wrapping round);
    None when no item needs attention."""
    if not entries:
        return None
    ids = [entry.item.id for entry in entries]
    start = ids.index(after) + 1 if after in ids else 0
    for offset in range(len(entries)):
        entry = entries[(start + offset) % len(entries)]
        if entry.needs_attention:
            return entry.item.id
    return None
