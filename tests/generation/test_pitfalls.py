"""A suite generated from the Pitfalls site never cries wolf, and still catches breakage.

One crawl of the Pitfalls site through the daemon (logged in, depth 2) serves the
module: what the crawl verified and submitted, the generated cases and their
``generation`` notes, the broken link at the depth limit; then the suite runs
twice through the daemon's executor and passes in full both times, leaving the
site as it was, and fails exactly the cases of ``CAUGHT_BY`` when the site breaks.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import web
from pydantic import TypeAdapter

from crawler.models import PageResult
from crawler.urls import variant_group
from runner.browsers import Browsers
from runner.steps import Step as StepModel
from tests.apiclient import Daemon, make_config, running
from tests.generation.pitfalls import LOGIN, PITFALL_BREAKAGES, STATE, pitfalls_site
from tests.generation.site import BREAKAGES

Step: TypeAdapter[StepModel] = TypeAdapter(StepModel)

CAUGHT_BY = {
    "page gone": {"Page loads: /teams", "Page loads: /teams?_popup=1"},
    "heading changed": {"Page loads: /reports"},
    "link removed": {"Navigate: / → Reports"},
    "js error": {
        "Page loads: /people",
        "Page loads: /people?staff__exact=1",
        "Page loads: /people?active__exact=1",
        "Page loads: /people?o=1",
        "Form: /people people-search form",
    },
}
"""The cases each breakage makes fail."""


@dataclass(frozen=True)
class Crawled:
    """The running site and daemon, and the crawl's outcome."""

    app: web.Application
    base: str
    daemon: Daemon
    project: dict[str, Any]
    crawl: dict[str, Any]
    suite: dict[str, Any]

    @property
    def pages(self) -> list[PageResult]:
        return [PageResult.model_validate(page) for page in self.crawl["results"]["pages"]]

    def case(self, name: str) -> list[dict[str, Any]]:
        [case] = [case for case in self.suite["cases"] if case["name"] == name]
        return [Step.validate_python(step).model_dump(exclude_none=True) for step in case["steps"]]

    def path(self, url: str) -> str:
        return url.removeprefix(self.base)


@pytest.fixture(scope="module")
async def crawled(
    tmp_path_factory: pytest.TempPathFactory, browsers: Browsers
) -> AsyncIterator[Crawled]:
    app = pitfalls_site()
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    base = f"http://{host}:{port}"
    config = make_config(tmp_path_factory.mktemp("pitfalls"))
    async with running(config, browsers) as daemon:
        # Without screenshot checks (tests/visual has them): a menu entry removed would
        # otherwise fail every page's case, and each breakage here names the cases it fails.
        settings = {
            "login": LOGIN.model_dump(mode="json"),
            "depth": 2,
            "max_pages": 50,
            "visual_checks": False,
        }
        project = await daemon.project(base_url=base + "/", settings=settings)
        queued = await daemon.call("POST", "/crawls", json={"project_id": project["id"]})
        crawl = await daemon.finished(f"/crawls/{queued.data['id']}", within_s=300)
        assert crawl["status"] == "completed", crawl
        suite = (await daemon.call("GET", f"/suites/{crawl['suite_id']}")).data
        yield Crawled(app, base, daemon, project, crawl, suite)
    await runner.cleanup()


async def _run(crawled: Crawled) -> dict[str, str]:
    answer = await crawled.daemon.call("POST", "/runs", json={"suite_id": crawled.suite["id"]})
    run = await crawled.daemon.finished(f"/runs/{answer.data['id']}", within_s=300)
    return {result["name"]: result["status"] for result in run["results"]}


def test_locators_are_the_ones_playwright_finds_alone(crawled: Crawled) -> None:
    search = crawled.case("Form: /search Go form")
    reports = crawled.case("Page loads: /reports")
    nav = crawled.case("Navigate: / → Reports")

    # <label><img alt="Search"></label>: getByLabel finds nothing, the role's name works.
    assert search[1] == {
        "action": "expect_visible",
        "target": {"role": "textbox", "name": "Search", "exact": True},
    }
    # An <h2> of the same name: the level singles the <h1> out.
    assert reports[3] == {
        "action": "expect_visible",
        "target": {"role": "heading", "name": "Reports", "exact": True, "level": 1},
    }
    # A zero-size copy in a collapsed menu: the name matches two, a selector one.
    assert nav[1]["action"] == "click" and set(nav[1]["target"]) == {"css"}
    navigation = [case for case in crawled.suite["cases"] if case["type"] == "navigation"]
    clicks = [case["steps"][1]["target"] for case in navigation]
    assert sum(target["css"] is not None for target in clicks) == 1
    # A link the page's script opens in a popup does not navigate: no case clicks it.
    assert not [case for case in navigation if case["name"].endswith("Add another team")]
    assert any(case["name"].startswith("Navigate: /people →") for case in navigation)


def test_forms_are_submitted_only_where_that_is_safe_and_lands(crawled: Crawled) -> None:
    names = {case["name"] for case in crawled.suite["cases"] if case["type"] == "form"}
    people = crawled.case("Form: /people people-search form")
    search = crawled.case("Form: /search Go form")
    left_out = {
        (page["url"], note["what"]): note["reason"]
        for page in crawled.suite["generation"]["pages"]
        for note in page["left_out"]
    }

    # One case for the list's search form, though every sort order carries it.
    assert names == {
        "Form: /search Go form",
        "Form: /export Export CSV form",
        "Form: /people people-search form",
        "Form: /items/new Create item form",
    }
    assert [step["action"] for step in crawled.case("Form: /export Export CSV form")] == [
        "goto", "expect_visible",
    ]  # fmt: skip
    assert [step["action"] for step in crawled.case("Form: /items/new Create item form")] == [
        "goto", "expect_visible",
    ]  # fmt: skip
    assert [step["action"] for step in people][-3:] == [
        "click", "expect_url", "expect_no_console_errors",
    ]  # fmt: skip
    # The crawl's own submission saw the results page's sub-request fail: not asserted.
    assert [step["action"] for step in search][-2:] == ["click", "expect_url"]
    assert left_out[("/search", "no console errors after submit")] == "console_errors"
    assert left_out[("/export", 'submit of form "Export CSV"')] == "download"
    assert left_out[("/items/new", 'submit of form "Create item"')] == "post"
    assert left_out[("/account", 'navigation to link "Log out"')] == "destructive"


def test_variants_are_capped_and_tested_once_per_template(crawled: Crawled) -> None:
    pages = crawled.pages
    groups = Counter(variant_group(page.url) for page in pages)
    paths = [crawled.path(page.url) for page in pages]
    first_variant = next(i for i, page in enumerate(pages) if "?" in page.url)
    smoke = [case["name"] for case in crawled.suite["cases"] if case["type"] == "smoke"]
    variants = [
        page["url"]
        for page in crawled.suite["generation"]["pages"]
        if [note["reason"] for note in page["left_out"]] == ["variant"]
    ]

    assert max(groups.values()) == 5  # settings.max_query_variants
    assert groups[("/people", frozenset({"o"}))] == 5
    # Every new path first, whatever its depth: the people pages come before the sort orders.
    assert {"/people/ada", "/people/bob", "/people/cy", "/teams"} <= set(paths[:first_variant])
    assert [name for name in smoke if "?" in name] == [
        "Page loads: /people?staff__exact=1",
        "Page loads: /people?active__exact=1",
        "Page loads: /people?o=1",
        "Page loads: /teams?_popup=1",
    ]
    assert variants == [
        "/people?staff__exact=0", "/people?active__exact=0", "/people?o=2", "/people?o=3",
        "/people?o=4", "/people?o=5",
    ]  # fmt: skip


def test_every_link_is_checked_pages_at_the_depth_limit_included(crawled: Crawled) -> None:
    broken = [
        (crawled.path(link["url"]), crawled.path(link["found_on"]), link["status"])
        for link in crawled.crawl["results"]["broken_links"]
    ]

    assert broken == [("/people/ada/old", "/people/ada", 404)]
    assert crawled.crawl["broken_links_count"] == 1
    assert crawled.crawl["links_checked"] > 0
    assert crawled.crawl["pages_crawled"] == len(crawled.pages)


def test_generation_notes_say_why_each_case_was_made(crawled: Crawled) -> None:
    notes = crawled.suite["generation"]
    cases = crawled.suite["cases"]

    assert [(note["case_id"], note["name"]) for note in notes["cases"]] == [
        (case["id"], case["name"]) for case in cases
    ]
    why = {note["name"]: note["why"] for note in notes["cases"]}
    assert why["Page loads: /reports"] == "/reports answered 200 with an HTML page"
    assert why["Navigate: / → Reports"] == 'link "Reports" on / leads to /reports'
    assert why["Form: /people people-search form"] == (
        'form "people-search" on /people: its fields render; '
        "the crawl's submission of it landed on /people"
    )


async def test_the_suite_passes_twice_and_leaves_the_site_as_it_was(crawled: Crawled) -> None:
    state = crawled.app[STATE]
    sessions_before = len(state.sessions)

    first, second = await _run(crawled), await _run(crawled)

    everything = dict.fromkeys((case["name"] for case in crawled.suite["cases"]), "passed")
    assert first == everything
    assert second == everything
    assert state.items == set() and state.ended_sessions == 0
    assert len(state.sessions) == sessions_before + 2  # one login per run, none ended


async def test_the_suite_still_catches_every_breakage(crawled: Crawled) -> None:
    crawled.app[BREAKAGES].update(PITFALL_BREAKAGES)
    try:
        outcomes = await _run(crawled)
    finally:
        crawled.app[BREAKAGES].clear()

    failing = set().union(*CAUGHT_BY.values())
    assert set(CAUGHT_BY) == set(PITFALL_BREAKAGES)
    assert {name for name, status in outcomes.items() if status == "failed"} == failing


async def test_new_settings_are_validated_and_shown(crawled: Crawled) -> None:
    daemon = crawled.daemon
    project = crawled.project

    bad = await daemon.call(
        "PUT", f"/projects/{project['id']}", json={"settings": {"max_query_variants": 0}}
    )

    assert bad.status == 400
    assert bad.error["code"] == "VALIDATION_ERROR"
    assert [detail["field"] for detail in bad.error["details"]] == ["settings.max_query_variants"]
    shown = (await daemon.call("GET", f"/projects/{project['id']}")).data["settings"]
    assert (shown["submit_post_forms"], shown["max_query_variants"]) == (False, 5)
    assert shown["check_external_links"] is False
