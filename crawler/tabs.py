"""The crawl's tabs: one per concurrent visit, reused from URL to URL.

Opening a tab costs Chromium several times what loading a small page in an open
one does, so each visit borrows an idle tab (``Tabs.tab``) and navigates it. A
tab keeps its listeners for life; ``Tab.begin`` starts a visit's record and
``Tab.end`` closes it, so nothing the previous page did counts for the next:

- console errors, uncaught page errors and failed sub-requests count only once
  the visit's navigation has committed (the first main-frame ``framenavigated``),
  so a previous document still running until then adds nothing;
- the tab listens to requests only until it has heard the visit's navigation
  request (how a download's or a timed-out page's status is known), and to
  ``requestfailed``, which the driver reports for failures only, not every
  response; a sub-request answered 4xx/5xx is known from Chromium's console
  error naming its URL and status ("Failed to load resource: the server
  responded with a status of 404");
- dialogs are dismissed by Playwright (no dialog listener is registered), popups
  are closed as they open, downloads are cancelled by the context.

A visit sets ``reusable`` to say whether the tab may serve the next URL: only a
tab holding a document the crawl has read (or still the blank one it opened
with) is given out again. Any other tab (a load that failed or timed out, a
page that could not be read, a form submitted from it, a closed or crashed tab)
is closed and replaced, so a stuck navigation, a busy script or a page the crawl
did not read cannot leak into another URL's data.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field

from playwright.async_api import (
    BrowserContext,
    ConsoleMessage,
    Download,
    Frame,
    Page,
    Request,
    Response,
)
from playwright.async_api import Error as PlaywrightError

from crawler.errors import BrowserFailed
from runner.browsers import new_page
from runner.playback import reason

MAX_MESSAGES = 100
"""Most console errors, and most failed requests, kept per page."""

MAX_MESSAGE_CHARS = 1000
_FAILED_RESOURCE = "Failed to load resource"
_FAILED_STATUS = re.compile(r"the server responded with a status of (\d+)")

_CLOSE_TIMEOUT_S = 5.0
_WEB = ("http:", "https:")


@dataclass(frozen=True)
class ConsoleError:
    """A console error or uncaught page error; ``resource`` is the URL Chromium's
    "Failed to load resource" message is about."""

    text: str
    resource: str | None = None


@dataclass(frozen=True)
class HttpFailure:
    """A sub-request answered with an error status, as Chromium's console reported it."""

    url: str
    status: int


@dataclass(frozen=True)
class NetworkFailure:
    """A sub-request that got no response (refused, reset, blocked...)."""

    url: str
    resource_type: str
    error: str


@dataclass
class Tab:
    """One tab of the crawl and the record of the visit it is serving."""

    page: Page
    reusable: bool = True
    """Whether the tab may serve another URL after this visit (the visit decides)."""

    crashed: bool = False

    recording: bool = False
    committed: bool = False
    """Whether the visit's navigation has replaced the previous document."""

    download: bool = False
    navigation: Request | None = None
    """The request the visit's navigation started with."""

    console_errors: list[ConsoleError] = field(default_factory=list)
    """Console messages of type error and uncaught page errors, each cut to
    ``MAX_MESSAGE_CHARS``."""

    http_failures: list[HttpFailure] = field(default_factory=list)
    network_failures: list[NetworkFailure] = field(default_factory=list)
    _hearing_requests: bool = False

    def __post_init__(self) -> None:
        self.page.on("framenavigated", self._on_navigated)
        self.page.on("requestfailed", self._on_request_failed)
        self.page.on("console", self._on_console)
        self.page.on("pageerror", self._on_page_error)
        self.page.on("download", self._on_download)
        self.page.on("popup", _close_popup)
        self.page.on("crash", self._on_crash)

    def begin(self) -> None:
        """Start recording a new visit, forgetting the previous one's."""
        self.recording, self.committed, self.download = True, False, False
        self.navigation = None
        self.console_errors, self.http_failures, self.network_failures = [], [], []
        # Every request crosses the driver while someone listens: only until the first.
        if not self._hearing_requests:
            self._hearing_requests = True
            self.page.on("request", self._on_request)

    def end(self) -> None:
        """Stop recording: what the page does from now on is no longer its visit's."""
        self.recording = False
        self._stop_hearing_requests()

    async def document_response(self, timeout_s: float) -> Response | None:
        """The response that ended the visit's navigation (after redirects), waiting up to
        ``timeout_s`` for it; ``None`` without one (or if it is a redirect)."""
        request = self.navigation
        if request is None:
            return None
        while request.redirected_to is not None:
            request = request.redirected_to
        try:
            response = await asyncio.wait_for(request.response(), timeout_s)
        except (PlaywrightError, TimeoutError):
            return None
        if response is None or 300 <= response.status < 400:
            return None
        return response

    def _on_request(self, request: Request) -> None:
        if self._is_document(request):
            self.navigation = request
            self._stop_hearing_requests()

    def _stop_hearing_requests(self) -> None:
        if self._hearing_requests:
            self._hearing_requests = False
            self.page.remove_listener("request", self._on_request)

    def _is_document(self, request: Request) -> bool:
        return request.is_navigation_request() and request.frame == self.page.main_frame

    def _on_navigated(self, frame: Frame) -> None:
        if self.recording and frame == self.page.main_frame:
            self.committed = True

    def _on_request_failed(self, request: Request) -> None:
        failure = request.failure or "failed"
        # Aborts come from the page cancelling its own requests, or from leaving the page.
        if not self._heard() or "ERR_ABORTED" in failure or self._is_document(request):
            return
        if not request.url.startswith(_WEB):
            return
        if len(self.network_failures) < MAX_MESSAGES:
            failed = NetworkFailure(request.url, request.resource_type, failure)
            self.network_failures.append(failed)

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type != "error" or not self._heard():
            return
        text, resource = message.text, None
        if text.startswith(_FAILED_RESOURCE):
            resource = message.location.get("url", "")
            status = _FAILED_STATUS.search(text)
            if status and resource.startswith(_WEB) and len(self.http_failures) < MAX_MESSAGES:
                self.http_failures.append(HttpFailure(resource, int(status.group(1))))
        self._add_error(text, resource)

    def _on_page_error(self, error: PlaywrightError) -> None:
        if self._heard():
            self._add_error(f"{error.name}: {error.message}" if error.name else error.message)

    def _add_error(self, text: str, resource: str | None = None) -> None:
        if len(self.console_errors) < MAX_MESSAGES:
            self.console_errors.append(ConsoleError(text[:MAX_MESSAGE_CHARS], resource))

    def _heard(self) -> bool:
        return self.recording and self.committed

    def _on_download(self, download: Download) -> None:
        # A download's event can come after its visit ended: it is the next visit's only
        # if that visit's navigation asked for it.
        if self.recording and self._navigated_to(download.url):
            self.download = True

    def _navigated_to(self, url: str) -> bool:
        request = self.navigation
        while request is not None:
            if request.url == url:
                return True
            request = request.redirected_to
        return False

    def _on_crash(self, _page: Page) -> None:
        self.crashed = True


async def _close_popup(popup: Page) -> None:
    with suppress(PlaywrightError):
        await popup.close()


class Tabs:
    """The tabs of one crawl's context: ``async with tabs.tab() as tab`` lends one."""

    def __init__(self, context: BrowserContext) -> None:
        self._context = context
        self._idle: list[Tab] = []

    @asynccontextmanager
    async def tab(self) -> AsyncIterator[Tab]:
        """An idle tab, or a new one; it is closed afterwards unless it stayed ``reusable``.

        Raises ``BrowserFailed`` when the browser cannot open a tab.
        """
        tab = self._idle.pop() if self._idle else await self._open()
        reusable = False
        try:
            yield tab
            reusable = tab.reusable and not tab.crashed and not tab.page.is_closed()
        finally:
            tab.end()
            if reusable:
                self._idle.append(tab)
            else:
                await close_page(tab.page)

    async def _open(self) -> Tab:
        try:
            page = await new_page(self._context)
        except PlaywrightError as exc:
            raise BrowserFailed(f"the browser could not open a tab: {reason(exc)}") from exc
        return Tab(page)


async def close_page(page: Page) -> None:
    """Close a tab, waiting a few seconds at most: Chromium can leave a close unanswered."""
    with suppress(PlaywrightError, TimeoutError):
        await asyncio.wait_for(page.close(), _CLOSE_TIMEOUT_S)
