"""Visual checks on the dashboard (DESIGN §8): a run's differing screenshots, approving
them one at a time or all at once, and a suite's baselines with their images.

The run page's ``runs/_visual.html`` panel (every screenshot of the run, Approve
all) and ``runs/_case_visual.html`` case section (expected, actual and diff side by
side, a slider where the script runs, Approve) read the :class:`RunScreenshots`
that :func:`run_screenshots` makes. Approving goes through the API's
``POST /runs/:id/results/:case_id/approve``, so it takes a write key and follows
the API's rules; the whole run's button approves each differing screenshot not
approved yet. The suite page's ``suites/_baselines.html`` lists the baselines.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from aegisd.api import runs, suites
from aegisd.dashboard.pages import PageRouter, call, check_scope, page_number, redirect
from aegisd.errors import NotFound
from aegisd.state import DB
from runner.results import CaseResult, VisualCheck, VisualStatus
from runner.screenshots import VIEWPORT_NAME

pages = PageRouter()

BASELINES_PER_PAGE = 50


@dataclass(frozen=True)
class Differing:
    """A screenshot of the run that differs from its baseline; ``approved`` once the
    baseline is this screenshot."""

    result: CaseResult
    check: VisualCheck
    approved: bool


@dataclass(frozen=True)
class RunScreenshots:
    """What the run's screenshot checks found."""

    counts: Counter[VisualStatus]
    """Checks by status: ``matched``, ``differs``, ``new``."""
    differing: list[Differing]
    suite_gone: bool
    """The run's suite was deleted: its screenshots have no baselines to become."""

    @property
    def pending(self) -> list[Differing]:
        """The differing screenshots not approved yet."""
        return [shot for shot in self.differing if not shot.approved]

    def approved(self, case_id: str, name: str) -> bool:
        return any(
            shot.approved and shot.result.case_id == case_id and shot.check.name == name
            for shot in self.differing
        )


async def run_screenshots(
    request: web.Request, run: dict[str, Any], results: Sequence[CaseResult]
) -> RunScreenshots:
    """The screenshots of ``run`` (all its ``results``), and which are approved: their
    case's baseline now comes from this run."""
    counts = Counter(check.status for result in results for check in result.visual)
    found = [
        (result, check)
        for result in results
        for check in result.visual
        if check.status == "differs"
    ]
    approved: set[tuple[str, str]] = set()
    suite_gone = run["suite_id"] is None
    for case_id in dict.fromkeys(result.case_id for result, _ in found):
        if suite_gone:
            break
        query = suites.BaselineQuery(case_id=case_id, browser=run["browser"], limit=100)
        try:
            listed = await call(
                request, suites.list_baselines, suite_id=run["suite_id"], query=query
            )
        except NotFound:
            suite_gone = True
            break
        approved.update(
            (baseline.case_id, baseline.name)
            for baseline in listed.items
            if baseline.approved_from_run == run["id"] and baseline.viewport == VIEWPORT_NAME
        )
    differing = [
        Differing(result, check, (result.case_id, check.name) in approved)
        for result, check in found
    ]
    return RunScreenshots(counts, differing, suite_gone)


@pages.post("/runs/{run_id}/results/{case_id}/approve")
async def approve_screenshot(request: web.Request) -> web.StreamResponse:
    """Approve one screenshot (the form's ``name``) of a case result, or all it took."""
    run_id, case_id = request.match_info["run_id"], request.match_info["case_id"]
    name = (await request.post()).get("name")
    body = runs.ApproveBody(names=[name] if isinstance(name, str) and name else None)
    await call(request, runs.approve_result, run_id=run_id, case_id=case_id, body=body)
    return redirect(f"/runs/{run_id}#{case_id}")


@pages.post("/runs/{run_id}/approve")
async def approve_run(request: web.Request) -> web.StreamResponse:
    """Approve every differing screenshot of the run not approved yet."""
    run_id = request.match_info["run_id"]
    check_scope(request, runs.approve_result)
    run = await runs.load_run(request, run_id)
    stored = await request.app[DB].run_results(run_id)
    shots = await run_screenshots(request, run, [CaseResult.model_validate(r) for r in stored])
    names: dict[str, list[str]] = {}
    for shot in shots.pending:
        names.setdefault(shot.result.case_id, []).append(shot.check.name)
    for case_id, case_names in names.items():
        body = runs.ApproveBody(names=case_names)
        await call(request, runs.approve_result, run_id=run_id, case_id=case_id, body=body)
    return redirect(f"/runs/{run_id}#visual")


@pages.get("/suites/{suite_id}/baselines/{baseline_id}/image")
async def baseline_image(request: web.Request) -> web.StreamResponse:
    response: web.StreamResponse = await call(
        request,
        suites.baseline_image,
        suite_id=request.match_info["suite_id"],
        baseline_id=request.match_info["baseline_id"],
    )
    return response


@pages.post("/suites/{suite_id}/baselines/{baseline_id}/delete")
async def delete_baseline(request: web.Request) -> web.StreamResponse:
    suite_id = request.match_info["suite_id"]
    baseline_id = request.match_info["baseline_id"]
    await call(request, suites.delete_baseline, suite_id=suite_id, baseline_id=baseline_id)
    return redirect(f"/suites/{suite_id}#baselines")


async def suite_baselines(request: web.Request, suite_id: str) -> Any:
    """A page of the suite's baselines, as the API lists them (``page`` of the address)."""
    query = suites.BaselineQuery(page=page_number(request), limit=BASELINES_PER_PAGE)
    return await call(request, suites.list_baselines, suite_id=suite_id, query=query)
