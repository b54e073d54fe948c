from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from runner.browsers import Browsers
from tests.apiclient import Daemon, make_config, running


@pytest.fixture
async def limited(tmp_path: Path, browsers: Browsers) -> AsyncIterator[Daemon]:
    async with running(make_config(tmp_path, api={"rate_limit_per_minute": 3}), browsers) as daemon:
        yield daemon


async def test_headers_and_real_429(limited: Daemon) -> None:
    if time.time() % 60 > 57:  # stay inside one window
        await asyncio.sleep(60 - time.time() % 60 + 0.1)
    remaining = []
    for _ in range(3):
        answer = await limited.call("GET", "/projects")
        assert answer.status == 200
        assert answer.headers["X-RateLimit-Limit"] == "3"
        remaining.append(int(answer.headers["X-RateLimit-Remaining"]))
        reset = int(answer.headers["X-RateLimit-Reset"])
        assert time.time() < reset <= time.time() + 60
    assert remaining == [2, 1, 0]
    over = await limited.call("GET", "/projects")
    assert over.status == 429
    assert over.error["code"] == "RATE_LIMIT_EXCEEDED"
    assert 1 <= int(over.headers["Retry-After"]) <= 60
    assert over.headers["X-RateLimit-Remaining"] == "0"
    # Another key has its own budget; errors of an authenticated request carry the headers too.
    other = await limited.new_key("read")
    missing = await limited.call("GET", "/projects/proj_nope00000000", key=other)
    assert missing.status == 404 and missing.headers["X-RateLimit-Remaining"] == "2"


async def test_plan_limits(tmp_path: Path) -> None:
    assert make_config(tmp_path).api.requests_per_minute() == 0  # tests turn it off
    assert make_config(tmp_path, api={}).api.requests_per_minute() == 60
    assert make_config(tmp_path, api={"plan": "business"}).api.requests_per_minute() == 300


async def test_public_routes_need_no_key(daemon: Daemon) -> None:
    health = await daemon.call("GET", "/healthz", prefix="", key="")
    assert health.status == 200 and health.data["status"] == "ok"
    assert "X-RateLimit-Limit" not in health.headers
    assert (await daemon.call("GET", "/openapi.json", key="")).status == 200
    assert (await daemon.call("GET", "/openapi.json", key="", prefix="/api/v1")).status == 200
