"""The page performance script (``performance.js``), shared by the crawler, the executor
and the exported tests.

Added to a page or context as an init script, it observes each document from its
start; ``measure(page)`` then answers the figures once the page has settled, and
``over_budget(page, budgets)`` the figures over their budgets in words. The
exports embed the same script and call the same functions in the page, so a budget
passes or fails alike everywhere. See the script's header for the definitions.
"""

from __future__ import annotations

from importlib.resources import files
from typing import Any

from playwright.async_api import Page

PERFORMANCE_JS = (files("runner") / "performance.js").read_text(encoding="utf-8")
"""The script; add it with ``add_init_script`` before the page loads."""

METRICS = ("ttfb", "fcp", "lcp", "cls", "tbt", "transfer_bytes", "requests")
"""The figures, in the order reports list them."""

UNITS = {"ttfb": " ms", "fcp": " ms", "lcp": " ms", "cls": "", "tbt": " ms",
         "transfer_bytes": " bytes", "requests": ""}  # fmt: skip
"""How each figure is written after its number."""

MEASURE_JS = "() => window.__aegisPerformance.measure()"
OVER_BUDGET_JS = "(budgets) => window.__aegisPerformance.overBudget(budgets)"


async def measure(page: Page) -> dict[str, Any]:
    """The current document's figures (``None`` where the browser gave no entry)."""
    figures: dict[str, Any] = await page.evaluate(MEASURE_JS)
    return figures


async def over_budget(page: Page, budgets: dict[str, float]) -> list[str]:
    """The figures over their ``budgets`` in words, e.g. ``lcp is 2300 ms, over its budget
    of 1200 ms``; empty when every budgeted figure is within its budget."""
    over: list[str] = await page.evaluate(OVER_BUDGET_JS, budgets)
    return over
