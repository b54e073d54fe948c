"""Queries on API keys. Only a key's SHA-256 hash and display prefix are stored."""

from __future__ import annotations

from storage.connection import DatabaseCore, Row
from storage.ids import new_id, utc_now

_COLUMNS = "id, name, prefix, key_hash, scope, project_id, created_at, revoked_at"


class KeyQueries(DatabaseCore):
    async def create_key(
        self, name: str, prefix: str, key_hash: str, scope: str, project_id: str | None
    ) -> Row:
        key_id = new_id("key")
        await self.execute(
            f"INSERT INTO api_keys ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, NULL)",
            (key_id, name, prefix, key_hash, scope, project_id, utc_now()),
        )
        return await self.get_key(key_id)  # type: ignore[return-value]

    async def get_key(self, key_id: str) -> Row | None:
        return await self.fetchone(f"SELECT {_COLUMNS} FROM api_keys WHERE id = ?", (key_id,))

    async def get_key_by_hash(self, key_hash: str) -> Row | None:
        return await self.fetchone(
            f"SELECT {_COLUMNS} FROM api_keys WHERE key_hash = ?", (key_hash,)
        )

    async def list_keys(
        self, limit: int, offset: int, project_id: str | None = None
    ) -> tuple[list[Row], int]:
        where, params = (
            ("FROM api_keys WHERE project_id = ?", (project_id,))
            if project_id
            else (
                "FROM api_keys",
                (),
            )
        )
        return await self.fetchpage(_COLUMNS, where, params, "rowid DESC", limit, offset)

    async def count_keys(self) -> int:
        return int(await self.fetchval("SELECT COUNT(*) FROM api_keys"))

    async def revoke_key(self, key_id: str) -> Row | None:
        """Mark the key revoked (once; revoking again keeps the first time)."""
        await self.execute(
            "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?",
            (utc_now(), key_id),
        )
        return await self.get_key(key_id)
