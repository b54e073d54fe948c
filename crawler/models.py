"""What a crawl is asked to do (``CrawlOptions``) and what it finds (``CrawlResult``).

Every list in a result has a fixed order, so the same site gives the same JSON:
pages by (depth, discovery order), links, forms and fields in document order,
console errors and failed requests sorted.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from crawler.audits.models import AuditCategory, PageAudits
from crawler.settings import MAX_CONCURRENCY, CrawlerSettings
from crawler.urls import compile_patterns, normalise_url
from runner.login import Login
from runner.steps import Target

CrawlMode = Literal["full", "quick"]
LinkKind = Literal["page", "mailto", "tel", "javascript", "download", "other"]
StopReason = Literal["completed", "max_pages", "max_duration"]
SubmitOutcome = Literal["navigated", "download", "left_origin", "no_navigation", "failed"]
LocatorProblem = Literal["not_unique", "not_found", "hidden"]

QUICK_MAX_PAGES = 20


class CrawlOptions(BaseModel):
    """One crawl's request: where to start, how far to go, and its limits.

    ``mode="full"`` crawls breadth-first over same-origin links (and the URLs of
    the site's sitemap.xml) from ``start_url`` to ``depth`` and ``max_pages``.
    ``mode="quick"`` crawls the start page and the pages it links to: depth is at
    most 1, pages at most 20, and the sitemap is not read.

    ``include_patterns`` and ``exclude_patterns`` are Python regular expressions
    searched in each normalised absolute URL: a URL is crawled when it matches
    some include pattern (or there are none) and no exclude pattern. The start
    URL is always crawled. Build one from the ``[crawler]`` settings with
    ``CrawlOptions.from_settings``.
    """

    model_config = ConfigDict(extra="forbid")

    start_url: str
    """Absolute http(s) URL of the first page; stored normalised (see ``crawler.urls``)."""

    mode: CrawlMode = "full"
    """``full`` (breadth-first to depth and max_pages, sitemap seeded) or ``quick``."""

    max_pages: int = Field(default=100, ge=1, le=100_000)
    """Most pages to visit; exactly this many when the site has that many within reach."""

    depth: int = Field(default=3, ge=0, le=100)
    """Most link hops from the start page, which is depth 0."""

    include_patterns: list[str] = Field(default_factory=list)
    """Regexes: when given, only URLs matching one of them are crawled."""

    exclude_patterns: list[str] = Field(default_factory=list)
    """Regexes: URLs matching any of them are not crawled."""

    respect_robots_txt: bool = True
    """Skip URLs the site's robots.txt disallows for the crawler's user agent."""

    headers: dict[str, str] = Field(default_factory=dict)
    """Extra HTTP headers sent with every request of the crawl (e.g. an auth token)."""

    concurrency: int = Field(default=4, ge=1, le=MAX_CONCURRENCY)
    """Pages loading at the same time."""

    page_timeout_s: float = Field(default=30.0, gt=0, le=600)
    """Seconds a page may take to load; analysing what loaded gets as long again."""

    max_duration_s: float = Field(default=600.0, gt=0, le=86_400)
    """Hard cap on the crawl's total time."""

    user_agent: str | None = None
    """User-Agent of the crawl's browser; ``None`` keeps Chromium's own."""

    login: Login | None = None
    """Steps performed in the crawl's browser context before the first page, so every
    page is crawled logged in; then URLs that look like logging out are not followed."""

    max_query_variants: int = Field(default=5, ge=1, le=1000)
    """Most pages crawled per path and set of query keys (``/list?o=1``, ``/list?o=2``
    are two of ``/list`` with keys {o}); further such URLs are link-checked only."""

    check_external_links: bool = False
    """Also check external http(s) links, with one short request each (no project headers)."""

    prepare_generation: bool = True
    """Verify the locators generated steps would use and submit each distinct simple GET
    form once (what suite generation relies on); off for a crawl no suite is made from."""

    base_url: str | None = None
    """The site's base URL, which relative ``goto`` URLs of ``login`` resolve against
    (as in a run); ``None`` means ``start_url``."""

    audits: list[AuditCategory] = Field(default_factory=list)
    """The audit categories run on every HTML page that answered 2xx (see ``crawler.audits``);
    none by default here, all of ``AUDIT_CATEGORIES`` by default in a project's settings."""

    @classmethod
    def from_settings(cls, settings: CrawlerSettings, **fields: Any) -> CrawlOptions:
        """Options whose limits default to the ``[crawler]`` settings; ``fields`` override."""
        defaults = settings.model_dump(
            include={"concurrency", "page_timeout_s", "max_duration_s", "respect_robots_txt"}
        )
        defaults["user_agent"] = settings.user_agent
        return cls(**{**defaults, **fields})

    @field_validator("start_url")
    @classmethod
    def _web_url(cls, value: str) -> str:
        normalised = normalise_url(value)
        if normalised is None:
            raise ValueError("must be an absolute http:// or https:// URL")
        return normalised

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str | None) -> str | None:
        if value is not None and normalise_url(value) is None:
            raise ValueError("must be an absolute http:// or https:// URL")
        return value

    @field_validator("include_patterns", "exclude_patterns")
    @classmethod
    def _regexes(cls, value: list[str]) -> list[str]:
        compile_patterns(value)
        return value

    @field_validator("headers")
    @classmethod
    def _header_lines(cls, value: dict[str, str]) -> dict[str, str]:
        for name, header in value.items():
            if not name.strip() or any(c in name + header for c in "\r\n") or ":" in name:
                raise ValueError(f"invalid header {name!r}")
        return value

    @model_validator(mode="after")
    def _quick_limits(self) -> CrawlOptions:
        if self.mode == "quick":
            self.depth = min(self.depth, 1)
            self.max_pages = min(self.max_pages, QUICK_MAX_PAGES)
        return self


class PageLink(BaseModel):
    """One ``<a href>`` or ``<area href>`` of a page, in document order."""

    url: str
    """Normalised absolute URL for http(s) links; the href as written for other schemes."""

    name: str
    """Accessible name (aria-labelledby, aria-label, text and image alts, title), trimmed."""

    internal: bool
    """Same origin as the crawl; only internal ``page`` links are followed."""

    kind: LinkKind
    """``page``; ``download`` (has a ``download`` attribute); ``mailto``, ``tel``,
    ``javascript``; ``other`` for any other scheme. Only ``page`` links are followed."""

    visible: bool
    """Rendered and visible when the page was analysed (a click on it can work)."""

    new_tab: bool
    """Opens in another browsing context (``target`` other than _self/_parent/_top)."""

    test_id: str | None = None
    """The ``data-testid`` attribute (read for links a generated step may click)."""

    css: str | None = None
    """A selector unique in the document (read for links a generated step may click)."""

    target: Target | None = None
    """The locator that found this link alone and visible in the live page at crawl time
    (``crawler.locators``); ``None`` when none did or it was not tried."""


class FieldOption(BaseModel):
    """One ``<option>`` of a select field."""

    value: str
    label: str
    selected: bool


class FormField(BaseModel):
    """One control of a form, with every handle a test needs to find and fill it.

    Locator preference for generated tests: ``role`` + ``accessible_name``, then
    ``label``, ``placeholder``, ``test_id``, and ``css`` (always set, unique on
    the page when the crawl saw it).
    """

    tag: Literal["input", "select", "textarea"]
    type: str
    """Input type (``text``, ``email``, ``checkbox``...), ``select-one``,
    ``select-multiple`` or ``textarea``."""

    name: str | None
    """The ``name`` attribute: the key it is submitted under."""

    id: str | None
    label: str | None
    """Text of its ``<label>`` elements or aria-labelledby, else its aria-label."""

    accessible_name: str
    role: str | None
    """ARIA role as Playwright's ``get_by_role`` sees it; ``None`` for hidden inputs."""

    placeholder: str | None
    test_id: str | None
    """The ``data-testid`` attribute."""

    css: str
    required: bool
    disabled: bool
    readonly: bool
    visible: bool
    value: str | None
    """Current value (the value a checkbox or radio submits); never read for passwords."""

    options: list[FieldOption] = Field(default_factory=list)
    pattern: str | None = None
    min_length: int | None = None
    max_length: int | None = None
    min: str | None = None
    max: str | None = None
    target: Target | None = None
    """The locator verified at crawl time to find this field alone and visible."""


class FormButton(BaseModel):
    """The button that submits a form."""

    name: str
    """Accessible name, for ``get_by_role("button", name=...)``."""

    css: str
    test_id: str | None
    target: Target | None = None
    """The locator verified at crawl time to find this button alone and visible."""


class FormSubmission(BaseModel):
    """What happened when the crawl filled and submitted a GET form once, as its case would."""

    outcome: SubmitOutcome
    """``navigated`` (to a page on the site), ``download``, ``left_origin``,
    ``no_navigation`` (nothing loaded within a few seconds), or ``failed`` (a step failed)."""

    url: str | None = None
    """Where the submission landed (``navigated``, ``left_origin``)."""

    status: int | None = None
    """HTTP status of the page it landed on."""

    console_errors: list[str] = Field(default_factory=list)
    """Console errors and uncaught exceptions from the click until the landing page loaded."""

    error: str | None = None
    """Why a step failed (``failed``)."""


class PageForm(BaseModel):
    """One ``<form>`` of a page, in document order."""

    id: str | None
    name: str | None
    action: str
    """Absolute URL the form submits to (the page itself when no action is given)."""

    method: str
    """``get``, ``post`` or ``dialog``."""

    css: str
    test_id: str | None
    fields: list[FormField]
    submit: FormButton | None
    submission: FormSubmission | None = None
    """The crawl's own submission of this GET form; ``None`` when it did not submit it
    (not GET, not simple, or the same form was submitted on another page)."""


class FailedRequest(BaseModel):
    """A resource of the page (not the page itself) that answered 4xx/5xx or failed."""

    url: str
    resource_type: str
    """Playwright's resource type: ``image``, ``script``, ``stylesheet``, ``fetch``..."""

    status: int | None
    error: str | None
    """Network error text (``net::ERR_CONNECTION_REFUSED``...) when there was no response."""


class Unlocated(BaseModel):
    """An element a generated step would use that no candidate locator found alone."""

    element: str
    """What it is, e.g. ``link "Docs"``, ``field "Email"``, ``heading "Reports"``."""

    reason: LocatorProblem
    """What its first candidate found: several elements (``not_unique``), none or
    another element (``not_found``), or it hidden (``hidden``)."""


class PageResult(BaseModel):
    """Everything found on one visited page."""

    url: str
    """Normalised final URL, after HTTP and immediate client-side redirects."""

    redirected_from: str | None
    """The URL that was requested, when it is not ``url``."""

    status: int | None
    """HTTP status of the document; ``None`` when no response came."""

    content_type: str | None
    """MIME type of the document, without parameters."""

    title: str
    heading: str | None
    """Text of the main ``<h1>`` (the first inside ``<main>``, else the first)."""

    heading_target: Target | None = None
    """The locator verified at crawl time to find the main heading alone (by role and
    exact name, with ``level`` when another heading has the same name)."""

    depth: int
    referrer: str | None
    """The page (or sitemap) where the URL was first found; ``None`` for the start page."""

    load_time: int
    """Milliseconds from the request to the ``load`` event (or to the timeout)."""

    links: list[PageLink]
    forms: list[PageForm]
    console_errors: list[str]
    """``console.error`` messages and uncaught exceptions (``Name: message``), sorted."""

    failed_requests: list[FailedRequest]
    download: bool
    """The response was a file download (``Content-Disposition: attachment``): not rendered."""

    truncated: bool
    """The page had more links, forms or fields than the crawler keeps; the rest are left out."""

    error: str | None
    """Why the page could not load (fully); ``None`` when it did."""

    unlocated: list[Unlocated] = Field(default_factory=list)
    """Elements no verified locator was found for (see ``crawler.locators``)."""

    dynamic: list[str] | None = Field(default_factory=list)
    """CSS selectors of what looks different on every load (``crawler.dynamic``):
    elements showing volatile text, then media, canvases and frames; ``None`` when
    too many elements show volatile text to mask them."""

    audits: PageAudits | None = None
    """What the audits found; ``None`` for pages not audited (not HTML, not 2xx, not loaded,
    or every category turned off)."""


class BrokenLink(BaseModel):
    """A link whose target answered 4xx/5xx or could not be loaded."""

    url: str
    name: str
    """The link's accessible name on ``found_on``."""

    status: int | None
    error: str | None
    found_on: str
    """The crawled page the link is on."""

    internal: bool = True
    """On the crawl's origin; external links are checked only with ``check_external_links``."""


class CrawlResult(BaseModel):
    """The outcome of a crawl that ran (possibly cut short by a limit)."""

    pages: list[PageResult]
    """Every page, in result order; empty when the crawl handed them to ``on_page``."""

    pages_crawled: int
    """How many pages the crawl found (``on_page`` given or not)."""

    broken_links: list[BrokenLink]
    stopped_reason: StopReason
    """``completed`` (nothing left within depth), ``max_pages`` or ``max_duration``."""

    links_checked: int = 0
    """Link targets checked with a plain request (not visited as pages): those beyond
    ``depth`` or ``max_pages``, over the query-variant budget, excluded, or external."""
