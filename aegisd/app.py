"""The application factory: routes, middleware and the long-lived resources."""

from __future__ import annotations

import asyncio
import functools
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import BadHttpMessage

from aegisd import __version__
from aegisd.answers import Answers
from aegisd.api import ci, crawls, keys, meta, projects, runs, schedules, suites, webhooks
from aegisd.auth import create_key
from aegisd.config import Config
from aegisd.crawling import CrawlJobs
from aegisd.dashboard.setup import setup_dashboard
from aegisd.envelope import json_response
from aegisd.errors import ApiError, BadRequest, MethodNotAllowed, NotFound, PayloadTooLarge
from aegisd.jobs import JobQueue
from aegisd.links import LinkSigner
from aegisd.openapi import build_openapi
from aegisd.progress import Progress
from aegisd.ratelimit import RateLimiter
from aegisd.retention import retention
from aegisd.routing import MAX_BODY_BYTES, Endpoint
from aegisd.running import RunJobs
from aegisd.scheduling import scheduler
from aegisd.state import (
    ANSWERS,
    BROWSERS,
    CONFIG,
    CRAWLS,
    DB,
    HEALTHS,
    LINKS,
    OPENAPI,
    PROGRESS,
    RATE_LIMITER,
    RUNS,
)
from aegisd.webhooks import webhook_sender
from runner.browsers import Browsers
from storage import Database

log = logging.getLogger(__name__)

API_PREFIXES = ("/v1", "/api/v1")
ENDPOINTS: list[Endpoint] = [
    *meta.router.endpoints,
    *projects.router.endpoints,
    *keys.router.endpoints,
    *crawls.router.endpoints,
    *suites.router.endpoints,
    *runs.router.endpoints,
    *ci.router.endpoints,
    *schedules.router.endpoints,
    *webhooks.router.endpoints,
]


@functools.cache
def _openapi() -> dict[str, Any]:
    """The OpenAPI document: the route table never changes, so it is built once."""
    return build_openapi(ENDPOINTS, API_PREFIXES[0], __version__)


def _routing_error(request: web.Request, exc: web.HTTPException) -> ApiError:
    if exc.status == 404:
        return NotFound(f"no route for {request.method} {request.path}")
    if exc.status == 405:
        return MethodNotAllowed(f"{request.method} is not allowed on {request.path}")
    if exc.status == 413:
        return PayloadTooLarge(f"request body is larger than {MAX_BODY_BYTES} bytes")
    return BadRequest(exc.reason)


@web.middleware
async def _envelope_errors(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Answer aiohttp's own errors (unknown route, wrong method) in the envelope."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        error = _routing_error(request, exc)
        headers = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None
        return json_response(error.body(), status=error.status, headers=headers)


async def _database(app: web.Application) -> AsyncIterator[None]:
    config = app[CONFIG]
    async with Database(config.database_path) as db:
        app[DB] = db
        app[LINKS] = LinkSigner.load(config.storage.data_dir)
        if await db.count_keys() == 0:
            secret, _ = await create_key(db, "initial admin key", "admin", None)
            print(f"aegisd: created an admin API key (shown once): {secret}", flush=True)
        yield


async def _browsers(app: web.Application) -> AsyncIterator[None]:
    if BROWSERS in app:  # handed in by the caller, who owns its lifetime
        yield
        return
    async with Browsers(app[CONFIG].browsers) as browsers:
        app[BROWSERS] = browsers
        yield


async def _jobs(app: web.Application) -> AsyncIterator[None]:
    config, db, browsers = app[CONFIG], app[DB], app[BROWSERS]
    crawl_jobs = CrawlJobs(db, browsers, config, app[PROGRESS])
    run_jobs = RunJobs(db, browsers, config, app[PROGRESS])
    app[CRAWLS] = JobQueue(crawl_jobs, config.crawler.max_concurrent_crawls)
    app[RUNS] = JobQueue(run_jobs, config.runner.max_concurrent_runs)
    queues = (app[CRAWLS], app[RUNS])
    for queue in queues:
        await queue.start()
    yield
    await asyncio.gather(*(queue.stop(config.server.shutdown_grace_s) for queue in queues))


def create_app(config: Config, browsers: Browsers | None = None) -> web.Application:
    """The aegisd application for ``config``; resources open on startup, close on cleanup.

    ``browsers`` shares an already started :class:`Browsers` (tests share one per session).
    """
    app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=[_envelope_errors])
    if browsers is not None:
        app[BROWSERS] = browsers
    app[CONFIG] = config
    app[RATE_LIMITER] = RateLimiter(config.api.requests_per_minute())
    app[OPENAPI] = _openapi()
    app[PROGRESS] = Progress()
    app[ANSWERS] = Answers()
    app[HEALTHS] = Answers(64)
    for endpoint in ENDPOINTS:
        prefixes = API_PREFIXES if endpoint.prefixed else ("",)
        for prefix in prefixes:
            app.router.add_route(endpoint.method, prefix + endpoint.path, endpoint.handle)
    # The sender outlives the job queues, to send what jobs finishing at shutdown queue;
    # the scheduler stops before them.
    app.cleanup_ctx.extend([_database, webhook_sender, _browsers, _jobs, scheduler, retention])
    setup_dashboard(app)
    return app


class _OneLineBadRequests(logging.Filter):
    """aiohttp logs a traceback for every malformed HTTP request; one line says it all."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], BadHttpMessage):
            record.msg = f"malformed HTTP request: {record.exc_info[1]}".replace("\n", " ")
            record.args, record.exc_info, record.exc_text = (), None, None
        return True


def configure_logging(level: int = logging.INFO) -> None:
    logging.basicConfig(
        level=level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("aiohttp.server").addFilter(_OneLineBadRequests())
