"""Test runs: execute a suite in a browser; results, artifacts, JUnit and HTML reports."""

from __future__ import annotations

import asyncio
import re
import shutil
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from aegisd.api.access import cancel_job, owned, visible_project
from aegisd.api.projects import Deleted
from aegisd.api.suites import Baseline, baseline_view, load_suite
from aegisd.baselines import approve
from aegisd.config import Config
from aegisd.dashboard.assets import stylesheet
from aegisd.envelope import Page, PageQuery
from aegisd.errors import Conflict, NotFound
from aegisd.routing import Router
from aegisd.state import CONFIG, DB, LINKS, RUNS
from aegisd.triggers import queue_run
from aegisd.views import Run, RunStatus, run_view
from runner.browsers import BrowserName
from runner.junit import render_junit
from runner.report import render_report
from runner.results import CaseError, CaseResult, Classification, StepResult, VisualStatus
from storage.ids import from_iso

router = Router()

_ARTIFACT_NAME = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]*$")


class RunCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    suite_id: str
    browser: BrowserName = "chromium"
    base_url: str | None = Field(None, description="Run against another deployment.")
    retries: int | None = Field(None, ge=0, le=3, description="Default: runner.retries.")
    case_ids: list[str] | None = Field(None, min_length=1, description="Run only these cases.")


class RunQuery(PageQuery):
    suite_id: str | None = None
    project_id: str | None = None
    status: RunStatus | None = None


class RunVisualCheck(BaseModel):
    name: str
    status: VisualStatus = Field(
        description="matched, differs, or new (there was no baseline: this became it)."
    )
    diff_pixels: int
    diff_ratio: float = Field(description="diff_pixels over the screenshot's pixels.")
    expected: str | None = Field(description="Artifact URL of the baseline as compared.")
    actual: str | None = Field(description="Artifact URL of the screenshot taken.")
    diff: str | None = Field(description="Artifact URL of the diff (differences in red).")


class RunCaseResult(BaseModel):
    case_id: str
    name: str
    status: Literal["passed", "failed", "skipped"]
    duration: int
    attempts: int
    flaky: bool
    error: CaseError | None
    classification: Classification | None = Field(
        None, description="Of a failed case, or one passed on a retry, once the run finished."
    )
    skip_reason: str | None
    screenshot: str | None = Field(description="Artifact URL of the screenshot, if kept.")
    trace: str | None = Field(description="Artifact URL of the Playwright trace, if kept.")
    steps: list[StepResult]
    visual: list[RunVisualCheck] = Field(description="Each expect_screenshot step's outcome.")


class ApproveBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    names: list[str] | None = Field(
        None, min_length=1, description="The screenshots to approve; all when absent."
    )


class RunDetail(Run):
    results: list[RunCaseResult]


def run_url(config: Config, run_id: str) -> str:
    """The run's absolute API URL."""
    return f"{config.base_url}/v1/runs/{run_id}"


async def load_run(request: web.Request, run_id: str) -> dict[str, Any]:
    """The run's row if it exists and the key may see it; 404/403 otherwise."""
    return owned(request, await request.app[DB].get_run(run_id), "run", run_id)


def _results(
    request: web.Request, run_id: str, stored: list[dict[str, Any]]
) -> list[RunCaseResult]:
    base = run_url(request.app[CONFIG], run_id) + "/artifacts/"

    def urls(item: dict[str, Any], *keys: str) -> dict[str, Any]:
        return {**item, **{key: item[key] and base + item[key] for key in keys}}

    return [
        RunCaseResult.model_validate(
            {
                **urls(result, "screenshot", "trace"),
                "visual": [
                    urls(check, "expected", "actual", "diff") for check in result.get("visual", [])
                ],
            }
        )
        for result in stored
    ]


@router.get("/runs", cached_on="runs")
async def list_runs(request: web.Request, query: RunQuery) -> Page[Run]:
    """List test runs, newest first; filter by suite, project and status."""
    rows, total = await request.app[DB].list_runs(
        query.size,
        query.offset,
        project_id=visible_project(request, query.project_id),
        suite_id=query.suite_id,
        status=query.status,
    )
    return Page(
        [run_view(request.app[CONFIG], request.app[LINKS], row) for row in rows], total, query
    )


@router.get("/runs/{run_id}")
async def get_run(request: web.Request, run_id: str) -> RunDetail:
    """Get a run with each case's result."""
    row = await load_run(request, run_id)
    results = _results(request, run_id, await request.app[DB].run_results(run_id))
    return RunDetail.model_validate(
        {**run_view(request.app[CONFIG], request.app[LINKS], row), "results": results}
    )


@router.post("/runs", status=201)
async def create_run(request: web.Request, body: RunCreate) -> Run:
    """Queue a run of a suite in a browser."""
    suite = await load_suite(request, body.suite_id)
    row = await queue_run(
        request.app,
        suite,
        trigger="api",
        browser=body.browser,
        base_url=body.base_url,
        retries=body.retries,
        case_ids=body.case_ids,
    )
    return Run.model_validate(run_view(request.app[CONFIG], request.app[LINKS], row))


@router.post("/runs/{run_id}/cancel")
async def cancel_run(request: web.Request, run_id: str) -> Run:
    """Cancel a queued or running run; cases not finished are reported skipped."""
    await cancel_job(request, "runs", request.app[RUNS], lambda: load_run(request, run_id))
    row = await load_run(request, run_id)
    return Run.model_validate(run_view(request.app[CONFIG], request.app[LINKS], row))


@router.delete("/runs/{run_id}")
async def delete_run(request: web.Request, run_id: str) -> Deleted:
    """Delete a finished run with its results and artifacts."""
    row = await load_run(request, run_id)
    if row["status"] in ("queued", "running"):
        raise Conflict(f"run {run_id} is {row['status']}: cancel it first")
    await request.app[DB].delete_run(run_id)
    shutil.rmtree(request.app[CONFIG].artifacts_dir(run_id), ignore_errors=True)
    return Deleted(id=run_id)


async def _stored_results(
    request: web.Request, run_id: str
) -> tuple[dict[str, Any], list[CaseResult]]:
    row = await load_run(request, run_id)
    stored = await request.app[DB].run_results(run_id)
    return row, [CaseResult.model_validate(result) for result in stored]


@router.post("/runs/{run_id}/results/{case_id}/approve")
async def approve_result(
    request: web.Request, run_id: str, case_id: str, body: ApproveBody | None
) -> list[Baseline]:
    """Make a case result's screenshots the baselines: those named, or all it took."""
    row, results = await _stored_results(request, run_id)
    result = next((result for result in results if result.case_id == case_id), None)
    if result is None:
        raise NotFound(f"run {run_id} has no result for case {case_id}")
    config = request.app[CONFIG]
    approved = await approve(
        request.app[DB], config, row, result, None if body is None else body.names
    )
    return [Baseline.model_validate(baseline_view(config, baseline)) for baseline in approved]


@router.get("/runs/{run_id}/junit", content_type="application/xml")
async def run_junit(request: web.Request, run_id: str) -> web.Response:
    """The run's results as JUnit XML."""
    row, results = await _stored_results(request, run_id)
    started = from_iso(row["started_at"]) if row["started_at"] else None
    xml = await asyncio.to_thread(
        render_junit, results, suite_name=row["suite_name"], timestamp=started
    )
    return web.Response(text=xml, content_type="application/xml")


@router.get("/runs/{run_id}/report", content_type="text/html", shareable=True)
async def run_report(request: web.Request, run_id: str) -> web.Response:
    """The run as one self-contained HTML page, screenshots embedded."""
    row, results = await _stored_results(request, run_id)
    details = {
        "Run": row["id"],
        "Status": row["status"],
        "Suite": row["suite_name"],
        "Base URL": row["base_url"],
        "Browser": row["browser"],
        "Started": row["started_at"] or "-",
    }
    # Reading and embedding every screenshot: off the event loop.
    html = await asyncio.to_thread(
        render_report,
        results,
        title=f"{row['suite_name']}: {row['status']}",
        artifacts_dir=request.app[CONFIG].artifacts_dir(run_id),
        stylesheet=stylesheet(),
        details=details,
        artifact_href=lambda name: f"artifacts/{name}",
        notice=row["error"],
    )
    return web.Response(text=html, content_type="text/html")


@router.get("/runs/{run_id}/artifacts/{name}", content_type="application/octet-stream")
async def run_artifact(request: web.Request, run_id: str, name: str) -> web.FileResponse:
    """A screenshot or trace of the run."""
    await load_run(request, run_id)
    directory = request.app[CONFIG].artifacts_dir(run_id).resolve()
    path = (directory / name).resolve()
    if not _ARTIFACT_NAME.match(name) or path.parent != directory or not path.is_file():
        raise NotFound(f"artifact {name} of run {run_id} not found")
    return web.FileResponse(path)
