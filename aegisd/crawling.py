"""The crawl job: runs the crawler for a claimed crawl row, stores what it finds and
generates the suite."""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Any

from aegisd.config import Config
from aegisd.jobs import Row
from aegisd.progress import Progress
from aegisd.project_settings import CrawlDefaults
from aegisd.webhooks import crawl_events
from crawler.audits.audit import finish_audits
from crawler.audits.summary import audit_rules, audit_summary
from crawler.changes import COMPARED, PageFacts, compare_facts
from crawler.engine import crawl
from crawler.errors import BrowserFailed, CrawlerError
from crawler.generate import generate, suite_name
from crawler.models import CrawlOptions, PageResult
from runner.browsers import Browsers
from runner.errors import BrowserNotAvailable, LoginFailed
from storage import Database
from storage.webhooks import NewEvent

# Phases reported as `ai_generation_progress` (the AegisRunner CLI's names).
_PHASES = {
    "analyzing": ("Analyzing crawled pages", 10),
    "generating": ("Generating test cases", 50),
    "saving": ("Saving the test suite", 90),
    "done": ("Test suite ready", 100),
}


class CrawlJobs:
    """The ``crawls`` job kind for :class:`aegisd.jobs.JobQueue`."""

    name = "crawls"

    def __init__(
        self, db: Database, browsers: Browsers, config: Config, progress: Progress
    ) -> None:
        self.db = db
        self.browsers = browsers
        self.config = config
        self.progress = progress

    async def requeue_interrupted(self) -> int:
        return await self.db.requeue_running("crawls")

    async def claim(self) -> Row | None:
        return await self.db.claim_crawl()

    async def cancelled(self, row: Row) -> None:
        await self._finish(row, "cancelled", error="cancelled by request")

    async def failed(self, row: Row, error: str) -> None:
        await self._finish(row, "failed", error=error)

    def events(self, row: Row) -> list[NewEvent]:
        return crawl_events(self.config, row)

    async def run(self, row: Row) -> None:
        crawl_id = row["id"]
        options = CrawlOptions.from_settings(
            self.config.crawler,
            start_url=row["start_url"],
            mode=row["mode"],
            max_pages=row["max_pages"],
            depth=row["depth"],
            prepare_generation=bool(row["generate_suite"]),
            **row["options"],
        )
        stored = 0

        async def on_page(page: PageResult) -> None:
            nonlocal stored
            data = page.model_dump(mode="json")
            await self.db.add_crawl_page(
                crawl_id, stored, page.url, page.status, page.title, page.depth, data
            )
            stored += 1

        async def on_progress(found: int, crawled: int) -> None:
            await self.db.set_crawl_progress(crawl_id, found, crawled)
            self.progress.publish(
                crawl_id, "crawl_progress", {"pagesFound": found, "pagesCrawled": crawled}
            )

        self.progress.publish(crawl_id, "crawl_progress", {"pagesFound": 0, "pagesCrawled": 0})
        try:
            result = await crawl(self.browsers, options, on_page=on_page, on_progress=on_progress)
        except (CrawlerError, BrowserNotAvailable, LoginFailed) as exc:
            await self.failed(row, self._explain(exc))
            return
        summary, rules = await self._finish_audits(crawl_id, result.pages)
        suite_id = await self._generate(row, result.pages) if row["generate_suite"] else None
        await self._finish(
            row,
            "completed",
            pages_found=len(result.pages),
            pages_crawled=len(result.pages),
            broken_links=[link.model_dump(mode="json") for link in result.broken_links],
            broken_links_count=len(result.broken_links),
            links_checked=result.links_checked,
            console_errors_count=sum(len(page.console_errors) for page in result.pages),
            changes=await self._changes(row),
            audit_summary=summary,
            audit_rules=rules,
            suite_id=suite_id,
        )

    def _explain(self, error: Exception) -> str:
        """Why the crawl failed; for a remote browser, also which one went away."""
        remote = self.browsers.remote()
        if isinstance(error, BrowserFailed) and remote is not None:
            return f"{error} (reached through {remote}; the next crawl reconnects)"
        return str(error)

    async def _finish_audits(
        self, crawl_id: str, pages: list[PageResult]
    ) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        """Add the crawl-wide findings to the pages (stored again where they changed); the
        crawl's audit summary and rules."""
        changed = await asyncio.to_thread(finish_audits, pages)
        if changed:
            updates = {index: pages[index].model_dump(mode="json") for index in changed}
            await self.db.update_crawl_pages(crawl_id, updates)
        return await asyncio.to_thread(_audit_results, pages)

    async def _generate(self, row: Row, pages: list[PageResult]) -> str | None:
        def phase(name: str) -> None:
            label, progress = _PHASES[name]
            self.progress.publish(
                row["id"],
                "ai_generation_progress",
                {"phase": name, "phase_label": label, "progress": progress},
            )

        phase("analyzing")
        project = await self.db.get_project(row["project_id"])
        if project is None:  # deleted while crawling
            return None
        phase("generating")
        # CPU-bound on a large crawl: off the event loop, so the API keeps answering.
        settings = CrawlDefaults.model_validate(project["settings"])
        generated = await asyncio.to_thread(
            partial(
                generate,
                pages,
                project["base_url"],
                submit_post_forms=settings.submit_post_forms,
                visual_checks=settings.visual_checks,
            )
        )
        if not generated.cases:
            phase("done")
            return None
        phase("saving")
        suite = await self.db.create_suite(
            project["id"],
            row["id"],
            suite_name(project["base_url"]),
            project["base_url"],
            [case.model_dump(mode="json", exclude={"id"}) for case in generated.cases],
            generated.notes.model_dump(mode="json"),
        )
        phase("done")
        return str(suite["id"])

    async def _changes(self, row: Row) -> dict[str, Any] | None:
        """The changes since the project's previous completed crawl, compared from what
        both crawls stored (after their audits were finished): their pages' facts only,
        not the pages, so a crawl of thousands of pages is not held twice to compare."""
        previous = await self.db.previous_completed_crawl(row["project_id"], row["id"])
        if previous is None:
            return None
        before = await self.db.crawl_page_findings(previous["id"], COMPARED)
        after = await self.db.crawl_page_findings(row["id"], COMPARED)
        changes = await asyncio.to_thread(_compare, before, after)
        return {"previous_crawl_id": previous["id"], **changes}

    async def _finish(self, row: Row, status: str, **fields: Any) -> None:
        await self.db.finish_crawl(row["id"], status, self.events, **fields)
        result = "completed" if status == "completed" else "failed"
        self.progress.publish(row["id"], "done", {"result": result, "status": status})


def _compare(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> dict[str, Any]:
    return compare_facts(map(_facts, before), map(_facts, after)).model_dump(mode="json")


def _facts(row: dict[str, Any]) -> PageFacts:
    findings = {
        category: {rule: impact for rule, impact in row[category]}
        for category in COMPARED
        if row[category] is not None
    }
    return PageFacts(row["url"], row["status"], row["title"] or "", findings)


def _audit_results(pages: list[PageResult]) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    audited = [(page.url, page.audits) for page in pages]
    summary = audit_summary(audited)
    rules = [rule.model_dump(mode="json") for rule in audit_rules(audited)]
    return (None if summary is None else summary.model_dump(mode="json")), rules
