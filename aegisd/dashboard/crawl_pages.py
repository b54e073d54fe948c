"""One page of a crawl: what the crawler found on it (status, title, load time, console
errors, failed requests, links, forms) and its audits with the performance figures.

A page is addressed by its place in the crawl's pages (``/crawls/:id/pages/1`` is the
first), the page the API's ``GET /crawls/:id/pages?limit=1&page=N`` answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web

from aegisd.api import crawls, projects
from aegisd.dashboard.audits import CATEGORY_NAMES
from aegisd.dashboard.pages import PageRouter, call, render
from aegisd.envelope import MAX_PAGE, PageQuery
from aegisd.errors import NotFound
from crawler.audits.models import AUDIT_CATEGORIES, PageAudits, PerformanceFigures
from crawler.audits.performance import THRESHOLDS, performance_findings
from crawler.audits.scoring import category_findings
from runner.performance import UNITS

pages = PageRouter()

_RATINGS: dict[str | None, tuple[str, str]] = {
    None: ("good", "passed"),
    "moderate": ("needs work", "flaky"),
    "serious": ("poor", "failed"),
}
"""A figure's rating and colour by the impact of its finding (none: within "good")."""


@dataclass(frozen=True)
class Figure:
    """One performance figure of a page, with web.dev's thresholds and where it falls."""

    name: str
    value: str
    thresholds: str
    rating: str
    status: str


def _number(metric: str, value: float) -> str:
    if metric == "cls":
        return f"{value:.3f}"
    if metric == "transfer_bytes":
        return f"{value / 1000:,.1f} kB" if value < 1_000_000 else f"{value / 1e6:,.2f} MB"
    return f"{value:,g}{UNITS[metric]}"


def figures(measured: PerformanceFigures) -> list[Figure]:
    """The page's figures in the order the API gives them; rated where web.dev rates them."""
    limits = {threshold.metric: threshold for threshold in THRESHOLDS}
    found = {item.rule: item.impact for item in performance_findings(measured)}
    shown = []
    for metric, value in measured.model_dump().items():
        threshold = limits.get(metric)
        name = threshold.name if threshold else metric.replace("_", " ").capitalize()
        if value is None:
            shown.append(Figure(name, "not measured", "", "", "skipped"))
            continue
        if threshold is None:
            shown.append(Figure(name, _number(metric, value), "", "", "skipped"))
            continue
        rating, status = _RATINGS[found.get(threshold.rule)]
        good, poor = _number(metric, threshold.good), _number(metric, threshold.poor)
        bounds = f"good ≤ {good}, poor > {poor}"
        shown.append(Figure(name, _number(metric, value), bounds, rating, status))
    return shown


def _audits(data: dict[str, Any] | None) -> dict[str, Any] | None:
    if data is None:
        return None
    audits = PageAudits.model_validate(data)
    return {
        "scores": audits.scores,
        "errors": audits.errors,
        "figures": figures(audits.performance) if audits.performance else None,
        "findings": [
            (category, category_findings(audits, category)) for category in AUDIT_CATEGORIES
        ],
    }


@pages.get("/crawls/{crawl_id}/pages/{number}")
async def crawl_page_detail(request: web.Request) -> web.StreamResponse:
    crawl_id = request.match_info["crawl_id"]
    crawl = await crawls.load_crawl(request, crawl_id)
    number = request.match_info["number"]
    if not number.isdigit() or not 1 <= int(number) <= MAX_PAGE:
        raise NotFound(f"there is no page {number!r} in crawl {crawl_id}: pages count from 1")
    query = PageQuery(page=int(number), limit=1)
    listed = await call(request, crawls.list_crawl_pages, crawl_id=crawl_id, query=query)
    if not listed.items:
        raise NotFound(f"crawl {crawl_id} has {listed.total} pages: there is no page {number}")
    project = await call(request, projects.get_project, project_id=crawl["project_id"])
    page = listed.items[0]
    context = {
        "crawl": crawl,
        "project": project,
        "page": page,
        "number": int(number),
        "total": listed.total,
        "audits": _audits(page.get("audits")),
        "category_names": CATEGORY_NAMES,
    }
    return await render(request, "crawls/page.html", context, nav="projects")
