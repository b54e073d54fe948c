"""Visiting one URL: load it in one of the crawl's tabs, audit it, read it in one go.

The tab is borrowed from the crawl's ``crawler.tabs.Tabs`` and navigated; what the
page does while it loads is recorded by the tab (console errors, page errors,
failed sub-requests, downloads). The document's status and headers are those of
``goto``'s response (for a download, of the failed navigation's response; for a
load that timed out, what the page's Navigation Timing tells). Then one
``page.evaluate`` (``crawler.reading``) reads the document: links, forms, headings,
the parts that change from load to load. After that, the locators generated steps
would use are verified in the live page (``crawler.locators``) and, when the crawl
passes ``claim_form``, the page's simple GET forms no other page claimed are
submitted (``crawler.submits``).

A visit never hangs and never raises for a bad page: the navigation waits for
the ``load`` event at most ``timeout_s`` and the reading of whatever loaded gets
as long again; dialogs are dismissed, popups closed, downloads cancelled by the
context (``accept_downloads=False``) and reported as such, and documents that
are not HTML are reported with their status and content type but not read.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Response
from playwright.async_api import TimeoutError as PlaywrightTimeoutError

from crawler.analysis import PageAnalysis
from crawler.audits.audit import audit_page
from crawler.audits.models import AuditCategory, PageAudits
from crawler.locators import verify_targets
from crawler.models import FailedRequest, PageResult
from crawler.reading import HTML_TYPES, PageRead, read_page
from crawler.submits import FormClaim, submit_forms
from crawler.tabs import Tab, Tabs
from crawler.urls import normalise_url, same_origin

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


@dataclass(frozen=True)
class _Document:
    """The document a visit loaded, from its main response."""

    url: str
    status: int
    content_type: str | None

    @classmethod
    def of(cls, response: Response) -> _Document:
        value = response.headers.get("content-type", "").split(";")[0].strip().lower()
        return cls(response.url, response.status, value or None)


async def visit_page(
    tabs: Tabs,
    url: str,
    *,
    origin: str | None,
    timeout_s: float,
    referer: str | None = None,
    verify: bool = True,
    claim_form: FormClaim | None = None,
    audits: Collection[AuditCategory] = (),
) -> PageVisit:
    """Load ``url`` in a tab of ``tabs``, audit and read it.

    Links found are internal when on ``origin`` (``None``: the page's own origin). An HTML
    page that loaded with a 2xx status is audited in the ``audits`` categories. With
    ``verify``, the locators of generated steps are verified; with ``claim_form``, GET
    forms it claims are submitted after that.
    Raises ``BrowserFailed`` when the browser cannot open a tab.
    """
    async with tabs.tab() as tab:
        visit = await _load(tab, url, origin, timeout_s, referer, verify, audits)
        analysis = visit.analysis
        on_site = origin is None or same_origin(visit.final_url, origin)
        if analysis is not None and claim_form is not None and on_site and not visit.broken:
            await submit_forms(tab.page, analysis, claim_form, timeout_s=timeout_s)
            # The tab shows a page the crawl did not read, with the submission's listeners.
            if any(form.submission is not None for form in analysis.forms):
                tab.reusable = False
        return visit


async def _load(
    tab: Tab,
    url: str,
    origin: str | None,
    timeout_s: float,
    referer: str | None,
    verify: bool,
    categories: Collection[AuditCategory],
) -> PageVisit:
    page = tab.page
    showing_read_page, tab.reusable = tab.reusable, False
    tab.begin()
    loop = asyncio.get_running_loop()
    started = loop.time()
    error: str | None = None
    response: Response | None = None
    try:
        response = await page.goto(
            url, wait_until="load", timeout=timeout_s * 1000, referer=referer
        )
    except PlaywrightTimeoutError:
        error = f"the page did not finish loading within {timeout_s:g} s"
    except PlaywrightError as exc:
        error = _describe(exc)
    load_time = round((loop.time() - started) * 1000)
    download = tab.download or error == _DOWNLOAD_ERROR
    if download:
        error = None
        # The tab still shows what it showed before: a download does not replace it.
        tab.reusable = showing_read_page
    if response is None and (download or tab.committed):
        response = await tab.document_response(timeout_s)
    document = _Document.of(response) if response is not None else None
    html = not download and document is not None and document.content_type in (*HTML_TYPES, None)
    audits: PageAudits | None = None
    read: PageRead | None = None
    if html:
        if error is None and categories and response is not None and response.ok:
            audits = await audit_page(page, response, categories, timeout_s=timeout_s)
        read, error = await _read(tab, origin, timeout_s, error)
    tab.end()
    analysis = read.analysis if read is not None else None
    if analysis is not None and error is None:
        tab.reusable = True
    if analysis is not None and verify:
        try:
            analysis = await asyncio.wait_for(verify_targets(page, analysis), timeout_s)
        except TimeoutError:
            # The targets stay unverified; the page may still be busy, so it serves no other URL.
            tab.reusable = False
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
        content_type=document.content_type if document else None,
        download=download,
        load_time=load_time,
        error=error,
        analysis=analysis,
        console_errors=_console_errors(tab, document) if html else [],
        failed_requests=_failed_requests(tab, document, read) if html else [],
        dynamic=read.dynamic if read is not None else [],
        audits=audits,
    )


async def _read(
    tab: Tab, origin: str | None, timeout_s: float, error: str | None
) -> tuple[PageRead | None, str | None]:
    """Read the tab's page within ``timeout_s``; the read, and the visit's error after it."""
    resources = [failure.url for failure in tab.http_failures]
    try:
        read = await asyncio.wait_for(read_page(tab.page, origin, resources), timeout_s)
    except TimeoutError:
        return None, error or f"the page could not be analysed within {timeout_s:g} s"
    except PlaywrightError as exc:
        return None, error or f"the page could not be analysed: {_describe(exc)}"
    return read, error


def _not_the_pages(url: str, document: _Document | None) -> bool:
    """A load failure that is no resource of the page: its own status, or the favicon
    that Chromium fetches once per browser (so only the first crawl of a site sees it)."""
    return (document is not None and url == document.url) or urlsplit(url).path == _FAVICON


def _console_errors(tab: Tab, document: _Document | None) -> list[str]:
    return sorted(
        error.text
        for error in tab.console_errors
        if error.resource is None or not _not_the_pages(error.resource, document)
    )


def _failed_requests(
    tab: Tab, document: _Document | None, read: PageRead | None
) -> list[FailedRequest]:
    types = read.resource_types if read is not None else {}
    failed = [
        FailedRequest(
            url=failure.url,
            resource_type=types.get(failure.url, "other"),
            status=failure.status,
            error=None,
        )
        for failure in tab.http_failures
        if not _not_the_pages(failure.url, document)
    ]
    failed += [
        FailedRequest(
            url=failure.url, resource_type=failure.resource_type, status=None, error=failure.error
        )
        for failure in tab.network_failures
    ]
    return sorted(failed, key=lambda f: (f.url, f.status or 0, f.error or ""))


def _describe(exc: PlaywrightError) -> str:
    """The first line of a Playwright error, without the API name and the URL it repeats."""
    line = exc.message.strip().splitlines()[0] if exc.message.strip() else "unknown error"
    api, _, rest = line.partition(": ")
    if rest and api.replace(".", "").replace("_", "").isalnum():
        line = rest
    return line.split(" at http", 1)[0]
