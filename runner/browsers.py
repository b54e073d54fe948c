"""One Playwright instance per process, one browser per browser type.

Browsers are launched (or connected to) on first use, relaunched when they die,
and every crawl and test case gets its own ``BrowserContext`` from
:meth:`Browsers.context`.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

from playwright.async_api import (
    APIRequestContext,
    Browser,
    BrowserContext,
    BrowserType,
    Page,
    Playwright,
    async_playwright,
)
from playwright.async_api import Error as PlaywrightError
from pydantic import BaseModel, ConfigDict

from runner.errors import BrowserNotAvailable

BrowserName = Literal["chromium", "firefox", "webkit"]
BROWSER_NAMES: tuple[BrowserName, ...] = ("chromium", "firefox", "webkit")

# Without these Chromium keeps dialling Google services and stalls on a closed network.
CHROMIUM_ARGS = [
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
_SYSTEM_CHROMIUMS = ("chromium", "chromium-browser", "google-chrome")


class BrowserSettings(BaseModel):
    """The ``[browsers]`` table: which browsers to use and how to reach them."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    chromium_path: str | None = None
    """Chromium binary to launch; found automatically when unset (see ``find_chromium``)."""

    headless: bool = True
    """Run browsers without a window."""

    ws_endpoint: str | None = None
    """``ws://`` address of a Playwright browser server to connect to instead of launching."""

    cdp_endpoint: str | None = None
    """``http://`` address of a Chromium DevTools endpoint to connect to instead of launching."""


def find_chromium(settings: BrowserSettings, managed_path: str | None) -> str:
    """Pick a Chromium binary: config/env, then Playwright's own build, then the system's."""
    configured = settings.chromium_path or os.environ.get("AEGISD_CHROMIUM_PATH")
    if configured:
        if not Path(configured).is_file():
            raise BrowserNotAvailable(f"chromium_path {configured} does not exist")
        return configured
    if managed_path and Path(managed_path).is_file():
        return managed_path
    for name in _SYSTEM_CHROMIUMS:
        found = shutil.which(name)
        if found:
            return found
    raise BrowserNotAvailable(
        "no Chromium found: install one (Debian: apt-get install chromium) "
        "or set browsers.chromium_path / AEGISD_CHROMIUM_PATH"
    )


def _managed_path(browser_type: BrowserType) -> str | None:
    try:
        return browser_type.executable_path
    except Exception:  # Playwright raises when it has no build registered for this host
        return None


class Browsers:
    """The process's browsers; use as ``async with Browsers(settings) as browsers``."""

    def __init__(self, settings: BrowserSettings) -> None:
        self.settings = settings
        self._playwright: Playwright | None = None
        self._browsers: dict[str, Browser] = {}
        self._locks: dict[str, asyncio.Lock] = {name: asyncio.Lock() for name in BROWSER_NAMES}

    async def __aenter__(self) -> Browsers:
        self._playwright = await async_playwright().start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for browser in list(self._browsers.values()):
            with suppress(Exception):  # already gone; closing is best effort
                await browser.close()
        self._browsers.clear()
        if self._playwright is not None:
            await self._playwright.stop()
            self._playwright = None

    def _type(self, name: str) -> BrowserType:
        if self._playwright is None:
            raise RuntimeError("Browsers used outside its async context")
        if name not in BROWSER_NAMES:
            raise BrowserNotAvailable(
                f"unknown browser {name!r}: use one of {', '.join(BROWSER_NAMES)}"
            )
        browser_type: BrowserType = getattr(self._playwright, name)
        return browser_type

    def check_available(self, name: str) -> None:
        """Raise ``BrowserNotAvailable`` now if ``name`` could not be launched or reached."""
        browser_type = self._type(name)
        if self.settings.ws_endpoint:
            return
        if name == "chromium":
            if not self.settings.cdp_endpoint:
                find_chromium(self.settings, _managed_path(browser_type))
            return
        managed = _managed_path(browser_type)
        if not managed or not Path(managed).is_file():
            raise BrowserNotAvailable(
                f"{name} is not installed: run `playwright install {name}` on a machine with "
                f"internet access, or set browsers.ws_endpoint to a Playwright server that has it"
            )

    async def get(self, name: str = "chromium") -> Browser:
        """The running browser of type ``name``, launched or reconnected when needed."""
        self._type(name)
        async with self._locks[name]:
            browser = self._browsers.get(name)
            if browser is not None and browser.is_connected():
                return browser
            self.check_available(name)
            browser = await self._start(name)
            self._browsers[name] = browser
            return browser

    async def _start(self, name: str) -> Browser:
        browser_type = self._type(name)
        settings = self.settings
        if settings.ws_endpoint:
            return await browser_type.connect(settings.ws_endpoint)
        if name == "chromium" and settings.cdp_endpoint:
            return await browser_type.connect_over_cdp(settings.cdp_endpoint)
        options: dict[str, Any] = {"headless": settings.headless}
        if name == "chromium":
            args = list(CHROMIUM_ARGS)
            if hasattr(os, "geteuid") and os.geteuid() == 0:
                args.append("--no-sandbox")
            options["args"] = args
            options["executable_path"] = find_chromium(settings, _managed_path(browser_type))
        return await browser_type.launch(**options)

    @asynccontextmanager
    async def context(
        self, name: str = "chromium", **options: Any
    ) -> AsyncIterator[BrowserContext]:
        """A fresh ``BrowserContext`` (keyword options as for ``Browser.new_context``)."""
        browser = await self.get(name)
        context = await browser.new_context(**options)
        try:
            yield context
        finally:
            with suppress(Exception):  # the browser died under us; nothing left to close
                await context.close()

    @asynccontextmanager
    async def request_context(self, **options: Any) -> AsyncIterator[APIRequestContext]:
        """A fresh HTTP client of Playwright's own, sharing nothing with any browser context
        (keyword options as for ``APIRequest.new_context``)."""
        if self._playwright is None:
            raise RuntimeError("Browsers used outside its async context")
        request = await self._playwright.request.new_context(**options)
        try:
            yield request
        finally:
            with suppress(Exception):  # closing is best effort
                await request.dispose()


async def new_page(context: BrowserContext) -> Page:
    """A new tab of ``context``; fails at once when the browser dies meanwhile, where
    Playwright would leave ``new_page`` waiting forever."""
    closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def on_close(_: BrowserContext) -> None:
        if not closed.done():
            closed.set_result(None)

    context.once("close", on_close)
    opening = asyncio.ensure_future(context.new_page())
    either: set[asyncio.Future[Any]] = {opening, closed}
    try:
        await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
    finally:
        if not opening.done():
            # Cancelling only requests it: ``opening`` is not done until it runs again.
            opening.cancel()
    if not opening.done() or opening.cancelled():
        raise PlaywrightError("the browser closed before the page opened")
    return opening.result()
