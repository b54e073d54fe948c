"""Form cases from hand-written crawl results: locators, values, and which forms are submitted."""

from __future__ import annotations

from typing import Any

import pytest

from crawler.form_cases import MAX_FORM_FIELDS, fill_value
from crawler.generate import MAX_FORMS_PER_PAGE, generate_suite
from crawler.models import PageForm, PageResult
from runner.steps import Case
from tests.generation.conftest import BASE, field, form, labelled, page

_OPTIONS = [
    {"value": "", "label": "Pick one", "selected": True},
    {"value": "b", "label": "Blue", "selected": False},
]


def _form_cases(*forms: PageForm, **attributes: Any) -> list[Case]:
    pages = [page("/f", forms=list(forms), **attributes), page("/results")]
    return [case for case in generate_suite(pages, BASE) if case.type == "form"]


def _steps(case: Case) -> list[dict[str, Any]]:
    return [step.model_dump(mode="json", exclude_none=True) for step in case.steps]


def _targets(case: Case) -> list[dict[str, Any]]:
    return [step["target"] for step in _steps(case) if step["action"] == "expect_visible"]


def test_fields_are_found_by_label_placeholder_role_test_id_then_css() -> None:
    [case] = _form_cases(
        form(
            labelled("Email"),
            field("#q", placeholder="Search here", accessible_name="Search here"),
            field("#nick", accessible_name="Nickname"),
            field("#code", test_id="code"),
            field("#plain"),
            labelled("Name"),  # "name" is also in "Username"
            labelled("Username"),
            field("#first", placeholder="Same"),
            field("#second", placeholder="Same"),
            field("#aria", label="Visible", accessible_name="From aria-label"),
            submit=None,
        )
    )

    assert _targets(case) == [
        {"label": "Email"},
        {"placeholder": "Search here", "exact": True},
        {"role": "textbox", "name": "Nickname", "exact": True},
        {"test_id": "code"},
        {"css": "#plain"},
        {"role": "textbox", "name": "Name", "exact": True},
        {"label": "Username"},
        {"css": "#first"},
        {"css": "#second"},
        {"role": "textbox", "name": "From aria-label", "exact": True},
    ]


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


def test_a_post_form_is_submitted_without_guessing_where_it_lands() -> None:
    [case] = _form_cases(form(labelled("Name"), method="post", action=BASE + "/f"))

    assert [step["action"] for step in _steps(case)] == [
        "goto", "expect_visible", "fill", "click", "expect_no_console_errors",
    ]  # fmt: skip


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
    pages = [page("/f", forms=[form(labelled("Name"))]), page("/results", console_errors=["x"])]
    on_the_result = [case for case in generate_suite(pages, BASE) if case.type == "form"]

    for [case] in (on_the_form, on_the_result):
        assert [step["action"] for step in _steps(case)][-2:] == ["click", "expect_url"]


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


def test_forms_alike_on_one_page_get_numbered_names_and_buttons_by_css() -> None:
    cases = _form_cases(form(labelled("A", name="a")), form(labelled("B", name="b")))

    assert [case.name for case in cases] == ["Form: /f Send form", "Form: /f Send form (2)"]
    assert _steps(cases[0])[3] == {"action": "click", "target": {"css": "form button"}}


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
