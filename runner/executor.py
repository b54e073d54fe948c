"""Running a suite's cases in a browser: parallel workers, timeouts, retries, artifacts.

Each case gets its own ``BrowserContext`` (with the run's base URL) from the shared
:class:`~runner.browsers.Browsers`; up to ``workers`` cases run at once, each worker
opening its next context while a case runs (:mod:`runner.lanes`). With a
login, the run logs in once in a context of its own and every case's context
starts from the storage state (cookies, local storage) it left. A job
worker creates an :class:`Execution`, awaits :meth:`Execution.run` in a task it
may cancel, and reads :attr:`Execution.results` afterwards either way.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import suppress
from pathlib import Path
from typing import Literal

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page, StorageState
from pydantic import BaseModel, ConfigDict, Field

from runner.browsers import Browsers, close_context, new_page
from runner.errors import LoginFailed
from runner.lanes import Lane, Opened
from runner.login import Login, log_in
from runner.playback import Playback, reason
from runner.results import CaseError, CaseResult, CaseStatus, StepResult
from runner.screenshots import VIEWPORT, Screenshots
from runner.steps import Case, describe

ArtifactMode = Literal["off", "on-failure", "on"]
OnResult = Callable[[CaseResult], Awaitable[None]]
Baselines = Mapping[tuple[str, str], Path]
"""Baseline screenshot files by (case id, screenshot name)."""

DISABLED = "the case is disabled"
NOT_RUN = "the run stopped before this case finished"
LOGIN_SCREENSHOT = "login-screenshot.png"
_ARTIFACT_TIMEOUT_MS = 5_000


class RunnerSettings(BaseModel):
    """The ``[runner]`` table: how runs execute."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    workers: int = Field(2, ge=1, le=64)
    """Cases of one run executed at the same time, each in its own browser context."""

    max_concurrent_runs: int = Field(2, ge=1, le=64)
    """Runs executed at the same time; further runs wait ``queued``."""

    retries: int = Field(0, ge=0, le=3)
    """Times a failed case is tried again by default; a case passing on a retry is flaky."""

    case_timeout_s: float = Field(30, gt=0)
    """Longest one attempt of a case may take, all its steps together."""

    step_timeout_s: float = Field(10, gt=0)
    """Longest one step may wait for its element or assertion."""

    navigation_timeout_s: float = Field(30, gt=0)
    """Longest a ``goto`` may wait for the page's ``load`` event. Longer than a step, as in
    Playwright Test (where navigations have the test's time): ``load`` also waits for the
    page's third-party resources, which a network slow to refuse them (a CDN that an
    air-gapped network's DNS times out on) holds back for seconds each."""

    screenshots: ArtifactMode = "on-failure"
    """When to keep a screenshot of the page at the end of a case."""

    trace: ArtifactMode = "on-failure"
    """When to keep a Playwright trace (open with ``npx playwright show-trace``)."""


def _case_id(index: int, case: Case) -> str:
    return case.id or f"case-{index + 1}"


def _keep(mode: ArtifactMode, failed: bool) -> bool:
    return mode == "on" or (mode == "on-failure" and failed)


def _ms_since(started: float) -> int:
    return round((time.monotonic() - started) * 1000)


def _step_result(
    case: Case,
    index: int,
    status: CaseStatus,
    started: float | None = None,
    error: str | None = None,
) -> StepResult:
    """Step ``index``'s outcome; ``started`` is when it began (``None``: it did not run)."""
    step = case.steps[index]
    return StepResult(
        index=index,
        action=step.action,
        description=describe(step),
        status=status,
        duration=0 if started is None else _ms_since(started),
        error=error,
    )


def _unplayed(
    index: int,
    case: Case,
    *,
    skip_reason: str | None = None,
    error: CaseError | None = None,
    screenshot: str | None = None,
) -> CaseResult:
    """The result of a case none of whose steps ran: skipped, or failed with ``error``."""
    return CaseResult(
        case_id=_case_id(index, case),
        name=case.name,
        status="skipped" if error is None else "failed",
        duration=0,
        attempts=0,
        error=error,
        skip_reason=skip_reason,
        screenshot=screenshot,
        steps=[_step_result(case, step, "skipped") for step in range(len(case.steps))],
    )


def _skipped(index: int, case: Case, why: str) -> CaseResult:
    return _unplayed(index, case, skip_reason=why)


class Execution:
    """One run of ``cases`` against ``base_url``.

    ``retries`` overrides ``settings.retries``. ``on_result`` is awaited with each
    case's result as soon as the case is done (an error it raises stops the run).
    A result's ``case_id`` is the case's ``id`` (``case-<position>`` for a case
    without one). Screenshots and traces are written into ``artifacts_dir`` as
    ``<case_id>-screenshot.png`` and ``<case_id>-trace.zip``.

    With ``login`` every case runs logged in (see the module doc). The login is
    tried up to ``1 + retries`` times; when it keeps failing, every enabled case
    fails with its message (``login failed at step 2 (click): ...``) and its
    screenshot, ``login-screenshot.png``, without running a step.

    Cases run in a :data:`~runner.screenshots.VIEWPORT` of their own size.
    ``expect_screenshot`` steps compare with the files of ``baselines``; a result's
    ``visual`` says how each came out, and a ``new`` one's ``actual`` file (in
    ``artifacts_dir``) is for the caller to keep as the baseline.
    """

    def __init__(
        self,
        browsers: Browsers,
        cases: Sequence[Case],
        *,
        base_url: str,
        settings: RunnerSettings,
        artifacts_dir: Path,
        browser: str = "chromium",
        retries: int | None = None,
        on_result: OnResult | None = None,
        login: Login | None = None,
        baselines: Baselines | None = None,
    ) -> None:
        self._browsers = browsers
        self._cases = list(cases)
        self._base_url = base_url
        self._settings = settings
        self._artifacts_dir = artifacts_dir
        self._browser = browser
        self._retries = settings.retries if retries is None else retries
        self._on_result = on_result
        self._login = login
        self._baselines = baselines or {}
        self._done: dict[int, CaseResult] = {}
        self._storage_state: StorageState | None = None
        self._login_error: CaseError | None = None
        self._login_screenshot: str | None = None

    @property
    def results(self) -> list[CaseResult]:
        """Every case's result in suite order; a case without one (the run was
        cancelled or stopped first) is reported skipped."""
        return [
            self._done.get(index) or _skipped(index, case, NOT_RUN)
            for index, case in enumerate(self._cases)
        ]

    async def run(self) -> list[CaseResult]:
        """Run every case and return :attr:`results`.

        Cancelling the task stops the cases in flight at once and closes their
        contexts before the cancellation propagates. Raises
        ``BrowserNotAvailable`` when the browser cannot be launched or reached, at
        the start or (a remote browser gone for good) between cases.
        """
        await self._browsers.get(self._browser)
        self._artifacts_dir.mkdir(parents=True, exist_ok=True)
        if self._login is not None and any(case.enabled for case in self._cases):
            await self._log_in(self._login)
        pending = deque(enumerate(self._cases))
        count = min(self._settings.workers, len(self._cases))
        workers = [asyncio.create_task(self._work(pending, slot)) for slot in range(count)]
        try:
            await asyncio.gather(*workers)
        finally:
            # A second cancel would interrupt a worker that is closing its context.
            for worker in workers:
                if not worker.cancelling():
                    worker.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
        return self.results

    async def _work(self, pending: deque[tuple[int, Case]], slot: int) -> None:
        """Run cases from ``pending`` until none is left, in browser ``slot``'s contexts."""
        lane = Lane(lambda: self._open(slot), self._discard, more=lambda: bool(pending))
        try:
            while pending:
                index, case = pending.popleft()
                result = await self._run_case(index, case, lane)
                self._done[index] = result
                if self._on_result is not None:
                    await self._on_result(result)
        finally:
            await lane.close()

    async def _open(self, slot: int) -> Opened:
        """A fresh context for one attempt in ``slot``'s browser: the run's base URL and
        login, tracing, a page."""
        context = await self._browsers.new_context(
            self._browser,
            slot,
            base_url=self._base_url,
            storage_state=self._storage_state,
            viewport=VIEWPORT,
        )
        tracing = self._settings.trace != "off"
        try:
            if tracing:
                await context.tracing.start(screenshots=True, snapshots=True)
            return Opened(context, await new_page(context), tracing)
        except BaseException:  # cancelled too: the context is nobody else's to close
            await close_context(context)
            raise

    async def _discard(self, opened: Opened) -> None:
        """Drop the trace still being recorded, if any, and close the context."""
        if opened.tracing:
            opened.tracing = False
            with suppress(PlaywrightError):  # the browser is gone: nothing to drop
                await opened.context.tracing.stop()
        await close_context(opened.context)

    async def _log_in(self, login: Login) -> None:
        """Log in for the whole run: keep the storage state, or why the login failed."""
        for _ in range(self._retries + 1):
            try:
                async with self._browsers.context(
                    self._browser, base_url=self._base_url
                ) as context:
                    page = await new_page(context)
                    try:
                        await log_in(
                            page,
                            login,
                            step_timeout_s=self._settings.step_timeout_s,
                            timeout_s=self._settings.case_timeout_s,
                        )
                    except LoginFailed as failed:
                        self._login_error = CaseError(message=str(failed))
                        self._login_screenshot = await self._screenshot(
                            page, LOGIN_SCREENSHOT, failed=True
                        )
                        continue
                    self._storage_state = await context.storage_state()
                    self._login_error = self._login_screenshot = None
                    return
            except PlaywrightError as problem:
                message = f"login failed: could not open a browser page: {reason(problem)}"
                self._login_error, self._login_screenshot = CaseError(message=message), None

    async def _run_case(self, index: int, case: Case, lane: Lane) -> CaseResult:
        if not case.enabled:
            return _skipped(index, case, DISABLED)
        if self._login_error is not None:
            return _unplayed(
                index, case, error=self._login_error, screenshot=self._login_screenshot
            )
        started = time.monotonic()
        attempts = 0
        while True:
            attempts += 1
            result = await self._attempt(index, case, lane)
            if result.status == "passed" or attempts > self._retries:
                break
        return result.model_copy(
            update={
                "duration": _ms_since(started),
                "attempts": attempts,
                "flaky": result.status == "passed" and attempts > 1,
            }
        )

    async def _attempt(self, index: int, case: Case, lane: Lane) -> CaseResult:
        """One try of ``case`` in a fresh context; its artifacts replace an earlier try's."""
        ident = _case_id(index, case)
        started = time.monotonic()
        steps: list[StepResult] = []
        error: CaseError | None
        screenshot = trace = first_status = None
        baselines = {
            shot: path for (owner, shot), path in self._baselines.items() if owner == ident
        }
        screenshots = Screenshots(ident, self._artifacts_dir, baselines)
        try:
            opened = await lane.take()
        except PlaywrightError as problem:
            error = CaseError(message=f"could not open a browser page: {reason(problem)}")
            steps = [_step_result(case, step, "skipped") for step in range(len(case.steps))]
        else:
            playback = Playback(
                opened.page,
                step_timeout_s=self._settings.step_timeout_s,
                navigation_timeout_s=self._settings.navigation_timeout_s,
                screenshots=screenshots,
            )
            error = await self._play(case, playback, steps)
            first_status = playback.first_status
            failed = error is not None
            screenshot = await self._screenshot(opened.page, f"{ident}-screenshot.png", failed)
            trace = await self._trace(opened, f"{ident}-trace.zip", failed)
            # The artifacts are written: the worker goes on while the context closes.
            await lane.close_behind()
        return CaseResult(
            case_id=ident,
            name=case.name,
            status="passed" if error is None else "failed",
            duration=_ms_since(started),
            attempts=1,
            error=error,
            screenshot=screenshot,
            trace=trace,
            steps=steps,
            first_status=first_status,
            visual=screenshots.checks,
        )

    async def _play(
        self, case: Case, playback: Playback, steps: list[StepResult]
    ) -> CaseError | None:
        """Perform the steps, appending each one's outcome to ``steps``; the error, if any."""

        def passed(index: int, started: float) -> None:
            steps.append(_step_result(case, index, "passed", started))

        failure = await playback.play(
            case.steps, timeout_s=self._settings.case_timeout_s, what="the case", passed=passed
        )
        if failure is None:
            return None
        index, message = failure.index, failure.message
        steps.append(_step_result(case, index, "failed", failure.started, message))
        steps.extend(_step_result(case, i, "skipped") for i in range(index + 1, len(case.steps)))
        return CaseError(message=message, step_index=index, action=case.steps[index].action)

    async def _screenshot(self, page: Page, name: str, failed: bool) -> str | None:
        path = self._artifacts_dir / name
        path.unlink(missing_ok=True)
        if not _keep(self._settings.screenshots, failed):
            return None
        try:
            await page.screenshot(path=path, timeout=_ARTIFACT_TIMEOUT_MS)
        except PlaywrightError:  # the page is gone (crash): there is nothing to show
            return None
        return name

    async def _trace(self, opened: Opened, name: str, failed: bool) -> str | None:
        """Save the trace into ``name`` if the policy keeps it (else it is dropped on close);
        ``None`` when not kept or the browser took the trace with it."""
        path = self._artifacts_dir / name
        path.unlink(missing_ok=True)
        if not (opened.tracing and _keep(self._settings.trace, failed)):
            return None
        opened.tracing = False
        try:
            await opened.context.tracing.stop(path=path)
        except PlaywrightError:  # the browser is gone and took the trace with it
            return None
        return name
