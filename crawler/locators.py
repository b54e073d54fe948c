"""Crawl-time locator verification (DESIGN §7): what a generated step acts on is found
in the live page by the very Playwright call the executor and the exports make.

Each element a generated step may use (the main heading, links a navigation case may
click, form fields, submit buttons) has candidate targets, most natural first:

- form fields: label, placeholder (exact), role and accessible name (exact), test id, CSS;
- submit buttons and links: role and name (exact), test id, CSS;
- the main heading: role and name (exact), then with its ``level`` as well.

A candidate is kept when ``runner.playback.locate(page, candidate)`` matches exactly
one element, that element is the one the crawl analysed, and it is visible (as
Playwright's ``is_visible`` judges). The first kept candidate becomes the element's
``target``; an element none passes gets no target (generation leaves out what it
would have asserted) and an ``Unlocated`` entry on its page saying why.

Few round trips: all first candidates of a page in one ``evaluate_all``
(``crawler.matches``), then the next candidates of the elements still unresolved.
Only what generation can use is verified: the first ``VERIFIED_LINKS`` links it could
click and the fields of the first ``VERIFIED_FORMS`` forms (up to ``VERIFIED_FIELDS``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from playwright.async_api import Page

from crawler.analysis import LIMITS, PageAnalysis
from crawler.matches import Matches, matches_of
from crawler.models import FormButton, FormField, LocatorProblem, PageLink, Unlocated
from crawler.stable import is_stable_text
from runner.steps import ARIA_ROLES, Target, quoted

VERIFIED_LINKS = LIMITS["link_selectors"]
"""Links verified per page: the first that a navigation case could click."""

VERIFIED_FORMS = 10
"""Forms per page whose fields and submit button are verified."""

VERIFIED_FIELDS = 30
"""Fields per form verified (the shown ones, in document order)."""

HEADING_LEVEL = 1
"""The level of the main heading, which is an ``<h1>``."""


@dataclass
class _Subject:
    """One element to find: its number in the page, its candidates, where the winner goes."""

    ref: int
    element: str
    candidates: list[Target]
    assign: Callable[[Target], None]
    problem: LocatorProblem | None = None


def field_candidates(field: FormField) -> list[Target]:
    """Label, placeholder, role and name, test id, CSS: the ways a person would find it."""
    candidates = []
    if field.label:
        candidates.append(Target(label=field.label))
    placeholder = field.placeholder
    if placeholder and placeholder == " ".join(placeholder.split()):
        candidates.append(Target(placeholder=placeholder, exact=True))
    if field.role in ARIA_ROLES and field.accessible_name:
        candidates.append(Target(role=field.role, name=field.accessible_name, exact=True))
    return candidates + _test_id_and_css(field.test_id, field.css)


def button_candidates(button: FormButton) -> list[Target]:
    """Role and name, test id, CSS."""
    named = [Target(role="button", name=button.name, exact=True)] if button.name else []
    return named + _test_id_and_css(button.test_id, button.css)


def link_candidates(link: PageLink) -> list[Target]:
    """Role and name, test id, CSS (the analysis gives the last two to clickable links)."""
    by_role = Target(role="link", name=link.name, exact=True)
    return [by_role, *_test_id_and_css(link.test_id, link.css)]


def heading_candidates(heading: str) -> list[Target]:
    """Role and name, then with the level, for another heading of the same name."""
    return [
        Target(role="heading", name=heading, exact=True),
        Target(role="heading", name=heading, exact=True, level=HEADING_LEVEL),
    ]


def _test_id_and_css(test_id: str | None, css: str | None) -> list[Target]:
    candidates = [Target(test_id=test_id)] if test_id else []
    return candidates + ([Target(css=css)] if css else [])


def clickable(link: PageLink) -> bool:
    """Whether a navigation case could click ``link``: a shown same-origin page link in the
    same tab, with a name that can be asserted."""
    return (
        link.kind == "page"
        and link.internal
        and link.visible
        and not link.new_tab
        and is_stable_text(link.name)
    )


def asserted_fields(fields: list[FormField]) -> list[FormField]:
    """The fields of a form generation asserts: shown, with a role, the first few."""
    return [field for field in fields if field.visible and field.role is not None][:VERIFIED_FIELDS]


async def verify_targets(page: Page, analysis: PageAnalysis) -> PageAnalysis:
    """Find a verified target for each element of ``analysis`` a generated step may use.

    Links, fields and buttons get theirs in place (``target``); the analysis returned
    carries the heading's and the elements left without one (``unlocated``).
    """
    heading: list[Target] = []
    subjects = list(_subjects(analysis, heading.append))
    await _resolve(page, subjects)
    unlocated = [
        Unlocated(element=subject.element, reason=subject.problem)
        for subject in subjects
        if subject.problem is not None
    ]
    return dataclasses.replace(
        analysis, heading_target=heading[0] if heading else None, unlocated=unlocated
    )


def _subjects(analysis: PageAnalysis, set_heading: Callable[[Target], None]) -> Iterator[_Subject]:
    refs = analysis.refs
    if refs.heading is not None and is_stable_text(analysis.heading):
        name = analysis.heading
        element = f"heading {quoted(name)}"
        yield _Subject(refs.heading, element, heading_candidates(name), set_heading)
    links = [(link, ref) for link, ref in zip(analysis.links, refs.links, strict=True)]
    for link, ref in [(link, ref) for link, ref in links if clickable(link)][:VERIFIED_LINKS]:
        yield _Subject(ref, f"link {quoted(link.name)}", link_candidates(link), _setter(link))
    forms = zip(analysis.forms, refs.fields, refs.submits, strict=True)
    for form, field_refs, submit_ref in list(forms)[:VERIFIED_FORMS]:
        numbered = {id(field): ref for field, ref in zip(form.fields, field_refs, strict=True)}
        for field in asserted_fields(form.fields):
            element = f"field {quoted(field_name(field))}"
            yield _Subject(numbered[id(field)], element, field_candidates(field), _setter(field))
        button = form.submit
        if button is not None and submit_ref is not None:
            element = f"button {quoted(button.name or button.css)}"
            yield _Subject(submit_ref, element, button_candidates(button), _setter(button))


def field_name(field: FormField) -> str:
    """What to call a field in notes: its label, name or selector."""
    return field.label or field.accessible_name or field.name or field.css


def _setter(model: PageLink | FormField | FormButton) -> Callable[[Target], None]:
    def assign(target: Target) -> None:
        model.target = target

    return assign


async def _resolve(page: Page, subjects: list[_Subject]) -> None:
    """Try candidates round by round: the n-th of every subject still unresolved at once."""
    pending = subjects
    round_ = 0
    while pending:
        asked = list(dict.fromkeys(s.candidates[round_] for s in pending))
        found = dict(zip(asked, await matches_of(page, asked), strict=True))
        unresolved = []
        for subject in pending:
            matches = found[subject.candidates[round_]]
            if matches == [(subject.ref, True)]:
                subject.assign(subject.candidates[round_])
                subject.problem = None
                continue
            if round_ == 0:
                subject.problem = _problem(subject.ref, matches)
            if round_ + 1 < len(subject.candidates):
                unresolved.append(subject)
        pending = unresolved
        round_ += 1


def _problem(ref: int, matches: Matches | None) -> LocatorProblem:
    if matches is not None and len(matches) > 1:
        return "not_unique"
    if matches and matches[0][0] == ref:
        return "hidden"
    return "not_found"
