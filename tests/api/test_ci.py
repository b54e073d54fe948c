"""The CI surface, driven the way the AegisRunner CLI drives it."""

from __future__ import annotations

import asyncio
import json
import xml.etree.ElementTree as ET
from typing import Any

import aiohttp
from aiohttp import web

from aegisd.auth import create_key
from aegisd.state import CONFIG
from tests.api.test_suites import CASES, make_suite
from tests.apiclient import Daemon
from tests.conftest import ServeApp
from tests.sites import Site, page

CLI_FIELDS = {
    "id", "status", "isFinished", "passedCases", "failedCases", "skippedCases", "totalCases",
    "duration_ms", "createdAt", "exitCode", "cases",
}  # fmt: skip


def healthy_pages() -> dict[str, str]:
    nav = '<nav><a href="/">Home</a> <a href="/about">About</a></nav>'
    return {"/": page("Home", nav), "/about": page("About", nav)}


async def cli(daemon: Daemon, method: str, path: str, key: str, **kwargs: Any) -> tuple[int, Any]:
    """A request as the CLI makes it: AEGIS_API=.../api/v1, Bearer AEGIS_TOKEN, plain JSON."""
    answer = await daemon.call(method, path, key=key, prefix="/api/v1", **kwargs)
    return answer.status, answer.body


async def sse_frames(daemon: Daemon, path: str, key: str) -> list[tuple[str, dict[str, Any]]]:
    """Read a Server-Sent Events stream frame by frame until ``done`` (or its end)."""
    frames: list[tuple[str, dict[str, Any]]] = []
    headers = {"Authorization": f"Bearer {key}", "Accept": "text/event-stream"}
    async with daemon.client.get("/api/v1" + path, headers=headers) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/event-stream")
        event, data = None, None
        while line := await asyncio.wait_for(response.content.readline(), 60):
            text = line.decode().rstrip("\n")
            if text.startswith("event: "):
                event = text[len("event: ") :]
            elif text.startswith("data: "):
                data = json.loads(text[len("data: ") :])
            elif text == "" and event is not None:
                frames.append((event, data or {}))
                event, data = None, None
                if frames[-1][0] == "done":
                    break
    return frames


async def poll(daemon: Daemon, ci_id: str, key: str) -> dict[str, Any]:
    for _ in range(600):
        status, body = await cli(daemon, "GET", f"/ci/runs/{ci_id}", key)
        assert status == 200, body
        if body["isFinished"]:
            return body  # type: ignore[no-any-return]
        assert body["exitCode"] is None
        await asyncio.sleep(0.1)
    raise AssertionError("CI run did not finish")


def junit_from(body: dict[str, Any]) -> ET.Element:
    """What the CLI's ``--format junit`` builds from ``cases``."""
    root = ET.Element("testsuite", tests=str(body["totalCases"]))
    for case in body["cases"]:
        element = ET.SubElement(root, "testcase", name=case["name"], classname=case["suiteName"])
        element.set("time", str(case["durationMs"] / 1000))
        if case["status"] == "failed":
            ET.SubElement(element, "failure", type=case["failureType"]).text = case["errorMessage"]
    return ET.fromstring(ET.tostring(root))


async def test_scan_watch_then_run_then_status(daemon: Daemon, serve: ServeApp) -> None:
    site = Site(healthy_pages())
    base = await serve(site.app())
    project = await daemon.project(base_url=base)
    key = await daemon.new_key("write", project["id"])

    status, started = await cli(daemon, "POST", "/ci/trigger", key, json={"crawl": True})
    assert status == 202, started
    assert started["status"] == "crawl_started" and started["crawl_id"].startswith("crawl_")
    assert started["message"] and started["dashboardUrl"]
    frames = await sse_frames(daemon, f"/ci/crawls/{started['crawl_id']}/events", key)
    events = [event for event, _ in frames]
    assert events[-1] == "done" and frames[-1][1]["result"] == "completed"
    assert "crawl_progress" in events and all(
        "pagesFound" in d for e, d in frames if e == "crawl_progress"
    )
    phases = [d for e, d in frames if e == "ai_generation_progress"]
    assert phases and phases[-1]["progress"] == 100
    assert all({"phase", "phase_label", "progress"} <= set(p) for p in phases)

    # Reconnecting to a finished crawl replays its state and ends at once.
    replay = await sse_frames(daemon, f"/ci/crawls/{started['crawl_id']}/events", key)
    assert replay[0] == ("crawl_progress", {"pagesFound": 2})
    assert replay[-1] == ("done", {"result": "completed", "status": "completed"})

    status, triggered = await cli(daemon, "POST", "/ci/trigger", key, json={})
    assert status == 202, triggered
    assert set(triggered) == {"id", "runType", "targetIds", "dashboardUrl"}
    crawl = (await daemon.call("GET", f"/crawls/{started['crawl_id']}")).data
    assert triggered["targetIds"] == [crawl["suite_id"]]
    body = await poll(daemon, triggered["id"], key)
    assert set(body) == CLI_FIELDS
    assert (body["status"], body["exitCode"], body["failedCases"]) == ("passed", 0, 0)
    assert body["passedCases"] == body["totalCases"] == len(body["cases"]) > 0
    assert all(c["suiteName"] and c["status"] == "passed" for c in body["cases"])
    assert len(junit_from(body).findall("testcase")) == body["totalCases"]

    # The dashboard links are the crawl's and the run's pages; a browser without a
    # session is sent to sign in, and then back to them.
    base_url = daemon.app[CONFIG].base_url
    assert started["dashboardUrl"] == f"{base_url}/crawls/{started['crawl_id']}"
    assert triggered["dashboardUrl"] == f"{base_url}/runs/{triggered['id']}"
    served_at = str(daemon.client.make_url("")).rstrip("/")
    link = triggered["dashboardUrl"].replace(base_url, served_at)
    async with (
        aiohttp.ClientSession() as browser_like,
        browser_like.get(link, allow_redirects=False) as response,
    ):
        assert response.status == 303
        assert response.headers["Location"] == f"/login?next=/runs/{triggered['id']}"

    site.pages["/about"] = page("About (renamed)")
    status, triggered = await cli(daemon, "POST", "/ci/trigger", key, json={"baseUrl": base})
    body = await poll(daemon, triggered["id"], key)
    assert (body["status"], body["exitCode"]) == ("failed", 1)
    failed = [c for c in body["cases"] if c["status"] == "failed"]
    assert failed and all(c["errorMessage"] and c["failureType"] for c in failed)
    assert all(c["failureKind"] in ("assertion", "timeout", "navigation", "error") for c in failed)
    assert body["failedCases"] == len(failed)
    assert junit_from(body).find(".//failure") is not None

    # Only what failed last time, then only page-load cases.
    status, again = await cli(
        daemon, "POST", "/ci/trigger", key, json={"selectionStrategy": "failed-last-run"}
    )
    rerun = await poll(daemon, again["id"], key)
    assert {c["name"] for c in rerun["cases"]} == {c["name"] for c in failed}
    status, smoke = await cli(
        daemon, "POST", "/ci/trigger", key, json={"selectionStrategy": "smoke"}
    )
    smoke_run = await poll(daemon, smoke["id"], key)
    assert smoke_run["cases"] and all(
        c["name"].startswith("Page loads") for c in smoke_run["cases"]
    )


async def test_one_trigger_over_several_suites(daemon: Daemon, serve: ServeApp) -> None:
    base = await serve(
        Site({"/": page("Home", '<a href="/about">About</a>'), "/about": page("About")}).app()
    )
    project = await daemon.project(base_url=base)
    first = await make_suite(daemon, project["id"], CASES)
    second = await make_suite(daemon, project["id"], [{**CASES[0], "name": "Home again"}])
    status, triggered = await cli(
        daemon, "POST", "/ci/trigger", daemon.key,
        json={"suiteIds": [first["id"], second["id"]], "browserProfile": "chromium"},
    )  # fmt: skip
    assert status == 202 and triggered["targetIds"] == [first["id"], second["id"]]
    assert triggered["dashboardUrl"].endswith(f"/runs/{triggered['id']}")
    body = await poll(daemon, triggered["id"], daemon.key)
    assert body["totalCases"] == 3 and body["passedCases"] == 3 and body["exitCode"] == 0
    assert {c["suiteName"] for c in body["cases"]} == {"Smoke"}
    assert len(body["cases"]) == 3
    runs = (await daemon.call("GET", f"/runs?suite_id={second['id']}")).data
    assert runs[0]["trigger"] == "ci"


async def test_cancelled_run_exits_2(daemon: Daemon, serve: ServeApp) -> None:
    base = await serve(Site({"/": page("Home", '<a href="/about">About</a>')}, delay_s=1).app())
    project = await daemon.project(base_url=base)
    suite = await make_suite(daemon, project["id"], [CASES[0]] * 4)
    status, triggered = await cli(
        daemon, "POST", "/ci/trigger", daemon.key, json={"suiteIds": [suite["id"]]}
    )
    assert status == 202
    await daemon.call("POST", f"/runs/{triggered['id']}/cancel")
    body = await poll(daemon, triggered["id"], daemon.key)
    assert (body["status"], body["exitCode"]) == ("cancelled", 2)


async def test_errors_are_plain_json(daemon: Daemon) -> None:
    project = await daemon.project()
    suite = await make_suite(daemon, project["id"])
    for method, path, key, body, expected in [
        ("POST", "/ci/trigger", "", {}, 401),
        ("POST", "/ci/trigger", None, {"suiteIds": ["suite_nope00000000"]}, 404),
        (
            "POST",
            "/ci/trigger",
            None,
            {"suiteIds": [suite["id"]], "selectionStrategy": "random"},
            400,
        ),
        ("POST", "/ci/trigger", None, {"suiteIds": [suite["id"]], "browserProfile": "ie"}, 400),
        ("POST", "/ci/trigger", None, {}, 404),  # no completed crawl yet
        ("GET", "/ci/runs/run_nope00000000", None, None, 404),
        ("GET", "/ci/crawls/crawl_nope00000000/events", None, None, 404),
    ]:
        answer = await daemon.call(method, path, key=key, json=body, prefix="/api/v1")
        assert answer.status == expected, (path, body, answer.body)
        assert set(answer.body) == {"error"} and isinstance(answer.body["error"], str)
    answer = await daemon.call(
        "POST",
        "/ci/trigger",
        json={"suiteIds": [suite["id"]], "selectionStrategy": "random"},
        prefix="/api/v1",
    )
    assert "'random'" in answer.body["error"] and "high-priority" in answer.body["error"]
    crawl = await daemon.call("POST", "/ci/trigger", json={"crawl": True}, prefix="/api/v1")
    assert crawl.status == 400 and crawl.body["status"] == "crawl_failed" and crawl.body["error"]


async def test_a_stream_ends_when_its_key_is_revoked(daemon: Daemon, serve: ServeApp) -> None:
    daemon.app[CONFIG].server.sse_keepalive_s = 0.2
    answer = asyncio.Event()

    async def stalled(_: web.Request) -> web.Response:
        await answer.wait()
        return web.Response(text=page("Home", ""), content_type="text/html")

    site = web.Application()
    site.router.add_get("/", stalled)
    project = await daemon.project(base_url=await serve(site))
    crawl = (await daemon.call("POST", "/crawls", json={"project_id": project["id"]})).data
    key, row = await create_key(daemon.db, "watcher", "read", None)
    headers = {"Authorization": f"Bearer {key}"}
    path = f"/api/v1/ci/crawls/{crawl['id']}/events"
    try:
        async with daemon.client.get(path, headers=headers) as response:
            assert response.status == 200
            assert await asyncio.wait_for(response.content.readline(), 10)  # it is streaming
            assert (await daemon.call("DELETE", f"/api-keys/{row['id']}")).status == 200
            # Within a keep-alive the stream ends (the crawl goes on), and it says nothing more.
            rest = await asyncio.wait_for(response.content.read(), 10)
            assert b"done" not in rest
        assert (await daemon.call("GET", f"/crawls/{crawl['id']}")).data["status"] == "running"
        async with daemon.client.get(path, headers=headers) as refused:
            assert refused.status == 401
    finally:
        answer.set()
