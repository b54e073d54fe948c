"""API benchmark: the real daemon against a bare aiohttp handler, idle and during a crawl.

Seeds 10,000 runs across 10 projects, starts ``aegisd serve`` in a child process
and, as the baseline, a bare aiohttp app (another child process) that answers
every request with the same JSON body the daemon's list gave. Concurrent
keep-alive clients then drive ``GET /v1/runs?limit=20`` and the baseline in
alternating rounds of a fixed time (the best round of each counts); then every
page of the list in turn (so no answer is reused), a run's detail and
``POST /v1/runs``. The figures are requests/s and p50/p99 latency, with the
list's ratio to the baseline. The list is then asked again while the daemon
crawls a generated site of several hundred pages: at a steady offered rate
(open loop) and by the clients flat out.

    .venv/bin/python -m bench.api [--seconds 8] [--clients 16] [--runs 10000] [--rounds 3]
                                  [--pages 400] [--rate 200]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from aegisd.auth import create_key
from bench.crawl import serve_site
from storage import Database
from tests.daemon import free_port

LIST_TARGET, P99_TARGET_MS = 0.4, 100.0
_PROJECTS = 10


@dataclass
class Figures:
    requests: int
    seconds: float
    latencies_ms: list[float]
    errors: int

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0

    def line(self, label: str) -> str:
        return (
            f"{label:<34} {self.rate:>9.0f} req/s   p50 {self.percentile(0.5):>6.1f} ms   "
            f"p99 {self.percentile(0.99):>6.1f} ms   errors {self.errors}"
        )


async def seed_runs(data_dir: Path, runs: int) -> tuple[str, str, str]:
    """Projects, a suite with one disabled case, ``runs`` runs; the admin key and ids."""
    case = {"name": "noop", "enabled": False, "steps": [{"action": "goto", "url": "/"}]}
    async with Database(data_dir / "aegisd.sqlite3") as db:
        key, _ = await create_key(db, "bench", "admin", None)
        suite_id, run_id = "", ""
        for number in range(_PROJECTS):
            project = await db.create_project(f"bench {number}", "http://127.0.0.1:9/", None, {})
            suite = await db.create_suite(
                project["id"], None, "bench", "http://127.0.0.1:9/", [case]
            )
            suite_id = suite["id"]
            for _ in range(runs // _PROJECTS):
                row = await db.create_run(
                    project_id=project["id"], suite_id=suite_id, suite_name="bench",
                    browser="chromium", base_url="http://127.0.0.1:9/", retries=0,
                    cases=[], trigger="api",
                )  # fmt: skip
                run_id = row["id"]
        # Seeded runs are history, not work: mark them finished.
        await db.execute("UPDATE runs SET status = 'passed', duration = 1")
    return key, suite_id, run_id


def _bare(body: bytes, port: int) -> None:
    """Child process: the baseline, a handler answering ``body`` to every request."""

    async def handler(_: web.Request) -> web.Response:
        return web.Response(body=body, content_type="application/json")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


def start_daemon(data_dir: str, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "AEGISD_API__RATE_LIMIT_PER_MINUTE": "0"}
    command = [sys.executable, "-m", "aegisd.cli", "serve", "--data-dir", data_dir]
    return subprocess.Popen(
        [*command, "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def _drive(
    url: str | Callable[[], str], seconds: float, clients: int, method: str = "GET",
    body: Any = None, headers: dict[str, str] | None = None,
) -> Figures:  # fmt: skip
    """Closed loop: ``clients`` keep-alive clients, each sending its next request when the
    last one is answered. ``url`` may be a function giving each request's URL."""
    next_url = url if callable(url) else lambda: url
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:

        async def client() -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                async with session.request(method, next_url(), json=body) as response:
                    await response.read()
                    if response.status >= 400:
                        errors += 1
                latencies.append((time.perf_counter() - started) * 1000)

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(clients)))
        elapsed = time.perf_counter() - started
    return Figures(len(latencies), elapsed, latencies, errors)


async def _offered(url: str, seconds: float, rate: float, headers: dict[str, str]) -> Figures:
    """Open loop: a request every ``1 / rate`` s whether or not earlier ones were answered;
    each latency counts from when its request was due, so a stall shows in full."""
    latencies: list[float] = []
    errors = 0
    async with aiohttp.ClientSession(headers=headers) as session:

        async def one(due: float) -> None:
            nonlocal errors
            async with session.get(url) as response:
                await response.read()
                errors += response.status >= 400
            latencies.append((time.perf_counter() - due) * 1000)

        started = time.perf_counter()
        sent: list[asyncio.Task[None]] = []
        for number in range(int(seconds * rate)):
            due = started + number / rate
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            sent.append(asyncio.create_task(one(due)))
        await asyncio.gather(*sent)
        elapsed = time.perf_counter() - started
    return Figures(len(latencies), elapsed, latencies, errors)


async def wait_healthy(url: str) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(600):
            try:
                async with session.get(url) as response:
                    if response.status < 500:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise TimeoutError(url)


async def main(
    seconds: float, clients: int, runs: int, pages: int, rounds: int, rate: float
) -> None:
    with tempfile.TemporaryDirectory(prefix="aegisd-bench-") as tmp:
        data_dir = Path(tmp)
        print(f"seeding {runs} runs ...", flush=True)
        key, suite_id, run_id = await seed_runs(data_dir, runs)
        port = free_port()
        daemon = start_daemon(tmp, port)
        api = f"http://127.0.0.1:{port}/v1"
        auth = {"Authorization": f"Bearer {key}"}
        await wait_healthy(f"http://127.0.0.1:{port}/healthz")
        async with (
            aiohttp.ClientSession(headers=auth) as session,
            session.get(f"{api}/runs?limit=20") as response,
        ):
            list_body = await response.read()
        bare_port = free_port()
        bare = multiprocessing.Process(target=_bare, args=(list_body, bare_port), daemon=True)
        bare.start()
        bare_url = f"http://127.0.0.1:{bare_port}/"
        await wait_healthy(bare_url)
        # Every page of the 10,000 runs in turn: more URLs than answers are kept, so none
        # is answered from memory (aegisd/answers.py).
        page_numbers = itertools.cycle(range(1, runs // 20 + 1))
        try:
            print(f"{clients} keep-alive clients, {seconds:.0f} s per figure\n")
            # Alternate the two so a burst of load on the machine hits both; keep each's best.
            bares, lists = [], []
            for _ in range(rounds):
                bares.append(await _drive(bare_url, seconds, clients))
                lists.append(await _drive(f"{api}/runs?limit=20", seconds, clients, headers=auth))
            baseline = max(bares, key=lambda figures: figures.rate)
            listed = max(lists, key=lambda figures: figures.rate)
            paged = await _drive(
                lambda: f"{api}/runs?limit=20&page={next(page_numbers)}",
                seconds, clients, headers=auth,
            )  # fmt: skip
            detail = await _drive(f"{api}/runs/{run_id}", seconds, clients, headers=auth)
            print(baseline.line("bare aiohttp handler"))
            print(listed.line("GET /v1/runs?limit=20"))
            print(paged.line("GET /v1/runs?limit=20&page=N"))
            print(detail.line("GET /v1/runs/:id"))
            ratio = listed.rate / baseline.rate
            rounds_ratios = ", ".join(
                f"{a.rate / b.rate:.2f}" for a, b in zip(lists, bares, strict=True)
            )
            print(
                f"\nlist / bare ratio: {ratio:.2f} (target >= {LIST_TARGET}); "
                f"round by round: {rounds_ratios}; every page in turn: "
                f"{paged.rate / baseline.rate:.2f}"
            )

            ready, child = multiprocessing.Pipe()
            site = multiprocessing.Process(target=serve_site, args=(pages, child), daemon=True)
            site.start()
            site_url = f"http://127.0.0.1:{ready.recv()}/"
            async with aiohttp.ClientSession(headers=auth) as session:
                async with session.post(
                    f"{api}/projects", json={"name": "crawl", "base_url": site_url}
                ) as response:
                    project = (await response.json())["data"]
                body = {"project_id": project["id"], "max_pages": pages, "depth": 50}
                async with session.post(f"{api}/crawls", json=body) as response:
                    crawl_id = (await response.json())["data"]["id"]
                await asyncio.sleep(2)  # let the crawl get going
                offered = await _offered(f"{api}/runs?limit=20", seconds, rate, auth)
                during = await _drive(f"{api}/runs?limit=20", seconds, clients, headers=auth)
                async with session.get(f"{api}/crawls/{crawl_id}") as response:
                    crawl = (await response.json())["data"]
            # Last: the runs it queues keep the daemon busy long after.
            created = await _drive(
                f"{api}/runs", seconds, clients, "POST", {"suite_id": suite_id}, auth
            )
            print(created.line("POST /v1/runs"))
            print(offered.line(f"crawling, {rate:.0f} req/s offered"))
            print(during.line(f"crawling, {clients} clients flat out"))
            print(
                f"crawl meanwhile: {crawl['status']}, {crawl['pages_crawled']} pages crawled; "
                f"p99 during the crawl {offered.percentile(0.99):.1f} ms at {rate:.0f} req/s, "
                f"{during.percentile(0.99):.1f} ms flat out (target < {P99_TARGET_MS:.0f})"
            )
            print(
                "\n" + json.dumps(
                    {
                        "bare_rps": round(baseline.rate), "list_rps": round(listed.rate),
                        "list_ratio": round(ratio, 2), "paged_rps": round(paged.rate),
                        "paged_ratio": round(paged.rate / baseline.rate, 2),
                        "detail_rps": round(detail.rate), "create_rps": round(created.rate),
                        "list_p50_ms": round(listed.percentile(0.5), 1),
                        "list_p99_ms": round(listed.percentile(0.99), 1),
                        "crawl_offered_p99_ms": round(offered.percentile(0.99), 1),
                        "crawl_flat_out_p99_ms": round(during.percentile(0.99), 1),
                        "crawl_pages": crawl["pages_crawled"],
                    }
                )
            )  # fmt: skip
            site.kill()
        finally:
            bare.kill()
            daemon.terminate()
            daemon.wait(60)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--pages", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rate", type=float, default=200.0, help="req/s offered during the crawl")
    args = parser.parse_args()
    asyncio.run(main(args.seconds, args.clients, args.runs, args.pages, args.rounds, args.rate))
