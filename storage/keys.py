"""Queries on API keys. Only a key's SHA-256 hash and display prefix are stored.

Every authenticated request looks its key up (and a dashboard request its
session, :mod:`storage.sessions`), so found rows are kept in memory. A key stops
working by revocation or by its project's deletion, a session by signing out;
whichever process does any of these (the daemon, or ``aegisd keys revoke`` beside
it) appends a byte to the ``<database>-keys`` marker file after committing, and
every process drops its cached rows when it sees the marker's size change. A
``stat`` per request is far cheaper than a query.
"""

from __future__ import annotations

import os
from pathlib import Path

from storage.connection import DatabaseCore, Row
from storage.ids import new_id, utc_now

_COLUMNS = "id, name, prefix, key_hash, scope, project_id, created_at, revoked_at"


class KeyQueries(DatabaseCore):
    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self._keys_marker = path.with_name(path.name + "-keys")
        self._cached_rows: dict[tuple[str, str], Row] = {}
        self._cached_marker = 0

    async def open(self) -> None:
        await super().open()
        self._keys_marker.touch()

    def _marker_size(self) -> int:
        try:
            return os.stat(self._keys_marker).st_size
        except FileNotFoundError:
            return 0

    def keys_changed(self) -> None:
        """Tell every process using this database that a key or a session may have stopped
        working."""
        with open(self._keys_marker, "ab") as marker:
            marker.write(b".")

    async def remembered(self, sql: str, value: str) -> Row | None:
        """The row ``sql`` (one ``?``) finds for ``value``; from memory while no key or
        session has stopped working."""
        # The marker is read before the query: a revocation committed after it
        # changes the marker again, so the row cached below cannot outlive it.
        marker = self._marker_size()
        if marker != self._cached_marker:
            self._cached_rows.clear()
            self._cached_marker = marker
        row = self._cached_rows.get((sql, value))
        if row is None:
            row = await self.fetchone(sql, (value,))
            if row is not None and marker == self._cached_marker:
                self._cached_rows[(sql, value)] = row
        return row

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
        """The key with this hash; from memory while no key has stopped working."""
        return await self.remembered(
            f"SELECT {_COLUMNS} FROM api_keys WHERE key_hash = ?", key_hash
        )

    async def get_live_key(self, key_id: str) -> Row | None:
        """The key with this id, as :meth:`get_key_by_hash` finds it (from memory)."""
        return await self.remembered(f"SELECT {_COLUMNS} FROM api_keys WHERE id = ?", key_id)

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
        self.keys_changed()
        return await self.get_key(key_id)
