"""``aegisd scan URL``: crawl, generate and run in one process, no daemon needed.

The scan stores everything in a database like the daemon does (a temporary
one unless ``--data-dir`` is given) and reuses the daemon's crawl and run jobs.
What the crawl itself finds wrong (broken internal links, 5xx pages, JavaScript
errors) counts as failures too, each a JUnit test case of its own.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit

from aegisd.config import Config
from aegisd.crawling import CrawlJobs
from aegisd.dashboard.assets import stylesheet
from aegisd.progress import Progress
from aegisd.running import RunJobs
from crawler.audits.models import AUDIT_CATEGORIES
from runner import export_python, export_typescript
from runner.browsers import Browsers
from runner.junit import render_junit
from runner.login import Login
from runner.report import render_report
from runner.results import CaseError, CaseResult
from runner.steps import Case
from storage import Database

EXIT_PASSED, EXIT_FAILED, EXIT_ERROR = 0, 1, 2
_REFRESH_S = 0.25


@dataclass(frozen=True)
class ScanOptions:
    """What ``aegisd scan`` was asked to do."""

    url: str
    max_pages: int = 50
    depth: int = 3
    browser: str = "chromium"
    junit: Path | None = None
    report: Path | None = None
    export: Path | None = None
    login: Login | None = None


def crawl_findings(crawl: dict[str, Any], pages: list[dict[str, Any]]) -> list[CaseResult]:
    """The crawl's own failures as test results: broken links, 5xx pages, script errors
    (of ``pages``: those ``crawl_page_problems`` gives, or any with those keys)."""
    findings: list[tuple[str, str]] = [
        (
            f"Broken link: {link['url']}",
            f"{link['url']} (linked as {link.get('name') or 'a link'} on {link['found_on']}) "
            f"answered {link['status'] or link['error']}",
        )
        for link in crawl["broken_links"]
    ]
    for page in pages:
        if page["status"] is not None and page["status"] >= 500:
            findings.append((f"Server error: {page['url']}", f"answered HTTP {page['status']}"))
        if page["console_errors"]:
            findings.append(
                (f"JavaScript errors: {page['url']}", "; ".join(page["console_errors"]))
            )
    return [
        CaseResult(
            case_id=f"finding-{number}",
            name=name,
            status="failed",
            duration=0,
            attempts=1,
            error=CaseError(message=message),
            steps=[],
        )
        for number, (name, message) in enumerate(findings, 1)
    ]


class _Progress:
    """One status line, redrawn on a terminal; plain lines per phase otherwise."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.live = out.isatty()

    async def follow(self, phase: str, read: Callable[[], Awaitable[str]]) -> None:
        if not self.live:
            self.out.write(f"{phase}...\n")
            return
        while True:
            self.out.write(f"\r\033[K{phase}: {await read()}")
            self.out.flush()
            await asyncio.sleep(_REFRESH_S)

    def done(self, line: str) -> None:
        self.out.write(("\r\033[K" if self.live else "") + line + "\n")
        self.out.flush()


async def _while(progress: Awaitable[None], work: Awaitable[None]) -> None:
    shown = asyncio.ensure_future(progress)
    try:
        await work
    finally:
        shown.cancel()
        await asyncio.gather(shown, return_exceptions=True)


async def _scan(options: ScanOptions, config: Config, out: TextIO) -> int:
    progress = _Progress(out)
    async with Database(config.database_path) as db, Browsers(config.browsers) as browsers:
        browsers.check_available(options.browser)
        host = urlsplit(options.url).netloc
        # The project's login is what the crawl and the run log in with.
        login = {"login": options.login.model_dump(mode="json")} if options.login else {}
        # A scan's project is new each time: it would only ever record baselines.
        settings = {**login, "visual_checks": False}
        project = await db.create_project(f"scan {host}", options.url, None, settings)
        crawl_options = {**login, "audits": list(AUDIT_CATEGORIES)}
        await db.create_crawl(
            project["id"], "full", options.max_pages, options.depth, options.url, True,
            crawl_options,
        )  # fmt: skip
        claimed = await db.claim_crawl()
        assert claimed is not None
        crawl_id = claimed["id"]

        async def crawl_status() -> str:
            row = await db.get_crawl(crawl_id)
            return f"{row['pages_crawled']} of {row['pages_found']} pages" if row else ""

        crawl_jobs = CrawlJobs(db, browsers, config, Progress())
        await _while(progress.follow("Crawling", crawl_status), crawl_jobs.run(claimed))
        crawl = await db.get_crawl(crawl_id)
        assert crawl is not None
        if crawl["status"] != "completed":
            progress.done(f"Crawl failed: {crawl['error']}")
            return EXIT_ERROR
        pages = await db.crawl_page_problems(crawl["id"])
        progress.done(
            f"Crawled {crawl['pages_crawled']} pages: {crawl['broken_links_count']} broken links, "
            f"{crawl['console_errors_count']} console errors"
        )
        if crawl["audit_summary"]:
            progress.done(_audit_scores(crawl["audit_summary"]))
        results, run_error, artifacts = await _run_suite(
            db, browsers, config, crawl, options, progress
        )
        results += crawl_findings(crawl, pages)
        _write_outputs(options, crawl, results, await _suite_cases(db, crawl), artifacts)
        failed = sum(result.status == "failed" for result in results)
        progress.done(
            f"{len(results)} checks: {len(results) - failed} passed, {failed} failed"
            + (f"; run error: {run_error}" if run_error else "")
        )
        if run_error:
            return EXIT_ERROR
        return EXIT_FAILED if failed else EXIT_PASSED


def _audit_scores(summary: dict[str, Any]) -> str:
    """``Audit scores: accessibility 87, performance 99, ...`` for the audited categories."""
    scores = [
        f"{category} {summary[category]['score']}"
        for category in AUDIT_CATEGORIES
        if summary.get(category) and summary[category]["score"] is not None
    ]
    return "Audit scores (0-100): " + ", ".join(scores)


async def _suite_cases(db: Database, crawl: dict[str, Any]) -> list[Case]:
    if not crawl["suite_id"]:
        return []
    return [Case.model_validate(case) for case in await db.suite_cases(crawl["suite_id"])]


async def _run_suite(
    db: Database,
    browsers: Browsers,
    config: Config,
    crawl: dict[str, Any],
    options: ScanOptions,
    progress: _Progress,
) -> tuple[list[CaseResult], str | None, Path]:
    """Run the crawl's suite: its results, the run's error if it could not run, and where
    its artifacts are."""
    cases = await _suite_cases(db, crawl)
    if not cases:
        return [], None, config.storage.data_dir
    suite = await db.get_suite(crawl["suite_id"])
    assert suite is not None
    await db.create_run(
        project_id=crawl["project_id"],
        suite_id=suite["id"],
        suite_name=suite["name"],
        browser=options.browser,
        base_url=suite["base_url"],
        retries=config.runner.retries,
        cases=await db.suite_cases(suite["id"]),
        trigger="ci",
    )
    run = await db.claim_run()
    assert run is not None

    async def run_status() -> str:
        done = len(await db.run_results(run["id"]))
        return f"{done} of {len(cases)} cases"

    run_jobs = RunJobs(db, browsers, config, Progress())
    await _while(progress.follow("Running", run_status), run_jobs.run(run))
    finished = await db.get_run(run["id"])
    assert finished is not None
    results = [CaseResult.model_validate(r) for r in await db.run_results(run["id"])]
    progress.done(
        f"Ran {len(results)} cases: {finished['passed']} passed, {finished['failed']} failed"
    )
    for result in results:
        if result.status == "failed" and result.error is not None:
            progress.done(f"  FAILED {result.name}: {result.error.message}")
    error = finished["error"] if finished["status"] == "error" else None
    return results, error, config.artifacts_dir(run["id"])


def _write_outputs(
    options: ScanOptions,
    crawl: dict[str, Any],
    results: list[CaseResult],
    cases: list[Case],
    artifacts: Path,
) -> None:
    name = f"aegisd scan of {options.url}"
    if options.junit:
        options.junit.write_text(render_junit(results, suite_name=name))
    if options.report:
        details = {"URL": options.url, "Pages": str(crawl["pages_crawled"])}
        html = render_report(
            results, title=name, artifacts_dir=artifacts, stylesheet=stylesheet(), details=details
        )
        options.report.write_text(html)
    if options.export:
        exporter = export_python if options.export.suffix == ".py" else export_typescript
        exported = exporter.export_suite(name, options.url, cases, options.login)
        options.export.write_text(exported.code)


def scan(options: ScanOptions, config: Config, keep: bool, out: TextIO = sys.stdout) -> int:
    """Run a scan; the exit code (0 all passed, 1 failures, 2 error).

    With ``keep`` the scan is stored in ``config.storage.data_dir``; otherwise in a
    temporary directory removed afterwards.
    """
    if keep:
        return asyncio.run(_scan(options, config, out))
    with tempfile.TemporaryDirectory(prefix="aegisd-scan-") as data_dir:
        storage = config.storage.model_copy(update={"data_dir": Path(data_dir)})
        return asyncio.run(_scan(options, config.model_copy(update={"storage": storage}), out))
