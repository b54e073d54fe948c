"""What changed between two crawls of a site: pages added, removed, or changed, and
audit findings that are new or fixed.

Pages are matched by their (normalised) URL. A page changed when its HTTP
status or its title differs. A finding (an accessibility, SEO or security rule a
page fails) is new when a page of both crawls fails it now and did not before,
fixed the other way round, for pages audited in that category both times.
Performance findings are left out: the figures move from one crawl to the next.
Every list is sorted by URL.

``compare_facts`` compares what it needs of each page (``PageFacts``: URL, status,
title, and the rules failed per compared category), which is a few hundred bytes a
page where a whole ``PageResult`` is tens of kilobytes: so two crawls of thousands
of pages are compared without holding either in full. ``compare_crawls`` does the
same from pages.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from pydantic import BaseModel

from crawler.audits.models import AuditCategory, PageAudits
from runner.axe import Impact

COMPARED: tuple[AuditCategory, ...] = ("accessibility", "seo", "security")
"""The audit categories whose findings are compared."""


class PageSummary(Protocol):
    """What ``compare_crawls`` reads of a page: ``PageResult`` or a stored row alike."""

    @property
    def url(self) -> str: ...

    @property
    def status(self) -> int | None: ...

    @property
    def title(self) -> str: ...

    @property
    def audits(self) -> PageAudits | None: ...


class PageState(BaseModel):
    """The compared facts of a page in one crawl."""

    status: int | None
    title: str


class PageChange(BaseModel):
    """A page present in both crawls whose status or title differs."""

    url: str
    before: PageState
    after: PageState


class FindingChange(BaseModel):
    """An audit finding of one page that appeared or went away."""

    url: str
    category: AuditCategory
    rule: str
    impact: Impact


class CrawlChanges(BaseModel):
    """Differences from a previous crawl to the current one."""

    added: list[str]
    """URLs crawled now and not before."""

    removed: list[str]
    """URLs crawled before and not now."""

    changed: list[PageChange]
    new_findings: list[FindingChange]
    """Findings on pages of both crawls that the previous crawl did not have."""

    fixed_findings: list[FindingChange]
    """Findings of the previous crawl that pages of both crawls no longer have."""


@dataclass(frozen=True)
class PageFacts:
    """What is compared of a page: its URL, status and title, and for each compared
    category it was audited in, the rules it fails with their impacts."""

    url: str
    status: int | None
    title: str
    findings: dict[AuditCategory, dict[str, Impact]] = field(default_factory=dict)


def page_facts(page: PageSummary) -> PageFacts:
    """The compared facts of ``page``."""
    audits = page.audits
    findings: dict[AuditCategory, dict[str, Impact]] = {}
    for category in COMPARED if audits is not None else ():
        items = getattr(audits, category)
        if items is not None:
            findings[category] = {item.rule: item.impact for item in items}
    return PageFacts(page.url, page.status, page.title, findings)


def compare_crawls(previous: Iterable[PageSummary], current: Iterable[PageSummary]) -> CrawlChanges:
    """Compare two crawls' pages; a URL seen twice in one crawl counts by its first page."""
    return compare_facts(map(page_facts, previous), map(page_facts, current))


def compare_facts(previous: Iterable[PageFacts], current: Iterable[PageFacts]) -> CrawlChanges:
    """Compare two crawls by their pages' facts, as ``compare_crawls`` does."""
    previous, current = list(previous), list(current)
    before = _states(previous)
    after = _states(current)
    old, new = _findings(previous), _findings(current)
    changed = [
        PageChange(url=url, before=before[url], after=state)
        for url, state in sorted(after.items())
        if url in before and before[url] != state
    ]
    return CrawlChanges(
        added=sorted(after.keys() - before.keys()),
        removed=sorted(before.keys() - after.keys()),
        changed=changed,
        new_findings=_difference(new, old),
        fixed_findings=_difference(old, new),
    )


def _states(pages: Iterable[PageFacts]) -> dict[str, PageState]:
    states: dict[str, PageState] = {}
    for page in pages:
        states.setdefault(page.url, PageState(status=page.status, title=page.title))
    return states


_Findings = dict[tuple[str, AuditCategory], dict[str, Impact]]


def _findings(pages: Iterable[PageFacts]) -> _Findings:
    """Per (url, audited category), the rules failed and their impacts."""
    found: _Findings = {}
    for page in pages:
        for category, rules in page.findings.items():
            found.setdefault((page.url, category), rules)
    return found


def _difference(these: _Findings, those: _Findings) -> list[FindingChange]:
    """The findings of ``these`` that ``those`` lacks, where both audited the page."""
    changes = [
        FindingChange(url=url, category=category, rule=rule, impact=impact)
        for (url, category), rules in these.items()
        if (url, category) in those
        for rule, impact in rules.items()
        if rule not in those[(url, category)]
    ]
    return sorted(changes, key=lambda c: (c.url, COMPARED.index(c.category), c.rule))
