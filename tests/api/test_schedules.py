"""Schedules: real fires through APScheduler, on a clock the tests set."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from aegisd.state import SCHEDULER
from runner.browsers import Browsers
from storage import Database
from storage.ids import to_iso
from tests.api.test_runs import site_pages
from tests.api.test_suites import CASES, make_suite
from tests.apiclient import Daemon, make_config, running
from tests.conftest import ServeApp
from tests.sites import Site

BERLIN = "Europe/Berlin"
SATURDAY = datetime(2025, 3, 29, 12, tzinfo=UTC)  # the day before Berlin's clocks go forward


class Clock:
    """Time that starts at ``moment`` and then runs as fast as the real clock."""

    def __init__(self, moment: datetime) -> None:
        self.set(moment)

    def set(self, moment: datetime) -> None:
        self.offset = moment - datetime.now(UTC)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


def at(daemon: Daemon, moment: datetime) -> Clock:
    """Put the daemon's scheduler on a clock that now reads ``moment``."""
    clock = Clock(moment)
    daemon.app[SCHEDULER].clock = clock
    return clock


async def schedule(daemon: Daemon, **body: Any) -> dict[str, Any]:
    answer = await daemon.call("POST", "/schedules", json=body)
    assert answer.status == 201, answer.body
    return answer.data  # type: ignore[no-any-return]


async def fired(daemon: Daemon, schedule_id: str) -> dict[str, Any]:
    """The schedule once it has started a run or crawl."""
    path = f"/schedules/{schedule_id}"
    return await daemon.wait_for(path, lambda s: s["last_run_id"] is not None, within_s=10)  # type: ignore[no-any-return]


async def scheduled_runs(daemon: Daemon) -> list[str | None]:
    return [run["schedule_id"] for run in (await daemon.call("GET", "/runs?limit=100")).data]


async def test_fires_start_a_run_and_a_crawl(daemon: Daemon, serve: ServeApp) -> None:
    project = await daemon.project(base_url=await serve(Site(site_pages()).app()))
    suite = await make_suite(daemon, project["id"], [CASES[0]])
    at(daemon, datetime(2025, 3, 29, 8, 29, 58, tzinfo=UTC))  # 09:29:58 in Berlin
    runs = await schedule(
        daemon, action="run", suite_id=suite["id"], cron="30 9 * * *", timezone=BERLIN
    )
    # Day of week 6 is Saturday, as in crontab (APScheduler's own 6 is Sunday).
    crawls = await schedule(daemon, action="crawl", project_id=project["id"], cron="30 8 * * 6")
    assert runs["id"].startswith("sched_") and runs["enabled"] and runs["browser"] == "chromium"
    assert runs["project_id"] == project["id"] and runs["timezone"] == BERLIN
    assert runs["next_run_at"] == crawls["next_run_at"] == "2025-03-29T08:30:00Z"
    assert runs["last_run_at"] is None and runs["skipped_count"] == 0

    after = await fired(daemon, runs["id"])
    assert after["last_run_at"].startswith("2025-03-29T08:30:0")
    assert after["next_run_at"] == "2025-03-30T07:30:00Z"  # 09:30 is UTC+2 from tomorrow
    run = await daemon.finished(f"/runs/{after['last_run_id']}")
    assert (run["trigger"], run["schedule_id"], run["status"]) == ("schedule", runs["id"], "passed")

    crawled = await fired(daemon, crawls["id"])
    assert crawled["next_run_at"] == "2025-04-05T08:30:00Z"
    crawl = await daemon.finished(f"/crawls/{crawled['last_run_id']}")
    assert crawl["status"] == "completed" and crawl["project_id"] == project["id"]
    assert crawl["max_pages"] == project["settings"]["max_pages"]


@pytest.mark.parametrize(
    ("cron", "timezone", "now", "expected"),
    [
        ("30 9 * * *", BERLIN, SATURDAY, "2025-03-30T07:30:00Z"),  # CET -> CEST
        ("30 9 * * *", BERLIN, datetime(2025, 10, 25, 12, tzinfo=UTC), "2025-10-26T08:30:00Z"),
        ("30 2 * * *", BERLIN, SATURDAY, "2025-03-30T01:30:00Z"),  # 02:30 is skipped: 03:30
        ("30 2 * * *", "UTC", SATURDAY, "2025-03-30T02:30:00Z"),
        ("0 9 * * 0", "UTC", SATURDAY, "2025-03-30T09:00:00Z"),  # 0 is Sunday
        ("0 9 * * 1-5", "UTC", SATURDAY, "2025-03-31T09:00:00Z"),
        ("0 9 * * 7", "America/New_York", SATURDAY, "2025-03-30T13:00:00Z"),
        ("0 9 15 * mon", "UTC", SATURDAY, "2025-03-31T09:00:00Z"),  # the 15th or a Monday
        ("*/20 * * * *", "UTC", SATURDAY + timedelta(seconds=1), "2025-03-29T12:20:00Z"),
    ],
)
async def test_next_run_at(
    daemon: Daemon, cron: str, timezone: str, now: datetime, expected: str
) -> None:
    suite = await make_suite(daemon, (await daemon.project())["id"])
    at(daemon, now)
    created = await schedule(
        daemon, action="run", suite_id=suite["id"], cron=cron, timezone=timezone
    )
    assert created["next_run_at"] == expected
    assert daemon.app[SCHEDULER].armed() == {created["id"]: expected}


async def test_update_rearms_and_delete_removes(daemon: Daemon) -> None:
    suite = await make_suite(daemon, (await daemon.project())["id"])
    at(daemon, datetime(2025, 3, 29, 9, 59, 58, tzinfo=UTC))
    body = {"action": "run", "suite_id": suite["id"], "cron": "0 10 * * *"}
    moved, deleted, disabled, kept = [await schedule(daemon, **body) for _ in range(4)]
    scheduler = daemon.app[SCHEDULER]
    assert set(scheduler.armed().values()) == {"2025-03-29T10:00:00Z"}

    later = await daemon.call("PUT", f"/schedules/{moved['id']}", json={"cron": "0  11 * * *"})
    assert (
        later.data["cron"] == "0 11 * * *" and later.data["next_run_at"] == "2025-03-29T11:00:00Z"
    )
    assert later.data["updated_at"] >= moved["updated_at"]
    off = await daemon.call("PUT", f"/schedules/{disabled['id']}", json={"enabled": False})
    assert off.data["enabled"] is False and off.data["next_run_at"] is None
    assert (await daemon.call("DELETE", f"/schedules/{deleted['id']}")).data["deleted"] is True
    assert (await daemon.call("GET", f"/schedules/{deleted['id']}")).status == 404
    assert scheduler.armed() == {
        moved["id"]: "2025-03-29T11:00:00Z",
        kept["id"]: "2025-03-29T10:00:00Z",
    }

    await fired(daemon, kept["id"])  # the others were due at the same moment
    assert await scheduled_runs(daemon) == [kept["id"]]
    on = await daemon.call("PUT", f"/schedules/{disabled['id']}", json={"enabled": True})
    assert on.data["next_run_at"] == "2025-03-30T10:00:00Z"
    listing = await daemon.call("GET", "/schedules?limit=2")
    assert listing.body["pagination"]["total"] == 3
    assert [s["id"] for s in listing.data] == [kept["id"], disabled["id"]]


async def test_a_fire_while_the_last_run_is_unfinished_is_skipped(
    daemon: Daemon, serve: ServeApp
) -> None:
    slow = await serve(Site(site_pages(), delay_s=3.0).app())
    suite = await make_suite(daemon, (await daemon.project(base_url=slow))["id"], [CASES[0]])
    clock = at(daemon, datetime(2025, 3, 29, 9, 59, 58, tzinfo=UTC))
    every_minute = await schedule(daemon, action="run", suite_id=suite["id"], cron="* * * * *")
    first = await fired(daemon, every_minute["id"])
    assert first["next_run_at"] == "2025-03-29T10:01:00Z"

    clock.set(datetime(2025, 3, 29, 10, 0, 59, tzinfo=UTC))
    await daemon.app[SCHEDULER].sync()  # re-arms by the clock's new time
    path = f"/schedules/{every_minute['id']}"
    skipped = await daemon.wait_for(path, lambda s: s["skipped_count"] == 1, within_s=10)
    assert skipped["last_run_id"] == first["last_run_id"]
    assert skipped["last_run_at"] == first["last_run_at"]
    assert skipped["last_skipped_at"].startswith("2025-03-29T10:01:0")
    assert f"{first['last_run_id']} is still" in skipped["last_skip_reason"]
    assert skipped["next_run_at"] == "2025-03-29T10:02:00Z"
    assert await scheduled_runs(daemon) == [every_minute["id"]]
    await daemon.call("POST", f"/runs/{first['last_run_id']}/cancel")


async def test_restart_restores_schedules_and_runs_a_missed_fire_within_grace_once(
    tmp_path: Path, browsers: Browsers
) -> None:
    config = make_config(tmp_path, scheduler={"misfire_grace_s": 300})
    async with running(config, browsers) as daemon:
        suite = await make_suite(daemon, (await daemon.project())["id"])
        body = {"action": "run", "suite_id": suite["id"], "cron": "0 * * * *"}
        within, beyond, soon, later = [await schedule(daemon, **body) for _ in range(4)]
    # While the daemon is down, hourly fires fall due a minute and an hour ago.
    now = datetime.now(UTC)
    due = {within["id"]: now - timedelta(minutes=1), beyond["id"]: now - timedelta(hours=1)}
    due[soon["id"]] = now + timedelta(seconds=2)
    async with Database(config.database_path) as db:
        for schedule_id, moment in due.items():
            await db.execute(
                "UPDATE schedules SET next_run_at = ? WHERE id = ?", (to_iso(moment), schedule_id)
            )

    async with running(config, browsers) as daemon:
        ran = (await daemon.call("GET", f"/schedules/{within['id']}")).data
        assert ran["last_run_id"] is not None and ran["skipped_count"] == 0
        assert ran["next_run_at"] > to_iso(now)
        missed = (await daemon.call("GET", f"/schedules/{beyond['id']}")).data
        assert missed["last_run_id"] is None and missed["skipped_count"] == 1
        assert "scheduler.misfire_grace_s (300s)" in missed["last_skip_reason"]
        assert missed["next_run_at"] > to_iso(now)
        armed = daemon.app[SCHEDULER].armed()
        assert armed[later["id"]] == later["next_run_at"] and len(armed) == 4
        await fired(daemon, soon["id"])
        assert sorted(await scheduled_runs(daemon)) == sorted([within["id"], soon["id"]])


async def test_invalid_schedules_name_the_field(daemon: Daemon) -> None:
    project = await daemon.project()
    suite = await make_suite(daemon, project["id"])
    run = {"action": "run", "suite_id": suite["id"], "cron": "0 9 * * *"}
    crawl = {"action": "crawl", "project_id": project["id"], "cron": "0 9 * * *"}
    for body, field in [
        ({**run, "cron": "61 * * * *"}, "cron"),
        ({**run, "cron": "* * *"}, "cron"),
        ({**run, "cron": "0 0 30 2 *"}, "cron"),  # never fires
        ({**run, "cron": "0 9 * * 8"}, "cron"),
        ({**run, "timezone": "Mars/Olympus_Mons"}, "timezone"),
        ({**run, "suite_id": "suite_nope00000000"}, "suite_id"),
        ({**crawl, "project_id": "proj_nope000000000"}, "project_id"),
        ({**run, "project_id": project["id"]}, "project_id"),
        ({**crawl, "suite_id": suite["id"]}, "suite_id"),
        ({"action": "run", "cron": "0 9 * * *"}, "suite_id"),
        ({**crawl, "browser": "firefox"}, "browser"),
        ({**run, "browser": "safari"}, "browser"),
        ({**run, "action": "deploy"}, "action"),
        ({**run, "seconds": "0"}, "seconds"),
    ]:
        answer = await daemon.call("POST", "/schedules", json=body)
        assert answer.status == 400, body
        assert answer.error["details"][0]["field"] == field, (body, answer.error)
    created = await schedule(daemon, **run)
    for change, field in [
        ({"action": "crawl"}, "action"),
        ({"cron": "0 9"}, "cron"),
        ({"timezone": "Berlin"}, "timezone"),
        ({"project_id": project["id"]}, "project_id"),
        ({"suite_id": "suite_nope00000000"}, "suite_id"),
    ]:
        answer = await daemon.call("PUT", f"/schedules/{created['id']}", json=change)
        assert answer.status == 400 and answer.error["details"][0]["field"] == field, change
    for method in ("GET", "PUT", "DELETE"):
        missing = await daemon.call(method, "/schedules/sched_nope00000000", json={})
        assert missing.status == 404
    assert (await daemon.call("GET", f"/schedules/{created['id']}")).data == created


async def test_bound_keys_and_deleting_projects_and_suites(daemon: Daemon) -> None:
    mine, other = await daemon.project(), await daemon.project()
    my_suite, their_suite = (
        await make_suite(daemon, mine["id"]),
        await make_suite(daemon, other["id"]),
    )
    key = await daemon.new_key("write", mine["id"])
    theirs = await schedule(daemon, action="crawl", project_id=other["id"], cron="0 9 * * *")
    body = {"action": "run", "suite_id": my_suite["id"], "cron": "0 9 * * *"}
    own = await daemon.call("POST", "/schedules", json=body, key=key)
    assert own.status == 201 and own.data["project_id"] == mine["id"]
    for method, path, json in [
        ("POST", "/schedules", {**body, "suite_id": their_suite["id"]}),
        ("POST", "/schedules", {"action": "crawl", "project_id": other["id"], "cron": "0 9 * * *"}),
        ("GET", f"/schedules/{theirs['id']}", None),
        ("PUT", f"/schedules/{theirs['id']}", {"enabled": False}),
        ("PUT", f"/schedules/{own.data['id']}", {"suite_id": their_suite["id"]}),
        ("DELETE", f"/schedules/{theirs['id']}", None),
        ("GET", f"/schedules?project_id={other['id']}", None),
    ]:
        assert (await daemon.call(method, path, json=json, key=key)).status == 403, (method, path)
    assert [s["id"] for s in (await daemon.call("GET", "/schedules", key=key)).data] == [
        own.data["id"]
    ]
    read = await daemon.new_key("read", mine["id"])
    assert (await daemon.call("POST", "/schedules", json=body, key=read)).status == 403

    scheduler = daemon.app[SCHEDULER]
    assert set(scheduler.armed()) == {theirs["id"], own.data["id"]}
    await daemon.call("DELETE", f"/projects/{other['id']}")
    await daemon.call("DELETE", f"/suites/{my_suite['id']}")
    await scheduler.sync()  # what it does every minute: rows deleted with them are dropped
    assert scheduler.armed() == {}
    assert (await daemon.call("GET", "/schedules")).data == []
