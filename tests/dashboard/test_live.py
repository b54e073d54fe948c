"""Live progress of a run on its dashboard page: the run's event stream, and cancelling."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from tests.api.test_suites import make_suite
from tests.apiclient import Daemon
from tests.conftest import ServeApp
from tests.dashboard.conftest import GatedSite, MakeVisitor, Visitor, signed_in
from tests.sites import page


async def frames(someone: Visitor, path: str) -> Any:
    """Yield ``(event, data)`` of a Server-Sent Events stream until ``done``."""
    async with someone.http.get(someone.base + path) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/event-stream")
        event = None
        while line := await asyncio.wait_for(response.content.readline(), 60):
            text = line.decode().rstrip("\n")
            if text.startswith("event: "):
                event = text[len("event: ") :]
            elif text.startswith("data: ") and event is not None:
                yield event, json.loads(text[len("data: ") :])
                if event == "done":
                    return


async def test_a_run_streams_each_case_and_can_be_cancelled(
    daemon: Daemon, visitor: MakeVisitor, serve: ServeApp
) -> None:
    site = GatedSite({"/": page("Home"), "/slow": page("Slow")}, gated={"/slow"})
    project = await daemon.project(base_url=await serve(site.app()))
    cases = [
        {"name": "home", "steps": [{"action": "goto", "url": "/"}]},
        {"name": "slow", "steps": [{"action": "goto", "url": "/slow"}]},
    ]
    suite = await make_suite(daemon, project["id"], cases)
    someone = await signed_in(visitor, daemon)
    started = await someone.send(
        f"/suites/{suite['id']}", f"/suites/{suite['id']}/run", {"browser": "chromium"}
    )
    assert started.status == 303
    run_path = started.headers["Location"]
    running = await someone.get(run_path)
    assert f'data-live="{run_path}/events"' in running.text

    seen: list[tuple[str, dict[str, Any]]] = []
    async for event, data in frames(someone, run_path + "/events"):
        seen.append((event, data))
        if event == "case_finished":
            assert (data["name"], data["status"], data["done"], data["total"]) == (
                "home",
                "passed",
                1,
                2,
            )
            assert data["passed"] == 1 and data["failed"] == 0
            # "slow" waits for its page: cancel the run from its page.
            cancelled = await someone.send(run_path, run_path + "/cancel")
            assert (cancelled.status, cancelled.headers["Location"]) == (303, run_path)
    site.gate.set()
    events = [event for event, _ in seen]
    assert events[-1] == "done" and "case_finished" in events
    assert seen[-1][1]["status"] == "cancelled" and seen[-1][1]["skipped"] == 1

    finished = await someone.get(run_path)
    assert 'data-live="' not in finished.text and 'class="badge s-cancelled"' in finished.text
    # A finished run's stream says so at once.
    replay = [event async for event in frames(someone, run_path + "/events")]
    assert replay == [
        (
            "done",
            {
                "status": "cancelled",
                "done": 2,
                "total": 2,
                "passed": 1,
                "failed": 0,
                "skipped": 1,
                "flaky": 0,
            },
        )
    ]
    # Its downloads: JUnit XML and the report, with the dashboard's look.
    junit = await someone.get(run_path + "/junit")
    assert junit.status == 200 and "<testsuites" in junit.text
    assert "attachment" in junit.headers["Content-Disposition"]
    report = await someone.get(run_path + "/report")
    assert report.status == 200 and ".badge {" in report.text and "<link" not in report.text
    assert (await someone.send(run_path, run_path + "/cancel")).status == 409
