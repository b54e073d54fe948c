"""A crawl's audits: the crawl page's Audits panel (scores, the rules its pages fail by
category, new and fixed findings) and one rule's page (every page failing it, with
the elements concerned).

Both read what the API answers: ``audit_summary`` and ``changes`` of the crawl's row,
and the handlers of ``GET /crawls/:id/audits`` and ``GET /crawls/:id/audits/:category/:rule``.
The panel lists a few pages per rule and per change; the rule's page lists them all.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from aegisd.api import crawls, projects
from aegisd.dashboard.pages import PageRouter, call, page_number, render
from aegisd.envelope import PageQuery
from aegisd.sse import ACTIVE
from crawler.audits.models import AUDIT_CATEGORIES, AuditCategory, RuleSummary
from crawler.audits.scoring import PENALTIES
from runner.axe import IMPACTS, Impact

pages = PageRouter()

PAGES_PER_RULE = 50
"""Pages per page of a rule's list."""

CHANGES_SHOWN = 5
"""URLs shown per rule among the crawl page's new and fixed findings."""

CHANGES_LISTED = 200
"""URLs listed per rule and kind of change on the rule's page."""

CATEGORY_NAMES: dict[AuditCategory, str] = {
    "accessibility": "Accessibility",
    "performance": "Performance",
    "seo": "SEO",
    "security": "Security",
}

_IMPACT_STATUS = {"critical": "failed", "serious": "error", "moderate": "flaky", "minor": "skipped"}


def impact_status(impact: str | None) -> str:
    """The status colour of an impact: critical red, serious orange, moderate amber, minor grey."""
    return _IMPACT_STATUS.get(impact or "", "skipped")


def score_status(score: int | None) -> str:
    """The status colour of a 0-100 score, in Lighthouse's bands: 90+ good, 50-89, below 50."""
    if score is None:
        return "skipped"
    return "passed" if score >= 90 else "flaky" if score >= 50 else "failed"


@dataclass
class ChangedRule:
    """The pages on which one rule's finding is new (or fixed) since the previous crawl."""

    category: AuditCategory
    rule: str
    impact: Impact
    urls: list[str] = field(default_factory=list)


def changed_rules(found: Iterable[Mapping[str, Any]]) -> list[ChangedRule]:
    """``changes.new_findings`` (or ``fixed_findings``) by rule, worst first, then by how
    many pages."""
    rules: dict[tuple[AuditCategory, str], ChangedRule] = {}
    for item in found:
        key = (item["category"], item["rule"])
        rule = rules.setdefault(key, ChangedRule(item["category"], item["rule"], item["impact"]))
        if IMPACTS.index(item["impact"]) > IMPACTS.index(rule.impact):
            rule.impact = item["impact"]
        rule.urls.append(item["url"])
    return sorted(
        rules.values(),
        key=lambda r: (-IMPACTS.index(r.impact), -len(r.urls), r.category, r.rule),
    )


async def audits_panel(request: web.Request, crawl: Mapping[str, Any]) -> dict[str, Any]:
    """What the crawl page's Audits panel reads: ``audits`` (``None`` while the crawl runs)."""
    if crawl["status"] in ACTIVE:
        return {"audits": None}
    rules: list[RuleSummary] = await call(
        request, crawls.list_crawl_audits, crawl_id=crawl["id"], query=crawls.AuditsQuery()
    )
    changes = crawl["changes"] or {}
    return {
        "audits": {
            "summary": crawl["audit_summary"],
            "categories": [
                (category, [rule for rule in rules if rule.category == category])
                for category in AUDIT_CATEGORIES
            ],
            "requested": crawl["options"].get("audits", AUDIT_CATEGORIES),
            "compared": "new_findings" in changes,
            "new": changed_rules(changes.get("new_findings", ())),
            "fixed": changed_rules(changes.get("fixed_findings", ())),
        },
        "category_names": CATEGORY_NAMES,
        "penalties": PENALTIES,
        "changes_shown": CHANGES_SHOWN,
    }


@pages.get("/crawls/{crawl_id}/audits/{category}/{rule}")
async def rule_page(request: web.Request) -> web.StreamResponse:
    crawl_id, category, rule = (request.match_info[k] for k in ("crawl_id", "category", "rule"))
    query = PageQuery(page=page_number(request), limit=PAGES_PER_RULE)
    listed = await call(
        request,
        crawls.list_rule_pages,
        crawl_id=crawl_id,
        category=category,
        rule=rule,
        query=query,
    )
    crawl = await crawls.load_crawl(request, crawl_id)
    rules: list[RuleSummary] = await call(
        request,
        crawls.list_crawl_audits,
        crawl_id=crawl_id,
        query=crawls.AuditsQuery(category=category),
    )
    project = await call(request, projects.get_project, project_id=crawl["project_id"])
    changes = crawl["changes"] or {}

    def changed(kind: str) -> list[str]:
        return [
            item["url"]
            for item in changes.get(kind, ())
            if (item["category"], item["rule"]) == (category, rule)
        ]

    context = {
        "crawl": crawl,
        "project": project,
        "category": category,
        "category_name": CATEGORY_NAMES[category],  # type: ignore[index]
        "rule": rule,
        "summary": next((item for item in rules if item.rule == rule), None),
        "pages": listed.items,
        "pagination": listed,
        "new": changed("new_findings"),
        "fixed": changed("fixed_findings"),
        "changes_listed": CHANGES_LISTED,
        "previous_crawl_id": changes.get("previous_crawl_id"),
    }
    return await render(request, "crawls/rule.html", context, nav="projects")
