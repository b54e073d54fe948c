"""The SEO audit: what a search engine reads on a page, and titles repeated across a crawl.

Per page, from the document and its main response: a missing ``<title>``, meta
description, ``<html lang>`` or canonical link, a count of (rendered) ``<h1>``
other than one, images without an ``alt`` attribute (``alt=""`` marks a decorative
image and is fine), and ``noindex`` in a robots meta tag or the ``X-Robots-Tag``
header. Across the crawl, ``duplicate_findings`` finds the pages sharing a title or a
meta description with another page.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from playwright.async_api import Page, Response

from crawler.audits.models import MAX_NODES, AuditNode, Finding
from crawler.models import PageResult
from runner.axe import Impact

_SEO_JS = r"""
(maxNodes) => {
  const clip = (s) => (s || "").replace(/\s+/g, " ").trim();
  const meta = (name) => {
    const found = Array.from(document.querySelectorAll("meta[name]"))
      .find((el) => el.name.toLowerCase() === name);
    return found ? found.getAttribute("content") || "" : null;
  };
  const rendered = (el) => !el.checkVisibility || el.checkVisibility();
  const label = (el) => {
    const tag = el.tagName.toLowerCase();
    if (el.id) return tag + "#" + CSS.escape(el.id);
    const src = el.getAttribute("src");
    return src ? tag + "[src=" + JSON.stringify(src) + "]" : tag;
  };
  const nodes = (els) => ({
    count: els.length,
    nodes: els.slice(0, maxNodes)
      .map((el) => ({ target: label(el), html: el.outerHTML.slice(0, 300) })),
  });
  return {
    title: document.querySelector("title") ? clip(document.title) : null,
    description: meta("description"),
    lang: document.documentElement.getAttribute("lang"),
    h1: nodes(Array.from(document.querySelectorAll("h1")).filter(rendered)),
    canonical: Boolean(document.querySelector("link[rel~=canonical i][href]")),
    images: nodes(Array.from(document.querySelectorAll("img:not([alt])"))),
    robots: [meta("robots"), meta("googlebot")].filter((value) => value !== null).join(","),
  };
}
"""


def _noindex(directives: str) -> bool:
    words = {word.strip().lower() for word in directives.replace(";", ",").split(",")}
    return bool(words & {"noindex", "none"})


async def audit_seo(page: Page, response: Response) -> tuple[list[Finding], str | None]:
    """The page's own SEO findings, and its meta description (for ``duplicate_findings``)."""
    facts: dict[str, Any] = await page.evaluate(_SEO_JS, MAX_NODES)
    found: list[Finding] = []

    def finding(rule: str, impact: Impact, help: str, nodes: dict[str, Any] | None = None) -> None:
        kept = [AuditNode.model_validate(node) for node in nodes["nodes"]] if nodes else []
        count = nodes["count"] if nodes else 0
        found.append(Finding(rule=rule, impact=impact, help=help, nodes=kept, node_count=count))

    if not facts["title"]:
        finding("title-missing", "serious", "The page has no <title>, or an empty one")
    description = (facts["description"] or "").strip() or None
    if description is None:
        finding("meta-description-missing", "moderate", "The page has no meta description")
    if not (facts["lang"] or "").strip():
        finding("html-lang-missing", "moderate", "The <html> element has no lang attribute")
    h1 = facts["h1"]
    if h1["count"] != 1:
        finding("h1-count", "moderate", "The page should have exactly one <h1>", h1)
    if not facts["canonical"]:
        finding("canonical-missing", "minor", 'The page has no <link rel="canonical">')
    images = facts["images"]
    if images["count"]:
        finding("image-alt-missing", "moderate", "Images without an alt attribute", images)
    header = response.headers.get("x-robots-tag", "")
    if _noindex(facts["robots"]) or _noindex(header):
        source = "its robots meta tag" if _noindex(facts["robots"]) else "X-Robots-Tag"
        finding("noindex", "serious", f"The page asks search engines not to index it ({source})")
    return found, description


SeoTexts = tuple[str | None, str | None]
"""What pages are compared by across a crawl: a page's title and its meta description."""


def seo_texts(page: PageResult) -> SeoTexts | None:
    """``page``'s title and meta description; ``None`` when it was not audited for SEO."""
    audits = page.audits
    if audits is None or audits.seo is None:
        return None
    return page.title, audits.meta_description


def duplicate_findings(pages: Iterable[SeoTexts | None]) -> dict[int, list[Finding]]:
    """The ``title-duplicate`` and ``meta-description-duplicate`` findings of the pages
    whose title or meta description another page has too, by the page's index in ``pages``
    (each page's ``seo_texts``), in order. Pages not audited for SEO take no part."""
    texts = list(pages)
    found: defaultdict[int, list[Finding]] = defaultdict(list)
    for position, (rule, what, impact) in enumerate(_DUPLICATES):
        groups: defaultdict[str, list[int]] = defaultdict(list)
        for index, item in enumerate(texts):
            text = item[position] if item is not None else None
            if text:
                groups[text].append(index)
        for group in groups.values():
            for index in group if len(group) > 1 else ():
                help = f"Another page has the same {what}"
                found[index].append(Finding(rule=rule, impact=impact, help=help))
    return dict(sorted(found.items()))


_DUPLICATES: list[tuple[str, str, Impact]] = [
    ("title-duplicate", "title", "moderate"),
    ("meta-description-duplicate", "meta description", "minor"),
]
