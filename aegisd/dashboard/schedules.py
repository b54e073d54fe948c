"""Schedules: the list with each one's next fire times, create, edit and delete.

A form picks what to do in one field, ``target``: ``suite:<id>`` runs a suite,
``project:<id>`` crawls a project; the API's ``action``, ``suite_id`` and
``project_id`` errors are shown there.
"""

from __future__ import annotations

import functools
import zoneinfo
from datetime import datetime
from typing import Any

from aiohttp import web

from aegisd.api import projects, schedules, suites
from aegisd.dashboard.forms import Form, FormField, Posted
from aegisd.dashboard.pages import PageRouter, call, redirect, render
from aegisd.envelope import PageQuery
from aegisd.errors import BrowserUnavailable, ValidationFailed
from aegisd.scheduling import cron_trigger, next_fire
from storage.ids import from_iso, to_iso

pages = PageRouter()

FORM = Form(
    (
        FormField("target", sent=False),
        FormField("cron"),
        FormField("timezone"),
        FormField("browser"),
        FormField("enabled", "checkbox"),
    ),
    aliases={"action": "target", "suite_id": "target", "project_id": "target"},
)
FIRES_SHOWN = 3
_TARGETS = {"suite": ("run", "suite_id"), "project": ("crawl", "project_id")}


@functools.cache
def time_zones() -> list[str]:
    """IANA time zone names, for the form's suggestions."""
    return sorted(zoneinfo.available_timezones())


def next_fires(schedule: Any, count: int = FIRES_SHOWN) -> list[str]:
    """The schedule's next ``count`` fire times (none when disabled)."""
    if not schedule.next_run_at:
        return []
    trigger = cron_trigger(schedule.cron, schedule.timezone)
    fires: list[datetime] = [from_iso(schedule.next_run_at)]
    while len(fires) < count:
        following = next_fire(trigger, fires[-1])
        if following is None:
            break
        fires.append(following)
    return [to_iso(fire) for fire in fires]


def _target_fields(posted: Posted) -> dict[str, str]:
    """The ``action`` and ``suite_id`` or ``project_id`` that the form's target picks."""
    kind, _, target_id = str(posted.get("target", "")).partition(":")
    if kind not in _TARGETS or not target_id:
        return {}
    action, field = _TARGETS[kind]
    return {"action": action, field: target_id}


async def _choices(request: web.Request) -> dict[str, Any]:
    suite_page = await call(request, suites.list_suites, query=suites.SuiteQuery(limit=100))
    project_page = await call(request, projects.list_projects, query=PageQuery(limit=100))
    return {"suites": suite_page.items, "projects": project_page.items, "zones": time_zones()}


async def _form_page(
    request: web.Request,
    values: dict[str, Any],
    errors: dict[str, list[str]],
    schedule: Any = None,
    status: int = 200,
) -> web.Response:
    context = {"values": values, "errors": errors, "schedule": schedule, **await _choices(request)}
    return await render(request, "schedules/form.html", context, status=status, nav="schedules")


@pages.get("/schedules")
async def schedule_list(request: web.Request) -> web.StreamResponse:
    listed = await call(request, schedules.list_schedules, query=schedules.ScheduleQuery(limit=100))
    choices = await _choices(request)
    names = {suite.id: suite.name for suite in choices["suites"]}
    names.update({project.id: project.name for project in choices["projects"]})
    context = {
        "schedules": [(schedule, next_fires(schedule)) for schedule in listed.items],
        "total": listed.total,
        "names": names,
    }
    return await render(request, "schedules/list.html", context, nav="schedules")


@pages.get("/schedules/new")
async def new_schedule(request: web.Request) -> web.StreamResponse:
    target = request.query.get("target", "")
    values = {
        "target": target,
        "cron": "0 6 * * *",
        "timezone": "UTC",
        "browser": "chromium",
        "enabled": True,
    }
    return await _form_page(request, values, {})


@pages.post("/schedules/new")
async def create_schedule(request: web.Request) -> web.StreamResponse:
    posted = await request.post()
    try:
        body = FORM.validate(schedules.ScheduleCreate, posted, **_target_fields(posted))
        await call(request, schedules.create_schedule, body=body)
    except ValidationFailed as failed:
        return await _form_page(request, FORM.values(posted), FORM.errors(failed), status=400)
    except BrowserUnavailable as unavailable:
        errors = {"browser": [unavailable.message]}
        return await _form_page(request, FORM.values(posted), errors, status=400)
    return redirect("/schedules")


@pages.get("/schedules/{schedule_id}/edit")
async def edit_schedule(request: web.Request) -> web.StreamResponse:
    schedule_id = request.match_info["schedule_id"]
    schedule = await call(request, schedules.get_schedule, schedule_id=schedule_id)
    target = (
        f"suite:{schedule.suite_id}"
        if schedule.action == "run"
        else f"project:{schedule.project_id}"
    )
    values = {**FORM.values_of(schedule.model_dump()), "target": target}
    return await _form_page(request, values, {}, schedule)


@pages.post("/schedules/{schedule_id}/edit")
async def update_schedule(request: web.Request) -> web.StreamResponse:
    schedule_id = request.match_info["schedule_id"]
    schedule = await call(request, schedules.get_schedule, schedule_id=schedule_id)
    posted = await request.post()
    target = _target_fields(posted)
    target.pop("action", None)
    try:
        body = FORM.validate(schedules.ScheduleUpdate, posted, **target)
        await call(request, schedules.update_schedule, schedule_id=schedule_id, body=body)
    except ValidationFailed as failed:
        errors = FORM.errors(failed)
        return await _form_page(request, FORM.values(posted), errors, schedule, status=400)
    except BrowserUnavailable as unavailable:
        errors = {"browser": [unavailable.message]}
        return await _form_page(request, FORM.values(posted), errors, schedule, status=400)
    return redirect("/schedules")


@pages.post("/schedules/{schedule_id}/delete")
async def delete_schedule(request: web.Request) -> web.StreamResponse:
    await call(request, schedules.delete_schedule, schedule_id=request.match_info["schedule_id"])
    return redirect("/schedules")
