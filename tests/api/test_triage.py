"""Triage and history: real runs against fixture sites are classified when they finish.

Histories a browser would only slow down are written through storage (``scripted``);
every classification checked here is made by the run job at a real run's finish.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from aiohttp import web

from runner.browsers import Browsers
from runner.results import CaseResult
from tests.api.receivers import Receiver
from tests.api.test_ci import cli, poll
from tests.api.test_suites import CASES, make_suite
from tests.api.test_webhooks import ISO, webhook
from tests.apiclient import Daemon, make_config, running
from tests.conftest import ServeApp
from tests.sites import Site, page

NONE = {"regression": 0, "persistent": 0, "new": 0, "flaky": 0, "environment": 0}
HOME = CASES[0]  # "Home loads": goto /, status 200, title Home
ABOUT: dict[str, Any] = {
    "name": "About loads",
    "type": "smoke",
    "steps": [{"action": "goto", "url": "/about"}, {"action": "expect_status", "status": 200}],
}


def pages() -> dict[str, str]:
    return {"/": page("Home", '<a href="/about">About</a>'), "/about": page("About")}


async def finished_run(daemon: Daemon, suite_id: str, **body: Any) -> dict[str, Any]:
    queued = await daemon.call("POST", "/runs", json={"suite_id": suite_id, **body})
    assert queued.status == 201, queued.body
    return await daemon.finished(f"/runs/{queued.data['id']}")  # type: ignore[no-any-return]


def triaged(run: dict[str, Any]) -> dict[str, tuple[str, str | None]]:
    """Each case's status and classification, by name."""
    return {r["name"]: (r["status"], r["classification"]) for r in run["results"]}


async def scripted(
    daemon: Daemon,
    suite: dict[str, Any],
    outcomes: dict[str, str],
    status: str | None = None,
    classified: dict[str, str] | None = None,
) -> str:
    """A finished run of ``suite``'s cases named in ``outcomes`` (with the classifications
    in ``classified``), written through storage."""
    db = daemon.db
    cases = [case for case in await db.suite_cases(suite["id"]) if case["name"] in outcomes]
    row = await db.create_run(
        project_id=suite["project_id"], suite_id=suite["id"], suite_name=suite["name"],
        browser="chromium", base_url=suite["base_url"], retries=0, cases=cases, trigger="api",
    )  # fmt: skip
    results = [
        CaseResult(
            case_id=case["id"], name=case["name"], status=outcomes[case["name"]],  # type: ignore[arg-type]
            duration=100, attempts=1, steps=[],
            classification=(classified or {}).get(case["name"]),  # type: ignore[arg-type]
        ).model_dump(mode="json")
        for case in cases
    ]  # fmt: skip
    failed = list(outcomes.values()).count("failed")
    final = status or ("failed" if failed else "passed")
    await db.finish_run(row["id"], final, results, failed=failed, passed=len(cases) - failed)
    return str(row["id"])


async def test_regression_then_persistent_against_the_same_base_url(
    daemon: Daemon, serve: ServeApp
) -> None:
    site = Site(pages())
    base = await serve(site.app())
    suite = await make_suite(daemon, (await daemon.project(base_url=base))["id"], [HOME, ABOUT])
    home, about = suite["cases"]
    first = await finished_run(daemon, suite["id"])
    assert first["status"] == "passed" and first["classifications"] == NONE
    assert triaged(first) == {"Home loads": ("passed", None), "About loads": ("passed", None)}

    del site.pages["/about"]
    second = await finished_run(daemon, suite["id"])
    assert triaged(second)["About loads"] == ("failed", "regression")
    assert second["classifications"] == {**NONE, "regression": 1} and second["error"] is None

    # A run of a subset leaves About's history alone; CI answers carry the classification.
    subset = await finished_run(daemon, suite["id"], case_ids=[home["id"]])
    assert subset["status"] == "passed" and subset["classifications"] == NONE
    status, triggered = await cli(
        daemon, "POST", "/ci/trigger", daemon.key, json={"suiteIds": [suite["id"]]}
    )
    assert status == 202, triggered
    ci = await poll(daemon, triggered["id"], daemon.key)
    [broken] = [case for case in ci["cases"] if case["status"] == "failed"]
    assert (broken["name"], broken["failureType"], broken["failureKind"]) == (
        "About loads",
        "persistent",
        "assertion",
    )

    # Another deployment has no history yet; back on the first, it is still persistent.
    elsewhere = await serve(Site({"/": pages()["/"]}).app())
    other = await finished_run(daemon, suite["id"], base_url=elsewhere)
    assert triaged(other)["About loads"] == ("failed", "new")
    before = await daemon.call("GET", f"/suites/{suite['id']}/health")
    assert {case["name"]: case["runs"] for case in before.data}["About loads"] == 4
    back = await finished_run(daemon, suite["id"])
    assert triaged(back)["About loads"] == ("failed", "persistent")
    assert back["classifications"] == {**NONE, "persistent": 1}

    path = f"/suites/{suite['id']}/cases/{about['id']}/history"
    history = await daemon.call("GET", path)
    assert history.body["pagination"]["total"] == 5
    assert [(h["run_id"], h["status"], h["classification"]) for h in history.data] == [
        (back["id"], "failed", "persistent"),
        (other["id"], "failed", "new"),
        (triggered["id"], "failed", "persistent"),
        (second["id"], "failed", "regression"),
        (first["id"], "passed", None),
    ]
    assert all(h["case_id"] == about["id"] and ISO.match(h["created_at"]) for h in history.data)
    assert all(h["duration"] > 0 and h["flaky"] is False for h in history.data)
    paged = await daemon.call("GET", path + "?limit=2&page=2")
    assert [h["run_id"] for h in paged.data] == [triggered["id"], second["id"]]
    assert paged.body["pagination"] == {"page": 2, "limit": 2, "total": 5, "pages": 3}
    there = await daemon.call("GET", path + f"?base_url={elsewhere}/")
    assert [h["run_id"] for h in there.data] == [other["id"]]

    health = await daemon.call("GET", f"/suites/{suite['id']}/health")
    assert health.body["pagination"]["total"] == 2
    by_name = {case["name"]: case for case in health.data}
    about_health, home_health = by_name["About loads"], by_name["Home loads"]
    assert {k: about_health[k] for k in ("runs", "passed", "failed", "pass_rate", "flips")} == {
        "runs": 5, "passed": 1, "failed": 4, "pass_rate": 0.2, "flips": 1,
    }  # fmt: skip
    assert about_health["last_status"] == "failed" and about_health["median_duration"] > 0
    assert about_health["last_failure"]["run_id"] == back["id"]
    assert about_health["last_failure"]["classification"] == "persistent"
    assert (home_health["runs"], home_health["pass_rate"], home_health["flips"]) == (6, 1.0, 0)
    assert home_health["last_failure"] is None and home_health["case_id"] == home["id"]
    flakiest = await daemon.call("GET", f"/suites/{suite['id']}/health?sort=flakiness")
    assert [case["name"] for case in flakiest.data] == ["About loads", "Home loads"]
    recent = await daemon.call("GET", f"/suites/{suite['id']}/health?runs=2")
    assert [case["runs"] for case in recent.data] == [2, 2]
    # A deleted run leaves the history, and health (kept while the history stands) with it.
    assert (await daemon.call("DELETE", f"/runs/{back['id']}")).status == 200
    health = await daemon.call("GET", f"/suites/{suite['id']}/health")
    about_health = {case["name"]: case for case in health.data}["About loads"]
    assert (about_health["runs"], about_health["last_failure"]["run_id"]) == (4, other["id"])

    unknown = await daemon.call("GET", f"/suites/{suite['id']}/cases/case_nope0000000/history")
    assert unknown.status == 404
    bad = await daemon.call("GET", f"/suites/{suite['id']}/health?runs=0")
    assert bad.status == 400 and bad.error["details"][0]["field"] == "runs"
    outsider = await daemon.new_key("read", (await daemon.project("other"))["id"])
    assert (await daemon.call("GET", path, key=outsider)).status == 403
    assert (await daemon.call("GET", f"/suites/{suite['id']}/health", key=outsider)).status == 403


async def test_a_case_added_by_a_new_crawl_is_new(daemon: Daemon, serve: ServeApp) -> None:
    site = Site(pages())
    project = await daemon.project(base_url=await serve(site.app()))

    async def crawl() -> dict[str, Any]:
        queued = await daemon.call("POST", "/crawls", json={"project_id": project["id"]})
        return await daemon.finished(f"/crawls/{queued.data['id']}")  # type: ignore[no-any-return]

    first = await crawl()
    passing = await finished_run(daemon, first["suite_id"])
    assert passing["status"] == "passed", passing

    site.pages["/"] = page("Home", '<a href="/about">About</a> <a href="/news">News</a>')
    site.pages["/news"] = page("News")
    second = await crawl()
    assert second["suite_id"] != first["suite_id"]
    changes = (await daemon.call("GET", f"/crawls/{second['id']}")).data["results"]["changes"]
    assert [url.rsplit("/", 1)[1] for url in changes["added"]] == ["news"]

    del site.pages["/news"], site.pages["/about"]
    run = await finished_run(daemon, second["suite_id"])
    # The new suite carries on the history of the one before: only /news is new.
    assert triaged(run)["Page loads: /news"] == ("failed", "new")
    assert triaged(run)["Page loads: /about"] == ("failed", "regression")
    assert run["classifications"]["new"] == 1 and run["classifications"]["regression"] >= 1

    # regression-risk: cases on the page the crawl added, and what failed in the last run.
    suite = (await daemon.call("GET", f"/suites/{second['suite_id']}")).data
    on_news = {c["name"] for c in suite["cases"] if c["steps"][0]["url"] == "/news"}
    failed_last = {name for name, (status, _) in triaged(run).items() if status == "failed"}
    status, triggered = await cli(
        daemon,
        "POST",
        "/ci/trigger",
        daemon.key,
        json={"suiteIds": [suite["id"]], "selectionStrategy": "regression-risk"},
    )
    assert status == 202, triggered
    picked = await poll(daemon, triggered["id"], daemon.key)
    assert {case["name"] for case in picked["cases"]} == on_news | failed_last
    assert len(picked["cases"]) < len(suite["cases"])


def flip_site() -> web.Application:
    """``/flip`` fails every other load (500, then 200, ...); ``/`` is a plain page."""
    loads = 0

    async def flip(_request: web.Request) -> web.Response:
        nonlocal loads
        loads += 1
        status = 500 if loads % 2 else 200
        return web.Response(status=status, text=page("Flip"), content_type="text/html")

    async def home(_request: web.Request) -> web.Response:
        return web.Response(text=page("Home"), content_type="text/html")

    app = web.Application()
    app.router.add_get("/flip", flip)
    app.router.add_get("/", home)
    return app


def expecting(name: str, url: str, status: int) -> dict[str, Any]:
    return {
        "name": name,
        "steps": [{"action": "goto", "url": url}, {"action": "expect_status", "status": status}],
    }


async def test_flaky_on_a_retry_and_by_flips(daemon: Daemon, serve: ServeApp) -> None:
    project = await daemon.project(base_url=await serve(flip_site()))
    cases = [
        expecting("Flip loads", "/flip", 200),
        expecting("Flips a lot", "/", 404),  # fails; its history alternates
        expecting("Was steady", "/", 404),  # fails; its history passed
    ]
    suite = await make_suite(daemon, project["id"], cases)
    for flips in ("passed", "failed", "passed", "failed"):
        await scripted(daemon, suite, {"Flips a lot": flips, "Was steady": "passed"})
    run = await finished_run(daemon, suite["id"], retries=1)
    assert triaged(run) == {
        "Flip loads": ("passed", "flaky"),  # failed once, passed on its retry
        "Flips a lot": ("failed", "flaky"),  # failed, passed, failed, passed, failed
        "Was steady": ("failed", "regression"),
    }
    [flip] = [r for r in run["results"] if r["name"] == "Flip loads"]
    assert flip["attempts"] == 2 and flip["flaky"] is True
    assert (run["status"], run["flaky"]) == ("failed", 1)
    assert run["classifications"] == {**NONE, "flaky": 2, "regression": 1}
    health = (await daemon.call("GET", f"/suites/{suite['id']}/health?sort=flakiness")).data
    assert [(h["name"], h["flips"], h["flaky"]) for h in health] == [
        ("Flips a lot", 3, 0),
        ("Was steady", 1, 0),
        ("Flip loads", 0, 1),
    ]


async def test_a_site_that_is_down_is_environment_for_the_run(
    daemon: Daemon, serve: ServeApp
) -> None:
    receiver = Receiver()
    hook = await webhook(daemon, await serve(receiver.app()), events=["run.failed"])
    site = Site(pages())
    runner = web.AppRunner(site.app(), access_log=None)
    await runner.setup()
    listening = web.TCPSite(runner, "127.0.0.1", 0)
    await listening.start()
    base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    suite = await make_suite(daemon, (await daemon.project(base_url=base))["id"], [HOME, ABOUT])
    try:
        assert (await finished_run(daemon, suite["id"]))["status"] == "passed"

        site.statuses = {"/": 503, "/about": 503}  # every case's page answers 503
        unavailable = await finished_run(daemon, suite["id"])
        assert {c for _, c in triaged(unavailable).values()} == {"environment"}
        assert unavailable["error"] == "site unavailable: every case's first page answered HTTP 503"

        # Back up, with About broken: a regression, since the outage says nothing.
        site.statuses = {}
        del site.pages["/about"]
        broken = await finished_run(daemon, suite["id"])
        assert triaged(broken)["About loads"] == ("failed", "regression")
        assert broken["error"] is None
    finally:
        await runner.cleanup()  # the site stops: nothing listens there any more

    down = await finished_run(daemon, suite["id"])
    assert down["status"] == "failed" and down["classifications"] == {**NONE, "environment": 2}
    assert down["error"].startswith("site unreachable: net::ERR_CONNECTION_REFUSED")
    assert "(2 cases could not load their first page)" in down["error"]
    received = await receiver.wait_for(3, within_s=60)
    [data] = [r.json["data"] for r in received if r.json["data"]["id"] == down["id"]]
    assert data["error"] == down["error"]
    assert [case["classification"] for case in data["failed_cases"]] == ["environment"] * 2
    assert all("ERR_CONNECTION_REFUSED" in case["error"] for case in data["failed_cases"])
    assert hook["format"] == "json"


async def test_strategies_pick_what_their_definition_names(
    tmp_path: Path, browsers: Browsers, serve: ServeApp
) -> None:
    settings = {"max_concurrent_runs": 1, "step_timeout_s": 300, "case_timeout_s": 600}
    config = make_config(tmp_path, runner=settings)
    async with running(config, browsers) as daemon:
        base = "http://127.0.0.1:9/"
        project = await daemon.project(base_url=base)

        def case(name: str, kind: str, url: str) -> dict[str, Any]:
            return {"name": name, "type": kind, "steps": [{"action": "goto", "url": url}]}

        cases = [
            case("Page loads: /", "smoke", "/"),
            case("Page loads: /about", "smoke", "/about"),
            case("Navigate: / → Blog", "navigation", "/"),
            case("Navigate: /blog → Home", "navigation", "/blog"),
            case("Form: /contact", "form", "/contact?from=nav"),
            case("Checkout works", "custom", "/shop/cart"),
            case("Legal page", "custom", "/legal"),
        ]
        names = [c["name"] for c in cases]
        passing = dict.fromkeys(names, "passed")
        # An older suite of the same name (a previous crawl's) is the start of the history.
        older = await make_suite(daemon, project["id"], cases, name="Generated: shop")
        suite = await make_suite(daemon, project["id"], cases, name="Generated: shop")
        await scripted(daemon, older, {**passing, "Legal page": "failed"})  # 6th last: too old
        await scripted(daemon, older, {**passing, "Navigate: / → Blog": "failed"})
        await scripted(daemon, older, passing)
        await scripted(daemon, suite, {**passing, "Form: /contact": "failed"})
        await scripted(daemon, suite, {"Page loads: /": "passed"})  # a subset
        await scripted(daemon, suite, {**passing, "Checkout works": "failed"})
        # Neither cancelled nor errored runs are history.
        await scripted(daemon, suite, {**passing, "Page loads: /about": "failed"}, "cancelled")
        await scripted(daemon, suite, {**passing, "Page loads: /about": "failed"}, "error")

        db = daemon.db
        for status, changes in [
            ("completed", None),
            ("completed", {"added": [base + "blog"], "removed": [base + "legal"],
                           "changed": [{"url": base + "contact?from=nav"}]}),
            ("failed", {"added": [base + "shop/cart"], "removed": [], "changed": []}),
        ]:  # fmt: skip
            crawl = await db.create_crawl(project["id"], "full", 10, 1, base, False, {})
            await db.finish_crawl(crawl["id"], status, changes=changes)

        # Runs queue behind one that hangs, so that what they would run can be read.
        gate = asyncio.Event()

        async def hang(_request: web.Request) -> web.Response:
            await gate.wait()
            return web.Response(text=page("Home"), content_type="text/html")

        hanging = web.Application()
        hanging.router.add_get("/", hang)
        blocker = await make_suite(daemon, project["id"], [HOME], base_url=await serve(hanging))
        first = (await daemon.call("POST", "/runs", json={"suite_id": blocker["id"]})).data
        await daemon.wait_for(f"/runs/{first['id']}", lambda r: r["status"] == "running")

        async def picked(strategy: str) -> set[str]:
            status, triggered = await cli(
                daemon,
                "POST",
                "/ci/trigger",
                daemon.key,
                json={"suiteIds": [suite["id"]], "selectionStrategy": strategy},
            )
            assert status == 202, triggered
            queued = await db.fetchval("SELECT cases FROM runs WHERE id = ?", (triggered["id"],))
            assert (await daemon.call("POST", f"/runs/{triggered['id']}/cancel")).status == 200
            return {c["name"] for c in json.loads(queued)}

        assert await picked("high-priority") == {
            "Page loads: /", "Page loads: /about",  # smoke
            "Navigate: / → Blog", "Form: /contact", "Checkout works",  # failed in the last 5
        }  # fmt: skip
        assert await picked("regression-risk") == {
            "Navigate: /blog → Home",  # on a page the latest completed crawl added
            "Form: /contact",  # on a page it found changed
            "Checkout works",  # failed in the last run
        }
        assert await picked("recent-failures") == {
            "Navigate: / → Blog", "Form: /contact", "Checkout works",
        }  # fmt: skip
        assert await picked("failed-last-run") == {"Checkout works"}

        status, body = await cli(
            daemon, "POST", "/ci/trigger", daemon.key,
            json={"suiteIds": [suite["id"]], "selectionStrategy": "low-hanging"},
        )  # fmt: skip
        assert status == 400 and set(body) == {"error"}
        assert "'low-hanging'" in body["error"] and "regression-risk" in body["error"]
        await daemon.call("POST", f"/runs/{first['id']}/cancel")
        gate.set()
