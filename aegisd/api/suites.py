"""Test suites: generated from crawls or written by hand; exported as Playwright code."""

from __future__ import annotations

import asyncio
import shutil
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from aegisd import baselines
from aegisd.api.access import owned, visible_project
from aegisd.api.projects import Deleted, load_project
from aegisd.config import Config
from aegisd.envelope import Page, PageQuery
from aegisd.errors import NotFound, ValidationFailed
from aegisd.project_settings import http_url
from aegisd.routing import Router
from aegisd.state import CONFIG, DB, HEALTHS
from aegisd.triage import HEALTH_RUNS, MAX_HEALTH_RUNS, CaseHealth, flakiness, suite_health
from crawler.notes import GenerationNotes, PageNotes
from runner import export_python, export_typescript
from runner.browsers import BrowserName
from runner.export_common import ExportedFile, Language
from runner.export_zip import BROWSER, export_zip
from runner.login import stored_login
from runner.results import Classification
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


class CaseUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(description="False: the case is not run, and reported skipped.")


class ExportQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    language: Language = "typescript"
    format: Literal["code", "zip"] = Field(
        "code",
        description=(
            "code: the test file (as JSON, or the file with download=true); zip: the file "
            "with its configuration and the Chromium baselines, ready to run."
        ),
    )
    download: bool = False


class HistoryQuery(PageQuery):
    base_url: str | None = Field(None, description="Only runs against this base URL.")


class HealthQuery(PageQuery):
    runs: int = Field(
        HEALTH_RUNS, ge=1, le=MAX_HEALTH_RUNS, description="How many of the last runs count."
    )
    base_url: str | None = Field(None, description="Only runs against this base URL.")
    sort: Literal["position", "flakiness"] = Field(
        "position", description="position: the suite's order; flakiness: the flakiest first."
    )


class CaseOutcome(BaseModel):
    """A case's result in one finished run of its suite's history."""

    run_id: str
    case_id: str = Field(description="The case's id in that run's suite.")
    status: Literal["passed", "failed"]
    flaky: bool = Field(description="It passed on a retry.")
    duration: int
    classification: Classification | None
    base_url: str
    created_at: str = Field(description="When the run was created.")


class BaselineQuery(PageQuery):
    case_id: str | None = None
    browser: BrowserName | None = None


class Baseline(BaseModel):
    id: str
    suite_id: str
    case_id: str
    name: str
    browser: str
    viewport: str
    image: str = Field(description="URL of the baseline image (PNG).")
    approved_from_run: str | None = Field(
        description="The run whose screenshot this is (recorded there or approved from it)."
    )
    created_at: str
    updated_at: str


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


def baseline_view(config: Config, row: dict[str, Any]) -> dict[str, Any]:
    """A baseline row as the API shows it: the JSON of a :class:`Baseline`."""
    image = f"{config.base_url}/v1/suites/{row['suite_id']}/baselines/{row['id']}/image"
    return {
        **{name: row[name] for name in Baseline.model_fields if name != "image"},
        "image": image,
    }


async def _load_baseline(request: web.Request, suite_id: str, baseline_id: str) -> dict[str, Any]:
    await load_suite(request, suite_id)
    row = await request.app[DB].get_baseline(baseline_id)
    if row is None or row["suite_id"] != suite_id:
        raise NotFound(f"baseline {baseline_id} of suite {suite_id} not found")
    return row


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


@router.get("/suites/{suite_id}/cases/{case_id}/history")
async def case_history(
    request: web.Request, suite_id: str, case_id: str, query: HistoryQuery
) -> Page[CaseOutcome]:
    """A case's results in its suite's finished runs, newest first.

    The history follows the case's name through the project's suites of the same name,
    so a re-crawl's suite carries on the one before's.
    """
    suite = await load_suite(request, suite_id)
    db = request.app[DB]
    case = next((c for c in await db.suite_cases(suite_id) if c["id"] == case_id), None)
    if case is None:
        raise NotFound(f"case {case_id} not found in suite {suite_id}")
    rows, total = await db.case_history(
        suite["project_id"],
        suite["name"],
        case["name"],
        query.size,
        query.offset,
        base_url=query.base_url,
    )
    return Page([CaseOutcome.model_validate(row) for row in rows], total, query)


@router.get("/suites/{suite_id}/health")
async def get_suite_health(
    request: web.Request, suite_id: str, query: HealthQuery
) -> Page[CaseHealth]:
    """Each case's runs, pass rate, flips, last failure and median duration over the
    suite's last ``runs`` finished runs."""
    suite = await load_suite(request, suite_id)
    db, kept = request.app[DB], request.app[HEALTHS]
    # Counted before reading: a run finishing meanwhile makes what is kept stale at once.
    changes = await db.table_changes("run_history")
    key = (suite_id, query.runs, query.base_url)
    health = kept.get(key, changes)
    if health is None:
        health = await suite_health(db, suite, runs=query.runs, base_url=query.base_url)
        kept.put(key, changes, health)
    if query.sort == "flakiness":
        health = sorted(health, key=flakiness)
    return Page(health[query.offset : query.offset + query.size], len(health), query)


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


@router.put("/suites/{suite_id}/cases/{case_id}")
async def update_case(request: web.Request, suite_id: str, case_id: str, body: CaseUpdate) -> Case:
    """Enable or disable one case of a suite; runs started later see the change."""
    await load_suite(request, suite_id)
    case = await request.app[DB].set_case_enabled(suite_id, case_id, body.enabled)
    if case is None:
        raise NotFound(f"case {case_id} not found in suite {suite_id}")
    return Case.model_validate(case)


@router.get("/suites/{suite_id}/export")
async def export_suite(
    request: web.Request, suite_id: str, query: ExportQuery
) -> ExportedFile | web.Response:
    """Export a suite as a Playwright Test spec (TypeScript) or a pytest-playwright module.

    With the project's ``settings.login``, the tests log in before each one runs.
    ``format=zip`` adds the configuration and the baselines, ready to run.
    """
    row = await load_suite(request, suite_id)
    db, config = request.app[DB], request.app[CONFIG]
    cases = [Case.model_validate(case) for case in await db.suite_cases(suite_id)]
    project = await db.get_project(row["project_id"])
    login = stored_login(project["settings"]) if project else None
    if query.format == "zip":
        files = await baselines.suite_baselines(db, config, row["project_id"], suite_id, BROWSER)
        exported_zip = await asyncio.to_thread(
            export_zip,
            query.language,
            row["name"],
            row["base_url"],
            cases,
            login,
            files,
            step_timeout_s=config.runner.step_timeout_s,
            navigation_timeout_s=config.runner.navigation_timeout_s,
            case_timeout_s=config.runner.case_timeout_s,
        )
        return web.Response(
            body=exported_zip.data,
            content_type="application/zip",
            headers={"Content-Disposition": f'attachment; filename="{exported_zip.filename}"'},
        )
    exported = _EXPORTERS[query.language](row["name"], row["base_url"], cases, login)
    if not query.download:
        return exported
    return web.Response(
        text=exported.code,
        content_type="text/x-python" if query.language == "python" else "application/typescript",
        headers={"Content-Disposition": f'attachment; filename="{exported.filename}"'},
    )


@router.get("/suites/{suite_id}/baselines")
async def list_baselines(
    request: web.Request, suite_id: str, query: BaselineQuery
) -> Page[Baseline]:
    """List a suite's baseline screenshots, newest first; filter by case and browser."""
    await load_suite(request, suite_id)
    rows, total = await request.app[DB].suite_baselines(
        query.size, query.offset, suite_id=suite_id, case_id=query.case_id, browser=query.browser
    )
    config = request.app[CONFIG]
    return Page([Baseline.model_validate(baseline_view(config, row)) for row in rows], total, query)


@router.get("/suites/{suite_id}/baselines/{baseline_id}")
async def get_baseline(request: web.Request, suite_id: str, baseline_id: str) -> Baseline:
    """Get one baseline screenshot."""
    row = await _load_baseline(request, suite_id, baseline_id)
    return Baseline.model_validate(baseline_view(request.app[CONFIG], row))


@router.get("/suites/{suite_id}/baselines/{baseline_id}/image", content_type="image/png")
async def baseline_image(request: web.Request, suite_id: str, baseline_id: str) -> web.FileResponse:
    """A baseline's image (PNG)."""
    row = await _load_baseline(request, suite_id, baseline_id)
    path = baselines.baseline_file(request.app[CONFIG], row)
    if not path.is_file():
        raise NotFound(f"the image of baseline {baseline_id} is missing")
    return web.FileResponse(path, headers={"Content-Type": "image/png"})


@router.delete("/suites/{suite_id}/baselines/{baseline_id}")
async def delete_baseline(request: web.Request, suite_id: str, baseline_id: str) -> Deleted:
    """Delete a baseline: the next run records the screenshot anew."""
    row = await _load_baseline(request, suite_id, baseline_id)
    await baselines.delete(request.app[DB], request.app[CONFIG], row)
    return Deleted(id=baseline_id)


@router.delete("/suites/{suite_id}")
async def delete_suite(request: web.Request, suite_id: str) -> Deleted:
    """Delete a suite with its cases and baselines; its runs and their files stay as history."""
    row = await load_suite(request, suite_id)
    await request.app[DB].delete_suite(suite_id)
    directory = request.app[CONFIG].baselines_dir(row["project_id"], suite_id)
    await asyncio.to_thread(shutil.rmtree, directory, ignore_errors=True)
    return Deleted(id=suite_id)
