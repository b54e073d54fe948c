"""The Crawlee peer of ``bench.crawl``: Crawlee for Python's ``PlaywrightCrawler`` on the
bench's site, run by the Python of a venv of its own (``make bench`` makes
``.venv-crawlee``), so nothing of aegisd is imported here and Crawlee's pins cannot
clash with the project's.

It crawls from the start URL over same-origin links, headless, at a fixed
concurrency, with the Chromium binary and arguments it is given (aegisd's), and
otherwise Crawlee's defaults; then prints one JSON line: ``{"pages", "seconds"}``,
the time being that of ``crawler.run`` (launching Chromium included).

    .venv-crawlee/bin/python bench/crawlee_peer.py URL --pages N --concurrency 4 \\
        --executable /usr/bin/chromium [--arg=--no-sandbox ...]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import tempfile
import time

from crawlee import ConcurrencySettings
from crawlee.crawlers import PlaywrightCrawler, PlaywrightCrawlingContext


async def _crawl(args: argparse.Namespace) -> dict[str, float]:
    crawled = 0
    crawler = PlaywrightCrawler(
        browser_type="chromium",
        headless=True,
        browser_launch_options={"executable_path": args.executable, "args": args.arg},
        concurrency_settings=ConcurrencySettings(
            min_concurrency=args.concurrency,
            max_concurrency=args.concurrency,
            desired_concurrency=args.concurrency,
        ),
        max_requests_per_crawl=args.pages,
        configure_logging=False,
    )

    @crawler.router.default_handler
    async def handle(context: PlaywrightCrawlingContext) -> None:
        nonlocal crawled
        crawled += 1
        await context.enqueue_links(strategy="same-origin")

    began = time.perf_counter()
    await crawler.run([args.url])
    return {"pages": crawled, "seconds": time.perf_counter() - began}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--pages", type=int, required=True)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--executable", required=True)
    parser.add_argument("--arg", action="append", default=[], help="a Chromium argument")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="crawlee-") as storage:
        # Crawlee keeps its request queue on disk: a fresh one per run.
        os.environ["CRAWLEE_STORAGE_DIR"] = storage
        print(json.dumps(asyncio.run(_crawl(args))), flush=True)


if __name__ == "__main__":
    main()
