"""Pruning: runs older than ``retention.runs_days`` go, with their artifacts."""

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
from storage.ids import to_iso

log = logging.getLogger(__name__)

PRUNE_EVERY_S = 3600.0


async def prune_runs(db: Database, config: Config, now: datetime | None = None) -> int:
    """Delete finished runs older than the retention period and their files; how many."""
    days = config.retention.runs_days
    if days <= 0:
        return 0
    cutoff = to_iso((now or datetime.now(UTC)) - timedelta(days=days))
    run_ids = await db.runs_older_than(cutoff)
    for run_id in run_ids:
        await db.delete_run(run_id)
        shutil.rmtree(config.artifacts_dir(run_id), ignore_errors=True)
    if run_ids:
        log.info("pruned %d runs older than %d days", len(run_ids), days)
    return len(run_ids)


async def _prune_forever(db: Database, config: Config) -> None:
    while True:
        try:
            await prune_runs(db, config)
        except Exception:
            log.exception("pruning old runs failed; trying again later")
        await asyncio.sleep(PRUNE_EVERY_S)


async def retention(app: web.Application) -> AsyncIterator[None]:
    """Cleanup context: prune at start and then every hour."""
    task = asyncio.create_task(_prune_forever(app[DB], app[CONFIG]), name="retention")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
