"""The SQLite connection underneath :class:`storage.database.Database`.

One aiosqlite connection in autocommit mode, WAL journal, foreign keys on. Reads
run directly; every write runs inside :meth:`DatabaseCore.write`, which holds a
lock and an ``IMMEDIATE`` transaction so there is exactly one writer at a time.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from types import TracebackType
from typing import Any, Self, cast

import aiosqlite

from storage.ids import utc_now
from storage.migrations import MIGRATIONS

Row = dict[str, Any]
Params = Sequence[Any]


def _dict_row(cursor: sqlite3.Cursor, values: tuple[Any, ...]) -> Row:
    # Runs in aiosqlite's thread, so the event loop gets finished dicts.
    return {column[0]: value for column, value in zip(cursor.description, values, strict=True)}


class DatabaseCore:
    """Opening, migrating, reading and writing; the query methods live in mixins."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def open(self) -> None:
        """Connect, set the pragmas and apply pending migrations."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = await aiosqlite.connect(self.path, isolation_level=None)
        conn.row_factory = _dict_row  # type: ignore[assignment]  # typed as a class there
        for pragma in (
            "PRAGMA journal_mode = WAL",
            "PRAGMA foreign_keys = ON",
            "PRAGMA synchronous = NORMAL",
            "PRAGMA busy_timeout = 5000",
        ):
            await conn.execute(pragma)
        self._conn = conn
        await self._migrate()

    async def close(self) -> None:
        """Close the connection; safe to call twice."""
        if self._conn is not None:
            await self._conn.close()
            self._conn = None

    @property
    def conn(self) -> aiosqlite.Connection:
        if self._conn is None:
            raise RuntimeError("database is not open")
        return self._conn

    async def _migrate(self) -> None:
        await self.conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
        )
        applied = {
            row["version"] for row in await self.fetchall("SELECT version FROM schema_migrations")
        }
        # Off while migrating (it cannot change inside a transaction), so that a migration
        # may rebuild a table other tables reference; the references are checked instead.
        await self.conn.execute("PRAGMA foreign_keys = OFF")
        try:
            for version, script in MIGRATIONS:
                if version not in applied:
                    await self._apply(version, script)
        finally:
            await self.conn.execute("PRAGMA foreign_keys = ON")

    async def _apply(self, version: int, script: str) -> None:
        # executescript would commit on its own, so the transaction is spelled out.
        try:
            await self.conn.executescript(
                f"BEGIN IMMEDIATE;\n{script}\n"
                f"INSERT INTO schema_migrations (version, applied_at) "
                f"VALUES ({int(version)}, '{utc_now()}');"
            )
            broken = await self.fetchall("PRAGMA foreign_key_check")
            if broken:
                raise RuntimeError(f"migration {version} breaks foreign keys: {broken[:5]}")
            await self.conn.execute("COMMIT")
        except Exception:
            if self.conn.in_transaction:
                await self.conn.execute("ROLLBACK")
            raise

    async def schema_version(self) -> int:
        """The highest migration applied."""
        return int(await self.fetchval("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"))

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        return cast(list[Row], await self.conn.execute_fetchall(sql, params))

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        """The first row; for queries of one row at most (by id, or with ``LIMIT 1``)."""
        return next(iter(await self.fetchall(sql, params)), None)

    async def fetchval(self, sql: str, params: Params = ()) -> Any:
        row = await self.fetchone(sql, params)
        return next(iter(row.values())) if row is not None else None

    async def table_changes(self, table: str) -> int:
        """How many times rows of ``table`` changed (tables with triggers counting them)."""
        return int(
            await self.fetchval("SELECT changes FROM table_changes WHERE name = ?", (table,))
        )

    @staticmethod
    def where(table: str, filters: dict[str, Any]) -> tuple[str, tuple[Any, ...]]:
        """``FROM table [WHERE col = ? AND ...]`` for the filters that are not ``None``."""
        given = {column: value for column, value in filters.items() if value is not None}
        clause = " AND ".join(f"{column} = ?" for column in given)
        return f"FROM {table}" + (f" WHERE {clause}" if clause else ""), tuple(given.values())

    async def fetchpage(
        self, select: str, where: str, params: Params, order: str, limit: int, offset: int
    ) -> tuple[list[Row], int]:
        """One page of ``SELECT {select} {where} ORDER BY {order}`` and the total it pages over.

        The total rides along in the page's own query (one round trip); only a page
        past the end needs a second one.
        """
        rows = await self.fetchall(
            f"SELECT {select}, (SELECT COUNT(*) {where}) AS _total {where} "
            f"ORDER BY {order} LIMIT ? OFFSET ?",
            (*params, *params, limit, offset),
        )
        if not rows:
            total = int(await self.fetchval(f"SELECT COUNT(*) {where}", params)) if offset else 0
            return rows, total
        total = rows[0]["_total"]
        for row in rows:
            del row["_total"]
        return rows, total

    @asynccontextmanager
    async def write(self) -> AsyncIterator[aiosqlite.Connection]:
        """An ``IMMEDIATE`` transaction, committed on exit and rolled back on error."""
        async with self._write_lock:
            conn = self.conn
            try:
                # Inside the try: a task cancelled while BEGIN runs must not leave it open.
                await conn.execute("BEGIN IMMEDIATE")
                yield conn
            except BaseException:
                with suppress(sqlite3.OperationalError):  # no transaction was opened
                    await asyncio.shield(conn.execute("ROLLBACK"))
                raise
            await conn.execute("COMMIT")

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one write statement in its own transaction; the number of rows it changed."""
        async with self.write() as conn, conn.execute(sql, params) as cursor:
            return cursor.rowcount

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        """Run one write statement for each of ``rows`` in a single transaction."""
        async with self.write() as conn:
            await conn.executemany(sql, rows)
