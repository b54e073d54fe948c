"""Reading a loaded page in one ``page.evaluate``: what the document is, its analysis,
the parts of it that change from load to load, and the types of failed resources.

One round trip (``READ_PAGE_JS``) answers one JSON string (much faster to pass than
a structured value):

- for an HTML document the crawl has not read before, ``crawler.analysis``'s and
  ``crawler.dynamic``'s findings (``ANALYSE_PAGE_JS``, ``FIND_DYNAMIC_JS``); a
  document already read (in a reused tab: the previous page, still showing) or not
  a web page gets none;
- resource types, as Playwright names them (``image``, ``script``, ``stylesheet``,
  ``fetch``...), of the resources named in the call and of those Resource Timing
  saw answer 4xx/5xx: the console tells a failed resource's URL and status, not
  its type. They are derived from the entry's ``initiatorType``.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page

from crawler.analysis import ANALYSE_PAGE_JS, ELEMENTS_KEY, LIMITS, PageAnalysis, parse_analysis
from crawler.dynamic import DYNAMIC_ARGS, FIND_DYNAMIC_JS, dynamic_selectors

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})

_NAVIGATION_RETRIES = 2

READ_PAGE_JS = rf"""
(args) => {{
  const web = location.protocol === "http:" || location.protocol === "https:";
  const fresh = web && !(args.elementsKey in window);
  const html = fresh && args.htmlTypes.includes(document.contentType);
  const TYPES = {{ img: "image", image: "image", input: "image", script: "script",
    fetch: "fetch", xmlhttprequest: "xhr", iframe: "document", frame: "document",
    video: "media", audio: "media", track: "texttrack", beacon: "ping" }};
  const PRELOADS = {{ style: "stylesheet", script: "script", font: "font", image: "image",
    fetch: "fetch", document: "document" }};
  const linkType = (url) => {{
    const link = Array.from(document.querySelectorAll("link[href]")).find((l) => l.href === url);
    const rel = link ? link.relList : null;
    if (rel && rel.contains("stylesheet")) return "stylesheet";
    return (rel && PRELOADS[link.as]) || "other";
  }};
  const typeOf = (entry) => {{
    if (entry.initiatorType === "link") return linkType(entry.name);
    if (entry.initiatorType === "css") {{
      return /\.(woff2?|ttf|otf|eot)([?#]|$)/i.test(entry.name) ? "font" : "image";
    }}
    return TYPES[entry.initiatorType] || "other";
  }};
  const asked = new Set(args.resources);
  const types = {{}};
  for (const entry of performance.getEntriesByType("resource")) {{
    if (asked.has(entry.name) || entry.responseStatus >= 400) types[entry.name] = typeOf(entry);
  }}
  return JSON.stringify({{
    analysis: html ? ({ANALYSE_PAGE_JS})([args.limits, args.elementsKey]) : null,
    dynamic: html ? ({FIND_DYNAMIC_JS})(args.dynamic) : null,
    types,
  }});
}}
"""


@dataclass(frozen=True)
class PageRead:
    """What one read of a page found."""

    analysis: PageAnalysis | None
    """``None`` unless the document is HTML and was not read before."""

    dynamic: list[str] | None
    """As ``crawler.dynamic.dynamic_selectors``; empty without an analysis."""

    resource_types: dict[str, str]
    """Resource URL to Playwright's name of its type."""


async def read_page(page: Page, origin: str | None, resources: Collection[str]) -> PageRead:
    """Read the page's current document; links are internal when on ``origin`` (``None``:
    the document's own origin); the types of ``resources`` (URLs) are looked up.

    A document replaced by a navigation while it is read is read again after it loads.
    """
    arguments = {
        "elementsKey": ELEMENTS_KEY,
        "htmlTypes": sorted(HTML_TYPES),
        "limits": LIMITS,
        "dynamic": DYNAMIC_ARGS,
        "resources": list(resources),
    }
    retries = 0
    while True:
        try:
            answer = await page.evaluate(READ_PAGE_JS, arguments)
        except PlaywrightError as exc:
            if retries == _NAVIGATION_RETRIES or "context was destroyed" not in exc.message:
                raise
            retries += 1
            await page.wait_for_load_state("load")
            continue
        return _parse(json.loads(answer), origin)


def _parse(raw: dict[str, Any], origin: str | None) -> PageRead:
    analysed = raw["analysis"]
    return PageRead(
        analysis=parse_analysis(analysed, origin) if analysed is not None else None,
        dynamic=dynamic_selectors(raw["dynamic"]) if analysed is not None else [],
        resource_types=raw["types"],
    )
