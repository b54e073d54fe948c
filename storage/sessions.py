"""Queries on dashboard sessions: a sign-in with an API key, until it ends or expires.

A session is read on every dashboard request, so found sessions are kept in memory
like keys (:mod:`storage.keys`): ending one appends to the keys marker, which makes
every process drop what it kept.
"""

from __future__ import annotations

from storage.connection import Row
from storage.ids import new_id, utc_now
from storage.keys import KeyQueries

_COLUMNS = "id, key_id, created_at, expires_at, ended_at"


class SessionQueries(KeyQueries):
    async def create_session(self, key_id: str, expires_at: str) -> Row:
        session_id = new_id("sess")
        await self.execute(
            f"INSERT INTO dashboard_sessions ({_COLUMNS}) VALUES (?, ?, ?, ?, NULL)",
            (session_id, key_id, utc_now(), expires_at),
        )
        return await self.get_session(session_id)  # type: ignore[return-value]

    async def get_session(self, session_id: str) -> Row | None:
        """The session with this id; from memory while no key or session stopped working."""
        return await self.remembered(
            f"SELECT {_COLUMNS} FROM dashboard_sessions WHERE id = ?", session_id
        )

    async def end_session(self, session_id: str) -> None:
        """Mark the session ended (signed out); ending it again keeps the first time."""
        await self.execute(
            "UPDATE dashboard_sessions SET ended_at = COALESCE(ended_at, ?) WHERE id = ?",
            (utc_now(), session_id),
        )
        self.keys_changed()

    async def prune_sessions(self, now: str) -> int:
        """Delete sessions that ended or expired before ``now`` (ISO time); how many."""
        return await self.execute(
            "DELETE FROM dashboard_sessions WHERE expires_at < ? OR ended_at IS NOT NULL",
            (now,),
        )
