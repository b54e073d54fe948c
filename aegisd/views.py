"""Runs and crawls as the API shows them: the bodies the handlers answer and the
webhook payloads carry, so that jobs can build them without importing a handler."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from aegisd.config import Config
from aegisd.links import LinkSigner
from crawler.audits.models import AuditSummary

RunStatus = Literal["queued", "running", "passed", "failed", "cancelled", "error"]
CrawlStatus = Literal["queued", "running", "completed", "failed", "cancelled"]


class ClassificationCounts(BaseModel):
    """How many of a finished run's cases got each classification (DESIGN §10)."""

    regression: int
    persistent: int
    new: int
    flaky: int = Field(description="Failed cases that flip, and cases passed on a retry.")
    environment: int


class Run(BaseModel):
    id: str
    suite_id: str | None
    status: RunStatus
    browser: str
    passed: int
    failed: int
    skipped: int
    duration: int | None
    started_at: str | None
    completed_at: str | None
    project_id: str
    suite_name: str
    total: int
    flaky: int
    classifications: ClassificationCounts | None = Field(
        description="Per classification, how many cases got it; null until the run finishes."
    )
    trigger: Literal["api", "schedule", "ci"]
    schedule_id: str | None
    base_url: str
    error: str | None = Field(
        description="Why the run errored or was cancelled, or that the site was down for it."
    )
    created_at: str
    visual_diffs: int = Field(description="Screenshots that differ from their baselines.")
    report_url: str


_RUN_FIELDS = tuple(name for name in Run.model_fields if name != "report_url")


def report_url(config: Config, links: LinkSigner, run_id: str) -> str:
    """The run's HTML report; the link opens without a key."""
    return links.sign(config.base_url, f"/v1/runs/{run_id}/report")


def run_view(config: Config, links: LinkSigner, row: dict[str, Any]) -> dict[str, Any]:
    """A run row as the API (and webhooks) show it: the JSON of a :class:`Run`.

    Built straight from the row, which our own database vouches for: lists of
    runs are what clients poll most, and validating each row again would be most
    of a list's cost.
    """
    view = {name: row[name] for name in _RUN_FIELDS}
    view["report_url"] = report_url(config, links, row["id"])
    return view


class Crawl(BaseModel):
    id: str
    project_id: str
    status: CrawlStatus
    mode: Literal["full", "quick"]
    max_pages: int
    depth: int
    start_url: str
    pages_found: int
    pages_crawled: int
    broken_links_count: int
    links_checked: int = Field(
        description="Link targets checked with one request each instead of being crawled."
    )
    console_errors_count: int
    audit_summary: AuditSummary | None = Field(
        None, description="Scores and counts per audit category, once the crawl completed."
    )
    suite_id: str | None
    error: str | None
    created_at: str
    started_at: str | None
    completed_at: str | None
    duration: int | None
