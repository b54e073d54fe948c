"""What changed between two crawls of a site: pages added, removed, or changed.

Pages are matched by their (normalised) URL. A page changed when its HTTP
status or its title differs. Every list is sorted by URL.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from pydantic import BaseModel


class PageSummary(Protocol):
    """What ``compare_crawls`` reads of a page: ``PageResult`` or a stored row alike."""

    @property
    def url(self) -> str: ...

    @property
    def status(self) -> int | None: ...

    @property
    def title(self) -> str: ...


class PageState(BaseModel):
    """The compared facts of a page in one crawl."""

    status: int | None
    title: str


class PageChange(BaseModel):
    """A page present in both crawls whose status or title differs."""

    url: str
    before: PageState
    after: PageState


class CrawlChanges(BaseModel):
    """Differences from a previous crawl to the current one."""

    added: list[str]
    """URLs crawled now and not before."""

    removed: list[str]
    """URLs crawled before and not now."""

    changed: list[PageChange]


def compare_crawls(previous: Iterable[PageSummary], current: Iterable[PageSummary]) -> CrawlChanges:
    """Compare two crawls' pages; a URL seen twice in one crawl counts by its first page."""
    before = _states(previous)
    after = _states(current)
    changed = [
        PageChange(url=url, before=before[url], after=state)
        for url, state in sorted(after.items())
        if url in before and before[url] != state
    ]
    return CrawlChanges(
        added=sorted(after.keys() - before.keys()),
        removed=sorted(before.keys() - after.keys()),
        changed=changed,
    )


def _states(pages: Iterable[PageSummary]) -> dict[str, PageState]:
    states: dict[str, PageState] = {}
    for page in pages:
        states.setdefault(page.url, PageState(status=page.status, title=page.title))
    return states
