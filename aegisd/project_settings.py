"""A project's crawl settings: the model the projects API validates and the crawl job reads.

Kept out of the HTTP handlers so that jobs, the scheduler and the CLI can use it
without importing a handler module.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from crawler.audits.models import AUDIT_CATEGORIES, AuditCategory
from runner.login import Login

_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")


def http_url(value: str) -> str:
    """Validate an absolute http(s) URL with a host."""
    value = value.strip()
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an absolute http:// or https:// URL")
    return value


def _check_patterns(patterns: list[str]) -> list[str]:
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"{pattern!r} is not a valid regular expression: {exc}") from None
    return patterns


class CrawlDefaults(BaseModel):
    """Crawl settings a project's crawls start from."""

    model_config = ConfigDict(extra="forbid")

    max_pages: int = Field(100, ge=1, le=10_000, description="Pages per crawl at most.")
    depth: int = Field(3, ge=0, le=50, description="Link depth from the start page (which is 0).")
    include_patterns: list[str] = Field(
        default_factory=list, description="Regexes; when set, only matching URLs are crawled."
    )
    exclude_patterns: list[str] = Field(
        default_factory=list, description="Regexes; matching URLs are not crawled."
    )
    respect_robots_txt: bool | None = Field(
        None, description="Obey the site's robots.txt; unset follows crawler.respect_robots_txt."
    )
    headers: dict[str, str] = Field(
        default_factory=dict, description="Extra HTTP headers sent with every request."
    )
    visual_checks: bool = Field(
        True,
        description=(
            "Generated page-load cases end with a screenshot compared with its baseline "
            "(the first run records the baselines); false leaves the screenshots out."
        ),
    )
    login: Login | None = Field(
        None,
        description=(
            "How to log in, as steps of the step language; null: no login. Crawls log in "
            "before the first page (and do not follow links that look like logging out), "
            "runs log in once and start every case with that session, and exports log in "
            "before every test."
        ),
    )

    submit_post_forms: bool = Field(
        False,
        description=(
            "Let generated form cases submit simple POST forms. Off by default: a POST can "
            "create data (the next run then fails on 'already exists') or end a session."
        ),
    )
    max_query_variants: int = Field(
        5,
        ge=1,
        le=1000,
        description=(
            "Pages crawled per path and set of query keys (sort orders, filters, calendars); "
            "further variants are link-checked, not crawled."
        ),
    )
    check_external_links: bool = Field(
        False,
        description="Also check external links, one short request each, without the headers.",
    )
    audits: list[AuditCategory] = Field(
        default_factory=lambda: list(AUDIT_CATEGORIES),
        description=(
            "Audit categories run on every crawled HTML page (accessibility, performance, "
            "seo, security); generated smoke cases check accessibility and performance when "
            "those are audited. [] turns audits off."
        ),
    )

    _patterns = field_validator("include_patterns", "exclude_patterns")(_check_patterns)

    @field_validator("audits")
    @classmethod
    def _distinct(cls, audits: list[AuditCategory]) -> list[AuditCategory]:
        if len(set(audits)) != len(audits):
            raise ValueError("each category at most once")
        return audits

    @field_validator("headers")
    @classmethod
    def _header_names(cls, headers: dict[str, str]) -> dict[str, str]:
        for name, value in headers.items():
            if not _HEADER_NAME.match(name):
                raise ValueError(f"{name!r} is not a valid header name")
            if "\n" in value or "\r" in value:
                raise ValueError(f"header {name!r} has a line break in its value")
        return headers
