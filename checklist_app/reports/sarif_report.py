"""SARIF 2.1.0: the failing findings with their locations, for code-scanning tools."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

from checklist_app import TOOL_NAME, __version__
from checklist_app.checklists import Level
from checklist_app.findings import Status, printable
from checklist_app.progress import Progress

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {Level.MUST: "error", Level.SHOULD: "warning", Level.COULD: "note"}


def _uri(path: str) -> str:
    """A relative URI reference: every byte that is not safe in a URI percent-encoded."""
    return quote(path.encode("utf-8", "surrogateescape"), safe="/")


def render(progress: Progress) -> str:
    rules: list[dict[str, Any]] = []
    results: list[dict[str, Any]] = []
    for entry in progress.items:
        item = entry.item
        rule: dict[str, Any] = {
            "id": item.id,
            "name": item.id.replace(".", "/"),
            "shortDescription": {"text": item.title},
            "fullDescription": {"text": item.why},
            "help": {"text": item.how},
            "defaultConfiguration": {"level": _LEVEL[item.level]},
            "properties": {"tags": [item.topic]},
        }
        if item.references:
            rule["helpUri"] = item.references[0].url
        rules.append(rule)
        if entry.status is not Status.UNMET:
            continue
        message = printable(entry.finding.message) if entry.finding else item.title
        if entry.answer is not None:
            message = f"{item.title}: answered unmet by {entry.answer.author}"
        result: dict[str, Any] = {
            "ruleId": item.id,
            "ruleIndex": len(rules) - 1,
            "level": _LEVEL[item.level],
            "message": {"text": f"{item.title}: {message}"},
        }
        locations = []
        for evidence in (entry.finding.evidence if entry.finding else ()):
            if evidence.commit and evidence.line is None:
                continue
            physical: dict[str, Any] = {
                "artifactLocation": {"uri": _uri(evidence.path), "uriBaseId": "SRCROOT"}}
            if evidence.line:
                physical["region"] = {"startLine": evidence.line}
                if evidence.excerpt:
                    physical["region"]["snippet"] = {"text": evidence.excerpt}
            locations.append({"physicalLocation": physical})
        if locations:
            result["locations"] = locations
        results.append(result)
    run: dict[str, Any] = {
        "tool": {"driver": {"name": TOOL_NAME, "version": __version__,
                            "informationUri": "https://flask.palletsprojects.com/",
                            "rules": rules}},
        "results": results,
    }
    if progress.project is not None:
        run["originalUriBaseIds"] = {
            "SRCROOT": {"uri": Path(progress.project.root).as_uri() + "/"}}
        if progress.project.commit:
            run["versionControlProvenance"] = [{
                "repositoryUri": Path(progress.project.root).as_uri(),
                "revisionId": progress.project.commit,
                **({"branch": progress.project.branch} if progress.project.branch else {}),
            }]
    document = {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
