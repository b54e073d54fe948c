"""The step language's models: what they accept, what they refuse and how they say why."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from runner.steps import Case, ExpectUrl, Target, describe
from tests.runner.sites import SHOP_CASES


def _error(data: dict[str, Any]) -> tuple[str, str]:
    """The location and message of the single error validating ``data`` as a case raises."""
    with pytest.raises(ValidationError) as caught:
        Case.model_validate(data)
    [error] = caught.value.errors()
    return ".".join(str(part) for part in error["loc"]), error["msg"]


def _one_step(step: dict[str, Any]) -> dict[str, Any]:
    return {"name": "case", "steps": [{"action": "goto", "url": "/"}, step]}


@pytest.mark.parametrize(
    ("step", "location", "message"),
    [
        (
            {"action": "click", "target": {"role": "buton", "name": "Go"}},
            "steps.1.click.target.role",
            "'buton' is not an ARIA role",
        ),
        (
            {"action": "click", "target": {"text": "Go", "css": "button"}},
            "steps.1.click.target",
            "a target needs exactly one of role, text, label, placeholder, test_id, css "
            "(found: text, css)",
        ),
        (
            {"action": "click", "target": {}},
            "steps.1.click.target",
            "(found: none)",
        ),
        (
            {"action": "click", "target": {"text": "Go", "name": "x"}},
            "steps.1.click.target",
            "name is only for role targets",
        ),
        (
            {"action": "click", "target": {"css": "a", "exact": True}},
            "steps.1.click.target",
            "exact applies to a role's name, text, label or placeholder",
        ),
        (
            {"action": "click", "target": {"role": "link", "name": "x", "level": 1}},
            "steps.1.click.target",
            "level is only for heading role targets",
        ),
        (
            {"action": "expect_visible", "target": {"role": "heading", "level": 7}},
            "steps.1.expect_visible.target.level",
            "less than or equal to 6",
        ),
        (
            {"action": "click", "target": {"text": ""}},
            "steps.1.click.target.text",
            "at least 1 character",
        ),
        (
            {"action": "fill", "target": {"label": "Email"}},
            "steps.1.fill.value",
            "Field required",
        ),
        (
            {"action": "press", "target": {"label": "Email"}, "key": "Control + A"},
            "steps.1.press.key",
            "String should match pattern",
        ),
        (
            {"action": "expect_status", "status": 99},
            "steps.1.expect_status.status",
            "greater than or equal to 100",
        ),
        (
            {"action": "expect_url", "value": "about"},
            "steps.1.expect_url.value",
            "an exact URL value is a path starting with '/'",
        ),
        (
            {"action": "expect_url", "value": "/a", "match": "glob"},
            "steps.1.expect_url.match",
            "Input should be 'exact' or 'regex'",
        ),
        (
            {"action": "goto", "url": "javascript:alert(1)"},
            "steps.1.goto.url",
            "url must be relative to the base URL, or an http(s) URL",
        ),
        (
            {"action": "expect_title", "value": "Home", "target": {"css": "title"}},
            "steps.1.expect_title.target",
            "Extra inputs are not permitted",
        ),
        (
            {"action": "hover", "target": {"css": "a"}},
            "steps.1",
            "Input tag 'hover' found using 'action' does not match any of the expected tags",
        ),
    ],
)
def test_invalid_steps_are_refused_with_their_location(
    step: dict[str, Any], location: str, message: str
) -> None:
    found_location, found_message = _error(_one_step(step))

    assert found_location == location
    assert message in found_message


@pytest.mark.parametrize(
    ("pattern", "problem"),
    [
        (
            "(?P<id>\\d+)",
            "only (?:, (?=, (?!, (?<= and (?<! groups work in both Python and JavaScript",
        ),
        (
            "(?i)about",
            "only (?:, (?=, (?!, (?<= and (?<! groups work in both Python and JavaScript",
        ),
        ("\\A/about", "\\A is not read the same way by Python and JavaScript"),
        ("/a++", "possessive quantifiers (*+, ++, ?+) do not exist in JavaScript"),
        ("[]a]", "a class starting with ']' is not portable: write \\] instead"),
        ("/a{,3}", "{,n} is not a quantifier in JavaScript: write {0,n}"),
        ("/(a", "not a valid regular expression: missing ), unterminated subpattern at position 1"),
    ],
)
def test_url_regexes_must_read_the_same_in_python_and_javascript(
    pattern: str, problem: str
) -> None:
    step = {"action": "expect_url", "value": pattern, "match": "regex"}

    assert _error(_one_step(step)) == ("steps.1.expect_url.value", f"Value error, {problem}")


def test_portable_regex_features_are_accepted() -> None:
    pattern = r"^/(?:blog|news)/(\d{1,4})(?=/|$)(?!x)(?<=\d)(?<!-)[\w./-]+\?q=\x41\u00e9"
    step = {"action": "expect_url", "value": pattern, "match": "regex"}

    assert Case.model_validate(_one_step(step)).steps[1] == ExpectUrl.model_validate(step)


@pytest.mark.parametrize(
    ("case", "location", "message"),
    [
        ({"name": " ", "steps": [{"action": "goto", "url": "/"}]}, "name", "must not be blank"),
        ({"name": "x", "steps": []}, "steps", "at least 1 item"),
        (
            {"name": "x", "steps": [{"action": "expect_status", "status": 200}]},
            "",
            "steps.0: expect_status needs an earlier goto",
        ),
        (
            {"name": "x", "type": "unit", "steps": [{"action": "goto", "url": "/"}]},
            "type",
            "Input should be 'smoke', 'navigation', 'form', 'content' or 'custom'",
        ),
        (
            {"name": "x", "id": "case/../1", "steps": [{"action": "goto", "url": "/"}]},
            "id",
            "String should match pattern",
        ),
        ({"name": "x", "steps": [{"action": "goto", "url": "/"}], "owner": "me"}, "owner", "Extra"),
    ],
)
def test_invalid_cases_are_refused(case: dict[str, Any], location: str, message: str) -> None:
    found_location, found_message = _error(case)

    assert found_location == location
    assert message in found_message


def test_cases_survive_a_round_trip_through_json() -> None:
    for case in SHOP_CASES:
        stored = case.model_dump(mode="json", exclude_none=True)
        assert Case.model_validate(stored) == case


@pytest.mark.parametrize(
    ("target", "kind", "described"),
    [
        ({"role": "link", "name": "About"}, "role", 'link "About"'),
        ({"role": "main"}, "role", "main"),
        ({"role": "heading", "name": "News", "level": 2}, "role", 'heading (level 2) "News"'),
        ({"text": 'Say "hi"'}, "text", 'text "Say \\"hi\\""'),
        ({"label": "Email"}, "label", 'label "Email"'),
        ({"placeholder": "Search"}, "placeholder", 'placeholder "Search"'),
        ({"test_id": "hero"}, "test_id", 'test id "hero"'),
        ({"css": "#main > h1"}, "css", 'css "#main > h1"'),
    ],
)
def test_each_target_kind_is_recognised_and_described(
    target: dict[str, Any], kind: str, described: str
) -> None:
    parsed = Target.model_validate(target)

    assert (parsed.kind, parsed.describe()) == (kind, described)


def test_steps_read_as_plain_words() -> None:
    form = next(case for case in SHOP_CASES if case.name == "Contact form submits")

    assert [describe(step) for step in form.steps][:4] == [
        "go to /contact",
        'fill label "Email" with "o\'brien@example.com"',
        'select "Support" in label "Topic"',
        'check label "Subscribe"',
    ]


@pytest.mark.parametrize(
    ("step", "url", "matches"),
    [
        ({"value": "/about"}, "http://h/about", True),
        ({"value": "/about"}, "http://h/about#team", True),
        ({"value": "/about"}, "http://h/about?x=1", False),
        ({"value": "/about?x=1"}, "http://h/about?x=1", True),
        ({"value": "/"}, "http://h", True),
        ({"value": "/about"}, "http://h/about/", False),
        ({"value": "^/blog/\\d+$", "match": "regex"}, "http://h/blog/12", True),
        ({"value": "^/blog/\\d+$", "match": "regex"}, "http://h/blog/12?page=2", False),
        ({"value": "page=2", "match": "regex"}, "http://h/blog?page=2", True),
        ({"value": "team", "match": "regex"}, "http://h/about#team", False),
    ],
)
def test_expect_url_compares_path_and_query(step: dict[str, Any], url: str, matches: bool) -> None:
    assert ExpectUrl.model_validate({"action": "expect_url", **step}).matches(url) is matches
