"""Analysing a loaded page: links, forms, title and main heading.

The browser does the work (``ANALYSE_PAGE_JS``, run by ``crawler.reading`` in the
page's one ``page.evaluate``) and ``parse_analysis`` turns its answer into models.
Accessible names follow the ARIA precedence Playwright's ``get_by_role`` uses
(aria-labelledby, aria-label, ``<label>``, content, title, placeholder), without
CSS pseudo-element content and shadow DOM. Huge pages are capped (``LIMITS``).

The elements a generated step may act on (links, fields, submit buttons, the main
heading) are kept in the page under ``ELEMENTS_KEY``, numbered as in ``ElementRefs``,
so ``crawler.locators`` can tell whether a Playwright locator finds that very element.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from crawler.models import PageForm, PageLink, Unlocated
from crawler.urls import normalise_url, origin_of, same_origin
from runner.steps import Target

LIMITS = {
    "links": 2000,
    "forms": 50,
    "fields": 200,
    "options": 100,
    "text": 300,
    "link_selectors": 30,
}
"""Most links, forms, fields per form and options per select kept; longest text kept;
links given a test id and a CSS selector (the first shown, same-origin, named ones)."""

ELEMENTS_KEY = "__aegisdElements"
"""The page's global holding ``{refs: [element...], index: Map(element -> ref)}``."""

ANALYSE_PAGE_JS = r"""
([limits, elementsKey]) => {
  let truncated = false;
  const refs = [];
  const refOf = (el) => refs.push(el) - 1;
  const cut = (s) => (s === null || s === undefined ? null : String(s).slice(0, limits.text));
  const clip = (s) => (s || "").replace(/\s+/g, " ").trim().slice(0, limits.text);
  const attr = (el, name) => cut(el.getAttribute(name));
  const SKIP = new Set(["SCRIPT", "STYLE", "TEMPLATE", "NOSCRIPT", "INPUT", "SELECT", "TEXTAREA"]);
  const textOf = (root) => {
    const parts = [];
    const walk = (node) => {
      for (const child of node.childNodes) {
        if (parts.length > 500) return;
        if (child.nodeType === Node.TEXT_NODE) { parts.push(child.data); continue; }
        if (child.nodeType !== Node.ELEMENT_NODE || SKIP.has(child.tagName)) continue;
        if (child.hidden || child.getAttribute("aria-hidden") === "true") continue;
        const style = getComputedStyle(child);
        if (style.display === "none" || style.visibility === "hidden") continue;
        const gap = style.display.startsWith("inline") ? "" : " ";
        parts.push(gap);
        if (child.tagName === "IMG" || child.tagName === "AREA") parts.push(child.alt || "");
        else walk(child);
        parts.push(gap);
      }
    };
    walk(root);
    return clip(parts.join(""));
  };
  const byIds = (el, name) => (el.getAttribute(name) || "").split(/\s+/).filter(Boolean)
    .map((id) => document.getElementById(id)).filter(Boolean).map(textOf).join(" ");
  const native = (el) => (el.labels ? Array.from(el.labels).map(textOf).join(" ") : "");
  const BUTTON_DEFAULTS = { submit: "Submit", reset: "Reset", button: "", image: "" };
  const buttonValue = (el) => {
    if (el.tagName !== "INPUT" || !(el.type in BUTTON_DEFAULTS)) return "";
    if (el.type === "image") return el.alt || "";
    return el.value || BUTTON_DEFAULTS[el.type];
  };
  const CONTENT_NAMED = new Set(["A", "BUTTON", "H1", "H2", "H3", "H4", "H5", "H6"]);
  const nameOf = (el) => clip(
    byIds(el, "aria-labelledby") || el.getAttribute("aria-label") || native(el) || buttonValue(el)
    || (CONTENT_NAMED.has(el.tagName) ? textOf(el) : "") || (el.tagName === "AREA" ? el.alt : "")
    || el.getAttribute("title") || el.getAttribute("placeholder") || "");
  const labelOf = (el) => clip(byIds(el, "aria-labelledby") || native(el)
    || el.getAttribute("aria-label") || "") || null;
  const isVisible = (el) => {
    if (el.checkVisibility && !el.checkVisibility()) return false;
    const box = el.getBoundingClientRect();
    return box.width > 0 && box.height > 0 && getComputedStyle(el).visibility !== "hidden";
  };
  const INPUT_ROLES = { button: "button", checkbox: "checkbox", image: "button",
    number: "spinbutton", radio: "radio", range: "slider", reset: "button", submit: "button" };
  const TEXT_TYPES = new Set(["email", "search", "tel", "text", "url"]);
  const roleOf = (el) => {
    const explicit = (el.getAttribute("role") || "").trim().split(/\s+/)[0];
    if (explicit) return explicit;
    if (el.tagName === "TEXTAREA") return "textbox";
    if (el.tagName === "SELECT") return el.multiple || el.size > 1 ? "listbox" : "combobox";
    const type = el.type;
    if (TEXT_TYPES.has(type)) {
      const list = el.getAttribute("list") && document.getElementById(el.getAttribute("list"));
      if (list && list.tagName === "DATALIST") return "combobox";
      return type === "search" ? "searchbox" : "textbox";
    }
    if (type === "hidden") return null;
    if (type === "file") return "button";
    return INPUT_ROLES[type] || "textbox";
  };
  const unique = (selector) => {
    try { return document.querySelectorAll(selector).length === 1; } catch { return false; }
  };
  const quoted = (value) => JSON.stringify(value);
  const typeIndexes = new Map();
  const typeIndex = (node) => {
    if (!typeIndexes.has(node)) {
      const counts = {};
      for (const sibling of node.parentNode.children) {
        counts[sibling.tagName] = (counts[sibling.tagName] || 0) + 1;
        typeIndexes.set(sibling, counts[sibling.tagName]);
      }
    }
    return typeIndexes.get(node);
  };
  const cssFor = (el) => {
    if (el.id && unique("#" + CSS.escape(el.id))) return "#" + CSS.escape(el.id);
    const tag = el.tagName.toLowerCase();
    const testId = el.getAttribute("data-testid");
    const byTestId = `[data-testid=${quoted(testId)}]`;
    if (testId && unique(byTestId)) return byTestId;
    const name = el.getAttribute("name");
    if (name) {
      const byName = `${tag}[name=${quoted(name)}]`;
      if (unique(byName)) return byName;
      const value = el.getAttribute("value");
      if (value !== null && unique(`${byName}[value=${quoted(value)}]`)) {
        return `${byName}[value=${quoted(value)}]`;
      }
    }
    const href = tag === "a" ? el.getAttribute("href") : null;
    if (href && unique(`a[href=${quoted(href)}]`)) return `a[href=${quoted(href)}]`;
    const steps = [];
    for (let node = el; node && node !== document.documentElement; node = node.parentElement) {
      if (node !== el && node.id && unique("#" + CSS.escape(node.id))) {
        steps.unshift("#" + CSS.escape(node.id));
        break;
      }
      steps.unshift(`${node.tagName.toLowerCase()}:nth-of-type(${typeIndex(node)})`);
    }
    return steps.join(" > ");
  };
  const number = (el, name) => {
    const value = parseInt(el.getAttribute(name) || "", 10);
    return Number.isFinite(value) && value >= 0 ? value : null;
  };
  const fieldOf = (el) => {
    const tag = el.tagName.toLowerCase();
    const type = tag === "textarea" ? "textarea" : el.type;
    const options = tag !== "select" ? [] : Array.from(el.options).slice(0, limits.options)
      .map((o) => ({ value: cut(o.value), label: clip(o.label || o.text), selected: o.selected }));
    return {
      tag, type, name: attr(el, "name"), id: cut(el.id) || null, label: labelOf(el),
      accessible_name: nameOf(el), role: roleOf(el), placeholder: attr(el, "placeholder"),
      test_id: attr(el, "data-testid"), css: cssFor(el), required: el.required,
      disabled: el.disabled, readonly: Boolean(el.readOnly), visible: isVisible(el),
      value: type === "password" ? null : cut(el.value), options,
      pattern: attr(el, "pattern"), min_length: number(el, "minlength"),
      max_length: number(el, "maxlength"), min: attr(el, "min"), max: attr(el, "max"),
      ref: refOf(el),
    };
  };
  const BUTTON_TYPES = new Set(["submit", "button", "reset", "image"]);
  const FIELD_TAGS = new Set(["INPUT", "SELECT", "TEXTAREA"]);
  const formElements = Object.getOwnPropertyDescriptor(HTMLFormElement.prototype, "elements").get;
  const formOf = (form) => {
    const fields = [];
    let submit = null;
    for (const el of formElements.call(form)) {
      if (el.tagName === "BUTTON" || (el.tagName === "INPUT" && BUTTON_TYPES.has(el.type))) {
        if (!submit && (el.type === "submit" || el.type === "image")) {
          submit = {
            name: nameOf(el), css: cssFor(el), test_id: attr(el, "data-testid"), ref: refOf(el),
          };
        }
      } else if (FIELD_TAGS.has(el.tagName)) {
        if (fields.length < limits.fields) fields.push(fieldOf(el));
        else truncated = true;
      }
    }
    let action = location.href;
    try { action = new URL(form.getAttribute("action") || "", document.baseURI).href; } catch {}
    const method = (form.getAttribute("method") || "get").toLowerCase();
    return {
      id: attr(form, "id"), name: attr(form, "name"), action,
      method: ["get", "post", "dialog"].includes(method) ? method : "get",
      css: cssFor(form), test_id: attr(form, "data-testid"), fields, submit,
    };
  };
  const SCHEME_KINDS = { "mailto:": "mailto", "tel:": "tel", "javascript:": "javascript" };
  let selectorsLeft = limits.link_selectors;
  const linkOf = (a) => {
    const web = a.protocol === "http:" || a.protocol === "https:";
    const kind = web ? (a.hasAttribute("download") ? "download" : "page")
      : SCHEME_KINDS[a.protocol] || "other";
    const target = (a.getAttribute("target") || "").toLowerCase();
    // A link the page's script opens in a popup (Django's data-popup, an inline
    // window.open) does not navigate when clicked: as good as a new tab.
    const popup = a.hasAttribute("data-popup") || /window\.open/.test(attr(a, "onclick") || "");
    const newTab = popup || (target !== "" && !["_self", "_parent", "_top"].includes(target));
    const name = nameOf(a);
    const visible = isVisible(a);
    const link = {
      href: web ? a.href : cut(a.getAttribute("href").trim()), name, kind, visible,
      new_tab: newTab, ref: refOf(a),
    };
    const clickable = kind === "page" && a.origin === location.origin && visible && !newTab;
    if (clickable && name && selectorsLeft > 0) {
      selectorsLeft -= 1;
      link.test_id = attr(a, "data-testid");
      link.css = a.tagName === "A" ? cssFor(a) : null;
    }
    return link;
  };
  const anchors = Array.from(document.querySelectorAll("a[href], area[href]"));
  const forms = Array.from(document.forms);
  truncated = anchors.length > limits.links || forms.length > limits.forms;
  const links = anchors.slice(0, limits.links).map(linkOf);
  const formData = forms.slice(0, limits.forms).map(formOf);
  const visibleH1 = (scope) => Array.from(document.querySelectorAll(scope)).find(isVisible);
  const h1 = visibleH1("main h1, [role=main] h1") || visibleH1("h1");
  const headingRef = h1 ? refOf(h1) : null;
  Object.defineProperty(window, elementsKey, {
    value: { refs, index: new Map(refs.map((el, i) => [el, i])) },
    configurable: true, writable: true,
  });
  const html = document.documentElement ? document.documentElement.outerHTML : "";
  let a = 0x811c9dc5;
  let b = 0x9747b28c ^ html.length;
  for (let i = 0; i < html.length; i += 1) {
    const c = html.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995) ^ (b >>> 15);
  }
  return {
    url: location.href, title: clip(document.title), heading: h1 ? textOf(h1) || null : null,
    heading_ref: headingRef, links, forms: formData, truncated,
    fingerprint: `${(a >>> 0).toString(16)}-${(b >>> 0).toString(16)}-${html.length}`,
  };
}
"""


@dataclass(frozen=True)
class ElementRefs:
    """Where the analysed elements are kept in the page (indexes into ``ELEMENTS_KEY``)."""

    heading: int | None
    links: list[int]
    fields: list[list[int]]
    """Per form, per field."""

    submits: list[int | None]
    """Per form: its submit button's, if it has one."""


@dataclass(frozen=True)
class PageAnalysis:
    """What ``ANALYSE_PAGE_JS`` found on a page, as models."""

    url: str
    """Normalised URL of the analysed document (after any client-side redirect)."""

    title: str
    heading: str | None
    links: list[PageLink]
    forms: list[PageForm]
    fingerprint: str
    """Hash of the serialised DOM: equal for two URLs serving the same document."""

    truncated: bool
    refs: ElementRefs
    heading_target: Target | None = None
    """The main heading's verified locator (set by ``crawler.locators.verify_targets``)."""

    unlocated: list[Unlocated] = field(default_factory=list)
    """Elements verification found no locator for."""


def parse_analysis(raw: dict[str, Any], origin: str | None) -> PageAnalysis:
    """Turn the data ``ANALYSE_PAGE_JS`` returned into a ``PageAnalysis``."""
    url = normalise_url(raw["url"]) or raw["url"]
    site = origin or origin_of(url)
    links = [_link(item, site) for item in raw["links"]]
    forms = []
    for item in raw["forms"]:
        form = PageForm.model_validate(item)
        form.action = normalise_url(form.action) or url
        forms.append(form)
    refs = ElementRefs(
        heading=raw["heading_ref"],
        links=[item["ref"] for item in raw["links"]],
        fields=[[entry["ref"] for entry in item["fields"]] for item in raw["forms"]],
        submits=[item["submit"]["ref"] if item["submit"] else None for item in raw["forms"]],
    )
    return PageAnalysis(
        url=url,
        title=raw["title"],
        heading=raw["heading"],
        links=links,
        forms=forms,
        fingerprint=raw["fingerprint"],
        truncated=raw["truncated"],
        refs=refs,
    )


def _link(item: dict[str, Any], origin: str) -> PageLink:
    kind = item["kind"]
    url = item["href"]
    if kind in ("page", "download"):
        normalised = normalise_url(url)
        if normalised is None:
            kind = "other"
        else:
            url = normalised
    internal = kind in ("page", "download") and same_origin(url, origin)
    return PageLink(
        url=url,
        name=item["name"],
        internal=internal,
        kind=kind,
        visible=item["visible"],
        new_tab=item["new_tab"],
        test_id=item.get("test_id"),
        css=item.get("css"),
    )
