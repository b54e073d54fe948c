"""Fixtures of the dashboard tests: visitors with a cookie jar of their own, and
Chromium pages signed in as a person would sign in."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from playwright.async_api import expect
from yarl import URL

from tests.apiclient import Daemon
from tests.sites import Site

CSRF = re.compile(r'name="csrf" value="([^"]*)"')
# The machine is shared: waits are generous, and a failure still shows.
PAGE_TIMEOUT_MS = 60_000
JOB_TIMEOUT_MS = 240_000
"""For a crawl or a run to finish."""
expect.set_options(timeout=PAGE_TIMEOUT_MS)


@dataclass
class Answer:
    status: int
    text: str
    headers: Any

    @property
    def csrf(self) -> str:
        found = CSRF.search(self.text)
        assert found, self.text[:500]
        return found.group(1)


@dataclass
class Visitor:
    """Someone with a browser-like HTTP client (cookies kept, redirects not followed)."""

    http: aiohttp.ClientSession
    base: str

    async def get(self, path: str, **kwargs: Any) -> Answer:
        headers = {"Accept": "text/html", **kwargs.pop("headers", {})}
        async with self.http.get(
            self.base + path, allow_redirects=False, headers=headers, **kwargs
        ) as response:
            return Answer(response.status, await response.text(), response.headers)

    async def post(self, path: str, data: dict[str, Any], **kwargs: Any) -> Answer:
        async with self.http.post(
            self.base + path, data=data, allow_redirects=False, **kwargs
        ) as response:
            return Answer(response.status, await response.text(), response.headers)

    def cookie(self, name: str) -> str:
        return self.http.cookie_jar.filter_cookies(URL(self.base))[name].value

    async def sign_in(self, key: str, next_page: str = "/") -> Answer:
        form = await self.get("/login")
        return await self.post("/login", {"csrf": form.csrf, "key": key, "next": next_page})

    async def send(self, page: str, action: str, data: dict[str, Any] | None = None) -> Answer:
        """Post a form of ``page`` to ``action`` with the session's CSRF token."""
        token = (await self.get(page)).csrf
        return await self.post(action, {"csrf": token, **(data or {})})


MakeVisitor = Callable[[Daemon], Visitor]


def base_url(daemon: Daemon) -> str:
    return str(daemon.client.make_url("")).rstrip("/")


@pytest.fixture
async def visitor() -> AsyncIterator[MakeVisitor]:
    """Make visitors of a daemon, each with cookies of its own."""
    sessions: list[aiohttp.ClientSession] = []

    def make(daemon: Daemon) -> Visitor:
        # unsafe: keep cookies of a host given as an IP address, as browsers do.
        sessions.append(aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)))
        return Visitor(sessions[-1], base_url(daemon))

    yield make
    for session in sessions:
        await session.close()


async def signed_in(make: MakeVisitor, daemon: Daemon, key: str | None = None) -> Visitor:
    someone = make(daemon)
    key = key or daemon.key
    answer = await someone.sign_in(key)
    assert answer.status == 303, answer.text[:500]
    return someone


class GatedSite(Site):
    """A fixture site whose ``gated`` paths answer only once :attr:`gate` is set, so a test
    can watch a crawl or run while it is under way."""

    def __init__(self, pages: dict[str, str], gated: set[str]) -> None:
        super().__init__(pages)
        self.gated = gated
        self.gate = asyncio.Event()

    async def _serve(self, request: web.Request) -> web.Response:
        if request.path in self.gated:
            await self.gate.wait()
        return await super()._serve(request)
