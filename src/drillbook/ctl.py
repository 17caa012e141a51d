"""`python -m drillbook.ctl ACTION SERVICE [ARG]`: what $DRILLBOOK_CTL runs."""

from __future__ import annotations

import sys

from drillbook.runner.control import main

if __name__ == "__main__":
    sys.exit(main())
