"""Which resources a request's key may reach: existence (404) and project binding (403)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from aegisd.errors import Conflict, NotFound
from aegisd.jobs import JobQueue
from aegisd.state import DB, PRINCIPAL

Row = dict[str, Any]


def owned(request: web.Request, row: Row | None, kind: str, resource_id: str) -> Row:
    """``row`` if it exists and belongs to a project the key may see; 404/403 otherwise."""
    if row is None:
        raise NotFound(f"{kind} {resource_id} not found")
    request[PRINCIPAL].check_project(row["project_id"])
    return row


def visible_project(request: web.Request, requested: str | None) -> str | None:
    """The project a listing is limited to: the one asked for (if the key may see it),
    else the key's own project, else none (all)."""
    principal = request[PRINCIPAL]
    if requested is not None:
        principal.check_project(requested)
    return requested or principal.project_id


async def cancel_job(
    request: web.Request,
    table: str,
    queue: JobQueue,
    load: Callable[[], Awaitable[Row]],
) -> None:
    """Cancel the queued or running crawl or run that ``load`` reads; 409 when finished.

    A queued job is cancelled here, queueing its kind's webhook events; a running one
    by its worker, which records them as for any finish.
    """
    row = await load()
    for _ in range(50):
        if row["status"] not in ("queued", "running"):
            raise Conflict(f"{row['id']} is already {row['status']}")
        cancelled = await request.app[DB].cancel_queued(table, row["id"], queue.kind.events)
        if cancelled or await queue.cancel(row["id"]):
            return
        await asyncio.sleep(0.02)  # claimed a moment ago and not yet under way: look again
        row = await load()
