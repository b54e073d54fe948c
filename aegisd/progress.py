"""Live progress of crawls, for the CI surface's Server-Sent Events.

The crawl job publishes each state change here. A subscriber's queue starts
with the latest event of each kind (so a late or reconnecting client is
replayed the current state) and then receives every change as it happens.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

Event = tuple[str, dict[str, Any]]


@dataclass
class _Channel:
    latest: dict[str, dict[str, Any]] = field(default_factory=dict)
    listeners: set[asyncio.Queue[Event]] = field(default_factory=set)


class CrawlProgress:
    """Per-crawl channels of ``(event, data)`` pairs, kept while the crawl runs."""

    def __init__(self) -> None:
        self._channels: dict[str, _Channel] = {}

    def publish(self, crawl_id: str, event: str, data: dict[str, Any]) -> None:
        channel = self._channels.setdefault(crawl_id, _Channel())
        channel.latest[event] = data
        for listener in channel.listeners:
            listener.put_nowait((event, data))
        if event == "done":
            # A finished crawl is replayed from the database, not from memory.
            channel.latest.clear()
            self._drop_if_unused(crawl_id)

    @contextmanager
    def subscribe(self, crawl_id: str) -> Iterator[asyncio.Queue[Event]]:
        """A queue of the crawl's current state, then of each change."""
        channel = self._channels.setdefault(crawl_id, _Channel())
        queue: asyncio.Queue[Event] = asyncio.Queue()
        for event, data in channel.latest.items():
            queue.put_nowait((event, data))
        channel.listeners.add(queue)
        try:
            yield queue
        finally:
            channel.listeners.discard(queue)
            self._drop_if_unused(crawl_id)

    def _drop_if_unused(self, crawl_id: str) -> None:
        channel = self._channels.get(crawl_id)
        if channel is not None and not channel.listeners and not channel.latest:
            del self._channels[crawl_id]
