"""Playing a case's steps on one Playwright page, with failures in plain words.

Each step runs the same Playwright call the exporters write for it (the same
locators, actions and web-first assertions), so a step passes here exactly when
its exported line passes under Playwright Test. What differs is the message: a
failed step raises ``StepFailed`` saying what was expected and what was found,
e.g. ``expected title "About" but found "Home"``.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from playwright.async_api import (
    Browser,
    ConsoleMessage,
    Locator,
    Page,
    Request,
    Response,
    expect,
)
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeoutError

from runner import steps
from runner.axe import run_axe, unignored
from runner.errors import StepFailed
from runner.performance import PERFORMANCE_JS, over_budget
from runner.screenshots import Screenshots
from runner.steps import Target, quoted, url_path

_POLL_S = 0.1
_SETTLE_S = 1.0
_SHOWN_TEXT = 200
_SHOWN_ERRORS = 3
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_API_PREFIX = re.compile(r"^[A-Za-z]+\.[A-Za-z_]+: ")
_ELEMENT_STATE = re.compile(r"element is not [a-z ]+")
# Playwright's call log when an action was done and the navigation it started outlived the timeout.
_NAVIGATION_PENDING = "waiting for scheduled navigations to finish"


def _shorten(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _SHOWN_TEXT else text[: _SHOWN_TEXT - 1] + "…"


def _listed(items: Sequence[str]) -> str:
    """The first few of ``items``, quoted and shortened, and how many more there are."""
    shown = "; ".join(quoted(_shorten(item)) for item in items[:_SHOWN_ERRORS])
    more = f" and {len(items) - _SHOWN_ERRORS} more" if len(items) > _SHOWN_ERRORS else ""
    return shown + more


def reason(error: PlaywrightError) -> str:
    """The useful part of a Playwright error: its first line, or why an action timed out."""
    message = _ANSI.sub("", error.message)
    first = _API_PREFIX.sub("", message.strip().splitlines()[0] if message.strip() else "")
    states = _ELEMENT_STATE.findall(message)
    if first.startswith("Timeout") and states:
        return f"timed out because the {states[-1]}"
    return first or type(error).__name__


async def _disconnects(browser: Browser) -> bool:
    """Whether ``browser`` is, or within a moment becomes, disconnected.

    A page hears of its end before the browser connection does.
    """
    gone = asyncio.Event()

    def on_disconnected(_browser: Browser) -> None:
        gone.set()

    browser.on("disconnected", on_disconnected)
    try:
        if browser.is_connected():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(gone.wait(), _SETTLE_S)
    finally:
        browser.remove_listener("disconnected", on_disconnected)
    return not browser.is_connected()


def locate(page: Page, target: Target) -> Locator:
    """The Playwright locator ``target`` stands for on ``page``: the call the exports write."""
    if target.role is not None:
        return page.get_by_role(
            target.role, name=target.name, exact=target.exact, level=target.level
        )
    if target.text is not None:
        return page.get_by_text(target.text, exact=target.exact)
    if target.label is not None:
        return page.get_by_label(target.label, exact=target.exact)
    if target.placeholder is not None:
        return page.get_by_placeholder(target.placeholder, exact=target.exact)
    if target.test_id is not None:
        return page.get_by_test_id(target.test_id)
    return page.locator(target.value)


@dataclass(frozen=True)
class StepFailure:
    """Where a sequence of steps stopped: the step's index, why, and when it began."""

    index: int
    message: str
    started: float
    """``time.monotonic()`` when the failed step began."""


class Playback:
    """One case's page: performs its steps in order.

    Remembers the last ``goto``'s main response (and the first one's status, in
    ``first_status``). A sequence that checks console errors collects them, and
    uncaught page errors, from its start, as the exported tests do; others leave the
    console unheard (each listened-to message crosses the driver pipe).
    ``screenshots`` performs the ``expect_screenshot`` steps (a login has none). A sequence
    that checks performance notes its page's document requests: a document a form posted
    is not reloaded to measure it again.
    A navigation waits ``navigation_timeout_s`` (``step_timeout_s`` when not given).
    """

    def __init__(
        self,
        page: Page,
        *,
        step_timeout_s: float,
        navigation_timeout_s: float | None = None,
        screenshots: Screenshots | None = None,
    ) -> None:
        self.page = page
        self.screenshots = screenshots
        self._timeout_ms = step_timeout_s * 1000
        self._response: Response | None = None
        self._navigated = False
        self.first_status: int | None = None
        self._crashed = False
        self._closed = asyncio.Event()
        self._collecting = False
        self._document_method: str | None = None
        self.console_errors: list[str] = []
        page.set_default_timeout(self._timeout_ms)
        page.set_default_navigation_timeout((navigation_timeout_s or step_timeout_s) * 1000)
        page.on("crash", self._on_crash)
        page.on("close", lambda _page: self._closed.set())

    def collect_console_errors(self) -> None:
        """Collect console errors and uncaught page errors from now on (``play`` does when
        its sequence checks them)."""
        if not self._collecting:
            self._collecting = True
            self.page.on("console", self._on_console)
            self.page.on("pageerror", lambda error: self.console_errors.append(error.message))

    def _on_console(self, message: ConsoleMessage) -> None:
        # Chromium's own favicon request is no error of the page's (exporters skip it too).
        favicon = message.location.get("url", "").endswith("/favicon.ico")
        if message.type == "error" and not favicon:
            self.console_errors.append(message.text)

    def _on_request(self, request: Request) -> None:
        if request.is_navigation_request() and request.frame == self.page.main_frame:
            self._document_method = request.method

    def _on_crash(self, _page: Page) -> None:
        self._crashed = True
        self._closed.set()

    async def broken(self, error: Exception) -> str | None:
        """Plain words for a crashed page or a vanished browser, if that caused ``error``.

        A browser going away fails the running navigation (``net::ERR_ABORTED``) a
        moment before it reports itself gone, so for errors other than timeouts this
        waits briefly for the page to report its end.
        """
        if isinstance(error, PlaywrightError) and not isinstance(error, PlaywrightTimeoutError):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closed.wait(), _SETTLE_S)
        if self._crashed:
            return "the page crashed"
        if not self.page.is_closed():
            return None
        browser = self.page.context.browser
        if browser is not None and await _disconnects(browser):
            return (
                "the browser crashed, was closed or lost its connection "
                "(the next cases relaunch or reconnect it)"
            )
        return "the page was closed"

    def locate(self, target: Target) -> Locator:
        """The Playwright locator ``target`` stands for on this page."""
        return locate(self.page, target)

    async def play(
        self,
        sequence: Sequence[steps.Step],
        *,
        timeout_s: float,
        what: str,
        passed: Callable[[int, float], None] | None = None,
    ) -> StepFailure | None:
        """Perform ``sequence`` in order, all within ``timeout_s``; the first failure, if any.

        ``passed(index, started)`` is called after each step that passes (``started``
        is when it began); ``what`` names the sequence in the message of a timeout
        (``the case took longer than 30 s``).
        """
        index, started = 0, time.monotonic()
        if any(isinstance(step, steps.ExpectNoConsoleErrors) for step in sequence):
            self.collect_console_errors()
        try:
            async with asyncio.timeout(timeout_s):
                if any(isinstance(step, steps.ExpectPerformance) for step in sequence):
                    # The figures are measured from each document's start, as the exports do.
                    self.page.on("request", self._on_request)
                    await self.page.add_init_script(PERFORMANCE_JS)
                for index, step in enumerate(sequence):
                    started = time.monotonic()
                    await self.perform(step)
                    if passed is not None:
                        passed(index, started)
        except StepFailed as failure:
            message = str(failure)
        except TimeoutError:
            message = f"{what} took longer than {timeout_s:g} s"
        except PlaywrightError as problem:
            message = await self.broken(problem) or reason(problem)
        else:
            return None
        return StepFailure(index, message, started)

    async def perform(self, step: steps.Step) -> None:
        """Do ``step``; raise ``StepFailed`` when it does not do or find what it expects.

        Other Playwright errors (a crashed page, a closed browser) propagate:
        ``broken(error)`` then says what happened.
        """
        match step:
            case steps.Goto():
                await self._goto(step.url)
            case steps.Click():
                await self._act(step.target, "click", lambda found: found.click())
            case steps.Check():
                await self._act(step.target, "check", lambda found: found.check())
            case steps.Fill():
                await self._act(step.target, "fill", lambda found: found.fill(step.value))
            case steps.Select():
                await self._act(
                    step.target,
                    f"select {quoted(step.value)} in",
                    lambda found: found.select_option(step.value),
                )
            case steps.Press():
                await self._act(step.target, f"press {step.key} on", lambda f: f.press(step.key))
            case steps.ExpectStatus():
                self._expect_status(step.status)
            case steps.ExpectUrl():
                await self._expect_url(step)
            case steps.ExpectTitle():
                await self._expect_title(step.value)
            case steps.ExpectVisible():
                await self._expect_visible(step.target)
            case steps.ExpectText():
                await self._expect_text(step.target, step.value)
            case steps.ExpectNoConsoleErrors():
                self._expect_no_console_errors()
            case steps.ExpectNoA11yViolations():
                await self._expect_no_a11y_violations(step)
            case steps.ExpectPerformance():
                await self._expect_performance(step.budgets)
            case steps.ExpectScreenshot():
                await self._expect_screenshot(step)

    async def _goto(self, url: str) -> None:
        first, self._navigated = not self._navigated, True
        try:
            self._response = await self.page.goto(url)
        except PlaywrightError as error:
            if await self.broken(error):
                raise
            raise StepFailed(f"could not load {url}: {reason(error)}") from None
        if first and self._response is not None:
            self.first_status = self._response.status

    async def _act(
        self, target: Target, verb: str, act: Callable[[Locator], Awaitable[object]]
    ) -> None:
        found = self.locate(target)
        try:
            await act(found)
        except PlaywrightError as error:
            if await self.broken(error):
                raise
            if _NAVIGATION_PENDING in error.message:
                # The element is gone with the page it was on: counting it would say "no match".
                why = (
                    "the action was done, but the page it opened had not started loading "
                    f"after {self._timeout_ms / 1000:g} s"
                )
            else:
                why = await self._match_problem(found) or reason(error)
            raise StepFailed(f"could not {verb} {target.describe()}: {why}") from None

    async def _match_problem(self, found: Locator) -> str | None:
        """Why a target does not single out one element, if it does not."""
        count = await found.count()
        if count == 0:
            return f"no element matches (waited {self._timeout_ms / 1000:g} s)"
        if count > 1:
            return f"{count} elements match where one was expected"
        return None

    def _expect_status(self, status: int) -> None:
        if self._response is None:
            raise StepFailed(f"expected status {status} but the last navigation had no response")
        if self._response.status != status:
            raise StepFailed(f"expected status {status} but got {self._response.status}")

    async def _expect_url(self, step: steps.ExpectUrl) -> None:
        # Polls like Playwright's toHaveURL(predicate): the page may still be navigating.
        deadline = time.monotonic() + self._timeout_ms / 1000
        while not step.matches(self.page.url):
            if time.monotonic() >= deadline:
                found = quoted(url_path(self.page.url))
                if step.match == "exact":
                    raise StepFailed(f"expected URL path {quoted(step.value)} but found {found}")
                raise StepFailed(f"expected URL path to match /{step.value}/ but found {found}")
            await asyncio.sleep(_POLL_S)

    async def _expect_title(self, title: str) -> None:
        try:
            await expect(self.page).to_have_title(title, timeout=self._timeout_ms)
        except AssertionError:
            found = quoted(await self.page.title())
            raise StepFailed(f"expected title {quoted(title)} but found {found}") from None

    async def _expect_visible(self, target: Target) -> None:
        found = self.locate(target)
        try:
            await expect(found).to_be_visible(timeout=self._timeout_ms)
        except (AssertionError, PlaywrightError) as error:
            if await self.broken(error):
                raise
            why = await self._match_problem(found) or "it is hidden"
            raise StepFailed(f"expected {target.describe()} to be visible but {why}") from None

    async def _expect_text(self, target: Target, text: str) -> None:
        found = self.locate(target)
        try:
            await expect(found).to_contain_text(text, timeout=self._timeout_ms)
        except (AssertionError, PlaywrightError) as error:
            if await self.broken(error):
                raise
            why = await self._match_problem(found)
            if why is None:
                actual = quoted(_shorten(await found.text_content() or ""))
                why = f"its text is {actual}"
            raise StepFailed(
                f"expected {target.describe()} to contain {quoted(text)} but {why}"
            ) from None

    def _expect_no_console_errors(self) -> None:
        errors = self.console_errors
        if errors:
            raise StepFailed(
                f"expected no console errors but found {len(errors)}: " + _listed(errors)
            )

    async def _expect_no_a11y_violations(self, step: steps.ExpectNoA11yViolations) -> None:
        try:
            found = unignored(await run_axe(self.page), step.impact, step.ignored)
        except PlaywrightError as error:
            if await self.broken(error):
                raise
            raise StepFailed(f"could not run axe-core on the page: {reason(error)}") from None
        if found:
            raise StepFailed(
                f"expected no accessibility violations ({step.impact} or worse) but found "
                f"{len(found)}: {_listed(found)}"
            )

    async def _expect_performance(self, budgets: steps.Budgets) -> None:
        try:
            reload = self._document_method == "GET"
            over = await over_budget(self.page, budgets.given, reload=reload)
        except PlaywrightError as error:
            if await self.broken(error):
                raise
            raise StepFailed(f"could not measure the page's performance: {reason(error)}") from None
        if over:
            raise StepFailed(f"expected performance within budgets but {'; '.join(over)}")

    async def _expect_screenshot(self, step: steps.ExpectScreenshot) -> None:
        if self.screenshots is None:
            raise StepFailed("expect_screenshot needs a test case to keep its baseline")
        mask = [self.locate(target) for target in step.mask]
        try:
            await self.screenshots.check(self.page, step, mask, timeout_s=self._timeout_ms / 1000)
        except PlaywrightError as error:
            if await self.broken(error):
                raise
            raise StepFailed(
                f"could not take screenshot {quoted(step.name)}: {reason(error)}"
            ) from None
