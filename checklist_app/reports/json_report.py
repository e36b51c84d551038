"""JSON: the scan schema of DESIGN.md."""

from __future__ import annotations

import json

from checklist_app.progress import Progress
from checklist_app.reports.serialize import progress_dict


def render(progress: Progress) -> str:
    return json.dumps(progress_dict(progress), indent=2, ensure_ascii=False) + "\n"
