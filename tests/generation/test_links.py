"""Page-load and navigation cases from hand-written crawl results: what is made, what not."""

from __future__ import annotations

from typing import Any

import pytest

from crawler.generate import MAX_LINKS_PER_PAGE, generate_suite, is_stable_text, suite_name
from runner.steps import Case
from tests.generation.conftest import BASE, form, labelled, link, page


def _steps(case: Case) -> list[dict[str, Any]]:
    return [step.model_dump(mode="json", exclude_none=True) for step in case.steps]


def _landings(cases: list[Case]) -> dict[str, str]:
    """Navigation case names and the path each expects to land on."""
    return {case.name: _steps(case)[-1]["value"] for case in cases if case.type == "navigation"}


def test_a_page_load_case_checks_status_title_heading_and_console() -> None:
    heading = {"role": "heading", "name": "About us", "exact": True}
    [case] = generate_suite([page("/about", "About us")], BASE)

    assert (case.name, case.type, case.tags) == ("Page loads: /about", "smoke", ["generated"])
    assert _steps(case) == [
        {"action": "goto", "url": "/about"},
        {"action": "expect_status", "status": 200},
        {"action": "expect_title", "value": "About us"},
        {"action": "expect_visible", "target": heading},
        {"action": "expect_no_console_errors"},
    ]


def test_a_page_load_case_leaves_out_what_it_cannot_assert() -> None:
    quirky = page("/q?x=1", "", heading="Updated 12:30", status=203, console_errors=["Error: x"])

    [case] = generate_suite([quirky], BASE)

    assert _steps(case) == [
        {"action": "goto", "url": "/q?x=1"},
        {"action": "expect_status", "status": 203},
    ]


@pytest.mark.parametrize(
    "text",
    [
        "Updated 12:30", "Report 2024-05-01", "Posted 3/4/2024", "May 5 sale", "5th June",
        "Order 123456", "1,234 users", "Build 3f9a2c1d", "5 minutes ago", "Just now",
        "id 123e4567-e89b-12d3-a456-426614174000", "x" * 300, "",
    ],
)  # fmt: skip
def test_text_that_may_change_or_was_cut_short_is_not_stable(text: str) -> None:
    assert not is_stable_text(text)


@pytest.mark.parametrize("text", ["About us", "Top 10 widgets", "© 2024 Acme", "Marketing 10"])
def test_ordinary_text_is_stable(text: str) -> None:
    assert is_stable_text(text)


def test_pages_that_did_not_load_as_html_on_the_site_get_no_case() -> None:
    pages = [
        page("/"),
        page("/gone", status=404),
        page("/slow", error="the page did not finish loading within 30 s"),
        page("/report", download=True),
        page("/data", content_type="application/json"),
        page("/down", status=None),
        page("/away", url="http://elsewhere.test/away"),
    ]

    assert [case.name for case in generate_suite(pages, BASE)] == ["Page loads: /"]


def test_the_site_is_where_the_start_page_landed() -> None:
    pages = [page("/", url="https://www.site.test/"), page("/a", url="https://www.site.test/a")]

    assert [case.name for case in generate_suite(pages, BASE)] == [
        "Page loads: /",
        "Page loads: /a",
    ]


def test_navigation_clicks_only_links_a_test_can_rely_on() -> None:
    links = [
        link("/a", "Alpha"),
        link("/b", "Twice"),
        link("/c", "Twice"),
        link("/b", "Hidden", visible=False),
        link("/b", "New tab", new_tab=True),
        link("http://elsewhere.test/", "Away", internal=False),
        link("/c", "File", kind="download"),
        link("/", "Home"),
        link("/nowhere", "Not crawled"),
        link("/gone", "Gone"),
        link("/old", "Old"),
        link("/c", "Sale ends 12:00"),
        link("/c", ""),
    ]
    pages = [
        page("/", links=links),
        *(page(path) for path in ("/a", "/b", "/c")),
        page("/gone", status=404),
        page("/new", redirected_from=BASE + "/old"),
    ]

    assert _landings(generate_suite(pages, BASE)) == {
        "Navigate: / → Alpha": "/a",
        "Navigate: / → Old": "/new",
    }


def test_navigation_steps_click_the_link_by_role_and_exact_name() -> None:
    pages = [page("/", links=[link("/a?tab=2", "Alpha")]), page("/a?tab=2")]

    navigation = generate_suite(pages, BASE)[-1]

    assert _steps(navigation) == [
        {"action": "goto", "url": "/"},
        {"action": "click", "target": {"role": "link", "name": "Alpha", "exact": True}},
        {"action": "expect_url", "match": "exact", "value": "/a?tab=2"},
    ]


def test_navigation_is_capped_per_page_and_a_link_is_tested_once() -> None:
    targets = [page(f"/p{number}") for number in range(MAX_LINKS_PER_PAGE + 5)]
    menu = [link(target.url, f"Page {number}") for number, target in enumerate(targets)]
    pages = [page("/", links=menu), page("/other", links=menu), *targets]

    landings = _landings(generate_suite(pages, BASE))

    assert list(landings) == [f"Navigate: / → Page {n}" for n in range(MAX_LINKS_PER_PAGE)] + [
        f"Navigate: /other → Page {n}" for n in range(MAX_LINKS_PER_PAGE, MAX_LINKS_PER_PAGE + 5)
    ]


def test_a_truncated_page_gets_only_its_page_load_case() -> None:
    pages = [page("/", truncated=True, links=[link("/a", "Alpha")], forms=[form(labelled("Q"))])]

    assert [case.name for case in generate_suite([*pages, page("/a")], BASE)] == [
        "Page loads: /",
        "Page loads: /a",
    ]


def test_generation_is_pure_and_deterministic() -> None:
    pages = [page("/", links=[link("/a", "Alpha")], forms=[form(labelled("Q"))]), page("/a")]
    before = [item.model_copy(deep=True) for item in pages]

    first = generate_suite(pages, BASE)

    assert generate_suite(pages, BASE) == first
    assert pages == before
    assert generate_suite(pages, BASE + "/app/") == first


def test_suite_name() -> None:
    assert suite_name("http://site.test/") == "Generated: site.test"
    assert suite_name("https://site.test:8443/app/") == "Generated: site.test:8443/app"
