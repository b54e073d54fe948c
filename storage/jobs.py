"""Job-row transitions shared by crawls and runs: claim, re-queue, cancel, finish.

Both tables have ``id, status, started_at, completed_at, duration`` and a child
table of partial results keyed by the job's id; the lifecycle is
``queued -> running -> <final>``.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import aiosqlite

from storage.connection import DatabaseCore, Row
from storage.ids import from_iso, utc_now
from storage.webhooks import EventsFor, insert_events

# table -> (its child results table and key column, columns reset on re-queue, JSON columns)
_JOBS: dict[str, tuple[str, str, str, tuple[str, ...]]] = {
    "crawls": ("crawl_pages", "crawl_id", "pages_found = 0, pages_crawled = 0",
               ("options", "broken_links", "changes", "audit_summary", "audit_rules")),
    "runs": ("run_results", "run_id",
             "total = 0, passed = 0, failed = 0, skipped = 0, flaky = 0, classifications = NULL, "
             "visual_diffs = 0",
             ("cases", "classifications")),
}  # fmt: skip

AlsoWrite = Callable[[aiosqlite.Connection], Awaitable[None]]
"""More writes in the transaction that finishes a job, made before its final status."""


def _duration_ms(started_at: str | None, completed_at: str) -> int | None:
    if started_at is None:
        return None
    return int((from_iso(completed_at) - from_iso(started_at)).total_seconds() * 1000)


def decode_job(table: str, row: Row | None) -> Row | None:
    """Decode the JSON columns of a crawls/runs row."""
    if row is not None:
        for column in _JOBS[table][3]:
            if row.get(column) is not None:
                row[column] = json.loads(row[column])
    return row


class JobQueries(DatabaseCore):
    async def claim_job(self, table: str, columns: str) -> Row | None:
        """Mark the oldest queued row of ``table`` running and return it."""
        async with (
            self.write() as conn,
            conn.execute(
                f"UPDATE {table} SET status = 'running', started_at = ? WHERE id = "
                f"(SELECT id FROM {table} WHERE status = 'queued' ORDER BY rowid LIMIT 1) "
                f"RETURNING {columns}",
                (utc_now(),),
            ) as cursor,
        ):
            row = await cursor.fetchone()
        return decode_job(table, dict(row)) if row is not None else None

    async def requeue_running(self, table: str) -> int:
        """Put running rows back to queued, discarding their partial results."""
        results, key, reset, _ = _JOBS[table]
        async with self.write() as conn:
            await conn.execute(
                f"DELETE FROM {results} WHERE {key} IN "
                f"(SELECT id FROM {table} WHERE status = 'running')"
            )
            cursor = await conn.execute(
                f"UPDATE {table} SET status = 'queued', started_at = NULL, {reset} "
                "WHERE status = 'running'"
            )
            return cursor.rowcount

    async def cancel_queued(self, table: str, job_id: str, events: EventsFor | None = None) -> bool:
        """Cancel a row that has not started (queueing ``events`` for it, as ``finish_job``
        does); False if it is no longer queued."""
        async with self.write() as conn:
            async with conn.execute(
                f"UPDATE {table} SET status = 'cancelled', completed_at = ? "
                "WHERE id = ? AND status = 'queued' RETURNING *",
                (utc_now(), job_id),
            ) as cursor:
                row = await cursor.fetchone()
            if row is not None and events is not None:
                await insert_events(conn, events(decode_job(table, dict(row)) or {}))
        return row is not None

    async def latest_jobs(
        self, table: str, columns: str, project_ids: Sequence[str]
    ) -> dict[str, Row]:
        """The newest row of ``table`` of each of ``project_ids`` that has one, by project."""
        marks = ", ".join("?" * len(project_ids))
        rows = await self.fetchall(
            f"SELECT {columns} FROM {table} WHERE rowid IN (SELECT MAX(rowid) FROM {table} "
            f"WHERE project_id IN ({marks}) GROUP BY project_id)",
            tuple(project_ids),
        )
        return {row["project_id"]: decode_job(table, row) for row in rows}  # type: ignore[misc]

    async def running_job_ids(self, table: str, project_id: str) -> list[str]:
        """Ids of the project's ``running`` rows in ``table``."""
        rows = await self.fetchall(
            f"SELECT id FROM {table} WHERE project_id = ? AND status = 'running'", (project_id,)
        )
        return [row["id"] for row in rows]

    async def finish_job(
        self,
        table: str,
        job_id: str,
        status: str,
        fields: dict[str, Any],
        events: EventsFor | None = None,
        also: AlsoWrite | None = None,
    ) -> None:
        """Record a final ``status`` with ``fields`` (JSON columns as Python values).

        ``duration`` defaults to the time since ``started_at``. What ``also`` writes, the
        final status, and the webhook events ``events`` returns for the finished row go in
        one transaction, in that order: the connection is shared, and a read in between
        must not find the final status beside results not yet final.
        """
        started_at = await self.fetchval(f"SELECT started_at FROM {table} WHERE id = ?", (job_id,))
        now = utc_now()
        values = {k: json.dumps(v) if k in _JOBS[table][3] else v for k, v in fields.items()}
        values.update(status=status, completed_at=now)
        values.setdefault("duration", _duration_ms(started_at, now))
        assignments = ", ".join(f"{column} = ?" for column in values)
        async with self.write() as conn:
            if also is not None:
                await also(conn)
            async with conn.execute(
                f"UPDATE {table} SET {assignments} WHERE id = ? RETURNING *",
                (*values.values(), job_id),
            ) as cursor:
                row = await cursor.fetchone()
            finished = decode_job(table, dict(row)) if row is not None else None
            if events is not None and finished is not None:
                await insert_events(conn, events(finished))
