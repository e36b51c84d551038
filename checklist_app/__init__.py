"""Flask Checklist: check a Flask project against best-practice checklists."""

__version__ = "0.1.0"
TOOL_NAME = "checklist-app"
