"""Where SQL text built from non-constant parts reaches a database call."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from checklist_app.project.pyindex import Resolver


@dataclass(frozen=True, slots=True)
class SqlSite:
    line: int
    sink: str
    """The call that receives the SQL: `db.session.execute`, `sqlalchemy.text`, `cursor.execute`."""
    construction: str
    """How the text was built: concatenation, %-formatting, .format(), f-string."""
    function: str | None


def find_sql_sites(tree: ast.Module, resolver: Resolver) -> tuple[SqlSite, ...]:
    return ()
