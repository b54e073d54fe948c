"""A suite's pages: its cases and their steps in plain words, each with its history
strip, turning cases on and off, running it, its baseline screenshots
(:mod:`aegisd.dashboard.visual`), and the Playwright exports; and its health tab, the
API's health of each case (the flakiest first) with their strips."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from aegisd.api import projects, runs, suites
from aegisd.dashboard.forms import Form, FormField
from aegisd.dashboard.pages import PageRouter, call, page_number, redirect, render
from aegisd.dashboard.views import STRIP_RUNS
from aegisd.dashboard.visual import suite_baselines
from aegisd.errors import BrowserUnavailable, ValidationFailed
from aegisd.state import DB
from aegisd.triage import HEALTH_RUNS, MAX_HEALTH_RUNS
from runner.steps import Case, describe

pages = PageRouter()

RUN_FORM = Form((FormField("browser"), FormField("base_url"), FormField("retries")))
RECENT_RUNS = 10
HEALTH_PER_PAGE = 50
HEALTH_WINDOWS = sorted({20, HEALTH_RUNS, 500, MAX_HEALTH_RUNS})
"""The choices of how many of the suite's last runs health covers."""


def described(case: Case) -> list[str]:
    """The case's steps in plain words: ``go to /about``, ``expect title "About us"``."""
    return [describe(step) for step in case.steps]


async def _suite_page(
    request: web.Request,
    values: dict[str, Any] | None = None,
    errors: dict[str, list[str]] | None = None,
    status: int = 200,
) -> web.Response:
    suite_id = request.match_info["suite_id"]
    suite = await call(request, suites.get_suite, suite_id=suite_id)
    project = await call(request, projects.get_project, project_id=suite.project_id)
    recent = await call(
        request, runs.list_runs, query=runs.RunQuery(suite_id=suite_id, limit=RECENT_RUNS)
    )
    names = [case.name for case in suite.cases]
    histories = await request.app[DB].latest_outcomes(
        suite.project_id, suite.name, names, STRIP_RUNS
    )
    context = {
        "suite": suite,
        "project": project,
        "tab": "cases",
        "cases": [(case, described(case)) for case in suite.cases],
        "enabled_count": sum(case.enabled for case in suite.cases),
        "histories": histories,
        "runs": recent.items,
        "baselines": await suite_baselines(request, suite_id),
        "case_names": {case.id: case.name for case in suite.cases},
        "values": values or {"browser": "chromium", "base_url": "", "retries": ""},
        "errors": errors or {},
    }
    return await render(request, "suites/suite.html", context, status=status, nav="projects")


@pages.get("/suites/{suite_id}")
async def suite_page(request: web.Request) -> web.StreamResponse:
    return await _suite_page(request)


def _health_query(request: web.Request) -> suites.HealthQuery:
    given = {
        name: request.query[name]
        for name in ("runs", "base_url", "sort")
        if request.query.get(name)
    }
    try:
        return suites.HealthQuery.model_validate(
            {"sort": "flakiness", **given, "page": page_number(request), "limit": HEALTH_PER_PAGE}
        )
    except ValueError as exc:
        raise ValidationFailed(f"bad health option in the address: {exc}") from None


@pages.get("/suites/{suite_id}/health")
async def health_page(request: web.Request) -> web.StreamResponse:
    """Each case's runs, pass rate, flips, last failure and median duration, as
    ``GET /v1/suites/:id/health`` answers them, with its history strip."""
    suite_id = request.match_info["suite_id"]
    query = _health_query(request)
    suite = await call(request, suites.get_suite, suite_id=suite_id)
    project = await call(request, projects.get_project, project_id=suite.project_id)
    health = await call(request, suites.get_suite_health, suite_id=suite_id, query=query)
    histories = await request.app[DB].latest_outcomes(
        suite.project_id,
        suite.name,
        [case.name for case in health.items],
        STRIP_RUNS,
        base_url=query.base_url,
    )
    options = {"runs": str(query.runs), "sort": query.sort, "base_url": query.base_url or ""}
    shown = {
        name: value
        for name, value in options.items()
        if value and value != {"runs": str(HEALTH_RUNS), "sort": "flakiness"}.get(name)
    }
    context = {
        "suite": suite,
        "project": project,
        "tab": "health",
        "health": health.items,
        "pagination": health,
        "query": query,
        "options": shown,
        "windows": HEALTH_WINDOWS,
        "histories": histories,
    }
    return await render(request, "suites/health.html", context, nav="projects")


@pages.post("/suites/{suite_id}/run")
async def run_suite(request: web.Request) -> web.StreamResponse:
    posted = await request.post()
    suite_id = request.match_info["suite_id"]
    try:
        body = RUN_FORM.validate(runs.RunCreate, posted, suite_id=suite_id)
        run = await call(request, runs.create_run, body=body)
    except ValidationFailed as failed:
        errors = RUN_FORM.errors(failed)
        return await _suite_page(request, RUN_FORM.values(posted), errors, status=400)
    except BrowserUnavailable as unavailable:
        errors = {"browser": [unavailable.message]}
        return await _suite_page(request, RUN_FORM.values(posted), errors, status=400)
    return redirect(f"/runs/{run.id}")


@pages.post("/suites/{suite_id}/cases/{case_id}")
async def switch_case(request: web.Request) -> web.StreamResponse:
    suite_id, case_id = request.match_info["suite_id"], request.match_info["case_id"]
    posted = await request.post()
    body = suites.CaseUpdate(enabled=posted.get("enabled") == "true")
    await call(request, suites.update_case, suite_id=suite_id, case_id=case_id, body=body)
    return redirect(f"/suites/{suite_id}#{case_id}")


@pages.get("/suites/{suite_id}/export")
async def export_suite(request: web.Request) -> web.StreamResponse:
    language = "python" if request.query.get("language") == "python" else "typescript"
    export = "zip" if request.query.get("format") == "zip" else "code"
    query = suites.ExportQuery(language=language, format=export, download=True)
    response: web.StreamResponse = await call(
        request, suites.export_suite, suite_id=request.match_info["suite_id"], query=query
    )
    return response
