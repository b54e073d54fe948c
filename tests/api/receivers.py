"""Webhook receivers: real aiohttp servers on 127.0.0.1 that keep what they are sent."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from multidict import CIMultiDictProxy


@dataclass
class Received:
    path: str
    headers: CIMultiDictProxy[str]
    body: bytes

    @property
    def event(self) -> str:
        return self.headers["X-Aegis-Event"]

    @property
    def json(self) -> Any:
        return json.loads(self.body)


def signature_ok(secret: str, received: Received) -> bool:
    """Check ``X-Aegis-Signature`` the way the README tells receivers to."""
    timestamp = received.headers["X-Aegis-Timestamp"].encode()
    digest = hmac.new(secret.encode(), timestamp + b"." + received.body, hashlib.sha256)
    return hmac.compare_digest(
        "sha256=" + digest.hexdigest(), received.headers["X-Aegis-Signature"]
    )


class Receiver:
    """Answers each POST with the next of ``answers`` (200 once they run out).

    With ``gate``, each request waits for it to be set before answering.
    """

    def __init__(self, answers: list[int] | None = None, gate: asyncio.Event | None = None) -> None:
        self.answers = list(answers or [])
        self.gate = gate
        self.received: list[Received] = []

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/{path:.*}", self._receive)
        return app

    async def _receive(self, request: web.Request) -> web.Response:
        self.received.append(Received(request.path, request.headers, await request.read()))
        if self.gate is not None:
            await self.gate.wait()
        status = self.answers.pop(0) if self.answers else 200
        return web.Response(status=status, text="ok" if status < 300 else "broken")

    async def wait_for(self, count: int, within_s: float = 30) -> list[Received]:
        """Wait until ``count`` requests have come; all that came."""
        deadline = asyncio.get_running_loop().time() + within_s
        while len(self.received) < count:
            if asyncio.get_running_loop().time() > deadline:
                events = [r.event for r in self.received]
                raise AssertionError(f"{count} requests expected in {within_s}s, got {events}")
            await asyncio.sleep(0.05)
        return self.received

    def events(self, path: str = "/") -> list[str]:
        return [r.event for r in self.received if r.path == path]
