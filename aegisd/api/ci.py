"""The CI surface the public AegisRunner CLI speaks (DESIGN §3.5): plain JSON, no envelope.

One trigger over several suites starts one run per suite; the first run's id is
the CI run's id and the others carry it in ``ci_run_id``, so ``GET /ci/runs/:id``
also answers for any single run.
"""

from __future__ import annotations

from typing import Any, Literal, cast

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from aegisd.api.crawls import load_crawl
from aegisd.api.projects import load_project
from aegisd.api.suites import load_suite
from aegisd.envelope import json_response
from aegisd.errors import NotFound, ValidationFailed
from aegisd.links import dashboard_url
from aegisd.routing import Router
from aegisd.selection import STRATEGIES, Strategy, select_cases
from aegisd.sse import frame, stream_progress
from aegisd.state import CONFIG, DB, PRINCIPAL
from aegisd.triggers import queue_crawl, queue_run
from runner.browsers import BrowserName
from runner.results import Classification

router = Router()

FailureKind = Literal["assertion", "timeout", "navigation", "error"]
_FINAL = ("passed", "failed", "cancelled", "error")


class Trigger(BaseModel):
    model_config = ConfigDict(extra="ignore")

    suiteIds: list[str] | None = Field(None, description="Default: the latest crawl's suites.")
    browserProfile: BrowserName = "chromium"
    baseUrl: str | None = Field(None, description="Run against this deployment instead.")
    crawl: bool = Field(False, description="Start a crawl of the project instead of a run.")
    projectId: str | None = Field(None, description="For unbound keys: the project to use.")
    selectionStrategy: str = Field("all", description=", ".join(STRATEGIES))


class Triggered(BaseModel):
    id: str
    runType: str
    targetIds: list[str]
    dashboardUrl: str


class CrawlTriggered(BaseModel):
    status: Literal["crawl_started"]
    crawl_id: str
    message: str
    dashboardUrl: str


class CiCase(BaseModel):
    name: str
    suiteName: str
    status: Literal["passed", "failed", "skipped"]
    durationMs: int
    errorMessage: str | None
    failureType: Classification | None = Field(
        description="The triage of a failed case (or of one passed on a retry), once the run "
        "finished: regression, persistent, new, flaky or environment."
    )
    failureKind: FailureKind | None = Field(
        description="How a failed case failed: the step kind or a timeout."
    )


class CiRun(BaseModel):
    id: str
    status: str
    isFinished: bool
    passedCases: int
    failedCases: int
    skippedCases: int
    totalCases: int
    duration_ms: int
    createdAt: str
    exitCode: int | None = Field(description="0 passed, 1 failures, 2 error or cancelled.")
    cases: list[CiCase]


async def _project_for(request: web.Request, body: Trigger) -> dict[str, Any] | None:
    project_id = body.projectId or request[PRINCIPAL].project_id
    return None if project_id is None else await load_project(request, project_id)


async def _start_crawl(request: web.Request, body: Trigger) -> web.Response:
    try:
        project = await _project_for(request, body)
        if project is None:
            raise ValidationFailed.field(
                "projectId", "a crawl needs a project: use a project-bound key or send projectId"
            )
        crawl = await queue_crawl(request.app, project, start_url=body.baseUrl)
    except (ValidationFailed, NotFound) as exc:
        body_ = {"status": "crawl_failed", "error": exc.message}
        return json_response(body_, status=exc.status)
    config = request.app[CONFIG]
    started = CrawlTriggered(
        status="crawl_started",
        crawl_id=crawl["id"],
        message=f"crawl of {crawl['start_url']} queued",
        dashboardUrl=dashboard_url(config.base_url, "crawls", crawl["id"]),
    )
    return json_response(started.model_dump(), status=202)


@router.post("/ci/trigger", envelope=False, status=202)
async def ci_trigger(request: web.Request, body: Trigger) -> Triggered | web.Response:
    """Start runs of suites (or a crawl) for CI; answers 202 with the CI run's id."""
    if body.selectionStrategy not in STRATEGIES:
        raise ValidationFailed.field(
            "selectionStrategy",
            f"unknown strategy {body.selectionStrategy!r}; use one of {', '.join(STRATEGIES)}",
        )
    strategy = cast(Strategy, body.selectionStrategy)
    if body.crawl:
        return await _start_crawl(request, body)
    if body.suiteIds:
        suites = [await load_suite(request, suite_id) for suite_id in body.suiteIds]
    else:
        project = await _project_for(request, body)
        suites = await request.app[DB].latest_crawl_suites(project["id"] if project else None)
        if not suites:
            raise NotFound("no suiteIds given and no completed crawl with a suite to run")
    first: str | None = None
    for suite in suites:
        row = await queue_run(
            request.app,
            suite,
            trigger="ci",
            browser=body.browserProfile,
            base_url=body.baseUrl,
            case_ids=await select_cases(request.app[DB], suite, strategy),
            ci_run_id=first,
        )
        first = first or row["id"]
    assert first is not None
    return Triggered(
        id=first,
        runType="suite_run" if len(suites) == 1 else "multi_suite_run",
        targetIds=[suite["id"] for suite in suites],
        # The first run's page lists the other suites' runs of the trigger.
        dashboardUrl=dashboard_url(request.app[CONFIG].base_url, "runs", first),
    )


async def _ci_runs(request: web.Request, ci_run_id: str) -> list[dict[str, Any]]:
    runs = await request.app[DB].ci_runs(ci_run_id)
    if not runs:
        raise NotFound(f"run {ci_run_id} not found")
    for run in runs:
        request[PRINCIPAL].check_project(run["project_id"])
    return runs


def _failure_kind(error: dict[str, Any] | None) -> FailureKind | None:
    if error is None:
        return None
    message, action = error["message"].lower(), error.get("action") or ""
    if "timeout" in message or "timed out" in message:
        return "timeout"
    if action.startswith("expect_"):
        return "assertion"
    if action == "goto":
        return "navigation"
    return "error"


def _status(runs: list[dict[str, Any]]) -> tuple[str, int | None]:
    statuses = {run["status"] for run in runs}
    if not statuses <= set(_FINAL):
        return ("running" if statuses - {"queued"} else "queued"), None
    for final, code in (("error", 2), ("cancelled", 2), ("failed", 1)):
        if final in statuses:
            return final, code
    return "passed", 0


@router.get("/ci/runs/{ci_run_id}", envelope=False)
async def ci_run(request: web.Request, ci_run_id: str) -> CiRun:
    """A CI run's state, counts and cases across all its suites."""
    runs = await _ci_runs(request, ci_run_id)
    db = request.app[DB]
    cases = []
    for run in runs:
        for result in await db.run_results(run["id"]):
            cases.append(
                CiCase(
                    name=result["name"],
                    suiteName=run["suite_name"],
                    status=result["status"],
                    durationMs=result["duration"],
                    errorMessage=result["error"]["message"] if result["error"] else None,
                    failureType=result.get("classification"),
                    failureKind=_failure_kind(result["error"]),
                )
            )
    status, exit_code = _status(runs)
    return CiRun(
        id=ci_run_id,
        status=status,
        isFinished=exit_code is not None,
        passedCases=sum(run["passed"] for run in runs),
        failedCases=sum(run["failed"] for run in runs),
        skippedCases=sum(run["skipped"] for run in runs),
        totalCases=sum(run["total"] for run in runs),
        duration_ms=sum(run["duration"] or 0 for run in runs),
        createdAt=runs[0]["created_at"],
        exitCode=exit_code,
        cases=cases,
    )


def _final_frames(crawl: dict[str, Any]) -> list[bytes]:
    frames = [frame("crawl_progress", {"pagesFound": crawl["pages_found"]})]
    if crawl["suite_id"]:
        done = {"phase": "done", "phase_label": "Test suite ready", "progress": 100}
        frames.append(frame("ai_generation_progress", done))
    result = "completed" if crawl["status"] == "completed" else "failed"
    frames.append(frame("done", {"result": result, "status": crawl["status"]}))
    return frames


@router.get("/ci/crawls/{crawl_id}/events", envelope=False, content_type="text/event-stream")
async def ci_crawl_events(request: web.Request, crawl_id: str) -> web.StreamResponse:
    """Server-Sent Events of a crawl: progress, generation phases, then ``done``."""
    crawl = await load_crawl(request, crawl_id)
    return await stream_progress(
        request,
        crawl,
        lambda: request.app[DB].get_crawl(crawl_id),
        opening=lambda row: [frame("crawl_progress", {"pagesFound": row["pages_found"]})],
        closing=_final_frames,
    )
