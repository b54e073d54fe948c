"""Remote browsers for the tests: a Playwright browser server and a Chromium serving DevTools.

Each is a real process on a free 127.0.0.1 port that a test can kill (as a
crashed or restarted grid node would go away) and start again at the same
address. ``settings`` are the ``[browsers]`` settings that reach it.
``SeleniumGrid`` hands out such Chromiums as Grid 4 sessions.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
from pathlib import Path
from typing import Any, Literal

from aiohttp import web

from runner.browsers import CHROMIUM_ARGS, BrowserSettings, find_chromium
from tests.runner.exported import NODE_MODULES

RemoteKind = Literal["playwright-server", "older-playwright-server", "devtools"]
_STARTUP_S = 60.0
_ARGS = [*CHROMIUM_ARGS, "--no-sandbox"]
_PLAYWRIGHT_CORE = {
    "playwright-server": NODE_MODULES / "playwright-core",
    # Another minor version than the Python client's, which its server refuses.
    "older-playwright-server": NODE_MODULES / "playwright-core-previous",
}
# `playwright launch-server` prints its endpoint on stdout; Chromium its DevTools on stderr.
_SERVER_ADDRESS = re.compile(r"^ws://127\.0\.0\.1:(\d+)/\S*$", re.MULTILINE)
_DEVTOOLS_ADDRESS = re.compile(r"DevTools listening on ws://127\.0\.0\.1:(\d+)/")


class RemoteBrowser:
    """A browser reached over the network; ``await start()``, ``kill()``, ``start()`` again."""

    def __init__(self, kind: RemoteKind, scratch: Path) -> None:
        self.kind = kind
        self._scratch = scratch
        self._port = 0
        self._process: asyncio.subprocess.Process | None = None
        self._starts = 0
        scratch.mkdir(parents=True, exist_ok=True)

    @property
    def playwright_version(self) -> str:
        """The version of a Playwright server's package."""
        package = json.loads((_PLAYWRIGHT_CORE[self.kind] / "package.json").read_text())
        return str(package["version"])

    @property
    def settings(self) -> BrowserSettings:
        if self.kind == "devtools":
            return BrowserSettings(cdp_endpoint=f"http://127.0.0.1:{self._port}")
        return BrowserSettings(ws_endpoint=f"ws://127.0.0.1:{self._port}/aegisd")

    def _command(self) -> list[str]:
        chromium = find_chromium(BrowserSettings(), None)
        if self.kind != "devtools":
            config = self._scratch / "launch-server.json"
            options = {
                "executablePath": chromium,
                "args": _ARGS,
                "host": "127.0.0.1",
                "port": self._port,
                "wsPath": "/aegisd",
            }
            config.write_text(json.dumps(options))
            command = ["launch-server", "--browser", "chromium", "--config", str(config)]
            return ["node", str(_PLAYWRIGHT_CORE[self.kind] / "cli.js"), *command]
        profile = self._scratch / f"profile-{self._starts}"
        return [
            chromium,
            "--headless",
            f"--remote-debugging-port={self._port}",
            f"--user-data-dir={profile}",
            *_ARGS,
            "about:blank",
        ]

    async def start(self) -> None:
        """Start the browser (on the port of the first start) and wait until it listens."""
        assert self._process is None, "already running"
        self._starts += 1
        log = self._scratch / f"output-{self._starts}.log"
        with log.open("wb") as output:
            self._process = await asyncio.create_subprocess_exec(
                *self._command(),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=output,
                stderr=output,
                start_new_session=True,
            )
        deadline = asyncio.get_running_loop().time() + _STARTUP_S
        address = _DEVTOOLS_ADDRESS if self.kind == "devtools" else _SERVER_ADDRESS
        while not (found := address.search(log.read_text(errors="replace"))):
            if self._process.returncode is not None:
                raise AssertionError(f"{self.kind} exited at start:\n{log.read_text()}")
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{self.kind} did not start:\n{log.read_text()}")
            await asyncio.sleep(0.05)
        self._port = int(found[1])

    async def kill(self) -> None:
        """SIGKILL the browser's process group, as a lost node would vanish."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.returncode is None:
            os.killpg(process.pid, signal.SIGKILL)
        await process.wait()


class SeleniumGrid:
    """The two calls of a Selenium Grid 4 that Playwright makes, over real Chromiums.

    ``POST /session`` starts a Chromium serving DevTools and answers its address as
    the session's ``se:cdp`` capability, as a Grid node's Chrome does;
    ``DELETE /session/{id}`` ends it. ``requested`` holds each new session's
    capabilities, ``sessions`` the live ones.
    """

    def __init__(self, scratch: Path) -> None:
        self._scratch = scratch
        self.requested: list[dict[str, Any]] = []
        self.sessions: dict[str, RemoteBrowser] = {}

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/session", self._new_session)
        app.router.add_delete("/session/{id}", self._end_session)
        app.on_cleanup.append(self._end_all)
        return app

    async def _new_session(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requested.append(body["capabilities"]["alwaysMatch"])
        session_id = f"session-{len(self.requested)}"
        chrome = RemoteBrowser("devtools", self._scratch / session_id)
        await chrome.start()
        self.sessions[session_id] = chrome
        capabilities = {"browserName": "chrome", "se:cdp": chrome.settings.cdp_endpoint}
        return web.json_response({"value": {"sessionId": session_id, "capabilities": capabilities}})

    async def _end_session(self, request: web.Request) -> web.Response:
        chrome = self.sessions.pop(request.match_info["id"], None)
        if chrome is None:
            raise web.HTTPNotFound()
        await chrome.kill()
        return web.json_response({"value": None})

    async def _end_all(self, _app: web.Application) -> None:
        for chrome in self.sessions.values():
            await chrome.kill()
        self.sessions.clear()
