"""Webhooks: real receivers on 127.0.0.1 get signed events, retried until they answer."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from aegisd.retention import prune_webhook_events
from aegisd.state import CONFIG
from aegisd.webhooks import EVENTS
from runner.browsers import Browsers
from tests.api.receivers import Received, Receiver, signature_ok
from tests.api.test_runs import WRONG_STATUS, site_pages
from tests.api.test_suites import CASES, make_suite
from tests.apiclient import Daemon, make_config, running
from tests.conftest import ServeApp, Spawn
from tests.daemon import UNLIMITED, poll
from tests.sites import Site

DEAD_SITE = "http://127.0.0.1:9/"
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


async def webhook(daemon: Daemon, url: str, key: str | None = None, **body: Any) -> dict[str, Any]:
    answer = await daemon.call("POST", "/webhooks", json={"url": url, **body}, key=key)
    assert answer.status == 201, answer.body
    return answer.data  # type: ignore[no-any-return]


async def run_of(daemon: Daemon, suite_id: str) -> dict[str, Any]:
    """A finished run of the suite."""
    queued = await daemon.call("POST", "/runs", json={"suite_id": suite_id})
    return await daemon.finished(f"/runs/{queued.data['id']}")  # type: ignore[no-any-return]


async def crawl_of(daemon: Daemon, project_id: str) -> dict[str, Any]:
    """A finished crawl of the project (no suite generated)."""
    body = {"project_id": project_id, "generate_suite": False}
    queued = await daemon.call("POST", "/crawls", json=body)
    return await daemon.finished(f"/crawls/{queued.data['id']}")  # type: ignore[no-any-return]


def check_envelope(received: Received, secret: str) -> dict[str, Any]:
    """The event's data after checking the headers, the signature and the body's shape."""
    assert signature_ok(secret, received)
    assert not signature_ok(secret, Received(received.path, received.headers, received.body + b" "))
    assert received.headers["X-Aegis-Delivery"].startswith("dlv_")
    assert received.headers["Content-Type"] == "application/json"
    body = received.json
    assert set(body) == {"id", "event", "created_at", "data"}
    assert body["id"].startswith("evt_") and body["event"] == received.event
    assert ISO.match(body["created_at"])
    return body["data"]  # type: ignore[no-any-return]


def event_data(daemon: Daemon, detail: dict[str, Any]) -> dict[str, Any]:
    """What an event's data holds of a run or crawl as ``GET`` shows it: all but the
    results, its dashboard page, and a run's failed cases with their classification."""
    kind = "runs" if detail["id"].startswith("run_") else "crawls"
    data = {key: value for key, value in detail.items() if key != "results"}
    data["dashboard_url"] = f"{daemon.app[CONFIG].base_url}/{kind}/{detail['id']}"
    if kind == "runs":
        data["failed_cases"] = [
            {key: result[key] for key in ("case_id", "name", "classification")}
            | {"error": result["error"]["message"]}
            for result in detail["results"]
            if result["status"] == "failed"
        ]
    return data


async def test_run_events_are_signed_and_carry_the_run(daemon: Daemon, serve: ServeApp) -> None:
    receiver = Receiver()
    hook = await webhook(daemon, await serve(receiver.app()))
    assert hook["id"].startswith("wh_") and hook["secret"].startswith("whsec_")
    assert hook["events"] == list(EVENTS) and hook["format"] == "json" and hook["enabled"]
    assert "secret" not in (await daemon.call("GET", f"/webhooks/{hook['id']}")).data

    project = await daemon.project(base_url=await serve(Site(site_pages()).app()))
    passing = await run_of(daemon, (await make_suite(daemon, project["id"], [CASES[0]]))["id"])
    failing = await run_of(daemon, (await make_suite(daemon, project["id"], [WRONG_STATUS]))["id"])
    first, *both = await receiver.wait_for(3)  # the failed run's two events come together
    assert first.event == "run.completed"
    assert check_envelope(first, hook["secret"]) == event_data(daemon, passing)
    assert sorted(r.event for r in both) == ["run.completed", "run.failed"]
    assert all(check_envelope(r, hook["secret"]) == event_data(daemon, failing) for r in both)
    assert both[0].json["id"] != both[1].json["id"]
    [failed_event] = [r for r in both if r.event == "run.failed"]

    # The report link in the payload opens without a key.
    served_at = str(daemon.client.make_url("")).rstrip("/")
    report = passing["report_url"].replace(daemon.app[CONFIG].base_url, served_at)
    async with aiohttp.ClientSession() as browser_like, browser_like.get(report) as response:
        assert response.status == 200 and "text/html" in response.headers["Content-Type"]

    deliveries = await daemon.call("GET", f"/webhooks/{hook['id']}/deliveries?limit=2")
    assert deliveries.body["pagination"]["total"] == 3
    newest = deliveries.data[0]
    assert (newest["event"], newest["status"], newest["attempts"]) == ("run.failed", "delivered", 1)
    assert newest["id"] == failed_event.headers["X-Aegis-Delivery"]
    assert newest["status_code"] == 200 and newest["error"] is None and newest["duration"] >= 0
    assert newest["next_retry_at"] is None and ISO.match(newest["completed_at"])
    assert [a["status_code"] for a in newest["history"]] == [200]


async def test_crawl_events(daemon: Daemon, serve: ServeApp) -> None:
    receiver = Receiver()
    hook = await webhook(
        daemon, await serve(receiver.app()), events=["crawl.completed", "crawl.failed"]
    )
    site = await daemon.project(base_url=await serve(Site(site_pages()).app()))
    completed = await crawl_of(daemon, site["id"])
    failed = await crawl_of(daemon, (await daemon.project(base_url=DEAD_SITE))["id"])
    assert (completed["status"], failed["status"]) == ("completed", "failed")
    first, *both = await receiver.wait_for(3)
    assert first.event == "crawl.completed"
    assert check_envelope(first, hook["secret"]) == event_data(daemon, completed)
    assert sorted(r.event for r in both) == ["crawl.completed", "crawl.failed"]
    assert all(check_envelope(r, hook["secret"]) == event_data(daemon, failed) for r in both)


async def test_retries_with_back_off_until_delivered_or_given_up(
    tmp_path: Path, browsers: Browsers, serve: ServeApp
) -> None:
    settings = {"retry_backoff_s": 0.05, "max_attempts": 3, "timeout_s": 0.5}
    async with running(make_config(tmp_path, webhooks=settings), browsers) as daemon:
        flaky = Receiver([500, 500])
        hook = await webhook(daemon, await serve(flaky.app()), secret="s3cret-s3cret-s3cret")
        first = await daemon.call("POST", f"/webhooks/{hook['id']}/test")
        assert first.status == 200
        assert (first.data["status"], first.data["attempts"]) == ("pending", 1)
        assert first.data["status_code"] == 500 and first.data["error"] == "HTTP 500: broken"
        assert ISO.match(first.data["next_retry_at"])
        path = f"/webhooks/{hook['id']}/deliveries"
        [done] = await daemon.wait_for(path, lambda ds: ds[0]["status"] != "pending")
        assert (done["status"], done["attempts"], done["next_retry_at"]) == ("delivered", 3, None)
        assert [a["status_code"] for a in done["history"]] == [500, 500, 200]
        assert [a["attempt"] for a in done["history"]] == [1, 2, 3]
        assert len(flaky.received) == 3 and all(
            signature_ok("s3cret-s3cret-s3cret", r) and r.body == flaky.received[0].body
            for r in flaky.received
        )
        assert {r.headers["X-Aegis-Delivery"] for r in flaky.received} == {done["id"]}
        assert flaky.received[0].json["event"] == "webhook.test"

        hanging = Receiver(gate=asyncio.Event())
        url = await serve(hanging.app())
        await daemon.call("PUT", f"/webhooks/{hook['id']}", json={"url": url})
        await daemon.call("POST", f"/webhooks/{hook['id']}/test")
        [given_up, _] = await daemon.wait_for(path, lambda ds: ds[0]["status"] != "pending")
        hanging.gate.set()  # type: ignore[union-attr]
        assert (given_up["status"], given_up["attempts"]) == ("failed", 3)
        assert {a["error"] for a in given_up["history"]} == {
            "no answer within webhooks.timeout_s (0.5s)"
        }
        assert all(a["status_code"] is None for a in given_up["history"])
        failed = await daemon.call("GET", f"{path}?status=failed")
        assert [d["id"] for d in failed.data] == [given_up["id"]]


@pytest.mark.parametrize("stop", ["sigterm", "kill -9"])
async def test_a_pending_delivery_is_sent_after_a_restart(
    spawn: Spawn, tmp_path: Path, serve: ServeApp, stop: str
) -> None:
    receiver = Receiver([503] * 100)
    url = await serve(receiver.app())
    env = {**UNLIMITED, "AEGISD_WEBHOOKS__RETRY_BACKOFF_S": "1"}
    daemon = spawn(tmp_path / "data", env=env)
    await daemon.start()
    key = daemon.admin_key
    async with daemon.api(key) as http:
        async with http.post("webhooks", json={"url": url}) as response:
            hook = (await response.json())["data"]
        async with http.post(f"webhooks/{hook['id']}/test") as response:
            pending = (await response.json())["data"]
    assert pending["status"] == "pending"
    if stop == "sigterm":
        assert daemon.stop() == 0
    else:
        daemon.kill()
    receiver.answers.clear()

    restarted = spawn(tmp_path / "data", env=env)
    await restarted.start()
    async with restarted.api(key) as http:
        [delivery] = await poll(
            http,
            f"webhooks/{hook['id']}/deliveries",
            lambda items: bool(items) and all(item["status"] != "pending" for item in items),
        )
    assert delivery["id"] == pending["id"] and delivery["status"] == "delivered"
    assert delivery["history"][-1]["status_code"] == 200
    assert receiver.received[-1].headers["X-Aegis-Delivery"] == pending["id"]
    assert restarted.stop() == 0


def check_slack_shape(message: dict[str, Any]) -> str:
    """Slack's incoming-webhook shape and Block Kit limits; the blocks' text, joined."""
    assert set(message) == {"text", "blocks"} and message["text"].strip()
    assert 1 <= len(message["blocks"]) <= 50
    texts = []
    for block in message["blocks"]:
        if block["type"] == "section":
            items = [block["text"]] if "text" in block else block["fields"]
            assert len(block.get("fields", [])) <= 10 and len(items) >= 1
        else:
            assert block["type"] == "context" and 1 <= len(block["elements"]) <= 10
            items = block["elements"]
        for item in items:
            assert item["type"] in ("mrkdwn", "plain_text") and 0 < len(item["text"]) <= 2000
            texts.append(item["text"])
    return "\n".join(texts)


async def test_slack_format(daemon: Daemon, serve: ServeApp) -> None:
    receiver = Receiver()
    events = ["run.failed", "crawl.completed"]
    hook = await webhook(daemon, await serve(receiver.app()), format="slack", events=events)
    project = await daemon.project(base_url=await serve(Site(site_pages()).app()))
    suite = await make_suite(daemon, project["id"], [CASES[0], WRONG_STATUS], name="Smoke <b> & co")
    run = await run_of(daemon, suite["id"])
    crawl = await crawl_of(daemon, project["id"])
    await receiver.wait_for(2)
    await daemon.call("POST", f"/webhooks/{hook['id']}/test")
    received = await receiver.wait_for(3)
    assert [r.event for r in received] == [*events, "webhook.test"]
    assert all(signature_ok(hook["secret"], r) for r in received)
    run_message, crawl_message, test_message = (r.json for r in received)

    text = check_slack_shape(run_message)
    assert run_message["text"].startswith(":x: Run failed: Smoke &lt;b&gt; &amp; co (")
    assert "1 passed, 1 failed, 0 skipped, 0 flaky" in run_message["text"]
    base_url = daemon.app[CONFIG].base_url
    report = (await daemon.call("GET", f"/runs/{run['id']}")).data["report_url"]
    assert f"<{base_url}/runs/{run['id']}|Open the run> · <{report}|report>" in text
    assert "*Failed*\n1" in text and f"*Base URL*\n{run['base_url']}" in text
    assert "• About is gone (`new`)" in text  # the first run: the case is new
    text = check_slack_shape(crawl_message)
    assert crawl_message["text"].startswith(":white_check_mark: Crawl completed:")
    assert f"<{base_url}/crawls/{crawl['id']}|Open the crawl>" in text and "*Pages*\n2" in text
    assert check_slack_shape(test_message) == test_message["text"]


async def test_project_filter_and_bound_keys(daemon: Daemon, serve: ServeApp) -> None:
    receiver = Receiver()
    url = await serve(receiver.app())
    mine, other = await daemon.project(base_url=DEAD_SITE), await daemon.project(base_url=DEAD_SITE)
    key = await daemon.new_key("write", mine["id"])
    bound = await webhook(daemon, url + "/bound", key=key, events=["run.completed"])
    everything = await webhook(daemon, url + "/all", events=["run.completed"])
    theirs = await webhook(
        daemon, url + "/theirs", project_id=other["id"], events=["run.completed"]
    )
    assert (bound["project_id"], everything["project_id"]) == (mine["id"], None)
    for method, path, json in [
        ("GET", f"/webhooks/{everything['id']}", None),
        ("GET", f"/webhooks/{theirs['id']}/deliveries", None),
        ("POST", f"/webhooks/{theirs['id']}/test", None),
        ("PUT", f"/webhooks/{theirs['id']}", {"enabled": False}),
        ("PUT", f"/webhooks/{bound['id']}", {"project_id": None}),
        ("PUT", f"/webhooks/{bound['id']}", {"project_id": other["id"]}),
        ("DELETE", f"/webhooks/{everything['id']}", None),
        ("POST", "/webhooks", {"url": url, "project_id": other["id"]}),
        ("GET", f"/webhooks?project_id={other['id']}", None),
    ]:
        assert (await daemon.call(method, path, json=json, key=key)).status == 403, (method, path)
    listed = await daemon.call("GET", "/webhooks", key=key)
    assert [w["id"] for w in listed.data] == [bound["id"]]

    for project in (mine, other):
        await run_of(daemon, (await make_suite(daemon, project["id"], [CASES[0]]))["id"])
    await receiver.wait_for(4)
    await asyncio.sleep(0.2)  # nothing else is on its way
    assert len(receiver.received) == 4
    assert receiver.events("/bound") == receiver.events("/theirs") == ["run.completed"]
    assert receiver.events("/all") == ["run.completed"] * 2

    await daemon.call("DELETE", f"/projects/{other['id']}")
    assert (await daemon.call("GET", f"/webhooks/{theirs['id']}")).status == 404
    assert (await daemon.call("DELETE", f"/webhooks/{bound['id']}", key=key)).status == 200
    assert [w["id"] for w in (await daemon.call("GET", "/webhooks")).data] == [everything["id"]]


async def test_invalid_webhooks_name_the_field(daemon: Daemon) -> None:
    url = "http://127.0.0.1:9/hook"
    for body, field in [
        ({"url": "ftp://example.com/"}, "url"),
        ({"url": url, "events": ["run.started"]}, "events.0"),
        ({"url": url, "events": []}, "events"),
        ({"url": url, "format": "msteams"}, "format"),
        ({"url": url, "secret": "short"}, "secret"),
        ({"url": url, "project_id": "proj_nope000000000"}, "project_id"),
        ({"url": url, "retries": 3}, "retries"),
        ({"events": ["run.failed"]}, "url"),
    ]:
        answer = await daemon.call("POST", "/webhooks", json=body)
        assert answer.status == 400, body
        assert answer.error["details"][0]["field"] == field, (body, answer.error)
    hook = await webhook(daemon, url, events=["run.failed", "run.failed"])
    assert hook["events"] == ["run.failed"]
    bad = await daemon.call("PUT", f"/webhooks/{hook['id']}", json={"url": "nope"})
    assert bad.status == 400 and bad.error["details"][0]["field"] == "url"
    for method, path in [
        ("GET", "/webhooks/wh_nope00000000"),
        ("PUT", "/webhooks/wh_nope00000000"),
        ("DELETE", "/webhooks/wh_nope00000000"),
        ("GET", "/webhooks/wh_nope00000000/deliveries"),
        ("POST", "/webhooks/wh_nope00000000/test"),
    ]:
        assert (await daemon.call(method, path, json={})).status == 404, (method, path)


async def test_a_hanging_receiver_does_not_hold_up_runs(
    tmp_path: Path, browsers: Browsers, serve: ServeApp
) -> None:
    receiver = Receiver(gate=asyncio.Event())
    async with running(make_config(tmp_path, webhooks={"timeout_s": 60}), browsers) as daemon:
        hook = await webhook(daemon, await serve(receiver.app()))
        suite = await make_suite(daemon, (await daemon.project(base_url=DEAD_SITE))["id"])
        for _ in range(2):  # the second runs while the first one's deliveries hang
            await run_of(daemon, suite["id"])
        await receiver.wait_for(4)
        deliveries = (await daemon.call("GET", f"/webhooks/{hook['id']}/deliveries")).data
        assert len(deliveries) == 4 and all(d["attempts"] == 0 for d in deliveries)
    receiver.gate.set()  # type: ignore[union-attr]


async def test_a_run_cancelled_while_queued_still_sends_its_events(
    tmp_path: Path, browsers: Browsers, serve: ServeApp
) -> None:
    receiver = Receiver()
    receiver_url = await serve(receiver.app())
    slow = await serve(Site(site_pages(), delay_s=1.0).app())
    async with running(
        make_config(tmp_path, runner={"max_concurrent_runs": 1}), browsers
    ) as daemon:
        hook = await webhook(daemon, receiver_url, events=["run.completed"])
        project = await daemon.project(base_url=slow)
        suite = await make_suite(daemon, project["id"], [CASES[0]] * 3)
        first = (await daemon.call("POST", "/runs", json={"suite_id": suite["id"]})).data
        second = (await daemon.call("POST", "/runs", json={"suite_id": suite["id"]})).data
        await daemon.wait_for(f"/runs/{first['id']}", lambda r: r["status"] == "running")
        cancelled = await daemon.call("POST", f"/runs/{second['id']}/cancel")
        assert cancelled.data["status"] == "cancelled"
        [received] = await receiver.wait_for(1)
        data = check_envelope(received, hook["secret"])
        assert (data["id"], data["status"]) == (second["id"], "cancelled")
        await daemon.call("POST", f"/runs/{first['id']}/cancel")


async def test_retention_prunes_old_events_but_not_pending_ones(
    daemon: Daemon, serve: ServeApp
) -> None:
    answers = Receiver([200, 500, 500, 500])
    hook = await webhook(daemon, await serve(answers.app()))
    delivered = (await daemon.call("POST", f"/webhooks/{hook['id']}/test")).data
    pending = (await daemon.call("POST", f"/webhooks/{hook['id']}/test")).data
    assert (delivered["status"], pending["status"]) == ("delivered", "pending")
    await daemon.db.execute("UPDATE webhook_events SET created_at = '2020-01-01T00:00:00Z'")
    config = daemon.app[CONFIG]
    forever = config.model_copy(
        update={"retention": config.retention.model_copy(update={"webhook_events_days": 0})}
    )
    assert await prune_webhook_events(daemon.db, forever) == 0
    assert await prune_webhook_events(daemon.db, config) == 1
    left = await daemon.call("GET", f"/webhooks/{hook['id']}/deliveries")
    assert [d["id"] for d in left.data] == [pending["id"]]
    assert await daemon.db.fetchval("SELECT COUNT(*) FROM webhook_attempts") == 1
