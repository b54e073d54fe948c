"""Visual checks on the dashboard: a run's differing screenshots as expected, actual and
diff with a slider, approving them (one, then the rest), the suite's baselines, and
who may approve.

Each test runs a two-case suite of screenshot checks against Studio twice: the first
run records the baselines, then the stylesheet changes the colour of /about and hides
the photo of /gallery, so both screenshots of the second run differ.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.async_api import Locator, Page, expect

from runner.browsers import Browsers
from tests.api.test_suites import make_suite
from tests.apiclient import Daemon, make_config, running
from tests.conftest import ServeApp
from tests.dashboard.conftest import MakeVisitor, base_url, signed_in
from tests.visual.site import CHANGES, studio_site

CASES: list[dict[str, Any]] = [
    {"name": name, "steps": [{"action": "goto", "url": path}, {"action": "expect_screenshot"}]}
    for name, path in [("About", "/about"), ("Gallery", "/gallery")]
]


@dataclass
class Differing:
    daemon: Daemon
    suite: dict[str, Any]
    run: dict[str, Any]
    cases: dict[str, str]
    """Case ids by name."""

    async def next_run(self) -> dict[str, Any]:
        return await _run(self.daemon, self.suite["id"])

    async def baselines(self) -> list[dict[str, Any]]:
        answer = await self.daemon.call("GET", f"/suites/{self.suite['id']}/baselines")
        return sorted(answer.data, key=lambda row: row["case_id"])


async def _run(daemon: Daemon, suite_id: str) -> dict[str, Any]:
    queued = await daemon.call("POST", "/runs", json={"suite_id": suite_id})
    assert queued.status == 201, queued.body
    return await daemon.finished(f"/runs/{queued.data['id']}", within_s=300)  # type: ignore[no-any-return]


def _checks(run: dict[str, Any]) -> dict[str, list[str]]:
    return {r["name"]: [check["status"] for check in r["visual"]] for r in run["results"]}


@asynccontextmanager
async def _differing_run(
    serve: ServeApp, browsers: Browsers, tmp_path: Path
) -> AsyncIterator[Differing]:
    site = studio_site()
    site_url = await serve(site)
    config = make_config(tmp_path, runner={"screenshots": "off", "trace": "off"})
    async with running(config, browsers) as daemon:
        project = await daemon.project(base_url=site_url)
        suite = await make_suite(daemon, project["id"], CASES)
        first = await _run(daemon, suite["id"])
        assert _checks(first) == {"About": ["new"], "Gallery": ["new"]}
        site[CHANGES].update({"colour", "image"})
        second = await _run(daemon, suite["id"])
        assert _checks(second) == {"About": ["differs"], "Gallery": ["differs"]}
        cases = {case["name"]: case["id"] for case in suite["cases"]}
        yield Differing(daemon, suite, second, cases)


async def _sign_in(tab: Page, daemon: Daemon, page: str, key: str | None = None) -> None:
    await tab.goto(f"{base_url(daemon)}/login?next={page}")
    await tab.get_by_label("API key").fill(key or daemon.key)
    await tab.get_by_role("button", name="Sign in").click()
    await expect(tab).to_have_url(base_url(daemon) + page)


async def _loaded(images: Locator) -> list[int]:
    """The natural widths of ``images`` once each has loaded (0 for a broken one)."""
    return [
        await images.nth(n).evaluate("(i) => i.decode().then(() => i.naturalWidth, () => 0)")
        for n in range(await images.count())
    ]


async def test_a_changed_page_shows_its_diff_and_approving_turns_the_next_run_green(
    serve: ServeApp, browsers: Browsers, tmp_path: Path
) -> None:
    async with _differing_run(serve, browsers, tmp_path) as differing:
        run_page = f"/runs/{differing.run['id']}"
        about_id, gallery_id = differing.cases["About"], differing.cases["Gallery"]
        async with browsers.context(viewport={"width": 1280, "height": 900}) as context:
            tab = await context.new_page()
            tab.on("dialog", lambda dialog: dialog.accept())  # the confirmations
            await _sign_in(tab, differing.daemon, run_page)

            # The run's screenshots panel lists both, each case its three images.
            panel = tab.locator("#visual")
            await expect(panel.locator("tbody tr")).to_have_count(2)
            await expect(panel.locator(".panelhead")).to_contain_text("2 differ")
            about = tab.locator(f'[id="{about_id}-page"]')
            await expect(about).to_be_visible()  # a failed case is open
            await expect(about.locator(".visual-panels figcaption")).to_have_text(
                ["Expected", "Actual", "Diff (differing pixels red)"]
            )
            assert all(width > 0 for width in await _loaded(about.locator(".visual-panels img")))

            # The slider: expected and actual stacked, the actual shown right of the handle.
            await about.get_by_role("button", name="Slider").click()
            await expect(about.locator(".visual-panels")).to_be_hidden()
            await expect(about.locator(".visual-stack")).to_be_visible()
            await about.get_by_role("slider").fill("20")
            clip = await about.locator(".visual-top").evaluate("(e) => e.style.clipPath")
            assert re.fullmatch(r"inset\(0(px)? 0(px)? 0(px)? 20%\)", clip), clip
            box = await about.locator(".visual-stack").bounding_box()
            assert box is not None
            await tab.mouse.click(box["x"] + box["width"] * 0.75, box["y"] + box["height"] / 2)
            value = int(await about.get_by_role("slider").input_value())
            assert 70 <= value <= 80, value
            await about.get_by_role("button", name="Side by side").click()
            await expect(about.locator(".visual-panels")).to_be_visible()

            # Approve one screenshot; the run's button approves the one left.
            await about.get_by_role("button", name="Approve", exact=True).click()
            await expect(tab).to_have_url(re.compile(rf"{run_page}#{about_id}$"))
            await expect(about.locator(".badge", has_text="approved")).to_be_visible()
            await expect(about.get_by_role("button", name="Approve", exact=True)).to_have_count(0)
            rows = await differing.baselines()
            approved = {row["case_id"]: row["approved_from_run"] for row in rows}
            assert approved[about_id] == differing.run["id"] != approved[gallery_id]
            await panel.get_by_role("button", name="Approve all 1").click()
            await expect(panel).to_contain_text("Every differing screenshot is approved")
            await expect(panel.locator(".badge", has_text="approved")).to_have_count(2)

            # The suite page lists the baselines, both now from this run; one is deleted.
            suite_page = f"{base_url(differing.daemon)}/suites/{differing.suite['id']}"
            await tab.goto(suite_page)
            gallery_baseline = next(
                r for r in await differing.baselines() if r["case_id"] == gallery_id
            )
            stale = await context.new_page()  # the same page in a second tab
            stale.on("dialog", lambda dialog: dialog.accept())
            await stale.goto(suite_page)
            listed = tab.locator("#baselines tbody tr")
            await expect(listed).to_have_count(2)
            await expect(listed.get_by_role("link", name=differing.run["id"])).to_have_count(2)
            assert all(width > 0 for width in await _loaded(listed.locator("img.thumb")))
            await expect(listed.first).to_contain_text("chromium")
            await expect(listed.first).to_contain_text("1280x720")
            gallery_row = listed.filter(has_text="Gallery")
            await gallery_row.get_by_role("button", name="Delete").click()
            await expect(listed).to_have_count(1)
            await expect(listed).to_contain_text("About")

            # The second tab still shows the deleted baseline: deleting it again is a
            # clear 404 that changes nothing.
            stale_rows = stale.locator("#baselines tbody tr")
            await stale_rows.filter(has_text="Gallery").get_by_role("button", name="Delete").click()
            await expect(stale.get_by_role("heading", name="Not found")).to_be_visible()
            await expect(stale.locator("main")).to_contain_text(
                f"baseline {gallery_baseline['id']} of suite {differing.suite['id']} not found"
            )
            assert [row["case_id"] for row in await differing.baselines()] == [about_id]

        # The next run matches the approved screenshot and records the deleted one anew.
        third = await differing.next_run()
        assert third["status"] == "passed", third
        assert _checks(third) == {"About": ["matched"], "Gallery": ["new"]}


async def test_without_javascript_the_images_show_and_only_write_keys_of_the_project_approve(
    serve: ServeApp, browsers: Browsers, tmp_path: Path, visitor: MakeVisitor
) -> None:
    async with _differing_run(serve, browsers, tmp_path) as differing:
        run_page = f"/runs/{differing.run['id']}"
        about = f'[id="{differing.cases["About"]}-page"]'
        async with browsers.context(java_script_enabled=False) as context:
            tab = await context.new_page()
            await _sign_in(tab, differing.daemon, run_page)
            shown = tab.locator(about)
            images = shown.locator(".visual-panels img")
            await expect(images).to_have_count(3)
            for n in range(3):
                await expect(images.nth(n)).to_be_visible()
            await expect(shown.locator(".visual-slider")).to_be_hidden()
            await expect(shown.locator(".visual-modes")).to_be_hidden()
            await expect(shown.get_by_role("button", name="Approve", exact=True)).to_be_visible()

        # Who may approve: a read key sees no button and its forged posts change nothing.
        daemon = differing.daemon
        before = await differing.baselines()
        reader = await signed_in(visitor, daemon, await daemon.new_key("read"))
        page = await reader.get(run_page)
        assert page.status == 200 and "/approve" not in page.text
        assert "Approving takes a key with write scope." in page.text
        suite_page = f"/suites/{differing.suite['id']}"
        listing = await reader.get(suite_page)
        assert listing.status == 200 and "/delete" not in listing.text
        assert all(row["id"] in listing.text for row in before)
        about_id = differing.cases["About"]
        forged = [
            (run_page, f"{run_page}/approve", {}),
            (run_page, f"{run_page}/results/{about_id}/approve", {"name": "page"}),
            (suite_page, f"{suite_page}/baselines/{before[0]['id']}/delete", {}),
        ]
        for page_path, action, fields in forged:
            answer = await reader.send(page_path, action, fields)
            assert answer.status == 403, (action, answer.status)
            assert "this key has scope &#39;read&#39;" in answer.text
        # A write key's post without this session's CSRF token is refused too.
        writer = await signed_in(visitor, daemon, await daemon.new_key("write"))
        for token in ({}, {"csrf": "forged"}):
            answer = await writer.post(f"{run_page}/approve", token)
            assert answer.status == 403 and "CSRF token" in answer.text
        # A name the result has no screenshot of is the API's 400, shown on a page.
        bad = await writer.send(run_page, f"{run_page}/results/{about_id}/approve", {"name": "x"})
        assert bad.status == 400 and "no screenshot" in bad.text
        # Unknown cases and baselines, and another project's suite: the API's 404.
        theirs = await make_suite(daemon, (await daemon.project("Other"))["id"], CASES[:1])
        baseline = before[0]["id"]
        missing = [
            (run_page, f"{run_page}/results/case_nope00000000/approve", "has no result for case"),
            (run_page, f"{run_page}/results/{theirs['cases'][0]['id']}/approve", "has no result"),
            (suite_page, f"{suite_page}/baselines/base_nope00000000/delete", "not found"),
            (suite_page, f"/suites/{theirs['id']}/baselines/{baseline}/delete", "not found"),
        ]
        for page_path, action, message in missing:
            answer = await writer.send(page_path, action)
            assert answer.status == 404 and message in answer.text, (action, answer.status)
        # A key bound to another project: the API's own refusal, for the run and the suite.
        other_key = await daemon.new_key("write", theirs["project_id"])
        bound = await signed_in(visitor, daemon, other_key)
        own_page = f"/projects/{theirs['project_id']}"
        for action in (f"{run_page}/approve", f"{suite_page}/baselines/{baseline}/delete"):
            answer = await bound.send(own_page, action)
            assert answer.status == 403 and "this key is bound to project" in answer.text, action
        assert (await daemon.call("GET", run_page, key=other_key)).status == 403
        assert await differing.baselines() == before
        # ...as it shows in Chromium to the person holding that key.
        async with browsers.context() as context:
            tab = await context.new_page()
            await _sign_in(tab, daemon, own_page, other_key)
            await tab.goto(base_url(daemon) + suite_page)
            await expect(tab.get_by_role("heading", name="Not allowed")).to_be_visible()
            await expect(tab.locator("main")).to_contain_text("this key is bound to project")

        # The write key's approval of the whole run goes through.
        approved = await writer.send(run_page, f"{run_page}/approve")
        assert approved.status == 303 and approved.headers["Location"] == f"{run_page}#visual"
        assert {row["approved_from_run"] for row in await differing.baselines()} == {
            differing.run["id"]
        }
