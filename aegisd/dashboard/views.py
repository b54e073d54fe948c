"""What templates show: times, durations and the pass-rate trend.

Times are written in UTC (``<time>`` elements the page's script shows in the
viewer's own time zone, UTC on hover); everything from the database or a site is
escaped by Jinja's autoescaping.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from storage.ids import from_iso

FINAL_RUN = ("passed", "failed", "cancelled", "error")


def when(value: str | None) -> Markup:
    """A timestamp as a ``<time>`` element: UTC here, local time once the script runs."""
    if not value:
        return Markup('<span class="muted">—</span>')
    moment = from_iso(value)
    utc = moment.strftime("%Y-%m-%d %H:%M:%S UTC")
    shown = moment.strftime("%Y-%m-%d %H:%M UTC")
    return Markup('<time datetime="{}" title="{}">{}</time>').format(value, utc, shown)


def duration(milliseconds: int | None) -> str:
    """``350 ms``, ``4.2 s``, ``3 min 5 s``, ``2 h 10 min``."""
    if milliseconds is None:
        return "—"
    if milliseconds < 1000:
        return f"{milliseconds} ms"
    seconds = milliseconds / 1000
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, second = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {second} s"
    hours, minute = divmod(minutes, 60)
    return f"{hours} h {minute} min"


def pass_rate(run: dict[str, Any]) -> float | None:
    """Passed cases of those that ran (skipped ones left out); ``None`` when none ran."""
    ran = run["passed"] + run["failed"]
    return run["passed"] / ran if ran else None


@dataclass(frozen=True)
class Bar:
    """One run in the pass-rate trend."""

    run: dict[str, Any]
    x: float
    height: float
    rate: float | None

    @property
    def label(self) -> str:
        rate = "no cases ran" if self.rate is None else f"{self.rate:.0%} passed"
        counts = f"{self.run['passed']}/{self.run['passed'] + self.run['failed']}"
        return f"{self.run['id']} {self.run['status']}: {rate} ({counts}), {self.run['created_at']}"


@dataclass(frozen=True)
class Trend:
    """The pass-rate trend of a project's finished runs, oldest first, as SVG geometry."""

    bars: list[Bar]
    width: float
    height: float
    bar_width: float

    @property
    def average(self) -> float | None:
        rates = [bar.rate for bar in self.bars if bar.rate is not None]
        return sum(rates) / len(rates) if rates else None


def trend(runs: Sequence[dict[str, Any]], width: float = 600, height: float = 64) -> Trend:
    """Bars for ``runs`` (newest first, as lists give them): finished ones, oldest left."""
    finished = [run for run in reversed(runs) if run["status"] in FINAL_RUN]
    slot = width / max(len(finished), 20)
    bars = []
    for number, run in enumerate(finished):
        rate = pass_rate(run)
        bar_height = max(2.0, (rate or 0) * height)
        bars.append(Bar(run, number * slot, bar_height, rate))
    return Trend(bars, width, height, max(2.0, slot - 2))
