"""A stored crawl's pages read back a batch at a time, the work on each batch done in a
worker thread: the crawl-wide audit findings and the audit tally, suite generation, and
the changes between two crawls (from their pages' facts alone).

A crawl's pages go to SQLite as they are found (``aegisd.crawling``) and are never all
in memory at once: these read ``PAGE_BATCH`` of them at a time, in crawl order, and
decode and work on them off the event loop, so the API keeps answering while a crawl
of thousands of pages is finished.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from typing import Any

from crawler.audits.audit import add_crawl_findings
from crawler.audits.models import Finding, PageAudits
from crawler.audits.seo import duplicate_findings
from crawler.audits.summary import AuditTally
from crawler.changes import COMPARED, PageFacts, compare_facts
from crawler.generate import GeneratedSuite, Generation
from crawler.models import PageResult
from storage import Database
from storage.connection import Row

PAGE_BATCH = 250
"""Pages read, decoded and worked on at a time."""


async def tally_audits(db: Database, crawl_id: str, *, finish: bool = False) -> AuditTally:
    """The stored audits of a crawl's pages added up; with ``finish`` (a crawl that has
    all its pages), first add the crawl-wide findings (a title or meta description
    another page has too) to the pages' audits, stored again where they changed."""
    found = (
        await asyncio.to_thread(_duplicates, await db.crawl_page_seo_texts(crawl_id))
        if finish
        else {}
    )
    tally = AuditTally()
    async for batch in db.crawl_audit_texts(crawl_id, PAGE_BATCH):
        changed = await asyncio.to_thread(_tally, tally, batch, found)
        if changed:
            await db.update_crawl_page_audits(crawl_id, changed)
    return tally


def _duplicates(rows: list[Row]) -> dict[int, list[Finding]]:
    """The crawl-wide findings of the pages, by ``seq``."""
    texts = [(row["title"], row["description"]) if row["audited"] else None for row in rows]
    return {rows[index]["seq"]: found for index, found in duplicate_findings(texts).items()}


def _tally(
    tally: AuditTally,
    batch: list[tuple[int, str, str | None]],
    found: dict[int, list[Finding]],
) -> dict[int, str]:
    """Add a batch of pages to ``tally``, with their ``found`` findings first; the audits
    (JSON text) of the pages that changed, by ``seq``."""
    changed = {}
    for seq, url, text in batch:
        audits = None if text is None else PageAudits.model_validate_json(text)
        if audits is not None and seq in found and add_crawl_findings(audits, found[seq]):
            changed[seq] = audits.model_dump_json()
        tally.add(url, audits)
    return changed


async def generate_stored(
    db: Database,
    crawl_id: str,
    base_url: str,
    *,
    submit_post_forms: bool,
    visual_checks: bool,
) -> GeneratedSuite:
    """``crawler.generate.generate`` over a stored crawl's pages, read twice (the two
    passes of ``Generation``)."""
    generation = Generation(
        base_url, submit_post_forms=submit_post_forms, visual_checks=visual_checks
    )
    for step in (generation.index, generation.add):
        async for batch in db.crawl_page_texts(crawl_id, PAGE_BATCH):
            await asyncio.to_thread(_decoded, step, batch)
    return await asyncio.to_thread(generation.suite)


def _decoded(step: Callable[[Iterable[PageResult]], None], batch: list[str]) -> None:
    step(PageResult.model_validate_json(text) for text in batch)


async def compare_stored(db: Database, before_id: str, after_id: str) -> dict[str, Any]:
    """The changes from the crawl ``before_id`` to ``after_id`` (``crawler.changes``, as
    JSON), compared from what both stored (after their audits were finished): their pages'
    facts only, not the pages, so thousands of pages are not held twice to compare."""
    before = await db.crawl_page_findings(before_id, COMPARED)
    after = await db.crawl_page_findings(after_id, COMPARED)
    return await asyncio.to_thread(_compare, before, after)


def _compare(before: list[Row], after: list[Row]) -> dict[str, Any]:
    return compare_facts(map(_facts, before), map(_facts, after)).model_dump(mode="json")


def _facts(row: Row) -> PageFacts:
    findings = {
        category: {rule: impact for rule, impact in row[category]}
        for category in COMPARED
        if row[category] is not None
    }
    return PageFacts(row["url"], row["status"], row["title"] or "", findings)
