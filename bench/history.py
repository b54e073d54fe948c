"""History benchmark: triage, case history, health and strategies on 10,000 runs.

Seeds ``--runs`` finished runs of one suite of ``--cases`` cases (every case fails
now and then, one in ten runs is against another base URL) through the storage
methods the run job uses, then times what reads the history: the lookup that
classifies a finishing run, a case's history (first and last page), the suite's
health (the default window and the largest, each asked for just after a run
finished: health keeps its window from one request to the next; and the largest read
whole, as the first request after a start reads it), and the last-5-runs strategy query.

The baseline, timed in the same rounds (alternating), answers the same questions
from the per-run result JSON of ``run_results``, as aegisd did before it kept a
history: the figure to compare is the ratio, not the milliseconds.

    .venv/bin/python -m bench.history [--runs 10000] [--cases 20] [--rounds 3] [--repeat 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aegisd.triage import HEALTH_RUNS, MAX_HEALTH_RUNS, suite_health
from runner.results import CaseResult
from runner.triage import FLIP_WINDOW
from storage import Database

BASE, OTHER = "http://shop.internal", "http://preview.internal"
Query = Callable[[], Awaitable[Any]]


class _History:
    """The project, the suite, and its runs finished one by one with random outcomes."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._chance = random.Random(7)
        self._number = 0

    async def seed(self, runs: int, cases: int) -> dict[str, Any]:
        """The project, the suite and ``runs`` finished runs of it; the suite."""
        project = await self.db.create_project("bench", BASE, None, {})
        definitions = [
            {"name": f"Page loads: /page/{n}", "type": "smoke", "steps": [
                {"action": "goto", "url": f"/page/{n}"}]}
            for n in range(cases)
        ]  # fmt: skip
        self.suite = await self.db.create_suite(
            project["id"], None, "Generated: shop", BASE, definitions
        )
        self._cases = await self.db.suite_cases(self.suite["id"])
        for _ in range(runs):
            await self.finish_one()
        return self.suite

    async def finish_one(self) -> None:
        """One more run, finished (one in ten against the other base URL)."""
        chance, suite, stored = self._chance, self.suite, self._cases
        base = OTHER if self._number % 10 == 9 else BASE
        self._number += 1
        row = await self.db.create_run(
            project_id=suite["project_id"], suite_id=suite["id"], suite_name=suite["name"],
            browser="chromium", base_url=base, retries=0, cases=stored, trigger="api",
        )  # fmt: skip
        results = [
            CaseResult(
                case_id=case["id"], name=case["name"],
                status="failed" if chance.random() < 0.05 else "passed",
                duration=chance.randint(200, 2000), attempts=1, steps=[],
            ).model_dump(mode="json")
            for case in stored
        ]  # fmt: skip
        failed = sum(result["status"] == "failed" for result in results)
        status = "failed" if failed else "passed"
        await self.db.finish_run(
            row["id"], status, results, failed=failed, passed=len(stored) - failed
        )


class _FirstRead:
    """Health through a ``Database`` opened anew before each call: the first request
    after the daemon starts, which reads the window whole."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._db: Database | None = None

    async def reopen(self) -> None:
        await self.close()
        self._db = Database(self._path)
        await self._db.open()

    async def health(self, suite: dict[str, Any], runs: int) -> None:
        assert self._db is not None
        await suite_health(self._db, suite, runs=runs)

    async def close(self) -> None:
        if self._db is not None:
            await self._db.close()


def _json_lineage() -> str:
    return (
        "FROM runs r JOIN run_results rr ON rr.run_id = r.id WHERE r.project_id = ? "
        "AND r.suite_name = ? AND r.status IN ('passed', 'failed')"
    )


class Baseline:
    """The same answers read from ``run_results``' JSON."""

    def __init__(self, db: Database, suite: dict[str, Any]) -> None:
        self.db, self.key = db, (suite["project_id"], suite["name"])

    async def previous_outcomes(self, names: list[str]) -> dict[str, list[str]]:
        found = {}
        for name in names:
            rows = await self.db.fetchall(
                f"SELECT json_extract(rr.data, '$.status') AS status {_json_lineage()} "
                "AND r.base_url = ? AND json_extract(rr.data, '$.name') = ? "
                "ORDER BY r.rowid DESC LIMIT ?",
                (*self.key, BASE, name, FLIP_WINDOW - 1),
            )
            found[name] = [row["status"] for row in rows]
        return found

    async def case_history(self, name: str, offset: int) -> list[Any]:
        where = f"{_json_lineage()} AND json_extract(rr.data, '$.name') = ?"
        await self.db.fetchval(f"SELECT COUNT(*) {where}", (*self.key, name))
        return await self.db.fetchall(
            f"SELECT r.id, rr.data {where} ORDER BY r.rowid DESC LIMIT 20 OFFSET ?",
            (*self.key, name, offset),
        )

    async def health(self, runs: int) -> dict[str, list[str]]:
        rows = await self.db.fetchall(
            f"SELECT rr.data {_json_lineage()} AND r.id IN (SELECT id FROM runs "
            "WHERE project_id = ? AND suite_name = ? AND status IN ('passed', 'failed') "
            "ORDER BY rowid DESC LIMIT ?) ORDER BY r.rowid",
            (*self.key, *self.key, runs),
        )
        by_name: dict[str, list[str]] = {}
        for row in rows:
            result = json.loads(row["data"])
            by_name.setdefault(result["name"], []).append(result["status"])
        return by_name

    async def failed_recently(self, runs: int) -> set[str]:
        rows = await self.db.fetchall(
            "SELECT DISTINCT json_extract(data, '$.name') AS name FROM run_results "
            "WHERE json_extract(data, '$.status') = 'failed' AND run_id IN (SELECT id FROM runs "
            "WHERE project_id = ? AND suite_name = ? AND status IN ('passed', 'failed') "
            "ORDER BY rowid DESC LIMIT ?)",
            (*self.key, runs),
        )
        return {row["name"] for row in rows}


async def _time(query: Query, repeat: int, before: Query | None) -> float:
    """Median milliseconds of ``repeat`` calls, each after an untimed call of ``before``."""
    times = []
    for _ in range(repeat):
        if before is not None:
            await before()
        started = time.perf_counter()
        await query()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


async def main(runs: int, cases: int, rounds: int, repeat: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        async with Database(Path(tmp) / "aegisd.sqlite3") as db:
            print(f"seeding {runs} runs of {cases} cases ...", flush=True)
            started = time.perf_counter()
            history = _History(db)
            suite = await history.seed(runs, cases)
            print(f"seeded in {time.perf_counter() - started:.1f} s (through finish_run)")
            baseline = Baseline(db, suite)
            first = _FirstRead(Path(tmp) / "aegisd.sqlite3")
            project, name = suite["project_id"], suite["name"]
            names = [case["name"] for case in await db.suite_cases(suite["id"])]
            last_page = (runs - 1) // 20 * 20
            checks: list[tuple[str, Query, Query] | tuple[str, Query, Query, Query]] = [
                ("triage lookup at a run's finish",
                 lambda: db.latest_outcomes(project, name, names, FLIP_WINDOW - 1, base_url=BASE,
                                            judged=True),
                 lambda: baseline.previous_outcomes(names)),
                ("case history, first page",
                 lambda: db.case_history(project, name, names[0], 20, 0),
                 lambda: baseline.case_history(names[0], 0)),
                ("case history, last page",
                 lambda: db.case_history(project, name, names[0], 20, last_page),
                 lambda: baseline.case_history(names[0], last_page)),
                # Health keeps its window: each of these follows a run that finished.
                (f"suite health, last {HEALTH_RUNS} runs",
                 lambda: suite_health(db, suite, runs=HEALTH_RUNS),
                 lambda: baseline.health(HEALTH_RUNS), history.finish_one),
                (f"suite health, last {MAX_HEALTH_RUNS} runs",
                 lambda: suite_health(db, suite, runs=MAX_HEALTH_RUNS),
                 lambda: baseline.health(MAX_HEALTH_RUNS), history.finish_one),
                ("  the same, read whole (first request)",
                 lambda: first.health(suite, MAX_HEALTH_RUNS),
                 lambda: baseline.health(MAX_HEALTH_RUNS), first.reopen),
                ("failed in the last 5 runs (strategies)",
                 lambda: db.failed_case_names(project, name, 5),
                 lambda: baseline.failed_recently(5)),
            ]  # fmt: skip
            best: dict[str, list[float]] = {check[0]: [1e9, 1e9] for check in checks}
            for _ in range(rounds):
                for label, ours, theirs, *before in checks:
                    for side, query in enumerate((ours, theirs)):
                        measured = await _time(query, repeat, *before or [None])
                        best[label][side] = min(best[label][side], measured)
            await first.close()
            print(f"\n{'query':<40} {'history':>11} {'JSON scan':>11} {'ratio':>7}")
            for label, (ours_ms, theirs_ms) in best.items():
                ratio = theirs_ms / ours_ms if ours_ms else float("inf")
                print(f"{label:<40} {ours_ms:>8.2f} ms {theirs_ms:>8.2f} ms {ratio:>6.1f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--cases", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=20)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.runs, arguments.cases, arguments.rounds, arguments.repeat))
