"""The security audit: the main response's protective headers and cookies, and mixed content.

Headers: ``Strict-Transport-Security`` (https pages only), a
``Content-Security-Policy`` (the header, or a ``<meta http-equiv>``),
``X-Content-Type-Options: nosniff``, frame protection (``X-Frame-Options`` DENY or
SAMEORIGIN, or CSP ``frame-ancestors``) and a ``Referrer-Policy`` (the header or a
``<meta name="referrer">``). Cookies the main response sets without ``Secure``
(https pages only), ``HttpOnly`` or ``SameSite``. On https pages, resources the
document loads or references over plain http (mixed content).
"""

from __future__ import annotations

from typing import Any

from playwright.async_api import Page, Response

from crawler.audits.models import MAX_HTML, MAX_NODES, AuditNode, Finding
from runner.axe import Impact

_SECURITY_JS = r"""
(maxNodes) => {
  const metas = (attribute, value) => Array.from(document.querySelectorAll("meta"))
    .filter((el) => (el.getAttribute(attribute) || "").toLowerCase() === value);
  const insecure = [];
  const note = (url, html) => {
    if (insecure.length < maxNodes && !insecure.some((item) => item.target === url)) {
      insecure.push({ target: url, html: (html || "").slice(0, 300) });
    }
  };
  let count = 0;
  if (location.protocol === "https:") {
    const SOURCES = "img[src], script[src], iframe[src], audio[src], video[src], source[src], " +
      "embed[src], object[data], link[rel~=stylesheet i][href], link[rel~=icon i][href]";
    const seen = new Set();
    for (const el of document.querySelectorAll(SOURCES)) {
      const url = el.src || el.href || el.data || "";
      if (url.startsWith("http:") && !seen.has(url)) {
        seen.add(url); count += 1; note(url, el.outerHTML);
      }
    }
    for (const entry of performance.getEntriesByType("resource")) {
      if (entry.name.startsWith("http:") && !seen.has(entry.name)) {
        seen.add(entry.name); count += 1; note(entry.name, "");
      }
    }
  }
  return {
    https: location.protocol === "https:",
    meta_csp: metas("http-equiv", "content-security-policy").length > 0,
    meta_referrer: metas("name", "referrer").length > 0,
    insecure: { count, nodes: insecure },
  };
}
"""

_FRAME_OPTIONS = frozenset({"deny", "sameorigin"})
_COOKIE_RULES: list[tuple[str, str, Impact, str, bool]] = [
    ("cookie-secure-missing", "secure", "serious", "Cookies set without Secure", True),
    ("cookie-httponly-missing", "httponly", "moderate", "Cookies set without HttpOnly", False),
    ("cookie-samesite-missing", "samesite", "minor", "Cookies set without SameSite", False),
]
"""Per cookie rule: the attribute it asks for, its impact, its help, whether https only."""


async def audit_security(page: Page, response: Response) -> list[Finding]:
    """The security findings of the page and its main ``response``."""
    facts: dict[str, Any] = await page.evaluate(_SECURITY_JS, MAX_NODES)
    headers = await response.all_headers()
    https: bool = facts["https"]
    found: list[Finding] = []

    def finding(rule: str, impact: Impact, help: str, nodes: list[AuditNode] | None = None,
                count: int = 0) -> None:  # fmt: skip
        kept = (nodes or [])[:MAX_NODES]
        found.append(Finding(rule=rule, impact=impact, help=help, nodes=kept, node_count=count))

    csp = headers.get("content-security-policy", "")
    if https and "strict-transport-security" not in headers:
        finding("hsts-missing", "serious", "No Strict-Transport-Security header")
    if not csp and not facts["meta_csp"]:
        finding("csp-missing", "serious", "No Content-Security-Policy")
    if headers.get("x-content-type-options", "").strip().lower() != "nosniff":
        finding("x-content-type-options-missing", "moderate", "No X-Content-Type-Options: nosniff")
    frame_options = headers.get("x-frame-options", "").strip().lower()
    if frame_options not in _FRAME_OPTIONS and "frame-ancestors" not in csp.lower():
        finding(
            "frame-protection-missing",
            "moderate",
            "Neither X-Frame-Options (DENY or SAMEORIGIN) nor CSP frame-ancestors",
        )
    if "referrer-policy" not in headers and not facts["meta_referrer"]:
        finding("referrer-policy-missing", "minor", "No Referrer-Policy")
    cookies = [_cookie(line) for line in headers.get("set-cookie", "").split("\n") if line.strip()]
    for rule, attribute, impact, help, https_only in _COOKIE_RULES:
        lacking = [node for node, attributes in cookies if attribute not in attributes]
        if lacking and (https or not https_only):
            finding(rule, impact, help, lacking, len(lacking))
    insecure = facts["insecure"]
    if insecure["count"]:
        nodes = [AuditNode.model_validate(node) for node in insecure["nodes"]]
        finding("mixed-content", "serious", "Resources over plain http", nodes, insecure["count"])
    return found


def _cookie(line: str) -> tuple[AuditNode, set[str]]:
    """A ``Set-Cookie`` line as a node (its name, the line without the value) and the
    names of its attributes, lower-cased."""
    pair, *attributes = [part.strip() for part in line.split(";")]
    name = pair.partition("=")[0].strip()
    shown = "; ".join([f"{name}=…", *attributes])
    names = {attribute.partition("=")[0].strip().lower() for attribute in attributes}
    return AuditNode(target=name, html=shown[:MAX_HTML]), names
