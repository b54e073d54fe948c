"""What the audits of a crawl find on the fixture site: exactly its known problems.

The accessibility findings are compared with those of ``@axe-core/playwright``
run by a small node script on the same pages (same rule ids, same node counts).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import aiohttp

from crawler.audits.audit import finish_audits
from crawler.audits.models import AuditCategory, PageAudits
from crawler.audits.scoring import category_findings
from crawler.audits.summary import audit_rules, audit_summary
from crawler.engine import crawl
from crawler.models import CrawlOptions, PageResult
from runner.axe import A11Y_TAGS, AXE_JS, AXE_VERSION
from runner.browsers import Browsers, BrowserSettings, find_chromium
from tests.audits.conftest import AuditSite
from tests.audits.site import BUSY_SPIN_MS, LOAD_TIMES, PROBLEMS
from tests.generation.conftest import page

_REFERENCE = Path(__file__).with_name("axe_reference.mjs")
_CATEGORIES: tuple[AuditCategory, ...] = ("accessibility", "performance", "seo", "security")


def _by_path(pages: list[PageResult], base_url: str) -> dict[str, PageResult]:
    return {result.url.removeprefix(base_url): result for result in pages}


def _rules(audits: PageAudits) -> dict[str, set[str]]:
    found = {category: category_findings(audits, category) for category in _CATEGORIES}
    rules = {category: {item.rule for item in items or []} for category, items in found.items()}
    rules["performance"] -= LOAD_TIMES
    return {category: found for category, found in rules.items() if found}


def test_each_page_gets_exactly_its_problems(
    audited_pages: list[PageResult], audit_site_server: AuditSite
) -> None:
    pages = _by_path(audited_pages, audit_site_server.base_url)

    assert set(pages) == set(PROBLEMS)
    for path, expected in PROBLEMS.items():
        audits = pages[path].audits
        assert audits is not None and not audits.errors, path
        assert _rules(audits) == expected, path


async def test_performance_figures_are_measured_as_defined(
    audited_pages: list[PageResult], audit_site_server: AuditSite
) -> None:
    base = audit_site_server.base_url
    figures = {
        path: result.audits.performance
        for path, result in _by_path(audited_pages, base).items()
        if result.audits is not None
    }
    plain = ("/", "/contact", "/faded", "/nolang", "/noheading", "/account", "/open")
    async with aiohttp.ClientSession() as session:
        css, *documents = [
            len(await (await session.get(base + path)).read())
            for path in ("/static/site.css", *plain)
        ]

    gallery, busy, shifty = (figures[p] for p in ("/gallery", "/busy", "/shifty"))
    # The document and its stylesheet: not the favicon Chromium asks for by itself. Every
    # page counts the stylesheet whole, though the cache would revalidate it after the first.
    counted = {p: (f.requests, f.transfer_bytes) for p in plain if (f := figures[p]) is not None}
    assert counted == {p: (2, document + css) for p, document in zip(plain, documents, strict=True)}
    assert gallery is not None and gallery.requests == 3  # and the photo
    assert busy is not None and busy.tbt is not None and busy.tbt >= BUSY_SPIN_MS - 100
    assert shifty is not None and shifty.cls is not None and shifty.cls > 0.1
    for path, measured in figures.items():
        assert measured is not None and None not in measured.model_dump().values(), path
        assert measured.lcp is not None and measured.fcp is not None
        assert measured.lcp >= measured.fcp > 0


async def test_accessibility_findings_equal_axe_core_playwright(
    audited_pages: list[PageResult], audit_site_server: AuditSite
) -> None:
    urls = [result.url for result in audited_pages]
    process = await asyncio.create_subprocess_exec(
        "node", str(_REFERENCE), find_chromium(BrowserSettings(), None), ",".join(A11Y_TAGS),
        *urls, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        cwd=Path(__file__).parent,
    )  # fmt: skip
    output, errors = await asyncio.wait_for(process.communicate(), 300)
    assert process.returncode == 0, errors.decode()
    reference = json.loads(output)

    ours = {
        result.url: {item.rule: item.node_count for item in result.audits.accessibility or []}
        for result in audited_pages
        if result.audits is not None
    }
    assert ours == reference
    assert any(reference.values())  # the fixture does have violations to compare


def test_the_bundled_axe_core_knows_every_tag() -> None:
    assert AXE_VERSION != "unknown" and f"axe v{AXE_VERSION}" in AXE_JS[:200]
    assert all(f'"{tag}"' in AXE_JS for tag in A11Y_TAGS)


async def test_categories_turned_off_are_not_audited(
    audit_site_server: AuditSite, browsers: Browsers
) -> None:
    start = audit_site_server.base_url + "/open"
    some = await crawl(browsers, CrawlOptions(start_url=start, max_pages=1, audits=["security"]))
    none = await crawl(browsers, CrawlOptions(start_url=start, max_pages=1, audits=[]))

    [audited] = some.pages
    assert audited.audits is not None and audited.audits.security is not None
    assert [item.rule for item in audited.audits.security] == ["csp-missing"]
    assert (audited.audits.accessibility, audited.audits.performance, audited.audits.seo) == (
        None,
        None,
        None,
    )
    assert audited.audits.scores == {"security": 85}
    assert none.pages[0].audits is None


def _seo_audited(path: str, title: str, description: str | None) -> PageResult:
    return page(path, title, audits=PageAudits(seo=[], meta_description=description))


def test_titles_and_descriptions_shared_across_the_crawl_are_findings() -> None:
    pages = [
        _seo_audited("/a", "Shop", "Buy things"),
        _seo_audited("/b", "Shop", "Buy things"),
        _seo_audited("/c", "Shop", "Something else"),
        _seo_audited("/d", "About", "Something else"),
        page("/e", "About"),  # not audited: takes no part
    ]

    changed = finish_audits(pages)

    found = [{item.rule for item in p.audits.seo or []} if p.audits else None for p in pages]
    assert changed == [0, 1, 2, 3]
    assert found == [
        {"title-duplicate", "meta-description-duplicate"},
        {"title-duplicate", "meta-description-duplicate"},
        {"title-duplicate", "meta-description-duplicate"},
        {"meta-description-duplicate"},
        None,
    ]
    assert [p.audits.scores for p in pages[:4] if p.audits] == [
        {"seo": 89},
        {"seo": 89},
        {"seo": 89},
        {"seo": 97},
    ]
    assert finish_audits(pages) == []  # once is enough


def test_summary_and_rules_add_the_pages_up(
    audited_pages: list[PageResult], audit_site_server: AuditSite
) -> None:
    audited = [(result.url, result.audits) for result in audited_pages]
    summary = audit_summary(audited)
    rules = audit_rules(audited)
    base = audit_site_server.base_url

    assert summary is not None and summary.pages == len(PROBLEMS) and summary.axe_version
    assert summary.accessibility is not None and summary.security is not None
    assert summary.accessibility.failing_pages == 4
    impacts = {"critical": 2, "serious": 2, "moderate": 0, "minor": 0}
    assert summary.accessibility.findings == impacts
    # Per page 100 less the penalties: two critical (75), two serious (85), six clean pages.
    assert summary.accessibility.score == round((2 * 75 + 2 * 85 + 6 * 100) / 10)
    assert summary.security.score == round((92 + 85 + 8 * 100) / 10)
    by_rule = {(rule.category, rule.rule): rule for rule in rules if rule.rule not in LOAD_TIMES}
    image_alt = by_rule["accessibility", "image-alt"]
    assert (image_alt.impact, image_alt.pages, image_alt.nodes) == ("critical", 1, 1)
    assert image_alt.example_urls == [base + "/gallery"]
    assert set(by_rule) == {
        (category, rule)
        for problems in PROBLEMS.values()
        for category, found in problems.items()
        for rule in found
    }
    worst_first = [rule.impact for rule in rules]
    assert worst_first == sorted(worst_first, key=list(impacts).index)
