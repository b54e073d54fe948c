"""The application factory: routes, middleware and the long-lived resources."""

from __future__ import annotations

import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web

from aegisd import __version__
from aegisd.api import keys, meta, projects
from aegisd.auth import create_key
from aegisd.config import Config
from aegisd.errors import ApiError, BadRequest, MethodNotAllowed, NotFound, PayloadTooLarge
from aegisd.openapi import build_openapi
from aegisd.ratelimit import RateLimiter
from aegisd.routing import MAX_BODY_BYTES, Endpoint
from aegisd.state import CONFIG, DB, OPENAPI, RATE_LIMITER
from storage import Database

log = logging.getLogger(__name__)

API_PREFIXES = ("/v1", "/api/v1")
ENDPOINTS: list[Endpoint] = [
    *meta.router.endpoints,
    *projects.router.endpoints,
    *keys.router.endpoints,
]


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
        return web.json_response(error.body(), status=error.status, headers=headers)


async def _database(app: web.Application) -> AsyncIterator[None]:
    config = app[CONFIG]
    async with Database(config.database_path) as db:
        app[DB] = db
        if await db.count_keys() == 0:
            secret, _ = await create_key(db, "initial admin key", "admin", None)
            print(f"aegisd: created an admin API key (shown once): {secret}", flush=True)
        yield


def create_app(config: Config) -> web.Application:
    """The aegisd application for ``config``; resources open on startup, close on cleanup."""
    app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=[_envelope_errors])
    app[CONFIG] = config
    app[RATE_LIMITER] = RateLimiter(config.api.requests_per_minute())
    app[OPENAPI] = build_openapi(ENDPOINTS, API_PREFIXES[0], __version__)
    for endpoint in ENDPOINTS:
        prefixes = API_PREFIXES if endpoint.prefixed else ("",)
        for prefix in prefixes:
            app.router.add_route(endpoint.method, prefix + endpoint.path, endpoint.handle)
    app.cleanup_ctx.append(_database)
    return app


def configure_logging(level: int = logging.INFO) -> None:
    logging.basicConfig(
        level=level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
