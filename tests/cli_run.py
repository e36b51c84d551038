"""Running the command line in-process, for the CLI tests."""

from __future__ import annotations

import pytest

from checklist_app.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """`checklist-app ARGV...`: its exit code, standard output and standard error."""
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err
