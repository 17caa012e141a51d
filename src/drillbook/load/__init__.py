"""Load during a drill: what users feel while the fault and the recovery happen.

Locust runs in its own process (`python -m drillbook.load.worker`), never imported here: its
gevent monkey-patching must not reach the harness. This package's other modules are plain
Python: the plan handed to that process, the session reading its buckets into the journal,
the measurement windows, the decision matrix, the grading of load criteria and the timeline.
"""

from __future__ import annotations
