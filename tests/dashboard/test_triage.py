"""Triage on the dashboard, driven in Chromium: classification badges and counts on the
run page, a site-down run in one line, each case's history strip, and the suite's
health table, over a history scripted through storage and finished by real runs."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

from aiohttp import web
from playwright.async_api import BrowserContext, Page, expect

from aegisd.dashboard.views import duration
from runner.browsers import Browsers
from tests.api.test_suites import make_suite
from tests.api.test_triage import expecting, finished_run, scripted
from tests.apiclient import Daemon
from tests.conftest import ServeApp
from tests.daemon import free_port
from tests.dashboard.conftest import MakeVisitor, base_url, signed_in
from tests.sites import Site, page

HISTORY = 20
"""Scripted runs before the real one: the strips of the last 20 hold all but the first."""
CASES = [
    expecting("Home loads", "/", 200),  # passes every time
    expecting("About loads", "/about", 200),  # passed until now: regression
    expecting("Cart loads", "/cart", 200),  # has always failed: persistent
    expecting("News loads", "/news", 200),  # never ran before: new
    expecting("Flips a lot", "/", 404),  # alternated until now: flaky
    expecting("Flip loads", "/flip", 200),  # fails once, passes on its retry: flaky
]


class FlipSite(Site):
    """``/flip`` answers 500 on every other load; ``/about``, ``/cart`` and ``/news`` are gone."""

    def __init__(self) -> None:
        super().__init__({"/": page("Home"), "/flip": page("Flip")})
        self.flips = 0

    async def _serve(self, request: web.Request) -> web.Response:
        if request.path == "/flip":
            self.flips += 1
            if self.flips % 2:
                return web.Response(status=500, text=page("Oops"), content_type="text/html")
        return await super()._serve(request)


async def history(daemon: Daemon, serve: ServeApp) -> dict[str, Any]:
    """The suite, its scripted runs, the real run classifying every kind and a run
    against a dead site."""
    project = await daemon.project("Shop", await serve(FlipSite().app()))
    suite = await make_suite(daemon, project["id"], CASES)
    runs = []
    for number in range(HISTORY):
        outcomes = {
            "Home loads": "passed",
            "About loads": "passed",
            "Cart loads": "failed",
            "Flips a lot": "passed" if number % 2 else "failed",
            "Flip loads": "passed",
        }
        classified = {"Cart loads": "new" if number == 0 else "persistent"}
        if outcomes["Flips a lot"] == "failed":
            classified["Flips a lot"] = "flaky" if number > 4 else "regression"
        runs.append(await scripted(daemon, suite, outcomes, classified=classified))
    real = await finished_run(daemon, suite["id"], retries=1)
    nothing_listens = f"http://127.0.0.1:{free_port()}/"
    down = await finished_run(daemon, suite["id"], base_url=nothing_listens)
    return {"suite": suite, "scripted": runs, "run": real, "down": down}


async def signed_in_tab(context: BrowserContext, daemon: Daemon) -> Page:
    tab = await context.new_page()
    await tab.goto(base_url(daemon) + "/login")
    await tab.get_by_label("API key").fill(daemon.key)
    await tab.get_by_role("button", name="Sign in").click()
    await expect(tab.get_by_role("heading", level=1)).to_have_text("Projects")
    return tab


def contrast(foreground: str, background: str) -> float:
    """WCAG contrast ratio of two ``rgb(...)`` colours."""

    def luminance(colour: str) -> float:
        channels = [int(c) / 255 for c in re.findall(r"\d+", colour)[:3]]
        linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    light, dark = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


BADGE_LOOKS = """(badges) => badges.map((b) => {
  const style = getComputedStyle(b), mark = getComputedStyle(b, "::before");
  return [b.textContent.trim(), style.color, style.backgroundColor, mark.content,
          style.borderTopStyle];
})"""


async def test_run_page_badges_counts_strips_and_a_site_down_run(
    daemon: Daemon, visitor: MakeVisitor, browsers: Browsers, serve: ServeApp
) -> None:
    made = await history(daemon, serve)
    run, down = made["run"], made["down"]
    assert {r["name"]: r["classification"] for r in run["results"]} == {
        "Home loads": None,
        "About loads": "regression",
        "Cart loads": "persistent",
        "News loads": "new",
        "Flips a lot": "flaky",
        "Flip loads": "flaky",
    }
    assert down["error"].startswith("site unreachable: net::ERR_CONNECTION_REFUSED")
    base = base_url(daemon)
    async with browsers.context() as context:
        tab = await signed_in_tab(context, daemon)
        await tab.goto(f"{base}/runs/{run['id']}")

        # The header counts each classification; every classified case has its badge.
        counts = tab.locator(".triage-counts .badge")
        await expect(counts).to_have_text(["1 regression", "1 persistent", "1 new", "2 flaky"])
        cases = tab.locator("details.case")
        await expect(cases).to_have_count(6)
        badges = {
            name: await cases.filter(has_text=name)
            .locator("summary .badge.triage")
            .all_inner_texts()
            for name in ("Home loads", "About loads", "Cart loads", "News loads", "Flip loads")
        }
        assert badges == {
            "Home loads": [],
            "About loads": ["regression"],
            "Cart loads": ["persistent"],
            "News loads": ["new"],
            "Flip loads": ["flaky"],
        }
        assert "passed on a retry" in (
            await cases.filter(has_text="Flip loads")
            .locator(".badge.triage")
            .get_attribute("title")
            or ""
        )
        looks = await tab.locator("summary .badge.triage").evaluate_all(BADGE_LOOKS)

        # A count is a filter: only the regression is left.
        await counts.filter(has_text="regression").click()
        await expect(tab).to_have_url(re.compile(r"\?classification=regression#cases$"))
        await expect(cases).to_have_count(1)
        await expect(cases.locator("summary .name")).to_have_text("About loads")
        await expect(tab.locator(".filter-tabs [aria-current]")).to_have_text("Regression 1")

        # Cart's strip: its last 20 runs against this base URL, this one last, outlined.
        await tab.goto(f"{base}/runs/{run['id']}")
        cart = cases.filter(has_text="Cart loads")
        marks = cart.locator(".case-history .strip a")
        await expect(marks).to_have_count(20)
        await expect(cart.locator(".case-history")).to_contain_text("0/20 passed")
        hrefs = await marks.evaluate_all("(marks) => marks.map((m) => m.getAttribute('href'))")
        assert hrefs == [f"/runs/{r}" for r in made["scripted"][-19:]] + [f"/runs/{run['id']}"]
        assert await marks.last.get_attribute("aria-current") == "page"
        first = await marks.first.get_attribute("title") or ""
        assert first.startswith("failed, persistent · 100 ms · ") and made["scripted"][1] in first
        # Flip loads: passed on a retry now, plainly passed before.
        flip = cases.filter(has_text="Flip loads")
        await flip.locator("summary").click()
        kinds = await flip.locator(".strip a").evaluate_all("(ms) => ms.map((m) => m.className)")
        assert kinds[-1] == "run h-flaky current" and set(kinds[:-1]) == {"run h-passed"}
        # News never ran here before: one mark. A mark leads to its run.
        news = cases.filter(has_text="News loads")
        await expect(news.locator(".strip a")).to_have_count(1)
        await marks.nth(3).click()
        await expect(tab).to_have_url(base + hrefs[3])

        # The site-down run says so in one line; its cases are folded away.
        await tab.goto(f"{base}/runs/{down['id']}")
        alert = tab.locator(".site-down")
        await expect(alert).to_contain_text(down["error"])
        await expect(tab.locator(".triage-counts .badge")).to_have_text(["6 environment"])
        folded = tab.locator("details.folded")
        await expect(folded.locator("> summary")).to_have_text(
            "6 cases could not reach the site: show them"
        )
        await expect(tab.locator("details.case").first).to_be_hidden()
        await folded.locator("> summary").click()
        await expect(tab.locator("details.case")).to_have_count(6)
        assert await tab.locator("details.case[open]").count() == 0
        looks += await tab.locator("summary .badge.triage").evaluate_all(BADGE_LOOKS)
        background = await tab.locator(".case").first.evaluate(
            "(c) => getComputedStyle(c).backgroundColor"
        )
        # Its HTML report says it in the same one line, the cases folded there too.
        await tab.get_by_role("link", name="HTML report").click()
        await expect(tab).to_have_url(f"{base}/runs/{down['id']}/report")
        report_alert = tab.locator(".site-down")
        await expect(report_alert).to_have_text(
            re.compile(r"^\s*site down\s+" + re.escape(down["error"]))
        )
        await expect(tab.locator(".triage-counts .badge")).to_have_text(["6 environment"])
        await expect(tab.locator("details.case")).to_have_count(6)
        assert await tab.locator("details.case[open]").count() == 0

    # Each class looks its own (colour and glyph), is readable, and has no fill.
    by_class = {text: (colour, fill, glyph, border) for text, colour, fill, glyph, border in looks}
    assert set(by_class) == {"regression", "persistent", "new", "flaky", "environment"}
    assert len({colour for colour, *_ in by_class.values()}) == 5
    assert len({glyph for _, _, glyph, _ in by_class.values()}) == 5
    for colour, fill, _, _ in by_class.values():
        assert fill in ("rgba(0, 0, 0, 0)", "transparent")
        assert contrast(colour, background) >= 4.5, (colour, background)
    assert by_class["environment"][3] == "dashed"

    # The JUnit download carries each case's classification.
    someone = await signed_in(visitor, daemon)
    junit = ET.fromstring((await someone.get(f"/runs/{run['id']}/junit")).text.encode())
    classes = {
        case.attrib["name"]: prop.attrib["value"]
        for case in junit.iter("testcase")
        if (prop := case.find("properties/property[@name='classification']")) is not None
    }
    assert classes == {
        "About loads": "regression",
        "Cart loads": "persistent",
        "News loads": "new",
        "Flips a lot": "flaky",
        "Flip loads": "flaky",
    }


def health_cells(case: dict[str, Any]) -> list[str]:
    """A health table row's cells as the API's figures say they should read."""
    rate = "—" if case["pass_rate"] is None else f"{case['pass_rate'] * 100:.0f}%"
    rate += f" {case['passed']}/{case['runs']}" if case["pass_rate"] is not None else ""
    return [
        f"{case['name']} {case['type']}",
        str(case["runs"]),
        rate,
        str(case["flips"]),
        str(case["flaky"]),
        duration(case["median_duration"]),
    ]


async def shown_health(tab: Page) -> list[list[str]]:
    rows = tab.locator("table.health tbody tr")
    cells = await rows.evaluate_all(
        "(rows) => rows.map((r) => [...r.cells].map((c) => c.innerText.trim()))"
    )
    return [[name, runs, rate, flips, retried, median] for name, _, runs, rate, flips, retried,
            _, median in cells]  # fmt: skip


async def test_suite_page_strips_and_its_health_table(
    daemon: Daemon, visitor: MakeVisitor, browsers: Browsers, serve: ServeApp
) -> None:
    made = await history(daemon, serve)
    suite, run, down = made["suite"], made["run"], made["down"]
    path = f"/suites/{suite['id']}/health"
    everywhere = (await daemon.call("GET", f"{path}?sort=flakiness")).data
    here = (await daemon.call("GET", f"{path}?sort=flakiness&base_url={suite['base_url']}")).data
    base = base_url(daemon)
    async with browsers.context() as context:
        tab = await signed_in_tab(context, daemon)
        await tab.goto(base + f"/suites/{suite['id']}")
        # The suite page's strips cover every base URL: the dead site's run is there too.
        news = tab.locator("details.case", has_text="News loads").locator("summary .strip a")
        kinds = await news.evaluate_all("(ms) => ms.map((m) => m.className)")
        assert kinds == ["run h-failed", "run h-environment"]
        cart = tab.locator("details.case", has_text="Cart loads").locator("summary .strip a")
        await expect(cart).to_have_count(20)
        assert await cart.last.get_attribute("href") == f"/runs/{down['id']}"
        assert "failed, environment" in (await cart.last.get_attribute("title") or "")

        # The health tab: the API's figures, the flakiest first.
        await tab.get_by_role("link", name="Health").click()
        await expect(tab).to_have_url(base + path)
        await expect(tab.locator("table.health tbody tr")).to_have_count(6)
        assert await shown_health(tab) == [health_cells(case) for case in everywhere]
        assert [case["name"] for case in everywhere][:1] == ["Flips a lot"]
        flips = tab.locator("table.health tbody tr").first
        await expect(flips.locator(".strip a")).to_have_count(20)
        failure = flips.locator("td").nth(6)
        last = everywhere[0]["last_failure"]
        assert last["run_id"] == down["id"] and last["classification"] == "environment"
        assert await failure.locator("a").get_attribute("href") == f"/runs/{down['id']}"
        await expect(failure.locator(".badge.triage")).to_have_text("environment")

        # Against the suite's own base URL only: the outage is left out.
        await tab.get_by_label("Against").select_option(suite["base_url"])
        await tab.get_by_role("button", name="Show").click()
        await expect(tab.locator("h1 + .meta")).to_contain_text(suite["base_url"])
        assert await shown_health(tab) == [health_cells(case) for case in here]
        news_row = tab.locator("table.health tbody tr", has_text="News loads")
        await expect(news_row.locator("td").nth(2)).to_have_text("1")
        await expect(news_row.locator(".strip a")).to_have_attribute("href", f"/runs/{run['id']}")

    someone = await signed_in(visitor, daemon)
    for query, field in [("runs=0", "runs"), ("runs=many", "runs"), ("sort=sideways", "sort")]:
        answer = await someone.get(f"{path}?{query}")
        assert answer.status == 400 and "bad health option in the address" in answer.text, query
        assert field in answer.text
    outsider = await daemon.new_key("read", (await daemon.project("Other"))["id"])
    assert (await (await signed_in(visitor, daemon, outsider)).get(path)).status == 403
