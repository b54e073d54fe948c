"""Running a suite's cases in a browser: parallel workers, timeouts, retries, artifacts.

Each case gets its own ``BrowserContext`` (with the run's base URL) from the shared
:class:`~runner.browsers.Browsers`; up to ``workers`` cases run at once. A job
worker creates an :class:`Execution`, awaits :meth:`Execution.run` in a task it
may cancel, and reads :attr:`Execution.results` afterwards either way.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

from playwright.async_api import BrowserContext, Page
from playwright.async_api import Error as PlaywrightError
from pydantic import BaseModel, ConfigDict, Field

from runner.browsers import Browsers
from runner.errors import StepFailed
from runner.playback import Playback, reason
from runner.results import CaseError, CaseResult, CaseStatus, StepResult
from runner.steps import Case, describe

ArtifactMode = Literal["off", "on-failure", "on"]
OnResult = Callable[[CaseResult], Awaitable[None]]

DISABLED = "the case is disabled"
NOT_RUN = "the run stopped before this case finished"
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
    """Longest one step may wait for its element, navigation or assertion."""

    screenshots: ArtifactMode = "on-failure"
    """When to keep a screenshot of the page at the end of a case."""

    trace: ArtifactMode = "on-failure"
    """When to keep a Playwright trace (open with ``npx playwright show-trace``)."""


def _case_id(index: int, case: Case) -> str:
    return case.id or f"case-{index + 1}"


async def _new_page(context: BrowserContext) -> Page:
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


def _skipped(index: int, case: Case, why: str) -> CaseResult:
    return CaseResult(
        case_id=_case_id(index, case),
        name=case.name,
        status="skipped",
        duration=0,
        attempts=0,
        skip_reason=why,
        steps=[_step_result(case, step, "skipped") for step in range(len(case.steps))],
    )


class Execution:
    """One run of ``cases`` against ``base_url``.

    ``retries`` overrides ``settings.retries``. ``on_result`` is awaited with each
    case's result as soon as the case is done (an error it raises stops the run).
    A result's ``case_id`` is the case's ``id`` (``case-<position>`` for a case
    without one). Screenshots and traces are written into ``artifacts_dir`` as
    ``<case_id>-screenshot.png`` and ``<case_id>-trace.zip``.
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
    ) -> None:
        self._browsers = browsers
        self._cases = list(cases)
        self._base_url = base_url
        self._settings = settings
        self._artifacts_dir = artifacts_dir
        self._browser = browser
        self._retries = settings.retries if retries is None else retries
        self._on_result = on_result
        self._done: dict[int, CaseResult] = {}

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
        ``BrowserNotAvailable`` when the browser cannot be launched at all.
        """
        self._browsers.check_available(self._browser)
        self._artifacts_dir.mkdir(parents=True, exist_ok=True)
        pending = iter(enumerate(self._cases))
        count = min(self._settings.workers, len(self._cases))
        workers = [asyncio.create_task(self._work(pending)) for _ in range(count)]
        try:
            await asyncio.gather(*workers)
        finally:
            # A second cancel would interrupt a worker that is closing its context.
            for worker in workers:
                if not worker.cancelling():
                    worker.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
        return self.results

    async def _work(self, pending: Iterator[tuple[int, Case]]) -> None:
        for index, case in pending:
            result = await self._run_case(index, case)
            self._done[index] = result
            if self._on_result is not None:
                await self._on_result(result)

    async def _run_case(self, index: int, case: Case) -> CaseResult:
        if not case.enabled:
            return _skipped(index, case, DISABLED)
        started = time.monotonic()
        attempts = 0
        while True:
            attempts += 1
            result = await self._attempt(index, case)
            if result.status == "passed" or attempts > self._retries:
                break
        return result.model_copy(
            update={
                "duration": _ms_since(started),
                "attempts": attempts,
                "flaky": result.status == "passed" and attempts > 1,
            }
        )

    async def _attempt(self, index: int, case: Case) -> CaseResult:
        """One try of ``case`` in a fresh context; its artifacts replace an earlier try's."""
        ident = _case_id(index, case)
        started = time.monotonic()
        steps: list[StepResult] = []
        screenshot = trace = None
        try:
            async with self._browsers.context(self._browser, base_url=self._base_url) as context:
                if self._settings.trace != "off":
                    await context.tracing.start(screenshots=True, snapshots=True)
                page = await _new_page(context)
                playback = Playback(page, step_timeout_s=self._settings.step_timeout_s)
                error = await self._play(case, playback, steps)
                failed = error is not None
                screenshot = await self._screenshot(page, f"{ident}-screenshot.png", failed)
                trace = await self._trace(context, f"{ident}-trace.zip", failed)
        except PlaywrightError as problem:
            error = CaseError(message=f"could not open a browser page: {reason(problem)}")
            steps = [_step_result(case, step, "skipped") for step in range(len(case.steps))]
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
        )

    async def _play(
        self, case: Case, playback: Playback, steps: list[StepResult]
    ) -> CaseError | None:
        """Perform the steps, appending each one's outcome to ``steps``; the error, if any."""
        index, started = 0, time.monotonic()
        try:
            async with asyncio.timeout(self._settings.case_timeout_s):
                for index, step in enumerate(case.steps):
                    started = time.monotonic()
                    await playback.perform(step)
                    steps.append(_step_result(case, index, "passed", started))
        except StepFailed as failure:
            message = str(failure)
        except TimeoutError:
            message = f"the case took longer than {self._settings.case_timeout_s:g} s"
        except PlaywrightError as problem:
            message = await playback.broken(problem) or reason(problem)
        else:
            return None
        steps.append(_step_result(case, index, "failed", started, message))
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

    async def _trace(self, context: BrowserContext, name: str, failed: bool) -> str | None:
        path = self._artifacts_dir / name
        path.unlink(missing_ok=True)
        if self._settings.trace == "off":
            return None
        keep = _keep(self._settings.trace, failed)
        try:
            await context.tracing.stop(path=path if keep else None)
        except PlaywrightError:  # the browser is gone and took the trace with it
            return None
        return name if keep else None
