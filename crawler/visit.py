"""Visiting one URL: load it in a fresh tab, watch what it does, analyse what loaded.

After the analysis, the locators generated steps would use are verified in the
live page (``crawler.locators``) and, when the crawl passes ``claim_form``, the
page's simple GET forms no other page claimed are submitted (``crawler.submits``).

A visit never hangs and never raises for a bad page: the navigation waits for
the ``load`` event at most ``timeout_s`` and the analysis of whatever loaded
gets as long again; dialogs are dismissed by Playwright (no dialog listener is
registered), popups are closed as they open, downloads are cancelled by the
context (``accept_downloads=False``) and reported as such, and documents that
are not HTML are reported with their status and content type but not read.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from contextlib import suppress
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from playwright.async_api import BrowserContext, ConsoleMessage, Download, Page, Request, Response
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeoutError

from crawler.analysis import PageAnalysis, analyse_page
from crawler.audits.audit import audit_page
from crawler.audits.models import AuditCategory, PageAudits
from crawler.dynamic import find_dynamic
from crawler.errors import BrowserFailed
from crawler.locators import verify_targets
from crawler.models import FailedRequest, PageResult
from crawler.submits import FormClaim, submit_forms
from crawler.urls import normalise_url, same_origin

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_MAX_MESSAGES = 100
_MAX_MESSAGE_CHARS = 1000
_CLOSE_TIMEOUT_S = 5.0
_DOWNLOAD_ERROR = "Download is starting"
_FAVICON = "/favicon.ico"


@dataclass(frozen=True)
class PageVisit:
    """What happened when one URL was loaded."""

    requested_url: str
    final_url: str
    status: int | None
    content_type: str | None
    download: bool
    load_time: int
    error: str | None
    analysis: PageAnalysis | None
    console_errors: list[str]
    failed_requests: list[FailedRequest]
    dynamic: list[str] | None = field(default_factory=list)
    audits: PageAudits | None = None

    @property
    def broken(self) -> bool:
        """Answered 4xx/5xx, or gave no response at all."""
        return self.status is None or self.status >= 400

    def to_page(self, depth: int, referrer: str | None) -> PageResult:
        """The visit as the page it found, ``depth`` hops from the start page."""
        analysis = self.analysis
        return PageResult(
            url=self.final_url,
            redirected_from=self.requested_url if self.requested_url != self.final_url else None,
            status=self.status,
            content_type=self.content_type,
            title=analysis.title if analysis else "",
            heading=analysis.heading if analysis else None,
            heading_target=analysis.heading_target if analysis else None,
            depth=depth,
            referrer=referrer,
            load_time=self.load_time,
            links=analysis.links if analysis else [],
            forms=analysis.forms if analysis else [],
            console_errors=self.console_errors,
            failed_requests=self.failed_requests,
            download=self.download,
            truncated=analysis.truncated if analysis else False,
            error=self.error,
            unlocated=analysis.unlocated if analysis else [],
            dynamic=self.dynamic,
            audits=self.audits,
        )


@dataclass
class _PageWatch:
    """Records what a page does while it is visited, until ``recording`` is switched off."""

    page: Page
    recording: bool = True
    document: Response | None = None
    download: bool = False
    console_errors: list[str] = field(default_factory=list)
    failed_requests: list[FailedRequest] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.page.on("response", self._on_response)
        self.page.on("requestfailed", self._on_request_failed)
        self.page.on("console", self._on_console)
        self.page.on("pageerror", self._on_page_error)
        self.page.on("download", self._on_download)
        self.page.on("popup", _close_popup)

    def _is_document(self, request: Request) -> bool:
        return request.is_navigation_request() and request.frame == self.page.main_frame

    def _on_response(self, response: Response) -> None:
        if not self.recording:
            return
        if self._is_document(response.request):
            if not 300 <= response.status < 400:
                self.document = response
        elif response.status >= 400 and response.url.startswith(("http:", "https:")):
            self._add_failure(response.request, response.status, None)

    def _on_request_failed(self, request: Request) -> None:
        failure = request.failure or "failed"
        # Aborts come from the page cancelling its own requests, or from closing the tab.
        if not self.recording or "ERR_ABORTED" in failure or self._is_document(request):
            return
        if request.url.startswith(("http:", "https:")):
            self._add_failure(request, None, failure)

    def _add_failure(self, request: Request, status: int | None, error: str | None) -> None:
        if len(self.failed_requests) < _MAX_MESSAGES:
            self.failed_requests.append(
                FailedRequest(
                    url=request.url,
                    resource_type=request.resource_type,
                    status=status,
                    error=error,
                )
            )

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        if message.text.startswith("Failed to load resource") and self._not_the_pages(
            message.location.get("url", "")
        ):
            return
        self._add_error(message.text)

    def _not_the_pages(self, url: str) -> bool:
        """A load failure that is no resource of the page: its own status, or the favicon
        that Chromium fetches once per browser (so only the first crawl of a site sees it)."""
        document = self.document
        return (document is not None and url == document.url) or urlsplit(url).path == _FAVICON

    def _on_page_error(self, error: PlaywrightError) -> None:
        self._add_error(f"{error.name}: {error.message}" if error.name else error.message)

    def _add_error(self, text: str) -> None:
        if self.recording and len(self.console_errors) < _MAX_MESSAGES:
            self.console_errors.append(text[:_MAX_MESSAGE_CHARS])

    def _on_download(self, _download: Download) -> None:
        self.download = True


async def _close_popup(popup: Page) -> None:
    with suppress(PlaywrightError):
        await popup.close()


async def visit_page(
    context: BrowserContext,
    url: str,
    *,
    origin: str | None,
    timeout_s: float,
    referer: str | None = None,
    verify: bool = True,
    claim_form: FormClaim | None = None,
    audits: Collection[AuditCategory] = (),
) -> PageVisit:
    """Load ``url`` in a new tab of ``context``, audit and analyse it, close the tab.

    Links found are internal when on ``origin`` (``None``: the page's own origin). An HTML
    page that loaded with a 2xx status is audited in the ``audits`` categories. With
    ``verify``, the locators of generated steps are verified; with ``claim_form``, GET
    forms it claims are submitted after that.
    Raises ``BrowserFailed`` when the browser cannot open the tab.
    """
    try:
        page = await context.new_page()
    except PlaywrightError as exc:
        raise BrowserFailed(f"the browser could not open a tab: {_describe(exc)}") from exc
    watch = _PageWatch(page)
    try:
        visit = await _load(watch, url, origin, timeout_s, referer, verify, audits)
        on_site = origin is None or same_origin(visit.final_url, origin)
        if visit.analysis is not None and claim_form is not None and on_site and not visit.broken:
            await submit_forms(watch.page, visit.analysis, claim_form, timeout_s=timeout_s)
        return visit
    finally:
        watch.recording = False
        await close_page(page)


async def close_page(page: Page) -> None:
    """Close a tab, waiting a few seconds at most: Chromium can leave a close unanswered."""
    with suppress(PlaywrightError, TimeoutError):
        await asyncio.wait_for(page.close(), _CLOSE_TIMEOUT_S)


async def _load(
    watch: _PageWatch,
    url: str,
    origin: str | None,
    timeout_s: float,
    referer: str | None,
    verify: bool,
    categories: Collection[AuditCategory],
) -> PageVisit:
    loop = asyncio.get_running_loop()
    started = loop.time()
    error: str | None = None
    try:
        await watch.page.goto(url, wait_until="load", timeout=timeout_s * 1000, referer=referer)
    except PlaywrightTimeoutError:
        error = f"the page did not finish loading within {timeout_s:g} s"
    except PlaywrightError as exc:
        error = _describe(exc)
    load_time = round((loop.time() - started) * 1000)
    download = watch.download or error == _DOWNLOAD_ERROR
    if download:
        error = None
    document = watch.document
    content_type = _mime_type(document)
    html = document is not None and not download and content_type in (*HTML_TYPES, None)
    analysis: PageAnalysis | None = None
    dynamic: list[str] | None = []
    audits: PageAudits | None = None
    if html and error is None and categories and document is not None and document.ok:
        audits = await audit_page(watch.page, document, categories, timeout_s=timeout_s)
    if html:
        try:
            analysis = await asyncio.wait_for(analyse_page(watch.page, origin), timeout_s)
            dynamic = await asyncio.wait_for(find_dynamic(watch.page), timeout_s)
        except TimeoutError:
            error = error or f"the page could not be analysed within {timeout_s:g} s"
        except PlaywrightError as exc:
            error = error or f"the page could not be analysed: {_describe(exc)}"
    watch.recording = False
    if analysis is not None and verify:
        # Targets verified before a timeout stay good; the rest stay unverified.
        with suppress(TimeoutError):
            analysis = await asyncio.wait_for(verify_targets(watch.page, analysis), timeout_s)
    document = watch.document
    if analysis is not None:
        final_url = analysis.url
    elif document is not None:
        final_url = normalise_url(document.url) or url
    else:
        final_url = url
    return PageVisit(
        requested_url=url,
        final_url=final_url,
        status=document.status if document else None,
        content_type=_mime_type(document),
        download=download,
        load_time=load_time,
        error=error,
        analysis=analysis,
        console_errors=sorted(watch.console_errors) if html else [],
        failed_requests=sorted(
            watch.failed_requests if html else [],
            key=lambda f: (f.url, f.status or 0, f.error or ""),
        ),
        dynamic=dynamic,
        audits=audits,
    )


def _mime_type(response: Response | None) -> str | None:
    if response is None:
        return None
    value = response.headers.get("content-type", "").split(";")[0].strip().lower()
    return value or None


def _describe(exc: PlaywrightError) -> str:
    """The first line of a Playwright error, without the API name and the URL it repeats."""
    line = exc.message.strip().splitlines()[0] if exc.message.strip() else "unknown error"
    api, _, rest = line.partition(": ")
    if rest and api.replace(".", "").replace("_", "").isalnum():
        line = rest
    return line.split(" at http", 1)[0]
