"""Queries on test runs and their per-case results."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import aiosqlite

from storage.connection import Row
from storage.history import HISTORY_STATUSES, forget_run, record_history
from storage.ids import new_id, utc_now
from storage.jobs import JobQueries, decode_job
from storage.webhooks import EventsFor

_SUMMARY = (
    "id, project_id, suite_id, suite_name, status, browser, base_url, retries, trigger, "
    "schedule_id, ci_run_id, total, passed, failed, skipped, flaky, classifications, duration, "
    "error, created_at, started_at, completed_at, visual_diffs"
)
# The job also needs the cases; listings and details leave that (large) column out.
_COLUMNS = f"{_SUMMARY}, cases"
FINAL_STATUSES = ("passed", "failed", "cancelled", "error")


def _run(row: Row | None) -> Row | None:
    return decode_job("runs", row)


class RunQueries(JobQueries):
    async def create_run(
        self,
        *,
        project_id: str,
        suite_id: str,
        suite_name: str,
        browser: str,
        base_url: str,
        retries: int,
        cases: list[dict[str, Any]],
        trigger: str,
        schedule_id: str | None = None,
        ci_run_id: str | None = None,
    ) -> Row:
        """Queue a run of ``cases`` (a snapshot of the suite's cases to run)."""
        run_id = new_id("run")
        await self.execute(
            f"INSERT INTO runs ({_COLUMNS}) VALUES (?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?, ?, "
            "0, 0, 0, 0, NULL, NULL, NULL, ?, NULL, NULL, 0, ?)",
            (run_id, project_id, suite_id, suite_name, browser, base_url, retries,
             trigger, schedule_id, ci_run_id, len(cases), utc_now(), json.dumps(cases)),
        )  # fmt: skip
        return await self.get_run(run_id)  # type: ignore[return-value]

    async def get_run(self, run_id: str) -> Row | None:
        return _run(await self.fetchone(f"SELECT {_SUMMARY} FROM runs WHERE id = ?", (run_id,)))

    async def list_runs(
        self,
        limit: int,
        offset: int,
        *,
        project_id: str | None,
        suite_id: str | None,
        status: str | None,
    ) -> tuple[list[Row], int]:
        where, params = self.where(
            "runs", {"project_id": project_id, "suite_id": suite_id, "status": status}
        )
        rows, total = await self.fetchpage(_SUMMARY, where, params, "rowid DESC", limit, offset)
        return [_run(row) for row in rows], total  # type: ignore[misc]

    async def latest_runs(self, project_ids: Sequence[str]) -> dict[str, Row]:
        """Each project's newest run, by project id (projects without runs left out)."""
        return await self.latest_jobs("runs", _SUMMARY, project_ids)

    async def ci_runs(self, ci_run_id: str) -> list[Row]:
        """The runs of one CI trigger, in order: the run ``ci_run_id`` and those naming it."""
        rows = await self.fetchall(
            f"SELECT {_SUMMARY} FROM runs WHERE id = ? OR ci_run_id = ? ORDER BY rowid",
            (ci_run_id, ci_run_id),
        )
        return [_run(row) for row in rows]  # type: ignore[misc]

    async def claim_run(self) -> Row | None:
        """Mark the oldest queued run running and return it."""
        return await self.claim_job("runs", _COLUMNS)

    async def add_run_result(self, run_id: str, position: int, result: dict[str, Any]) -> None:
        await self.execute(
            "INSERT OR REPLACE INTO run_results (run_id, position, data) VALUES (?, ?, ?)",
            (run_id, position, json.dumps(result)),
        )

    async def run_results(self, run_id: str) -> list[dict[str, Any]]:
        rows = await self.fetchall(
            "SELECT data FROM run_results WHERE run_id = ? ORDER BY position", (run_id,)
        )
        return [json.loads(row["data"]) for row in rows]

    async def finish_run(
        self,
        run_id: str,
        status: str,
        results: list[dict[str, Any]],
        events: EventsFor | None = None,
        **fields: Any,
    ) -> None:
        """Store every case's final result and the run's final status and counts, in one
        transaction with the webhook ``events`` of the finished run and, for a run that
        passed or failed, its place in the history (:mod:`storage.history`)."""

        async def store_results(conn: aiosqlite.Connection) -> None:
            await conn.execute("DELETE FROM run_results WHERE run_id = ?", (run_id,))
            await conn.executemany(
                "INSERT INTO run_results (run_id, position, data) VALUES (?, ?, ?)",
                [(run_id, position, json.dumps(result)) for position, result in enumerate(results)],
            )
            if status in HISTORY_STATUSES:
                await record_history(conn, run_id, status, results)

        await self.finish_job("runs", run_id, status, fields, events, also=store_results)

    async def runs_older_than(self, cutoff: str) -> list[str]:
        """Ids of finished runs created before ``cutoff`` (ISO time)."""
        rows = await self.fetchall(
            "SELECT id FROM runs WHERE created_at < ? AND status IN (?, ?, ?, ?)",
            (cutoff, *FINAL_STATUSES),
        )
        return [row["id"] for row in rows]

    async def project_run_ids(self, project_id: str) -> list[str]:
        rows = await self.fetchall("SELECT id FROM runs WHERE project_id = ?", (project_id,))
        return [row["id"] for row in rows]

    async def delete_run(self, run_id: str) -> bool:
        async with self.write() as conn:
            await forget_run(conn, run_id)
            async with conn.execute("DELETE FROM runs WHERE id = ?", (run_id,)) as cursor:
                return cursor.rowcount > 0
