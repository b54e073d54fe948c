"""A page's 0-100 score per audit category.

Accessibility, SEO and security: 100 less a penalty for every rule the page
fails, by its impact (``PENALTIES``), however many elements fail it; never below
0. Performance: Lighthouse's score of the figures (``performance_score``).
"""

from __future__ import annotations

from crawler.audits.models import AuditCategory, Finding, PageAudits
from crawler.audits.performance import performance_findings, performance_score
from runner.axe import Impact

PENALTIES: dict[Impact, int] = {"critical": 25, "serious": 15, "moderate": 8, "minor": 3}
"""Points a failed rule takes off its category's score, by impact."""


def category_findings(audits: PageAudits, category: AuditCategory) -> list[Finding] | None:
    """The findings of an audited category (performance: of its figures); ``None`` when the
    category was not audited."""
    if category == "performance":
        return None if audits.performance is None else performance_findings(audits.performance)
    found: list[Finding] | None = getattr(audits, category)
    return found


def page_scores(audits: PageAudits) -> dict[AuditCategory, int]:
    """The page's score in each audited category."""
    scores: dict[AuditCategory, int] = {}
    if audits.performance is not None:
        score = performance_score(audits.performance)
        if score is not None:
            scores["performance"] = score
    for category in ("accessibility", "seo", "security"):
        found = category_findings(audits, category)
        if found is not None:
            scores[category] = max(0, 100 - sum(PENALTIES[item.impact] for item in found))
    return scores
