"""The `sql` step: run SQL (inline or a file) on a drill database, optionally checking a value."""

from __future__ import annotations

from typing import Literal

import psycopg
from pydantic import Field, model_validator

from drillbook import pgclient
from drillbook.context import DrillContext
from drillbook.errors import StepError
from drillbook.procs import STDOUT_LIMIT, TAIL_LINES
from drillbook.registry import STEPS
from drillbook.scenario.kinds import StepOutcome, StepSpec
from drillbook.scenario.types import ScenarioPath

_MAX_ROWS = 10_000


@STEPS.register
class SqlStep(StepSpec):
    """Run statements in autocommit mode; the last result's rows become the step's stdout
    (psql -At style: columns joined by '|')."""

    kind: Literal["sql"]
    service: str
    database: str | None = Field(None, description="default: the service's drill database")
    sql: str | None = Field(None, description="statements to run; may use ${...}")
    file: ScenarioPath | None = Field(
        None, description="a .sql file (COPY ... FROM stdin is not supported: use psql in run)"
    )
    expect: pgclient.ExpectText | None = None

    @model_validator(mode="after")
    def _one_source(self) -> SqlStep:
        if (self.sql is None) == (self.file is None):
            raise ValueError("give either `sql` (inline statements) or `file`")
        return self

    def execute(self, ctx: DrillContext, timeout: float) -> StepOutcome:
        handle = ctx.service(self.service)
        dsn = pgclient.dsn_for(handle.info, self.database)
        if dsn is None:
            raise StepError(f"sql step: service {self.service!r} ({handle.kind}) has no database")
        if self.file is not None:
            path = ctx.resolve(self.file)
            try:
                text = path.read_text(encoding="utf-8")
            except OSError as exc:
                raise StepError(f"sql step: cannot read {str(path)!r}: {exc}") from exc
        else:
            text = ctx.interpolate(self.sql or "")
        try:
            with pgclient.connect(
                dsn, connect_timeout=min(timeout, 10.0), statement_timeout=timeout
            ) as conn:
                rows = _last_rows(conn.execute(text))
        except psycopg.errors.QueryCanceled as exc:
            return StepOutcome(
                ok=False, timed_out=True, error=f"sql cancelled at the timeout: {exc}".strip()
            )
        except psycopg.Error as exc:
            return StepOutcome(
                ok=False,
                error=f"sql failed: {pgclient.describe_error(exc)}",
                detail={"sqlstate": exc.sqlstate or ""},
            )
        lines = ["|".join(pgclient.render_value(v) for v in row) for row in rows]
        stdout = "\n".join(lines)[:STDOUT_LIMIT]
        outcome = StepOutcome(
            ok=True,
            stdout=stdout,
            output_tail=tuple(lines[-TAIL_LINES:]),
            detail={"rows": str(len(rows))},
        )
        if self.expect is None:
            return outcome
        expectation = pgclient.Expectation.parse(self.expect)
        if not rows or not rows[0]:
            return outcome.model_copy(
                update={"ok": False, "error": f"expected {expectation}, got no rows"}
            )
        value = rows[0][0]
        if not expectation.matches(value):
            return outcome.model_copy(
                update={
                    "ok": False,
                    "error": f"expected {expectation}, got {pgclient.render_value(value)}",
                }
            )
        return outcome


def _last_rows(cursor: psycopg.Cursor[tuple[object, ...]]) -> list[tuple[object, ...]]:
    """Rows of the last statement that returned any (a file may hold many statements)."""
    rows: list[tuple[object, ...]] = []
    while True:
        if cursor.description is not None:
            rows = cursor.fetchmany(_MAX_ROWS)
        if not cursor.nextset():
            return rows
