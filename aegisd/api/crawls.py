"""Crawls: discover a project's site in a browser (DESIGN §3.4)."""

from __future__ import annotations

from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from aegisd.api.access import cancel_job, owned, visible_project
from aegisd.api.projects import load_project
from aegisd.envelope import Page, PageQuery
from aegisd.errors import NotFound
from aegisd.routing import Router
from aegisd.state import CRAWLS, DB
from aegisd.stored_pages import tally_audits
from aegisd.triggers import queue_crawl
from aegisd.views import Crawl, CrawlStatus
from crawler.audits.models import (
    AUDIT_CATEGORIES,
    AuditCategory,
    Finding,
    PerformanceFigures,
    RuleSummary,
)
from crawler.audits.performance import THRESHOLDS, performance_findings

router = Router()


class CrawlCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    project_id: str
    mode: Literal["full", "quick"] = "full"
    max_pages: int | None = Field(None, ge=1, le=10_000, description="Default: the project's.")
    depth: int | None = Field(None, ge=0, le=50, description="Default: the project's.")
    start_url: str | None = Field(
        None, description="Same origin as the project; default its base_url."
    )
    generate_suite: bool = True


class CrawlQuery(PageQuery):
    project_id: str | None = None
    status: CrawlStatus | None = None


class AuditsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    category: AuditCategory | None = Field(None, description="Only this category's rules.")


class RulePage(BaseModel):
    """A page failing a rule: ``GET /crawls/:id/audits/:category/:rule``."""

    index: int = Field(
        description="The page's place in the crawl's pages, from 0 "
        "(GET /crawls/:id/pages?limit=1&page= one more)."
    )
    url: str
    title: str | None
    status: int | None
    finding: Finding = Field(description="What the page fails: the impact and its elements.")


DETAIL_PAGES = 100
"""Pages the crawl's detail view carries, the first in crawl order; the rest are listed by
``GET /crawls/:id/pages``."""


class CrawlResults(BaseModel):
    pages: list[dict[str, Any]] = Field(
        description=f"The first {DETAIL_PAGES} pages in crawl order; every page is listed, "
        "page by page, at pages_url."
    )
    pages_total: int = Field(description="How many pages the crawl stored.")
    pages_url: str = Field(description="The paginated list of all the crawl's pages.")
    broken_links: list[dict[str, Any]] = Field(description="Every broken link, not capped.")
    changes: dict[str, Any] | None


class CrawlDetail(Crawl):
    results: CrawlResults


async def load_crawl(request: web.Request, crawl_id: str) -> dict[str, Any]:
    """The crawl's row if it exists and the key may see it; 404/403 otherwise."""
    return owned(request, await request.app[DB].get_crawl(crawl_id), "crawl", crawl_id)


@router.get("/crawls")
async def list_crawls(request: web.Request, query: CrawlQuery) -> Page[Crawl]:
    """List crawls, newest first; filter by project and status."""
    rows, total = await request.app[DB].list_crawls(
        query.size,
        query.offset,
        project_id=visible_project(request, query.project_id),
        status=query.status,
    )
    return Page([Crawl.model_validate(row) for row in rows], total, query)


@router.get("/crawls/{crawl_id}")
async def get_crawl(request: web.Request, crawl_id: str) -> CrawlDetail:
    """Get a crawl with its first pages, all its broken links and its changes since the
    previous crawl."""
    row = await load_crawl(request, crawl_id)
    pages, total = await request.app[DB].list_crawl_pages(crawl_id, DETAIL_PAGES, 0)
    results = CrawlResults(
        pages=pages,
        pages_total=total,
        pages_url=f"{request.path.rstrip('/')}/pages",
        broken_links=row["broken_links"],
        changes=row["changes"],
    )
    return CrawlDetail.model_validate({**row, "results": results})


@router.get("/crawls/{crawl_id}/pages")
async def list_crawl_pages(
    request: web.Request, crawl_id: str, query: PageQuery
) -> Page[dict[str, Any]]:
    """List a crawl's pages in crawl order (by depth, then as discovered)."""
    await load_crawl(request, crawl_id)
    pages, total = await request.app[DB].list_crawl_pages(crawl_id, query.size, query.offset)
    return Page(pages, total, query)


@router.get("/crawls/{crawl_id}/audits")
async def list_crawl_audits(
    request: web.Request, crawl_id: str, query: AuditsQuery
) -> list[RuleSummary]:
    """List every audit rule the crawl's pages fail, worst first (the whole list, not paged)."""
    await load_crawl(request, crawl_id)
    rules = await _crawl_rules(request, crawl_id)
    return [rule for rule in rules if query.category in (None, rule.category)]


@router.get("/crawls/{crawl_id}/audits/{category}/{rule}")
async def list_rule_pages(
    request: web.Request, crawl_id: str, category: str, rule: str, query: PageQuery
) -> Page[RulePage]:
    """List the pages failing one audit rule, in crawl order, with the elements concerned."""
    await load_crawl(request, crawl_id)
    if category not in AUDIT_CATEGORIES:
        names = ", ".join(AUDIT_CATEGORIES)
        raise NotFound(f"there is no audit category {category!r}: use one of {names}")
    rules = await _crawl_rules(request, crawl_id)
    found = next((r for r in rules if (r.category, r.rule) == (category, rule)), None)
    if found is None:  # no page fails it (a fixed rule, a rule of another category...)
        return Page([], 0, query)
    db = request.app[DB]
    if category == "performance":
        threshold = next(t for t in THRESHOLDS if t.rule == rule)
        rows = await db.crawl_figures_over(
            crawl_id, threshold.metric, threshold.good, query.size, query.offset
        )
        pages = [_performance_page(row, rule) for row in rows]
    else:
        rows = await db.crawl_rule_findings(crawl_id, category, rule, query.size, query.offset)
        pages = [RulePage.model_validate(row) for row in rows]
    return Page(pages, found.pages, query)


async def _crawl_rules(request: web.Request, crawl_id: str) -> list[RuleSummary]:
    """The rules the crawl's pages fail: stored once it completed, else of its pages so far."""
    db = request.app[DB]
    stored = await db.crawl_audit_rules(crawl_id)
    if stored is not None:
        return [RuleSummary.model_validate(rule) for rule in stored]
    return (await tally_audits(db, crawl_id)).rules()


def _performance_page(row: dict[str, Any], rule: str) -> RulePage:
    figures = PerformanceFigures.model_validate(row["figures"])
    [finding] = [item for item in performance_findings(figures) if item.rule == rule]
    return RulePage.model_validate({**row, "finding": finding})


@router.post("/crawls", status=201)
async def create_crawl(request: web.Request, body: CrawlCreate) -> Crawl:
    """Queue a crawl of a project's site."""
    project = await load_project(request, body.project_id)
    row = await queue_crawl(
        request.app,
        project,
        mode=body.mode,
        max_pages=body.max_pages,
        depth=body.depth,
        start_url=body.start_url,
        generate_suite=body.generate_suite,
    )
    return Crawl.model_validate(row)


@router.post("/crawls/{crawl_id}/cancel")
async def cancel_crawl(request: web.Request, crawl_id: str) -> Crawl:
    """Cancel a queued or running crawl; what it found so far is kept."""
    await cancel_job(request, "crawls", request.app[CRAWLS], lambda: load_crawl(request, crawl_id))
    return Crawl.model_validate(await load_crawl(request, crawl_id))
