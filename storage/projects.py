"""Queries on projects."""

from __future__ import annotations

import json
from typing import Any

from storage.connection import Row
from storage.ids import new_id, utc_now
from storage.keys import KeyQueries

_COLUMNS = "id, name, base_url, description, settings, created_at, updated_at"


def _project(row: Row | None) -> Row | None:
    if row is not None:
        row["settings"] = json.loads(row["settings"])
    return row


class ProjectQueries(KeyQueries):  # deleting a project deletes its keys
    async def create_project(
        self, name: str, base_url: str, description: str | None, settings: dict[str, Any]
    ) -> Row:
        project_id, now = new_id("proj"), utc_now()
        await self.execute(
            f"INSERT INTO projects ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (project_id, name, base_url, description, json.dumps(settings), now, now),
        )
        return await self.get_project(project_id)  # type: ignore[return-value]

    async def get_project(self, project_id: str) -> Row | None:
        return _project(
            await self.fetchone(f"SELECT {_COLUMNS} FROM projects WHERE id = ?", (project_id,))
        )

    async def list_projects(
        self, limit: int, offset: int, only_id: str | None = None
    ) -> tuple[list[Row], int]:
        where, params = (
            ("FROM projects WHERE id = ?", (only_id,)) if only_id else ("FROM projects", ())
        )
        rows, total = await self.fetchpage(_COLUMNS, where, params, "rowid DESC", limit, offset)
        return [_project(row) for row in rows], total  # type: ignore[misc]

    async def update_project(self, project_id: str, changes: dict[str, Any]) -> Row | None:
        """Set the given columns (``settings`` as a dict) and bump ``updated_at``."""
        values = {k: json.dumps(v) if k == "settings" else v for k, v in changes.items()}
        values["updated_at"] = utc_now()
        assignments = ", ".join(f"{column} = ?" for column in values)
        changed = await self.execute(
            f"UPDATE projects SET {assignments} WHERE id = ?", (*values.values(), project_id)
        )
        return await self.get_project(project_id) if changed else None

    async def delete_project(self, project_id: str) -> bool:
        """Delete the project and, by cascade, every row that belongs to it (its keys too)."""
        deleted = await self.execute("DELETE FROM projects WHERE id = ?", (project_id,)) > 0
        if deleted:
            self.keys_changed()
        return deleted
