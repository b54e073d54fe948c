"""Server-Sent Events of a crawl's or run's progress channel (:mod:`aegisd.progress`).

The CI surface streams crawls (``GET /ci/crawls/:id/events``) and the dashboard
streams crawls and runs to its pages. A stream replays the job's current state,
sends every event published after it until ``done``, and a ``: keep-alive`` line
every ``server.sse_keepalive_s``; a job that is already over (or ends unseen, say
in another process) is answered from its row in the database. A stream ends when the
key it was opened with is revoked (or goes with its project): it is checked, as every
request's key is, before each event and keep-alive it sends.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from aegisd.auth import principal_of_key_id
from aegisd.errors import Unauthorized
from aegisd.state import CONFIG, DB, PRINCIPAL, PROGRESS

Row = dict[str, Any]
Frames = Callable[[Row], list[bytes]]
ACTIVE = ("queued", "running")


def frame(event: str, data: dict[str, Any]) -> bytes:
    """One event in the Server-Sent Events wire format."""
    return f"event: {event}\ndata: {json.dumps(data)}\n\n".encode()


async def stream_progress(
    request: web.Request,
    row: Row,
    reload: Callable[[], Awaitable[Row | None]],
    *,
    opening: Frames,
    closing: Frames,
) -> web.StreamResponse:
    """Stream the progress of the job ``row`` (which ``reload`` reads again): the
    ``opening`` frames while it is active, each event published on its channel until
    ``done``, or the ``closing`` frames of its final row when it ended unseen."""
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
    )
    await response.prepare(request)
    keepalive = request.app[CONFIG].server.sse_keepalive_s
    with request.app[PROGRESS].subscribe(row["id"]) as events:
        row = await reload() or row  # it may have ended before we listened
        if row["status"] in ACTIVE:
            for opened in opening(row):
                await response.write(opened)
        while row["status"] in ACTIVE:
            try:
                event, data = await asyncio.wait_for(events.get(), keepalive)
            except TimeoutError:
                if await _revoked(request):
                    return response
                await response.write(b": keep-alive\n\n")
                row = await reload() or row  # it may have ended unseen
                continue
            if await _revoked(request):
                return response
            await response.write(frame(event, data))
            if event == "done":
                return response
    for closed in closing(await reload() or row):
        await response.write(closed)
    return response


async def _revoked(request: web.Request) -> bool:
    """Whether the key the stream was opened with no longer lets anyone in."""
    try:
        await principal_of_key_id(request.app[DB], request[PRINCIPAL].key_id)
    except Unauthorized:
        return True
    return False
