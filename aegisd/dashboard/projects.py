"""Projects: the list, create, edit, delete (with confirmation), and a project's overview
with its latest crawl, runs and their pass-rate trend, suites and schedules."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from aegisd.api import crawls, projects, runs, schedules, suites
from aegisd.dashboard.forms import Form, FormField
from aegisd.dashboard.pages import PageRouter, call, page_number, redirect, render
from aegisd.dashboard.views import trend
from aegisd.envelope import PageQuery
from aegisd.errors import ValidationFailed
from aegisd.project_settings import CrawlDefaults
from aegisd.state import DB
from crawler.audits.models import AUDIT_CATEGORIES

pages = PageRouter()

_SETTINGS = (
    FormField("settings.max_pages"),
    FormField("settings.depth"),
    FormField("settings.include_patterns", "lines"),
    FormField("settings.exclude_patterns", "lines"),
    FormField("settings.respect_robots_txt", blank="null"),
    FormField("settings.headers", "headers"),
    FormField("settings.login", "json", blank="null"),
    FormField("settings.max_query_variants"),
    FormField("settings.audits", "choices"),
    FormField("settings.visual_checks", "checkbox"),
    FormField("settings.submit_post_forms", "checkbox"),
    FormField("settings.check_external_links", "checkbox"),
)
CREATE_FORM = Form((FormField("name"), FormField("base_url"), FormField("description"), *_SETTINGS))
# Editing: a blank description, login or robots.txt choice clears it; a blank number
# keeps the current one.
EDIT_FORM = Form(
    (FormField("name"), FormField("base_url"), FormField("description", blank="null"), *_SETTINGS)
)
_DEFAULTS = CrawlDefaults().model_dump()
_CHECKED = {
    name: _DEFAULTS[name]
    for name in ("audits", "visual_checks", "submit_post_forms", "check_external_links")
}
TREND_RUNS = 40


@pages.get("/")
async def project_list(request: web.Request) -> web.StreamResponse:
    query = PageQuery(page=page_number(request), limit=50)
    page = await call(request, projects.list_projects, query=query)
    ids = [project.id for project in page.items]
    db = request.app[DB]
    context = {
        "projects": page.items,
        "pagination": page,
        "latest_crawls": await db.latest_crawls(ids),
        "latest_runs": await db.latest_runs(ids),
    }
    return await render(request, "projects/list.html", context, nav="projects")


async def _form_page(
    request: web.Request,
    values: dict[str, Any],
    errors: dict[str, list[str]],
    project: dict[str, Any] | None = None,
    status: int = 200,
) -> web.Response:
    context = {
        "values": values,
        "errors": errors,
        "project": project,
        "defaults": _DEFAULTS,
        "audit_categories": AUDIT_CATEGORIES,
    }
    return await render(request, "projects/form.html", context, status=status, nav="projects")


@pages.get("/projects/new")
async def new_project(request: web.Request) -> web.StreamResponse:
    # Checkboxes start as the defaults are; number fields stay blank, with the default as hint.
    return await _form_page(request, CREATE_FORM.values_of({"settings": _CHECKED}), {})


@pages.post("/projects/new")
async def create_project(request: web.Request) -> web.StreamResponse:
    posted = await request.post()
    try:
        body = CREATE_FORM.validate(projects.ProjectCreate, posted)
        project = await call(request, projects.create_project, body=body)
    except ValidationFailed as failed:
        errors = CREATE_FORM.errors(failed)
        return await _form_page(request, CREATE_FORM.values(posted), errors, status=400)
    return redirect(f"/projects/{project.id}")


@pages.get("/projects/{project_id}")
async def project_overview(request: web.Request) -> web.StreamResponse:
    project_id = request.match_info["project_id"]
    project = await call(request, projects.get_project, project_id=project_id)
    crawl_page = await call(
        request, crawls.list_crawls, query=crawls.CrawlQuery(project_id=project_id, limit=5)
    )
    suite_page = await call(
        request, suites.list_suites, query=suites.SuiteQuery(project_id=project_id, limit=20)
    )
    run_page = await call(
        request, runs.list_runs, query=runs.RunQuery(project_id=project_id, limit=TREND_RUNS)
    )
    schedule_page = await call(
        request,
        schedules.list_schedules,
        query=schedules.ScheduleQuery(project_id=project_id, limit=50),
    )
    context = {
        "project": project,
        "crawls": crawl_page.items,
        "suites": suite_page.items,
        "runs": run_page.items[:10],
        "run_total": run_page.total,
        "trend": trend(run_page.items),
        "schedules": schedule_page.items,
    }
    return await render(request, "projects/overview.html", context, nav="projects")


@pages.get("/projects/{project_id}/edit")
async def edit_project(request: web.Request) -> web.StreamResponse:
    project_id = request.match_info["project_id"]
    project = await call(request, projects.get_project, project_id=project_id)
    values = EDIT_FORM.values_of(project.model_dump(mode="json"))
    return await _form_page(request, values, {}, project.model_dump(mode="json"))


@pages.post("/projects/{project_id}/edit")
async def update_project(request: web.Request) -> web.StreamResponse:
    project_id = request.match_info["project_id"]
    current = await call(request, projects.get_project, project_id=project_id)
    posted = await request.post()
    try:
        body = EDIT_FORM.validate(projects.ProjectUpdate, posted)
        await call(request, projects.update_project, project_id=project_id, body=body)
    except ValidationFailed as failed:
        errors = EDIT_FORM.errors(failed)
        values = EDIT_FORM.values(posted)
        return await _form_page(
            request, values, errors, current.model_dump(mode="json"), status=400
        )
    return redirect(f"/projects/{project_id}")


@pages.get("/projects/{project_id}/delete")
async def confirm_delete(request: web.Request) -> web.StreamResponse:
    project_id = request.match_info["project_id"]
    project = await call(request, projects.get_project, project_id=project_id)
    counts = {}
    for name, func, query in (
        ("crawls", crawls.list_crawls, crawls.CrawlQuery(project_id=project_id, limit=1)),
        ("suites", suites.list_suites, suites.SuiteQuery(project_id=project_id, limit=1)),
        ("runs", runs.list_runs, runs.RunQuery(project_id=project_id, limit=1)),
        (
            "schedules",
            schedules.list_schedules,
            schedules.ScheduleQuery(project_id=project_id, limit=1),
        ),
    ):
        counts[name] = (await call(request, func, query=query)).total
    context = {"project": project, "counts": counts}
    return await render(request, "projects/delete.html", context, nav="projects")


@pages.post("/projects/{project_id}/delete")
async def delete_project(request: web.Request) -> web.StreamResponse:
    await call(request, projects.delete_project, project_id=request.match_info["project_id"])
    return redirect("/")


@pages.post("/projects/{project_id}/crawl")
async def crawl_now(request: web.Request) -> web.StreamResponse:
    posted = await request.post()
    mode = posted.get("mode", "full")
    body = crawls.CrawlCreate(
        project_id=request.match_info["project_id"], mode="quick" if mode == "quick" else "full"
    )
    crawl = await call(request, crawls.create_crawl, body=body)
    return redirect(f"/crawls/{crawl.id}")
