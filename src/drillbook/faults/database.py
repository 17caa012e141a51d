"""Faults on a drill database: drop a table, delete rows."""

from __future__ import annotations

from typing import Literal

import psycopg
from psycopg import sql
from pydantic import Field

from drillbook import pgclient
from drillbook.context import DrillContext
from drillbook.errors import FaultError
from drillbook.registry import FAULTS
from drillbook.scenario.kinds import FaultOutcome, FaultSpec
from drillbook.scenario.types import Duration


class _TableFault(FaultSpec):
    service: str = Field(description="the postgres service of the drill")
    table: pgclient.TableName
    database: str | None = Field(None, description="default: the service's drill database")
    timeout: Duration = Field(
        30.0, description="the statement (and the wait for its lock) fails after this"
    )

    def _run(self, ctx: DrillContext, statement: sql.Composed) -> int:
        """Execute `statement`; return its row count. FaultError when it cannot be done."""
        handle = ctx.service(self.service)
        dsn = pgclient.dsn_for(handle.info, self.database)
        if dsn is None:
            raise FaultError(
                f"service {self.service!r} ({handle.kind}) has no database to run {self.kind} on"
            )
        database = self.database or handle.info.database or "?"
        try:
            with pgclient.connect(
                dsn, statement_timeout=self.timeout, lock_timeout=self.timeout
            ) as conn:
                cur = conn.execute(statement)
                return cur.rowcount
        except psycopg.errors.UndefinedTable:
            raise FaultError(
                f"table {self.table!r} does not exist in database {database!r} "
                f"of service {self.service!r}"
            ) from None
        except psycopg.Error as exc:
            raise FaultError(
                f"{self.kind} on {self.table!r} in database {database!r} of service "
                f"{self.service!r} failed: {pgclient.describe_error(exc)}"
            ) from exc

    def _target(self) -> str:
        return f"{self.service}:{self.table}"


@FAULTS.register
class DropTable(_TableFault):
    """DROP TABLE in the drill's database (the classic 'wrong terminal' mistake)."""

    kind: Literal["db.drop_table"]
    cascade: bool = Field(False, description="also drop views and foreign keys that depend on it")

    def inject(self, ctx: DrillContext) -> FaultOutcome:
        statement = sql.SQL("DROP TABLE {}{}").format(
            pgclient.table_ident(self.table), sql.SQL(" CASCADE" if self.cascade else "")
        )
        self._run(ctx, statement)
        return FaultOutcome(
            target=self._target(),
            detail={"table": self.table, "cascade": str(self.cascade).lower()},
        )


@FAULTS.register
class DeleteRows(_TableFault):
    """DELETE FROM the table WHERE a predicate holds (`where: "true"` deletes every row)."""

    kind: Literal["db.delete_rows"]
    where: str = Field(
        min_length=1, description="raw SQL predicate, e.g. \"namespace = 'billing'\" or 'true'"
    )

    def inject(self, ctx: DrillContext) -> FaultOutcome:
        statement = sql.SQL("DELETE FROM {} WHERE {}").format(
            pgclient.table_ident(self.table), sql.SQL(self.where)
        )
        deleted = self._run(ctx, statement)
        return FaultOutcome(
            target=self._target(),
            detail={"table": self.table, "where": self.where, "rows_deleted": str(deleted)},
        )
