"""What a crawl's pages tell about each other, for generating a suite from them.

A page is *loaded* when it answered 2xx with an HTML document, was no download and had
no load error, on the base URL's origin or the one the start page (the first page)
redirected to. A *template page* is a loaded page, the first of its URL and the first of
its template (a path with a set of query keys); a later page of the same template is a
variant. The map is built a page at a time, in crawl order, and holds URLs, the crawl's
form submissions and the notes on what generation left out, never the pages.
"""

from __future__ import annotations

from crawler.form_cases import FormKey, form_key
from crawler.models import FormSubmission, PageResult
from crawler.notes import LeftOut, PageNotes
from crawler.reading import HTML_TYPES
from crawler.urls import normalise_url, origin_of, variant_group
from runner.steps import url_path


class SiteMap:
    """What a crawl's pages tell about each other: which are the template pages (loaded,
    one per URL, the first of their template), where each crawled URL led, the crawl's
    form submissions, and the notes gathered on the way."""

    def __init__(self, base_url: str) -> None:
        # The crawl follows the start page's redirect (http to https, to www.): the
        # site lives there then, and requests to the base URL's origin get there too.
        self._origins = {origin_of(normalise_url(base_url) or base_url)}
        self.indexed = 0
        """Pages indexed so far."""
        self._templates: dict[tuple[str, frozenset[str]], str] = {}
        self._template_pages: set[int] = set()
        self._landed: dict[str, str | None] = {}
        self._left_out: dict[str, list[LeftOut]] = {}
        self._order: dict[str, int] = {}
        self.submissions: dict[FormKey, tuple[str, FormSubmission]] = {}
        """Per form, the crawl's submission of it and the URL of the page it was made on."""

    def index(self, page: PageResult) -> None:
        """Take in the next of the crawl's pages."""
        if not self.indexed:
            self._origins.add(origin_of(page.url))
        self._order.setdefault(page.url, self.indexed)
        on_site = origin_of(page.url) in self._origins
        loaded = on_site and _loaded(page) and page.url not in self._landed
        if loaded:
            template = self._templates.setdefault(variant_group(page.url), page.url)
            if template != page.url:
                detail = f"the same path and query keys as {url_path(template)}"
                self.leave_out(page, LeftOut(what="page", reason="variant", detail=detail))
                loaded = False
        for url in (page.url, page.redirected_from):
            if url is not None:
                self._landed.setdefault(url, page.url if loaded else None)
        for form in page.forms:
            if form.submission is not None:
                made = (page.url, form.submission)
                self.submissions.setdefault(form_key(page.url, form), made)
        if loaded:
            self._template_pages.add(self.indexed)
            self._note_page(page)
        self.indexed += 1

    def is_template(self, index: int, page: PageResult) -> bool:
        """Whether ``page``, the crawl's page number ``index``, gets cases of its own."""
        if index >= self.indexed:
            raise ValueError(f"page {index} ({page.url}) was not indexed")
        return index in self._template_pages

    def _note_page(self, page: PageResult) -> None:
        for item in page.unlocated:
            self.leave_out(page, LeftOut(what=item.element, reason=item.reason))
        if page.truncated:
            self.leave_out(page, LeftOut(what="links and forms", reason="truncated"))

    def destination(self, url: str) -> str | None:
        """The URL of the template page a request for ``url`` ended on, if the crawl knows
        one."""
        return self._landed.get(url)

    def leave_out(self, page: PageResult, left_out: LeftOut) -> None:
        """Note that ``left_out`` is not asserted on ``page``."""
        self._left_out.setdefault(page.url, []).append(left_out)

    def page_notes(self) -> list[PageNotes]:
        """What was left out, per page, in crawl order."""
        urls = sorted(self._left_out, key=self._order.__getitem__)
        return [PageNotes(url=url_path(url), left_out=self._left_out[url]) for url in urls]


def _loaded(page: PageResult) -> bool:
    return (
        page.status is not None
        and 200 <= page.status < 300
        and page.content_type in HTML_TYPES
        and not page.download
        and page.error is None
    )
