"""The crawl: breadth-first over a site's pages in one browser context, within limits.

Order. Every URL takes a place in one breadth-first queue when it is first
found: the start page (depth 0); then the links of each page, in document
order, when that page is committed; the sitemap's URLs come right after the
start page's links, at depth 1 with the sitemap as referrer. Up to
``concurrency`` pages load at once, taken from the queue in order, but they are
committed (become results, have their links queued, reach ``on_page``) strictly
in queue order. So the page set, depths, referrers and the order of ``pages``
do not depend on which page happens to load first.

What is followed: same-origin links of kind ``page`` (see ``crawler.urls`` for
normalisation and patterns), from pages above the depth limit that answered
below 400. The origin is the start page's, after its redirects. robots.txt is
fetched first; with ``respect_robots_txt`` a disallowed start URL fails the
crawl and other disallowed URLs are skipped.

Login. With ``login`` the crawl first performs its steps in a tab of the
crawl's context (relative URLs resolve against ``base_url``), so the session's
cookies and storage apply to every page; a failed step fails the crawl
(``LoginFailed``). Links that look like logging out, by URL or name, and such
sitemap URLs (``crawler.urls.looks_like_logout``) are then recorded but not
followed.

One page, one result. A visit whose final URL (after redirects) was already
committed is left out, and so is ``/x/index.html`` when ``/x/`` was committed
with the same status and the same document (DOM fingerprint), or the other
way round; when the two differ, both are pages.

Limits. ``max_pages`` is exact when the site has that many pages in reach:
results are committed until there are ``max_pages``, and no more visits are
started than could still be needed. ``max_duration_s`` stops the crawl at
once with the pages committed so far. URLs found beyond twice ``max_pages``
are not kept.

Broken links: links of crawled pages whose target was visited and answered
4xx/5xx or gave no response, one per (target, page). Targets not visited
(beyond depth or max_pages, excluded, disallowed) are not checked.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from playwright.async_api import BrowserContext
from playwright.async_api import Error as PlaywrightError

from crawler.audits.audit import prepare_context
from crawler.errors import BrowserFailed, StartPageUnreachable, StartUrlDisallowed
from crawler.models import BrokenLink, CrawlOptions, CrawlResult, PageResult, StopReason
from crawler.sitefiles import RobotsRules, fetch_robots, fetch_sitemap_urls, robots_agent
from crawler.urls import UrlFilter, index_key, looks_like_logout, origin_of, same_origin
from crawler.visit import PageVisit, close_page, visit_page
from runner.browsers import Browsers, new_page
from runner.login import Login, log_in
from runner.playback import reason

PageCallback = Callable[[PageResult], Awaitable[None]]
ProgressCallback = Callable[[int, int], Awaitable[None]]


async def crawl(
    browsers: Browsers,
    options: CrawlOptions,
    *,
    on_page: PageCallback | None = None,
    on_progress: ProgressCallback | None = None,
) -> CrawlResult:
    """Crawl a site with Chromium from ``options.start_url``.

    ``on_page(page)`` is awaited for every page, in result order, as soon as it
    is committed; ``on_progress(pages_found, pages_crawled)`` whenever either
    count changes (found: pages committed plus URLs waiting, at most
    ``max_pages``). Cancelling the calling task stops the crawl, closes its
    browser context and propagates ``CancelledError``. Raises
    ``StartUrlDisallowed``, ``StartPageUnreachable``, ``LoginFailed`` (a login
    step failed), and ``BrowserFailed`` as soon as the browser closes under the
    crawl (the next crawl relaunches it).
    """
    async with browsers.context("chromium", **_context_options(options)) as context:
        context.set_default_timeout(options.page_timeout_s * 1000)
        await prepare_context(context, options.audits)
        return await _Crawl(context, options, on_page, on_progress).run()


def _context_options(options: CrawlOptions) -> dict[str, Any]:
    context_options: dict[str, Any] = {"accept_downloads": False, "service_workers": "block"}
    if options.headers:
        context_options["extra_http_headers"] = dict(options.headers)
    if options.user_agent:
        context_options["user_agent"] = options.user_agent
    if options.login is not None:
        context_options["base_url"] = options.base_url or options.start_url
    return context_options


@dataclass(frozen=True)
class _Entry:
    url: str
    depth: int
    referrer: str | None


class _Crawl:
    """The state of one running crawl; ``run`` once."""

    def __init__(
        self,
        context: BrowserContext,
        options: CrawlOptions,
        on_page: PageCallback | None,
        on_progress: ProgressCallback | None,
    ) -> None:
        self._context = context
        self._options = options
        self._on_page = on_page
        self._on_progress = on_progress
        self._filter = UrlFilter(options.include_patterns, options.exclude_patterns)
        self._slots = asyncio.Semaphore(options.concurrency)
        self._origin = origin_of(options.start_url)
        self._robots: RobotsRules | None = None
        self._queue: list[_Entry] = []
        self._considered: set[str] = set()
        self._visits: list[asyncio.Task[PageVisit]] = []
        self._committed = 0
        self._pages: list[PageResult] = []
        self._page_urls: set[str] = set()
        self._documents: dict[str, tuple[int | None, str]] = {}
        self._outcomes: dict[str, PageVisit] = {}
        self._progress = (0, 0)
        self._deadline = 0.0
        # A tab being opened when the browser dies is never settled by Playwright, so its
        # visit would never end: the context's close event is what tells the crawl to stop.
        self._closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        context.on("close", self._on_close)

    def _on_close(self, _context: BrowserContext) -> None:
        if not self._closed.done():
            self._closed.set_result(None)

    async def run(self) -> CrawlResult:
        self._deadline = asyncio.get_running_loop().time() + self._options.max_duration_s
        try:
            stopped = await self._crawl()
        finally:
            for task in self._visits:
                task.cancel()
            await asyncio.gather(*self._visits, return_exceptions=True)
        return CrawlResult(
            pages=self._pages, broken_links=self._broken_links(), stopped_reason=stopped
        )

    async def _crawl(self) -> StopReason:
        start = self._options.start_url
        if self._options.login is not None:
            await self._log_in(self._options.login)
        self._robots = await self._fetch_robots()
        if self._options.respect_robots_txt and not self._robots.allows(start):
            raise StartUrlDisallowed(f"robots.txt of {self._origin} disallows {start}")
        self._add(start, 0, None)
        await self._report_progress()
        while self._committed < len(self._queue) and len(self._pages) < self._options.max_pages:
            self._start_visits()
            visit = self._visits[self._committed]
            if not await self._finished(visit):
                return "max_duration"
            await self._commit(self._queue[self._committed], visit.result())
            self._committed += 1
            await self._report_progress()
        return "max_pages" if self._committed < len(self._queue) else "completed"

    async def _log_in(self, login: Login) -> None:
        """Perform the login in a tab of the crawl's context, within the crawl's time."""
        try:
            page = await new_page(self._context)
        except PlaywrightError as exc:
            raise BrowserFailed(f"the browser could not open a tab: {reason(exc)}") from exc
        try:
            await log_in(
                page,
                login,
                step_timeout_s=self._options.page_timeout_s,
                timeout_s=max(self._time_left(), 0.001),
            )
        finally:
            await close_page(page)

    def _time_left(self) -> float:
        return self._deadline - asyncio.get_running_loop().time()

    async def _finished(self, visit: asyncio.Task[PageVisit]) -> bool:
        """Whether ``visit`` ended within the time cap; ``BrowserFailed`` if the browser closed."""
        if self._time_left() > 0:
            either: list[asyncio.Future[Any]] = [visit, self._closed]
            await asyncio.wait(
                either, timeout=self._time_left(), return_when=asyncio.FIRST_COMPLETED
            )
        if self._closed.done():
            raise BrowserFailed("the browser closed during the crawl")
        return visit.done()

    def _start_visits(self) -> None:
        """Start visits in queue order, no more than could still become results."""
        while (
            len(self._visits) < len(self._queue)
            and len(self._pages) + len(self._visits) - self._committed < self._options.max_pages
        ):
            entry = self._queue[len(self._visits)]
            self._visits.append(asyncio.create_task(self._visit(entry)))

    async def _visit(self, entry: _Entry) -> PageVisit:
        async with self._slots:
            return await visit_page(
                self._context,
                entry.url,
                origin=self._origin if entry.depth else None,
                timeout_s=self._options.page_timeout_s,
                referer=entry.referrer,
                audits=self._options.audits,
            )

    async def _commit(self, entry: _Entry, visit: PageVisit) -> None:
        if not self._pages:
            await self._adopt_start_page(visit)
        self._outcomes[entry.url] = visit
        self._outcomes.setdefault(visit.final_url, visit)
        if self._is_duplicate(visit):
            return
        page = visit.to_page(entry.depth, entry.referrer)
        self._pages.append(page)
        self._page_urls.add(page.url)
        self._considered.add(page.url)
        if self._on_page is not None:
            await self._on_page(page)
        if entry.depth >= self._options.depth or visit.broken:
            return
        if not same_origin(page.url, self._origin):
            return
        for link in page.links:
            if link.kind == "page" and link.internal:
                self._add(link.url, entry.depth + 1, page.url, link.name)
        if entry.depth == 0 and self._options.mode == "full":
            self._start_visits()
            await self._add_sitemap_urls()

    async def _adopt_start_page(self, visit: PageVisit) -> None:
        """Fail on a start page that never answered; follow its redirect to another origin."""
        if visit.status is None:
            raise StartPageUnreachable(f"{visit.requested_url}: {visit.error or 'no response'}")
        origin = origin_of(visit.final_url)
        if origin != self._origin:
            self._origin = origin
            self._robots = await self._fetch_robots()

    def _is_duplicate(self, visit: PageVisit) -> bool:
        if visit.final_url in self._page_urls:
            return True
        if visit.analysis is None:
            return False
        key = index_key(visit.final_url)
        document = (visit.status, visit.analysis.fingerprint)
        known = self._documents.get(key)
        if known is None:
            self._documents[key] = document
            return False
        return known == document

    def _add(self, url: str, depth: int, referrer: str | None, name: str = "") -> None:
        """Queue ``url`` (found as a link named ``name``) if it is new, on the origin,
        allowed, and the queue has room."""
        if url in self._considered or len(self._queue) >= 2 * self._options.max_pages:
            return
        self._considered.add(url)
        if not same_origin(url, self._origin) or (depth and not self._filter.allows(url)):
            return
        if depth and self._options.login is not None and looks_like_logout(url, name):
            return
        robots = self._robots
        if self._options.respect_robots_txt and robots is not None and not robots.allows(url):
            return
        self._queue.append(_Entry(url=url, depth=depth, referrer=referrer))

    async def _fetch_robots(self) -> RobotsRules:
        return await fetch_robots(
            self._context.request,
            self._origin,
            agent=robots_agent(self._options.user_agent),
            timeout_s=max(min(self._options.page_timeout_s, self._time_left()), 0.001),
        )

    async def _add_sitemap_urls(self) -> None:
        if self._robots is None or self._time_left() <= 0:
            return
        try:
            urls = await asyncio.wait_for(
                fetch_sitemap_urls(
                    self._context.request,
                    self._origin,
                    self._robots.sitemaps,
                    timeout_s=self._options.page_timeout_s,
                ),
                self._time_left(),
            )
        except TimeoutError:
            return
        for item in urls:
            self._add(item.url, 1, item.sitemap)

    async def _report_progress(self) -> None:
        waiting = len(self._queue) - self._committed
        progress = (min(self._options.max_pages, len(self._pages) + waiting), len(self._pages))
        if progress != self._progress and self._on_progress is not None:
            self._progress = progress
            await self._on_progress(*progress)

    def _broken_links(self) -> list[BrokenLink]:
        broken = []
        for page in self._pages:
            reported: set[str] = set()
            for link in page.links:
                visit = self._outcomes.get(link.url)
                if link.kind != "page" or link.url in reported or visit is None:
                    continue
                if visit.broken:
                    reported.add(link.url)
                    broken.append(
                        BrokenLink(
                            url=link.url,
                            name=link.name,
                            status=visit.status,
                            error=visit.error,
                            found_on=page.url,
                        )
                    )
        return broken
