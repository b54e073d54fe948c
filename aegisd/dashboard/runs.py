"""Runs: the list with its filters, and a run's page, failures first, with each case's
steps, error, screenshot and trace, live progress while it runs, and its downloads.

The run page is made of panels (:data:`PANELS`) and each case of sections
(:data:`CASE_SECTIONS`), one template each under ``runs/``: a feature adds one by
appending to the list. ``runs/_case_badges.html`` holds the badges beside a case's
name. The triage shows in the header (the counts per classification, each a filter),
as a badge on every classified case, as each case's history strip (its last runs
against the run's base URL, from the history the API's endpoints read), and, for a run
the site was down for, as one line above its folded cases.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, get_args

from aiohttp import web

from aegisd.api import projects, runs, suites
from aegisd.dashboard.crawls import Panel
from aegisd.dashboard.pages import PageRouter, call, page_number, redirect, render
from aegisd.dashboard.views import STRIP_RUNS
from aegisd.dashboard.visual import run_screenshots
from aegisd.envelope import PageQuery
from aegisd.errors import ValidationFailed
from aegisd.sse import ACTIVE, frame, stream_progress
from aegisd.state import DB
from aegisd.triage import site_down
from aegisd.views import RunStatus
from runner.results import CaseResult, failures_first
from runner.triage import CLASSIFICATIONS

pages = PageRouter()

RUNS_PER_PAGE = 25
RESULT_FILTERS = ("failed", "flaky", "passed", "skipped")
PANELS: list[Panel] = [
    Panel("visual", "Screenshots", "runs/_visual.html"),
    Panel("cases", "Cases", "runs/_cases.html"),
]
CASE_SECTIONS: list[str] = [
    "runs/_case_error.html",
    "runs/_case_history.html",
    "runs/_case_visual.html",
    "runs/_case_steps.html",
    "runs/_case_screenshot.html",
    "runs/_case_trace.html",
]


def _filters(request: web.Request) -> runs.RunQuery:
    given = {
        name: request.query[name]
        for name in ("project_id", "suite_id", "status")
        if request.query.get(name)
    }
    try:
        return runs.RunQuery.model_validate(
            {**given, "page": page_number(request), "limit": RUNS_PER_PAGE}
        )
    except ValueError as exc:
        raise ValidationFailed(f"bad filter in the address: {exc}") from None


@pages.get("/runs")
async def run_list(request: web.Request) -> web.StreamResponse:
    query = _filters(request)
    listed = await call(request, runs.list_runs, query=query)
    project_page = await call(request, projects.list_projects, query=PageQuery(limit=100))
    suite_page = await call(
        request,
        suites.list_suites,
        query=suites.SuiteQuery(project_id=query.project_id, limit=100),
    )
    context = {
        "runs": listed.items,
        "pagination": listed,
        "query": query,
        "projects": project_page.items,
        "names": {project.id: project.name for project in project_page.items},
        "suites": suite_page.items,
        "statuses": get_args(RunStatus),
        "filters": {
            name: value
            for name, value in (
                ("project_id", query.project_id),
                ("suite_id", query.suite_id),
                ("status", query.status),
            )
            if value
        },
    }
    return await render(request, "runs/list.html", context, nav="runs")


@pages.get("/runs/{run_id}")
async def run_page(request: web.Request) -> web.StreamResponse:
    run_id = request.match_info["run_id"]
    run = await runs.load_run(request, run_id)
    db = request.app[DB]
    results = [CaseResult.model_validate(result) for result in await db.run_results(run_id)]
    shown = request.query.get("status")
    classified = request.query.get("classification")
    counts = Counter(result.outcome for result in results)
    ordered = failures_first(results)
    if shown in RESULT_FILTERS:
        ordered = [result for result in ordered if result.outcome == shown]
    if classified in CLASSIFICATIONS:
        ordered = [result for result in ordered if result.classification == classified]
    siblings = await db.ci_runs(run["ci_run_id"] or run_id)
    histories = await db.latest_outcomes(
        run["project_id"],
        run["suite_name"],
        [result.name for result in ordered],
        STRIP_RUNS,
        base_url=run["base_url"],
    )
    project = await call(request, projects.get_project, project_id=run["project_id"])
    context: dict[str, Any] = {
        "run": run,
        "project": project,
        "results": ordered,
        "counts": counts,
        "shown": shown if shown in RESULT_FILTERS else None,
        "classified": classified if classified in CLASSIFICATIONS else None,
        "filters": RESULT_FILTERS,
        "active": run["status"] in ACTIVE,
        "site_down": run["status"] == "failed" and site_down(run),
        "histories": histories,
        "siblings": siblings if len(siblings) > 1 else [],
        "panels": PANELS,
        "case_sections": CASE_SECTIONS,
        "screenshots": await run_screenshots(request, run, results),
    }
    return await render(request, "runs/run.html", context, nav="runs")


def _final(run: dict[str, Any]) -> list[bytes]:
    counts = {name: run[name] for name in ("total", "passed", "failed", "skipped", "flaky")}
    return [frame("done", {"status": run["status"], "done": run["total"], **counts})]


@pages.get("/runs/{run_id}/events", stream=True)
async def run_events(request: web.Request) -> web.StreamResponse:
    """The run's progress: ``run_progress``, ``case_finished`` per case, then ``done``."""
    run_id = request.match_info["run_id"]
    run = await runs.load_run(request, run_id)
    return await stream_progress(
        request, run, lambda: request.app[DB].get_run(run_id), opening=lambda _: [], closing=_final
    )


@pages.post("/runs/{run_id}/cancel")
async def cancel_run(request: web.Request) -> web.StreamResponse:
    run_id = request.match_info["run_id"]
    await call(request, runs.cancel_run, run_id=run_id)
    return redirect(f"/runs/{run_id}")


@pages.get("/runs/{run_id}/artifacts/{name}")
async def artifact(request: web.Request) -> web.StreamResponse:
    """A screenshot (shown inline) or a trace (downloaded)."""
    name = request.match_info["name"]
    response: web.StreamResponse = await call(
        request, runs.run_artifact, run_id=request.match_info["run_id"], name=name
    )
    if name.endswith(".zip"):
        response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@pages.get("/runs/{run_id}/junit")
async def junit(request: web.Request) -> web.StreamResponse:
    run_id = request.match_info["run_id"]
    response: web.StreamResponse = await call(request, runs.run_junit, run_id=run_id)
    response.headers["Content-Disposition"] = f'attachment; filename="{run_id}-junit.xml"'
    return response


@pages.get("/runs/{run_id}/report")
async def report(request: web.Request) -> web.StreamResponse:
    """The self-contained HTML report, as the API serves it."""
    response: web.StreamResponse = await call(
        request, runs.run_report, run_id=request.match_info["run_id"]
    )
    # One file with its own styles and embedded screenshots, and nothing else.
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; img-src data:; style-src 'unsafe-inline'; frame-ancestors 'none'"
    )
    return response
