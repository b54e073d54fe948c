"""The performance audit: the page's figures, what they fall short of, and their score.

The figures come from ``runner/performance.js`` (the script the executor and the
exports measure budgets with), added to the crawl's context as an init script.
A figure is a finding when it misses web.dev's "good" threshold (``moderate``) or
is "poor" (``serious``). The score is Lighthouse's (v10+, desktop): each metric
scored on its log-normal curve and weighted FCP 10, LCP 25, TBT 30, CLS 25 (Speed
Index, not measured, leaves its 10 out).
"""

from __future__ import annotations

import math
from typing import NamedTuple

from playwright.async_api import Page

from crawler.audits.models import Finding, PerformanceFigures
from runner.axe import Impact
from runner.performance import UNITS, measure


class _Threshold(NamedTuple):
    rule: str
    metric: str
    name: str
    good: float
    poor: float


THRESHOLDS = (
    _Threshold("server-response-time", "ttfb", "Time to first byte", 800, 1800),
    _Threshold("first-contentful-paint", "fcp", "First Contentful Paint", 1800, 3000),
    _Threshold("largest-contentful-paint", "lcp", "Largest Contentful Paint", 2500, 4000),
    _Threshold("total-blocking-time", "tbt", "Total Blocking Time", 200, 600),
    _Threshold("cumulative-layout-shift", "cls", "Cumulative Layout Shift", 0.1, 0.25),
    _Threshold("total-byte-weight", "transfer_bytes", "The page's weight", 1_600_000, 4_000_000),
)
"""Per finding rule: the figure, its "good" upper bound and where "poor" begins."""

# metric: (10th percentile, median, weight) of Lighthouse's desktop scoring curves
_SCORING = {"fcp": (934, 1600, 10), "lcp": (1200, 2400, 25), "tbt": (150, 350, 30),
            "cls": (0.1, 0.25, 25)}  # fmt: skip
_INVERSE_ERFC_ONE_FIFTH = 0.9061938024368232


async def audit_performance(page: Page) -> PerformanceFigures:
    """The figures of the page's document, once it has settled."""
    return PerformanceFigures.model_validate(await measure(page))


def performance_findings(figures: PerformanceFigures) -> list[Finding]:
    """The figures that miss their "good" threshold, as findings."""
    found = []
    for threshold in THRESHOLDS:
        value = getattr(figures, threshold.metric)
        if value is None or value <= threshold.good:
            continue
        impact: Impact = "serious" if value > threshold.poor else "moderate"
        found.append(Finding(rule=threshold.rule, impact=impact, help=_help(threshold)))
    return found


def _help(threshold: _Threshold) -> str:
    unit = UNITS[threshold.metric]
    return f"{threshold.name} over {threshold.good:,g}{unit} (poor over {threshold.poor:,g}{unit})"


def performance_score(figures: PerformanceFigures) -> int | None:
    """Lighthouse's performance score of the figures (0-100); ``None`` without any."""
    total = weights = 0.0
    for metric, (p10, median, weight) in _SCORING.items():
        value = getattr(figures, metric)
        if value is not None:
            total += weight * _log_normal(value, p10, median)
            weights += weight
    return round(100 * total / weights) if weights else None


def _log_normal(value: float, p10: float, median: float) -> float:
    """Lighthouse's score of ``value`` on the curve through ``p10`` (0.9) and ``median`` (0.5)."""
    if value <= 0:
        return 1.0
    standardized = math.log(value / median) * _INVERSE_ERFC_ONE_FIFTH / -math.log(p10 / median)
    return min(1.0, max(0.0, math.erfc(standardized) / 2))
