"""One executor worker's browser contexts, opened ahead and closed behind its cases.

Opening a context with its page (a new Chromium renderer process, tracing
started) and closing one (tracing stopped, the context torn down) take several
driver round trips and, for a short case, more time than its steps. A
:class:`Lane` opens the next attempt's context while the current case runs and
closes a finished case's while the next one runs, so a worker waits only for
steps. Every attempt still gets a context of its own, opened for it alone; a
worker holds at most three at a time (closing, in use, ahead).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from playwright.async_api import BrowserContext, Page


@dataclass
class Opened:
    """A fresh context and its page, ready for one attempt."""

    context: BrowserContext
    page: Page
    tracing: bool
    """Whether a trace is being recorded (until it is saved or dropped)."""

    def alive(self) -> bool:
        """Whether the page is still open in a connected browser."""
        browser = self.context.browser
        return not self.page.is_closed() and (browser is None or browser.is_connected())


Open = Callable[[], Coroutine[Any, Any, Opened]]
Close = Callable[[Opened], Coroutine[Any, Any, None]]


class Lane:
    """Contexts for one worker's attempts, one at a time; ``close()`` when done.

    ``open_context()`` opens one; ``close_context(opened)`` drops what it still records
    and closes it (and must not raise); ``more()`` says whether another attempt may
    follow, so that opening one ahead is worth it.
    """

    def __init__(self, open_context: Open, close_context: Close, more: Callable[[], bool]) -> None:
        self._open = open_context
        self._close = close_context
        self._more = more
        self._ahead: asyncio.Future[Opened] | None = None
        self._current: Opened | None = None
        self._behind: asyncio.Task[None] | None = None

    async def take(self) -> Opened:
        """A fresh context for an attempt, and the next one opening meanwhile.

        The context opened ahead is used when it is still alive; if opening it failed
        or the browser went away since, a new one is opened now (and its error raised).
        The attempt ends with :meth:`close_behind`.
        """
        opened = None
        if self._ahead is not None:
            with suppress(Exception):  # opening again says what is wrong, if anything
                opened = await asyncio.shield(self._ahead)
            self._ahead = None
        if opened is not None and not opened.alive():
            await self._close(opened)
            opened = None
        if opened is None:
            opened = await self._open()
        self._current = opened
        if self._more():
            self._ahead = asyncio.ensure_future(self._open())
        return opened

    async def close_behind(self) -> None:
        """End the attempt: its context closes while the worker goes on."""
        await self._settle()
        current, self._current = self._current, None
        if current is not None:
            self._behind = asyncio.create_task(self._close(current))

    async def close(self) -> None:
        """Close the contexts left: of an attempt cut short, opened ahead, closing behind."""
        current, self._current = self._current, None
        if current is not None:
            await self._close(current)
        if self._ahead is not None:
            with suppress(Exception):  # it never opened: nothing to close
                await self._close(await asyncio.shield(self._ahead))
            self._ahead = None
        await self._settle()

    async def _settle(self) -> None:
        # Shielded, and forgotten only once done: a cancelled worker's close() still
        # waits for it, so no context outlives the run.
        if self._behind is not None:
            await asyncio.shield(self._behind)
            self._behind = None
