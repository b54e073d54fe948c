"""What a crawl's audits add up to: ``audit_summary`` and the rules of ``GET /crawls/:id/audits``.

Both read the pages' stored audits only, so they can be computed again from a
crawl's pages at any time (a running or cancelled crawl's, too).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from crawler.audits.models import (
    AUDIT_CATEGORIES,
    MAX_EXAMPLE_NODES,
    AuditCategory,
    AuditSummary,
    CategorySummary,
    Finding,
    PageAudits,
    RuleExample,
    RuleSummary,
)
from crawler.audits.scoring import category_findings
from runner.axe import AXE_VERSION, IMPACTS, Impact

MAX_EXAMPLE_URLS = 5


def audit_summary(pages: Iterable[tuple[str, PageAudits | None]]) -> AuditSummary | None:
    """The summary of the audited ``(url, audits)`` pages; ``None`` when none was audited."""
    return AuditTally(pages).summary()


def audit_rules(pages: Iterable[tuple[str, PageAudits | None]]) -> list[RuleSummary]:
    """Every rule some of the crawl's ``pages`` (all of them, in crawl order) fails, worst
    first: by impact, then by the pages failing it."""
    return AuditTally(pages).rules()


class AuditTally:
    """``audit_summary`` and ``audit_rules`` added up a page at a time, so a crawl's pages
    can be read a batch at a time: ``add`` every page in crawl order (its index is its
    place in that order), then read ``summary`` and ``rules``."""

    def __init__(self, pages: Iterable[tuple[str, PageAudits | None]] = ()) -> None:
        self._pages = 0
        self._audited = 0
        self._categories = {category: _Category() for category in AUDIT_CATEGORIES}
        self._rules: dict[tuple[AuditCategory, str], _Rule] = {}
        for url, audits in pages:
            self.add(url, audits)

    def add(self, url: str, audits: PageAudits | None) -> None:
        """Count the next page, at ``url``, with its ``audits`` (``None``: not audited)."""
        index = self._pages
        self._pages += 1
        if audits is None:
            return
        self._audited += 1
        for category in AUDIT_CATEGORIES:
            items = category_findings(audits, category)
            self._categories[category].add(items, audits.scores.get(category))
            for item in items or ():
                self._add_finding(category, item, index, url)

    def _add_finding(self, category: AuditCategory, item: Finding, index: int, url: str) -> None:
        rule = self._rules.setdefault(
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

    def summary(self) -> AuditSummary | None:
        """The summary of the pages added; ``None`` when none was audited."""
        if not self._audited:
            return None
        categories = {name: tally.summary() for name, tally in self._categories.items()}
        return AuditSummary(pages=self._audited, axe_version=AXE_VERSION, **categories)

    def rules(self) -> list[RuleSummary]:
        """Every rule the pages added fail, worst first."""
        ordered = sorted(
            self._rules.values(),
            key=lambda r: (
                -IMPACTS.index(r.impact),
                -r.pages,
                AUDIT_CATEGORIES.index(r.category),
                r.rule,
            ),
        )
        return [RuleSummary.model_validate(rule, from_attributes=True) for rule in ordered]


@dataclass
class _Category:
    """One category's figures over the pages audited in it."""

    pages: int = 0
    failing_pages: int = 0
    score_total: int = 0
    scored: int = 0
    impacts: Counter[Impact] = field(default_factory=Counter)

    def add(self, items: list[Finding] | None, score: int | None) -> None:
        if score is not None:
            self.score_total += score
            self.scored += 1
        if items is None:
            return
        self.pages += 1
        self.failing_pages += bool(items)
        self.impacts.update(item.impact for item in items)

    def summary(self) -> CategorySummary | None:
        if not self.pages:
            return None
        return CategorySummary(
            score=round(self.score_total / self.scored) if self.scored else None,
            pages=self.pages,
            failing_pages=self.failing_pages,
            findings={impact: self.impacts[impact] for impact in reversed(IMPACTS)},
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
