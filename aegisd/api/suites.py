"""Test suites: generated from crawls or written by hand; exported as Playwright code."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from aegisd.api.access import owned, visible_project
from aegisd.api.projects import Deleted, http_url, load_project, project_login
from aegisd.envelope import Page, PageQuery
from aegisd.errors import ValidationFailed
from aegisd.routing import Router
from aegisd.state import DB
from crawler.notes import GenerationNotes, PageNotes
from runner import export_python, export_typescript
from runner.export_common import ExportedFile, Language
from runner.steps import Case

router = Router()

_EXPORTERS = {"typescript": export_typescript.export_suite, "python": export_python.export_suite}


class SuiteQuery(PageQuery):
    project_id: str | None = None


class SuiteCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    project_id: str
    name: str = Field(min_length=1, max_length=200)
    base_url: str | None = Field(None, description="Default: the project's base_url.")
    cases: list[Case] = Field(min_length=1, max_length=5000)


class ExportQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    language: Language = "typescript"
    download: bool = False


class Suite(BaseModel):
    id: str
    project_id: str
    crawl_id: str | None
    name: str
    base_url: str
    case_count: int
    created_at: str
    updated_at: str


class CaseGeneration(BaseModel):
    """Why a generated case was made."""

    case_id: str
    name: str
    why: str


class SuiteGeneration(BaseModel):
    """A generated suite's notes: per case why it was made, per page what was left out."""

    cases: list[CaseGeneration]
    pages: list[PageNotes]


class SuiteDetail(Suite):
    cases: list[Case]
    generation: SuiteGeneration | None = Field(
        None,
        description=(
            "Generated suites: why each case was made, and per page the assertions "
            "left out with the reason. null for suites written by hand."
        ),
    )


async def load_suite(request: web.Request, suite_id: str) -> dict[str, Any]:
    """The suite's row if it exists and the key may see it; 404/403 otherwise."""
    return owned(request, await request.app[DB].get_suite(suite_id), "suite", suite_id)


@router.get("/suites")
async def list_suites(request: web.Request, query: SuiteQuery) -> Page[Suite]:
    """List test suites, newest first; filter by project."""
    rows, total = await request.app[DB].list_suites(
        query.size, query.offset, project_id=visible_project(request, query.project_id)
    )
    return Page([Suite.model_validate(row) for row in rows], total, query)


@router.get("/suites/{suite_id}")
async def get_suite(request: web.Request, suite_id: str) -> SuiteDetail:
    """Get a suite with its cases and, for a generated suite, its generation notes."""
    row = await load_suite(request, suite_id)
    db = request.app[DB]
    cases = await db.suite_cases(suite_id)
    return SuiteDetail.model_validate(
        {
            **row,
            "cases": cases,
            "generation": _generation(cases, await db.suite_generation(suite_id)),
        }
    )


def _generation(
    cases: list[dict[str, Any]], notes: dict[str, Any] | None
) -> SuiteGeneration | None:
    """The stored notes with each case's note given its case's id (they share the order)."""
    if notes is None:
        return None
    stored = GenerationNotes.model_validate(notes)
    return SuiteGeneration(
        cases=[
            CaseGeneration(case_id=case["id"], name=note.name, why=note.why)
            for case, note in zip(cases, stored.cases, strict=False)
        ],
        pages=stored.pages,
    )


@router.post("/suites", status=201)
async def create_suite(request: web.Request, body: SuiteCreate) -> SuiteDetail:
    """Create a suite from cases written in the step language."""
    project = await load_project(request, body.project_id)
    base_url = project["base_url"]
    if body.base_url is not None:
        try:
            base_url = http_url(body.base_url)
        except ValueError as exc:
            raise ValidationFailed.field("base_url", str(exc)) from None
    db = request.app[DB]
    cases = [case.model_dump(mode="json", exclude={"id"}) for case in body.cases]
    row = await db.create_suite(project["id"], None, body.name, base_url, cases)
    return SuiteDetail.model_validate({**row, "cases": await db.suite_cases(row["id"])})


@router.get("/suites/{suite_id}/export")
async def export_suite(
    request: web.Request, suite_id: str, query: ExportQuery
) -> ExportedFile | web.Response:
    """Export a suite as a Playwright Test spec (TypeScript) or a pytest-playwright module.

    With the project's ``settings.login``, the tests log in before each one runs.
    """
    row = await load_suite(request, suite_id)
    db = request.app[DB]
    cases = [Case.model_validate(case) for case in await db.suite_cases(suite_id)]
    login = await project_login(db, row["project_id"])
    exported = _EXPORTERS[query.language](row["name"], row["base_url"], cases, login)
    if not query.download:
        return exported
    return web.Response(
        text=exported.code,
        content_type="text/x-python" if query.language == "python" else "application/typescript",
        headers={"Content-Disposition": f'attachment; filename="{exported.filename}"'},
    )


@router.delete("/suites/{suite_id}")
async def delete_suite(request: web.Request, suite_id: str) -> Deleted:
    """Delete a suite and its cases; its runs and their files stay as history."""
    await load_suite(request, suite_id)
    await request.app[DB].delete_suite(suite_id)
    return Deleted(id=suite_id)
