"""The crawl job: runs the crawler for a claimed crawl row, stores what it finds and
generates the suite."""

from __future__ import annotations

import asyncio
from typing import Any

from aegisd.config import Config
from aegisd.jobs import Row
from aegisd.progress import Progress
from aegisd.project_settings import CrawlDefaults
from aegisd.stored_pages import compare_stored, generate_stored, tally_audits
from aegisd.webhooks import crawl_events
from crawler.audits.summary import AuditTally
from crawler.engine import crawl
from crawler.errors import BrowserFailed, CrawlerError
from crawler.generate import GeneratedSuite, suite_name
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
        stored = console_errors = 0

        async def on_page(page: PageResult) -> None:
            nonlocal stored, console_errors
            data = page.model_dump(mode="json")
            await self.db.add_crawl_page(
                crawl_id, stored, page.url, page.status, page.title, page.depth, data
            )
            stored += 1
            console_errors += len(page.console_errors)

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
        # The pages are in SQLite, not held: what follows reads them back a batch at a time.
        tally = await tally_audits(self.db, crawl_id, finish=True)
        summary, rules = await asyncio.to_thread(_audit_results, tally)
        suite_id = await self._generate(row) if row["generate_suite"] else None
        await self._finish(
            row,
            "completed",
            pages_found=result.pages_crawled,
            pages_crawled=result.pages_crawled,
            broken_links=[link.model_dump(mode="json") for link in result.broken_links],
            broken_links_count=len(result.broken_links),
            links_checked=result.links_checked,
            console_errors_count=console_errors,
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

    async def _generate(self, row: Row) -> str | None:
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
        settings = CrawlDefaults.model_validate(project["settings"])
        generated = await generate_stored(
            self.db,
            row["id"],
            project["base_url"],
            submit_post_forms=settings.submit_post_forms,
            visual_checks=settings.visual_checks,
        )
        if not generated.cases:
            phase("done")
            return None
        phase("saving")
        cases, notes = await asyncio.to_thread(_dumped, generated)
        suite = await self.db.create_suite(
            project["id"],
            row["id"],
            suite_name(project["base_url"]),
            project["base_url"],
            cases,
            notes,
        )
        phase("done")
        return str(suite["id"])

    async def _changes(self, row: Row) -> dict[str, Any] | None:
        """The changes since the project's previous completed crawl."""
        previous = await self.db.previous_completed_crawl(row["project_id"], row["id"])
        if previous is None:
            return None
        changes = await compare_stored(self.db, previous["id"], row["id"])
        return {"previous_crawl_id": previous["id"], **changes}

    async def _finish(self, row: Row, status: str, **fields: Any) -> None:
        await self.db.finish_crawl(row["id"], status, self.events, **fields)
        result = "completed" if status == "completed" else "failed"
        self.progress.publish(row["id"], "done", {"result": result, "status": status})


def _audit_results(tally: AuditTally) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    summary = tally.summary()
    rules = [rule.model_dump(mode="json") for rule in tally.rules()]
    return (None if summary is None else summary.model_dump(mode="json")), rules


def _dumped(suite: GeneratedSuite) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The suite's cases and notes as stored."""
    cases = [case.model_dump(mode="json", exclude={"id"}) for case in suite.cases]
    return cases, suite.notes.model_dump(mode="json")
