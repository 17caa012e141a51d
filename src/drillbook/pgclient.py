"""The drill's PostgreSQL client: connecting, quoting table names, comparing a result to `expect`.

Shared by the database faults, the `sql` step and probe, and the data check. Every connection
is autocommit with a connect timeout and a statement timeout, so nothing waits forever on a
server the drill just broke.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from pydantic import BeforeValidator, Field

from drillbook.backends.base import ServiceInfo

TABLE_PATTERN = r"^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?$"
TableName = Annotated[
    str,
    Field(pattern=TABLE_PATTERN, description="table name, optionally schema-qualified (public.x)"),
]
APPLICATION_NAME = "drillbook"


def dsn_for(info: ServiceInfo, database: str | None = None) -> str | None:
    """The service's drill DSN, pointed at `database` when given; None if it has no DSN."""
    if info.dsn is None:
        return None
    return make_conninfo(info.dsn, dbname=database) if database else info.dsn


def redact_dsn(dsn: str) -> str:
    """The DSN without its password, for messages."""
    try:
        params = conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:
        return "<unparsable dsn>"
    params.pop("password", None)
    return make_conninfo("", **params)


def connect(
    dsn: str,
    *,
    connect_timeout: float = 5.0,
    statement_timeout: float | None = None,
    lock_timeout: float | None = None,
    settings: dict[str, str] | None = None,
    application_name: str = APPLICATION_NAME,
) -> psycopg.Connection[tuple[Any, ...]]:
    """An autocommit connection whose every statement is bounded by `statement_timeout`."""
    options = []
    if statement_timeout is not None:
        options.append(f"-c statement_timeout={max(1, int(statement_timeout * 1000))}")
    if lock_timeout is not None:
        options.append(f"-c lock_timeout={max(1, int(lock_timeout * 1000))}")
    for name, value in (settings or {}).items():
        options.append(f"-c {name}={value}")
    # libpq rounds connect_timeout up to whole seconds and treats anything below 2 as 2.
    conninfo = make_conninfo(
        dsn,
        connect_timeout=str(max(2, math.ceil(connect_timeout))),
        application_name=application_name,
        **({"options": " ".join(options)} if options else {}),
    )
    return psycopg.connect(conninfo, autocommit=True)


def table_ident(name: str) -> sql.Identifier:
    """`schema.table` or `table` as a quoted identifier (case kept as written)."""
    return sql.Identifier(*name.split(".", 1))


def describe_error(exc: BaseException) -> str:
    """The first line of a driver error, lowercase-led, without the DETAIL noise."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:300]


# --- expectations: "1000", "== 0", ">= 1000", "!= 'broken'" --------------------------------

_EXPECT = re.compile(r"^\s*(==|=|!=|<>|>=|<=|>|<)?\s*(.*?)\s*$", re.DOTALL)
_ORDERING = {">=", "<=", ">", "<"}


@dataclass(frozen=True)
class Expectation:
    op: str
    value: str

    @classmethod
    def parse(cls, text: str) -> Expectation:
        match = _EXPECT.match(text)
        if match is None or not match.group(2):
            raise ValueError(f"expected a value such as '1000', '>= 1000' or '== 0', got {text!r}")
        op = {"=": "==", "<>": "!=", None: "=="}.get(match.group(1), match.group(1))
        value = match.group(2)
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        if op in _ORDERING and _number(value) is None:
            raise ValueError(f"{op} needs a number to compare with, got {value!r} in {text!r}")
        return cls(op=str(op), value=value)

    def matches(self, actual: object) -> bool:
        text = render_value(actual)
        want, got = _number(self.value), _number(text)
        if want is not None and got is not None:
            return {
                "==": got == want,
                "!=": got != want,
                ">=": got >= want,
                "<=": got <= want,
                ">": got > want,
                "<": got < want,
            }[self.op]
        if self.op in _ORDERING:
            return False
        return (text == self.value) == (self.op == "==")

    def __str__(self) -> str:
        return f"{self.op} {self.value}"


def render_value(value: object) -> str:
    """A SQL result value as psql -A would show it (booleans as true/false, NULL as null)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _number(text: str) -> Decimal | None:
    try:
        number = Decimal(text)
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _expect_text(value: Any) -> Any:
    if isinstance(value, bool):
        value = "true" if value else "false"
    elif isinstance(value, int | float | Decimal):
        value = str(value)
    if isinstance(value, str):
        Expectation.parse(value)
    return value


ExpectText = Annotated[
    str,
    BeforeValidator(_expect_text),
    Field(description="compared with the first column of the first row: '1000', '>= 1000', '== 0'"),
]
