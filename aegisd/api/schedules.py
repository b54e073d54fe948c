"""Schedules: runs of a suite or crawls of a project on a cron (DESIGN §3.4).

The rows are written through :class:`aegisd.scheduling.Scheduler`, which arms,
re-arms and drops their jobs as they change.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Annotated, Any, Literal

from aiohttp import web
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from aegisd.api.access import owned, visible_project
from aegisd.api.projects import Deleted, load_project
from aegisd.api.suites import load_suite
from aegisd.envelope import Page, PageQuery
from aegisd.errors import NotFound, ValidationFailed
from aegisd.routing import Router
from aegisd.scheduling import cron_trigger, next_fire, time_zone, utc_clock
from aegisd.state import DB, SCHEDULER
from aegisd.triggers import check_browser
from runner.browsers import BrowserName

router = Router()

Row = dict[str, Any]


def _check_cron(value: str) -> str:
    if next_fire(cron_trigger(value, "UTC"), utc_clock()) is None:
        raise ValueError("never fires: no date matches it")
    return " ".join(value.split())


def _check_time_zone(value: str) -> str:
    time_zone(value)
    return value


CronExpression = Annotated[
    str,
    AfterValidator(_check_cron),
    Field(description="5 fields: minute hour day-of-month month day-of-week (0 or 7 = Sunday)."),
]
TimeZoneName = Annotated[
    str, AfterValidator(_check_time_zone), Field(description="IANA name, e.g. Europe/Berlin.")
]


class ScheduleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Literal["run", "crawl"]
    suite_id: str | None = Field(None, description="Run schedules: the suite to run.")
    project_id: str | None = Field(None, description="Crawl schedules: the project to crawl.")
    cron: CronExpression
    timezone: TimeZoneName = "UTC"
    browser: BrowserName | None = Field(None, description="Run schedules; default chromium.")
    enabled: bool = True


class ScheduleUpdate(BaseModel):
    """Fields to change; the ``action`` stays."""

    model_config = ConfigDict(extra="forbid")

    suite_id: str | None = None
    project_id: str | None = None
    cron: CronExpression | None = None
    timezone: TimeZoneName | None = None
    browser: BrowserName | None = None
    enabled: bool | None = None


class ScheduleQuery(PageQuery):
    project_id: str | None = None


class Schedule(BaseModel):
    id: str
    action: Literal["run", "crawl"]
    suite_id: str | None
    project_id: str = Field(description="The project crawled, or the suite's project.")
    cron: str
    timezone: str
    browser: str
    enabled: bool
    next_run_at: str | None = Field(description="When it fires next; null when disabled.")
    last_run_at: str | None = Field(description="When it last started a run or crawl.")
    last_run_id: str | None = Field(description="The run (crawl, for crawl schedules) started.")
    skipped_count: int = Field(
        description="Fires that started nothing: the previous run or crawl was still queued "
        "or running, the fire was missed while the daemon was down, or queueing failed."
    )
    last_skipped_at: str | None
    last_skip_reason: str | None
    created_at: str
    updated_at: str


async def referenced(field: str, loading: Awaitable[Row]) -> Row:
    """The row a ``load_*`` call finds for an id given in a body: an unknown id is a 400
    naming ``field`` (one the key may not see stays a 403)."""
    try:
        return await loading
    except NotFound as exc:
        raise ValidationFailed.field(field, exc.message) from None


async def _target(request: web.Request, action: str, fields: Row) -> str:
    """Check the fields an ``action`` takes; the project the schedule belongs to."""
    needed, unused = ("suite_id", "project_id") if action == "run" else ("project_id", "suite_id")
    if fields.get(unused) is not None:
        raise ValidationFailed.field(unused, f"{action} schedules take {needed}, not {unused}")
    if fields.get(needed) is None:
        raise ValidationFailed.field(needed, f"required for {action} schedules")
    if action == "crawl":
        if fields["browser"] != "chromium":
            raise ValidationFailed.field("browser", "crawls always use chromium")
        project = await referenced("project_id", load_project(request, fields["project_id"]))
        return str(project["id"])
    check_browser(request.app, fields["browser"])
    suite = await referenced("suite_id", load_suite(request, fields["suite_id"]))
    return str(suite["project_id"])


async def load_schedule(request: web.Request, schedule_id: str) -> Row:
    """The schedule's row if it exists and the key may see it; 404/403 otherwise."""
    return owned(request, await request.app[DB].get_schedule(schedule_id), "schedule", schedule_id)


@router.get("/schedules")
async def list_schedules(request: web.Request, query: ScheduleQuery) -> Page[Schedule]:
    """List schedules, newest first; filter by project."""
    rows, total = await request.app[DB].list_schedules(
        query.size, query.offset, project_id=visible_project(request, query.project_id)
    )
    return Page([Schedule.model_validate(row) for row in rows], total, query)


@router.get("/schedules/{schedule_id}")
async def get_schedule(request: web.Request, schedule_id: str) -> Schedule:
    """Get one schedule."""
    return Schedule.model_validate(await load_schedule(request, schedule_id))


@router.post("/schedules", status=201)
async def create_schedule(request: web.Request, body: ScheduleCreate) -> Schedule:
    """Create a schedule that runs a suite or crawls a project on a cron."""
    fields = {**body.model_dump(), "browser": body.browser or "chromium"}
    fields["project_id"] = await _target(request, body.action, fields)
    return Schedule.model_validate(await request.app[SCHEDULER].create(fields))


@router.put("/schedules/{schedule_id}")
async def update_schedule(request: web.Request, schedule_id: str, body: ScheduleUpdate) -> Schedule:
    """Change some of a schedule's fields; its next fire is computed again."""
    current = await load_schedule(request, schedule_id)
    action = current["action"]
    target = "suite_id" if action == "run" else "project_id"
    changes = body.model_dump(exclude_none=True)
    fields = {target: current[target], "browser": current["browser"], **changes}
    changes["project_id"] = await _target(request, action, fields)
    row = await request.app[SCHEDULER].update(schedule_id, changes)
    if row is None:
        raise NotFound(f"schedule {schedule_id} not found")
    return Schedule.model_validate(row)


@router.delete("/schedules/{schedule_id}")
async def delete_schedule(request: web.Request, schedule_id: str) -> Deleted:
    """Delete a schedule; it fires no more."""
    await load_schedule(request, schedule_id)
    await request.app[SCHEDULER].delete(schedule_id)
    return Deleted(id=schedule_id)
