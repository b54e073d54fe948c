"""What templates show: times, durations, the pass-rate trend and history strips.

Times are written in UTC (``<time>`` elements the page's script shows in the
viewer's own time zone, UTC on hover); everything from the database or a site is
escaped by Jinja's autoescaping.
"""

from __future__ import annotations

import functools
import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from runner.report import triage_badge as _triage_badge
from runner.results import Classification
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


def triage_badge(name: Classification, label: str | None = None, href: str | None = None) -> Markup:
    """A classification's badge, as the run report draws it (its text escaped there)."""
    return Markup(_triage_badge(name, label, href))


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


STRIP_RUNS = 20
"""How many of a case's last runs its history strip shows."""


@functools.lru_cache(maxsize=64)
def _outcome_said(status: str, flaky: bool, classification: str | None) -> tuple[str, str]:
    """A mark's kind (its colour and shape: ``passed``, ``failed``, ``flaky`` for a pass
    on a retry, ``environment`` for the site down) and its outcome in words, escaped."""
    if status == "passed":
        return ("flaky", "passed on a retry") if flaky else ("passed", "passed")
    kind = "environment" if classification == "environment" else "failed"
    return kind, html.escape(f"failed, {classification}" if classification else "failed")


@functools.lru_cache(maxsize=1024)
def _run_said(run_id: str, created_at: str) -> tuple[str, str]:
    """A run's id and time as marks show them, escaped; the strips of a page's cases
    mostly show the same runs."""
    # A to_iso timestamp, cut rather than parsed: a page holds a thousand of them.
    return html.escape(run_id), html.escape(f"{created_at[:10]} {created_at[11:16]} UTC")


def _mark(outcome: dict[str, Any], current: str | None) -> str:
    """One run's mark: its colour and shape by outcome, its status and classification
    on hover, a link to the run."""
    kind, said = _outcome_said(outcome["status"], outcome["flaky"], outcome["classification"])
    run_id, moment = _run_said(outcome["run_id"], outcome["created_at"])
    here = ' aria-current="page"' if outcome["run_id"] == current else ""
    # The title is the mark's hover text and its accessible name.
    return (
        f'<a role="listitem" class="run h-{kind}{" current" if here else ""}" '
        f'href="/runs/{run_id}" title="{said} · {duration(outcome["duration"])} · {moment} · '
        f'{run_id}"{here}></a>'
    )


def history_strip(
    outcomes: Sequence[dict[str, Any]], current: str | None = None, label: str = "Last runs"
) -> Markup:
    """A case's history strip from its outcomes (newest first, as history gives them):
    a mark per run, oldest left, with how many passed; ``current`` (a run id) is the
    page's own run. Built here rather than in a macro: a run page has one per case."""
    if not outcomes:
        return Markup('<span class="muted sub">no finished runs yet</span>')
    passed = sum(outcome["status"] == "passed" for outcome in outcomes)
    marks = "".join(_mark(outcome, current) for outcome in reversed(outcomes))
    said = html.escape(f"{label}, oldest first: {passed} of {len(outcomes)} passed")
    return Markup(
        f'<span class="history"><span class="strip" role="list" aria-label="{said}">{marks}'
        f'</span><span class="sub nowrap">{passed}/{len(outcomes)} passed</span></span>'
    )
