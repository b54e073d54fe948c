"""The accessibility audit: axe-core's WCAG 2.x A and AA violations on the page."""

from __future__ import annotations

from playwright.async_api import Page

from crawler.audits.models import MAX_HTML, MAX_NODES, AuditNode, Finding
from runner.axe import IMPACTS, Violation, node_target, run_axe


async def audit_accessibility(page: Page) -> list[Finding]:
    """axe-core's violations on the page's document, in axe's rule order."""
    return [_finding(violation) for violation in await run_axe(page)]


def _finding(violation: Violation) -> Finding:
    impact = violation.get("impact")
    nodes = violation["nodes"]
    return Finding(
        rule=violation["id"],
        impact=impact if impact in IMPACTS else "minor",
        help=violation.get("help", ""),
        nodes=[
            AuditNode(target=node_target(node), html=node.get("html", "")[:MAX_HTML])
            for node in nodes[:MAX_NODES]
        ],
        node_count=len(nodes),
    )
