"""axe-core, as shipped inside the ``axe-playwright-python`` package, run in a page.

The crawler's accessibility audit, the executor's ``expect_no_a11y_violations``
and the Python export all run this one bundled ``axe.min.js`` (nothing is fetched
at run time) with the WCAG 2.x A and AA tags; the TypeScript export runs the same
axe-core version through ``@axe-core/playwright`` with the same tags. A violation
node is named by its ``target``: axe's CSS selectors, joined with ``" >>> "`` when
axe needs several (frames, shadow roots), the same way in every language.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from importlib.resources import files
from typing import Any, Literal, get_args

from playwright.async_api import Page

Impact = Literal["minor", "moderate", "serious", "critical"]
IMPACTS: tuple[Impact, ...] = get_args(Impact)
"""axe's impact levels, least severe first."""

A11Y_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa")
"""The axe-core rule tags run: WCAG 2.0, 2.1 and 2.2, levels A and AA."""

TARGET_SEPARATOR = " >>> "

AXE_JS = (files("axe_playwright_python") / "axe.min.js").read_text(encoding="utf-8")
"""The axe-core script bundled with ``axe-playwright-python``."""

_VERSION = re.search(r"axe v(\d+\.\d+\.\d+)", AXE_JS[:200])
AXE_VERSION = _VERSION.group(1) if _VERSION else "unknown"
"""The bundled axe-core's version; the TypeScript export asks for the same one."""

AXE_OPTIONS: dict[str, Any] = {
    "runOnly": {"type": "tag", "values": list(A11Y_TAGS)},
    "resultTypes": ["violations"],
}
"""``axe.run`` options: the WCAG tags; passed rules are not detailed."""

_RUN_AXE = "(options) => axe.run(document, options).then((results) => results.violations)"

Violation = dict[str, Any]
"""One entry of axe's ``violations``: ``id``, ``impact``, ``help``, ``nodes`` (each with
``target`` and ``html``)..."""


async def run_axe(page: Page) -> list[Violation]:
    """axe-core's violations on ``page``'s current document (axe is injected first)."""
    await page.evaluate(AXE_JS)
    violations: list[Violation] = await page.evaluate(_RUN_AXE, AXE_OPTIONS)
    return violations


def node_target(node: dict[str, Any]) -> str:
    """The name of a violation node: its selectors, joined with ``" >>> "``."""
    parts: list[str] = []
    for part in node.get("target", []):
        parts.extend([part] if isinstance(part, str) else part)
    return TARGET_SEPARATOR.join(parts)


def at_least(impact: str | None, threshold: Impact) -> bool:
    """Whether ``impact`` (``None``: unknown, counted as minor) is ``threshold`` or worse."""
    level = impact if impact in IMPACTS else "minor"
    return IMPACTS.index(level) >= IMPACTS.index(threshold)


def unignored(
    violations: list[Violation], threshold: Impact, ignore: Collection[tuple[str, str | None]]
) -> list[str]:
    """The nodes of ``violations`` at ``threshold`` or worse that ``ignore`` does not cover,
    as ``rule (impact): target`` lines.

    ``ignore`` holds ``(rule, target)`` pairs; a ``None`` target ignores the whole rule.
    """
    found = []
    for violation in violations:
        rule, impact = violation["id"], violation.get("impact")
        if not at_least(impact, threshold) or (rule, None) in ignore:
            continue
        for node in violation["nodes"]:
            target = node_target(node)
            if (rule, target) not in ignore:
                found.append(f"{rule} ({impact}): {target}")
    return found
