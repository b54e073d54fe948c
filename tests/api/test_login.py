"""A project's ``settings.login`` through the daemon: crawl, generated suite, run, export."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from aegisd.config import Config
from tests.apiclient import Daemon, make_config
from tests.conftest import ServeApp
from tests.sites import LoginSite, login_steps

WRONG_PASSWORD = (
    'login failed at step 5 (expect_url): expected URL path "/account" but found "/login"'
)


@pytest.fixture
def hasty() -> bool:
    """Whether waits are short, so a failing login step fails quickly. A passing suite keeps
    the default waits: on a loaded machine its page loads can outlast short ones."""
    return False


@pytest.fixture
def config(tmp_path: Path, hasty: bool) -> Config:
    """The daemon's config, its waits short when ``hasty``."""
    if not hasty:
        return make_config(tmp_path, runner={"trace": "off"})
    return make_config(
        tmp_path, crawler={"page_timeout_s": 5}, runner={"step_timeout_s": 2, "trace": "off"}
    )


async def _finished(daemon: Daemon, kind: str, **body: Any) -> dict[str, Any]:
    answer = await daemon.call("POST", f"/{kind}", json=body)
    assert answer.status == 201, answer.body
    return await daemon.finished(f"/{kind}/{answer.data['id']}")  # type: ignore[no-any-return]


async def test_crawl_run_and_export_log_in(daemon: Daemon, serve: ServeApp) -> None:
    site = LoginSite()
    base = await serve(site.app())
    project = await daemon.project(base_url=base + "/", settings={"login": login_steps()})
    assert project["settings"]["login"]["steps"][0] == {"action": "goto", "url": "/login"}

    crawl = await _finished(daemon, "crawls", project_id=project["id"])
    assert crawl["status"] == "completed", crawl
    paths = [page["url"].removeprefix(base) for page in crawl["results"]["pages"]]
    assert paths == ["/", "/account", "/orders"]
    assert "/logout" not in site.hits

    run = await _finished(daemon, "runs", suite_id=crawl["suite_id"])
    assert run["status"] == "passed", run["results"]
    assert run["passed"] == run["total"] > 0

    exported = await daemon.call("GET", f"/suites/{crawl['suite_id']}/export")
    assert "test.beforeEach(async ({ page }) => {" in exported.data["code"]
    assert LoginSite.PASSWORD in exported.data["code"]


@pytest.mark.parametrize("hasty", [True])
async def test_a_wrong_password_fails_the_crawl_and_every_case(
    daemon: Daemon, serve: ServeApp
) -> None:
    base = await serve(LoginSite().app())
    project = await daemon.project(base_url=base + "/", settings={"login": login_steps()})
    crawl = await _finished(daemon, "crawls", project_id=project["id"])
    wrong = {"settings": {"login": login_steps(password="wrong")}}
    assert (await daemon.call("PUT", f"/projects/{project['id']}", json=wrong)).status == 200

    failed_crawl = await _finished(daemon, "crawls", project_id=project["id"])
    assert failed_crawl["status"] == "failed"
    assert failed_crawl["error"] == WRONG_PASSWORD

    run = await _finished(daemon, "runs", suite_id=crawl["suite_id"])
    assert run["status"] == "failed" and run["failed"] == run["total"] > 0
    assert {result["error"]["message"] for result in run["results"]} == {WRONG_PASSWORD}
    assert all(result["screenshot"] for result in run["results"])
