"""The timeline picture of a drill with load: error rate and p95 over time, the fault, every
recovery step and the moment of recovery marked. reports/<run-id>/timeline.png, for the HTML
report to embed. matplotlib (Agg, no display) is imported only when a picture is drawn."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from drillbook.journal import Journal
from drillbook.load.windows import LoadFigures
from drillbook.measure import Measurements

PICTURE = "timeline.png"
log = logging.getLogger("drillbook.load")


def write_timeline(journal: Journal, m: Measurements, folder: Path) -> Path | None:
    """Draw the picture into `folder`; None (logged) when there is no load or drawing failed."""
    if not journal.load or m.load is None:
        return None
    try:
        return _draw(journal, m, folder)
    except Exception:  # a picture must never break the run's result
        log.exception("timeline picture of %s could not be drawn", journal.run_id)
        return None


def _draw(journal: Journal, m: Measurements, folder: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    f = m.load
    assert f is not None
    buckets = sorted(journal.load, key=lambda b: b.start)
    mids = [(b.start + b.end) / 2 for b in buckets]
    rates = [100.0 * b.failures / b.requests if b.requests else 0.0 for b in buckets]
    p95 = [b.p95 * 1000 if b.p95 is not None else float("nan") for b in buckets]
    rps = [b.requests / max(1e-9, b.end - b.start) for b in buckets]

    fig, (ax_err, ax_lat) = plt.subplots(2, 1, figsize=(10, 5.5), sharex=True, dpi=100)
    width = f.bucket * 0.9
    ax_err.bar(mids, rates, width=width, color="#d9534f", label="error rate %")
    ax_err.set_ylabel("errors %")
    ax_rps = ax_err.twinx()
    ax_rps.plot(mids, rps, color="#777777", linewidth=1, label="requests/s")
    ax_rps.set_ylabel("req/s", color="#777777")
    ax_rps.set_ylim(0, max(rps, default=1.0) * 1.25 or 1.0)
    ax_lat.plot(mids, p95, color="#0275d8", marker=".", label="p95 ms")
    ax_lat.set_ylabel("p95 ms")
    ax_lat.set_xlabel("seconds since the run started")

    for ax in (ax_err, ax_lat):
        _moments(ax, journal, f)
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    ax_lat.legend(
        handles=[
            Line2D([], [], color="#d9534f", linestyle="--", label="fault injected"),
            Patch(color="#f0ad4e", alpha=0.4, label="recovery step"),
            Line2D([], [], color="#5cb85c", label="recovery done"),
            Line2D([], [], color="#5cb85c", linestyle=":", label="last failed request"),
        ],
        loc="upper left", fontsize=7, ncol=4, frameon=False,
    )
    ax_err.set_ylim(0, max(rates, default=1.0) * 1.3 or 1.0)
    top = ax_err.get_ylim()[1]
    if f.fault_at is not None:
        ax_err.annotate("fault", (f.fault_at, top), xytext=(3, -10), textcoords="offset points",
                        color="#d9534f", fontsize=8, backgroundcolor="white")
    for step in journal.steps:
        if step.phase == "recover" and not step.skipped:
            ax_err.annotate(step.id or step.kind, (step.started, top * 0.8), xytext=(3, -12),
                            textcoords="offset points", color="#a0522d", fontsize=8)
    if f.recovered_at is not None:
        ax_err.annotate("recovered", (f.recovered_at, top * 0.6), xytext=(3, -12),
                        textcoords="offset points", color="#3c763d", fontsize=8)
    base, after = f.window("baseline"), f.window("after")

    def pct(value: float | None) -> str:
        return "n/a" if value is None else f"{value * 100:.1f}%"

    ax_err.set_title(
        f"{journal.scenario}: {f.requests} requests, {f.failures} failed; error rate baseline "
        f"{pct(base.error_rate)}, fault {pct(f.window('fault').error_rate)}, after "
        f"{pct(after.error_rate)}",
        fontsize=9,
    )
    fig.tight_layout()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / PICTURE
    fig.savefig(path)
    plt.close(fig)
    return path


def _moments(ax: Any, journal: Journal, f: LoadFigures) -> None:
    """Shade the windows and recovery steps; draw the fault and recovery moments."""
    for w, colour in zip(f.windows, ("#5cb85c", "#d9534f", "#f0ad4e", "#5bc0de"), strict=True):
        if w.start is not None and w.end is not None and w.end > w.start:
            ax.axvspan(w.start, w.end, color=colour, alpha=0.07)
    if f.fault_at is not None:
        ax.axvline(f.fault_at, color="#d9534f", linestyle="--", linewidth=1.2)
    for step in journal.steps:
        if step.phase == "recover" and not step.skipped:
            ax.axvspan(step.started, step.ended, color="#f0ad4e", alpha=0.25)
    if f.recovered_at is not None:
        ax.axvline(f.recovered_at, color="#5cb85c", linestyle="-", linewidth=1.5)
    if f.errors_stopped_at is not None:
        ax.axvline(f.errors_stopped_at, color="#5cb85c", linestyle=":", linewidth=1.2)
    for mark in journal.marks:
        if mark.name == "fault.cleared":
            ax.axvline(mark.t, color="#999999", linestyle=":", linewidth=1)

