"""Generation from a real crawl of Acme: what is generated, what is skipped, determinism."""

from __future__ import annotations

from typing import Any

import pytest

from crawler.generate import Generation, generate, generate_suite
from crawler.models import PageResult
from runner.browsers import Browsers
from runner.steps import Case
from tests.generation.conftest import Acme, crawl_pages

LOADED = [
    "/", "/about", "/blog", "/contact", "/search", "/news", "/blog/first", "/blog/second",
    "/manual", "/status", "/widget", "/login",
]  # fmt: skip
NAVIGATION = {
    "Navigate: / → About": "/about",
    "Navigate: / → Blog": "/blog",
    "Navigate: / → Contact": "/contact",
    "Navigate: / → Search": "/search",
    "Navigate: / → Latest news": "/news",
    "Navigate: / → Status": "/status",
    "Navigate: / → Widget": "/widget",
    "Navigate: / → Sign in": "/login",
    "Navigate: /about → Home": "/",
    "Navigate: /blog → First post": "/blog/first",
    "Navigate: /blog → Second post": "/blog/second",
}
"""Every navigation case and where it lands. Not there: "Read more" (two links),
"Manual" (new tab), "Acme elsewhere" (external), "Price list" (download), "Mail
us" (mailto), "Data" (JSON), "Old page" (404) and links to the page they are on."""


def _steps(case: Case) -> list[dict[str, Any]]:
    return [step.model_dump(mode="json", exclude_none=True) for step in case.steps]


def _by_name(suite: list[Case]) -> dict[str, Case]:
    return {case.name: case for case in suite}


def test_a_page_load_case_per_loaded_html_page(acme_suite: list[Case]) -> None:
    smoke = [case for case in acme_suite if case.type == "smoke"]
    heading = {"role": "heading", "name": "About us", "exact": True}

    assert [case.name for case in smoke] == [f"Page loads: {path}" for path in LOADED]
    assert _steps(smoke[1]) == [
        {"action": "goto", "url": "/about"},
        {"action": "expect_status", "status": 200},
        {"action": "expect_title", "value": "About Acme"},
        {"action": "expect_visible", "target": heading},
        {"action": "expect_no_console_errors"},
    ]


def test_unstable_title_heading_and_console_errors_are_not_asserted(
    acme_suite: list[Case],
) -> None:
    cases = _by_name(acme_suite)

    status = [step.action for step in cases["Page loads: /status"].steps]
    widget = [step.action for step in cases["Page loads: /widget"].steps]

    assert status == ["goto", "expect_status", "expect_no_console_errors"]
    assert widget == ["goto", "expect_status", "expect_title", "expect_visible"]


def test_navigation_cases_click_unique_internal_links(acme_suite: list[Case]) -> None:
    navigation = [case for case in acme_suite if case.type == "navigation"]

    assert {case.name: _steps(case)[-1]["value"] for case in navigation} == NAVIGATION
    assert _steps(_by_name(navigation)["Navigate: / → Latest news"]) == [
        {"action": "goto", "url": "/"},
        {"action": "click", "target": {"role": "link", "name": "Latest news", "exact": True}},
        {"action": "expect_url", "match": "exact", "value": "/news"},
    ]


def test_the_contact_form_is_checked_and_posted_only_when_allowed(
    acme: Acme, acme_pages: list[PageResult], acme_suite: list[Case]
) -> None:
    checked = _by_name(acme_suite)["Form: /contact contact form"]
    posted = _by_name(generate_suite(acme_pages, acme.base_url, submit_post_forms=True))
    spin = {"role": "spinbutton", "name": "Age", "exact": True}  # "age" is in "Message"
    message = "This is a test message. This is a test message."
    checks = [
        {"action": "goto", "url": "/contact"},
        {"action": "expect_visible", "target": {"label": "Name"}},
        {"action": "expect_visible", "target": {"label": "Email"}},
        {"action": "expect_visible", "target": spin},
        {"action": "expect_visible", "target": {"label": "Topic"}},
        {"action": "expect_visible", "target": {"label": "Send me the newsletter"}},
        {"action": "expect_visible", "target": {"label": "Message"}},
    ]

    assert _steps(checked) == checks
    assert _steps(posted["Form: /contact contact form"]) == [
        *checks,
        {"action": "fill", "target": {"label": "Name"}, "value": "Test User"},
        {"action": "fill", "target": {"label": "Email"}, "value": "test@example.com"},
        {"action": "fill", "target": spin, "value": "18"},
        {"action": "select", "target": {"label": "Topic"}, "value": "sales"},
        {"action": "check", "target": {"label": "Send me the newsletter"}},
        {"action": "fill", "target": {"label": "Message"}, "value": message},
        {"action": "click", "target": {"role": "button", "name": "Send message", "exact": True}},
    ]


def test_the_search_form_is_submitted_and_the_sign_in_form_only_checked(
    acme_suite: list[Case],
) -> None:
    cases = _by_name(acme_suite)
    box = {"placeholder": "Search the site", "exact": True}

    assert _steps(cases["Form: /search Search form"]) == [
        {"action": "goto", "url": "/search"},
        {"action": "expect_visible", "target": box},
        {"action": "fill", "target": box, "value": "test"},
        {"action": "click", "target": {"role": "button", "name": "Search", "exact": True}},
        {"action": "expect_url", "match": "regex", "value": r"^/search(\?|$)"},
        {"action": "expect_no_console_errors"},
    ]
    assert _steps(cases["Form: /login Sign in form"]) == [
        {"action": "goto", "url": "/login"},
        {"action": "expect_visible", "target": {"label": "Username"}},
        {"action": "expect_visible", "target": {"label": "Password"}},
    ]
    assert [case.type for case in cases.values()].count("form") == 3


def test_generation_is_deterministic(acme: Acme, acme_pages: list[PageResult]) -> None:
    stored = [PageResult.model_validate(page.model_dump(mode="json")) for page in acme_pages]

    assert generate_suite(acme_pages, acme.base_url) == generate_suite(stored, acme.base_url)


@pytest.mark.parametrize("batch", [1, 5])
def test_generation_a_batch_at_a_time_gives_the_same_suite(
    acme: Acme, acme_pages: list[PageResult], batch: int
) -> None:
    whole = generate(acme_pages, acme.base_url, submit_post_forms=True, visual_checks=True)
    generation = Generation(acme.base_url, submit_post_forms=True, visual_checks=True)
    batches = [acme_pages[start : start + batch] for start in range(0, len(acme_pages), batch)]
    for step in (generation.index, generation.add):
        for pages in batches:
            # Each batch decoded anew, as from storage: no page object is seen twice.
            step(PageResult.model_validate_json(page.model_dump_json()) for page in pages)

    assert generation.suite() == whole
    assert len(whole.cases) > 20 and whole.notes.pages


def test_generation_needs_both_passes_over_the_same_pages(
    acme: Acme, acme_pages: list[PageResult]
) -> None:
    generation = Generation(acme.base_url)
    generation.index(acme_pages)
    generation.add(acme_pages[:-1])
    with pytest.raises(ValueError, match="indexed but"):
        generation.suite()


async def test_crawling_the_same_site_again_gives_the_same_suite(
    acme: Acme, acme_suite: list[Case], browsers: Browsers
) -> None:
    again = generate_suite(await crawl_pages(browsers, acme.base_url), acme.base_url)

    assert again == acme_suite
