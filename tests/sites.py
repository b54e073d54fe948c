"""Small fixture web sites, served by the tests themselves on 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from aiohttp import web


def page(title: str, body: str = "", *, heading: str | None = None, script: str = "") -> str:
    """A complete HTML document."""
    h1 = f"<h1>{heading if heading is not None else title}</h1>"
    js = f"<script>{script}</script>" if script else ""
    return (
        f"<!doctype html><html><head><meta charset=utf-8><title>{title}</title></head>"
        f"<body><main>{h1}{body}</main>{js}</body></html>"
    )


class Site:
    """A mutable set of pages: change ``pages`` between crawls to change the site."""

    def __init__(
        self,
        pages: Mapping[str, str],
        delay_s: float = 0.0,
        statuses: Mapping[str, int] | None = None,
    ) -> None:
        self.pages = dict(pages)
        self.delay_s = delay_s
        self.statuses = dict(statuses or {})
        self.hits: list[str] = []

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/{path:.*}", self._serve)
        return app

    async def _serve(self, request: web.Request) -> web.Response:
        self.hits.append(request.path_qs)
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        body = self.pages.get(request.path_qs) or self.pages.get(request.path)
        if body is None:
            return web.Response(status=404, text=page("Not found"), content_type="text/html")
        status = self.statuses.get(request.path, 200)
        return web.Response(status=status, text=body, content_type="text/html")


def linked_site() -> dict[str, str]:
    """Home links to /about and /blog; /blog links to /blog/post; /about links to a 404."""
    nav = '<nav><a href="/">Home</a> <a href="/about">About</a> <a href="/blog">Blog</a></nav>'
    return {
        "/": page("Home", nav),
        "/about": page("About us", nav + '<a href="/missing">Old page</a>'),
        "/blog": page("Blog", nav + '<a href="/blog/post">First post</a>'),
        "/blog/post": page("First post", nav),
    }
