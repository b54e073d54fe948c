"""What Playwright locators match in the live page: many locators in one round trip.

``matches_of(page, targets)`` answers, per target, the elements ``runner.playback.locate``
finds for it, each as its number in the page's analysis (``ELEMENTS_KEY``; -1 for an
element the analysis did not keep) and whether it is visible as Playwright's
``is_visible`` judges.

The targets are asked at once: each locator is chained with the ``MARK_ENGINE``
selector engine, which matches the element it is given and notes which locator
found it, and the chains are joined with ``Locator.or_``; one ``evaluate_all`` on
the union reads the notes. Each locator is evaluated by Playwright's own engines
from the document, as it would be alone (the union only shares their caches), so
every answer is what that locator matches. The engine must be registered first
(``Browsers.register_selector_engine(MARK_ENGINE, MARK_ENGINE_JS)``); without it, or
if Playwright refuses a locator of the batch, the targets are asked one by one,
and a target Playwright refuses alone answers ``None``.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Sequence
from typing import Any

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page

from crawler.analysis import ELEMENTS_KEY
from runner.playback import locate
from runner.steps import Target

Matches = list[tuple[int, bool]]

MARK_ENGINE = "aegisd-mark"
"""The selector engine noting which locator of a batch found an element."""

_NOTES = 'Symbol.for("aegisd.matches")'

MARK_ENGINE_JS = f"""({{
  queryAll(root, body) {{
    let notes = globalThis[{_NOTES}];
    if (!notes) {{
      notes = new Map();
      Object.defineProperty(globalThis, {_NOTES}, {{ value: notes, configurable: true }});
    }}
    if (!notes.has(body)) notes.set(body, []);
    notes.get(body).push(root);
    return [root];
  }}
}})"""
"""``aegisd-mark=<batch>:<index>`` matches the element it is applied to, noting it under
that name for the batch's ``evaluate_all`` to read."""

# For each element: its number in the analysis and whether it is visible, judged as
# Playwright's isVisible does (injected computeBox).
_DESCRIBE_JS = """
  const known = window[key];
  const textShown = (node) => {
    const range = document.createRange();
    range.selectNode(node);
    const box = range.getBoundingClientRect();
    return box.width > 0 && box.height > 0;
  };
  const visible = (el) => {
    const style = getComputedStyle(el);
    if (style.display === "contents") {
      for (let child = el.firstChild; child; child = child.nextSibling) {
        if (child.nodeType === 1 && visible(child)) return true;
        if (child.nodeType === 3 && textShown(child)) return true;
      }
      return false;
    }
    if (!el.checkVisibility() || style.visibility !== "visible") return false;
    const box = el.getBoundingClientRect();
    return box.width > 0 && box.height > 0;
  };
  const describe = (elements) => elements.map((el) =>
    [known && known.index.has(el) ? known.index.get(el) : -1, visible(el)]);
"""

_MATCHES_JS = f"(elements, key) => {{ {_DESCRIBE_JS} return describe(elements); }}"

_BATCH_JS = f"""(_elements, [key, batch, count]) => {{
  {_DESCRIBE_JS}
  const notes = globalThis[{_NOTES}] || new Map();
  const answer = [];
  for (let i = 0; i < count; i += 1) answer.push(describe(notes.get(`${{batch}}:${{i}}`) || []));
  notes.clear();
  return answer;
}}"""

_batches = itertools.count()


async def matches_of(page: Page, targets: Sequence[Target]) -> list[Matches | None]:
    """What each of ``targets`` matches in ``page`` now, in their order; ``None`` for a
    target Playwright refused."""
    if not targets:
        return []
    try:
        return list(await batch_matches(page, targets))
    except PlaywrightError:
        return list(await asyncio.gather(*(_matches(page, target) for target in targets)))


async def batch_matches(page: Page, targets: Sequence[Target]) -> list[Matches]:
    """What each of ``targets`` matches, asked in one ``evaluate_all``; raises
    ``PlaywrightError`` if Playwright refuses any of them or knows no ``MARK_ENGINE``."""
    batch = next(_batches)
    marked = [
        locate(page, target).locator(f"{MARK_ENGINE}={batch}:{index}")
        for index, target in enumerate(targets)
    ]
    union = marked[0]
    for locator in marked[1:]:
        union = union.or_(locator)
    answer = await union.evaluate_all(_BATCH_JS, [ELEMENTS_KEY, batch, len(targets)])
    return [_parse(found) for found in answer]


async def _matches(page: Page, target: Target) -> Matches | None:
    try:
        answer = await locate(page, target).evaluate_all(_MATCHES_JS, ELEMENTS_KEY)
    except PlaywrightError:
        return None
    return _parse(answer)


def _parse(answer: Any) -> Matches:
    return [(int(ref), bool(shown)) for ref, shown in answer]
