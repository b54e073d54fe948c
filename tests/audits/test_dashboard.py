"""The dashboard's audits, driven in Chromium: a crawl's Audits tab (scores, each rule with
its pages and nodes, new and fixed findings), a rule's page and a page's detail; who
may see them."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from playwright.async_api import Locator, Page, expect

from aegisd.dashboard.audits import CATEGORY_NAMES
from crawler.audits.models import AUDIT_CATEGORIES
from runner.axe import IMPACTS
from runner.browsers import Browsers
from tests.audits.conftest import AuditedDaemon, daemon_crawl
from tests.audits.site import LOAD_TIMES, PROBLEMS
from tests.dashboard.conftest import Visitor, base_url


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    # unsafe: keep cookies of a host given as an IP address, as browsers do.
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        yield session


async def _sign_in(tab: Page, base: str, key: str, page: str) -> None:
    await tab.goto(f"{base}/login?next={page}")
    await tab.get_by_label("API key").fill(key)
    await tab.get_by_role("button", name="Sign in").click()
    await expect(tab).to_have_url(base + page)


def _group(panel: Locator, category: str) -> Locator:
    return panel.locator(f"section[aria-labelledby='audits-{category}']")


def _rule(group: Locator, rule: str) -> Locator:
    return group.locator("details.rule").filter(has=group.page.get_by_text(rule, exact=True))


async def _check_nodes(where: Locator, nodes: list[dict[str, Any]]) -> None:
    """The nodes' selectors and HTML are shown, as text."""
    await expect(where.locator(".target")).to_have_text([node["target"] for node in nodes])
    await expect(where.locator(".snippet")).to_have_text([n["html"] for n in nodes if n["html"]])


async def test_the_audits_tab_shows_each_finding_with_its_pages_and_nodes(
    audited_daemon: AuditedDaemon, browsers: Browsers
) -> None:
    daemon, crawl = audited_daemon.daemon, audited_daemon.current
    base, site = base_url(daemon), crawl["start_url"].rstrip("/")
    pages = {page["url"].removeprefix(site): page for page in crawl["results"]["pages"]}
    numbers = {path: number for number, path in enumerate(pages, start=1)}
    rules = (await daemon.call("GET", f"/crawls/{crawl['id']}/audits")).data
    summary = crawl["audit_summary"]
    async with browsers.context() as context:
        tab = await context.new_page()
        await _sign_in(tab, base, daemon.key, f"/crawls/{crawl['id']}")
        await tab.locator("nav.tabs").get_by_role("link", name="Audits").click()
        await expect(tab).to_have_url(re.compile("#audits$"))
        panel = tab.locator("#audits")

        # The four scores, with what they mean.
        for category, name in CATEGORY_NAMES.items():
            card = panel.locator(".score").filter(has_text=name)
            await expect(card.locator(".value")).to_have_text(f"{summary[category]['score']}/100")
            assert "the mean over the audited pages" in (await card.get_attribute("title") or "")
        await panel.get_by_text("How the scores are made").click()
        await expect(panel.locator(".legend")).to_contain_text("25 (critical), 15 (serious)")

        # Each category's rules, worst first: exactly the site's problems (and the machine's
        # load times), as the API lists them.
        for category in AUDIT_CATEGORIES:
            group = _group(panel, category)
            shown = await group.locator(".rule-id").all_inner_texts()
            assert shown == [rule["rule"] for rule in rules if rule["category"] == category]
            wanted = {rule for found in PROBLEMS.values() for rule in found.get(category, ())}
            assert set(shown) - LOAD_TIMES == wanted, category
            impacts = await group.locator("summary .badge").all_inner_texts()
            assert impacts == sorted(impacts, key=IMPACTS.index, reverse=True)
        await expect(_group(panel, "security")).to_contain_text("csp-missing")

        # Each rule opens onto the page failing it and its elements, their HTML as text.
        for path, problems in PROBLEMS.items():
            for kind, found in problems.items():
                for rule in found:
                    details = _rule(_group(panel, kind), rule)
                    await details.locator("summary").click()
                    link = details.get_by_role("link", name=site + path, exact=True)
                    await expect(link).to_have_attribute(
                        "href", f"/crawls/{crawl['id']}/pages/{numbers[path]}"
                    )
                    if kind != "performance":
                        [item] = [i for i in pages[path]["audits"][kind] if i["rule"] == rule]
                        await _check_nodes(details, item["nodes"][:3])
        await expect(_rule(_group(panel, "accessibility"), "image-alt")).to_contain_text(
            '<img src="/static/photo.png">'
        )
        assert await panel.locator("img").count() == 0  # shown, never rendered

        # New and fixed since the previous crawl (as test_api.py finds them).
        await expect(panel.locator(".changed.new .rows > li")).to_have_count(1)
        await expect(panel.locator(".changed.new .rows > li")).to_contain_text(site + "/contact")
        fixed_rules = panel.locator(".changed.fixed .rows > li a.mono")
        await expect(fixed_rules).to_have_text(["image-alt", "image-alt-missing"])

        # The new finding's rule page: the page failing it now, and what is new.
        await panel.locator(".changed.new").get_by_role("link", name="label").click()
        await expect(tab.get_by_role("heading", level=1)).to_contain_text("label")
        failing = tab.locator(".rule-pages > li")
        await expect(failing).to_have_count(1)
        await expect(failing).to_contain_text(site + "/contact")
        await _check_nodes(failing, pages["/contact"]["audits"]["accessibility"][0]["nodes"])
        await expect(tab.locator("#changes")).to_contain_text("New on 1 page")

        # A page's detail: what the crawl found there, its audits and performance figures.
        await failing.get_by_role("link", name="Contact").click()
        await expect(tab).to_have_url(f"{base}/crawls/{crawl['id']}/pages/{numbers['/contact']}")
        await expect(tab.get_by_role("heading", level=1)).to_contain_text("Contact")
        figures = pages["/contact"]["audits"]["performance"]
        lcp = tab.locator("table.figures tr").filter(has_text="Largest Contentful Paint")
        await expect(lcp.locator("td.num")).to_have_text(f"{figures['lcp']:,} ms")
        await expect(tab.locator("#forms")).to_contain_text("q")
        await expect(tab.locator("#links")).to_contain_text("Home")
        await expect(tab.locator("section[aria-labelledby='page-accessibility']")).to_contain_text(
            "label"
        )

        # The crawl's page list links each page to its detail.
        await tab.goto(f"{base}/crawls/{crawl['id']}")
        await tab.locator("#pages").get_by_role("link", name="Busy").click()
        await expect(tab.get_by_role("heading", level=1)).to_contain_text("Busy")
        blocking = tab.locator("table.figures tr").filter(has_text="Total Blocking Time")
        await expect(blocking.locator(".badge")).not_to_have_text("good")
        await expect(tab.locator("section[aria-labelledby='page-performance']")).to_contain_text(
            "total-blocking-time"
        )


async def test_a_read_key_sees_the_audits_and_a_key_of_another_project_does_not(
    audited_daemon: AuditedDaemon, http: aiohttp.ClientSession
) -> None:
    daemon, crawl_id = audited_daemon.daemon, audited_daemon.current["id"]
    views = [
        f"/crawls/{crawl_id}",
        f"/crawls/{crawl_id}/audits/accessibility/image-alt",
        f"/crawls/{crawl_id}/pages/2",
    ]
    reader = Visitor(http, base_url(daemon))
    assert (await reader.sign_in(await daemon.new_key("read"))).status == 303
    for view in views:
        answer = await reader.get(view)
        assert answer.status == 200 and "image-alt" in answer.text, view
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as other:
        outsider = Visitor(other, base_url(daemon))
        key = await daemon.new_key("read", audited_daemon.other_project["id"])
        assert (await outsider.sign_in(key)).status == 303
        refused = await daemon.call("GET", f"/crawls/{crawl_id}/audits", key=key)
        for view in views:
            answer = await outsider.get(view)
            assert answer.status == refused.status == 403, view
            assert "image-alt" not in answer.text and "Gallery" not in answer.text

    for view, status, message in [
        (f"/crawls/{crawl_id}/pages/0", 404, "pages count from 1"),
        (f"/crawls/{crawl_id}/pages/first", 404, "pages count from 1"),
        (f"/crawls/{crawl_id}/pages/{len(PROBLEMS) + 1}", 404, f"has {len(PROBLEMS)} pages"),
        (f"/crawls/{crawl_id}/audits/speed/tbt", 404, "no audit category &#39;speed&#39;"),
        (f"/crawls/{crawl_id}/audits/seo/title-missing", 200, "No page of this crawl fails it."),
    ]:
        answer = await reader.get(view)
        assert (answer.status, message in answer.text) == (status, True), (view, answer.text[:300])

    # A crawl that audited nothing says so.
    unaudited = await daemon_crawl(
        daemon, audited_daemon.other_project["id"], max_pages=1, generate_suite=False
    )
    answer = await reader.get(f"/crawls/{unaudited['id']}")
    assert "This crawl audited nothing" in answer.text
