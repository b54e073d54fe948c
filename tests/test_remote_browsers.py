"""Remote browsers: crawls and runs through a Playwright server and a DevTools endpoint,
the remote end going away under them, and coming back; servers that cannot serve a
run; Chromium as Selenium Grid sessions.

The daemon gets its own ``Browsers`` reaching a browser process the test
started (``tests/remote.py``); nothing is launched by aegisd itself.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from runner.browsers import CHROMIUM_ARGS, Browsers, BrowserSettings
from runner.errors import BrowserNotAvailable
from runner.executor import Execution, RunnerSettings
from runner.steps import Case
from tests.api.test_suites import CASES, make_suite
from tests.apiclient import Daemon, make_config, running
from tests.conftest import ServeApp
from tests.remote import RemoteBrowser, RemoteKind, SeleniumGrid
from tests.sites import Site, linked_site, page

FAILING = {
    "name": "Home is called Shop",
    "steps": [{"action": "goto", "url": "/"}, {"action": "expect_title", "value": "Shop"}],
}
SLOW_CASE = {
    "name": "Slow page loads",
    "steps": [{"action": "goto", "url": "/p1"}, {"action": "expect_title", "value": "P1"}],
}


@pytest.fixture(params=["playwright-server", "devtools"])
async def remote(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[RemoteBrowser]:
    kind: RemoteKind = request.param
    browser = RemoteBrowser(kind, tmp_path / kind)
    await browser.start()
    yield browser
    await browser.kill()


class _StallingSite:
    """Home links to ten pages that answer only once ``release`` is set (or after a minute),
    so a crawl or a run of them is sure to be in flight."""

    def __init__(self) -> None:
        self.release = asyncio.Event()

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/", self._home)
        app.router.add_get(r"/{name:p\d+}", self._stalled)
        return app

    async def _home(self, _request: web.Request) -> web.Response:
        links = "".join(f'<a href="/p{i}">p{i}</a>' for i in range(10))
        return web.Response(text=page("Home", links), content_type="text/html")

    async def _stalled(self, request: web.Request) -> web.Response:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.release.wait(), 60)
        name = request.match_info["name"].upper()
        return web.Response(text=page(name), content_type="text/html")


async def _crawl(daemon: Daemon, project: dict[str, Any]) -> dict[str, Any]:
    body = {"project_id": project["id"], "generate_suite": False}
    crawl = (await daemon.call("POST", "/crawls", json=body)).data
    return crawl  # type: ignore[no-any-return]


async def _run(daemon: Daemon, suite: dict[str, Any]) -> dict[str, Any]:
    run = (await daemon.call("POST", "/runs", json={"suite_id": suite["id"]})).data
    return run  # type: ignore[no-any-return]


async def _crawl_and_run_pass(
    daemon: Daemon, project: dict[str, Any], suite: dict[str, Any]
) -> dict[str, Any]:
    """A crawl of the linked site completes and a run of ``suite`` has its one failure; the run."""
    crawl = await daemon.finished(f"/crawls/{(await _crawl(daemon, project))['id']}")
    assert crawl["status"] == "completed", crawl["error"]
    paths = {p["url"].removeprefix(project["base_url"]) for p in crawl["results"]["pages"]}
    assert paths == {"/", "/about", "/blog", "/blog/post", "/missing"}
    run = await daemon.finished(f"/runs/{(await _run(daemon, suite))['id']}")
    assert (run["status"], run["passed"], run["failed"]) == ("failed", 2, 1), run
    return run


async def _artifact(daemon: Daemon, url: str) -> bytes:
    answer = await daemon.call("GET", url.split("/v1", 1)[1])
    assert answer.status == 200, answer.body
    return answer.body  # type: ignore[no-any-return]


async def test_crawl_and_run_through_a_remote_browser_that_goes_away(
    remote: RemoteBrowser, tmp_path: Path, serve: ServeApp
) -> None:
    site = await serve(Site(linked_site()).app())
    stalling = _StallingSite()
    slow = await serve(stalling.app())
    config = make_config(tmp_path, runner={"workers": 2})
    async with contextlib.AsyncExitStack() as stack:
        stack.callback(stalling.release.set)  # before the servers wait for their handlers
        browsers = await stack.enter_async_context(Browsers(remote.settings))
        daemon = await stack.enter_async_context(running(config, browsers))
        where = browsers.remote()
        assert where is not None
        project = await daemon.project(base_url=site)
        suite = await make_suite(daemon, project["id"], [*CASES, FAILING])
        run = await _crawl_and_run_pass(daemon, project, suite)

        # The failed case's screenshot and trace came over the connection.
        failed = next(r for r in run["results"] if r["status"] == "failed")
        assert failed["error"]["message"] == 'expected title "Shop" but found "Home"'
        assert (await _artifact(daemon, failed["screenshot"])).startswith(b"\x89PNG")
        assert (await _artifact(daemon, failed["trace"])).startswith(b"PK")

        # The remote end goes away under a crawl and a run.
        slow_project = await daemon.project(name="Slow", base_url=slow)
        slow_suite = await make_suite(daemon, slow_project["id"], [SLOW_CASE] * 10)
        crawl = await _crawl(daemon, slow_project)
        run = await _run(daemon, slow_suite)
        await daemon.wait_for(f"/crawls/{crawl['id']}", lambda c: c["pages_crawled"] == 1)
        await daemon.wait_for(f"/runs/{run['id']}", lambda r: r["status"] == "running")
        await remote.kill()
        stalling.release.set()
        crawl = await daemon.finished(f"/crawls/{crawl['id']}")
        assert crawl["status"] == "failed"
        assert crawl["error"].startswith("the browser closed during the crawl")
        assert where in crawl["error"] and "the next crawl reconnects" in crawl["error"]
        run = await daemon.finished(f"/runs/{run['id']}")
        assert run["status"] == "error", run
        assert run["error"].startswith(f"could not connect to {where}: "), run["error"]

        # While it is down, new work fails at once with the same words.
        down = await daemon.finished(f"/runs/{(await _run(daemon, suite))['id']}")
        assert down["status"] == "error" and down["error"].startswith(
            f"could not connect to {where}"
        )
        assert down["total"] == 3 and down["skipped"] == 3

        # Back at the same address: the next jobs reconnect.
        await remote.start()
        await _crawl_and_run_pass(daemon, project, suite)


def _minor(full: str) -> str:
    return ".".join(full.split(".")[:2])


async def test_servers_that_cannot_serve_a_run(tmp_path: Path, serve: ServeApp) -> None:
    base = await serve(Site(linked_site()).app())
    cases = [Case.model_validate(CASES[0])]
    settings = RunnerSettings(trace="off", screenshots="off")

    async def run(browsers: Browsers, browser: str) -> list[str]:
        execution = Execution(
            browsers,
            cases,
            base_url=base,
            settings=settings,
            artifacts_dir=tmp_path / browser,
            browser=browser,
        )
        return [result.status for result in await execution.run()]

    chromium = RemoteBrowser("playwright-server", tmp_path / "chromium")
    older = RemoteBrowser("older-playwright-server", tmp_path / "older")
    await asyncio.gather(chromium.start(), older.start())
    try:
        async with Browsers(chromium.settings) as browsers:
            where = browsers.remote("firefox")
            browsers.check_available("firefox")  # the server decides, when asked
            with pytest.raises(BrowserNotAvailable) as refused:
                await run(browsers, "firefox")
            assert str(refused.value).startswith(f"{where} runs chromium, not firefox: ")
            assert await run(browsers, "chromium") == ["passed"]
        async with Browsers(older.settings) as browsers:
            with pytest.raises(BrowserNotAvailable) as refused:
                await run(browsers, "chromium")
            server, client = _minor(older.playwright_version), _minor(version("playwright"))
            assert server != client
            assert str(refused.value) == (
                f"could not connect to {browsers.remote()}: it runs Playwright {server} and "
                f"aegisd Playwright {client}; their minor versions must match "
                f"(e.g. `npx playwright@{client} run-server`)"
            )
    finally:
        await asyncio.gather(chromium.kill(), older.kill())


async def test_chromium_as_sessions_of_a_selenium_grid(
    tmp_path: Path, serve: ServeApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = await serve(Site(linked_site()).app())
    grid = SeleniumGrid(tmp_path / "grid")
    hub = await serve(grid.app())
    # Read by the Playwright driver when it starts; no Chromium is needed here then.
    monkeypatch.setenv("SELENIUM_REMOTE_URL", hub)
    settings = BrowserSettings(chromium_path=str(tmp_path / "no-chromium-here"))
    async with Browsers(settings) as browsers:
        assert browsers.remote() == f"the Selenium Grid at {hub}"
        browsers.check_available("chromium")
        execution = Execution(
            browsers,
            [Case.model_validate(case) for case in CASES],
            base_url=base,
            settings=RunnerSettings(),
            artifacts_dir=tmp_path / "art",
        )
        assert [result.status for result in await execution.run()] == ["passed", "passed"]
        assert len(grid.requested) == len(grid.sessions) == 1
    assert grid.sessions == {}  # the session ended with the daemon's browsers
    options = grid.requested[0]["goog:chromeOptions"]
    assert set(CHROMIUM_ARGS) <= set(options["args"])
