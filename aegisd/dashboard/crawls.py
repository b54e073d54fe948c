"""A crawl's page: live progress, then its broken links, changes since the previous
crawl, audits (:mod:`aegisd.dashboard.audits`) and pages, one panel each.

A panel is a template under ``crawls/`` that reads the page's context; a feature
adds one by appending to :data:`PANELS` (and, if it needs data, to the context).
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from aegisd.api import ci, crawls, projects
from aegisd.dashboard.audits import audits_panel
from aegisd.dashboard.pages import PageRouter, call, page_number, redirect, render
from aegisd.envelope import PageQuery
from aegisd.sse import ACTIVE

pages = PageRouter()

PAGES_PER_PAGE = 100


@dataclass(frozen=True)
class Panel:
    """One section of a page: an anchor id, its heading and the template that draws it."""

    id: str
    title: str
    template: str


# What went wrong first, then the whole list.
PANELS: list[Panel] = [
    Panel("broken-links", "Broken links", "crawls/_broken_links.html"),
    Panel("changes", "Changes", "crawls/_changes.html"),
    Panel("audits", "Audits", "crawls/_audits.html"),
    Panel("pages", "Pages", "crawls/_pages.html"),
]


@pages.get("/crawls/{crawl_id}")
async def crawl_page(request: web.Request) -> web.StreamResponse:
    crawl_id = request.match_info["crawl_id"]
    crawl = await crawls.load_crawl(request, crawl_id)
    query = PageQuery(page=page_number(request), limit=PAGES_PER_PAGE)
    listed = await call(request, crawls.list_crawl_pages, crawl_id=crawl_id, query=query)
    project = await call(request, projects.get_project, project_id=crawl["project_id"])
    context = {
        "crawl": crawl,
        "project": project,
        "pages": listed.items,
        "pagination": listed,
        "active": crawl["status"] in ACTIVE,
        "panels": PANELS,
        "broken_links": crawl["broken_links"],
        "changes": crawl["changes"],
        **await audits_panel(request, crawl),
    }
    return await render(request, "crawls/crawl.html", context, nav="projects")


@pages.get("/crawls/{crawl_id}/events", stream=True)
async def crawl_events(request: web.Request) -> web.StreamResponse:
    """The crawl's progress as the CI surface streams it."""
    stream: web.StreamResponse = await call(
        request, ci.ci_crawl_events, crawl_id=request.match_info["crawl_id"]
    )
    return stream


@pages.post("/crawls/{crawl_id}/cancel")
async def cancel_crawl(request: web.Request) -> web.StreamResponse:
    crawl_id = request.match_info["crawl_id"]
    await call(request, crawls.cancel_crawl, crawl_id=crawl_id)
    return redirect(f"/crawls/{crawl_id}")
