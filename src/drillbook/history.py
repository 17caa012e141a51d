"""The history store: one row per finished run, in SQLite, for trends and regression budgets.

Only figures, statuses and finding codes are stored (never messages, logs or paths inside a
drill), so the store can be kept and shared without leaking what the drills touched.
WAL mode and a busy timeout let several `drillbook run` processes append to one file at once.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from drillbook.errors import DrillbookError
from drillbook.measure import Figure
from drillbook.result import RunResult
from drillbook.scenario.model import Scenario
from drillbook.verdict import Code, Status

ENV_VAR = "DRILLBOOK_HISTORY"
DEFAULT_NAME = "history.sqlite"
REGRESSION_CRITERION = "max_ttr_regression"
_BUSY_TIMEOUT_S = 30.0

_SCHEMA = """
create table if not exists runs (
    run_id       text primary key,
    scenario     text not null,
    backend      text not null,
    started_utc  text not null,
    status       text not null,
    ttr          real,
    ttd          real,
    outage       real,
    rpo          real,
    rows_lost    integer,
    wall_time    real,
    ttr_limit    real,
    rpo_limit    real,
    dry_run      integer not null default 0,
    game_day     integer not null default 0,
    baseline_ok  integer not null default 0,
    codes        text not null default ''
);
create index if not exists runs_by_scenario on runs (scenario, backend, started_utc);
"""

_COLUMNS = (
    "run_id", "scenario", "backend", "started_utc", "status", "ttr", "ttd", "outage", "rpo",
    "rows_lost", "wall_time", "ttr_limit", "rpo_limit", "dry_run", "game_day", "baseline_ok",
    "codes",
)


@dataclass(frozen=True)
class HistoryRecord:
    """One run as the history keeps it: figures and codes only."""

    run_id: str
    scenario: str
    backend: str
    started_utc: datetime
    status: Status
    ttr: float | None = None  # time to recover, seconds
    ttd: float | None = None
    outage: float | None = None
    rpo: float | None = None
    rows_lost: int | None = None
    wall_time: float | None = None  # seconds the whole run took
    ttr_limit: float | None = None  # the scenario's max_time_to_recover (the RTO target)
    rpo_limit: float | None = None
    dry_run: bool = False
    game_day: bool = False
    codes: tuple[str, ...] = ()  # finding codes that did not pass, in order, de-duplicated
    # May serve as the max_ttr_regression baseline: it passed, or only lacked a baseline itself
    # (the first run of a budgeted scenario), so the budget can start somewhere.
    baseline_ok: bool = False

    @property
    def passed(self) -> bool:
        return self.status is Status.PASS


def _num(figure: Figure | None) -> float | None:
    return float(figure.value) if figure is not None and figure.value is not None else None


def record_of(result: RunResult, scenario: Scenario | None = None) -> HistoryRecord:
    """The history row of a finished run (targets come from the scenario when given)."""
    m, criteria = result.measurements, scenario.criteria if scenario else None
    lost = m.rows_lost.value
    return HistoryRecord(
        run_id=result.run_id,
        scenario=result.scenario,
        backend=result.backend,
        started_utc=result.journal.started_utc.astimezone(UTC),
        status=result.status,
        ttr=_num(m.time_to_recover),
        ttd=_num(m.time_to_detect),
        outage=_num(m.outage),
        rpo=_num(m.rpo),
        rows_lost=int(lost) if lost is not None else None,
        wall_time=_num(m.run_time),
        ttr_limit=criteria.max_time_to_recover if criteria else None,
        rpo_limit=criteria.max_rpo if criteria else None,
        dry_run=result.journal.dry_run,
        game_day=result.journal.game_day,
        codes=tuple(dict.fromkeys(str(c) for c in result.verdict.codes)),
        baseline_ok=_baseline_ok(result),
    )


def _baseline_ok(result: RunResult) -> bool:
    if result.status is Status.PASS:
        return True
    budget = [f for f in result.verdict.findings if f.criterion == REGRESSION_CRITERION]
    others = [f for f in result.verdict.findings if f.criterion != REGRESSION_CRITERION]
    return (
        bool(budget) and bool(others) and not result.journal.dry_run
        and all(f.status is Status.PASS for f in others)
        and all(f.code is Code.NOT_MEASURED and f.measured is not None for f in budget)
    )


def default_path(reports_dir: Path) -> Path:
    """$DRILLBOOK_HISTORY, else history.sqlite in the reports folder."""
    env = os.environ.get(ENV_VAR)
    return Path(env) if env else reports_dir / DEFAULT_NAME


class History:
    """A SQLite file of runs. Each call opens its own connection, so processes may share it."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @contextmanager
    def _connect(self, *, write: bool) -> Iterator[sqlite3.Connection]:
        if write:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        elif not self.path.exists():
            raise DrillbookError(
                f"no history store at {str(self.path)!r}; `drillbook run` creates it "
                f"(or set --history / ${ENV_VAR})"
            )
        try:
            with closing(sqlite3.connect(self.path, timeout=_BUSY_TIMEOUT_S)) as conn:
                conn.execute("pragma journal_mode=wal")
                conn.executescript(_SCHEMA)
                yield conn
        except sqlite3.DatabaseError as exc:
            raise DrillbookError(f"history store {str(self.path)!r}: {exc}") from exc

    def append(self, record: HistoryRecord) -> None:
        row = (
            record.run_id, record.scenario, record.backend,
            record.started_utc.astimezone(UTC).isoformat(), record.status.value,
            record.ttr, record.ttd, record.outage, record.rpo, record.rows_lost,
            record.wall_time, record.ttr_limit, record.rpo_limit, int(record.dry_run),
            int(record.game_day), int(record.baseline_ok), ",".join(record.codes),
        )
        marks = ", ".join("?" * len(_COLUMNS))
        with self._connect(write=True) as conn, conn:
            conn.execute(
                f"insert or replace into runs ({', '.join(_COLUMNS)}) values ({marks})", row
            )

    def runs(
        self,
        scenario: str | None = None,
        *,
        backend: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[HistoryRecord]:
        """Runs oldest first, filtered; `until` is exclusive."""
        where, args = [], []
        for column, op, value in (
            ("scenario", "=", scenario),
            ("backend", "=", backend),
            ("started_utc", ">=", _iso(since)),
            ("started_utc", "<", _iso(until)),
        ):
            if value is not None:
                where.append(f"{column} {op} ?")
                args.append(value)
        query = f"select {', '.join(_COLUMNS)} from runs"
        if where:
            query += " where " + " and ".join(where)
        query += " order by started_utc, run_id"
        with self._connect(write=False) as conn:
            return [_record(row) for row in conn.execute(query, args)]

    def last_passing_ttr(self, scenario: str, backend: str) -> float | None:
        """Time to recover of the newest passing run of this scenario on this backend, if any.

        A run counts when it passed, or when its only shortfall was having no baseline itself.
        """
        if not self.path.exists():
            return None
        with self._connect(write=False) as conn:
            row = conn.execute(
                "select ttr from runs where scenario = ? and backend = ? "
                "and (status = ? or baseline_ok = 1) and ttr is not null and dry_run = 0 "
                "order by started_utc desc, run_id desc limit 1",
                (scenario, backend, Status.PASS.value),
            ).fetchone()
        return float(row[0]) if row else None


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC).isoformat()


def _record(row: Sequence[object]) -> HistoryRecord:
    values = dict(zip(_COLUMNS, row, strict=True))
    codes = str(values["codes"] or "")
    return HistoryRecord(
        run_id=str(values["run_id"]),
        scenario=str(values["scenario"]),
        backend=str(values["backend"]),
        started_utc=datetime.fromisoformat(str(values["started_utc"])),
        status=Status(str(values["status"])),
        ttr=_float(values["ttr"]),
        ttd=_float(values["ttd"]),
        outage=_float(values["outage"]),
        rpo=_float(values["rpo"]),
        rows_lost=int(str(values["rows_lost"])) if values["rows_lost"] is not None else None,
        wall_time=_float(values["wall_time"]),
        ttr_limit=_float(values["ttr_limit"]),
        rpo_limit=_float(values["rpo_limit"]),
        dry_run=bool(values["dry_run"]),
        game_day=bool(values["game_day"]),
        baseline_ok=bool(values["baseline_ok"]),
        codes=tuple(c for c in codes.split(",") if c),
    )


def _float(value: object) -> float | None:
    return float(str(value)) if value is not None else None


_BARS = "▁▂▃▄▅▆▇█"


def sparkline(values: Sequence[float | None]) -> str:
    """One character per value, bar height proportional to it (0 to the largest); '·' for none.

    Scaled from zero, not from the smallest value, so jitter of a few ms does not look like a
    trend.
    """
    known = [v for v in values if v is not None]
    high = max(known, default=0.0) or 1.0
    return "".join(
        "·" if v is None else _BARS[round(max(v, 0.0) / high * (len(_BARS) - 1))] for v in values
    )


def write_chart(records: Sequence[HistoryRecord], path: Path) -> Path:
    """A PNG of time to recover over time, one line per scenario/backend (needs matplotlib)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:  # an optional extra: say how to get it
        raise DrillbookError("--chart needs matplotlib: pip install 'drillbook[load]'") from exc
    series: dict[tuple[str, str], list[HistoryRecord]] = {}
    for record in records:
        series.setdefault((record.scenario, record.backend), []).append(record)
    fig, ax = plt.subplots(figsize=(9, 4.5))
    for (scenario, backend), runs in sorted(series.items()):
        # matplotlib's date axis counts days since 1970-01-01 (its default epoch).
        timed = [(r.started_utc.timestamp() / 86400, r.ttr, r.passed)
                 for r in runs if r.ttr is not None]
        xs: list[float] = [float(x) for x, _, _ in timed]
        ys: list[float] = [y for _, y, _ in timed]
        line = ax.plot(xs, ys, marker="o", label=f"{scenario} ({backend})")[0]
        bad = [(x, y) for x, y, ok in timed if not ok]
        ax.scatter([float(x) for x, _ in bad], [y for _, y in bad], marker="x", s=80,
                   color=line.get_color(), zorder=3)
    ax.xaxis_date()
    ax.set_ylim(bottom=0)  # from zero, so a few ms of jitter does not look like a trend
    ax.set_ylabel("time to recover (s)")
    ax.set_title("time to recover per run (x: not passed)")
    ax.grid(alpha=0.3)
    if series:
        ax.legend(fontsize="small")
    fig.autofmt_xdate()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return path
