"""Mounting the dashboard on the daemon's application: templates, pages, static files."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp_jinja2
import jinja2
from aiohttp import web

from aegisd.dashboard import (
    audits,
    crawl_pages,
    crawls,
    projects,
    runs,
    schedules,
    security,
    signin,
    suites,
    views,
    visual,
    webhooks,
)
from aegisd.dashboard.assets import STATIC_DIR, STATIC_PREFIX, static_url
from aegisd.dashboard.pages import error_page
from aegisd.dashboard.sessions import SIGNER, SessionSigner
from aegisd.errors import MethodNotAllowed, NotFound
from aegisd.state import CONFIG
from runner.triage import CLASSIFICATIONS, MEANINGS

_MODULES = (
    signin,
    projects,
    crawls,
    audits,
    crawl_pages,
    suites,
    runs,
    visual,
    schedules,
    webhooks,
    security,
)
_NOT_PAGES = ("/v1/", "/api/v1/", "/healthz", STATIC_PREFIX)


async def _session_secret(app: web.Application) -> AsyncIterator[None]:
    app[SIGNER] = SessionSigner.load(app[CONFIG].storage.data_dir)
    yield


@web.middleware
async def _html_errors(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """An unknown page, asked for by a browser, answers an HTML page (the API's JSON
    envelope is for everything else)."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        wants_html = "text/html" in request.headers.get("Accept", "")
        if exc.status not in (404, 405) or not wants_html or request.path.startswith(_NOT_PAGES):
            raise
        if exc.status == 404:
            return await error_page(request, NotFound(f"there is no page at {request.path}"))
        message = f"{request.method} is not allowed on {request.path}"
        return await error_page(request, MethodNotAllowed(message))


def setup_dashboard(app: web.Application) -> None:
    """Serve the dashboard's pages at ``/`` and its static files under ``/static/``."""
    env = aiohttp_jinja2.setup(
        app,
        loader=jinja2.PackageLoader("aegisd.dashboard", "templates"),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        default_helpers=False,
        auto_reload=False,  # package data: never changes while the daemon runs
        cache_size=-1,  # and is a few dozen files: a plain dict, not an LRU, holds them
    )
    env.filters.update(
        when=views.when,
        duration=views.duration,
        impact_status=audits.impact_status,
        score_status=audits.score_status,
    )
    env.globals.update(
        static=static_url,
        pass_rate=views.pass_rate,
        classifications=CLASSIFICATIONS,
        meanings=MEANINGS,
        strip_runs=views.STRIP_RUNS,
        history_strip=views.history_strip,
        triage_badge=views.triage_badge,
    )
    for module in _MODULES:
        for route in module.pages.routes:
            app.router.add_route(route.method, route.path, route.handle)
    app.router.add_static(STATIC_PREFIX, STATIC_DIR)
    app.middlewares.append(_html_errors)
    app.cleanup_ctx.append(_session_secret)
