"""The ``[crawler]`` configuration table: process-wide limits and defaults for crawls."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

MAX_CONCURRENCY = 32


class CrawlerSettings(BaseModel):
    """The ``[crawler]`` table. Per-crawl limits here become the defaults of ``CrawlOptions``."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    concurrency: int = Field(default=4, ge=1, le=MAX_CONCURRENCY)
    """Pages of one crawl loading at the same time (tabs of the crawl's browser context)."""

    max_concurrent_crawls: int = Field(default=2, ge=1, le=16)
    """Crawls the daemon runs at the same time; more wait in the queue."""

    page_timeout_s: float = Field(default=30.0, gt=0, le=600)
    """Seconds a page may take to reach its ``load`` event; analysis of what loaded gets as long."""

    max_duration_s: float = Field(default=600.0, gt=0, le=86_400)
    """Hard cap on a whole crawl: when it is reached the crawl stops with what it has."""

    respect_robots_txt: bool = True
    """Obey the site's robots.txt unless a project turns it off."""

    user_agent: str | None = None
    """User-Agent header of the crawler's browser; ``None`` keeps Chromium's own."""

    @field_validator("user_agent")
    @classmethod
    def _single_line(cls, value: str | None) -> str | None:
        if value is not None and (not value.strip() or "\r" in value or "\n" in value):
            raise ValueError("user_agent must be a non-empty single line")
        return value
