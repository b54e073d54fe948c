"""Starting work: queue a crawl of a project or a run of a suite.

The API, the scheduler and the CI surface all start work through these, after
their own permission checks; validation problems raise API errors naming the
request field.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from aegisd.errors import BrowserUnavailable, ValidationFailed
from aegisd.project_settings import http_url
from aegisd.state import BROWSERS, CONFIG, CRAWLS, DB, RUNS
from crawler.audits.models import AUDIT_CATEGORIES
from runner.errors import BrowserNotAvailable

QUICK_MAX_PAGES = 20
_CRAWL_OPTIONS = (
    "include_patterns",
    "exclude_patterns",
    "respect_robots_txt",
    "headers",
    "login",
    "max_query_variants",
    "check_external_links",
    "audits",
)

Row = dict[str, Any]


def _url(field: str, value: str) -> str:
    try:
        return http_url(value)
    except ValueError as exc:
        raise ValidationFailed.field(field, str(exc)) from None


def _same_origin(url: str, base: str) -> bool:
    a, b = urlsplit(url), urlsplit(base)
    return (a.scheme, a.hostname, a.port) == (b.scheme, b.hostname, b.port)


async def queue_crawl(
    app: web.Application,
    project: Row,
    *,
    mode: str = "full",
    max_pages: int | None = None,
    depth: int | None = None,
    start_url: str | None = None,
    generate_suite: bool = True,
) -> Row:
    """Store a ``queued`` crawl of ``project`` (its settings fill what is not given)."""
    settings = project["settings"]
    start = project["base_url"]
    if start_url is not None:
        start = _url("start_url", start_url)
        if not _same_origin(start, project["base_url"]):
            raise ValidationFailed.field(
                "start_url", f"must be on the project's origin ({project['base_url']})"
            )
    max_pages = max_pages or settings["max_pages"]
    depth = settings["depth"] if depth is None else depth
    if mode == "quick":
        max_pages, depth = min(max_pages, QUICK_MAX_PAGES), min(depth, 1)
    options = {key: settings[key] for key in _CRAWL_OPTIONS if settings.get(key) is not None}
    options.setdefault("audits", list(AUDIT_CATEGORIES))  # projects from before audits
    if "login" in options:  # its URLs are relative to the base URL, as in runs
        options["base_url"] = project["base_url"]
    row = await app[DB].create_crawl(
        project["id"], mode, max_pages, depth, start, generate_suite, options
    )
    app[CRAWLS].wake()
    return row


def check_browser(app: web.Application, browser: str) -> None:
    """Raise ``BrowserUnavailable`` (400) if ``browser`` cannot run here."""
    try:
        app[BROWSERS].check_available(browser)
    except BrowserNotAvailable as exc:
        raise BrowserUnavailable(str(exc)) from None


async def queue_run(
    app: web.Application,
    suite: Row,
    *,
    trigger: str,
    browser: str = "chromium",
    base_url: str | None = None,
    retries: int | None = None,
    case_ids: list[str] | None = None,
    schedule_id: str | None = None,
    ci_run_id: str | None = None,
) -> Row:
    """Store a ``queued`` run of ``suite``'s cases (all, or ``case_ids``) as they are now."""
    check_browser(app, browser)
    db, config = app[DB], app[CONFIG]
    cases = await db.suite_cases(suite["id"])
    if case_ids is not None:
        unknown = sorted(set(case_ids) - {case["id"] for case in cases})
        if unknown:
            raise ValidationFailed.field(
                "case_ids", f"not in suite {suite['id']}: {', '.join(unknown)}"
            )
        cases = [case for case in cases if case["id"] in case_ids]
    row = await db.create_run(
        project_id=suite["project_id"],
        suite_id=suite["id"],
        suite_name=suite["name"],
        browser=browser,
        base_url=suite["base_url"] if base_url is None else _url("base_url", base_url),
        retries=config.runner.retries if retries is None else retries,
        cases=cases,
        trigger=trigger,
        schedule_id=schedule_id,
        ci_run_id=ci_run_id,
    )
    app[RUNS].wake()
    return row
