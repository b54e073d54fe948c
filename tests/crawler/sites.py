"""Fixture sites for the crawler tests: routes by path, every request recorded.

A route is an HTML string (served 200 as text/html) or an aiohttp handler for
anything else: redirects, statuses, slow or endless bodies, files, XML.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web

from crawler.engine import crawl
from crawler.models import CrawlOptions, CrawlResult
from runner.browsers import Browsers
from tests.conftest import ServeApp
from tests.sites import page

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Route = str | Handler

TEST_PAGE_TIMEOUT_S = 5.0


def anchors(*paths: str) -> str:
    """Links to ``paths``, each named after its path."""
    return "".join(f'<a href="{path}">{path}</a> ' for path in paths)


def linking(title: str, *paths: str) -> str:
    """A page titled ``title`` that links to ``paths``."""
    return page(title, anchors(*paths))


def respond(
    body: str | bytes,
    content_type: str = "text/html",
    *,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
    delay_s: float = 0.0,
) -> Handler:
    """A handler answering ``body`` after ``delay_s``."""

    async def handler(_request: web.Request) -> web.Response:
        if delay_s:
            await asyncio.sleep(delay_s)
        data = body.encode() if isinstance(body, str) else body
        response = web.Response(body=data, status=status, headers=headers)
        response.content_type = content_type
        return response

    return handler


def redirect(location: str, status: int = 302) -> Handler:
    """A handler redirecting to ``location``."""

    async def handler(_request: web.Request) -> web.Response:
        return web.Response(status=status, headers={"Location": location})

    return handler


async def _until_disconnected(request: web.Request) -> None:
    # aiohttp signals no disconnect to a handler that is not reading or writing: poll.
    while request.transport is not None and not request.transport.is_closing():  # noqa: ASYNC110
        await asyncio.sleep(0.1)


def stalled() -> Handler:
    """A handler that answers nothing until the client goes away."""

    async def handler(request: web.Request) -> web.Response:
        await _until_disconnected(request)
        return web.Response()

    return handler


def endless(head: str) -> Handler:
    """A handler that sends the start of an HTML document and never finishes it."""

    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/html"})
        await response.prepare(request)
        await response.write(head.encode())
        await _until_disconnected(request)
        return response

    return handler


class CrawlSite:
    """A site of routes; ``hits`` lists every path requested by GET (or another method
    but HEAD), ``checked`` those requested by HEAD (link checks), ``headers`` their headers."""

    def __init__(self, routes: Mapping[str, Route], *, jitter_s: float = 0.0) -> None:
        self.routes = dict(routes)
        self.jitter_s = jitter_s
        self.hits: list[str] = []
        self.checked: list[str] = []
        self.headers: list[Mapping[str, str]] = []
        self._hit = asyncio.Event()

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{path:.*}", self._serve)
        return app

    async def requested(self, path: str) -> None:
        """Wait until ``path`` (with its query) has been requested."""
        while path not in self.hits:
            self._hit.clear()
            await self._hit.wait()

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        (self.checked if request.method == "HEAD" else self.hits).append(request.path_qs)
        self._hit.set()
        self.headers.append(request.headers)
        if self.jitter_s:
            await asyncio.sleep(random.random() * self.jitter_s)
        route = self.routes.get(request.path_qs, self.routes.get(request.path))
        if isinstance(route, str):
            return web.Response(text=route, content_type="text/html")
        if route is not None:
            return await route(request)
        return web.Response(status=404, text=page("Not found"), content_type="text/html")


async def crawl_routes(
    browsers: Browsers, serve: ServeApp, routes: Mapping[str, Route], **options: Any
) -> tuple[CrawlResult, CrawlSite, str]:
    """Serve ``routes``, crawl them from ``/`` and answer the result, the site and its base."""
    site = CrawlSite(routes)
    base = await serve(site.app())
    options.setdefault("page_timeout_s", TEST_PAGE_TIMEOUT_S)
    result = await crawl(browsers, CrawlOptions(start_url=base + "/", **options))
    return result, site, base


def paths(result: CrawlResult, base: str) -> list[tuple[str, int]]:
    """The crawled pages as (path, depth), in result order."""
    return [(p.url.removeprefix(base), p.depth) for p in result.pages]
