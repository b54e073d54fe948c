"""Fixtures shared by the whole suite: one browser process per session, local web servers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from aegisd.config import Config
from runner.browsers import Browsers, BrowserSettings
from tests.apiclient import Daemon, make_config, running
from tests.daemon import DaemonProcess

ServeApp = Callable[[web.Application], Awaitable[str]]
Spawn = Callable[..., DaemonProcess]


@pytest.fixture(scope="session")
async def browsers() -> AsyncIterator[Browsers]:
    """The session's browsers: every test takes its own context from them."""
    async with Browsers(BrowserSettings()) as shared:
        yield shared


@pytest.fixture
async def serve() -> AsyncIterator[ServeApp]:
    """Serve aiohttp apps on free 127.0.0.1 ports for the test; returns each one's base URL."""
    runners: list[web.AppRunner] = []

    async def start(app: web.Application) -> str:
        runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        runners.append(runner)
        host, port = runner.addresses[0][:2]
        return f"http://{host}:{port}"

    yield start
    for runner in reversed(runners):
        await runner.cleanup()


@pytest.fixture
def config(tmp_path: Path) -> Config:
    """A config of the test's own: data in ``tmp_path``, no rate limit."""
    return make_config(tmp_path)


@pytest.fixture
async def daemon(config: Config, browsers: Browsers) -> AsyncIterator[Daemon]:
    """A running daemon app with an admin key (``daemon.key``)."""
    async with running(config, browsers) as started:
        yield started


@pytest.fixture
def spawn() -> Iterator[Spawn]:
    """Make ``aegisd serve`` processes (``DaemonProcess`` arguments); none outlives the test."""
    made: list[DaemonProcess] = []

    def make(*args: Any, **kwargs: Any) -> DaemonProcess:
        made.append(DaemonProcess(*args, **kwargs))
        return made[-1]

    yield make
    for process in made:
        process.reap()
