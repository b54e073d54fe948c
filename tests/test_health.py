"""A suite's health, counted from the history tables, agrees with counting each run's
results one by one (the definitions of DESIGN §10), on a random history."""

from __future__ import annotations

import asyncio
import contextlib
import random
import statistics
from pathlib import Path
from typing import Any

from aegisd.triage import suite_health
from runner.results import CaseResult
from runner.triage import flips
from storage import Database

BASE, OTHER = "http://shop.internal", "http://preview.internal/"


def expected(
    case: dict[str, Any], finished: list[tuple[str, str, list[dict[str, Any]]]], window: int
) -> dict[str, Any]:
    """The case's health over the last ``window`` of ``finished`` (run id, base URL,
    results), oldest first, counted the plain way."""
    mine = [
        (run_id, result)
        for run_id, _, results in finished[-window:]
        for result in results
        if result["name"] == case["name"] and result["status"] != "skipped"
    ]
    statuses = [result["status"] for _, result in mine]
    judged = [r["status"] for _, r in mine if r["classification"] != "environment"]
    failures = [
        (run_id, result)
        for run_id, _, results in finished
        for result in results
        if result["name"] == case["name"] and result["status"] == "failed"
    ]
    return {
        "runs": len(mine),
        "passed": statuses.count("passed"),
        "failed": statuses.count("failed"),
        "flaky": sum(result["flaky"] for _, result in mine),
        "pass_rate": round(statuses.count("passed") / len(mine), 4) if mine else None,
        "flips": flips(judged),
        "last_status": statuses[-1] if statuses else None,
        "median_duration": (
            round(statistics.median(r["duration"] for _, r in mine)) if mine else None
        ),
        "last_failure": (
            (failures[-1][0], failures[-1][1]["classification"]) if failures else None
        ),
    }


Finished = list[tuple[str, str, list[dict[str, Any]]]]


class RandomHistory:
    """A suite of 8 cases whose runs finish with random outcomes, against two base URLs,
    some cancelled, some with the site down."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.finished: Finished = []
        """The finished runs (id, base URL, results), oldest first."""
        self._chance = random.Random(13)
        self._number = 0

    async def start(self, runs: int) -> None:
        """Create the project and the suite, and finish ``runs`` runs of it."""
        self.project = await self.db.create_project("p", BASE, None, {})
        definitions = [
            {"name": f"case {n}", "steps": [{"action": "goto", "url": "/"}]} for n in range(8)
        ]
        self.suite = await self.db.create_suite(
            self.project["id"], None, "Smoke", BASE, definitions
        )
        self.cases = await self.db.suite_cases(self.suite["id"])
        await self.runs(runs)

    async def runs(self, count: int) -> None:
        """Finish ``count`` more runs."""
        for _ in range(count):
            await self._run(self._number)
            self._number += 1

    async def _run(self, number: int) -> None:
        chance, db = self._chance, self.db
        base = OTHER if number % 4 == 3 else BASE
        down = number % 17 == 5
        row = await db.create_run(
            project_id=self.project["id"], suite_id=self.suite["id"], suite_name="Smoke",
            browser="chromium", base_url=base, retries=1, cases=self.cases, trigger="api",
        )  # fmt: skip
        results = []
        for position, case in enumerate(self.cases):
            status = chance.choice(["passed", "passed", "failed", "skipped"])
            flaky = status == "passed" and chance.random() < 0.2
            classification = (
                "environment" if down and status == "failed"
                else chance.choice(["regression", "flaky", None]) if status == "failed"
                else "flaky" if flaky else None
            )  # fmt: skip
            results.append(
                CaseResult(
                    case_id=case["id"], name=case["name"], status=status,  # type: ignore[arg-type]
                    duration=chance.randint(1, 30) * 10 + position, attempts=1 + flaky,
                    flaky=flaky, steps=[], classification=classification,  # type: ignore[arg-type]
                ).model_dump(mode="json")
            )  # fmt: skip
        status = "failed" if any(r["status"] == "failed" for r in results) else "passed"
        if number % 11 == 10:
            status = "cancelled"  # no history
        await db.finish_run(row["id"], status, results)
        if status != "cancelled":
            self.finished.append((row["id"], base, results))


async def test_health_agrees_with_counting_each_run(tmp_path: Path) -> None:
    async with Database(tmp_path / "aegisd.sqlite3") as db:
        history = RandomHistory(db)
        await history.start(runs=60)
        await check(history)
        # The windows kept move along as more runs finish, some with the oldest deleted
        # (retention's way), and agree with windows read anew.
        for count in (1, 3, 20):
            await history.runs(count)
            oldest = history.finished.pop(0)
            assert await db.delete_run(oldest[0])
            await check(history)
        async with Database(tmp_path / "aegisd.sqlite3") as anew:
            await check(history, anew)
        # Deleting runs from the middle, or the newest, leaves the history as if they
        # never ran: the outcomes after theirs flip, or not, against the ones before.
        finished = history.finished
        for gone in (finished[30], finished[5], finished[-1]):
            assert await db.delete_run(gone[0])
            finished.remove(gone)
        await check(history)


async def test_health_stays_right_after_a_request_cancelled_midway(tmp_path: Path) -> None:
    async with Database(tmp_path / "aegisd.sqlite3") as db:
        history = RandomHistory(db)
        await history.start(runs=30)
        await check(history)
        # Cancelled at one point or another of reading what joined its window.
        for wait in range(16):
            await history.runs(2)
            asked = asyncio.create_task(suite_health(db, history.suite, runs=100))
            await asyncio.sleep(wait / 4000)
            asked.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asked
            await check(history)


async def check(history: RandomHistory, db: Database | None = None) -> None:
    """The suite's health (read through ``db``, the history's own by default) agrees
    with ``expected`` over several windows and base URLs."""
    db = db or history.db
    suite, cases, finished = history.suite, history.cases, history.finished
    run_times = {row["id"]: row["created_at"] for row in (await db.list_runs(
        100, 0, project_id=None, suite_id=None, status=None))[0]}  # fmt: skip
    for window, base_url in [(100, None), (7, None), (10, OTHER), (1, BASE), (25, BASE)]:
        ran = [
            run
            for run in finished
            if base_url is None or run[1].rstrip("/") == base_url.rstrip("/")
        ]
        health = await suite_health(db, suite, runs=window, base_url=base_url)
        assert [h.name for h in health] == [case["name"] for case in cases]
        for case, figures in zip(cases, health, strict=True):
            got = figures.model_dump(exclude={"case_id", "name", "type"})
            last = got.pop("last_failure")
            want = expected(case, ran, window)
            want_last = want.pop("last_failure")
            assert got == want, (window, base_url, case["name"])
            if want_last is None:
                assert last is None
            else:
                assert (last["run_id"], last["classification"]) == want_last
                assert last["created_at"] == run_times[want_last[0]]
