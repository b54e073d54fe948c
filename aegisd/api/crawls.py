"""Crawls: discover a project's site in a browser (DESIGN §3.4)."""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from aegisd.api.projects import load_project
from aegisd.envelope import Page, PageQuery
from aegisd.errors import Conflict, NotFound
from aegisd.routing import Router
from aegisd.state import CRAWLS, DB, PRINCIPAL
from aegisd.triggers import queue_crawl

router = Router()

CrawlStatus = Literal["queued", "running", "completed", "failed", "cancelled"]


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


class Crawl(BaseModel):
    id: str
    project_id: str
    status: CrawlStatus
    mode: Literal["full", "quick"]
    max_pages: int
    depth: int
    start_url: str
    pages_found: int
    pages_crawled: int
    broken_links_count: int
    console_errors_count: int
    suite_id: str | None
    error: str | None
    created_at: str
    started_at: str | None
    completed_at: str | None
    duration: int | None


class CrawlResults(BaseModel):
    pages: list[dict[str, Any]]
    broken_links: list[dict[str, Any]]
    changes: dict[str, Any] | None


class CrawlDetail(Crawl):
    results: CrawlResults


async def load_crawl(request: web.Request, crawl_id: str) -> dict[str, Any]:
    """The crawl's row if it exists and the key may see it; 404/403 otherwise."""
    row = await request.app[DB].get_crawl(crawl_id)
    if row is None:
        raise NotFound(f"crawl {crawl_id} not found")
    request[PRINCIPAL].check_project(row["project_id"])
    return row


@router.get("/crawls")
async def list_crawls(request: web.Request, query: CrawlQuery) -> Page[Crawl]:
    """List crawls, newest first; filter by project and status."""
    principal = request[PRINCIPAL]
    if query.project_id is not None:
        principal.check_project(query.project_id)
    rows, total = await request.app[DB].list_crawls(
        query.size,
        query.offset,
        project_id=query.project_id or principal.project_id,
        status=query.status,
    )
    return Page([Crawl.model_validate(row) for row in rows], total, query)


@router.get("/crawls/{crawl_id}")
async def get_crawl(request: web.Request, crawl_id: str) -> CrawlDetail:
    """Get a crawl with its pages, broken links and changes since the previous crawl."""
    row = await load_crawl(request, crawl_id)
    pages = await request.app[DB].crawl_pages(crawl_id)
    results = CrawlResults(pages=pages, broken_links=row["broken_links"], changes=row["changes"])
    return CrawlDetail.model_validate({**row, "results": results})


@router.get("/crawls/{crawl_id}/pages")
async def list_crawl_pages(
    request: web.Request, crawl_id: str, query: PageQuery
) -> Page[dict[str, Any]]:
    """List a crawl's pages in crawl order (by depth, then as discovered)."""
    await load_crawl(request, crawl_id)
    pages, total = await request.app[DB].list_crawl_pages(crawl_id, query.size, query.offset)
    return Page(pages, total, query)


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
    row = await load_crawl(request, crawl_id)
    db, queue = request.app[DB], request.app[CRAWLS]
    for _ in range(50):
        if row["status"] not in ("queued", "running"):
            raise Conflict(f"crawl {crawl_id} is already {row['status']}")
        if await db.cancel_queued("crawls", crawl_id) or await queue.cancel(crawl_id):
            break
        # Claimed by a worker a moment ago and not yet under way: look again.
        await asyncio.sleep(0.02)
        row = await load_crawl(request, crawl_id)
    return Crawl.model_validate(await load_crawl(request, crawl_id))
