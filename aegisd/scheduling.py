"""Schedules: cron-driven runs and crawls, fired by APScheduler in the daemon's loop.

SQLite is the source of truth. Each enabled schedule row has one APScheduler job,
armed for the row's ``next_run_at``. Jobs are derived from the rows at start, every
minute after, and on every create, update and delete (all of which go through the
:class:`Scheduler`), so no job outlives its row or is missing. A fire re-reads its
row and starts the run or crawl, or records why it did not (``skipped_count``,
``last_skipped_at``, ``last_skip_reason``): the previous one is still queued or
running, the fire is more than ``scheduler.misfire_grace_s`` late (it fell due while
the daemon was down), or the work could not be queued. Then it stores the next fire
time and re-arms. A fire missed while the daemon was down is therefore run once at
start when within the grace period, however many were missed.

Cron expressions keep crontab's meaning (APScheduler's differs in two places, see
:func:`cron_trigger`); time zones are IANA names and DST is APScheduler's: a time
skipped when clocks go forward fires an hour later, one repeated when they go back
fires twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aiohttp import web
from apscheduler.jobstores.base import JobLookupError  # type: ignore[import-untyped]
from apscheduler.schedulers.asyncio import AsyncIOScheduler  # type: ignore[import-untyped]
from apscheduler.triggers.base import BaseTrigger  # type: ignore[import-untyped]
from apscheduler.triggers.combining import OrTrigger  # type: ignore[import-untyped]
from apscheduler.triggers.cron import CronTrigger  # type: ignore[import-untyped]
from apscheduler.triggers.date import DateTrigger  # type: ignore[import-untyped]
from apscheduler.triggers.interval import IntervalTrigger  # type: ignore[import-untyped]

from aegisd.errors import ApiError
from aegisd.state import CONFIG, DB, SCHEDULER
from aegisd.triggers import queue_crawl, queue_run
from storage import Database
from storage.ids import from_iso, to_iso, utc_now

log = logging.getLogger(__name__)
# APScheduler logs every job it adds and runs at INFO: one line a minute for the sync alone.
logging.getLogger("apscheduler").setLevel(logging.WARNING)

Clock = Callable[[], datetime]
Row = dict[str, Any]

SYNC_EVERY_S = 60
_SYNC_JOB = "aegisd-sync"
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def utc_clock() -> datetime:
    return datetime.now(UTC)


def time_zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name``; ``ValueError`` if there is none."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {name!r}; use an IANA name such as Europe/Berlin"
        ) from None


def _day(token: str) -> int:
    if token.isdigit() and int(token) <= 7:
        return int(token)
    if token.lower() in _DAYS:
        return _DAYS.index(token.lower())
    raise ValueError(f"{token!r} is not a day of the week (0-7 or sun-sat)")


def _weekdays(field: str) -> str:
    """Crontab's day-of-week field (0 and 7 are Sunday) as APScheduler's day names."""
    if field == "*":
        return field
    days: set[int] = set()
    for part in field.split(","):
        span, _, step = part.partition("/")
        if step and not (step.isdigit() and int(step) > 0):
            raise ValueError(f"day of week: {step!r} is not a positive step")
        if span == "*":
            first, last = 0, 6
        else:
            start, _, end = span.partition("-")
            first = _day(start)
            last = _day(end) if end else (6 if step else first)
        if first > last:
            raise ValueError(f"day of week: the range {span!r} runs backwards")
        days.update(day % 7 for day in range(first, last + 1, int(step or 1)))
    return ",".join(_DAYS[day] for day in sorted(days))


def cron_trigger(cron: str, timezone: str) -> BaseTrigger:
    """APScheduler's trigger for the 5-field crontab expression ``cron`` in ``timezone``.

    Crontab's meanings are kept where APScheduler's own differ: day of week 0 (and 7)
    is Sunday, not Monday; and when both day of month and day of week are restricted,
    a day matching either one fires. ``ValueError`` says what is wrong.
    """
    fields = cron.split()
    if len(fields) != 5:
        raise ValueError(
            f"expected 5 fields (minute hour day-of-month month day-of-week), got {len(fields)}"
        )
    minute, hour, day, month, weekday = fields
    zone = time_zone(timezone)

    def trigger(day: str, weekday: str) -> CronTrigger:
        return CronTrigger(
            minute=minute,
            hour=hour,
            day=day,
            month=month,
            day_of_week=_weekdays(weekday),
            timezone=zone,
        )

    if day.startswith("*") or weekday.startswith("*"):
        return trigger(day, weekday)
    return OrTrigger([trigger(day, "*"), trigger("*", weekday)])


def next_fire(trigger: BaseTrigger, after: datetime) -> datetime | None:
    """The trigger's first fire time strictly after ``after``; ``None`` if it never fires."""
    moment: datetime | None = trigger.get_next_fire_time(None, after + timedelta(microseconds=1))
    return moment


class Scheduler:
    """Arms and fires the schedules; every write to a schedule row goes through it.

    ``clock`` is the time the schedules live in: jobs fire when it reaches their
    ``next_run_at`` (tests hand in a clock of their own).
    """

    def __init__(self, app: web.Application, clock: Clock = utc_clock) -> None:
        self.app = app
        self.clock = clock
        self._aps = AsyncIOScheduler(timezone=UTC)
        # Serialises fires with each other and with API writes, so a fire never acts on
        # a row that is being changed.
        self._lock = asyncio.Lock()

    @property
    def _db(self) -> Database:
        return self.app[DB]

    async def start(self) -> None:
        self._aps.start()
        self._aps.add_job(self.sync, IntervalTrigger(seconds=SYNC_EVERY_S), id=_SYNC_JOB)
        await self.sync()

    async def stop(self) -> None:
        """Fire nothing more; a fire under way finishes first."""
        self._aps.pause()
        async with self._lock:
            self._aps.shutdown(wait=False)

    def armed(self) -> dict[str, str]:
        """Schedule id -> the ``next_run_at`` its job is armed for."""
        return {job.id: job.args[1] for job in self._aps.get_jobs() if job.id != _SYNC_JOB}

    async def sync(self) -> None:
        """Re-derive every job from the rows; fire what fell due while no job was armed."""
        async with self._lock:
            rows = await self._db.armed_schedules()
            for stray in set(self.armed()) - {row["id"] for row in rows}:
                self._disarm(stray)
            for row in rows:
                if from_iso(row["next_run_at"]) <= self.clock():
                    await self._fire_now(row)
                else:
                    self._arm(row)

    async def create(self, fields: Row) -> Row:
        """Store a new schedule (``fields`` as the table's columns) and arm it."""
        async with self._lock:
            row = await self._db.create_schedule(
                **fields, next_run_at=self._next_run_at(fields, self.clock())
            )
            self._arm(row)
            return row

    async def update(self, schedule_id: str, changes: Row) -> Row | None:
        """Change some columns, recompute ``next_run_at`` and re-arm; ``None`` if gone."""
        async with self._lock:
            current = await self._db.get_schedule(schedule_id)
            if current is None:
                return None
            next_run_at = self._next_run_at({**current, **changes}, self.clock())
            row = await self._db.update_schedule(
                schedule_id, {**changes, "next_run_at": next_run_at, "updated_at": utc_now()}
            )
            self._arm(row)
            return row

    async def delete(self, schedule_id: str) -> bool:
        async with self._lock:
            self._disarm(schedule_id)
            return await self._db.delete_schedule(schedule_id)

    def _next_run_at(self, row: Row, after: datetime) -> str | None:
        if not row["enabled"]:
            return None
        moment = next_fire(cron_trigger(row["cron"], row["timezone"]), after)
        return None if moment is None else to_iso(moment)

    def _arm(self, row: Row | None) -> None:
        if row is None:
            return
        if not row["enabled"] or row["next_run_at"] is None:
            self._disarm(row["id"])
            return
        # APScheduler waits in real time: as long as `clock` has to go until the fire.
        wait = max(from_iso(row["next_run_at"]) - self.clock(), timedelta(0))
        self._aps.add_job(
            self._fire,
            DateTrigger(datetime.now(UTC) + wait),
            args=(row["id"], row["next_run_at"]),
            id=row["id"],
            replace_existing=True,
            misfire_grace_time=None,
        )

    def _disarm(self, schedule_id: str) -> None:
        with contextlib.suppress(JobLookupError):
            self._aps.remove_job(schedule_id)

    async def _fire(self, schedule_id: str, due: str) -> None:
        async with self._lock:
            row = await self._db.get_schedule(schedule_id)
            # Otherwise deleted, disabled or re-armed since this job was set.
            if row is not None and row["enabled"] and row["next_run_at"] == due:
                await self._fire_now(row)

    async def _fire_now(self, row: Row) -> None:
        now = self.clock()
        next_run_at = self._next_run_at(row, max(now, from_iso(row["next_run_at"])))
        reason = self._missed(row, now) or await self._busy(row)
        if reason is None:
            try:
                started = await self._start(row)
            except ApiError as exc:
                reason = f"could not start: {exc.message}"
            else:
                values = {
                    "next_run_at": next_run_at,
                    "last_run_at": to_iso(now),
                    "last_run_id": started,
                }
                self._arm(await self._db.update_schedule(row["id"], values))
                return
        log.warning("schedule %s started nothing: %s", row["id"], reason)
        self._arm(await self._db.record_schedule_skip(row["id"], next_run_at, to_iso(now), reason))

    def _missed(self, row: Row, now: datetime) -> str | None:
        """Why the fire is too late to run, if it is."""
        late = (now - from_iso(row["next_run_at"])).total_seconds()
        grace = self.app[CONFIG].scheduler.misfire_grace_s
        if late <= grace:
            return None
        return (
            f"missed the fire due at {row['next_run_at']}: {late:.0f}s late, "
            f"more than scheduler.misfire_grace_s ({grace}s)"
        )

    async def _busy(self, row: Row) -> str | None:
        """Why the schedule's previous run or crawl stops this fire, if it does."""
        last_id = row["last_run_id"]
        if last_id is None:
            return None
        db = self._db
        last = await (db.get_run(last_id) if row["action"] == "run" else db.get_crawl(last_id))
        if last is not None and last["status"] in ("queued", "running"):
            return f"skipped: the previous {row['action']} {last_id} is still {last['status']}"
        return None

    async def _start(self, row: Row) -> str:
        """Queue the schedule's run or crawl; its id."""
        db = self._db
        if row["action"] == "run":
            suite = await db.get_suite(row["suite_id"])
            assert suite is not None  # the schedule row is deleted with its suite
            started = await queue_run(
                self.app, suite, trigger="schedule", browser=row["browser"], schedule_id=row["id"]
            )
        else:
            project = await db.get_project(row["project_id"])
            assert project is not None  # the schedule row is deleted with its project
            started = await queue_crawl(self.app, project)
        return str(started["id"])


async def scheduler(app: web.Application) -> AsyncIterator[None]:
    """Cleanup context: arm the schedules at start (firing missed ones within grace)."""
    app[SCHEDULER] = Scheduler(app)
    await app[SCHEDULER].start()
    yield
    await app[SCHEDULER].stop()
