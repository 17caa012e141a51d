"""Shared test setup: every test run keeps drillbook's state (run dirs, templates) in one
temporary DRILLBOOK_HOME, so tests never touch a developer's real cache."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

if "DRILLBOOK_HOME" not in os.environ:
    os.environ["DRILLBOOK_HOME"] = tempfile.mkdtemp(prefix="drillbook-test-home-")


@pytest.fixture
def repo() -> Path:
    return REPO
