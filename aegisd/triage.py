"""History at work: classifying a finishing run's results, and a suite's health.

The run job calls :func:`triage_run` before it stores a run's final results; the API
and the dashboard read :func:`suite_health` and ``Database.case_history``. Both read
the history of :mod:`storage.history` (a suite's history is its project's runs under
the suite's name, cases matched by name).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel

from runner.results import CaseResult
from runner.triage import FLIP_WINDOW, Triage, site_was_down, triage
from storage import Database

HEALTH_RUNS = 100
"""How many of the suite's last finished runs health covers by default."""
MAX_HEALTH_RUNS = 1000

Row = dict[str, Any]
HealthKey = tuple[str, int, str | None]
"""A suite's id, how many runs its health covers and the base URL they ran against."""


class LastFailure(BaseModel):
    run_id: str
    created_at: str
    classification: str | None


class CaseHealth(BaseModel):
    """How one case of a suite fared over the suite's last runs."""

    case_id: str
    name: str
    type: str
    runs: int
    passed: int
    failed: int
    flaky: int
    """Runs it passed only on a retry."""
    pass_rate: float | None
    """``passed / runs``; ``None`` when it did not run."""
    flips: int
    """Times its outcome changed from one run to the next (``environment`` ones left out)."""
    last_status: str | None
    median_duration: int | None
    last_failure: LastFailure | None
    """Its last failure in the whole history (not only the runs counted)."""


def site_down(run: Row) -> bool:
    """Whether the site was down for the whole finished ``run`` (a run row, or the run as
    the API and webhook events show it): its ``error`` then says so in one line."""
    environment = (run.get("classifications") or {}).get("environment", 0)
    return site_was_down(run["passed"], run["failed"], environment)


async def triage_run(db: Database, row: Row, results: Sequence[CaseResult]) -> Triage:
    """Classify the results of the run ``row`` against its suite's history."""
    failed = [result.name for result in results if result.status == "failed"]
    previous = await db.latest_outcomes(
        row["project_id"],
        row["suite_name"],
        failed,
        FLIP_WINDOW - 1,
        base_url=row["base_url"],
        judged=True,
    )
    return triage(
        results,
        {name: [outcome["status"] for outcome in rows] for name, rows in previous.items()},
    )


def _health(case: Row, outcomes: Row | None, last_failure: Row | None) -> CaseHealth:
    runs = outcomes["runs"] if outcomes else 0
    passed = outcomes["passed"] if outcomes else 0
    return CaseHealth(
        case_id=case["id"],
        name=case["name"],
        type=case.get("type", "custom"),
        runs=runs,
        passed=passed,
        failed=runs - passed,
        flaky=outcomes["flaky"] if outcomes else 0,
        pass_rate=round(passed / runs, 4) if outcomes else None,
        flips=outcomes["flips"] if outcomes else 0,
        last_status=outcomes["last_status"] if outcomes else None,
        median_duration=round(outcomes["median_duration"]) if outcomes else None,
        last_failure=LastFailure.model_validate(last_failure) if last_failure else None,
    )


async def suite_health(
    db: Database, suite: Row, *, runs: int = HEALTH_RUNS, base_url: str | None = None
) -> list[CaseHealth]:
    """Health of each of ``suite``'s cases (in suite order) over its last ``runs`` finished
    runs (against ``base_url``, if given)."""
    project_id, name = suite["project_id"], suite["name"]
    cases = await db.suite_cases(suite["id"])
    names = [case["name"] for case in cases]
    outcomes = await db.case_outcomes(project_id, name, names, runs, base_url=base_url)
    failures = await db.last_failures(project_id, name, names, base_url=base_url)
    return [_health(case, outcomes.get(case["name"]), failures.get(case["name"])) for case in cases]


def flakiness(health: CaseHealth) -> tuple[int, int, float]:
    """Sort key putting the flakiest first: most flips, most passes on a retry, then the
    lowest pass rate (cases that did not run last)."""
    return (-health.flips, -health.flaky, 2.0 if health.pass_rate is None else health.pass_rate)
