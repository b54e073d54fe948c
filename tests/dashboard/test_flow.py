"""The dashboard driven in Chromium as a person drives it: from signing in with the key
the daemon printed to signing out."""

from __future__ import annotations

import re

import aiohttp
import pytest
from playwright.async_api import expect

from runner.browsers import Browsers
from tests.apiclient import Daemon
from tests.conftest import ServeApp
from tests.dashboard.conftest import JOB_TIMEOUT_MS, GatedSite, base_url
from tests.sites import linked_site, page


async def test_a_person_from_sign_in_to_sign_out(
    capsys: pytest.CaptureFixture[str], daemon: Daemon, browsers: Browsers, serve: ServeApp
) -> None:
    printed = re.search(r"created an admin API key \(shown once\): (\S+)", capsys.readouterr().out)
    assert printed, "the daemon prints its first admin key"
    site = GatedSite(linked_site(), gated={"/blog/post"})
    shop = await serve(site.app())
    base = base_url(daemon)
    async with browsers.context() as context:
        tab = await context.new_page()

        # Asking for a page signed out: sign in with the printed key, land on that page.
        await tab.goto(base + "/projects/new")
        await expect(tab).to_have_url(re.compile(r"/login\?next=/projects/new$"))
        await tab.get_by_label("API key").fill(printed.group(1))
        await tab.get_by_role("button", name="Sign in").click()
        await expect(tab).to_have_url(base + "/projects/new")

        # Create a project.
        await tab.get_by_label("Name").fill("Blog")
        await tab.get_by_label("Base URL").fill(shop + "/")
        await tab.get_by_label("Max pages").fill("20")
        # The form starts from the defaults: every audit, screenshot checks, no POSTs.
        await expect(tab.get_by_label("performance", exact=True)).to_be_checked()
        await expect(tab.get_by_label(re.compile("may submit POST forms"))).not_to_be_checked()
        await tab.get_by_label("performance", exact=True).uncheck()
        await tab.get_by_role("button", name="Create project").click()
        await expect(tab.get_by_role("heading", level=1)).to_have_text("Blog")
        created = (await daemon.call("GET", "/projects")).data[0]["settings"]
        assert created["audits"] == ["accessibility", "seo", "security"]
        assert created["visual_checks"] is True and created["submit_post_forms"] is False

        # Crawl it, and watch the progress move on the page itself, then finish.
        await tab.get_by_role("button", name="Crawl now").click()
        await expect(tab).to_have_url(re.compile(r"/crawls/crawl_"))
        await tab.evaluate("window.sameDocument = true")
        crawled = tab.locator('[data-field="pagesCrawled"]')
        await expect(crawled).not_to_have_text("0")  # updated live: /blog/post still waits
        assert await tab.evaluate("window.sameDocument") is True
        site.gate.set()
        heading = tab.get_by_role("heading", level=1)
        await expect(heading).to_contain_text("completed", timeout=JOB_TIMEOUT_MS)
        await expect(tab.locator("#pages")).to_contain_text("/blog/post")
        await expect(tab.locator("#broken-links")).to_contain_text("/missing")

        # The generated suite, its steps in plain words.
        await tab.get_by_role("link", name="Open the generated suite").click()
        about = tab.locator("details.case", has_text="Page loads: /about")
        await about.locator("summary").click()
        await expect(about.locator("ol.steps")).to_contain_text('expect title "About us"')

        # Run it against the site broken, and find the failed case first with its screenshot.
        site.pages["/about"] = page("About (renamed)")
        await tab.get_by_role("button", name="Run suite").click()
        await expect(tab).to_have_url(re.compile(r"/runs/run_"))
        await expect(tab.locator("h1 .badge")).to_have_text("failed", timeout=JOB_TIMEOUT_MS)
        first = tab.locator("details.case").first
        await expect(first.locator("summary .badge").first).to_have_text("failed")
        # Its triage: the suite's first run, so the case is new.
        await expect(first.locator("summary .badge.triage")).to_have_text("new")
        await expect(first.locator("summary .name")).to_have_text("Page loads: /about")
        await expect(first.locator(".s-step-failed")).to_contain_text('expect title "About us"')
        await expect(first.locator(".error-box")).to_contain_text("About (renamed)")
        shot = first.locator(".screenshot img")
        await expect(shot).to_be_visible()
        assert await shot.evaluate("(image) => image.naturalWidth") > 0
        await expect(first).to_contain_text("npx playwright show-trace")

        # Generate a key on the security page; it works with a real HTTP client.
        await tab.get_by_role("link", name="Settings").click()
        await tab.get_by_label("Name").fill("ci bot")
        await tab.get_by_label("Scope").select_option("write")
        await tab.get_by_role("button", name="Generate API key").click()
        new_key = await tab.get_by_label("New API key").input_value()
        assert new_key.startswith("aegis_")
        await expect(tab.get_by_role("button", name="Copy")).to_be_visible()
        headers = {"Authorization": f"Bearer {new_key}"}
        async with (
            aiohttp.ClientSession(headers=headers) as http,
            http.get(base + "/v1/projects") as answer,
        ):
            assert answer.status == 200
            assert [p["name"] for p in (await answer.json())["data"]] == ["Blog"]
        await tab.reload()
        assert new_key not in await tab.content()
        await expect(tab.locator("table")).to_contain_text("ci bot")

        # A schedule with a bad cron: the error at the field, nothing stored.
        await tab.get_by_role("link", name="Schedules").click()
        await tab.get_by_role("link", name="New schedule").click()
        target = tab.get_by_label("What it does")
        await target.select_option(index=1)  # the first "Run a suite" choice
        assert (await target.input_value()).startswith("suite:")
        await tab.get_by_label("Cron").fill("61 * * * *")
        await tab.get_by_role("button", name="Create schedule").click()
        cron = tab.get_by_label("Cron")
        await expect(cron).to_have_attribute("aria-invalid", "true")
        await expect(tab.locator("#cron-error")).to_contain_text("61")
        assert await daemon.db.fetchall("SELECT id FROM schedules") == []

        # Sign out: the pages ask for a sign-in again.
        await tab.get_by_role("button", name="Sign out").click()
        await expect(tab).to_have_url(base + "/login")
        await tab.goto(base + "/runs")
        await expect(tab).to_have_url(base + "/login?next=/runs")
