"""Form cases from hand-written crawl results: what is asserted, the values filled, and which
forms are submitted (POST only when allowed, GET where the crawl's own submission landed)."""

from __future__ import annotations

from typing import Any

import pytest

from crawler.form_cases import MAX_FORM_FIELDS, fill_value
from crawler.generate import MAX_FORMS_PER_PAGE, generate, generate_suite
from crawler.models import FormSubmission, PageForm, PageResult
from crawler.notes import LeftOut
from runner.steps import Case
from tests.generation.conftest import BASE, field, form, labelled, landed, page

_OPTIONS = [
    {"value": "", "label": "Pick one", "selected": True},
    {"value": "b", "label": "Blue", "selected": False},
]


def _form_cases(*forms: PageForm, **attributes: Any) -> list[Case]:
    pages = [page("/f", forms=list(forms), **attributes)]
    return [case for case in generate_suite(pages, BASE) if case.type == "form"]


def _steps(case: Case) -> list[dict[str, Any]]:
    return [step.model_dump(mode="json", exclude_none=True) for step in case.steps]


def _targets(case: Case) -> list[dict[str, Any]]:
    return [step["target"] for step in _steps(case) if step["action"] == "expect_visible"]


def test_fields_without_a_verified_target_are_left_out() -> None:
    [case] = _form_cases(
        form(labelled("Email"), field("#lost", target=None), labelled("Name"), submit=None)
    )

    assert _targets(case) == [{"label": "Email"}, {"label": "Name"}]


def test_a_simple_get_form_is_filled_submitted_and_lands_on_its_action() -> None:
    [case] = _form_cases(
        form(
            labelled("Email", type="email", required=True),
            labelled("Colour", tag="select", type="select-one", role="combobox", options=_OPTIONS),
            labelled("Agree", type="checkbox", role="checkbox"),
            labelled("Yes", type="radio", role="radio", name="answer"),
            labelled("No", type="radio", role="radio", name="answer"),
            labelled("Locked", disabled=True),
            field("#token", type="hidden", role=None, visible=False, value="x"),
            field("#trap", visible=False),
            id="signup",
        )
    )

    assert case.name == "Form: /f signup form"
    assert _steps(case)[7:] == [
        {"action": "fill", "target": {"label": "Email"}, "value": "test@example.com"},
        {"action": "select", "target": {"label": "Colour"}, "value": "b"},
        {"action": "check", "target": {"label": "Agree"}},
        {"action": "check", "target": {"label": "Yes"}},
        {"action": "click", "target": {"role": "button", "name": "Send", "exact": True}},
        {"action": "expect_url", "match": "regex", "value": r"^/results(\?|$)"},
        {"action": "expect_no_console_errors"},
    ]
    assert [step["action"] for step in _steps(case)[:7]] == ["goto"] + ["expect_visible"] * 6


def test_a_post_form_is_only_checked_unless_posting_is_allowed() -> None:
    posting = form(labelled("Name"), method="post", action=BASE + "/f")
    pages = [page("/f", forms=[posting])]

    checked = generate(pages, BASE)
    posted = generate(pages, BASE, submit_post_forms=True)

    assert [step["action"] for step in _steps(checked.cases[-1])] == ["goto", "expect_visible"]
    assert checked.notes.pages[0].left_out == [
        LeftOut(
            what='submit of form "Send"',
            reason="post",
            detail="settings.submit_post_forms is false",
        )
    ]
    # Where a POST lands is up to the server; nothing the crawl saw says it is clean.
    assert [step["action"] for step in _steps(posted.cases[-1])] == [
        "goto", "expect_visible", "fill", "click",
    ]  # fmt: skip


def test_a_get_form_lands_where_the_crawls_own_submission_landed() -> None:
    [case] = _form_cases(form(labelled("Query"), submission=landed("/found/all?q=Test")))

    assert _steps(case)[-3:] == [
        {"action": "click", "target": {"role": "button", "name": "Send", "exact": True}},
        {"action": "expect_url", "match": "regex", "value": r"^/found/all(\?|$)"},
        {"action": "expect_no_console_errors"},
    ]


@pytest.mark.parametrize(
    ("submission", "reason"),
    [
        (None, "not_submitted"),
        (FormSubmission(outcome="download"), "download"),
        (FormSubmission(outcome="left_origin", url="http://elsewhere.test/"), "left_origin"),
        (FormSubmission(outcome="no_navigation"), "no_navigation"),
        (FormSubmission(outcome="failed", error="could not click"), "submit_failed"),
        (landed(status=500), "error_status"),
    ],
    ids=["not submitted", "download", "left origin", "no navigation", "failed", "error page"],
)
def test_a_get_form_is_submitted_only_when_the_crawls_submission_landed_on_the_site(
    submission: FormSubmission | None, reason: str
) -> None:
    pages = [page("/f", forms=[form(labelled("Query"), submission=submission)])]

    suite = generate(pages, BASE)

    assert [step["action"] for step in _steps(suite.cases[-1])] == ["goto", "expect_visible"]
    [left_out] = suite.notes.pages[0].left_out
    assert (left_out.what, left_out.reason) == ('submit of form "Send"', reason)


@pytest.mark.parametrize(
    "unsafe",
    [
        form(labelled("Password", type="password")),
        form(labelled("Photo", type="file", role="button")),
        form(labelled("Name"), field("#c", name="g-recaptcha-response", visible=False)),
        form(labelled("Name"), action="http://elsewhere.test/collect", method="post"),
        form(labelled("Name"), submit="Delete account"),
        form(labelled("Name"), method="dialog"),
        form(labelled("Name"), submit=None),
        form(labelled("Code", required=True, pattern="[0-9]{4}")),
        form(labelled("Name"), field("#h", required=True, visible=False)),
        form(*(labelled(f"F{n}") for n in range(MAX_FORM_FIELDS + 1))),
    ],
    ids=[
        "password", "file", "captcha", "external action", "destructive", "dialog", "no button",
        "required without a value", "required but hidden", "too many fields",
    ],
)  # fmt: skip
def test_forms_that_are_not_simple_are_only_checked_to_render(unsafe: PageForm) -> None:
    [case] = _form_cases(unsafe)

    assert {step["action"] for step in _steps(case)} == {"goto", "expect_visible"}


def test_console_errors_seen_by_the_crawl_are_not_asserted_away() -> None:
    on_the_form = _form_cases(form(labelled("Name")), console_errors=["Error: boom"])
    after_submit = _form_cases(form(labelled("Name"), submission=landed(console_errors=["x"])))

    for [case] in (on_the_form, after_submit):
        assert [step["action"] for step in _steps(case)][-2:] == ["click", "expect_url"]
    notes = generate(
        [page("/f", forms=[form(labelled("N"), submission=landed(console_errors=["x"]))])], BASE
    ).notes
    assert notes.pages[0].left_out == [
        LeftOut(
            what="no console errors after submit", reason="console_errors", detail="the crawl saw 1"
        )
    ]


def test_a_form_without_visible_fields_gets_no_case() -> None:
    assert _form_cases(form(field("#h", type="hidden", role=None), submit="Log out")) == []


def test_forms_repeated_on_pages_are_tested_once_and_forms_are_capped_per_page() -> None:
    search = form(labelled("Query", name="q"), submit="Search")
    many = [form(labelled(f"F{n}", name=f"f{n}"), id=f"f{n}") for n in range(MAX_FORMS_PER_PAGE)]
    many.append(form(labelled("Over the cap", name="over")))
    pages: list[PageResult] = [
        page("/", forms=[search]),
        page("/b", forms=[search]),
        page("/many", forms=many),
        page("/results"),
    ]

    names = [case.name for case in generate_suite(pages, BASE) if case.type == "form"]

    assert names == ["Form: / Search form"] + [
        f"Form: /many f{n} form" for n in range(MAX_FORMS_PER_PAGE)
    ]


def test_forms_alike_on_one_page_get_numbered_names() -> None:
    cases = _form_cases(form(labelled("A", name="a")), form(labelled("B", name="b")))

    assert [case.name for case in cases] == ["Form: /f Send form", "Form: /f Send form (2)"]


@pytest.mark.parametrize(
    ("attributes", "value"),
    [
        ({"type": "email"}, "test@example.com"),
        ({"type": "url"}, "https://example.com/"),
        ({"type": "tel"}, "+1 555 0100"),
        ({"type": "search"}, "test"),
        ({"type": "text"}, "Test"),
        ({"type": "text", "name": "postal_code"}, "12345"),
        ({"type": "text", "label": "Your name"}, "Test User"),
        ({"type": "text", "id": "contact-email"}, "test@example.com"),
        ({"type": "number", "min": "18", "max": "99"}, "18"),
        ({"type": "number", "max": "0.5"}, "0"),
        ({"type": "number"}, "1"),
        ({"type": "number", "min": "5", "max": "1"}, None),
        ({"type": "date"}, "2024-01-15"),
        ({"type": "date", "max": "2020-01-01"}, "2020-01-01"),
        ({"type": "date", "min": "2030-02-03"}, "2030-02-03"),
        ({"type": "time"}, "12:00"),
        ({"type": "datetime-local"}, "2024-01-15T12:00"),
        ({"type": "textarea", "tag": "textarea", "min_length": 30}, "This is a test message. " * 2),
        ({"type": "text", "max_length": 2}, "Te"),
        ({"type": "email", "min_length": 20}, "xxxxtest@example.com"),
        ({"type": "email", "max_length": 5}, None),
        ({"type": "tel", "min_length": 20}, None),
        ({"type": "text", "pattern": "[0-9]{4}"}, None),
        ({"type": "text", "pattern": "[A-Za-z]+"}, "Test"),
        ({"type": "text", "pattern": "(?<n>x)"}, None),
    ],
)
def test_fill_values_fit_the_field(attributes: dict[str, Any], value: str | None) -> None:
    assert fill_value(field("#f", **attributes)) == (value.strip() if value else value)


def test_a_form_submitting_to_its_own_page_lands_on_the_page_its_case_is_on() -> None:
    """The crawl submitted the list's search form on another list: it lands here, not there."""
    here = form(labelled("Query", name="q"), action=BASE + "/f", submission=None)
    there = form(labelled("Query", name="q"), action=BASE + "/g", submission=landed("/g?q=Test"))
    pages = [page("/f", forms=[here]), page("/g", forms=[there])]

    [case] = [case for case in generate_suite(pages, BASE) if case.type == "form"]

    assert case.name == "Form: /f Send form"
    assert _steps(case)[-2] == {"action": "expect_url", "match": "regex", "value": r"^/f(\?|$)"}
