"""The executor against real Chromium: outcomes, messages, retries, limits, cancel, crashes."""

from __future__ import annotations

import asyncio
import contextlib
import time
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from runner.browsers import Browsers, BrowserSettings
from runner.errors import BrowserNotAvailable
from runner.executor import DISABLED, NOT_RUN, Execution, RunnerSettings
from runner.results import CaseResult
from runner.steps import Case
from tests.conftest import ServeApp
from tests.processes import chromium_processes
from tests.runner.sites import html_page, pages_app

FAST = RunnerSettings(step_timeout_s=3, case_timeout_s=20)
HOME = ("Home", '<h1>Welcome</h1><a href="/about">About</a><p id="note">Hello world</p>')


def case(name: str, *steps: dict[str, Any], **fields: Any) -> Case:
    """A case from step dicts, as an API client would send it."""
    return Case.model_validate({"name": name, "steps": list(steps), **fields})


GOTO_HOME = {"action": "goto", "url": "/"}


async def run(
    browsers: Browsers,
    base_url: str,
    cases: list[Case],
    tmp_path: Path,
    settings: RunnerSettings = FAST,
    **options: Any,
) -> list[CaseResult]:
    execution = Execution(
        browsers,
        cases,
        base_url=base_url,
        settings=settings,
        artifacts_dir=tmp_path / "artifacts",
        **options,
    )
    return await execution.run()


async def test_passing_case_reports_every_step(
    browsers: Browsers, serve: ServeApp, tmp_path: Path
) -> None:
    base = await serve(pages_app({"/": HOME}))
    cases = [
        case(
            "home",
            GOTO_HOME,
            {"action": "expect_title", "value": "Home"},
            {"action": "expect_text", "target": {"css": "#note"}, "value": "world"},
            id="case_abc123",
        )
    ]

    [result] = await run(browsers, base, cases, tmp_path)

    assert (result.case_id, result.status, result.attempts, result.flaky) == (
        "case_abc123",
        "passed",
        1,
        False,
    )
    assert [step.status for step in result.steps] == ["passed"] * 3
    assert [step.description for step in result.steps] == [
        "go to /",
        'expect title "Home"',
        'expect css "#note" to contain "world"',
    ]
    assert result.error is None and result.artifacts == []
    assert list((tmp_path / "artifacts").iterdir()) == []


async def test_failing_case_records_step_message_screenshot_and_trace(
    browsers: Browsers, serve: ServeApp, tmp_path: Path
) -> None:
    base = await serve(pages_app({"/": HOME}))
    cases = [
        case(
            "title",
            GOTO_HOME,
            {"action": "expect_title", "value": "About"},
            {"action": "expect_no_console_errors"},
        )
    ]

    [result] = await run(browsers, base, cases, tmp_path)

    assert result.status == "failed"
    assert result.error is not None
    assert result.error.model_dump() == {
        "message": 'expected title "About" but found "Home"',
        "step_index": 1,
        "action": "expect_title",
    }
    assert [step.status for step in result.steps] == ["passed", "failed", "skipped"]
    assert result.steps[1].error == result.error.message
    assert result.screenshot == "case-1-screenshot.png"
    assert result.trace == "case-1-trace.zip"
    screenshot = (tmp_path / "artifacts" / result.screenshot).read_bytes()
    assert screenshot.startswith(b"\x89PNG")
    with zipfile.ZipFile(tmp_path / "artifacts" / result.trace) as trace:
        assert any(name.endswith(".trace") for name in trace.namelist())


FAILURES: dict[str, tuple[dict[str, Any], str]] = {
    "title": (
        {"action": "expect_title", "value": "About"},
        'expected title "About" but found "Home"',
    ),
    "url exact": (
        {"action": "expect_url", "value": "/about"},
        'expected URL path "/about" but found "/"',
    ),
    "url regex": (
        {"action": "expect_url", "value": "^/a", "match": "regex"},
        'expected URL path to match /^/a/ but found "/"',
    ),
    "status": (
        {"action": "expect_status", "status": 201},
        "expected status 201 but got 200",
    ),
    "missing heading": (
        {"action": "expect_visible", "target": {"role": "heading", "name": "Nope"}},
        'expected heading "Nope" to be visible but no element matches (waited 3 s)',
    ),
    "two links": (
        {"action": "expect_visible", "target": {"css": "a"}},
        'expected css "a" to be visible but 2 elements match where one was expected',
    ),
    "hidden": (
        {"action": "expect_visible", "target": {"text": "secret"}},
        'expected text "secret" to be visible but it is hidden',
    ),
    "text": (
        {"action": "expect_text", "target": {"css": "#note"}, "value": "bye"},
        'expected css "#note" to contain "bye" but its text is "Hello world"',
    ),
    "click missing": (
        {"action": "click", "target": {"role": "button", "name": "Go"}},
        'could not click button "Go": no element matches (waited 3 s)',
    ),
    "fill hidden": (
        {"action": "fill", "target": {"test_id": "hidden-input"}, "value": "x"},
        'could not fill test id "hidden-input": timed out because the element is not visible',
    ),
    "console": (
        {"action": "expect_no_console_errors"},
        'expected no console errors but found 2: "bad thing"; "boom"',
    ),
}


async def test_failure_messages_say_what_was_expected_and_found(
    browsers: Browsers, serve: ServeApp, tmp_path: Path
) -> None:
    body = (
        '<h1>Welcome</h1><a href="/a">A</a><a href="/b">B</a><p id="note">Hello  world</p>'
        '<p hidden>secret</p><input data-testid="hidden-input" hidden>'
        "<script>console.error('bad thing')</script><script>throw new Error('boom')</script>"
    )
    base = await serve(pages_app({"/": ("Home", body)}))
    cases = [case(name, GOTO_HOME, step) for name, (step, _) in FAILURES.items()]
    settings = RunnerSettings(workers=2, step_timeout_s=3, screenshots="off", trace="off")

    results = await run(browsers, base, cases, tmp_path, settings)

    messages = {result.name: result.error.message if result.error else None for result in results}
    assert messages == {name: message for name, (_, message) in FAILURES.items()}


def flaky_app() -> web.Application:
    """``/`` answers 500 to its first request and 200 afterwards."""
    app = web.Application()
    requests = 0

    async def home(_request: web.Request) -> web.Response:
        nonlocal requests
        requests += 1
        return html_page("Home", "ok") if requests > 1 else web.Response(status=500)

    app.router.add_get("/", home)
    return app


@pytest.mark.parametrize(("retries", "status", "attempts"), [(0, "failed", 1), (2, "passed", 2)])
async def test_retries_turn_a_first_failure_into_flaky(
    retries: int,
    status: str,
    attempts: int,
    browsers: Browsers,
    serve: ServeApp,
    tmp_path: Path,
) -> None:
    base = await serve(flaky_app())
    cases = [case("flaky", GOTO_HOME, {"action": "expect_status", "status": 200})]

    [result] = await run(browsers, base, cases, tmp_path, retries=retries)

    assert (result.status, result.attempts, result.flaky) == (status, attempts, retries > 0)
    # The failed first attempt's artifacts go when a retry passes.
    assert len(list((tmp_path / "artifacts").iterdir())) == (0 if retries else 2)


async def test_disabled_case_is_skipped_and_reported(
    browsers: Browsers, serve: ServeApp, tmp_path: Path
) -> None:
    base = await serve(pages_app({"/": HOME}))
    cases = [case("off", GOTO_HOME, enabled=False), case("on", GOTO_HOME)]
    reported: list[CaseResult] = []

    async def on_result(result: CaseResult) -> None:
        reported.append(result)

    results = await run(browsers, base, cases, tmp_path, on_result=on_result)

    assert [(r.name, r.status, r.skip_reason) for r in results] == [
        ("off", "skipped", DISABLED),
        ("on", "passed", None),
    ]
    assert results[0].attempts == 0 and results[0].steps[0].status == "skipped"
    assert sorted(r.name for r in reported) == ["off", "on"]


class SlowSite:
    """``/slow`` answers after ``delay_s`` or once ``release`` is set; counts requests in flight."""

    def __init__(self) -> None:
        self.delay_s = 60.0
        self.now = 0
        self.most = 0
        self._changed = asyncio.Condition()
        self.release = asyncio.Event()
        self.base_url = ""

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/slow", self._slow)
        app.router.add_get("/", self._home)
        return app

    async def _home(self, _request: web.Request) -> web.Response:
        return html_page("Home", '<h1>Welcome</h1><a href="/slow">Slow</a>')

    async def _slow(self, _request: web.Request) -> web.Response:
        async with self._changed:
            self.now += 1
            self.most = max(self.most, self.now)
            self._changed.notify_all()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.release.wait(), self.delay_s)
        self.now -= 1
        return html_page("Slow", "<h1>Slow</h1>")

    async def in_flight(self, count: int) -> None:
        """Wait until ``count`` requests are waiting for an answer."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: self.now >= count), 30)


@pytest.fixture
async def slow(serve: ServeApp) -> AsyncIterator[SlowSite]:
    site = SlowSite()
    site.base_url = await serve(site.app())
    yield site
    site.release.set()  # lets the server shut down without waiting for stuck requests


async def test_workers_bound_the_cases_running_at_once(
    browsers: Browsers, slow: SlowSite, tmp_path: Path
) -> None:
    cases = [case(f"slow {n}", {"action": "goto", "url": "/slow"}) for n in range(6)]
    settings = RunnerSettings(workers=3, screenshots="off", trace="off")

    running = asyncio.create_task(run(browsers, slow.base_url, cases, tmp_path, settings))
    # Held until three are waiting at once, however long opening their contexts takes
    # on a loaded machine; a fourth would have joined them meanwhile, were it let.
    await slow.in_flight(3)
    await asyncio.sleep(1)
    slow.release.set()
    results = await running

    assert {result.status for result in results} == {"passed"}
    assert slow.most == 3


async def test_cancel_stops_promptly_and_reports_the_rest_skipped(
    browsers: Browsers, slow: SlowSite, tmp_path: Path
) -> None:
    cases = [case("quick", GOTO_HOME)] + [
        case(f"stuck {n}", {"action": "goto", "url": "/slow"}) for n in range(3)
    ]
    settings = RunnerSettings(workers=2, step_timeout_s=120, case_timeout_s=120)
    execution = Execution(
        browsers, cases, base_url=slow.base_url, settings=settings, artifacts_dir=tmp_path / "a"
    )
    contexts_before = len((await browsers.get()).contexts)

    task = asyncio.create_task(execution.run())
    await slow.in_flight(2)  # both workers wait on /slow: "quick" is done
    started = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert time.monotonic() - started < 3
    assert [(r.status, r.skip_reason) for r in execution.results] == [
        ("passed", None),
        *[("skipped", NOT_RUN)] * 3,
    ]
    assert len((await browsers.get()).contexts) == contexts_before


async def test_base_url_decides_which_site_runs(
    browsers: Browsers, serve: ServeApp, tmp_path: Path
) -> None:
    await serve(pages_app({"/": ("Staging", "")}))
    production = await serve(pages_app({"/": ("Production", "")}))
    cases = [case("title", GOTO_HOME, {"action": "expect_title", "value": "Production"})]

    [result] = await run(browsers, production, cases, tmp_path)

    assert result.status == "passed"


async def test_each_worker_has_a_browser_of_its_own(serve: ServeApp, tmp_path: Path) -> None:
    base_url = await serve(pages_app({"/": HOME}))
    cases = [
        case(f"home {n}", GOTO_HOME, {"action": "expect_title", "value": "Home"}) for n in range(4)
    ]
    before = set(chromium_processes(main_only=True))

    async with Browsers(BrowserSettings()) as own:
        await own.get()  # the crawls' browser, which the first worker shares
        launched = set(chromium_processes(main_only=True)) - before
        results = await run(own, base_url, cases, tmp_path, RunnerSettings(workers=2))
        with_run = set(chromium_processes(main_only=True)) - before

    assert [result.status for result in results] == ["passed"] * 4
    assert len(launched) == 1 and len(with_run) == 2 and launched < with_run


async def test_a_navigation_waits_its_own_timeout_not_a_step_s(
    browsers: Browsers, slow: SlowSite, tmp_path: Path
) -> None:
    slow.delay_s = 1.5
    cases = [case("slow load", {"action": "goto", "url": "/slow"})]
    patient = RunnerSettings(step_timeout_s=0.5, navigation_timeout_s=5, trace="off")
    hasty = RunnerSettings(step_timeout_s=5, navigation_timeout_s=0.5, trace="off")

    [waited] = await run(browsers, slow.base_url, cases, tmp_path / "patient", patient)
    [gave_up] = await run(browsers, slow.base_url, cases, tmp_path / "hasty", hasty)

    assert waited.status == "passed"
    assert gave_up.error is not None
    assert gave_up.error.message == "could not load /slow: Timeout 500ms exceeded."


async def test_a_click_whose_page_does_not_answer_says_so(
    browsers: Browsers, slow: SlowSite, tmp_path: Path
) -> None:
    click = {"action": "click", "target": {"role": "link", "name": "Slow"}}
    settings = RunnerSettings(step_timeout_s=0.5, screenshots="off", trace="off")
    cases = [case("slow", GOTO_HOME, click)]

    [result] = await run(browsers, slow.base_url, cases, tmp_path, settings)

    assert result.error is not None
    assert (result.error.message, result.error.step_index) == (
        'could not click link "Slow": the action was done, but the page it opened '
        "had not started loading after 0.5 s",
        1,
    )


async def test_case_timeout_stops_a_slow_case(
    browsers: Browsers, slow: SlowSite, tmp_path: Path
) -> None:
    cases = [case("slow", GOTO_HOME, {"action": "goto", "url": "/slow"})]
    settings = RunnerSettings(step_timeout_s=20, case_timeout_s=1.5, trace="off")

    [result] = await run(browsers, slow.base_url, cases, tmp_path, settings)

    assert result.error is not None
    assert (result.error.message, result.error.step_index) == (
        "the case took longer than 1.5 s",
        1,
    )


async def test_browser_crash_fails_the_running_case_and_the_rest_continue(
    browsers: Browsers, slow: SlowSite, tmp_path: Path
) -> None:
    cases = [
        case("crashes", {"action": "goto", "url": "/slow"}),
        case("after", GOTO_HOME, {"action": "expect_title", "value": "Home"}),
    ]
    settings = RunnerSettings(workers=1, step_timeout_s=20)
    execution = Execution(
        browsers, cases, base_url=slow.base_url, settings=settings, artifacts_dir=tmp_path / "a"
    )

    task = asyncio.create_task(execution.run())
    await slow.in_flight(1)
    await (await browsers.get()).close()
    crashed, after = await task

    assert crashed.status == "failed" and crashed.error is not None
    assert crashed.error.message == (
        "the browser crashed, was closed or lost its connection "
        "(the next cases relaunch or reconnect it)"
    )
    assert (crashed.error.step_index, crashed.screenshot, crashed.trace) == (0, None, None)
    assert after.status == "passed"


async def test_unknown_browser_is_refused_before_running(
    browsers: Browsers, tmp_path: Path
) -> None:
    execution = Execution(
        browsers,
        [case("x", GOTO_HOME)],
        base_url="http://127.0.0.1:9",
        settings=FAST,
        artifacts_dir=tmp_path,
        browser="netscape",
    )
    with pytest.raises(BrowserNotAvailable):
        await execution.run()


@pytest.mark.parametrize(
    ("screenshots", "trace", "expected"),
    [("on", "off", ["case-1-screenshot.png"]), ("off", "on", ["case-1-trace.zip"])],
)
async def test_artifact_settings_apply_to_passing_cases(
    screenshots: str,
    trace: str,
    expected: list[str],
    browsers: Browsers,
    serve: ServeApp,
    tmp_path: Path,
) -> None:
    base = await serve(pages_app({"/": HOME}))
    settings = RunnerSettings.model_validate({"screenshots": screenshots, "trace": trace})

    [result] = await run(browsers, base, [case("home", GOTO_HOME)], tmp_path, settings)

    assert result.status == "passed"
    assert result.artifacts == expected
    assert sorted(path.name for path in (tmp_path / "artifacts").iterdir()) == expected
