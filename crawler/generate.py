"""Suite generation: test cases of the step language from a crawl's pages (DESIGN §4).

``generate_suite(pages, base_url)`` is pure and deterministic: the same pages
give the same cases, in the same order, with the same names. Step URLs are
paths (``/about?tab=2``), so the suite runs against any deployment given as the
run's base URL. Cases come grouped by type, each group in crawl order:

- ``smoke``, one per loaded page (``Page loads: /about``): go to it, expect its
  status, its title and its main heading (by role and exact name), its
  performance budgets and no new accessibility violations (``crawler.audit_cases``),
  and no console errors when the crawl saw none there; with ``visual_checks``, end
  with a screenshot of the viewport, masking what the crawl found changing
  from load to load (``crawler.dynamic``).
- ``navigation`` (``Navigate: / → About``): go to a page, click a link by role
  and exact name, expect the path (and query) the crawl landed on, after
  redirects. At most ``MAX_LINKS_PER_PAGE`` per page, and a link (same name,
  same destination) found on several pages is tested on the first one only, so
  a site-wide menu gives one case per entry, not one per page.
- ``form`` (``Form: /contact contact form``): see ``crawler.form_cases``; at most
  ``MAX_FORMS_PER_PAGE`` per page, and a form repeated on several pages (same
  method, action and fields) is tested on the first one only.

A page counts as loaded when it answered 2xx with an HTML document, was no
download and had no load error, on the base URL's origin or the one the start
page (the first page) redirected to; other pages get no case and are no link
destination. Left out because they cannot be asserted stably: titles, headings
and link names that are empty, cut short by the crawler, or look like they
change from one load to the next (times, dates, long numbers, hex ids, "5
minutes ago"); link names not unique among the page's visible links; links
that are external, hidden, open a new tab, download, or lead back to their own
page or to a page that was not crawled or did not load; links and forms of
pages the crawler truncated (their lists may miss a duplicate name).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from typing import TypeGuard
from urllib.parse import urlsplit

from crawler.analysis import LIMITS
from crawler.audit_cases import audit_steps
from crawler.dynamic import VOLATILE_TEXT
from crawler.form_cases import PageHandles, form_steps
from crawler.models import PageForm, PageLink, PageResult
from crawler.urls import normalise_url, origin_of
from crawler.visit import HTML_TYPES
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
    url_path,
)

MAX_LINKS_PER_PAGE = 10
"""Navigation cases made from one page's links, the first in document order."""

MAX_FORMS_PER_PAGE = 5
"""Form cases made from one page's forms, the first in document order."""

TAGS = ["generated"]
"""Tags of every generated case, telling them apart from hand-written ones."""

_MAX_NAME_PART = 60


def suite_name(base_url: str) -> str:
    """The name of a suite generated for ``base_url``, e.g. ``Generated: shop.example``."""
    parts = urlsplit(base_url)
    path = parts.path.rstrip("/")
    return f"Generated: {parts.netloc}{path}"


def generate_suite(
    pages: Sequence[PageResult], base_url: str, *, visual_checks: bool = False
) -> list[Case]:
    """Test cases for the crawled ``pages`` of the site at ``base_url`` (see the module doc).

    ``visual_checks`` ends each page's case with a screenshot check (the daemon
    passes the project's ``settings.visual_checks``, true unless turned off).
    """
    site = _Site(pages, base_url)
    cases = [_page_case(page, visual_checks) for page in site.pages]
    cases += _navigation_cases(site)
    cases += _form_cases(site)
    return _uniquely_named(cases)


def is_stable_text(text: str | None) -> TypeGuard[str]:
    """Whether ``text`` can be asserted: not empty, not cut short, not likely to change."""
    if not text:
        return False
    return len(text) < LIMITS["text"] and VOLATILE_TEXT.search(text) is None


class _Site:
    """The loaded pages of a crawl, one per URL, and where each crawled URL led."""

    def __init__(self, pages: Sequence[PageResult], base_url: str) -> None:
        # The crawl follows the start page's redirect (http to https, to www.): the
        # site lives there then, and requests to the base URL's origin get there too.
        origins = {origin_of(normalise_url(base_url) or base_url)}
        origins.update(origin_of(page.url) for page in pages[:1])
        self.pages: list[PageResult] = []
        self._landed: dict[str, PageResult | None] = {}
        for page in pages:
            on_site = origin_of(page.url) in origins
            loaded = on_site and _loaded(page) and page.url not in self._landed
            for url in (page.url, page.redirected_from):
                if url is not None:
                    self._landed.setdefault(url, page if loaded else None)
            if loaded:
                self.pages.append(page)

    def destination(self, url: str) -> PageResult | None:
        """The loaded page a request for ``url`` ended on, if the crawl knows one."""
        return self._landed.get(url)


def _loaded(page: PageResult) -> bool:
    return (
        page.status is not None
        and 200 <= page.status < 300
        and page.content_type in HTML_TYPES
        and not page.download
        and page.error is None
    )


def _case(name: str, kind: CaseType, steps: list[Step]) -> Case:
    return Case(name=name, type=kind, tags=TAGS, steps=steps)


def _goto(page: PageResult) -> Goto:
    return Goto(action="goto", url=url_path(page.url))


def _short(text: str) -> str:
    return text if len(text) <= _MAX_NAME_PART else text[: _MAX_NAME_PART - 1] + "…"


def _page_case(page: PageResult, visual_checks: bool) -> Case:
    assert page.status is not None  # only loaded pages get here
    steps: list[Step] = [_goto(page), ExpectStatus(action="expect_status", status=page.status)]
    if is_stable_text(page.title):
        steps.append(ExpectTitle(action="expect_title", value=page.title))
    if is_stable_text(page.heading):
        heading = Target(role="heading", name=page.heading, exact=True)
        steps.append(ExpectVisible(action="expect_visible", target=heading))
    steps += audit_steps(page)
    if not page.console_errors:
        steps.append(ExpectNoConsoleErrors(action="expect_no_console_errors"))
    if visual_checks:
        steps += _screenshot(page)
    return _case(f"Page loads: {_short(url_path(page.url))}", "smoke", steps)


def _screenshot(page: PageResult) -> list[Step]:
    """The page as it looks, what changes from load to load masked; nothing when there
    is too much of that to mask."""
    if page.dynamic is None:
        return []
    mask = [Target(css=selector) for selector in page.dynamic]
    return [ExpectScreenshot(action="expect_screenshot", name="page", mask=mask)]


def _navigation_cases(site: _Site) -> list[Case]:
    cases: list[Case] = []
    tested: set[tuple[str, str]] = set()
    for page in site.pages:
        if page.truncated:
            continue
        shown = Counter(link.name for link in page.links if link.visible)
        made = 0
        for link in page.links:
            if made == MAX_LINKS_PER_PAGE:
                break
            destination = _followable(site, page, link, shown)
            if destination is None or (link.name, destination.url) in tested:
                continue
            tested.add((link.name, destination.url))
            made += 1
            steps: list[Step] = [
                _goto(page),
                Click(action="click", target=Target(role="link", name=link.name, exact=True)),
                ExpectUrl(action="expect_url", value=url_path(destination.url)),
            ]
            name = f"Navigate: {_short(url_path(page.url))} → {_short(link.name)}"
            cases.append(_case(name, "navigation", steps))
    return cases


def _followable(
    site: _Site, page: PageResult, link: PageLink, shown: Counter[str]
) -> PageResult | None:
    """The loaded page clicking ``link`` on ``page`` leads to, if a test can rely on it."""
    if link.kind != "page" or not link.internal or not link.visible or link.new_tab:
        return None
    if shown[link.name] != 1 or not is_stable_text(link.name):
        return None
    destination = site.destination(link.url)
    if destination is None or destination.url == page.url:
        return None
    return destination


def _form_cases(site: _Site) -> list[Case]:
    cases: list[Case] = []
    tested: set[tuple[object, ...]] = set()
    for page in site.pages:
        if page.truncated:
            continue
        handles = PageHandles.of(page)
        for number, form in _new_forms(page, tested):
            quiet = not page.console_errors and _quiet_result(site, form)
            steps = form_steps(page, form, handles, quiet=quiet)
            if not steps:
                continue
            name = f"Form: {_short(url_path(page.url))} {_form_label(form, number)} form"
            cases.append(_case(name, "form", [_goto(page), *steps]))
    return cases


def _new_forms(page: PageResult, tested: set[tuple[object, ...]]) -> Iterator[tuple[int, PageForm]]:
    """``page``'s forms (with their number on the page) not yet tested on an earlier page."""
    made = 0
    for number, form in enumerate(page.forms, start=1):
        if made == MAX_FORMS_PER_PAGE:
            return
        # A form without an action submits to the page it is on: the same form on every page.
        action = None if form.action == page.url else form.action
        fields = tuple((field.tag, field.type, field.name) for field in form.fields)
        key = (form.method, action, fields, form.submit.name if form.submit else None)
        if key in tested:
            continue
        tested.add(key)
        made += 1
        yield number, form


def _quiet_result(site: _Site, form: PageForm) -> bool:
    """Whether a GET form's result page, when crawled, showed no console errors."""
    if form.method != "get":
        return True
    landed = site.destination(form.action.split("?")[0])
    return landed is None or not landed.console_errors


def _form_label(form: PageForm, number: int) -> str:
    """The form's id or name, else its button's name, else its number on the page."""
    label = form.id or form.name or (form.submit.name if form.submit else "")
    return _short(label) if label else f"#{number}"


def _uniquely_named(cases: list[Case]) -> list[Case]:
    """``cases`` with repeated names numbered `` (2)``, `` (3)``..."""
    names = unique((case.name for case in cases), lambda name, number: f"{name} ({number})")
    return [
        case if name == case.name else case.model_copy(update={"name": name})
        for case, name in zip(cases, names, strict=True)
    ]
