"""Auditing a crawled page in the crawl's own browser context, and finishing a crawl's audits.

``prepare_context`` readies the crawl's context (the performance script observes
every document from its start); ``audit_page`` audits one loaded page;
``finish_audits`` adds what only the whole crawl shows (repeated titles and
descriptions) once it is done; ``add_crawl_findings`` does it a page at a time, for a
crawl read back from storage.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Iterable, Sequence

from playwright.async_api import BrowserContext, Page, Response
from playwright.async_api import Error as PlaywrightError
from pydantic import ValidationError

from crawler.audits.accessibility import audit_accessibility
from crawler.audits.models import AuditCategory, Finding, PageAudits
from crawler.audits.performance import audit_performance
from crawler.audits.scoring import page_scores
from crawler.audits.security import audit_security
from crawler.audits.seo import audit_seo, duplicate_findings, seo_texts
from crawler.models import PageResult
from runner.performance import NO_URL, PERFORMANCE_JS, pass_on
from runner.playback import reason

_ORDER: tuple[AuditCategory, ...] = ("performance", "seo", "security", "accessibility")
"""Performance first: it waits for the page to settle before any audit script of ours runs
(axe-core's own work would count as blocking time); axe-core, the heaviest, last."""


async def prepare_context(context: BrowserContext, categories: Collection[AuditCategory]) -> None:
    """Ready a crawl's context for auditing ``categories`` on its pages.

    With performance among them, every page loads with the browser's HTTP cache off, as
    the run loads it in a case's fresh context: its figures are a first visit's.
    """
    if "performance" in categories:
        await context.add_init_script(PERFORMANCE_JS)
        # With the cache on, the crawl's pages would share their tab's cache, and a
        # resource it revalidates (a 304) has no body size in Resource Timing: it would
        # count 0 bytes where the run's case counts it whole.
        await context.route(NO_URL, pass_on)


async def audit_page(
    page: Page, response: Response, categories: Collection[AuditCategory], *, timeout_s: float
) -> PageAudits:
    """Audit the loaded ``page`` (whose main response is ``response``) in ``categories``,
    all within ``timeout_s``.

    Never raises for a bad page: a category that fails or runs out of time is ``None``,
    with the reason in ``errors``. Playwright errors of a closed page or browser too.
    """
    audits = PageAudits()
    deadline = asyncio.get_running_loop().time() + timeout_s
    for category in _ORDER:
        if category not in categories:
            continue
        try:
            async with asyncio.timeout_at(deadline):
                await _audit(category, page, response, audits)
        except TimeoutError:
            audits.errors[category] = f"the page's audits took longer than {timeout_s:g} s"
        except PlaywrightError as exc:
            audits.errors[category] = f"could not be audited: {reason(exc)}"
        except ValidationError as exc:  # the page replaced what the audit scripts rely on
            audits.errors[category] = f"could not be audited: {exc.errors()[0]['msg']}"
    audits.scores = page_scores(audits)
    return audits


async def _audit(
    category: AuditCategory, page: Page, response: Response, audits: PageAudits
) -> None:
    match category:
        case "performance":
            audits.performance = await audit_performance(page)
        case "seo":
            audits.seo, audits.meta_description = await audit_seo(page, response)
        case "security":
            audits.security = await audit_security(page, response)
        case "accessibility":
            audits.accessibility = await audit_accessibility(page)


def finish_audits(pages: Sequence[PageResult]) -> list[int]:
    """Add the crawl-wide findings to ``pages``' audits and rescore them; the indexes of
    the pages that changed."""
    found = duplicate_findings(seo_texts(page) for page in pages)
    changed = []
    for index, findings in found.items():
        audits = pages[index].audits
        assert audits is not None  # only audited pages have findings
        if add_crawl_findings(audits, findings):
            changed.append(index)
    return changed


def add_crawl_findings(audits: PageAudits, findings: Iterable[Finding]) -> bool:
    """Add to a page's SEO ``audits`` the crawl-wide ``findings`` (``duplicate_findings``)
    it does not have yet and rescore it; whether anything was added."""
    seo = audits.seo
    assert seo is not None  # only pages audited for SEO have such findings
    added = [finding for finding in findings if all(item.rule != finding.rule for item in seo)]
    if not added:
        return False
    seo.extend(added)
    audits.scores = page_scores(audits)
    return True
