"""Webhooks: event payloads, signatures and the outbox sender.

Formats: ``json`` (the signed event), and ``slack``, ``discord``, ``teams`` and
``email`` (:mod:`aegisd.messages`); an email delivery is sent through
``[notifications.smtp]`` (:mod:`aegisd.mail`) instead of POSTed, with the same
outbox, retries and attempt log.

A finished run or crawl queues its events (:func:`run_events`, :func:`crawl_events`)
in the transaction that finishes it: one pending delivery per webhook that wants
them. The :class:`WebhookSender` works through pending deliveries in a task of its
own, a few at a time, so a slow or dead receiver never holds up a run. Each attempt
is a POST with a ``webhooks.timeout_s`` timeout; a timeout, a connection error or a
non-2xx answer is retried after ``webhooks.retry_backoff_s``, twice as long each
time after that, until ``webhooks.max_attempts``; every attempt is recorded.
Delivery is at least once: an attempt cut off by a stop or crash is made again after
the restart, with the same ``X-Aegis-Delivery``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import smtplib
import time
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, get_args

import aiohttp
from aiohttp import web

from aegisd import __version__
from aegisd.config import Config
from aegisd.links import LinkSigner, dashboard_url
from aegisd.mail import mailto_recipients, send_mail, smtp_problem
from aegisd.messages import (
    discord_message,
    email_message,
    slack_message,
    summarize,
    teams_message,
)
from aegisd.state import CONFIG, DB, WEBHOOK_SENDER
from aegisd.views import Crawl, run_view
from runner.results import CaseResult
from storage import Database
from storage.ids import to_iso, utc_now
from storage.webhooks import NewEvent

log = logging.getLogger(__name__)

Row = dict[str, Any]
EventName = Literal["run.completed", "run.failed", "crawl.completed", "crawl.failed"]
EVENTS: tuple[EventName, ...] = get_args(EventName)
SIGNATURE_PREFIX = "sha256="
FAILED_CASES = 100
"""Failed cases a run event's data lists (``failed`` has the total)."""

_MESSAGES = {"slack": slack_message, "discord": discord_message, "teams": teams_message}
_CONCURRENCY = 4
_POLL_S = 1.0
_MAX_BACKOFF_S = 3600.0
_ANSWER_CHARS = 200


def _events(kind: str, row: Row, data: dict[str, Any], failed: bool) -> list[NewEvent]:
    names = [f"{kind}.completed", *([f"{kind}.failed"] if failed else [])]
    return [NewEvent(name, row["project_id"], data) for name in names]


def run_events(
    config: Config, links: LinkSigner, row: Row, results: Sequence[CaseResult] = ()
) -> list[NewEvent]:
    """``run.completed`` for every finished run, with ``run.failed`` for failures and errors;
    the data is the run as the API shows it, ``report_url`` included, and its first
    ``failed_cases`` (``case_id, name, classification, error``) from ``results``, and its
    dashboard page."""
    failed = [
        {
            "case_id": result.case_id,
            "name": result.name,
            "classification": result.classification,
            "error": result.error.message if result.error else None,
        }
        for result in results
        if result.status == "failed"
    ]
    page = dashboard_url(config.base_url, "runs", row["id"])
    data = {**run_view(config, links, row), "failed_cases": failed[:FAILED_CASES]}
    data["dashboard_url"] = page
    return _events("run", row, data, row["status"] in ("failed", "error"))


def crawl_events(config: Config, row: Row) -> list[NewEvent]:
    """``crawl.completed`` for every finished crawl, with ``crawl.failed`` for failed ones;
    the data is the crawl as the API shows it, and its dashboard page."""
    data = Crawl.model_validate(row).model_dump(mode="json")
    data["dashboard_url"] = dashboard_url(config.base_url, "crawls", row["id"])
    return _events("crawl", row, data, row["status"] == "failed")


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Aegis-Signature`` value: ``sha256=`` + hex HMAC-SHA256 of ``timestamp.body``."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return SIGNATURE_PREFIX + digest.hexdigest()


class WebhookSender:
    """Delivers the outbox's pending deliveries from a task of its own."""

    def __init__(self, db: Database, config: Config) -> None:
        self._db = db
        self._config = config
        self._wake = asyncio.Event()
        self._sending: dict[str, asyncio.Task[None]] = {}
        self._recording: set[asyncio.Future[None]] = set()
        self._session: aiohttp.ClientSession | None = None
        self._worker: asyncio.Task[None] | None = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise RuntimeError("the webhook sender is not started")
        return self._session

    async def start(self) -> None:
        """Start sending; deliveries left pending by the last process are among the first."""
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self._config.webhooks.timeout_s),
            headers={"User-Agent": f"aegisd/{__version__}"},
        )
        self._worker = asyncio.create_task(self._work(), name="webhook-sender")

    async def stop(self) -> None:
        """Stop sending; attempts under way are cut off and made again after a restart."""
        tasks = [task for task in (self._worker, *self._sending.values()) if task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.gather(*self._recording, return_exceptions=True)
        await self.session.close()

    async def send_now(self, delivery_id: str) -> None:
        """Make the delivery's next attempt now, or wait for the one under way."""
        await asyncio.shield(self._track(delivery_id))

    async def _work(self) -> None:
        while True:
            self._wake.clear()
            try:
                await self._start_due()
            except Exception:
                log.exception("reading the webhook outbox failed; trying again")
            with contextlib.suppress(TimeoutError):
                # Woken when an attempt ends; the timeout picks up new and retried deliveries.
                await asyncio.wait_for(self._wake.wait(), _POLL_S)

    async def _start_due(self) -> None:
        free = _CONCURRENCY - len(self._sending)
        if free <= 0:
            return
        due = await self._db.due_deliveries(utc_now(), _CONCURRENCY + len(self._sending))
        for delivery_id in [d for d in due if d not in self._sending][:free]:
            self._track(delivery_id)

    def _track(self, delivery_id: str) -> asyncio.Task[None]:
        task = self._sending.get(delivery_id)
        if task is None:
            task = asyncio.create_task(self._attempt(delivery_id), name=f"webhook-{delivery_id}")
            self._sending[delivery_id] = task
            task.add_done_callback(lambda _: self._done(delivery_id))
        return task

    def _done(self, delivery_id: str) -> None:
        self._sending.pop(delivery_id, None)
        self._wake.set()

    async def _attempt(self, delivery_id: str) -> None:
        try:
            delivery = await self._db.delivery_to_send(delivery_id)
            if delivery is None or delivery["status"] != "pending":
                return
            attempt = await self._try(delivery)
            # Not cut off by a stop: a write cancelled half-way would leave its transaction open.
            record = asyncio.ensure_future(
                self._db.record_attempt(delivery_id, attempt, *self._outcome(attempt))
            )
            self._recording.add(record)
            record.add_done_callback(self._recording.discard)
            await asyncio.shield(record)
        except Exception:
            log.exception("webhook delivery %s failed unexpectedly", delivery_id)

    async def _try(self, delivery: Row) -> Row:
        """One attempt (a POST, or for ``email`` a mail); what happened, as its columns."""
        attempted_at, started = utc_now(), time.monotonic()
        send = self._mail if delivery["format"] == "email" else self._post
        status_code, error = await send(delivery)
        return {
            "attempt": delivery["attempts"] + 1,
            "status_code": status_code,
            "error": error,
            "duration": round((time.monotonic() - started) * 1000),
            "attempted_at": attempted_at,
        }

    @property
    def _timed_out(self) -> str:
        return f"no answer within webhooks.timeout_s ({self._config.webhooks.timeout_s}s)"

    async def _post(self, delivery: Row) -> tuple[int | None, str | None]:
        """POST the signed body; the answer's status and what went wrong, if anything."""
        body = self._body(delivery)
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "X-Aegis-Event": delivery["event"],
            "X-Aegis-Delivery": delivery["id"],
            "X-Aegis-Timestamp": timestamp,
            "X-Aegis-Signature": sign(delivery["secret"], timestamp, body),
        }
        status_code: int | None = None
        error: str | None = None
        try:
            async with self.session.post(
                delivery["url"], data=body, headers=headers, allow_redirects=False
            ) as response:
                status_code = response.status
                if not 200 <= status_code < 300:
                    answer = await response.content.read(_ANSWER_CHARS)
                    text = answer.decode(errors="replace").strip()
                    error = f"HTTP {status_code}" + (f": {text}" if text else "")
        except TimeoutError:
            error = self._timed_out
        except aiohttp.ClientError as exc:
            error = f"{type(exc).__name__}: {exc}"
        return status_code, error

    async def _mail(self, delivery: Row) -> tuple[int | None, str | None]:
        """Mail the event to the ``mailto:`` recipients; the SMTP reply code (250 when the
        server took it) and what went wrong, if anything."""
        smtp = self._config.notifications.smtp
        if smtp is None:
            return None, "cannot send email: [notifications.smtp] is not configured"
        recipients = mailto_recipients(delivery["url"])
        summary = summarize(delivery["event"], delivery["data"], self._config.base_url)
        message = email_message(
            summary, sender=smtp.from_, recipients=recipients, delivery_id=delivery["id"]
        )
        timeout_s = self._config.webhooks.timeout_s
        try:
            await asyncio.to_thread(send_mail, smtp, message, recipients, timeout_s)
        except TimeoutError:
            return None, self._timed_out
        except (smtplib.SMTPException, OSError) as exc:
            return smtp_problem(exc)
        return 250, None

    def _outcome(self, attempt: Row) -> tuple[str, str | None]:
        """The delivery's status after ``attempt`` and when to try next, if again."""
        settings = self._config.webhooks
        if attempt["error"] is None:
            return "delivered", None
        if attempt["attempt"] >= settings.max_attempts:
            return "failed", None
        backoff = min(settings.retry_backoff_s * 2 ** (attempt["attempt"] - 1), _MAX_BACKOFF_S)
        return "pending", to_iso(datetime.now(UTC) + timedelta(seconds=backoff))

    def _body(self, delivery: Row) -> bytes:
        event, data, base_url = delivery["event"], delivery["data"], self._config.base_url
        draw = _MESSAGES.get(delivery["format"])
        if draw is not None:
            message = draw(summarize(event, data, base_url))
        else:
            message = {
                "id": delivery["event_id"],
                "event": delivery["event"],
                "created_at": delivery["event_created_at"],
                "data": delivery["data"],
            }
        return json.dumps(message).encode()


async def webhook_sender(app: web.Application) -> AsyncIterator[None]:
    """Cleanup context: deliver the outbox while the daemon runs."""
    app[WEBHOOK_SENDER] = WebhookSender(app[DB], app[CONFIG])
    await app[WEBHOOK_SENDER].start()
    yield
    await app[WEBHOOK_SENDER].stop()
