"""Crawl benchmark: aegisd's crawler against a bare Playwright breadth-first loop, and
what auditing every page costs.

Serves a generated site of ``--pages`` pages on 127.0.0.1 (in a child process,
so the server does not share the crawler's event loop), then crawls it with
``crawler.engine.crawl`` at the default concurrency and with the simplest
Playwright loop that does the same walk (same browser, same concurrency, one
tab per page, ``goto`` to ``load``, read ``a[href]``). aegisd runs three times per
round: as a crawl a suite is generated from (``prepare_generation``: locators
verified in the live page, each distinct GET form submitted once; no audits, the
figure the target is about), as a bare crawl (``generate_suite: false``), which
shows what verification costs, and as a generating crawl with every audit (as a
project's crawls by default), which shows what audits cost. Each is run
``--rounds`` times, alternating; the best round of each is compared.

    .venv/bin/python bench/crawl.py [--pages 400] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import random
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from urllib.parse import urldefrag

from aiohttp import web

from crawler.audits.models import AUDIT_CATEGORIES
from crawler.engine import crawl
from crawler.models import CrawlOptions
from crawler.settings import CrawlerSettings
from runner.browsers import Browsers, BrowserSettings

TARGET_RATIO = 0.7
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


async def _bare_loop(browsers: Browsers, start: str, concurrency: int) -> int:
    """The reference: breadth-first over same-origin ``a[href]`` with plain Playwright."""
    queue: asyncio.Queue[str] = asyncio.Queue()
    seen = {start}
    queue.put_nowait(start)
    crawled = 0
    async with browsers.context() as context:

        async def worker() -> None:
            nonlocal crawled
            while True:
                url = await queue.get()
                page = await context.new_page()
                try:
                    await page.goto(url)
                    hrefs = await page.eval_on_selector_all(
                        "a[href]", "els => els.map(e => e.href)"
                    )
                finally:
                    await page.close()
                crawled += 1
                for href in hrefs:
                    link = urldefrag(href).url
                    if link.startswith(start) and link not in seen:
                        seen.add(link)
                        queue.put_nowait(link)
                queue.task_done()

        workers = [asyncio.create_task(worker()) for _ in range(concurrency)]
        await queue.join()
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
    return crawled


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


_RUNS = ("bare", "aegisd", "unverified", "audited")
"""The bare loop; aegisd preparing generation; aegisd without (no verification, no forms);
aegisd preparing generation with every audit."""


async def _measure(rounds: int, pages: int, start: str) -> dict[str, float]:
    concurrency = CrawlerSettings().concurrency
    best = dict.fromkeys(_RUNS, 0.0)
    async with Browsers(BrowserSettings()) as browsers:
        await browsers.get("chromium")
        for round_ in range(1, rounds + 1):
            for name in _RUNS:
                began = time.perf_counter()
                if name == "bare":
                    crawled = await _bare_loop(browsers, start, concurrency)
                else:
                    crawled = await _aegisd(
                        browsers,
                        start,
                        pages,
                        verify=name != "unverified",
                        audits=name == "audited",
                    )
                elapsed = time.perf_counter() - began
                rate = crawled / elapsed
                best[name] = max(best[name], rate)
                print(
                    f"round {round_} {name:>10}: {crawled} pages in {elapsed:.2f} s, "
                    f"{rate:.1f} pages/s",
                    flush=True,
                )
                if crawled != pages:
                    raise SystemExit(f"{name} crawled {crawled} pages, expected {pages}")
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    receiving, sending = multiprocessing.Pipe(duplex=False)
    server = multiprocessing.Process(target=serve_site, args=(args.pages, sending), daemon=True)
    server.start()
    try:
        port = receiving.recv()
        start = f"http://127.0.0.1:{port}/"
        rates = asyncio.run(_measure(args.rounds, args.pages, start))
    finally:
        server.terminate()
        server.join()
    ratio = rates["aegisd"] / rates["bare"]
    print(f"site: {args.pages} pages, concurrency {CrawlerSettings().concurrency}")
    print(f"aegisd crawler: {rates['aegisd']:.1f} pages/s")
    print(f"aegisd crawler without verification: {rates['unverified']:.1f} pages/s")
    print(
        f"verification costs: {(1 - rates['aegisd'] / rates['unverified']) * 100:.0f}% of the speed"
    )
    print(f"aegisd crawler, every page audited: {rates['audited']:.1f} pages/s")
    print(f"bare Playwright loop: {rates['bare']:.1f} pages/s")
    verdict = "meets" if ratio >= TARGET_RATIO else "BELOW"
    print(f"ratio: {ratio:.2f} ({verdict} the {TARGET_RATIO} target)")
    cost = 1000 / rates["audited"] - 1000 / rates["aegisd"]
    print(
        f"audits: {rates['audited'] / rates['aegisd']:.2f} of the unaudited rate, "
        f"{cost:.0f} ms more per page"
    )


if __name__ == "__main__":
    main()
