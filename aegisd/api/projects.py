"""Projects: a site under test and its crawl defaults (DESIGN §3.4)."""

from __future__ import annotations

import shutil
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from aegisd.envelope import Page, PageQuery
from aegisd.errors import NotFound, ValidationFailed
from aegisd.project_settings import CrawlDefaults, http_url
from aegisd.routing import Router
from aegisd.state import CONFIG, CRAWLS, DB, PRINCIPAL, RUNS

router = Router()


class ProjectCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    base_url: str
    description: str | None = Field(None, max_length=5000)
    settings: CrawlDefaults = Field(default_factory=CrawlDefaults)

    _base_url = field_validator("base_url")(http_url)


class ProjectUpdate(BaseModel):
    """Fields to change; ``settings`` keys given replace those keys only."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=200)
    base_url: str | None = None
    description: str | None = Field(None, max_length=5000)
    settings: dict[str, Any] | None = None

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str | None) -> str | None:
        return None if value is None else http_url(value)


class Project(BaseModel):
    id: str
    name: str
    base_url: str
    description: str | None
    settings: CrawlDefaults
    created_at: str
    updated_at: str


class Deleted(BaseModel):
    id: str
    deleted: bool = True


async def load_project(request: web.Request, project_id: str) -> dict[str, Any]:
    """The project's row if it exists and the key may see it; 404/403 otherwise."""
    row = await request.app[DB].get_project(project_id)
    if row is None:
        raise NotFound(f"project {project_id} not found")
    request[PRINCIPAL].check_project(project_id)
    return row


@router.get("/projects")
async def list_projects(request: web.Request, query: PageQuery) -> Page[Project]:
    """List projects, newest first."""
    rows, total = await request.app[DB].list_projects(
        query.size, query.offset, request[PRINCIPAL].project_id
    )
    return Page([Project.model_validate(row) for row in rows], total, query)


@router.get("/projects/{project_id}")
async def get_project(request: web.Request, project_id: str) -> Project:
    """Get one project."""
    return Project.model_validate(await load_project(request, project_id))


@router.post("/projects", status=201)
async def create_project(request: web.Request, body: ProjectCreate) -> Project:
    """Create a project."""
    request[PRINCIPAL].check_project(None)
    row = await request.app[DB].create_project(
        body.name, body.base_url, body.description, body.settings.model_dump()
    )
    return Project.model_validate(row)


@router.put("/projects/{project_id}")
async def update_project(request: web.Request, project_id: str, body: ProjectUpdate) -> Project:
    """Change some of a project's fields."""
    current = await load_project(request, project_id)
    changes = body.model_dump(exclude_unset=True, exclude={"settings"})
    if body.settings is not None:
        merged = {**current["settings"], **body.settings}
        changes["settings"] = _validated_settings(merged).model_dump()
    row = await request.app[DB].update_project(project_id, changes)
    if row is None:
        raise NotFound(f"project {project_id} not found")
    return Project.model_validate(row)


def _validated_settings(settings: dict[str, Any]) -> CrawlDefaults:
    try:
        return CrawlDefaults.model_validate(settings)
    except ValidationError as exc:
        raise ValidationFailed.from_pydantic(exc, "settings") from None


@router.delete("/projects/{project_id}")
async def delete_project(request: web.Request, project_id: str) -> Deleted:
    """Delete a project with its crawls, suites, runs, schedules and files."""
    await load_project(request, project_id)
    db, config = request.app[DB], request.app[CONFIG]
    for table, queue in (("crawls", request.app[CRAWLS]), ("runs", request.app[RUNS])):
        for job_id in await db.running_job_ids(table, project_id):
            await queue.cancel(job_id)
    run_ids = await db.project_run_ids(project_id)
    await db.delete_project(project_id)
    for run_id in run_ids:
        shutil.rmtree(config.artifacts_dir(run_id), ignore_errors=True)
    shutil.rmtree(config.baselines_dir(project_id), ignore_errors=True)
    return Deleted(id=project_id)
