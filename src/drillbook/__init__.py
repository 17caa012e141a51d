"""drillbook: prove that rollback and restore runbooks work, and measure how long they take."""

from drillbook.errors import DrillbookError, ScenarioError

__version__ = "0.1.0"

__all__ = ["DrillbookError", "ScenarioError", "__version__"]
