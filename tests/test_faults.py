"""Faults: a killed daemon, a killed browser, an unusable data dir, a flood of triggers."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sqlite3
import subprocess
from contextlib import suppress
from pathlib import Path

import pytest

from runner.browsers import Browsers
from tests.api.test_suites import CASES, make_suite
from tests.apiclient import Daemon, make_config, running
from tests.conftest import ServeApp, Spawn
from tests.daemon import AEGISD, UNLIMITED, clean_env, poll
from tests.processes import chromium_processes
from tests.sites import Site, page


def _many_pages(count: int) -> dict[str, str]:
    pages = {f"/p{i}": page(f"P{i}", '<a href="/">Home</a>') for i in range(count)}
    pages["/"] = page("Home", "".join(f'<a href="/p{i}">p{i}</a>' for i in range(count)))
    return pages


async def test_kill_9_mid_crawl_loses_nothing(
    spawn: Spawn, tmp_path: Path, serve: ServeApp
) -> None:
    base = await serve(Site(_many_pages(12), delay_s=0.3).app())
    data = tmp_path / "data"
    daemon = spawn(data, env=UNLIMITED)
    await daemon.start()
    key = daemon.admin_key
    async with daemon.api(key) as http:
        # No audits: they would slow the crawl by a second a page, for nothing tested here.
        project_body = {"name": "p", "base_url": base, "settings": {"audits": []}}
        async with http.post("projects", json=project_body) as response:
            project = (await response.json())["data"]
        body = {"project_id": project["id"], "generate_suite": False}
        async with http.post("crawls", json=body) as response:
            crawl_id = (await response.json())["data"]["id"]
        # Acknowledged work that has not started yet must survive too.
        async with http.post("crawls", json=body) as response:
            queued_id = (await response.json())["data"]["id"]
        await poll(http, f"crawls/{crawl_id}", lambda c: c["pages_crawled"] >= 2)
    daemon.kill()
    with sqlite3.connect(data / "aegisd.sqlite3") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        status = db.execute("SELECT status FROM crawls WHERE id = ?", (crawl_id,)).fetchone()
        assert status == ("running",)

    restarted = spawn(data, env=UNLIMITED)
    await restarted.start()
    try:
        async with restarted.api(key) as http:
            for job in (crawl_id, queued_id):
                crawl = await poll(
                    http, f"crawls/{job}", lambda c: c["status"] not in ("queued", "running")
                )
                assert crawl["status"] == "completed" and crawl["pages_crawled"] == 13
                assert len({p["url"] for p in crawl["results"]["pages"]}) == 13
    finally:
        assert restarted.stop() == 0
    with sqlite3.connect(data / "aegisd.sqlite3") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def _serve_fails(data_dir: Path, mount: str | None = None) -> subprocess.CompletedProcess[str]:
    """``aegisd serve`` on ``data_dir``; with ``mount``, on a tmpfs mounted there with those
    options in a private mount namespace (``fill`` in them fills it up first)."""
    serve = [*AEGISD, "serve", "--data-dir", str(data_dir), "--port", "1"]
    if mount is not None:
        data_dir.mkdir(parents=True, exist_ok=True)
        options = mount.replace(",fill", "")
        fill = f" && cat /dev/zero > {data_dir}/filler 2>/dev/null; true" if "fill" in mount else ""
        script = f'mount -t tmpfs -o {options} tmpfs {data_dir}{fill} && exec "$@"'
        serve = ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh", *serve]
    return subprocess.run(serve, capture_output=True, text=True, timeout=60, env=clean_env())


def _can_mount() -> bool:
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        return False
    probe = ["unshare", "--mount", "sh", "-c", "mount -t tmpfs tmpfs /mnt"]
    return subprocess.run(probe, capture_output=True).returncode == 0


needs_mount = pytest.mark.skipif(not _can_mount(), reason="needs root and mount namespaces")


def test_data_dir_that_cannot_exist(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = _serve_fails(blocker / "data")
    assert result.returncode == 2
    assert "data directory" in result.stderr and "not usable" in result.stderr
    assert "Traceback" not in result.stderr


@needs_mount
@pytest.mark.parametrize(
    ("mount", "why"),
    [("ro", "Read-only file system"), ("size=256k,fill", "No space left")],
    ids=["read-only", "full-disk"],
)
def test_unusable_data_dir_at_start(tmp_path: Path, mount: str, why: str) -> None:
    result = _serve_fails(tmp_path / "data", mount=mount)
    assert result.returncode == 2, result.stderr
    assert "not usable" in result.stderr and why in result.stderr
    assert "Traceback" not in result.stderr


def _kill_browser_processes() -> int:
    """SIGKILL the Chromium processes this test process started (through Playwright).

    The whole tree is read first: a browser relaunched while we kill must live.
    """
    chromium = chromium_processes()
    for pid in chromium:
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return len(chromium)


async def test_browser_killed_under_a_crawl_and_a_run(
    daemon: Daemon, serve: ServeApp, browsers: Browsers
) -> None:
    base = await serve(Site(_many_pages(20), delay_s=0.4).app())
    project = await daemon.project(base_url=base)
    # Enough cases (each waits 0.4 s for the site: 4 s at least on two workers) that the
    # run is still going when the crawl has its first page, however fast the lanes get.
    suite = await make_suite(daemon, project["id"], [CASES[0]] * 20)
    crawl = (await daemon.call("POST", "/crawls", json={"project_id": project["id"]})).data
    run = (await daemon.call("POST", "/runs", json={"suite_id": suite["id"]})).data
    await daemon.wait_for(f"/runs/{run['id']}", lambda r: r["status"] == "running")
    await daemon.wait_for(f"/crawls/{crawl['id']}", lambda c: c["pages_crawled"] >= 1)
    assert (await daemon.call("GET", f"/runs/{run['id']}")).data["status"] == "running"
    assert _kill_browser_processes() > 0
    crawl = await daemon.finished(f"/crawls/{crawl['id']}", within_s=120)
    run = await daemon.finished(f"/runs/{run['id']}", within_s=120)
    assert crawl["status"] in ("completed", "failed") and (crawl["error"] or crawl["pages_crawled"])
    assert run["status"] in ("passed", "failed", "error")
    # The browser comes back for the next job.
    one = await make_suite(daemon, project["id"], [CASES[0]])
    again = await daemon.finished(
        f"/runs/{(await daemon.call('POST', '/runs', json={'suite_id': one['id']})).data['id']}"
    )
    assert again["status"] == "passed", (
        await daemon.call("GET", f"/runs/{again['id']}/results")
    ).data


async def test_200_triggers_against_two_runners(
    tmp_path: Path, browsers: Browsers, serve: ServeApp
) -> None:
    base = await serve(Site({"/": page("Home")}).app())
    runner = {"max_concurrent_runs": 2, "workers": 1, "trace": "off", "screenshots": "off"}
    config = make_config(tmp_path, runner=runner)
    async with running(config, browsers) as daemon:
        project = await daemon.project(base_url=base)
        suite = await make_suite(daemon, project["id"], [CASES[0]])
        answers = await asyncio.gather(
            *(daemon.call("POST", "/runs", json={"suite_id": suite["id"]}) for _ in range(200))
        )
        assert [a.status for a in answers] == [201] * 200
        seen_running = 0
        for _ in range(12_000):
            counts = await daemon.db.fetchall(
                "SELECT status, COUNT(*) AS n FROM runs GROUP BY status"
            )
            by_status = {row["status"]: row["n"] for row in counts}
            seen_running = max(seen_running, by_status.get("running", 0))
            assert by_status.get("running", 0) <= 2
            if by_status.get("passed", 0) == 200:
                break
            await asyncio.sleep(0.05)
        assert by_status == {"passed": 200}
        assert seen_running == 2
