"""Pruning: runs older than ``retention.runs_days`` go with their artifacts, webhook
events older than ``retention.webhook_events_days`` with their delivery history, and
dashboard sessions once they ended or expired."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

from aiohttp import web

from aegisd.config import Config
from aegisd.state import CONFIG, DB
from storage import Database
from storage.ids import to_iso, utc_now

log = logging.getLogger(__name__)

PRUNE_EVERY_S = 3600.0


def _cutoff(days: int, now: datetime | None) -> str | None:
    """The ISO time ``days`` before ``now``; None when ``days`` is 0 (keep forever)."""
    return to_iso((now or datetime.now(UTC)) - timedelta(days=days)) if days > 0 else None


async def prune_runs(db: Database, config: Config, now: datetime | None = None) -> int:
    """Delete finished runs older than the retention period and their files; how many."""
    days = config.retention.runs_days
    cutoff = _cutoff(days, now)
    if cutoff is None:
        return 0
    run_ids = await db.runs_older_than(cutoff)
    for run_id in run_ids:
        await db.delete_run(run_id)
        shutil.rmtree(config.artifacts_dir(run_id), ignore_errors=True)
    if run_ids:
        log.info("pruned %d runs older than %d days", len(run_ids), days)
    return len(run_ids)


async def prune_webhook_events(db: Database, config: Config, now: datetime | None = None) -> int:
    """Delete webhook events older than their retention period that are no longer being
    delivered; how many."""
    days = config.retention.webhook_events_days
    cutoff = _cutoff(days, now)
    pruned = await db.prune_webhook_events(cutoff) if cutoff else 0
    if pruned:
        log.info("pruned %d webhook events older than %d days", pruned, days)
    return pruned


async def _prune_forever(db: Database, config: Config) -> None:
    while True:
        try:
            await prune_runs(db, config)
            await prune_webhook_events(db, config)
            await db.prune_sessions(utc_now())  # dashboard sign-ins ended or expired
        except Exception:
            log.exception("pruning old runs and webhook events failed; trying again later")
        await asyncio.sleep(PRUNE_EVERY_S)


async def retention(app: web.Application) -> AsyncIterator[None]:
    """Cleanup context: prune at start and then every hour."""
    task = asyncio.create_task(_prune_forever(app[DB], app[CONFIG]), name="retention")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
