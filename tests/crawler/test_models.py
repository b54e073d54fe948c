"""Crawler settings and options validation, and comparing two crawls."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from pydantic import ValidationError

from crawler.changes import PageChange, PageState, compare_crawls
from crawler.models import CrawlOptions
from crawler.settings import CrawlerSettings


def test_settings_defaults_and_ranges() -> None:
    settings = CrawlerSettings()
    assert (settings.concurrency, settings.max_concurrent_crawls) == (4, 2)
    assert (settings.page_timeout_s, settings.max_duration_s) == (30.0, 600.0)
    assert settings.respect_robots_txt and settings.user_agent is None
    for bad in (
        {"concurrency": 0},
        {"concurrency": 33},
        {"page_timeout_s": 0},
        {"max_duration_s": -1},
        {"max_concurrent_crawls": 0},
        {"user_agent": "two\nlines"},
        {"unknown": 1},
    ):
        with pytest.raises(ValidationError):
            CrawlerSettings(**bad)


def test_options_from_settings() -> None:
    settings = CrawlerSettings(
        concurrency=8,
        page_timeout_s=5,
        max_duration_s=60,
        user_agent="Bot/2",
        respect_robots_txt=False,
    )
    options = CrawlOptions.from_settings(settings, start_url="http://h/", depth=1)
    assert (options.concurrency, options.page_timeout_s, options.max_duration_s) == (8, 5, 60)
    assert (options.user_agent, options.respect_robots_txt, options.depth) == ("Bot/2", False, 1)
    robots = CrawlOptions.from_settings(settings, start_url="http://h/", respect_robots_txt=True)
    assert robots.respect_robots_txt


def test_options_normalise_and_validate() -> None:
    options = CrawlOptions(start_url="HTTP://Example.com:80/start#top")
    assert options.start_url == "http://example.com/start"
    assert (options.mode, options.max_pages, options.depth) == ("full", 100, 3)
    invalid: list[dict[str, Any]] = [
        {"start_url": "ftp://example.com/"},
        {"start_url": "/relative"},
        {"start_url": "http://h/", "max_pages": 0},
        {"start_url": "http://h/", "depth": -1},
        {"start_url": "http://h/", "mode": "deep"},
        {"start_url": "http://h/", "include_patterns": ["("]},
        {"start_url": "http://h/", "headers": {"X-A": "1\r\nX-B: 2"}},
        {"start_url": "http://h/", "headers": {"Bad:Name": "1"}},
        {"start_url": "http://h/", "concurrency": 64},
        {"start_url": "http://h/", "login": {}},
    ]
    for fields in invalid:
        with pytest.raises(ValidationError):
            CrawlOptions(**fields)


def test_quick_mode_limits() -> None:
    quick = CrawlOptions(start_url="http://h/", mode="quick", max_pages=500, depth=5)
    assert (quick.max_pages, quick.depth) == (20, 1)
    small = CrawlOptions(start_url="http://h/", mode="quick", max_pages=5, depth=0)
    assert (small.max_pages, small.depth) == (5, 0)


@dataclass(frozen=True)
class _Row:
    url: str
    status: int | None
    title: str
    audits: None = None


# url: (status, title) in the previous crawl, then in the current one; None when absent.
HISTORY: dict[str, tuple[tuple[int, str] | None, tuple[int, str] | None]] = {
    "http://h/": ((200, "Home"), (200, "Home")),
    "http://h/about": ((200, "About"), (200, "About us")),
    "http://h/old": ((200, "Old"), None),
    "http://h/shop": ((200, "Shop"), (500, "Shop")),
    "http://h/same": ((404, "Missing"), (404, "Missing")),
    "http://h/new": (None, (200, "New")),
}


def test_compare_crawls() -> None:
    before = [_Row(url, *old) for url, (old, _) in HISTORY.items() if old]
    after = [_Row(url, *new) for url, (_, new) in reversed(HISTORY.items()) if new]
    changes = compare_crawls(before, after)
    assert changes.added == ["http://h/new"]
    assert changes.removed == ["http://h/old"]
    assert changes.changed == [
        PageChange(
            url="http://h/about",
            before=PageState(status=200, title="About"),
            after=PageState(status=200, title="About us"),
        ),
        PageChange(
            url="http://h/shop",
            before=PageState(status=200, title="Shop"),
            after=PageState(status=500, title="Shop"),
        ),
    ]
    unchanged = compare_crawls(before, before)
    assert (unchanged.added, unchanged.removed, unchanged.changed) == ([], [], [])
