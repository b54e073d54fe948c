"""Live progress of crawls, for the CI surface's Server-Sent Events.

The crawl job publishes each state change here; every subscriber of a crawl
gets the latest state of each event kind at once (a late or reconnecting client
is replayed what it missed) and then every change as it happens.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

Event = tuple[str, dict[str, Any]]


@dataclass
class _Channel:
    latest: dict[str, dict[str, Any]] = field(default_factory=dict)
    listeners: set[asyncio.Queue[Event]] = field(default_factory=set)


class CrawlProgress:
    """Per-crawl channels of ``(event, data)`` pairs, kept until the crawl is done."""

    def __init__(self) -> None:
        self._channels: dict[str, _Channel] = {}

    def publish(self, crawl_id: str, event: str, data: dict[str, Any]) -> None:
        channel = self._channels.setdefault(crawl_id, _Channel())
        channel.latest[event] = data
        for listener in channel.listeners:
            listener.put_nowait((event, data))
        if event == "done":
            # Finished crawls are replayed from the database, not from memory.
            del self._channels[crawl_id]

    async def follow(self, crawl_id: str) -> AsyncIterator[Event]:
        """The crawl's current state, then each change, until ``done``."""
        channel = self._channels.setdefault(crawl_id, _Channel())
        queue: asyncio.Queue[Event] = asyncio.Queue()
        for event, data in channel.latest.items():
            queue.put_nowait((event, data))
        channel.listeners.add(queue)
        try:
            while True:
                event, data = await queue.get()
                yield event, data
                if event == "done":
                    return
        finally:
            channel.listeners.discard(queue)
            if not channel.listeners and not channel.latest and crawl_id in self._channels:
                del self._channels[crawl_id]
