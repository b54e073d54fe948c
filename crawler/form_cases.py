"""Form cases: what a form's case asserts, fills and submits.

``plan_form`` turns one crawled form into the steps after the page's ``goto``: an
``expect_visible`` for every shown field that has a verified target (see
``crawler.locators``), and, for a *simple* form, the steps that fill it with values
that fit each field (type, min/max, minlength/maxlength, pattern) and click its
submit button. A form is simple when it submits by GET or POST to its own origin,
has a located submit button whose name does not sound destructive (delete, log
out...), an action that does not look like logging out or deleting, no password,
file or captcha field, at most ``MAX_FORM_FIELDS`` shown fields, and every required
field can be given a value.

The crawl submits each distinct simple GET form once with exactly these steps
(``crawler.submits``); generation decides from what happened whether the case
submits it too. ``form_key`` says when two forms are the same form.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass

from crawler.locators import asserted_fields
from crawler.models import FormField, PageForm
from crawler.notes import LeftOut
from crawler.urls import looks_destructive, origin_of, same_origin
from runner.steps import Check, Click, ExpectVisible, Fill, Select, Step, Target

MAX_FORM_FIELDS = 30
"""Fields asserted per form; a form with more is not filled or submitted."""

FormKey = tuple[object, ...]

_UNFILLABLE_TYPES = frozenset({"password", "file"})
_LEFT_AS_IS = frozenset({"hidden", "range", "color", "submit", "reset", "button", "image"})
_FREE_TEXT = frozenset({"text", "search", "textarea"})
_TEMPORAL = {
    "date": "2024-01-15",
    "month": "2024-01",
    "week": "2024-W03",
    "time": "12:00",
    "datetime-local": "2024-01-15T12:00",
}
_SAMPLES = {
    "email": "test@example.com",
    "url": "https://example.com/",
    "tel": "+1 555 0100",
    "search": "test",
    "textarea": "This is a test message.",
    "text": "Test",
}
# What a text field's name, id or label says it wants, most specific first.
_TEXT_HINTS = (
    ("mail", "test@example.com"),
    ("phone", "+1 555 0100"),
    ("url", "https://example.com/"),
    ("website", "https://example.com/"),
    ("zip", "12345"),
    ("postal", "12345"),
    ("postcode", "12345"),
    ("name", "Test User"),
)
_CAPTCHA = re.compile(r"captcha", re.IGNORECASE)
_DESTRUCTIVE = re.compile(
    r"\b(delete|remove|destroy|cancel|reset|unsubscribe|log ?out|sign ?out)\b", re.IGNORECASE
)


@dataclass(frozen=True)
class FormPlan:
    """What a form's case can do: check its fields, and maybe fill and submit it."""

    checks: list[Step]
    """``expect_visible`` of each shown field that has a verified target."""

    submit: list[Step] | None
    """The fills and the click that submit it; ``None`` when it is not simple."""

    not_simple: LeftOut | None
    """Why ``submit`` is ``None``."""


def form_key(page_url: str, form: PageForm) -> FormKey:
    """What makes two forms the same: method, action, shown fields and submit button.

    Hidden inputs do not count (a list's search form carries the current sort order),
    and a form without an action, which submits to the page it is on, is the same
    form on every page.
    """
    action = None if form.action == page_url else form.action
    fields = tuple(
        (field.tag, field.type, field.name) for field in form.fields if field.type != "hidden"
    )
    return (form.method, action, fields, form.submit.name if form.submit else None)


def form_label(form: PageForm) -> str:
    """The form's id or name, else its button's name (empty without any)."""
    return form.id or form.name or (form.submit.name if form.submit else "")


def plan_form(page_url: str, form: PageForm) -> FormPlan:
    """The steps of ``form``'s case on the page at ``page_url`` (see the module doc)."""
    shown = asserted_fields(form.fields)
    targets = {id(field): field.target for field in shown if field.target is not None}
    checks: list[Step] = [
        ExpectVisible(action="expect_visible", target=target) for target in targets.values()
    ]
    problem = _not_simple(page_url, form)
    if problem is None and sum(f.visible and f.role is not None for f in form.fields) > len(shown):
        problem = f"it has more than {MAX_FORM_FIELDS} fields"
    submit = form.submit.target if form.submit else None
    if problem is None and submit is None:
        problem = "its submit button has no verified locator"
    filling = [] if problem is not None else list(_filling(form.fields, targets))
    if problem is None and None in filling:
        problem = "a required field cannot be given a value"
    if problem is not None or submit is None:
        what = f"submit of {_described(form)}"
        left_out = LeftOut(what=what, reason="not_simple", detail=problem)
        return FormPlan(checks=checks, submit=None, not_simple=left_out)
    steps = [step for step in filling if step is not None]
    steps.append(Click(action="click", target=submit))
    return FormPlan(checks=checks, submit=steps, not_simple=None)


def _described(form: PageForm) -> str:
    label = form_label(form)
    return f'form "{label}"' if label else "the form"


def _not_simple(page_url: str, form: PageForm) -> str | None:
    """Why submitting ``form`` is unsafe or cannot work, judging by the form alone."""
    if form.method not in ("get", "post"):
        return f"it submits by {form.method}"
    if not same_origin(form.action, origin_of(page_url)):
        return "it submits to another origin"
    if form.submit is None:
        return "it has no submit button"
    if _DESTRUCTIVE.search(form.submit.name) or looks_destructive(form.action):
        return "it looks like logging out or deleting"
    if _CAPTCHA.search(f"{form.id} {form.name} {form.css}"):
        return "it has a captcha"
    for field in form.fields:
        if field.type in _UNFILLABLE_TYPES:
            return f"it has a {field.type} field"
        if _CAPTCHA.search(f"{field.name} {field.id} {field.css}"):
            return "it has a captcha"
    return None


def _filling(fields: list[FormField], targets: dict[int, Target]) -> Iterator[Step | None]:
    """The steps giving each field a value; ``None`` for a required field that cannot get one.

    Disabled, read-only and ``type=hidden`` fields are left alone: browsers do
    not validate them. A required field without a target (not shown, or not
    located) cannot be filled, so it is ``None`` unless it already has a value.
    """
    radio_groups: set[str] = set()
    for field in fields:
        target = targets.get(id(field))
        if field.disabled or field.readonly or field.type in _LEFT_AS_IS:
            continue
        if target is None:
            if field.required and (not field.value or field.type in ("checkbox", "radio")):
                yield None
            continue
        if field.type == "checkbox":
            yield Check(action="check", target=target)
        elif field.type == "radio":
            group = field.name or field.css
            if group not in radio_groups:
                radio_groups.add(group)
                yield Check(action="check", target=target)
        elif field.tag == "select":
            option = next((option.value for option in field.options if option.value), None)
            if option is not None:
                yield Select(action="select", target=target, value=option)
            elif field.required:
                yield None
        else:
            value = fill_value(field)
            if value is not None:
                yield Fill(action="fill", target=target, value=value)
            elif field.required:
                yield None


def fill_value(field: FormField) -> str | None:
    """A value the browser accepts for a text-like ``field``; ``None`` if none can be made."""
    if field.type in _TEMPORAL:
        earliest = field.min or _TEMPORAL[field.type]
        # ISO dates and times of one type sort as text in time order.
        return field.max if field.max and earliest > field.max else earliest
    if field.type == "number":
        return _number(field.min, field.max)
    value = _SAMPLES.get(field.type)
    if value is None or field.type == "text":
        words = f"{field.name} {field.id} {field.label}".lower()
        value = next((hint for key, hint in _TEXT_HINTS if key in words), _SAMPLES["text"])
    if field.min_length is not None and len(value) < field.min_length:
        if field.type in _FREE_TEXT:
            value = " ".join([value] * (field.min_length // len(value) + 1))
        elif field.type == "email":
            value = "x" * (field.min_length - len(value)) + value
        else:
            return None
    if field.max_length is not None and len(value) > field.max_length:
        if field.type not in _FREE_TEXT:
            return None
        value = value[: field.max_length]
    if field.pattern and not _full_match(field.pattern, value):
        return None
    return value


def _number(low_text: str | None, high_text: str | None) -> str | None:
    """``min`` when there is one, else 1 or the largest whole number within ``max``."""
    low, high = _as_number(low_text), _as_number(high_text)
    if low is not None:
        return low_text if high is None or low <= high else None
    if high is None or high >= 1:
        return "1"
    return str(math.floor(high))


def _as_number(text: str | None) -> float | None:
    try:
        number = float(text) if text else None
    except ValueError:
        return None
    return number if number is None or math.isfinite(number) else None


def _full_match(pattern: str, value: str) -> bool:
    """Whether ``value`` matches an HTML ``pattern`` (anchored at both ends, as browsers do)."""
    try:
        return re.fullmatch(pattern, value) is not None
    except re.error:  # not Python syntax (JavaScript-only): whether it matches is unknown
        return False
