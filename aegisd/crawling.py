"""The crawl job: runs the crawler for a claimed crawl row and stores what it finds."""

from __future__ import annotations

from typing import Any

from aegisd.config import Config
from aegisd.jobs import Row
from crawler.engine import crawl
from crawler.errors import CrawlerError
from crawler.models import CrawlOptions, PageResult
from runner.browsers import Browsers
from runner.errors import BrowserNotAvailable
from storage import Database


class CrawlJobs:
    """The ``crawls`` job kind for :class:`aegisd.jobs.JobQueue`."""

    name = "crawls"

    def __init__(self, db: Database, browsers: Browsers, config: Config) -> None:
        self.db = db
        self.browsers = browsers
        self.config = config

    async def requeue_interrupted(self) -> int:
        return await self.db.requeue_running("crawls")

    async def claim(self) -> Row | None:
        return await self.db.claim_crawl()

    async def cancelled(self, row: Row) -> None:
        await self._finish(row, "cancelled", error="cancelled by request")

    async def failed(self, row: Row, error: str) -> None:
        await self._finish(row, "failed", error=error)

    async def run(self, row: Row) -> None:
        crawl_id = row["id"]
        options = CrawlOptions.from_settings(
            self.config.crawler,
            start_url=row["start_url"],
            mode=row["mode"],
            max_pages=row["max_pages"],
            depth=row["depth"],
            **row["options"],
        )
        stored = 0

        async def on_page(page: PageResult) -> None:
            nonlocal stored
            await self.db.add_crawl_page(
                crawl_id, stored, page.url, page.status, page.title, page.depth,
                page.model_dump(mode="json"),
            )
            stored += 1

        async def on_progress(found: int, crawled: int) -> None:
            await self.db.set_crawl_progress(crawl_id, found, crawled)

        try:
            result = await crawl(self.browsers, options, on_page=on_page, on_progress=on_progress)
        except (CrawlerError, BrowserNotAvailable) as exc:
            await self.failed(row, str(exc))
            return
        await self._finish(
            row,
            "completed",
            pages_found=len(result.pages),
            pages_crawled=len(result.pages),
            broken_links=[link.model_dump(mode="json") for link in result.broken_links],
            broken_links_count=len(result.broken_links),
            console_errors_count=sum(len(page.console_errors) for page in result.pages),
            changes=await self._changes(row, result.pages),
        )

    async def _changes(self, row: Row, pages: list[PageResult]) -> dict[str, Any] | None:
        from crawler.changes import compare_crawls

        previous = await self.db.previous_completed_crawl(row["project_id"], row["id"])
        if previous is None:
            return None
        before = [PageResult.model_validate(p) for p in await self.db.crawl_pages(previous["id"])]
        return {"previous_crawl_id": previous["id"], **compare_crawls(before, pages).model_dump(mode="json")}

    async def _finish(self, row: Row, status: str, **fields: Any) -> None:
        await self.db.finish_crawl(row["id"], status, **fields)
