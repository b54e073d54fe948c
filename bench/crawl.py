"""Crawl benchmark: aegisd's crawler against a bare Playwright breadth-first loop and
Crawlee for Python's ``PlaywrightCrawler``, and what verification and audits cost.

Serves a generated site of ``--pages`` pages on 127.0.0.1 (in a child process,
so the server does not share the crawler's event loop), then crawls it with
``crawler.engine.crawl`` at the default concurrency (4) and with its peers, in
the same browser with the same context settings:

- ``bare``: the simplest Playwright loop that does the same walk (a new tab per
  page, ``goto`` to ``load``, read ``a[href]``): the reference of the target;
- ``bare-tabs``: the same loop keeping one tab per worker, as aegisd does: the
  browser's own limit on this site;
- ``crawlee``: Crawlee for Python's ``PlaywrightCrawler`` (same-origin links, the
  same Chromium binary and arguments, headless, same concurrency, Crawlee's
  defaults otherwise), run from the venv ``make bench`` makes for it
  (``.venv-crawlee``, so its pins cannot clash with aegisd's) as a child process
  (``bench/crawlee_peer.py``); skipped, saying so, when that venv is missing.

aegisd runs three times per round: as a crawl a suite is generated from
(``prepare_generation``: locators verified in the live page, each distinct GET form
submitted once; no audits, the figure the targets are about), as a bare crawl
(``generate_suite: false``), which shows what verification costs, and as a
generating crawl with every audit (as a project's crawls by default), which shows
what audits cost. Each contestant runs once per round, in an order that turns
round by round, for ``--rounds`` rounds; the best round of each is compared.

    .venv/bin/python -m bench.crawl [--pages 400] [--rounds 2] [--crawlee-python PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import random
import sys
import time
from collections.abc import Awaitable, Callable
from multiprocessing.connection import Connection
from pathlib import Path
from urllib.parse import urldefrag

from aiohttp import web
from playwright.async_api import BrowserContext, Page

from crawler.audits.models import AUDIT_CATEGORIES
from crawler.engine import context_options, crawl
from crawler.models import CrawlOptions
from crawler.settings import CrawlerSettings
from runner.browsers import Browsers, BrowserSettings, chromium_args, find_chromium

TARGET_RATIO = 0.9
"""aegisd's pages/s over the bare loop's, at least (issue 12)."""

TARGET_CRAWLEE_RATIO = 3.0
"""aegisd's pages/s over Crawlee's, at least (issue 12)."""

CRAWLEE_PYTHON = Path(__file__).resolve().parent.parent / ".venv-crawlee" / "bin" / "python"
_CRAWLEE_PEER = Path(__file__).resolve().parent / "crawlee_peer.py"
_FANOUT = 5
_CROSS_LINKS = 3
_STYLE = "body { font-family: sans-serif; margin: 2em; } nav a { margin-right: 1em; }"
_SCRIPT = "document.documentElement.dataset.ready = '1';"


def _path(index: int) -> str:
    return "/" if index == 0 else f"/p/{index}"


def _page_html(index: int, pages: int) -> str:
    """Page ``index`` of a ``pages``-page site: a tree of fan-out 5 plus seeded cross links."""
    rng = random.Random(index)
    children = range(index * _FANOUT + 1, min(index * _FANOUT + _FANOUT, pages - 1) + 1)
    cross = [rng.randrange(pages) for _ in range(_CROSS_LINKS)]
    links = "".join(f'<li><a href="{_path(i)}">Page {i}</a></li>' for i in [*children, *cross])
    nav = "".join(f'<a href="{_path(i)}">Section {i}</a>' for i in range(min(5, pages)))
    form = ""
    if index % 10 == 0:
        form = (
            '<form action="/search" method="get"><label for="q">Search</label>'
            '<input id="q" name="q" type="search" required><button>Go</button></form>'
        )
    text = " ".join(f"Paragraph {index}.{n} of generated text." for n in range(20))
    return (
        f"<!doctype html><html><head><title>Page {index}</title>"
        '<link rel="stylesheet" href="/static/site.css"><script src="/static/site.js"></script>'
        f"</head><body><nav>{nav}</nav><main><h1>Page {index}</h1><p>{text}</p>"
        f"<ul>{links}</ul>{form}</main><footer><a href='/'>Home</a></footer></body></html>"
    )


def _site(pages: int) -> web.Application:
    bodies = {_path(i): _page_html(i, pages) for i in range(pages)}

    async def page(request: web.Request) -> web.Response:
        body = bodies.get(request.path)
        if body is None:
            return web.Response(status=404, text="not found")
        return web.Response(text=body, content_type="text/html")

    app = web.Application()
    app.router.add_get("/static/site.css", lambda _: _static(_STYLE, "text/css"))
    app.router.add_get("/static/site.js", lambda _: _static(_SCRIPT, "text/javascript"))
    app.router.add_get("/{tail:.*}", page)
    return app


async def _static(text: str, content_type: str) -> web.Response:
    return web.Response(
        text=text, content_type=content_type, headers={"Cache-Control": "max-age=3600"}
    )


def serve_site(
    pages: int, ready: Connection, make_site: Callable[[int], web.Application] = _site
) -> None:
    """Child process: serve the ``pages``-page site that ``make_site`` builds until killed,
    sending the port once listening."""

    async def main() -> None:
        runner = web.AppRunner(make_site(pages), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        ready.send(runner.addresses[0][1])
        await asyncio.Event().wait()

    asyncio.run(main())


async def _bare_loop(browsers: Browsers, start: str, concurrency: int, *, reuse: bool) -> int:
    """The reference: breadth-first over same-origin ``a[href]`` with plain Playwright, a
    new tab per page, or with ``reuse`` one tab per worker."""
    queue: asyncio.Queue[str] = asyncio.Queue()
    seen = {start}
    queue.put_nowait(start)
    crawled = 0
    async with browsers.context(**context_options(CrawlOptions(start_url=start))) as context:

        async def worker() -> None:
            nonlocal crawled
            tab = await context.new_page() if reuse else None
            while True:
                url = await queue.get()
                for href in await _read_links(context, tab, url):
                    link = urldefrag(href).url
                    if link.startswith(start) and link not in seen:
                        seen.add(link)
                        queue.put_nowait(link)
                crawled += 1
                queue.task_done()

        workers = [asyncio.create_task(worker()) for _ in range(concurrency)]
        await queue.join()
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
    return crawled


async def _read_links(context: BrowserContext, tab: Page | None, url: str) -> list[str]:
    page = tab if tab is not None else await context.new_page()
    try:
        await page.goto(url)
        hrefs: list[str] = await page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
    finally:
        if tab is None:
            await page.close()
    return hrefs


async def _aegisd(browsers: Browsers, start: str, pages: int, verify: bool, audits: bool) -> int:
    options = CrawlOptions.from_settings(
        CrawlerSettings(),
        start_url=start,
        max_pages=pages,
        depth=50,
        prepare_generation=verify,
        audits=list(AUDIT_CATEGORIES) if audits else [],
    )
    result = await crawl(browsers, options)
    return len(result.pages)


async def _crawlee(python: Path, start: str, pages: int, concurrency: int) -> tuple[int, float]:
    """Crawlee's pages and seconds, from its own process."""
    chromium = find_chromium(BrowserSettings(), None)
    arguments = [f"--arg={arg}" for arg in chromium_args()]
    process = await asyncio.create_subprocess_exec(
        str(python),
        str(_CRAWLEE_PEER),
        start,
        f"--pages={pages}",
        f"--concurrency={concurrency}",
        f"--executable={chromium}",
        *arguments,
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await process.communicate()
    if process.returncode != 0:
        raise SystemExit(f"the Crawlee peer failed (exit status {process.returncode})")
    answer = json.loads(out.decode().strip().splitlines()[-1])
    return int(answer["pages"]), float(answer["seconds"])


_RUNS = ("bare", "bare-tabs", "aegisd", "unverified", "audited", "crawlee")
"""The bare loop, a tab per page and a tab per worker; aegisd preparing generation; aegisd
without (no verification, no forms); aegisd preparing generation with every audit;
Crawlee."""


async def _measure(rounds: int, pages: int, start: str, crawlee: Path | None) -> dict[str, float]:
    concurrency = CrawlerSettings().concurrency
    runs = [name for name in _RUNS if name != "crawlee" or crawlee is not None]
    best = dict.fromkeys(runs, 0.0)
    async with Browsers(BrowserSettings()) as browsers:
        await browsers.get("chromium")
        contestants: dict[str, Callable[[], Awaitable[int]]] = {
            "bare": lambda: _bare_loop(browsers, start, concurrency, reuse=False),
            "bare-tabs": lambda: _bare_loop(browsers, start, concurrency, reuse=True),
            "aegisd": lambda: _aegisd(browsers, start, pages, verify=True, audits=False),
            "unverified": lambda: _aegisd(browsers, start, pages, verify=False, audits=False),
            "audited": lambda: _aegisd(browsers, start, pages, verify=True, audits=True),
        }
        for round_ in range(rounds):
            # Alternate: each round starts one contestant further along.
            for name in runs[round_ % len(runs) :] + runs[: round_ % len(runs)]:
                began = time.perf_counter()
                if name == "crawlee":
                    assert crawlee is not None
                    crawled, elapsed = await _crawlee(crawlee, start, pages, concurrency)
                else:
                    crawled = await contestants[name]()
                    elapsed = time.perf_counter() - began
                rate = crawled / elapsed
                best[name] = max(best[name], rate)
                print(
                    f"round {round_ + 1} {name:>10}: {crawled} pages in {elapsed:.2f} s, "
                    f"{rate:.1f} pages/s",
                    flush=True,
                )
                if crawled != pages:
                    raise SystemExit(f"{name} crawled {crawled} pages, expected {pages}")
    return best


def _verdict(ratio: float, target: float) -> str:
    return f"{ratio:.2f} ({'meets' if ratio >= target else 'BELOW'} the {target:g} target)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--crawlee-python", type=Path, default=CRAWLEE_PYTHON)
    args = parser.parse_args()
    crawlee: Path | None = args.crawlee_python
    if crawlee is not None and not crawlee.exists():
        print(
            f"Crawlee for Python is not installed ({crawlee} is missing; `make bench` makes "
            "that venv): its peer is skipped",
            file=sys.stderr,
        )
        crawlee = None
    receiving, sending = multiprocessing.Pipe(duplex=False)
    server = multiprocessing.Process(target=serve_site, args=(args.pages, sending), daemon=True)
    server.start()
    try:
        port = receiving.recv()
        start = f"http://127.0.0.1:{port}/"
        rates = asyncio.run(_measure(args.rounds, args.pages, start, crawlee))
    finally:
        server.terminate()
        server.join()
    aegisd = rates["aegisd"]
    print(f"site: {args.pages} pages, concurrency {CrawlerSettings().concurrency}")
    print(f"aegisd crawler: {aegisd:.1f} pages/s")
    print(f"aegisd crawler without verification: {rates['unverified']:.1f} pages/s")
    print(f"verification costs: {(1 - aegisd / rates['unverified']) * 100:.0f}% of the speed")
    print(f"aegisd crawler, every page audited: {rates['audited']:.1f} pages/s")
    print(f"bare Playwright loop, a tab per page: {rates['bare']:.1f} pages/s")
    print(f"bare Playwright loop, a tab per worker: {rates['bare-tabs']:.1f} pages/s")
    print(f"ratio to the bare loop: {_verdict(aegisd / rates['bare'], TARGET_RATIO)}")
    print(f"ratio to the bare loop with a tab per worker: {aegisd / rates['bare-tabs']:.2f}")
    if "crawlee" in rates:
        print(f"Crawlee PlaywrightCrawler: {rates['crawlee']:.1f} pages/s")
        print(f"ratio to Crawlee: {_verdict(aegisd / rates['crawlee'], TARGET_CRAWLEE_RATIO)}")
    cost = 1000 / rates["audited"] - 1000 / aegisd
    share = rates["audited"] / aegisd
    print(f"audits: {share:.2f} of the unaudited rate, {cost:.0f} ms more per page")


if __name__ == "__main__":
    main()
