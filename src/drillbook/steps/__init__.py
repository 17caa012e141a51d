"""Built-in step kinds. Importing this package registers every one of them."""

from __future__ import annotations

from drillbook.steps.ctl import CtlStep
from drillbook.steps.http import HttpStep
from drillbook.steps.run import RunStep
from drillbook.steps.sql import SqlStep
from drillbook.steps.wait import WaitStep, WaitUntilStep

__all__ = ["CtlStep", "HttpStep", "RunStep", "SqlStep", "WaitStep", "WaitUntilStep"]
