"""Run benchmark: aegisd's executor against ``npx playwright test`` on the same suite.

Serves a static catalogue site of ``--pages`` pages on 127.0.0.1 (Python's
``http.server`` in a child process), crawls it and generates its suite
(at least 100 cases), then runs the suite with aegisd's executor and its
TypeScript export with the real ``npx playwright test``: the same cases, the same
number of workers, the same Chromium. Each runs ``--rounds`` times, alternating;
the best round of each is compared. Both keep a trace and a screenshot of failed
cases (aegisd's defaults: Playwright Test is set to ``retain-on-failure`` and
``only-on-failure``, so both record a trace of every case). aegisd's time includes
launching its browser as Playwright Test's includes launching its own; both must
pass every case.

    .venv/bin/python bench/run.py [--pages 60] [--workers 2] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from crawler.engine import crawl
from crawler.generate import generate_suite, suite_name
from crawler.models import CrawlOptions
from crawler.settings import CrawlerSettings
from runner import export_typescript
from runner.browsers import Browsers, BrowserSettings
from runner.executor import Execution, RunnerSettings
from runner.steps import Case
from tests.runner.exported import playwright_outcomes

TARGET_RATIO = 0.8
MIN_CASES = 100
_MENU = {"Home": "/", "Catalogue": "/item-1.html", "About": "/about.html"}
_CHILDREN = 3


def _page(title: str, links: range, search: bool) -> str:
    """A page with the menu, links to ``links`` items and maybe a search form."""
    menu = "".join(f'<a href="{href}">{name}</a> ' for name, href in _MENU.items())
    items = "".join(f'<li><a href="/item-{i}.html">Item {i}</a></li>' for i in links)
    form = (
        '<form action="/about.html"><label>Query <input name="q"></label>'
        "<button>Search</button></form>"
    )
    return (
        f'<!doctype html><html lang="en"><head><title>{title}</title>'
        '<link rel="icon" href="data:,"></head>'
        f"<body><nav>{menu}</nav><main><h1>{title}</h1><ul>{items}</ul>"
        f"{form if search else ''}</main></body></html>"
    )


def _write_site(root: Path, pages: int) -> None:
    """A catalogue of ``pages`` items, each linking to the next three, as static files."""

    def children(index: int) -> range:
        return range(index * _CHILDREN + 1, min(index * _CHILDREN + _CHILDREN, pages) + 1)

    (root / "index.html").write_text(_page("Catalogue", children(0), search=True))
    (root / "about.html").write_text(_page("About us", range(0), search=False))
    for index in range(1, pages + 1):
        page = _page(f"Item {index}", children(index), search=index % 10 == 0)
        (root / f"item-{index}.html").write_text(page)


def _wait_for(base_url: str) -> None:
    for _ in range(100):
        try:
            with urllib.request.urlopen(base_url + "/", timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"the site did not come up at {base_url}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _suite(base_url: str, pages: int) -> list[Case]:
    options = CrawlOptions.from_settings(
        CrawlerSettings(), start_url=base_url + "/", max_pages=pages + 2, depth=50
    )
    async with Browsers(BrowserSettings()) as browsers:
        result = await crawl(browsers, options)
    return generate_suite(result.pages, base_url)


async def _aegisd(cases: list[Case], base_url: str, workers: int, scratch: Path) -> set[str]:
    async with Browsers(BrowserSettings()) as browsers:
        execution = Execution(
            browsers,
            cases,
            base_url=base_url,
            settings=RunnerSettings(workers=workers),
            artifacts_dir=scratch,
        )
        return {result.status for result in await execution.run()}


async def _measure(base_url: str, args: argparse.Namespace) -> tuple[int, float, float]:
    cases = await _suite(base_url, args.pages)
    if len(cases) < MIN_CASES:
        raise SystemExit(f"the suite has {len(cases)} cases; use more --pages")
    spec = export_typescript.export_suite(suite_name(base_url), base_url, cases)
    best = {"aegisd": float("inf"), "playwright": float("inf")}
    with tempfile.TemporaryDirectory() as scratch:
        for round_ in range(1, args.rounds + 1):
            for name in ("playwright", "aegisd"):
                began = time.perf_counter()
                if name == "aegisd":
                    outcomes = await _aegisd(cases, base_url, args.workers, Path(scratch) / "a")
                else:
                    workdir = Path(scratch) / f"spec-{round_}"
                    run = await playwright_outcomes(spec, workdir, args.workers, True)
                    outcomes = set(run.values())
                elapsed = time.perf_counter() - began
                best[name] = min(best[name], elapsed)
                print(f"round {round_} {name:>10}: {len(cases)} cases in {elapsed:.2f} s")
                if outcomes != {"passed"}:
                    raise SystemExit(f"{name}: not every case passed ({sorted(outcomes)})")
    return len(cases), best["aegisd"], best["playwright"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=60)
    parser.add_argument("--workers", type=int, default=RunnerSettings().workers)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as root:
        _write_site(Path(root), args.pages)
        port = _free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "http.server", str(port), "-b", "127.0.0.1", "-d", root],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            base_url = f"http://127.0.0.1:{port}"
            _wait_for(base_url)
            count, aegisd_s, playwright_s = asyncio.run(_measure(base_url, args))
        finally:
            server.terminate()
            server.wait()
    ratio = aegisd_s / playwright_s
    print(f"suite: {count} generated cases, {args.workers} workers")
    print(f"aegisd executor: {aegisd_s:.2f} s")
    print(f"npx playwright test: {playwright_s:.2f} s")
    verdict = "meets" if ratio <= TARGET_RATIO else "MISSES"
    print(f"ratio: {ratio:.2f} ({verdict} the <= {TARGET_RATIO} target)")


if __name__ == "__main__":
    main()
