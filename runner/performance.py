"""The page performance script (``performance.js``), shared by the crawler, the executor
and the exported tests.

Added to a page or context as an init script, it observes each document from its
start; ``measure(page)`` then answers the figures once the page has settled, and
``over_budget(page, budgets)`` the figures over their budgets in words, reloading the
page to measure again while only time figures are over. The exports embed the same
script and do the same in the page, so a budget passes or fails alike everywhere. See
the script's header for the definitions.
"""

from __future__ import annotations

import re
from importlib.resources import files
from typing import Any

from playwright.async_api import Page, Route

PERFORMANCE_JS = (files("runner") / "performance.js").read_text(encoding="utf-8")
"""The script; add it with ``add_init_script`` before the page loads."""

METRICS = ("ttfb", "fcp", "lcp", "cls", "tbt", "transfer_bytes", "requests")
"""The figures, in the order reports list them."""

UNITS = {"ttfb": " ms", "fcp": " ms", "lcp": " ms", "cls": "", "tbt": " ms",
         "transfer_bytes": " bytes", "requests": ""}  # fmt: skip
"""How each figure is written after its number."""

MEASURE_JS = "() => window.__aegisPerformance.measure()"
OVER_BUDGET_JS = "([budgets, earlier]) => window.__aegisPerformance.overBudget(budgets, earlier)"

NO_URL = re.compile(r"(?!)")
"""A URL pattern nothing matches. Routing it turns the browser's HTTP cache off (any route
does, Playwright documents) and costs no round trip to Python: the pattern is matched in
the browser's process."""
NO_URL_JS = f"/{NO_URL.pattern}/"
"""``NO_URL`` as a JavaScript regular expression literal."""


async def pass_on(route: Route) -> None:
    """The handler of ``NO_URL``, never called."""
    await route.continue_()


async def measure(page: Page) -> dict[str, Any]:
    """The current document's figures (``None`` where the browser gave no entry)."""
    figures: dict[str, Any] = await page.evaluate(MEASURE_JS)
    return figures


async def over_budget(page: Page, budgets: dict[str, float], *, reload: bool) -> list[str]:
    """The figures over their ``budgets`` in words, e.g. ``lcp is 2300 ms, over its budget
    of 1200 ms``; empty when every budgeted figure is within its budget.

    With ``reload``, while only time figures are over, the page is reloaded with the HTTP
    cache off (a first visit's load, as the case's fresh context gave) and measured again,
    up to three loads in all; each time figure counts at its lowest. Pass ``reload`` only
    for a document requested with GET: reloading would post a form again.
    """
    result = await page.evaluate(OVER_BUDGET_JS, [budgets, None])
    while result["again"] and reload:
        await page.route(NO_URL, pass_on)
        try:
            await page.reload()
        finally:
            await page.unroute(NO_URL, pass_on)
        result = await page.evaluate(OVER_BUDGET_JS, [budgets, result["figures"]])
    over: list[str] = result["over"]
    return over
