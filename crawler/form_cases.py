"""Form cases: assert that a form's fields render, and fill and submit the simple ones.

``form_steps`` turns one crawled form into steps. Every visible field gets an
``expect_visible``. A *simple* form is then filled with values that fit each
field (type, min/max, minlength/maxlength, pattern) and submitted by clicking its
submit button. A form is simple when it submits by GET or POST to its own origin,
has a visible submit button whose name does not sound destructive (delete,
log out...), has no password, file or captcha field, has at most
``MAX_FORM_FIELDS`` fields, and every required field can be given a value.

Fields are located as a person writing Playwright tests would (label, then
placeholder, then role and accessible name, then test id, CSS last), taking
the first locator that singles the field out among everything the crawl saw
on the page (``PageHandles``).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from crawler.models import FormField, PageForm, PageResult
from crawler.urls import origin_of, same_origin
from runner.steps import (
    ARIA_ROLES,
    Check,
    Click,
    ExpectNoConsoleErrors,
    ExpectUrl,
    ExpectVisible,
    Fill,
    Select,
    Step,
    Target,
)

MAX_FORM_FIELDS = 30
"""Fields asserted per form; a form with more is not filled or submitted."""

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
_REGEX_SPECIAL = re.compile(r"([.^$*+?()\[\]{}|\\])")


@dataclass(frozen=True)
class PageHandles:
    """What locators could match on a page: every field, link and submit button the crawl saw.

    Locators of generated steps must single out one element, so each is checked
    against everything of its kind here before it is used.
    """

    fields: list[FormField]
    link_names: list[str]
    submit_names: Counter[str]
    test_ids: Counter[str]

    @classmethod
    def of(cls, page: PageResult) -> PageHandles:
        """The handles of ``page``."""
        fields = [field for form in page.forms for field in form.fields]
        submits = [form.submit for form in page.forms if form.submit is not None]
        test_ids = [field.test_id for field in fields]
        test_ids += [form.test_id for form in page.forms] + [button.test_id for button in submits]
        return cls(
            fields=fields,
            link_names=[link.name for link in page.links if link.name],
            submit_names=Counter(button.name for button in submits),
            test_ids=Counter(test_id for test_id in test_ids if test_id),
        )

    def field_target(self, field: FormField) -> Target:
        """The first of label, placeholder, role + name, test id that is unique; else CSS."""
        others = [other for other in self.fields if other is not field]
        label = self._unique_label(field, others)
        if label is not None:
            return Target(label=label)
        placeholder = field.placeholder
        if (
            placeholder
            and placeholder == " ".join(placeholder.split())
            and all(other.placeholder != placeholder for other in others)
        ):
            return Target(placeholder=placeholder, exact=True)
        if (
            field.role in ARIA_ROLES
            and field.accessible_name
            and not any(_same_role_name(field, other) for other in others)
        ):
            return Target(role=field.role, name=field.accessible_name, exact=True)
        return self._test_id_or_css(field.test_id, field.css)

    def _unique_label(self, field: FormField, others: list[FormField]) -> str | None:
        """The field's label if ``getByLabel`` finds the field alone by it.

        The crawl reads a label's rendered text; Playwright matches all of its text
        (hidden parts too, such as an aria-hidden "*"). So the target matches a part
        of the label, case-insensitively (getByLabel's default), and no other label
        or link name may contain it. A label that is not the field's accessible
        name lost to an aria-label, which is what Playwright would then match.
        """
        label = field.label
        if not label or label != field.accessible_name:
            return None
        texts = [other.label or other.accessible_name for other in others] + self.link_names
        return None if any(label.casefold() in text.casefold() for text in texts) else label

    def submit_target(self, form: PageForm) -> Target | None:
        """The form's submit button by role and name, test id or CSS; ``None`` without one."""
        button = form.submit
        if button is None:
            return None
        named_field = any(
            field.role == "button" and field.accessible_name == button.name for field in self.fields
        )
        if button.name and self.submit_names[button.name] == 1 and not named_field:
            return Target(role="button", name=button.name, exact=True)
        return self._test_id_or_css(button.test_id, button.css)

    def _test_id_or_css(self, test_id: str | None, css: str) -> Target:
        if test_id and self.test_ids[test_id] == 1:
            return Target(test_id=test_id)
        return Target(css=css)


def _same_role_name(field: FormField, other: FormField) -> bool:
    return (
        other.visible
        and other.role == field.role
        and other.accessible_name == field.accessible_name
    )


def form_steps(
    page: PageResult, form: PageForm, handles: PageHandles, *, quiet: bool
) -> list[Step]:
    """Steps after the ``goto`` of ``page`` that check ``form`` renders and, if it is simple,
    fill and submit it; empty when the form shows no field (there is nothing to check).

    A GET submission ends with ``expect_url`` on the action's path: the browser
    always lands there, whatever the query. A POST's landing page is up to the
    server (often a redirect), so nothing is asserted about it. ``quiet`` (the
    crawl saw no console error where the form is and where it leads) adds
    ``expect_no_console_errors`` after a submission.
    """
    shown = [field for field in form.fields if field.visible and field.role is not None]
    if not shown:
        return []
    targets = {id(field): handles.field_target(field) for field in shown[:MAX_FORM_FIELDS]}
    steps: list[Step] = [
        ExpectVisible(action="expect_visible", target=target) for target in targets.values()
    ]
    submit = handles.submit_target(form)
    if submit is None or len(shown) > MAX_FORM_FIELDS or not _submittable(page, form):
        return steps
    filling = list(_filling(form.fields, targets))
    if None in filling:
        return steps
    steps += [step for step in filling if step is not None]
    steps.append(Click(action="click", target=submit))
    if form.method == "get":
        path = _REGEX_SPECIAL.sub(r"\\\1", urlsplit(form.action).path or "/")
        steps.append(ExpectUrl(action="expect_url", match="regex", value=f"^{path}(\\?|$)"))
    if quiet:
        steps.append(ExpectNoConsoleErrors(action="expect_no_console_errors"))
    return steps


def _submittable(page: PageResult, form: PageForm) -> bool:
    """Whether submitting ``form`` is safe and can work, judging by the form alone."""
    if form.method not in ("get", "post") or not same_origin(form.action, origin_of(page.url)):
        return False
    if form.submit is None or _DESTRUCTIVE.search(form.submit.name):
        return False
    if _CAPTCHA.search(f"{form.id} {form.name} {form.css}"):
        return False
    return not any(
        field.type in _UNFILLABLE_TYPES or _CAPTCHA.search(f"{field.name} {field.id} {field.css}")
        for field in form.fields
    )


def _filling(fields: list[FormField], targets: dict[int, Target]) -> Iterator[Step | None]:
    """The steps giving each field a value; ``None`` for a required field that cannot get one.

    Disabled, read-only and ``type=hidden`` fields are left alone: browsers do
    not validate them. A required field that is not shown cannot be filled, so
    it is ``None`` unless it already has a value.
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
