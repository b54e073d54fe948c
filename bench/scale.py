"""Scale benchmark: the daemon crawling sites of 500, 2,000 and 5,000 pages.

For each size N it serves a generated site (in a child process) whose pages look
like a real site's: a navigation bar, breadcrumbs, a tree of product pages with
cross links, a search form on one page in ten and a contact form on one in a
hundred, console errors, a missing image and, now and then, a link to a page
that is gone (404). It starts ``aegisd serve`` (a child process, so its memory is
its own), crawls the site twice through the API (every audit on, as a project's
crawls are by default; the second crawl is diffed against the first), and prints:

- pages/s of each crawl (from running to its last page stored);
- the post-crawl stages in the daemon (last page stored to completed: audits
  finished, suite generated, changes computed) and the slowest ``/healthz``
  answer meanwhile, which shows whether they kept off the event loop;
- the daemon's peak RSS (``VmHWM``), and the peak of its browser's processes
  summed (sampled every half second);
- ``GET /v1/crawls/:id`` (median and slowest of five) and the last page of
  ``GET /v1/crawls/:id/pages``;
- suite generation and the diff against the previous crawl, timed again in this
  process over the pages the daemon stored, read back from SQLite a batch at a time
  (the same functions the daemon runs).

    .venv/bin/python -m bench.scale [--sizes 500,2000,5000] [--concurrency 4]

Targets at 5,000 pages: peak RSS under 400 MB, ``GET /crawls/:id`` under 200 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from aegisd.auth import create_key
from aegisd.stored_pages import compare_stored, generate_stored
from bench.api import start_daemon, wait_healthy
from bench.crawl import serve_site
from storage import Database
from tests.daemon import free_port

RSS_TARGET_MB = 400
GET_TARGET_MS = 200
_SECTIONS = 8
_FANOUT = 5
_CROSS_LINKS = 3
_GONE_EVERY = 250
_SEARCH_EVERY = 10
_CONTACT_EVERY = 100
_CONSOLE_EVERY = 20
_MISSING_IMAGE_EVERY = 50
_STYLE = "body { font-family: sans-serif; margin: 2em; } nav a { margin-right: 1em; }"


def _path(index: int) -> str:
    return "/" if index == 0 else f"/shop/item-{index}"


def _gone(index: int) -> bool:
    return index % _GONE_EVERY == 7


def site_size(pages: int) -> int:
    """The pages a full crawl of the ``pages``-page site finds: its pages and gone ones."""
    return pages + sum(1 for index in range(pages) if _gone(index))


def _page_html(index: int, pages: int) -> str:
    children = range(index * _FANOUT + 1, min(index * _FANOUT + _FANOUT, pages - 1) + 1)
    cross = [(index * 7919 + n * 104729) % pages for n in range(1, _CROSS_LINKS + 1)]
    items = "".join(f'<li><a href="{_path(i)}">Item {i}</a></li>' for i in [*children, *cross])
    if _gone(index):
        items += f'<li><a href="/discontinued/{index}">Discontinued {index}</a></li>'
    nav = "".join(
        f'<a href="{_path(i)}">Section {i}</a>' for i in range(1, min(_SECTIONS, pages - 1) + 1)
    )
    parent = (index - 1) // _FANOUT
    crumbs = f'<a href="/">Home</a> / <a href="{_path(parent)}">Item {parent}</a>' if index else ""
    extra = ""
    if index % _SEARCH_EVERY == 0:
        extra += (
            '<form action="/search" method="get" role="search"><label for="q">Search</label>'
            '<input id="q" name="q" type="search" required><button>Search</button></form>'
        )
    if index % _CONTACT_EVERY == 0:
        extra += (
            '<form action="/contact" method="post"><label for="name">Name</label>'
            '<input id="name" name="name" required><label for="email">Email</label>'
            '<input id="email" name="email" type="email" required>'
            '<label for="message">Message</label><textarea id="message" name="message">'
            "</textarea><button>Send</button></form>"
        )
    if index % _CONSOLE_EVERY == 3:
        extra += f"<script>console.error('recommendations widget {index} failed');</script>"
    if index % _MISSING_IMAGE_EVERY == 5:
        extra += f'<img src="/static/missing-{index}.png" alt="Item {index}">'
    text = " ".join(f"Item {index} detail {n}: generated product text." for n in range(12))
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Item {index} | Scale shop</title>"
        '<meta name="description" content="A generated page of the scale bench.">'
        '<link rel="stylesheet" href="/static/site.css"></head><body>'
        f"<header><nav>{nav}</nav></header><main><p>{crumbs}</p><h1>Item {index}</h1>"
        f"<p>{text}</p><ul>{items}</ul>{extra}</main>"
        '<footer><a href="/">Home</a></footer></body></html>'
    )


def scale_site(pages: int) -> web.Application:
    """The ``pages``-page site (see the module docstring)."""
    bodies = {_path(i): _page_html(i, pages) for i in range(pages)}

    async def page(request: web.Request) -> web.Response:
        body = bodies.get(request.path)
        if body is None:
            return web.Response(status=404, text="not found", content_type="text/html")
        return web.Response(text=body, content_type="text/html")

    async def style(_: web.Request) -> web.Response:
        return web.Response(
            text=_STYLE, content_type="text/css", headers={"Cache-Control": "max-age=3600"}
        )

    app = web.Application()
    app.router.add_get("/static/site.css", style)
    app.router.add_get("/{tail:.*}", page)
    return app


def _status_kb(pid: int, key: str) -> int:
    """A ``/proc/<pid>/status`` figure in kB (0 when the process is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


@dataclass
class _Watch:
    """Samples the browser's summed RSS (the daemon's descendants) until stopped."""

    pid: int
    peak_kb: int = 0
    task: asyncio.Task[None] | None = field(default=None, repr=False)

    async def _sample(self) -> None:
        while True:
            total = sum(_status_kb(child, "VmRSS") for child in _descendants(self.pid))
            self.peak_kb = max(self.peak_kb, total)
            await asyncio.sleep(0.5)

    def __enter__(self) -> _Watch:
        self.task = asyncio.create_task(self._sample())
        return self

    def __exit__(self, *_: object) -> None:
        assert self.task is not None
        self.task.cancel()


@dataclass
class _Crawled:
    crawl_id: str
    pages: int
    crawl_s: float
    post_s: float
    slowest_health_ms: float


async def _crawl(session: aiohttp.ClientSession, api: str, project_id: str, pages: int) -> _Crawled:
    """Crawl the site through the API and wait for the crawl to finish."""
    body = {"project_id": project_id, "max_pages": pages, "depth": 50}
    async with session.post(f"{api}/v1/crawls", json=body) as response:
        crawl_id = (await response.json())["data"]["id"]
    started = last_page = 0.0
    slowest = 0.0
    while True:
        asked = time.perf_counter()
        async with session.get(f"{api}/healthz") as response:
            await response.read()
        if last_page:
            slowest = max(slowest, (time.perf_counter() - asked) * 1000)
        async with session.get(f"{api}/v1/crawls", params={"project_id": project_id}) as response:
            row = next(c for c in (await response.json())["data"] if c["id"] == crawl_id)
        now = time.perf_counter()
        if row["status"] != "queued" and not started:
            started = now
        if row["pages_crawled"] >= pages and not last_page:
            last_page = now
        if row["status"] not in ("queued", "running"):
            break
        await asyncio.sleep(0.2)
    if row["status"] != "completed" or row["pages_crawled"] != pages:
        raise SystemExit(f"crawl {crawl_id}: {row['status']}, {row['pages_crawled']} pages")
    return _Crawled(crawl_id, pages, last_page - started, now - last_page, slowest)


async def _timed_get(session: aiohttp.ClientSession, url: str, repeat: int = 5) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        async with session.get(url) as response:
            await response.read()
            if response.status != 200:
                raise SystemExit(f"{url}: {response.status}")
        times.append((time.perf_counter() - started) * 1000)
    return times


async def _stages(db_path: Path, previous: str, current: str, base_url: str) -> tuple[float, float]:
    """Seconds to generate the suite of ``current`` from its stored pages and to diff it
    against ``previous``, the way the daemon does both."""
    async with Database(db_path) as db:
        started = time.perf_counter()
        await generate_stored(db, current, base_url, submit_post_forms=False, visual_checks=True)
        generated = time.perf_counter() - started
        started = time.perf_counter()
        await compare_stored(db, previous, current)
    return generated, time.perf_counter() - started


async def _measure(size: int, concurrency: int) -> dict[str, Any]:
    pages = site_size(size)
    ready, sending = multiprocessing.Pipe(duplex=False)
    site = multiprocessing.Process(target=serve_site, args=(size, sending, scale_site), daemon=True)
    site.start()
    base_url = f"http://127.0.0.1:{ready.recv()}/"
    with tempfile.TemporaryDirectory(prefix="aegisd-scale-") as tmp:
        db_path = Path(tmp) / "aegisd.sqlite3"
        async with Database(db_path) as db:
            key, _ = await create_key(db, "bench", "admin", None)
            project = await db.create_project("scale", base_url, None, {})
        port = free_port()
        os.environ["AEGISD_CRAWLER__MAX_DURATION_S"] = "86400"
        os.environ["AEGISD_CRAWLER__CONCURRENCY"] = str(concurrency)
        daemon = start_daemon(tmp, port)
        api = f"http://127.0.0.1:{port}"
        try:
            await wait_healthy(f"{api}/healthz")
            auth = {"Authorization": f"Bearer {key}"}
            async with aiohttp.ClientSession(headers=auth) as session:
                with _Watch(daemon.pid) as browser:
                    crawls = [await _crawl(session, api, project["id"], pages) for _ in range(2)]
                current = crawls[-1].crawl_id
                detail = await _timed_get(session, f"{api}/v1/crawls/{current}")
                last = (pages + 99) // 100
                listed = await _timed_get(
                    session, f"{api}/v1/crawls/{current}/pages?limit=100&page={last}"
                )
            peak_kb = _status_kb(daemon.pid, "VmHWM")
        finally:
            daemon.terminate()
            daemon.wait()
            site.terminate()
            site.join()
        generated, diffed = await _stages(db_path, crawls[0].crawl_id, current, base_url)
    return {
        "size": size,
        "pages": pages,
        "crawls": crawls,
        "rss_mb": peak_kb / 1024,
        "browser_mb": browser.peak_kb / 1024,
        "detail_ms": detail,
        "pages_ms": listed,
        "generate_s": generated,
        "diff_s": diffed,
    }


def _report(figures: dict[str, Any]) -> None:
    crawls: list[_Crawled] = figures["crawls"]
    rates = ", ".join(f"{c.pages / c.crawl_s:.1f}" for c in crawls)
    post = ", ".join(f"{c.post_s:.1f} s" for c in crawls)
    health = max(c.slowest_health_ms for c in crawls)
    detail, listed = figures["detail_ms"], figures["pages_ms"]
    rss = figures["rss_mb"]
    print(f"\n== {figures['size']} pages ({figures['pages']} with the gone ones) ==")
    print(f"crawl rate: {rates} pages/s (first, second crawl)")
    print(f"post-crawl stages in the daemon: {post}; slowest /healthz meanwhile {health:.0f} ms")
    print(
        f"daemon peak RSS: {rss:.0f} MB (target < {RSS_TARGET_MB}: "
        f"{'met' if rss < RSS_TARGET_MB else 'NOT met'}); "
        f"browser processes' peak: {figures['browser_mb']:.0f} MB"
    )
    median = statistics.median(detail)
    print(
        f"GET /v1/crawls/:id: median {median:.0f} ms, slowest {max(detail):.0f} ms "
        f"(target < {GET_TARGET_MS}: {'met' if median < GET_TARGET_MS else 'NOT met'}); "
        f"last page of /pages: median {statistics.median(listed):.0f} ms"
    )
    print(
        f"suite generation: {figures['generate_s']:.2f} s; "
        f"diff against the previous crawl: {figures['diff_s']:.2f} s",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", default="500,2000,5000")
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    load = os.getloadavg()
    print(f"load average at start: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    for size in (int(value) for value in args.sizes.split(",")):
        _report(asyncio.run(_measure(size, args.concurrency)))
    load = os.getloadavg()
    print(f"\nload average at the end: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")


if __name__ == "__main__":
    main()
