"""Detectors: the registry and the built-in detectors, grouped by what they read.

Importing this package registers every built-in detector.
"""

from checklist_app.detectors import (  # noqa: F401 - imported to register
    advanced,
    database,
    generic,
    history,
    organization,
    performance,
    security,
    testing,
)
from checklist_app.detectors.registry import (
    check_params,
    detector,
    module_fact,
    registered,
    registered_facts,
)

__all__ = ["check_params", "detector", "module_fact", "registered", "registered_facts"]
