"""The job queue keeps working when the database fails under it."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from aegisd import jobs
from aegisd.jobs import JobQueue, Row
from storage.webhooks import NewEvent


class _FailingStorage:
    """A job kind whose storage refuses the first claim and every failure record, as a
    full disk would; the work itself is real asyncio tasks."""

    name = "jobs"

    def __init__(self, ids: list[str]) -> None:
        self.queued = list(ids)
        self.done: list[str] = []
        self.drained = asyncio.Event()
        self.refused_claims = 1

    async def requeue_interrupted(self) -> int:
        return 0

    async def claim(self) -> Row | None:
        if self.refused_claims:
            self.refused_claims -= 1
            raise sqlite3.OperationalError("database or disk is full")
        return {"id": self.queued.pop(0)} if self.queued else None

    async def run(self, row: Row) -> None:
        await asyncio.sleep(0)
        if row["id"] == "buggy":
            raise RuntimeError("a bug in the job")
        self.done.append(row["id"])
        if not self.queued:
            self.drained.set()

    async def cancelled(self, row: Row) -> None:
        raise AssertionError("nothing is cancelled here")

    async def failed(self, row: Row, error: str) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    def events(self, row: Row) -> list[NewEvent]:
        return []


async def test_a_worker_survives_a_refused_claim_and_a_refused_failure(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(jobs, "RETRY_AFTER_S", 0.01)
    kind = _FailingStorage(["first", "buggy", "after"])
    queue = JobQueue(kind, concurrency=1)
    await queue.start()
    try:
        await asyncio.wait_for(kind.drained.wait(), timeout=10)
    finally:
        await queue.stop(grace_s=1)
    assert kind.done == ["first", "after"]
    assert caplog.text.count("the database failed; retrying") == 2
    assert "buggy failed unexpectedly" in caplog.text
