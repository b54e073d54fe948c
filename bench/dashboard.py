"""Dashboard benchmark: every page's server time with 10,000 runs in the database.

Seeds 10,000 runs across 10 projects (as ``bench/api.py`` does), a run with 60 case
results whose suite has a history of as many finished runs again (written by the run
job's own ``record_history``; every case failing now and then, some flaky), a crawl of
300 pages with broken links and changes, schedules and a webhook with deliveries;
starts ``aegisd serve`` in a child process and signs in as a browser does. Each page
is then asked for ``--requests`` times in turn, one request at a time, alternating
rounds with the API route that answers the same data as JSON (the baseline, measured
in the same run); each round ends with the health tab over 1,000 runs, each request
just after a change to the history (health is kept while the history stands). The
figures are the page's server time from its ``Server-Timing`` header (p50/p95; target
p95 < 50 ms) and both client-side latencies, with their ratio.

    .venv/bin/python -m bench.dashboard [--runs 10000] [--requests 40] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from bench.api import seed_runs, start_daemon, wait_healthy
from runner.triage import CLASSIFICATIONS
from storage import Database
from storage.history import record_history
from storage.webhooks import NewEvent
from tests.daemon import free_port

P95_TARGET_MS = 50.0
_CASES = 60
_PAGES = 300
_HISTORY_BATCH = 500


@dataclass
class Timings:
    server_ms: list[float] = field(default_factory=list)
    client_ms: list[float] = field(default_factory=list)
    errors: int = 0

    @staticmethod
    def percentile(values: list[float], q: float) -> float:
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def _result(number: int) -> dict[str, object]:
    failed = number % 10 == 0
    steps = [
        {
            "index": 0,
            "action": "goto",
            "description": f"go to /page/{number}",
            "status": "passed",
            "duration": 120,
        },
        {
            "index": 1,
            "action": "expect_title",
            "description": f'expect title "Page {number}"',
            "status": "failed" if failed else "passed",
            "duration": 30,
            "error": "expected a title" if failed else None,
        },
    ]
    error = (
        {
            "message": f'expected title "Page {number}" but found "Oops"',
            "step_index": 1,
            "action": "expect_title",
        }
        if failed
        else None
    )
    return {
        "case_id": f"case-{number}",
        "name": f"Page loads: /page/{number}",
        "status": "failed" if failed else "passed",
        "duration": 900,
        "attempts": 1,
        "flaky": False,
        "error": error,
        "skip_reason": None,
        "screenshot": f"case-{number}-screenshot.png" if failed else None,
        "trace": f"case-{number}-trace.zip" if failed else None,
        "steps": steps,
        "classification": "regression" if failed else None,
    }


def _page(number: int) -> dict[str, object]:
    return {
        "url": f"http://127.0.0.1:9/page/{number}",
        "redirected_from": None,
        "status": 404 if number % 50 == 7 else 200,
        "content_type": "text/html",
        "title": f"Page {number}",
        "heading": f"Page {number}",
        "depth": number % 4,
        "referrer": None,
        "load_time": 200 + number,
        "links": [],
        "forms": [],
        "console_errors": ["TypeError: x is undefined"] if number % 30 == 0 else [],
        "failed_requests": [],
        "download": False,
        "truncated": False,
        "error": None,
    }


def _outcome(number: int, chance: random.Random) -> dict[str, object]:
    """Case ``number``'s result in one run of the history."""
    failed = chance.random() < 0.05
    flaky = not failed and chance.random() < 0.02
    classification = chance.choice(CLASSIFICATIONS[:4]) if failed else "flaky" if flaky else None
    return {
        **_result(number),
        "status": "failed" if failed else "passed",
        "flaky": flaky,
        "duration": chance.randint(200, 2000),
        "classification": classification,
    }


async def _seed_history(db: Database, project_id: str, runs: int) -> str:
    """A 60-case suite named as the run page's run's, and ``runs`` finished runs of it in
    the history; the suite's id."""
    definitions = [
        {"name": f"Page loads: /page/{n}", "type": "smoke",
         "steps": [{"action": "goto", "url": f"/page/{n}"}]}
        for n in range(_CASES)
    ]  # fmt: skip
    suite = await db.create_suite(project_id, None, "bench", "http://127.0.0.1:9/", definitions)
    chance = random.Random(16)
    for start in range(0, runs, _HISTORY_BATCH):
        await _finish_runs(db, project_id, suite["id"], min(_HISTORY_BATCH, runs - start), chance)
    return str(suite["id"])


async def _finish_runs(
    db: Database, project_id: str, suite_id: str, count: int, chance: random.Random
) -> None:
    """``count`` more finished runs of the 60-case suite ``suite_id``, with random
    outcomes, in the history (in one transaction)."""
    finished = []
    for _ in range(count):
        row = await db.create_run(
            project_id=project_id, suite_id=suite_id, suite_name="bench",
            browser="chromium", base_url="http://127.0.0.1:9/", retries=0, cases=[],
            trigger="api",
        )  # fmt: skip
        results = [_outcome(n, chance) for n in range(_CASES)]
        failed = sum(result["status"] == "failed" for result in results)
        finished.append((row["id"], "failed" if failed else "passed", results, failed))
    async with db.write() as conn:
        for run_id, status, results, failed in finished:
            await record_history(conn, run_id, status, results)
            await conn.execute(
                "UPDATE runs SET status = ?, total = ?, passed = ?, failed = ?, duration = 1 "
                "WHERE id = ?",
                (status, _CASES, _CASES - failed, failed, run_id),
            )


async def _seed_pages(data_dir: Path, runs: int) -> tuple[str, dict[str, str]]:
    """What every page needs; the admin key and the ids of the pages' resources."""
    key, suite_id, run_id = await seed_runs(data_dir, runs)
    async with Database(data_dir / "aegisd.sqlite3") as db:
        suite = await db.get_suite(suite_id)
        assert suite is not None
        project_id = suite["project_id"]
        # Varied outcomes, so the pass-rate trend and the counts have something to draw.
        await db.execute(
            "UPDATE runs SET status = 'failed', total = 20, passed = 17, failed = 3 "
            "WHERE rowid % 5 = 0"
        )
        await db.execute(
            "UPDATE runs SET total = 20, passed = 20 WHERE rowid % 5 != 0",
        )
        suite_id = await _seed_history(db, project_id, runs)
        await db.finish_run(
            run_id,
            "failed",
            [_result(n) for n in range(_CASES)],
            total=_CASES,
            passed=_CASES - _CASES // 10,
            failed=_CASES // 10,
            skipped=0,
            flaky=0,
            classifications={name: 0 for name in CLASSIFICATIONS} | {"regression": _CASES // 10},
        )
        crawl = await db.create_crawl(
            project_id, "full", _PAGES, 3, "http://127.0.0.1:9/", False, {}
        )
        for number in range(_PAGES):
            page = _page(number)
            await db.add_crawl_page(
                crawl["id"], number, str(page["url"]), 200, str(page["title"]), number % 4, page
            )
        broken = [
            {
                "url": f"http://127.0.0.1:9/gone/{n}",
                "name": f"Gone {n}",
                "status": 404,
                "error": None,
                "found_on": "http://127.0.0.1:9/",
            }
            for n in range(20)
        ]
        changes = {
            "previous_crawl_id": crawl["id"],
            "added": ["http://127.0.0.1:9/new"],
            "removed": [],
            "changed": [],
        }
        await db.finish_crawl(
            crawl["id"],
            "completed",
            pages_found=_PAGES,
            pages_crawled=_PAGES,
            broken_links=broken,
            broken_links_count=len(broken),
            changes=changes,
        )
        for number in range(5):
            await db.create_schedule(
                project_id=project_id,
                action="run",
                suite_id=suite_id,
                cron=f"{number} 6 * * *",
                timezone="Europe/Berlin",
                browser="chromium",
                enabled=True,
                next_run_at="2030-01-01T05:00:00Z",
            )
        hook = await db.create_webhook(
            url="http://127.0.0.1:9/hook",
            events=["run.failed"],
            secret="s" * 24,
            format="json",
            project_id=None,
            enabled=True,
        )
        for _ in range(30):
            await db.queue_delivery(hook["id"], NewEvent("webhook.test", None, {"n": 1}))
    ids = {
        "project": project_id,
        "suite": suite_id,
        "run": run_id,
        "crawl": crawl["id"],
        "webhook": hook["id"],
    }
    return key, ids


def _pages(ids: dict[str, str], runs: int) -> list[tuple[str, str | None]]:
    """(dashboard page, the API route answering the same data, if any)."""
    last_page = max(1, runs // 25)
    return [
        ("/", "/v1/projects"),
        (f"/projects/{ids['project']}", f"/v1/runs?project_id={ids['project']}&limit=40"),
        (f"/crawls/{ids['crawl']}", f"/v1/crawls/{ids['crawl']}/pages?limit=100"),
        (f"/suites/{ids['suite']}", f"/v1/suites/{ids['suite']}"),
        (
            f"/suites/{ids['suite']}/health",
            f"/v1/suites/{ids['suite']}/health?sort=flakiness&limit=50",
        ),
        (f"/suites/{ids['suite']}/health?runs=1000", None),
        ("/runs", "/v1/runs?limit=25"),
        (f"/runs?project_id={ids['project']}&status=failed", None),
        (f"/runs?page={last_page}", f"/v1/runs?limit=25&page={last_page}"),
        (f"/runs/{ids['run']}", f"/v1/runs/{ids['run']}"),
        ("/schedules", "/v1/schedules?limit=100"),
        ("/schedules/new", None),
        ("/webhooks", "/v1/webhooks?limit=100"),
        (f"/webhooks/{ids['webhook']}", f"/v1/webhooks/{ids['webhook']}/deliveries?limit=25"),
        ("/settings/security", "/v1/api-keys?limit=50"),
        ("/projects/new", None),
    ]


async def _ask(session: aiohttp.ClientSession, url: str, timings: Timings) -> None:
    started = time.perf_counter()
    async with session.get(url, allow_redirects=False) as response:
        await response.read()
        timings.client_ms.append((time.perf_counter() - started) * 1000)
        if response.status != 200:
            timings.errors += 1
        found = re.search(r"dur=([\d.]+)", response.headers.get("Server-Timing", ""))
        if found:
            timings.server_ms.append(float(found.group(1)))


async def _sign_in(session: aiohttp.ClientSession, base: str, key: str) -> None:
    async with session.get(base + "/login") as response:
        token = re.search(r'name="csrf" value="([^"]+)"', await response.text())
    assert token, "no sign-in form"
    data = {"csrf": token.group(1), "key": key}
    async with session.post(base + "/login", data=data, allow_redirects=False) as response:
        assert response.status == 303, response.status


async def main(runs: int, requests: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory(prefix="aegisd-bench-") as tmp:
        print(
            f"seeding {runs} runs, a {_PAGES}-page crawl, a run of {_CASES} cases with a "
            f"history of {runs} runs ..."
        )
        key, ids = await _seed_pages(Path(tmp), runs)
        port = free_port()
        daemon = start_daemon(tmp, port)
        base = f"http://127.0.0.1:{port}"
        try:
            await wait_healthy(base + "/healthz")
            jar = aiohttp.CookieJar(unsafe=True)
            pages = _pages(ids, runs)
            page_times = {path: Timings() for path, _ in pages}
            api_times = {path: Timings() for path, _ in pages}
            headers = {"Authorization": f"Bearer {key}"}
            chance = random.Random(17)
            async with (
                aiohttp.ClientSession(cookie_jar=jar) as browser,
                aiohttp.ClientSession(headers=headers) as api,
                Database(Path(tmp) / "aegisd.sqlite3") as history,
            ):
                suite = await history.get_suite(ids["suite"])
                assert suite is not None
                project_id = suite["project_id"]
                await _sign_in(browser, base, key)
                for path, _ in pages:  # warm up: templates compile on first use
                    await _ask(browser, base + path, Timings())
                cold = "health?runs=1000 after a run finished"
                page_times[cold], api_times[cold] = Timings(), Timings()
                for _ in range(rounds):
                    for path, route in pages:
                        for _ in range(requests):
                            await _ask(browser, base + path, page_times[path])
                        if route:
                            for _ in range(requests):
                                await _ask(api, base + route, api_times[path])
                    # What a person sees first after a run finishes: health is kept while
                    # the history stands, so each request here follows a run finishing.
                    for _ in range(requests):
                        await _finish_runs(history, project_id, ids["suite"], 1, chance)
                        await _ask(
                            browser,
                            f"{base}/suites/{ids['suite']}/health?runs=1000",
                            page_times[cold],
                        )
            jar.clear()
            _report([*pages, (cold, None)], page_times, api_times)
        finally:
            daemon.terminate()
            daemon.wait(60)


def _report(
    pages: list[tuple[str, str | None]],
    page_times: dict[str, Timings],
    api_times: dict[str, Timings],
) -> None:
    p = Timings.percentile
    print(
        f"\n{'page':<44} {'server p50':>10} {'p95':>7}   {'client p50':>10}   "
        f"{'API p50':>8}  ratio  errors"
    )
    worst = 0.0
    for path, route in pages:
        page, api = page_times[path], api_times[path]
        worst = max(worst, p(page.server_ms, 0.95))
        client = statistics.median(page.client_ms) if page.client_ms else 0.0
        baseline = statistics.median(api.client_ms) if route and api.client_ms else None
        ratio = f"{client / baseline:5.1f}" if baseline else "    —"
        shown = f"{baseline:6.1f} ms" if baseline else "       —"
        print(
            f"{path[:44]:<44} {p(page.server_ms, 0.5):7.1f} ms {p(page.server_ms, 0.95):4.1f} ms"
            f"   {client:7.1f} ms   {shown}  {ratio}  {page.errors + api.errors}"
        )
    met = "met" if worst < P95_TARGET_MS else "NOT met"
    print(f"\nworst page p95 server time: {worst:.1f} ms (target < {P95_TARGET_MS:.0f} ms): {met}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=40, help="per page and round")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    asyncio.run(main(args.runs, args.requests, args.rounds))
