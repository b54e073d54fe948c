"""What the audits of a page find (``PageAudits``), and what a crawl's audits add up to.

A page's audits hold one entry per category: the accessibility, SEO and security
findings (``Finding``: a rule that failed, how badly, and the elements or cookies
concerned) and the performance figures. A category that was not audited (turned
off in ``settings.audits``, or it failed on that page) is ``None``.
"""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

from runner.axe import Impact

AuditCategory = Literal["accessibility", "performance", "seo", "security"]
AUDIT_CATEGORIES: tuple[AuditCategory, ...] = get_args(AuditCategory)

MAX_NODES = 20
"""Elements (or cookies, URLs) kept per finding; ``node_count`` says how many there were."""

MAX_HTML = 300
"""Characters of an element's HTML kept per node."""

MAX_EXAMPLE_NODES = 3
"""Elements shown per example page of a crawl's rule (``RuleExample``)."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AuditNode(_Model):
    """What a finding is about: an element (axe's selector and its HTML), a cookie (its name
    and its ``Set-Cookie`` line without the value) or a URL (an insecure resource)."""

    target: str
    html: str = ""


class Finding(_Model):
    """A rule a page fails."""

    rule: str
    """axe-core's rule id (``image-alt``) or aegisd's (``csp-missing``, ``h1-count``...)."""

    impact: Impact
    help: str
    """What the rule asks for, or what was found, in a sentence."""

    nodes: list[AuditNode] = Field(default_factory=list)
    """The first ``MAX_NODES`` elements concerned; empty for findings about the whole page."""

    node_count: int = 0
    """How many elements failed the rule (0 for findings about the whole page)."""


class PerformanceFigures(_Model):
    """A page's performance, measured in the page as ``runner/performance.js`` defines it."""

    ttfb: int | None
    fcp: int | None
    lcp: int | None
    cls: float | None
    tbt: int | None
    transfer_bytes: int | None
    requests: int | None


class PageAudits(_Model):
    """The audits of one page: each category's findings (performance: its figures), its
    0-100 scores, and why a category could not be audited."""

    accessibility: list[Finding] | None = None
    performance: PerformanceFigures | None = None
    seo: list[Finding] | None = None
    security: list[Finding] | None = None
    scores: dict[AuditCategory, int] = Field(default_factory=dict)
    errors: dict[AuditCategory, str] = Field(default_factory=dict)
    meta_description: str | None = None
    """The page's meta description, which the crawl compares across pages."""


class RuleExample(_Model):
    """A page failing a rule, with the first elements concerned."""

    index: int
    """The page's place in the crawl's pages, from 0 (``GET /crawls/:id/pages?limit=1&page=``
    one more)."""

    url: str
    nodes: list[AuditNode]
    """The first ``MAX_EXAMPLE_NODES`` elements (cookies, URLs) failing it on that page."""

    node_count: int


class RuleSummary(_Model):
    """One rule across a crawl: ``GET /crawls/:id/audits``."""

    category: AuditCategory
    rule: str
    impact: Impact
    """The worst impact it had on any page."""

    help: str
    pages: int
    """Pages failing it."""

    nodes: int
    """Elements failing it, over all those pages."""

    example_urls: list[str]
    """The first pages failing it, in crawl order."""

    examples: list[RuleExample] = Field(default_factory=list)
    """Those pages with their first elements failing it (empty in rules stored before
    examples were kept)."""


class CategorySummary(_Model):
    """One category across a crawl."""

    score: int | None
    """The mean of the audited pages' 0-100 scores; ``None`` when no page was audited."""

    pages: int
    """Pages audited in this category."""

    failing_pages: int
    """Pages with at least one finding."""

    findings: dict[Impact, int]
    """Findings (rule on a page) by impact."""


class AuditSummary(_Model):
    """``audit_summary`` of a crawl: a summary per category (``None``: not audited)."""

    pages: int
    """Pages audited."""

    axe_version: str
    accessibility: CategorySummary | None
    performance: CategorySummary | None
    seo: CategorySummary | None
    security: CategorySummary | None
