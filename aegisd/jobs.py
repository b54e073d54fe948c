"""Background work: rows first, then a bounded pool of workers that claims them.

A job kind (crawls, runs) stores a ``queued`` row when the API accepts the work;
its :class:`JobQueue` claims queued rows one at a time (marking them ``running``)
with at most ``concurrency`` running at once. Cancelling a running job cancels
its task; shutting down waits a grace period, then puts what is still running
back to ``queued`` so it runs again at the next start, as a crash would.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, Protocol

from storage.webhooks import NewEvent

log = logging.getLogger(__name__)

Row = dict[str, Any]
RETRY_AFTER_S = 1.0


class JobKind(Protocol):
    """What a queue needs to know about one kind of job."""

    name: str

    async def requeue_interrupted(self) -> int:
        """Put rows left ``running`` back to ``queued``, dropping partial results; how many.

        Called at start (after a crash) and at shutdown (for jobs cut off).
        """

    async def claim(self) -> Row | None:
        """Mark the oldest ``queued`` row ``running`` and return it, or ``None``."""

    async def run(self, row: Row) -> None:
        """Do the work and record its outcome."""

    async def cancelled(self, row: Row) -> None:
        """Record that a user cancelled the running job ``row``."""

    async def failed(self, row: Row, error: str) -> None:
        """Record that ``run`` raised unexpectedly (the log has the traceback)."""

    def events(self, row: Row) -> list[NewEvent]:
        """The webhook events of a finished row, queued with its final state."""


class JobQueue:
    """Runs the queued jobs of one kind, at most ``concurrency`` at a time."""

    def __init__(self, kind: JobKind, concurrency: int) -> None:
        self.kind = kind
        self.concurrency = concurrency
        self._wake = asyncio.Event()
        self._workers: list[asyncio.Task[None]] = []
        self._running: dict[str, asyncio.Task[None]] = {}
        self._settled: dict[str, asyncio.Event] = {}
        self._user_cancelled: set[str] = set()
        self._stopping = False

    async def start(self) -> None:
        requeued = await self.kind.requeue_interrupted()
        if requeued:
            log.info("re-queued %d interrupted %s", requeued, self.kind.name)
        self._workers = [
            asyncio.create_task(self._work(), name=f"{self.kind.name}-worker-{n}")
            for n in range(self.concurrency)
        ]

    def wake(self) -> None:
        """Tell idle workers that a job was queued."""
        self._wake.set()

    def is_running(self, job_id: str) -> bool:
        return job_id in self._running

    async def cancel(self, job_id: str) -> bool:
        """Cancel the running job ``job_id`` and wait until it is recorded cancelled.

        False if the job is not running here.
        """
        task, settled = self._running.get(job_id), self._settled.get(job_id)
        if task is None or settled is None:
            return False
        self._user_cancelled.add(job_id)
        task.cancel()
        await settled.wait()
        return True

    async def stop(self, grace_s: float) -> None:
        """Take no more work; give running jobs ``grace_s`` to finish, then cut them off."""
        self._stopping = True
        self._wake.set()
        running = list(self._running.values())
        if running:
            log.info("waiting up to %.0fs for %d %s", grace_s, len(running), self.kind.name)
            await asyncio.wait(running, timeout=grace_s)
        for worker in self._workers:
            worker.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        self._workers = []
        cut_off = await self.kind.requeue_interrupted()
        if cut_off:
            log.info(
                "%d %s cut off by shutdown; they run again at next start", cut_off, self.kind.name
            )

    async def _work(self) -> None:
        while not self._stopping:
            try:
                row = await self.kind.claim()
                if row is None:
                    self._wake.clear()
                    with contextlib.suppress(TimeoutError):
                        # The timeout covers rows queued by another process (e.g. the CLI).
                        await asyncio.wait_for(self._wake.wait(), timeout=2.0)
                    continue
                await self._execute(row)
            except Exception:
                # The database refused a claim or a final state (disk full, say). A row
                # left running is re-queued at the next start; this worker carries on.
                log.exception("%s worker: the database failed; retrying", self.kind.name)
                await asyncio.sleep(RETRY_AFTER_S)

    async def _execute(self, row: Row) -> None:
        job_id = row["id"]
        task = asyncio.create_task(self.kind.run(row), name=f"{self.kind.name}-{job_id}")
        self._running[job_id] = task
        self._settled[job_id] = settled = asyncio.Event()
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            if job_id not in self._user_cancelled:
                # The daemon is stopping: cut the job off; stop() re-queues its row.
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
                raise
            await self.kind.cancelled(row)
        except Exception as exc:
            log.exception("%s %s failed unexpectedly", self.kind.name, job_id)
            await self.kind.failed(
                row, f"internal error ({type(exc).__name__}); see the daemon log"
            )
        finally:
            self._running.pop(job_id, None)
            self._settled.pop(job_id, None)
            self._user_cancelled.discard(job_id)
            settled.set()
