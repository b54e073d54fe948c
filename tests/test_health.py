"""A suite's health, counted from the history tables, agrees with counting each run's
results one by one (the definitions of DESIGN §10), on a random history."""

from __future__ import annotations

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


async def random_history(db: Database) -> tuple[dict[str, Any], list[dict[str, Any]], Finished]:
    """A suite of 8 cases and 60 runs of it with random outcomes, against two base URLs,
    some cancelled, some with the site down; the suite, its cases and the finished runs
    (id, base URL, results), oldest first."""
    chance = random.Random(13)
    project = await db.create_project("p", BASE, None, {})
    definitions = [
        {"name": f"case {n}", "steps": [{"action": "goto", "url": "/"}]} for n in range(8)
    ]
    suite = await db.create_suite(project["id"], None, "Smoke", BASE, definitions)
    cases = await db.suite_cases(suite["id"])
    finished: Finished = []
    for number in range(60):
        base = OTHER if number % 4 == 3 else BASE
        down = number % 17 == 5
        row = await db.create_run(
            project_id=project["id"], suite_id=suite["id"], suite_name="Smoke",
            browser="chromium", base_url=base, retries=1, cases=cases, trigger="api",
        )  # fmt: skip
        results = []
        for position, case in enumerate(cases):
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
            finished.append((row["id"], base, results))
    return suite, cases, finished


async def test_health_agrees_with_counting_each_run(tmp_path: Path) -> None:
    async with Database(tmp_path / "aegisd.sqlite3") as db:
        suite, cases, finished = await random_history(db)
        await check(db, suite, cases, finished)
        # Deleting runs, retention's way too, leaves the history as if they never ran:
        # the outcomes after theirs flip, or not, against the ones before.
        for gone in (finished[30], finished[5], finished[-1]):
            assert await db.delete_run(gone[0])
            finished.remove(gone)
        await check(db, suite, cases, finished)


async def test_migration_11_counts_the_flips_of_the_history_before_it(tmp_path: Path) -> None:
    path = tmp_path / "aegisd.sqlite3"
    async with Database(path) as db:
        suite, cases, finished = await random_history(db)
        # The history as it was before migration 11.
        async with db.write() as conn:
            for statement in (
                "DROP INDEX case_history_case",
                "ALTER TABLE case_history DROP COLUMN flip",
                "ALTER TABLE case_history DROP COLUMN flip_url",
                "CREATE INDEX case_history_case "
                "ON case_history (project_id, suite_name, case_name, run_seq)",
                "DROP TRIGGER run_history_inserted",
                "DROP TRIGGER run_history_deleted",
                "DELETE FROM table_changes WHERE name = 'run_history'",
                "DELETE FROM schema_migrations WHERE version = 11",
            ):
                await conn.execute(statement)
    async with Database(path) as db:
        assert await db.schema_version() == 11
        await check(db, suite, cases, finished)


async def check(
    db: Database,
    suite: dict[str, Any],
    cases: list[dict[str, Any]],
    finished: Finished,
) -> None:
    """``suite``'s health agrees with ``expected`` over several windows and base URLs."""
    run_times = {row["id"]: row["created_at"] for row in (await db.list_runs(
        100, 0, project_id=None, suite_id=None, status=None))[0]}  # fmt: skip
    for window, base_url in [(100, None), (7, None), (10, OTHER), (1, BASE), (25, BASE)]:
        history = [
            run
            for run in finished
            if base_url is None or run[1].rstrip("/") == base_url.rstrip("/")
        ]
        health = await suite_health(db, suite, runs=window, base_url=base_url)
        assert [h.name for h in health] == [case["name"] for case in cases]
        for case, figures in zip(cases, health, strict=True):
            got = figures.model_dump(exclude={"case_id", "name", "type"})
            last = got.pop("last_failure")
            want = expected(case, history, window)
            want_last = want.pop("last_failure")
            assert got == want, (window, base_url, case["name"])
            if want_last is None:
                assert last is None
            else:
                assert (last["run_id"], last["classification"]) == want_last
                assert last["created_at"] == run_times[want_last[0]]
