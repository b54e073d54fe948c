"""The runs API: real runs of hand-written suites against fixture sites."""

from __future__ import annotations

import asyncio
import sqlite3
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from aegisd.retention import prune_runs
from aegisd.state import CONFIG
from runner.browsers import Browsers
from tests.api.test_suites import CASES, make_suite
from tests.apiclient import Daemon, make_config, running
from tests.conftest import ServeApp, Spawn
from tests.daemon import UNLIMITED, poll
from tests.sites import Site, page

_LIVE = ("queued", "running")
WRONG_TITLE: dict[str, Any] = {
    "name": "About has the right title",
    "type": "smoke",
    "steps": [
        {"action": "goto", "url": "/about"},
        {"action": "expect_title", "value": "About the company"},
    ],
}
WRONG_STATUS: dict[str, Any] = {
    "name": "About is gone",
    "type": "smoke",
    "steps": [{"action": "goto", "url": "/about"}, {"action": "expect_status", "status": 404}],
}
"""A failing case that fails at once, for tests that need a failed case's artifacts (the
title check of ``WRONG_TITLE`` waits out its step timeout first)."""
DISABLED: dict[str, Any] = {**CASES[0], "name": "Disabled", "enabled": False}


def site_pages(title: str = "About") -> dict[str, str]:
    return {"/": page("Home", '<a href="/about">About</a>'), "/about": page(title)}


async def _run(daemon: Daemon, suite_id: str, **body: Any) -> dict[str, Any]:
    answer = await daemon.call("POST", "/runs", json={"suite_id": suite_id, **body})
    assert answer.status == 201, answer.body
    return answer.data  # type: ignore[no-any-return]


async def test_passing_run(daemon: Daemon, serve: ServeApp) -> None:
    base = await serve(Site(site_pages()).app())
    project = await daemon.project(base_url=base)
    suite = await make_suite(daemon, project["id"], [*CASES, DISABLED])
    queued = await _run(daemon, suite["id"])
    assert queued["status"] == "queued" and queued["trigger"] == "api"
    assert queued["total"] == 3 and queued["browser"] == "chromium"
    run = await daemon.finished(f"/runs/{queued['id']}")
    assert run["status"] == "passed", run
    assert (run["passed"], run["failed"], run["skipped"], run["flaky"]) == (2, 0, 1, 0)
    assert run["duration"] > 0 and run["started_at"] and run["completed_at"]
    assert [r["status"] for r in run["results"]] == ["passed", "passed", "skipped"]
    assert [r["case_id"] for r in run["results"]] == [c["id"] for c in suite["cases"]]
    assert all(r["screenshot"] is None and r["trace"] is None for r in run["results"])
    listing = await daemon.call("GET", f"/runs?suite_id={suite['id']}&status=passed")
    assert [r["id"] for r in listing.data] == [run["id"]]


async def test_failing_run_records_step_error_and_artifacts(
    daemon: Daemon, serve: ServeApp
) -> None:
    base = await serve(Site(site_pages()).app())
    project = await daemon.project(base_url=base)
    suite = await make_suite(daemon, project["id"], [CASES[0], WRONG_TITLE])
    run = await daemon.finished(f"/runs/{(await _run(daemon, suite['id']))['id']}")
    assert run["status"] == "failed" and (run["passed"], run["failed"]) == (1, 1)
    failed = run["results"][1]
    assert failed["error"]["step_index"] == 1 and failed["error"]["action"] == "expect_title"
    assert (
        "About the company" in failed["error"]["message"] and "About" in failed["error"]["message"]
    )
    for artifact in (failed["screenshot"], failed["trace"]):
        assert artifact.startswith(daemon.app[CONFIG].base_url + f"/v1/runs/{run['id']}/artifacts/")
        path = "/" + artifact.split("/v1/", 1)[1]
        fetched = await daemon.call("GET", path)
        assert fetched.status == 200, artifact
        assert (await daemon.call("GET", path, key="")).status == 401
    screenshot = await daemon.call("GET", "/" + failed["screenshot"].split("/v1/", 1)[1])
    assert screenshot.body.startswith(b"\x89PNG")

    junit = await daemon.call("GET", f"/runs/{run['id']}/junit")
    root = ET.fromstring(junit.body)
    assert root.attrib["tests"] == "2" and root.attrib["failures"] == "1"
    cases = root.findall(".//testcase")
    assert [c.attrib["name"] for c in cases] == ["Home loads", "About has the right title"]
    assert cases[1].find("failure") is not None

    report = await daemon.call("GET", f"/runs/{run['id']}/report")
    assert report.status == 200 and "data:image/png;base64," in report.body
    assert "About has the right title" in report.body


@pytest.mark.parametrize("name", ["..%2F..%2Faegisd.sqlite3", "..", ".hidden", "nope.png"])
async def test_artifact_paths_cannot_escape(daemon: Daemon, serve: ServeApp, name: str) -> None:
    base = await serve(Site(site_pages()).app())
    project = await daemon.project(base_url=base)
    suite = await make_suite(daemon, project["id"], [WRONG_STATUS])
    run = await daemon.finished(f"/runs/{(await _run(daemon, suite['id']))['id']}")
    answer = await daemon.call("GET", f"/runs/{run['id']}/artifacts/{name}")
    assert answer.status == 404


async def test_base_url_override_case_ids_and_retries(daemon: Daemon, serve: ServeApp) -> None:
    healthy = await serve(Site(site_pages("About the company")).app())
    project = await daemon.project(base_url="http://127.0.0.1:9/")
    suite = await make_suite(daemon, project["id"], [CASES[0], WRONG_TITLE])
    only = suite["cases"][1]["id"]
    queued = await _run(daemon, suite["id"], base_url=healthy, case_ids=[only], retries=2)
    run = await daemon.finished(f"/runs/{queued['id']}")
    assert run["status"] == "passed" and run["base_url"] == healthy
    assert [r["case_id"] for r in run["results"]] == [only]
    assert run["results"][0]["attempts"] == 1

    bad = await daemon.call("POST", "/runs", json={"suite_id": suite["id"], "case_ids": ["case_x"]})
    assert bad.status == 400 and bad.error["details"][0]["field"] == "case_ids"


async def test_trigger_errors(daemon: Daemon, browsers: Browsers) -> None:
    project = await daemon.project()
    suite = await make_suite(daemon, project["id"])
    assert (
        await daemon.call("POST", "/runs", json={"suite_id": "suite_nope00000000"})
    ).status == 404
    for body, field in [
        ({"suite_id": suite["id"], "browser": "safari"}, "browser"),
        ({"suite_id": suite["id"], "retries": 4}, "retries"),
        ({"suite_id": suite["id"], "base_url": "ftp://x"}, "base_url"),
    ]:
        answer = await daemon.call("POST", "/runs", json=body)
        assert answer.status == 400 and answer.error["details"][0]["field"] == field
    try:
        browsers.check_available("firefox")
    except Exception:
        answer = await daemon.call(
            "POST", "/runs", json={"suite_id": suite["id"], "browser": "firefox"}
        )
        assert answer.status == 400 and answer.error["code"] == "BROWSER_NOT_AVAILABLE"
        assert "playwright install firefox" in answer.error["message"]
    assert (await daemon.call("GET", "/runs")).body["pagination"]["total"] == 0
    assert (await daemon.call("GET", "/runs/run_nope00000000")).status == 404


async def test_cancel_and_concurrency_limit(
    tmp_path: Path, browsers: Browsers, serve: ServeApp
) -> None:
    slow = await serve(Site(site_pages(), delay_s=1.0).app())
    config = make_config(tmp_path, runner={"max_concurrent_runs": 1, "workers": 1})
    async with running(config, browsers) as daemon:
        project = await daemon.project(base_url=slow)
        suite = await make_suite(daemon, project["id"], [CASES[0]] * 1 + [CASES[1]] * 3)
        first, second = await _run(daemon, suite["id"]), await _run(daemon, suite["id"])
        await daemon.wait_for(f"/runs/{first['id']}", lambda r: r["status"] == "running")
        assert (await daemon.call("GET", f"/runs/{second['id']}")).data["status"] == "queued"
        cancelled = await daemon.call("POST", f"/runs/{first['id']}/cancel")
        assert cancelled.data["status"] == "cancelled"
        detail = (await daemon.call("GET", f"/runs/{first['id']}")).data
        assert detail["skipped"] >= 1 and len(detail["results"]) == 4
        assert (await daemon.call("POST", f"/runs/{first['id']}/cancel")).status == 409
        await daemon.wait_for(f"/runs/{second['id']}", lambda r: r["status"] == "running")
        await daemon.call("POST", f"/runs/{second['id']}/cancel")


async def test_artifacts_go_with_their_run_and_project(daemon: Daemon, serve: ServeApp) -> None:
    base = await serve(Site(site_pages()).app())
    project = await daemon.project(base_url=base)
    suite = await make_suite(daemon, project["id"], [WRONG_STATUS])
    first = await daemon.finished(f"/runs/{(await _run(daemon, suite['id']))['id']}")
    second = await daemon.finished(f"/runs/{(await _run(daemon, suite['id']))['id']}")
    config = daemon.app[CONFIG]
    assert any(config.artifacts_dir(first["id"]).iterdir())
    await daemon.call("DELETE", f"/suites/{suite['id']}")  # runs stay as history
    assert (await daemon.call("GET", f"/runs/{first['id']}")).data["suite_id"] == suite["id"]
    assert (await daemon.call("DELETE", f"/runs/{first['id']}")).status == 200
    assert not config.artifacts_dir(first["id"]).exists()
    assert (await daemon.call("GET", f"/runs/{first['id']}")).status == 404
    await daemon.call("DELETE", f"/projects/{project['id']}")
    assert not config.artifacts_dir(second["id"]).exists()
    assert (await daemon.call("GET", f"/runs/{second['id']}")).status == 404


async def test_kill_9_mid_run_requeues_and_finishes(
    spawn: Spawn, tmp_path: Path, serve: ServeApp
) -> None:
    slow = await serve(Site(site_pages(), delay_s=0.5).app())
    data = tmp_path / "data"
    daemon = spawn(data, env=UNLIMITED)
    await daemon.start()
    key = daemon.admin_key
    async with daemon.api(key) as http:
        async with http.post("projects", json={"name": "p", "base_url": slow}) as r:
            project = (await r.json())["data"]
        body = {"project_id": project["id"], "name": "s", "cases": [CASES[1]] * 6}
        async with http.post("suites", json=body) as r:
            suite = (await r.json())["data"]
        async with http.post("runs", json={"suite_id": suite["id"]}) as r:
            run_id = (await r.json())["data"]["id"]
        await poll(
            http, f"runs/{run_id}", lambda run: run["status"] == "running" and run["results"]
        )
        daemon.kill()
    restarted = spawn(data, env=UNLIMITED)
    await restarted.start()
    try:
        async with restarted.api(key) as http:
            run = await poll(http, f"runs/{run_id}", lambda r: r["status"] not in _LIVE)
        assert run["status"] == "passed" and run["passed"] == 6
    finally:
        assert restarted.stop() == 0


async def test_retention_prunes_old_runs_with_their_files(daemon: Daemon, serve: ServeApp) -> None:
    base = await serve(Site(site_pages()).app())
    project = await daemon.project(base_url=base)
    suite = await make_suite(daemon, project["id"], [WRONG_STATUS])
    old = await daemon.finished(f"/runs/{(await _run(daemon, suite['id']))['id']}")
    new = await daemon.finished(f"/runs/{(await _run(daemon, suite['id']))['id']}")
    await daemon.db.execute(
        "UPDATE runs SET created_at = '2020-01-01T00:00:00Z' WHERE id = ?", (old["id"],)
    )
    config = daemon.app[CONFIG]
    assert config.artifacts_dir(old["id"]).exists()
    assert await prune_runs(daemon.db, config) == 1
    assert (await daemon.call("GET", f"/runs/{old['id']}")).status == 404
    assert not config.artifacts_dir(old["id"]).exists()
    assert (await daemon.call("GET", f"/runs/{new['id']}")).status == 200
    forever = config.model_copy(
        update={"retention": config.retention.model_copy(update={"runs_days": 0})}
    )
    await daemon.db.execute("UPDATE runs SET created_at = '2020-01-01T00:00:00Z'")
    assert await prune_runs(daemon.db, forever) == 0


async def test_bound_keys_cannot_reach_other_projects_runs_or_artifacts(
    daemon: Daemon, serve: ServeApp
) -> None:
    base = await serve(Site(site_pages()).app())
    mine, other = await daemon.project(base_url=base), await daemon.project(base_url=base)
    suite = await make_suite(daemon, other["id"], [WRONG_STATUS])
    run = await daemon.finished(f"/runs/{(await _run(daemon, suite['id']))['id']}")
    screenshot = run["results"][0]["screenshot"].rsplit("/", 1)[1]
    key = await daemon.new_key("write", mine["id"])
    for method, path in [
        ("GET", f"/runs/{run['id']}"),
        ("GET", f"/runs/{run['id']}/junit"),
        ("GET", f"/runs/{run['id']}/report"),
        ("GET", f"/runs/{run['id']}/artifacts/{screenshot}"),
        ("POST", f"/runs/{run['id']}/cancel"),
        ("DELETE", f"/runs/{run['id']}"),
        ("GET", f"/runs?project_id={other['id']}"),
        ("POST", "/runs"),
    ]:
        body = {"suite_id": suite["id"]} if path == "/runs" else None
        answer = await daemon.call(method, path, key=key, json=body)
        assert answer.status == 403, (method, path, answer.status)
    assert (await daemon.call("GET", "/runs", key=key)).data == []
    assert (await daemon.call("GET", f"/runs/{run['id']}/artifacts/{screenshot}")).status == 200


async def test_listed_runs_are_reused_only_while_the_runs_are_unchanged(daemon: Daemon) -> None:
    """The list is answered from memory between changes (aegisd.answers); every kind of
    change, by this daemon or by another process, shows in the next answer."""
    ours, theirs = await daemon.project("ours"), await daemon.project("theirs")
    suites = {
        project["id"]: await make_suite(daemon, project["id"], [DISABLED])
        for project in (ours, theirs)
    }

    def listed(answer: Any) -> list[tuple[str, str]]:
        assert answer.status == 200, answer.body
        return [(run["id"], run["suite_name"]) for run in answer.data]

    assert listed(await daemon.call("GET", "/runs")) == []
    first = await _run(daemon, suites[ours["id"]]["id"])
    assert listed(await daemon.call("GET", "/runs")) == [(first["id"], "Smoke")]
    second = await _run(daemon, suites[theirs["id"]]["id"])
    both = [(second["id"], "Smoke"), (first["id"], "Smoke")]
    assert listed(await daemon.call("GET", "/runs")) == both

    # The same URL with a key bound to one project: its own list, not the one kept.
    bound = await daemon.new_key("read", project_id=ours["id"])
    assert listed(await daemon.call("GET", "/runs", key=bound)) == [(first["id"], "Smoke")]

    # Written through a connection of its own, as by another process; in a thread, so
    # that the daemon (which shares this event loop) can finish a write it may be in.
    def rename() -> None:
        with sqlite3.connect(daemon.app[CONFIG].database_path, timeout=30) as other:
            other.execute("UPDATE runs SET suite_name = 'Renamed' WHERE id = ?", (first["id"],))

    await asyncio.to_thread(rename)
    assert listed(await daemon.call("GET", "/runs")) == [both[0], (first["id"], "Renamed")]

    # Deleting a project deletes its runs by cascade, which counts as a change too.
    assert (await daemon.call("DELETE", f"/projects/{theirs['id']}")).status == 200
    assert listed(await daemon.call("GET", "/runs")) == [(first["id"], "Renamed")]
