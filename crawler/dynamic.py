"""The parts of a page that look different on every load, found while it is crawled.

Generated screenshot checks mask them (DESIGN §8): elements whose visible text
looks volatile by :data:`VOLATILE_TEXT` (times, dates, counters, ids, "5 minutes
ago": the rule generation also uses to leave such text unasserted), and media,
canvases and frames. ``FIND_DYNAMIC_JS`` (run by ``crawler.reading`` in the
page's one ``page.evaluate``) answers CSS selectors: for text, the innermost
visible elements whose rendered text matches (an element is taken when none of
its children matches on its own), each as a path from the nearest ancestor with
a unique id; for media, one selector covering them all when the page has any.
"""

from __future__ import annotations

from typing import Any

from crawler.stable import VOLATILE_TEXT

MAX_DYNAMIC = 50
"""Most volatile-text elements kept; a page with more gets ``None`` (too many to mask)."""

MEDIA_SELECTOR = "audio, video, canvas, iframe, frame, embed, object"
"""Media, canvases and frames: what they show is not the page's own to compare."""

FIND_DYNAMIC_JS = r"""
(args) => {
  const volatile = new RegExp(args.pattern, "i");
  const SKIP = new Set(["SCRIPT", "STYLE", "TEMPLATE", "NOSCRIPT"]);
  const unique = (selector) => {
    try { return document.querySelectorAll(selector).length === 1; } catch { return false; }
  };
  const pathOf = (el) => {
    const steps = [];
    for (let node = el; node && node !== document.documentElement; node = node.parentElement) {
      const id = node.id && "#" + CSS.escape(node.id);
      if (id && unique(id)) { steps.unshift(id); break; }
      let index = 1;
      for (let s = node.previousElementSibling; s; s = s.previousElementSibling) {
        if (s.tagName === node.tagName) index += 1;
      }
      steps.unshift(`${node.tagName.toLowerCase()}:nth-of-type(${index})`);
    }
    return steps.join(" > ");
  };
  const shown = (el) => !SKIP.has(el.tagName) && (!el.checkVisibility || el.checkVisibility());
  const found = [];
  // Whether el shows volatile text; the innermost such elements are kept.
  const visit = (el) => {
    if (!shown(el) || !volatile.test(el.innerText ?? el.textContent ?? "")) return false;
    let inChild = false;
    for (const child of el.children) inChild = visit(child) || inChild;
    if (!inChild) found.push(el);
    return true;
  };
  if (document.body) visit(document.body);
  const volatileText = found.length > args.max ? null : found.map(pathOf);
  return { text: volatileText, media: document.querySelector(args.media) !== null };
}
"""


DYNAMIC_ARGS = {"pattern": VOLATILE_TEXT.pattern, "max": MAX_DYNAMIC, "media": MEDIA_SELECTOR}
"""The argument ``FIND_DYNAMIC_JS`` takes."""


def dynamic_selectors(found: dict[str, Any]) -> list[str] | None:
    """CSS selectors of the parts of the page that change from load to load, from what
    ``FIND_DYNAMIC_JS`` found, in document order (the media selector last); ``None``
    when more than :data:`MAX_DYNAMIC` elements show volatile text."""
    if found["text"] is None:
        return None
    selectors: list[str] = found["text"]
    return [*selectors, MEDIA_SELECTOR] if found["media"] else selectors
