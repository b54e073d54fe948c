"""Talking to a real daemon app on a free 127.0.0.1 port with its own SQLite file."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from aegisd.app import create_app
from aegisd.auth import create_key
from aegisd.config import Config, load_config
from aegisd.state import DB
from runner.browsers import Browsers
from storage import Database


@dataclass
class Answer:
    status: int
    body: Any
    headers: dict[str, str]

    @property
    def data(self) -> Any:
        assert self.body["success"] is True, self.body
        return self.body["data"]

    @property
    def error(self) -> dict[str, Any]:
        assert self.body["success"] is False, self.body
        return self.body["error"]


@dataclass
class Daemon:
    app: web.Application
    client: TestClient[Any, Any]
    key: str

    @property
    def db(self) -> Database:
        return self.app[DB]

    async def new_key(self, scope: str = "write", project_id: str | None = None) -> str:
        secret, _ = await create_key(self.db, f"{scope} key", scope, project_id)  # type: ignore[arg-type]
        return secret

    async def call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        key: str | None = None,
        prefix: str = "/v1",
        **kwargs: Any,
    ) -> Answer:
        headers = kwargs.pop("headers", {})
        if key != "":
            headers.setdefault("Authorization", f"Bearer {key or self.key}")
        async with self.client.request(
            method, prefix + path, json=json, headers=headers, **kwargs
        ) as response:
            body: Any
            if response.content_type == "application/json":
                body = await response.json()
            elif response.content_type.startswith("text/") or response.content_type.endswith("xml"):
                body = await response.text()
            else:
                body = await response.read()
            return Answer(response.status, body, dict(response.headers))

    async def wait_for(self, path: str, done: Callable[[Any], bool], within_s: float = 60) -> Any:
        """Poll ``GET path`` until ``done(data)``; the last data."""
        deadline = asyncio.get_running_loop().time() + within_s
        while True:
            data = (await self.call("GET", path)).data
            if done(data):
                return data
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{path} did not get there in {within_s}s: {data}")
            await asyncio.sleep(0.1)

    async def finished(self, path: str, within_s: float = 60) -> Any:
        """Poll until the job at ``path`` is in a final state."""
        return await self.wait_for(
            path, lambda data: data["status"] not in ("queued", "running"), within_s
        )

    async def project(
        self, name: str = "Site", base_url: str = "http://127.0.0.1:9/", **extra: Any
    ) -> dict[str, Any]:
        """Create a project; its crawls audit nothing unless ``settings`` says otherwise
        (audits cost about a second a page, and tests/audits covers them)."""
        extra["settings"] = {"audits": [], **extra.get("settings", {})}
        answer = await self.call(
            "POST", "/projects", json={"name": name, "base_url": base_url, **extra}
        )
        assert answer.status == 201, answer.body
        return answer.data  # type: ignore[no-any-return]


STEP_TIMEOUT_S = 5
"""How long a test daemon's steps wait (unless its ``runner`` table says otherwise): half
the default, so that a step meant to fail fails sooner; the exported runs wait as long."""


def make_config(tmp_path: Path, **tables: dict[str, Any]) -> Config:
    """A daemon's config with its data in ``tmp_path``, no rate limit, ``STEP_TIMEOUT_S``,
    and the settings of ``tables`` (a table given replaces the default's, but for
    ``runner``, whose settings are added to the step timeout)."""
    overrides: dict[str, Any] = {
        "storage": {"data_dir": tmp_path},
        "api": {"rate_limit_per_minute": 0},
        **tables,
        "runner": {"step_timeout_s": STEP_TIMEOUT_S, **tables.get("runner", {})},
    }
    return load_config(environ={}, overrides=overrides)


@asynccontextmanager
async def running(config: Config, browsers: Browsers) -> AsyncIterator[Daemon]:
    """A daemon app for ``config`` on a free port, with an admin key."""
    app = create_app(config, browsers)
    async with TestServer(app, host="127.0.0.1") as server, TestClient(server) as client:
        secret, _ = await create_key(app[DB], "test admin", "admin", None)
        yield Daemon(app, client, secret)
