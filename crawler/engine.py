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
once with the pages committed so far. Each of the two queues below keeps twice
``max_pages`` URLs at most; URLs found beyond are only link-checked.

Query variants. URLs of one path and one set of query keys (``/list?o=1`` and
``/list?o=-2.1`` are both ``/list`` with {o}) are queued ``max_query_variants``
times at most. A URL whose path shape (``path_shape``: ids as ``{id}``) is
already queued waits in a second queue, taken only when the first has run dry
(at a commit, so in a fixed order): new kinds of pages come first, and a list's
sort orders and filters, or its thousand rows, cannot spend the whole budget.

Forms. Each page's visit submits the page's simple GET forms (``crawler.submits``)
whose ``form_key`` no other visit claimed first.

Broken links: every link of every crawled page is checked, one per (target,
page) in the result. Targets the crawl visited have their visit's outcome; the
others (beyond ``depth`` or ``max_pages``, over the variant budget, excluded, on a
page at the depth limit, ``<a download>``) get one request (``crawler.linkcheck``),
counted in ``links_checked``, not in the pages, ``LINK_CHECKS_PER_PAGE`` per
``max_pages`` at most (and at least ``MIN_LINK_CHECKS``). External links too with
``check_external_links``. Not requested: URLs robots.txt disallows (when obeyed)
and, when logged in, URLs that look like logging out.
"""

from __future__ import annotations

import asyncio
import sys
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any, NamedTuple

from playwright.async_api import APIRequestContext, BrowserContext
from playwright.async_api import Error as PlaywrightError

from crawler.audits.audit import prepare_context
from crawler.errors import BrowserFailed, StartPageUnreachable, StartUrlDisallowed
from crawler.form_cases import FormKey
from crawler.linkcheck import EXTERNAL_TIMEOUT_S, LinkStatus, check_link
from crawler.matches import MARK_ENGINE, MARK_ENGINE_JS
from crawler.models import (
    BrokenLink,
    CrawlOptions,
    CrawlResult,
    PageLink,
    PageResult,
    StopReason,
)
from crawler.sitefiles import RobotsRules, fetch_robots, fetch_sitemap_urls, robots_agent
from crawler.tabs import Tabs, close_page
from crawler.urls import (
    UrlFilter,
    index_key,
    looks_like_logout,
    origin_of,
    path_shape,
    same_origin,
    variant_group,
)
from crawler.visit import PageVisit, visit_page
from runner.browsers import Browsers, new_page
from runner.login import Login, log_in
from runner.playback import reason

PageCallback = Callable[[PageResult], Awaitable[None]]
ProgressCallback = Callable[[int, int], Awaitable[None]]

LINK_CHECKS_PER_PAGE = 20
MIN_LINK_CHECKS = 2000
"""Link targets checked by request at most: ``LINK_CHECKS_PER_PAGE`` per ``max_pages``,
and never fewer than ``MIN_LINK_CHECKS``."""

_CHECKED_KINDS = frozenset({"page", "download"})


async def crawl(
    browsers: Browsers,
    options: CrawlOptions,
    *,
    on_page: PageCallback | None = None,
    on_progress: ProgressCallback | None = None,
) -> CrawlResult:
    """Crawl a site with Chromium from ``options.start_url``.

    ``on_page(page)`` is awaited for every page, in result order, as soon as it
    is committed, and the crawl then lets go of it: the result's ``pages`` is
    empty, so a crawl of thousands of pages is never held (without ``on_page``
    the result has every page). Only what the crawl itself needs is kept: the
    URLs seen, each page's URL and the targets and names of its checked links,
    and what each visited or checked URL answered. ``on_progress(pages_found,
    pages_crawled)`` is awaited whenever either count changes (found: pages
    committed plus URLs waiting, at most ``max_pages``). Cancelling the calling task
    stops the crawl, closes its browser context and propagates ``CancelledError``. Raises
    ``StartUrlDisallowed``, ``StartPageUnreachable``, ``LoginFailed`` (a login
    step failed), and ``BrowserFailed`` as soon as the browser closes under the
    crawl (the next crawl relaunches it).
    """
    await browsers.register_selector_engine(MARK_ENGINE, MARK_ENGINE_JS)
    async with AsyncExitStack() as stack:
        context = await stack.enter_async_context(
            browsers.context("chromium", **context_options(options))
        )
        context.set_default_timeout(options.page_timeout_s * 1000)
        await prepare_context(context, options.audits)
        external = None
        if options.check_external_links:
            agent = {"user_agent": options.user_agent} if options.user_agent else {}
            external = await stack.enter_async_context(browsers.request_context(**agent))
        return await _Crawl(context, external, options, on_page, on_progress).run()


def context_options(options: CrawlOptions) -> dict[str, Any]:
    """The options of a crawl's browser context (``Browser.new_context`` keywords)."""
    made: dict[str, Any] = {"accept_downloads": False, "service_workers": "block"}
    if options.headers:
        made["extra_http_headers"] = dict(options.headers)
    if options.user_agent:
        made["user_agent"] = options.user_agent
    if options.login is not None:
        made["base_url"] = options.base_url or options.start_url
    return made


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
        external: APIRequestContext | None,
        options: CrawlOptions,
        on_page: PageCallback | None,
        on_progress: ProgressCallback | None,
    ) -> None:
        self._context = context
        self._tabs = Tabs(context)
        self._external = external
        self._options = options
        self._on_page = on_page
        self._on_progress = on_progress
        self._filter = UrlFilter(options.include_patterns, options.exclude_patterns)
        self._slots = asyncio.Semaphore(options.concurrency)
        self._origin = origin_of(options.start_url)
        self._robots: RobotsRules | None = None
        self._queue: list[_Entry] = []
        self._variants: list[_Entry] = []
        self._shapes: set[str] = set()
        self._groups: Counter[tuple[str, frozenset[str]]] = Counter()
        self._considered: set[str] = set()
        self._waiting_urls: set[str] = set()
        self._claimed_forms: set[FormKey] = set()
        # Per link target asked for: its check while running, then what it answered.
        self._checks: dict[str, asyncio.Task[None] | LinkStatus] = {}
        self._checks_open = asyncio.Semaphore(options.concurrency)
        # A visit's task is dropped once committed: it holds the whole page.
        self._visits: list[asyncio.Task[PageVisit] | None] = []
        self._committed = 0
        self._count = 0
        self._pages: list[PageResult] | None = None if on_page is not None else []
        self._links: list[tuple[str, tuple[_Link, ...]]] = []
        self._page_urls: set[str] = set()
        self._documents: dict[str, tuple[int | None, str]] = {}
        self._outcomes: dict[str, LinkStatus] = {}
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
            if stopped != "max_duration":
                for _url, links in self._links:
                    self._check_links(links)
                if not await self._checked():
                    stopped = "max_duration"
        finally:
            tasks = [*filter(None, self._visits), *self._running_checks()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        return CrawlResult(
            pages=self._pages or [],
            pages_crawled=self._count,
            broken_links=self._broken_links(),
            stopped_reason=stopped,
            links_checked=sum(isinstance(check, LinkStatus) for check in self._checks.values()),
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
        while self._count < self._options.max_pages:
            if self._committed == len(self._queue):
                if not self._variants:
                    return "completed"
                # Every new path is crawled: now the variants, in the order they were found.
                self._queue += self._variants
                self._variants = []
            self._start_visits()
            visit = self._visits[self._committed]
            assert visit is not None  # not yet committed
            if not await self._finished(visit):
                return "max_duration"
            self._visits[self._committed] = None
            await self._commit(self._queue[self._committed], visit.result())
            self._committed += 1
            await self._report_progress()
        return "max_pages" if self._waiting() else "completed"

    def _waiting(self) -> int:
        return len(self._queue) - self._committed + len(self._variants)

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
            and self._count + len(self._visits) - self._committed < self._options.max_pages
        ):
            entry = self._queue[len(self._visits)]
            self._visits.append(asyncio.create_task(self._visit(entry)))

    async def _visit(self, entry: _Entry) -> PageVisit:
        async with self._slots:
            return await visit_page(
                self._tabs,
                entry.url,
                origin=self._origin if entry.depth else None,
                timeout_s=self._options.page_timeout_s,
                referer=entry.referrer,
                verify=self._options.prepare_generation,
                claim_form=self._claim_form if self._options.prepare_generation else None,
                audits=self._options.audits,
            )

    def _claim_form(self, key: FormKey) -> bool:
        """True for the first visit asking to submit the form ``key``."""
        if key in self._claimed_forms:
            return False
        self._claimed_forms.add(key)
        return True

    async def _commit(self, entry: _Entry, visit: PageVisit) -> None:
        self._waiting_urls.discard(entry.url)
        if not self._count:
            await self._adopt_start_page(visit)
        outcome = LinkStatus(status=visit.status, error=visit.error)
        self._outcomes[entry.url] = outcome
        self._outcomes.setdefault(visit.final_url, outcome)
        if self._is_duplicate(visit):
            return
        page = visit.to_page(entry.depth, entry.referrer)
        self._count += 1
        links = _checked_links(page.links)
        self._links.append((sys.intern(page.url), links))
        self._page_urls.add(page.url)
        self._considered.add(page.url)
        if self._pages is not None:
            self._pages.append(page)
        else:
            assert self._on_page is not None
            await self._on_page(page)
        follow = entry.depth < self._options.depth and not visit.broken
        if follow and same_origin(page.url, self._origin):
            for link in page.links:
                if link.kind == "page" and link.internal:
                    self._add(link.url, entry.depth + 1, page.url, link.name)
        self._check_links(links, only_unqueued=True)
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
        allowed, within the variant budget, and the queues have room."""
        if url in self._considered:
            return
        self._considered.add(url)
        if not same_origin(url, self._origin) or (depth and not self._filter.allows(url)):
            return
        if depth and self._options.login is not None and looks_like_logout(url, name):
            return
        if not self._may_request(url):
            return
        group, shape = variant_group(url), path_shape(url)
        if self._groups[group] >= self._options.max_query_variants:
            return
        # Each queue keeps twice max_pages at most: variants never crowd out new pages.
        queue = self._variants if shape in self._shapes else self._queue
        if len(queue) >= 2 * self._options.max_pages:
            return
        self._groups[group] += 1
        self._shapes.add(shape)
        self._waiting_urls.add(url)
        queue.append(_Entry(url=url, depth=depth, referrer=referrer))

    def _may_request(self, url: str) -> bool:
        """Whether robots.txt (when obeyed) lets the crawl fetch ``url``."""
        robots = self._robots
        return not (
            self._options.respect_robots_txt and robots is not None and not robots.allows(url)
        )

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
        waiting = self._waiting()
        progress = (min(self._options.max_pages, self._count + waiting), self._count)
        if progress != self._progress and self._on_progress is not None:
            self._progress = progress
            await self._on_progress(*progress)

    def _check_links(self, links: Sequence[_Link], *, only_unqueued: bool = False) -> None:
        """Start checking the targets of a page's ``links`` the crawl will not visit.

        ``only_unqueued``: only those never queued (at a commit); at the end, those
        queued but not visited too.
        """
        most = max(MIN_LINK_CHECKS, LINK_CHECKS_PER_PAGE * self._options.max_pages)
        for link in links:
            url = link.url
            if len(self._checks) >= most:
                return
            if url in self._checks or url in self._outcomes:
                continue
            if link.internal:
                if only_unqueued and url in self._waiting_urls:
                    continue
                if not self._may_request(url) or (
                    self._options.login is not None and looks_like_logout(url, link.name)
                ):
                    continue
                request, timeout_s = self._context.request, self._options.page_timeout_s
            elif self._external is not None:
                request, timeout_s = self._external, EXTERNAL_TIMEOUT_S
            else:
                continue
            self._checks[url] = asyncio.create_task(self._check(request, url, timeout_s))

    async def _check(self, request: APIRequestContext, url: str, timeout_s: float) -> None:
        async with self._checks_open:
            status = await check_link(request, url, timeout_s=timeout_s)
        self._checks[url] = status  # in place of this task, which then goes

    def _running_checks(self) -> list[asyncio.Task[None]]:
        return [check for check in self._checks.values() if isinstance(check, asyncio.Task)]

    async def _checked(self) -> bool:
        """Wait for the link checks within the time cap; whether they all ended."""
        pending = [task for task in self._running_checks() if not task.done()]
        if pending and self._time_left() > 0:
            await asyncio.wait(pending, timeout=self._time_left())
        if self._closed.done():
            raise BrowserFailed("the browser closed during the crawl")
        return all(task.done() for task in self._running_checks())

    def _link_status(self, url: str) -> LinkStatus | None:
        outcome = self._outcomes.get(url)
        if outcome is not None:
            return outcome
        check = self._checks.get(url)
        if check is None or isinstance(check, LinkStatus):
            return check
        if check.done() and not check.cancelled():
            check.result()  # a check that failed unexpectedly says why
        return None

    def _broken_links(self) -> list[BrokenLink]:
        broken = []
        for found_on, links in self._links:
            reported: set[str] = set()
            for link in links:
                if link.url in reported:
                    continue
                status = self._link_status(link.url)
                if status is not None and status.broken:
                    reported.add(link.url)
                    broken.append(
                        BrokenLink(
                            url=link.url,
                            name=link.name,
                            status=status.status,
                            error=status.error,
                            found_on=found_on,
                            internal=link.internal,
                        )
                    )
        return broken


class _Link(NamedTuple):
    """What link checking keeps of a page's link once the page is committed."""

    url: str
    name: str
    internal: bool


def _checked_links(links: Sequence[PageLink]) -> tuple[_Link, ...]:
    """The links of a page whose targets are checked, each (target, name) once, in document
    order; their strings interned, since most pages link to the same few (a menu)."""
    kept = {(link.url, link.name): link.internal for link in links if link.kind in _CHECKED_KINDS}
    return tuple(
        _Link(sys.intern(url), sys.intern(name), internal) for (url, name), internal in kept.items()
    )
