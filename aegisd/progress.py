"""Live progress of crawls and runs, for Server-Sent Events (the CI surface, the dashboard).

A crawl or run job publishes each state change on the channel of its id. A
subscriber's queue starts with the latest event of each kind (so a late or
reconnecting client is replayed the current state) and then receives every change
as it happens. Crawls publish ``crawl_progress``, ``ai_generation_progress`` and
``done``; runs publish ``run_progress`` (counts so far) and ``case_finished`` (one
case's result with the counts after it), then ``done``.
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


class Progress:
    """Per-job channels of ``(event, data)`` pairs, kept while the job runs.

    Crawl and run ids carry different prefixes, so one instance serves both.
    """

    def __init__(self) -> None:
        self._channels: dict[str, _Channel] = {}

    def publish(self, job_id: str, event: str, data: dict[str, Any]) -> None:
        channel = self._channels.setdefault(job_id, _Channel())
        channel.latest[event] = data
        for listener in channel.listeners:
            listener.put_nowait((event, data))
        if event == "done":
            # A finished job is replayed from the database, not from memory.
            channel.latest.clear()
            self._drop_if_unused(job_id)

    @contextmanager
    def subscribe(self, job_id: str) -> Iterator[asyncio.Queue[Event]]:
        """A queue of the job's current state, then of each change."""
        channel = self._channels.setdefault(job_id, _Channel())
        queue: asyncio.Queue[Event] = asyncio.Queue()
        for event, data in channel.latest.items():
            queue.put_nowait((event, data))
        channel.listeners.add(queue)
        try:
            yield queue
        finally:
            channel.listeners.discard(queue)
            self._drop_if_unused(job_id)

    def _drop_if_unused(self, job_id: str) -> None:
        channel = self._channels.get(job_id)
        if channel is not None and not channel.listeners and not channel.latest:
            del self._channels[job_id]
