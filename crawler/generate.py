"""Suite generation: test cases of the step language from a crawl's pages (DESIGN §4, §7).

``generate(pages, base_url)`` is pure and deterministic: the same pages give the
same cases, in the same order, with the same names, and the same notes. Step URLs
are paths (``/about?tab=2``), so the suite runs against any deployment given as
the run's base URL. Every locator a step uses is one the crawl verified in the
live page (``crawler.locators``): what has none is left out. ``Generation`` makes
the same suite from pages read a batch at a time, in two passes, so a crawl of
thousands of pages need not be held. Cases come grouped by type, each group in crawl
order:

- ``smoke``, one per page template (``Page loads: /about``): go to it, expect its
  status, its title and its main heading (by role and exact name, with its level
  when another heading has the same name), its performance budgets and no new
  accessibility violations (``crawler.audit_cases``), and no console errors when
  the crawl saw none there; with ``visual_checks``, end with a screenshot of the
  viewport, masking what the crawl found changing from load to load
  (``crawler.dynamic``).
- ``navigation`` (``Navigate: / → About``): go to a page, click a link, expect the
  path (and query) the crawl landed on, after redirects. At most
  ``MAX_LINKS_PER_PAGE`` per page, and a link (same name, same destination) found
  on several pages is tested on the first one only, so a site-wide menu gives one
  case per entry, not one per page.
- ``form`` (``Form: /contact contact form``): the shown fields render; a simple
  GET form is also filled and submitted when the crawl's own submission of it
  (``crawler.submits``) landed on a page of the site, and a simple POST form only
  with ``submit_post_forms``. At most ``MAX_FORMS_PER_PAGE`` per page; a form found
  on several pages (same ``form_key``) is tested on the first one only.

A page template is a path with a set of query keys: a page whose template an
earlier page has (``/list?o=2`` after ``/list?o=1``) is a *variant* and gets no
case of its own, nor does a link to it. A page counts as loaded when it answered
2xx with an HTML document, was no download and had no load error, on the base
URL's origin or the one the start page (the first page) redirected to; other
pages get no case and are no link destination. Left out because they cannot be
asserted stably: titles, headings and link names that are empty, cut short by
the crawler, or look like they change from one load to the next
(``crawler.stable``); link names not unique among the page's visible links;
links that are external, hidden, open a new tab or a popup, download, look like logging out
or deleting, or lead back to their own page or to a page that was not crawled or
did not load; links and forms of pages the crawler truncated. The ``notes`` say,
per case, why it was made and, per page, what was left out and why.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from crawler.audit_cases import audit_steps
from crawler.form_cases import FormKey, FormPlan, form_key, form_label, plan_form
from crawler.locators import clickable
from crawler.models import FormSubmission, PageForm, PageLink, PageResult
from crawler.notes import CaseNote, GenerationNotes, LeftOut, LeftOutReason
from crawler.site_map import SiteMap
from crawler.stable import is_stable_text
from crawler.urls import looks_destructive
from runner.export_common import unique
from runner.steps import (
    Case,
    CaseType,
    Click,
    ExpectNoConsoleErrors,
    ExpectScreenshot,
    ExpectStatus,
    ExpectTitle,
    ExpectUrl,
    ExpectVisible,
    Goto,
    Step,
    Target,
    quoted,
    url_path,
)

__all__ = [
    "GeneratedSuite",
    "Generation",
    "generate",
    "generate_suite",
    "is_stable_text",
    "suite_name",
]

MAX_LINKS_PER_PAGE = 10
"""Navigation cases made from one page's links, the first in document order."""

MAX_FORMS_PER_PAGE = 5
"""Form cases made from one page's forms, the first in document order."""

TAGS = ["generated"]
"""Tags of every generated case, telling them apart from hand-written ones."""

_MAX_NAME_PART = 60
_REGEX_SPECIAL = re.compile(r"([.^$*+?()\[\]{}|\\])")


@dataclass(frozen=True)
class GeneratedSuite:
    """A generated suite's cases and the notes saying why each is there and what is not."""

    cases: list[Case]
    notes: GenerationNotes


def suite_name(base_url: str) -> str:
    """The name of a suite generated for ``base_url``, e.g. ``Generated: shop.example``."""
    parts = urlsplit(base_url)
    path = parts.path.rstrip("/")
    return f"Generated: {parts.netloc}{path}"


def generate(
    pages: Sequence[PageResult],
    base_url: str,
    *,
    submit_post_forms: bool = False,
    visual_checks: bool = False,
) -> GeneratedSuite:
    """Test cases for the crawled ``pages`` of the site at ``base_url`` (see the module doc);
    simple POST forms are submitted only with ``submit_post_forms``; ``visual_checks``
    ends each page's case with a screenshot check (the daemon passes the project's
    ``settings.visual_checks``, true unless turned off)."""
    generation = Generation(
        base_url, submit_post_forms=submit_post_forms, visual_checks=visual_checks
    )
    generation.index(pages)
    generation.add(pages)
    return generation.suite()


def generate_suite(
    pages: Sequence[PageResult],
    base_url: str,
    *,
    submit_post_forms: bool = False,
    visual_checks: bool = False,
) -> list[Case]:
    """The cases ``generate`` makes, without the notes."""
    suite = generate(
        pages, base_url, submit_post_forms=submit_post_forms, visual_checks=visual_checks
    )
    return suite.cases


_Made = tuple[Case, str]
"""A case and why it was made."""


class Generation:
    """``generate`` over a crawl's pages read a batch at a time, without holding them.

    Two passes, as a link's case needs to know where every crawled URL led: ``index``
    every page, in crawl order; then ``add`` every page again, in the same order; then
    ``suite`` gives what ``generate`` gives for those pages. What is held meanwhile is
    the cases, where each URL led and the crawl's form submissions, not the pages.
    """

    def __init__(
        self, base_url: str, *, submit_post_forms: bool = False, visual_checks: bool = False
    ) -> None:
        self._site = SiteMap(base_url)
        self._submit_post_forms = submit_post_forms
        self._visual_checks = visual_checks
        self._added = 0
        self._smoke: list[_Made] = []
        self._navigation: list[_Made] = []
        self._forms: list[_Made] = []
        self._tested_links: set[tuple[str, str]] = set()
        self._tested_forms: set[FormKey] = set()

    def index(self, pages: Iterable[PageResult]) -> None:
        """The first pass: the next of the crawl's pages."""
        for page in pages:
            self._site.index(page)

    def add(self, pages: Iterable[PageResult]) -> None:
        """The second pass: the next of the crawl's pages again, and their cases."""
        site = self._site
        for page in pages:
            if site.is_template(self._added, page):
                self._smoke.append(_page_case(site, page, self._visual_checks))
                self._navigation += _navigation_cases(site, page, self._tested_links)
                self._forms += _form_cases(site, page, self._tested_forms, self._submit_post_forms)
            self._added += 1

    def suite(self) -> GeneratedSuite:
        """The cases and notes of the pages indexed and added."""
        if self._added != self._site.indexed:
            raise ValueError(
                f"{self._site.indexed} pages were indexed but {self._added} added: "
                "both passes take every page, in the same order"
            )
        made = [*self._smoke, *self._navigation, *self._forms]
        cases = _uniquely_named([case for case, _ in made])
        whys = [why for _, why in made]
        return GeneratedSuite(
            cases=cases,
            notes=GenerationNotes(
                cases=[
                    CaseNote(name=case.name, why=why) for case, why in zip(cases, whys, strict=True)
                ],
                pages=self._site.page_notes(),
            ),
        )


def _case(name: str, kind: CaseType, steps: list[Step]) -> Case:
    return Case(name=name, type=kind, tags=TAGS, steps=steps)


def _goto(page: PageResult) -> Goto:
    return Goto(action="goto", url=url_path(page.url))


def _short(text: str) -> str:
    return text if len(text) <= _MAX_NAME_PART else text[: _MAX_NAME_PART - 1] + "…"


def _page_case(site: SiteMap, page: PageResult, visual_checks: bool) -> _Made:
    assert page.status is not None  # only loaded pages get here
    path = url_path(page.url)
    steps: list[Step] = [_goto(page), ExpectStatus(action="expect_status", status=page.status)]
    if is_stable_text(page.title):
        steps.append(ExpectTitle(action="expect_title", value=page.title))
    elif page.title:
        site.leave_out(page, LeftOut(what=f"title {quoted(page.title)}", reason="volatile"))
    if page.heading_target is not None:
        steps.append(ExpectVisible(action="expect_visible", target=page.heading_target))
    elif page.heading and not is_stable_text(page.heading):
        site.leave_out(page, LeftOut(what=f"heading {quoted(page.heading)}", reason="volatile"))
    steps += audit_steps(page)
    if not page.console_errors:
        steps.append(ExpectNoConsoleErrors(action="expect_no_console_errors"))
    else:
        detail = f"the crawl saw {len(page.console_errors)}"
        site.leave_out(
            page, LeftOut(what="no console errors", reason="console_errors", detail=detail)
        )
    if visual_checks:
        steps += _screenshot(page)
    why = f"{path} answered {page.status} with an HTML page"
    return _case(f"Page loads: {_short(path)}", "smoke", steps), why


def _screenshot(page: PageResult) -> list[Step]:
    """The page as it looks, what changes from load to load masked; nothing when there
    is too much of that to mask."""
    if page.dynamic is None:
        return []
    mask = [Target(css=selector) for selector in page.dynamic]
    return [ExpectScreenshot(action="expect_screenshot", name="page", mask=mask)]


def _navigation_cases(site: SiteMap, page: PageResult, tested: set[tuple[str, str]]) -> list[_Made]:
    """The cases of ``page``'s links, but for those (name, destination) in ``tested`` on an
    earlier page (``tested`` gets these)."""
    made: list[_Made] = []
    if page.truncated:
        return made
    shown = Counter(link.name for link in page.links if link.visible)
    for link in page.links:
        if len(made) == MAX_LINKS_PER_PAGE:
            break
        destination = _followable(site, page, link, shown)
        if destination is None or (link.name, destination) in tested:
            continue
        assert link.target is not None  # _followable checks it
        tested.add((link.name, destination))
        steps: list[Step] = [
            _goto(page),
            Click(action="click", target=link.target),
            ExpectUrl(action="expect_url", value=url_path(destination)),
        ]
        name = f"Navigate: {_short(url_path(page.url))} → {_short(link.name)}"
        why = f"link {quoted(link.name)} on {url_path(page.url)} leads to {url_path(destination)}"
        made.append((_case(name, "navigation", steps), why))
    return made


def _followable(site: SiteMap, page: PageResult, link: PageLink, shown: Counter[str]) -> str | None:
    """The URL of the page clicking ``link`` on ``page`` leads to, if a test can rely on it."""
    if link.kind != "page" or not link.internal or not link.visible or link.new_tab:
        return None
    if link.name and not is_stable_text(link.name) and shown[link.name] == 1:
        what = f"navigation to link {quoted(link.name)}"
        site.leave_out(page, LeftOut(what=what, reason="volatile"))
        return None
    if not clickable(link) or shown[link.name] != 1 or link.target is None:
        return None
    if looks_destructive(link.url, link.name):
        what = f"navigation to link {quoted(link.name)}"
        site.leave_out(page, LeftOut(what=what, reason="destructive"))
        return None
    destination = site.destination(link.url)
    if destination is None or destination == page.url:
        return None
    return destination


def _form_cases(
    site: SiteMap, page: PageResult, tested: set[FormKey], submit_post_forms: bool
) -> list[_Made]:
    """The cases of ``page``'s forms, but for those in ``tested`` on an earlier page
    (``tested`` gets these)."""
    made: list[_Made] = []
    if page.truncated:
        return made
    for number, form in _new_forms(page, tested):
        plan = plan_form(page.url, form)
        if not plan.checks:
            continue
        submission = _submission(site, page, form)
        steps, why = _form_steps(site, page, form, plan, submission, submit_post_forms)
        label = _short(form_label(form)) or f"#{number}"
        name = f"Form: {_short(url_path(page.url))} {label} form"
        made.append((_case(name, "form", [_goto(page), *steps]), why))
    return made


def _submission(site: SiteMap, page: PageResult, form: PageForm) -> FormSubmission | None:
    """The crawl's submission of ``form``: made on ``page``, or else on another page with
    the same form, where a landing on that page's own path means this page's path here
    (a form without an action submits to the page it is on)."""
    if form.submission is not None:
        return form.submission
    made = site.submissions.get(form_key(page.url, form))
    if made is None:
        return None
    made_on, submission = made
    if submission.url is None:
        return submission
    landed = urlsplit(submission.url)
    if landed.path != urlsplit(made_on).path:
        return submission
    here = urlsplit(page.url)
    url = landed._replace(scheme=here.scheme, netloc=here.netloc, path=here.path).geturl()
    return submission.model_copy(update={"url": url})


def _new_forms(page: PageResult, tested: set[FormKey]) -> Iterator[tuple[int, PageForm]]:
    """``page``'s forms (with their number on the page) not yet tested on an earlier page."""
    made = 0
    for number, form in enumerate(page.forms, start=1):
        if made == MAX_FORMS_PER_PAGE:
            return
        key = form_key(page.url, form)
        if key in tested:
            continue
        tested.add(key)
        made += 1
        yield number, form


def _form_steps(
    site: SiteMap,
    page: PageResult,
    form: PageForm,
    plan: FormPlan,
    submission: FormSubmission | None,
    submit_post_forms: bool,
) -> tuple[list[Step], str]:
    """The steps of ``form``'s case after the ``goto``, and why the case was made.

    A GET submission lands on the path the crawl's own submission landed on;
    a POST's landing is up to the server, so nothing is asserted about it. No
    console errors is asserted after a GET submission the crawl saw clean only.
    """
    label = form_label(form)
    subject = f"form {quoted(label)}" if label else "the form"
    checked = f"{subject} on {url_path(page.url)}: its fields render"

    def leave_out(reason: LeftOutReason, detail: str | None, what: str) -> None:
        site.leave_out(page, LeftOut(what=what, reason=reason, detail=detail))

    if plan.submit is None:
        if plan.not_simple is not None:
            site.leave_out(page, plan.not_simple)
        return plan.checks, checked
    if form.method == "post":
        if not submit_post_forms:
            leave_out("post", "settings.submit_post_forms is false", f"submit of {subject}")
            return plan.checks, checked
        return [*plan.checks, *plan.submit], f"{checked}; it is filled and posted"
    problem = _submission_problem(submission)
    if problem is not None:
        leave_out(*problem, f"submit of {subject}")
        return plan.checks, checked
    assert submission is not None and submission.url is not None
    steps = [*plan.checks, *plan.submit]
    landed = urlsplit(submission.url).path or "/"
    if is_stable_text(landed):
        escaped = _REGEX_SPECIAL.sub(r"\\\1", landed)
        steps.append(ExpectUrl(action="expect_url", match="regex", value=f"^{escaped}(\\?|$)"))
    errors = len(page.console_errors) + len(submission.console_errors)
    if errors:
        leave_out("console_errors", f"the crawl saw {errors}", "no console errors after submit")
    else:
        steps.append(ExpectNoConsoleErrors(action="expect_no_console_errors"))
    return steps, f"{checked}; the crawl's submission of it landed on {landed}"


def _submission_problem(
    submission: FormSubmission | None,
) -> tuple[LeftOutReason, str | None] | None:
    """Why a GET form's case may not submit it, judging by the crawl's own submission."""
    if submission is None:
        return "not_submitted", None
    match submission.outcome:
        case "navigated":
            if submission.status is not None and submission.status >= 400:
                return "error_status", f"the crawl's submission answered {submission.status}"
            return None
        case "download":
            return "download", "the crawl's submission downloaded a file"
        case "left_origin":
            return "left_origin", f"the crawl's submission landed on {submission.url}"
        case "no_navigation":
            return "no_navigation", "nothing loaded after the crawl's submission"
        case _:
            return "submit_failed", submission.error


def _uniquely_named(cases: list[Case]) -> list[Case]:
    """``cases`` with repeated names numbered `` (2)``, `` (3)``..."""
    names = unique((case.name for case in cases), lambda name, number: f"{name} ({number})")
    return [
        case if name == case.name else case.model_copy(update={"name": name})
        for case, name in zip(cases, names, strict=True)
    ]
