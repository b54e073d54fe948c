"""The audit checks of generated smoke cases: no new accessibility violation, no slowdown.

A page audited for accessibility gets ``expect_no_a11y_violations`` at impact
``serious`` ignoring what the crawl found there: each node of a serious or critical
violation, or the whole rule when it had more than ``MAX_IGNORED_NODES`` nodes. A
page audited for performance gets ``expect_performance`` with budgets from the
crawl's figures and the headroom ``budgets_for`` states, so an unchanged site stays
within them on a loaded machine while a page three times slower does not (no time
budgets where the crawl saw a sub-request go unanswered). The
performance check comes first: axe-core's own work would count as blocking time.
"""

from __future__ import annotations

import math

from crawler.audits.models import Finding, PerformanceFigures
from crawler.models import PageResult
from runner.axe import Impact, at_least
from runner.steps import A11yIgnore, Budgets, ExpectNoA11yViolations, ExpectPerformance, Step

A11Y_IMPACT: Impact = "serious"
"""The impact from which a new violation fails a generated case."""

MAX_IGNORED_NODES = 10
"""A violation with more nodes than this on a page is ignored as a whole rule there."""

TIME_FACTOR = 2
"""Time budgets allow twice the crawl's figure..."""

TIME_FLOORS = {"ttfb": 1800, "fcp": 3000, "lcp": 4000, "tbt": 600}
"""... and never less than these (ms: where web.dev's "poor" begins), rounded up to the next
100 ms. A page fails only when it is both twice as slow as the crawl saw and poor; under
these, a loaded machine's noise (seconds to a first paint at a load average of 30 on two
cores) does not fail an unchanged page."""

BYTES_HEADROOM = (0.2, 10_000)
"""Transfer budget: the crawl's figure plus 20 % or 10 kB, whichever is more."""

REQUESTS_HEADROOM = (0.1, 2)
"""Request budget: the crawl's count plus 10 % or 2, whichever is more."""


def audit_steps(page: PageResult) -> list[Step]:
    """The audit checks for ``page``'s smoke case (none for a page the crawl did not audit)."""
    audits = page.audits
    steps: list[Step] = []
    if audits is None:
        return steps
    if audits.performance is not None:
        budgets = budgets_for(audits.performance, times=not _waited_on_network(page))
        if budgets is not None:
            steps.append(ExpectPerformance(action="expect_performance", budgets=budgets))
    if audits.accessibility is not None:
        steps.append(
            ExpectNoA11yViolations(
                action="expect_no_a11y_violations",
                impact=A11Y_IMPACT,
                ignore=known_violations(audits.accessibility),
            )
        )
    return steps


def known_violations(violations: list[Finding]) -> list[A11yIgnore]:
    """What a generated check ignores of the violations the crawl found on a page."""
    ignore: list[A11yIgnore] = []
    for violation in violations:
        if not at_least(violation.impact, A11Y_IMPACT):
            continue
        if violation.node_count > MAX_IGNORED_NODES or not violation.nodes:
            ignore.append(A11yIgnore(rule=violation.rule))
            continue
        targets = dict.fromkeys(node.target for node in violation.nodes)
        ignore += [A11yIgnore(rule=violation.rule, target=target) for target in targets]
    return ignore


def _waited_on_network(page: PageResult) -> bool:
    """Whether a sub-request of ``page`` got no answer at the crawl (refused, unresolved...)."""
    return any(failed.error is not None for failed in page.failed_requests)


def budgets_for(figures: PerformanceFigures, *, times: bool = True) -> Budgets | None:
    """Budgets with headroom over the crawl's ``figures``; ``None`` when none was measured.

    ``times=False`` leaves out the time budgets (the transfer and request ones stay): for a
    page whose crawl saw a sub-request go unanswered, its paint waits on how soon the network
    gives up on that request, not on the page. An air-gapped machine's DNS refused the
    MkDocs theme's CDN in 0.1 s on one load and 5 s on the next: FCP 0.2 s, then 5.2 s.

    No layout shift budget: how far a page shifts depends on when its fonts, images and
    scripts arrive, so unchanged pages measured 0.01 at the crawl and 0.23 (MkDocs) or
    0.37 (Django's admin lists) on a later load. A shift stays an audit finding of the
    crawl, and a new one shows among the crawl's new findings.
    """
    budgets: dict[str, float] = {}
    for metric, floor in TIME_FLOORS.items() if times else ():
        value = getattr(figures, metric)
        if value is not None:
            budgets[metric] = _round_up(max(TIME_FACTOR * value, floor), 100)
    if figures.transfer_bytes is not None:
        share, least = BYTES_HEADROOM
        budgets["transfer_bytes"] = figures.transfer_bytes + max(
            math.ceil(figures.transfer_bytes * share), least
        )
    if figures.requests is not None:
        share, least = REQUESTS_HEADROOM
        budgets["requests"] = figures.requests + max(math.ceil(figures.requests * share), least)
    return Budgets.model_validate(budgets) if budgets else None


def _round_up(value: float, step: int) -> int:
    return math.ceil(value / step) * step
