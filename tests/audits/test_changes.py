"""Crawl-to-crawl changes of audit findings: new and fixed, on pages audited both times."""

from __future__ import annotations

from crawler.audits.models import Finding
from crawler.changes import compare_crawls
from crawler.models import PageResult
from tests.audits.conftest import AuditSite


def _copy(pages: list[PageResult]) -> list[PageResult]:
    return [page.model_copy(deep=True) for page in pages]


def test_findings_new_and_fixed(
    audited_pages: list[PageResult], audit_site_server: AuditSite
) -> None:
    base = audit_site_server.base_url
    after = _copy(audited_pages)
    pages = {page.url.removeprefix(base): page for page in after}
    gallery, home, faded = (pages[p].audits for p in ("/gallery", "/", "/faded"))
    assert gallery is not None and home is not None and faded is not None
    gallery.accessibility = []  # fixed
    home.security = [*(home.security or []), Finding(rule="csp-missing", impact="serious", help="")]
    faded.accessibility = None  # not audited this time: neither new nor fixed
    pages["/open"].audits = None

    changes = compare_crawls(audited_pages, after)

    new = [(c.url.removeprefix(base), c.category, c.rule, c.impact) for c in changes.new_findings]
    fixed = [(c.url.removeprefix(base), c.category, c.rule) for c in changes.fixed_findings]
    assert new == [("/", "security", "csp-missing", "serious")]
    assert fixed == [("/gallery", "accessibility", "image-alt")]
    assert compare_crawls(audited_pages, _copy(audited_pages)).new_findings == []
