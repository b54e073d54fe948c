"""Queries on baseline screenshots (DESIGN §8).

A baseline is keyed by (suite, case, screenshot name, browser, viewport) and
names its image file; a new image gets a new file name, so a row switches from
one file to the next in one write and readers never see half a file.
"""

from __future__ import annotations

from storage.connection import DatabaseCore, Row
from storage.ids import new_id, utc_now

_COLUMNS = (
    "id, project_id, suite_id, case_id, name, browser, viewport, file, approved_from_run, "
    "created_at, updated_at"
)
_KEY = "suite_id = ? AND case_id = ? AND name = ? AND browser = ? AND viewport = ?"
# A new row for a case still in its suite (none when the case or suite is gone); the
# parameters: id, the key's five columns, file, run, created_at, updated_at, suite and case.
_INSERT = (
    f"INSERT INTO baselines ({_COLUMNS}) SELECT ?, suites.project_id, ?, ?, ?, ?, ?, "
    "?, ?, ?, ? FROM suites JOIN cases ON cases.suite_id = suites.id "
    "WHERE suites.id = ? AND cases.id = ? "
    "ON CONFLICT (suite_id, case_id, name, browser, viewport) DO "
)


class BaselineQueries(DatabaseCore):
    async def suite_baselines(
        self,
        limit: int,
        offset: int,
        *,
        suite_id: str,
        case_id: str | None = None,
        browser: str | None = None,
    ) -> tuple[list[Row], int]:
        """A page of the suite's baselines, newest first."""
        where, params = self.where(
            "baselines", {"suite_id": suite_id, "case_id": case_id, "browser": browser}
        )
        return await self.fetchpage(_COLUMNS, where, params, "rowid DESC", limit, offset)

    async def browser_baselines(self, suite_id: str, browser: str, viewport: str) -> list[Row]:
        """The suite's baselines a run in ``browser`` at ``viewport`` compares with."""
        return await self.fetchall(
            f"SELECT {_COLUMNS} FROM baselines WHERE suite_id = ? AND browser = ? AND viewport = ?",
            (suite_id, browser, viewport),
        )

    async def get_baseline(self, baseline_id: str) -> Row | None:
        return await self.fetchone(f"SELECT {_COLUMNS} FROM baselines WHERE id = ?", (baseline_id,))

    async def add_baseline(
        self,
        suite_id: str,
        case_id: str,
        name: str,
        browser: str,
        viewport: str,
        file: str,
        run_id: str,
    ) -> bool:
        """Record a first baseline from ``run_id``; False when there is one already (or
        the case is gone)."""
        now = utc_now()
        key = (suite_id, case_id, name, browser, viewport)
        parameters = (new_id("base"), *key, file, run_id, now, now, suite_id, case_id)
        return await self.execute(_INSERT + "NOTHING", parameters) > 0

    async def set_baseline(
        self,
        suite_id: str,
        case_id: str,
        name: str,
        browser: str,
        viewport: str,
        file: str,
        run_id: str,
    ) -> tuple[Row, str | None] | None:
        """Make ``file`` (from ``run_id``) the baseline, replacing any: the baseline and
        the file it had before; None when the case is gone."""
        key = (suite_id, case_id, name, browser, viewport)
        now = utc_now()
        async with self.write() as conn:
            async with conn.execute(f"SELECT file FROM baselines WHERE {_KEY}", key) as cursor:
                before = await cursor.fetchone()
            async with conn.execute(
                _INSERT + "UPDATE SET file = excluded.file, "
                "approved_from_run = excluded.approved_from_run, "
                f"updated_at = excluded.updated_at RETURNING {_COLUMNS}",
                (new_id("base"), *key, file, run_id, now, now, suite_id, case_id),
            ) as cursor:
                row = await cursor.fetchone()
        if row is None:
            return None
        return dict(row), before["file"] if before else None

    async def delete_baseline(self, baseline_id: str) -> Row | None:
        """Delete the baseline; the deleted row (for its file), None when there was none."""
        async with (
            self.write() as conn,
            conn.execute(
                f"DELETE FROM baselines WHERE id = ? RETURNING {_COLUMNS}", (baseline_id,)
            ) as cursor,
        ):
            row = await cursor.fetchone()
        return dict(row) if row is not None else None
