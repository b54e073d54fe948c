"""Queries on webhooks and their outbox: events, deliveries and delivery attempts.

An event is stored with one ``pending`` delivery per webhook it matches, in the
transaction that caused it (see :func:`insert_events`). A delivery stays ``pending``
until an attempt succeeds (``delivered``) or its attempts run out (``failed``);
every attempt is kept.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, NamedTuple

import aiosqlite

from storage.connection import DatabaseCore, Row
from storage.ids import new_id, utc_now

_COLUMNS = "id, project_id, url, events, secret, format, enabled, created_at, updated_at"
_JSON_COLUMNS = ("events",)
# A delivery as listed: its last attempt's outcome beside the delivery's own state.
_DELIVERY = (
    "d.id, d.webhook_id, d.event_id, e.event, d.status, d.attempts, "
    "d.next_attempt_at AS next_retry_at, d.created_at, d.completed_at, "
    "a.status_code, a.error, a.duration"
)
_DELIVERY_FROM = (
    "FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id "
    "LEFT JOIN webhook_attempts a ON a.delivery_id = d.id AND a.attempt = d.attempts"
)


class NewEvent(NamedTuple):
    """An event to deliver: its name, the project it concerns and its ``data``."""

    name: str
    project_id: str | None
    data: dict[str, Any]


EventsFor = Callable[[Row], list[NewEvent]]
"""Given a row just written, the events it causes."""


def _webhook(row: Row | None) -> Row | None:
    if row is not None:
        row["events"] = json.loads(row["events"])
    return row


async def _insert_event(
    conn: aiosqlite.Connection, event: NewEvent, webhook_ids: list[str]
) -> list[str]:
    """Store the event with a pending delivery per webhook; the deliveries' ids."""
    event_id, now = new_id("evt"), utc_now()
    delivery_ids = [new_id("dlv") for _ in webhook_ids]
    await conn.execute(
        "INSERT INTO webhook_events (id, event, project_id, data, created_at) "
        "VALUES (?, ?, ?, ?, ?)",
        (event_id, event.name, event.project_id, json.dumps(event.data), now),
    )
    await conn.executemany(
        "INSERT INTO webhook_deliveries (id, webhook_id, event_id, status, next_attempt_at, "
        "created_at) VALUES (?, ?, ?, 'pending', ?, ?)",
        [
            (id_, webhook_id, event_id, now, now)
            for id_, webhook_id in zip(delivery_ids, webhook_ids, strict=True)
        ],
    )
    return delivery_ids


async def insert_events(conn: aiosqlite.Connection, events: list[NewEvent]) -> None:
    """Queue each event for every enabled webhook whose filters it passes, inside ``conn``'s
    open transaction; an event no webhook wants is not stored."""
    for event in events:
        rows = await conn.execute_fetchall(
            "SELECT id FROM webhooks WHERE enabled = 1 "
            "AND (project_id IS NULL OR project_id = ?) "
            "AND EXISTS (SELECT 1 FROM json_each(webhooks.events) WHERE value = ?)",
            (event.project_id, event.name),
        )
        if rows:
            await _insert_event(conn, event, [row["id"] for row in rows])


class WebhookQueries(DatabaseCore):
    async def create_webhook(
        self,
        *,
        url: str,
        events: list[str],
        secret: str,
        format: str,
        project_id: str | None,
        enabled: bool,
    ) -> Row:
        webhook_id, now = new_id("wh"), utc_now()
        await self.execute(
            f"INSERT INTO webhooks ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (webhook_id, project_id, url, json.dumps(events), secret, format, int(enabled),
             now, now),
        )  # fmt: skip
        return await self.get_webhook(webhook_id)  # type: ignore[return-value]

    async def get_webhook(self, webhook_id: str) -> Row | None:
        return _webhook(
            await self.fetchone(f"SELECT {_COLUMNS} FROM webhooks WHERE id = ?", (webhook_id,))
        )

    async def list_webhooks(
        self, limit: int, offset: int, *, project_id: str | None
    ) -> tuple[list[Row], int]:
        where, params = self.where("webhooks", {"project_id": project_id})
        rows, total = await self.fetchpage(_COLUMNS, where, params, "rowid DESC", limit, offset)
        return [_webhook(row) for row in rows], total  # type: ignore[misc]

    async def update_webhook(self, webhook_id: str, changes: dict[str, Any]) -> Row | None:
        """Set the given columns (``events`` as a list) and bump ``updated_at``."""
        values = {k: json.dumps(v) if k in _JSON_COLUMNS else v for k, v in changes.items()}
        values["updated_at"] = utc_now()
        assignments = ", ".join(f"{column} = ?" for column in values)
        changed = await self.execute(
            f"UPDATE webhooks SET {assignments} WHERE id = ?", (*values.values(), webhook_id)
        )
        return await self.get_webhook(webhook_id) if changed else None

    async def delete_webhook(self, webhook_id: str) -> bool:
        return await self.execute("DELETE FROM webhooks WHERE id = ?", (webhook_id,)) > 0

    async def queue_delivery(self, webhook_id: str, event: NewEvent) -> str:
        """Store ``event`` for this one webhook, whatever its filters; the delivery's id."""
        async with self.write() as conn:
            [delivery_id] = await _insert_event(conn, event, [webhook_id])
        return delivery_id

    async def due_deliveries(self, now: str, limit: int) -> list[str]:
        """Ids of pending deliveries of enabled webhooks whose next attempt is due."""
        rows = await self.fetchall(
            "SELECT d.id FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id "
            "WHERE d.status = 'pending' AND d.next_attempt_at <= ? AND w.enabled = 1 "
            "ORDER BY d.next_attempt_at, d.rowid LIMIT ?",
            (now, limit),
        )
        return [row["id"] for row in rows]

    async def delivery_to_send(self, delivery_id: str) -> Row | None:
        """A delivery with what sending it takes: the event and the webhook's url, secret
        and format."""
        row = await self.fetchone(
            "SELECT d.id, d.status, d.attempts, e.id AS event_id, e.event, e.data, "
            "e.created_at AS event_created_at, w.url, w.secret, w.format "
            "FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id "
            "JOIN webhooks w ON w.id = d.webhook_id WHERE d.id = ?",
            (delivery_id,),
        )
        if row is not None:
            row["data"] = json.loads(row["data"])
        return row

    async def record_attempt(
        self,
        delivery_id: str,
        attempt: dict[str, Any],
        status: str,
        next_attempt_at: str | None,
    ) -> None:
        """Keep one attempt (``attempt, status_code, error, duration, attempted_at``) and
        set the delivery's state after it."""
        async with self.write() as conn:
            await conn.execute(
                "INSERT INTO webhook_attempts (delivery_id, attempt, status_code, error, "
                "duration, attempted_at) VALUES (?, ?, ?, ?, ?, ?)",
                (delivery_id, attempt["attempt"], attempt["status_code"], attempt["error"],
                 attempt["duration"], attempt["attempted_at"]),
            )  # fmt: skip
            await conn.execute(
                "UPDATE webhook_deliveries SET status = ?, attempts = ?, next_attempt_at = ?, "
                "completed_at = ? WHERE id = ?",
                (status, attempt["attempt"], next_attempt_at,
                 None if status == "pending" else attempt["attempted_at"], delivery_id),
            )  # fmt: skip

    async def prune_webhook_events(self, cutoff: str) -> int:
        """Delete events created before ``cutoff`` (ISO time) that no delivery still waits
        to send, with their deliveries and attempts; how many."""
        return await self.execute(
            "DELETE FROM webhook_events WHERE created_at < ? AND NOT EXISTS "
            "(SELECT 1 FROM webhook_deliveries d WHERE d.event_id = webhook_events.id "
            "AND d.status = 'pending')",
            (cutoff,),
        )

    async def get_delivery(self, delivery_id: str) -> Row | None:
        """A delivery as listed, with its ``history`` of attempts."""
        row = await self.fetchone(
            f"SELECT {_DELIVERY} {_DELIVERY_FROM} WHERE d.id = ?", (delivery_id,)
        )
        return (await self._with_history([row]))[0] if row is not None else None

    async def list_deliveries(
        self, webhook_id: str, limit: int, offset: int, *, status: str | None
    ) -> tuple[list[Row], int]:
        """A webhook's deliveries, newest first, each with its ``history`` of attempts."""
        filters = " AND d.status = ?" if status is not None else ""
        params = (webhook_id, status) if status is not None else (webhook_id,)
        where = f"{_DELIVERY_FROM} WHERE d.webhook_id = ?{filters}"
        rows, total = await self.fetchpage(_DELIVERY, where, params, "d.rowid DESC", limit, offset)
        return await self._with_history(rows), total

    async def _with_history(self, rows: list[Row]) -> list[Row]:
        ids = [row["id"] for row in rows]
        attempts = await self.fetchall(
            "SELECT delivery_id, attempt, status_code, error, duration, attempted_at "
            f"FROM webhook_attempts WHERE delivery_id IN ({', '.join('?' * len(ids))}) "
            "ORDER BY attempt",
            ids,
        )
        history: dict[str, list[Row]] = {delivery_id: [] for delivery_id in ids}
        for attempt in attempts:
            history[attempt.pop("delivery_id")].append(attempt)
        return [{**row, "history": history[row["id"]]} for row in rows]
