"""What a crawl's audits add up to: ``audit_summary`` and the rules of ``GET /crawls/:id/audits``.

Both read the pages' stored audits only, so they can be computed again from a
crawl's pages at any time (a running or cancelled crawl's, too).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from crawler.audits.models import (
    AUDIT_CATEGORIES,
    MAX_EXAMPLE_NODES,
    AuditCategory,
    AuditSummary,
    CategorySummary,
    PageAudits,
    RuleExample,
    RuleSummary,
)
from crawler.audits.scoring import category_findings
from runner.axe import AXE_VERSION, IMPACTS, Impact

MAX_EXAMPLE_URLS = 5


def audit_summary(pages: Sequence[tuple[str, PageAudits | None]]) -> AuditSummary | None:
    """The summary of the audited ``(url, audits)`` pages; ``None`` when none was audited."""
    audited = [audits for _url, audits in pages if audits is not None]
    if not audited:
        return None
    categories = {category: _category(audited, category) for category in AUDIT_CATEGORIES}
    return AuditSummary(pages=len(audited), axe_version=AXE_VERSION, **categories)


def _category(audited: list[PageAudits], category: AuditCategory) -> CategorySummary | None:
    found = [category_findings(audits, category) for audits in audited]
    lists = [items for items in found if items is not None]
    if not lists:
        return None
    scores = [audits.scores[category] for audits in audited if category in audits.scores]
    impacts = [item.impact for items in lists for item in items]
    return CategorySummary(
        score=round(sum(scores) / len(scores)) if scores else None,
        pages=len(lists),
        failing_pages=sum(1 for items in lists if items),
        findings={impact: impacts.count(impact) for impact in reversed(IMPACTS)},
    )


@dataclass
class _Rule:
    category: AuditCategory
    rule: str
    impact: Impact
    help: str
    pages: int = 0
    nodes: int = 0
    example_urls: list[str] = field(default_factory=list)
    examples: list[RuleExample] = field(default_factory=list)


def audit_rules(pages: Sequence[tuple[str, PageAudits | None]]) -> list[RuleSummary]:
    """Every rule some of the crawl's ``pages`` (all of them, in crawl order) fails, worst
    first: by impact, then by the pages failing it."""
    rules: dict[tuple[AuditCategory, str], _Rule] = {}
    for index, (url, audits) in enumerate(pages):
        if audits is None:
            continue
        for category in AUDIT_CATEGORIES:
            for item in category_findings(audits, category) or ():
                rule = rules.setdefault(
                    (category, item.rule), _Rule(category, item.rule, item.impact, item.help)
                )
                if IMPACTS.index(item.impact) > IMPACTS.index(rule.impact):
                    rule.impact = item.impact
                rule.pages += 1
                rule.nodes += item.node_count
                if len(rule.example_urls) < MAX_EXAMPLE_URLS:
                    rule.example_urls.append(url)
                    nodes = item.nodes[:MAX_EXAMPLE_NODES]
                    rule.examples.append(
                        RuleExample(index=index, url=url, nodes=nodes, node_count=item.node_count)
                    )
    ordered = sorted(
        rules.values(),
        key=lambda r: (
            -IMPACTS.index(r.impact),
            -r.pages,
            AUDIT_CATEGORIES.index(r.category),
            r.rule,
        ),
    )
    return [RuleSummary.model_validate(rule, from_attributes=True) for rule in ordered]
