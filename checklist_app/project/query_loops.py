"""Where a query or a lazy relationship is used inside a loop over query results (N+1)."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from checklist_app.project.pyindex import Resolver


@dataclass(frozen=True, slots=True)
class LoopQuery:
    line: int
    loop_line: int
    description: str
    function: str | None


def find_loop_queries(tree: ast.Module, resolver: Resolver) -> tuple[LoopQuery, ...]:
    return ()
