"""One Playwright instance per process, one browser per browser type.

Browsers are launched (or connected to) on first use, relaunched when they die,
and every crawl and test case gets its own ``BrowserContext`` from
:meth:`Browsers.context`.
"""

from __future__ import annotations

import asyncio
import os
import re
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
from runner.playback import reason

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
# Playwright's own default for connect() is to wait forever (a silent firewall).
_CONNECT_TIMEOUT_MS = 30_000
# Playwright's own (experimental) Selenium Grid support reads this from the environment.
_SELENIUM_GRID = "SELENIUM_REMOTE_URL"
# A Playwright server refuses a client of another minor version with this in a box.
_VERSIONS = re.compile(r"server version: v(\d+\.\d+).*?client version: v(\d+\.\d+)", re.S)


class BrowserSettings(BaseModel):
    """The ``[browsers]`` table: which browsers to use and how to reach them."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    chromium_path: str | None = None
    """Chromium binary to launch; found automatically when unset (see ``find_chromium``)."""

    headless: bool = True
    """Run browsers without a window."""

    ws_endpoint: str | None = None
    """``ws://`` address of a Playwright browser server to connect to instead of launching
    (every browser type; the server decides which it can run)."""

    cdp_endpoint: str | None = None
    """``http://`` or ``ws://`` address of a Chromium DevTools endpoint to connect to instead
    of launching Chromium."""


def chromium_args() -> list[str]:
    """The command-line arguments Chromium is launched with here (``--no-sandbox`` as root)."""
    args = list(CHROMIUM_ARGS)
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--no-sandbox")
    return args


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


def _connect_problem(error: PlaywrightError) -> str:
    """Why a connection failed, with a Playwright version mismatch put plainly."""
    versions = _VERSIONS.search(error.message)
    if versions is None:
        return reason(error)
    server, client = versions.groups()
    return (
        f"it runs Playwright {server} and aegisd Playwright {client}; their minor versions "
        f"must match (e.g. `npx playwright@{client} run-server`)"
    )


def _served_name(browser: Browser) -> str | None:
    """The type of browser a server really runs.

    ``connect()`` hands back whatever browser a ``launchServer`` server runs, under the
    type that was asked for; only the protocol's own record says which it is.
    """
    name = getattr(browser._impl_obj, "_browser_name", None)
    return name if isinstance(name, str) else None


class Browsers:
    """The process's browsers; use as ``async with Browsers(settings) as browsers``.

    A browser launched here serves one *slot*: slot 0 is the crawls' and the first worker
    of each run, and a run's other workers each have a slot of their own (as Playwright
    Test gives each worker process its own browser), so its workers do not queue on one
    browser process: Chromium's browser process does each context's setup, navigations
    and a trace's screencast on its one main thread. A remote browser (a server, a CDP
    endpoint, a Grid) is one connection for every slot: the other end decides where
    pages run.
    """

    def __init__(self, settings: BrowserSettings) -> None:
        self.settings = settings
        self._playwright: Playwright | None = None
        self._browsers: dict[tuple[str, int], Browser] = {}
        self._locks: dict[tuple[str, int], asyncio.Lock] = {}
        self._engines: dict[str, asyncio.Task[None]] = {}

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

    async def register_selector_engine(self, name: str, script: str) -> None:
        """Register the selector engine ``name`` (Playwright's ``selectors.register``) for
        every context of this process, once: later calls wait for the first."""
        if self._playwright is None:
            raise RuntimeError("Browsers used outside its async context")
        registering = self._engines.get(name)
        if registering is None:
            registering = asyncio.ensure_future(self._playwright.selectors.register(name, script))
            self._engines[name] = registering
        await asyncio.shield(registering)

    def _type(self, name: str) -> BrowserType:
        if self._playwright is None:
            raise RuntimeError("Browsers used outside its async context")
        if name not in BROWSER_NAMES:
            raise BrowserNotAvailable(
                f"unknown browser {name!r}: use one of {', '.join(BROWSER_NAMES)}"
            )
        browser_type: BrowserType = getattr(self._playwright, name)
        return browser_type

    def remote(self, name: str = "chromium") -> str | None:
        """Where a remote browser of type ``name`` is reached, in words; ``None``: launched here.

        Besides the two endpoints, ``SELENIUM_REMOTE_URL`` in the environment makes
        Playwright open each Chromium as a session of that Selenium Grid.
        """
        if self.settings.ws_endpoint:
            return f"the Playwright server at {self.settings.ws_endpoint}"
        if name != "chromium":
            return None
        if self.settings.cdp_endpoint:
            return f"the Chromium DevTools endpoint at {self.settings.cdp_endpoint}"
        grid = os.environ.get(_SELENIUM_GRID)
        return f"the Selenium Grid at {grid}" if grid else None

    def check_available(self, name: str) -> None:
        """Raise ``BrowserNotAvailable`` now if ``name`` could not be launched.

        With ``ws_endpoint`` every known type passes: the server decides what it runs, and
        :meth:`get` raises ``BrowserNotAvailable`` when it cannot reach it or the server
        runs another browser.
        """
        browser_type = self._type(name)
        if self.settings.ws_endpoint:
            return
        if name == "chromium":
            if self.remote(name) is None:
                find_chromium(self.settings, _managed_path(browser_type))
            return
        managed = _managed_path(browser_type)
        if not managed or not Path(managed).is_file():
            raise BrowserNotAvailable(
                f"{name} is not installed: run `playwright install {name}` on a machine with "
                f"internet access, or set browsers.ws_endpoint to a Playwright server that has it"
            )

    async def get(self, name: str = "chromium", slot: int = 0) -> Browser:
        """The running browser of type ``name`` for ``slot``, launched or reconnected when
        needed.

        Raises ``BrowserNotAvailable`` when it cannot be launched or reached.
        """
        self._type(name)
        key = (name, slot if self.remote(name) is None else 0)
        async with self._locks.setdefault(key, asyncio.Lock()):
            browser = self._browsers.get(key)
            if browser is not None and browser.is_connected():
                return browser
            self.check_available(name)
            browser = await self._start(name)
            self._browsers[key] = browser
            return browser

    async def _start(self, name: str) -> Browser:
        browser_type = self._type(name)
        settings, remote = self.settings, self.remote(name)
        try:
            if settings.ws_endpoint:
                browser = await browser_type.connect(
                    settings.ws_endpoint, timeout=_CONNECT_TIMEOUT_MS
                )
            elif name == "chromium" and settings.cdp_endpoint:
                browser = await browser_type.connect_over_cdp(
                    settings.cdp_endpoint, timeout=_CONNECT_TIMEOUT_MS
                )
            else:
                return await browser_type.launch(**self._launch_options(name))
        except PlaywrightError as exc:
            where = f"connect to {remote}" if remote else f"launch {name}"
            raise BrowserNotAvailable(f"could not {where}: {_connect_problem(exc)}") from exc
        served = _served_name(browser)
        if served is not None and served != name:
            with suppress(PlaywrightError):
                await browser.close()
            raise BrowserNotAvailable(
                f"{remote} runs {served}, not {name}: point browsers.ws_endpoint at a server "
                f"that runs {name} (`npx playwright run-server` launches what each client asks for)"
            )
        return browser

    def _launch_options(self, name: str) -> dict[str, Any]:
        options: dict[str, Any] = {"headless": self.settings.headless}
        if name == "chromium":
            options["args"] = chromium_args()
            if self.remote(name) is None:  # a Grid session runs the node's own Chrome
                managed = _managed_path(self._type(name))
                options["executable_path"] = find_chromium(self.settings, managed)
        return options

    async def new_context(
        self, name: str = "chromium", slot: int = 0, **options: Any
    ) -> BrowserContext:
        """A fresh ``BrowserContext`` in ``slot``'s browser (keyword options as for
        ``Browser.new_context``) that the caller closes with :func:`close_context`;
        :meth:`context` does both."""
        browser = await self.get(name, slot)
        return await browser.new_context(**options)

    @asynccontextmanager
    async def context(
        self, name: str = "chromium", **options: Any
    ) -> AsyncIterator[BrowserContext]:
        """A fresh ``BrowserContext`` (keyword options as for ``Browser.new_context``)."""
        context = await self.new_context(name, **options)
        try:
            yield context
        finally:
            await close_context(context)

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


async def close_context(context: BrowserContext) -> None:
    """Close ``context``; a browser that died under it has nothing left to close."""
    with suppress(Exception):
        await context.close()


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
            # Cancelling only requests it: ``opening`` is not done until it runs again,
            # maybe with the browser's error, which nobody is left to hear.
            opening.add_done_callback(_forget)
            opening.cancel()
    if not opening.done() or opening.cancelled():
        raise PlaywrightError("the browser closed before the page opened")
    return opening.result()


def _forget(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()
