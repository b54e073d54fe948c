"""Queries on schedules: cron-driven runs and crawls."""

from __future__ import annotations

from typing import Any

from storage.connection import DatabaseCore, Row
from storage.ids import new_id, utc_now

_COLUMNS = (
    "id, project_id, action, suite_id, cron, timezone, browser, enabled, next_run_at, "
    "last_run_at, last_run_id, skipped_count, last_skipped_at, last_skip_reason, "
    "created_at, updated_at"
)


class ScheduleQueries(DatabaseCore):
    async def create_schedule(
        self,
        *,
        project_id: str,
        action: str,
        suite_id: str | None,
        cron: str,
        timezone: str,
        browser: str,
        enabled: bool,
        next_run_at: str | None,
    ) -> Row:
        schedule_id, now = new_id("sched"), utc_now()
        await self.execute(
            f"INSERT INTO schedules ({_COLUMNS}) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, 0, NULL, NULL, ?, ?)",
            (schedule_id, project_id, action, suite_id, cron, timezone, browser, int(enabled),
             next_run_at, now, now),
        )  # fmt: skip
        return await self.get_schedule(schedule_id)  # type: ignore[return-value]

    async def get_schedule(self, schedule_id: str) -> Row | None:
        return await self.fetchone(f"SELECT {_COLUMNS} FROM schedules WHERE id = ?", (schedule_id,))

    async def list_schedules(
        self, limit: int, offset: int, *, project_id: str | None
    ) -> tuple[list[Row], int]:
        where, params = self.where("schedules", {"project_id": project_id})
        return await self.fetchpage(_COLUMNS, where, params, "rowid DESC", limit, offset)

    async def armed_schedules(self) -> list[Row]:
        """The schedules that have a next fire: enabled ones."""
        return await self.fetchall(
            f"SELECT {_COLUMNS} FROM schedules WHERE enabled = 1 AND next_run_at IS NOT NULL"
        )

    async def update_schedule(self, schedule_id: str, values: dict[str, Any]) -> Row | None:
        """Set exactly the given columns; the row after, or ``None`` if it is gone."""
        assignments = ", ".join(f"{column} = ?" for column in values)
        changed = await self.execute(
            f"UPDATE schedules SET {assignments} WHERE id = ?", (*values.values(), schedule_id)
        )
        return await self.get_schedule(schedule_id) if changed else None

    async def record_schedule_skip(
        self, schedule_id: str, next_run_at: str | None, skipped_at: str, reason: str
    ) -> Row | None:
        """Count a fire that started nothing, and why; the row after."""
        changed = await self.execute(
            "UPDATE schedules SET next_run_at = ?, skipped_count = skipped_count + 1, "
            "last_skipped_at = ?, last_skip_reason = ? WHERE id = ?",
            (next_run_at, skipped_at, reason, schedule_id),
        )
        return await self.get_schedule(schedule_id) if changed else None

    async def delete_schedule(self, schedule_id: str) -> bool:
        return await self.execute("DELETE FROM schedules WHERE id = ?", (schedule_id,)) > 0
