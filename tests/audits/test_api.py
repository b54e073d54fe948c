"""Audits through the daemon: settings.audits, the crawl's audit_summary, its pages'
audits, GET /crawls/:id/audits and the new findings of a second crawl."""

from __future__ import annotations

from typing import Any

import pytest

from tests.apiclient import Daemon
from tests.audits.conftest import AuditSite
from tests.audits.site import PROBLEMS

_FIRST_PAGES = list(PROBLEMS)[:3]
"""The pages a crawl of three pages reaches: /, /gallery and /contact."""


async def _crawl(daemon: Daemon, project_id: str) -> dict[str, Any]:
    body = {"project_id": project_id, "max_pages": len(_FIRST_PAGES), "generate_suite": True}
    answer = await daemon.call("POST", "/crawls", json=body)
    assert answer.status == 201, answer.body
    crawl: dict[str, Any] = await daemon.finished(f"/crawls/{answer.data['id']}")
    assert crawl["status"] == "completed", crawl
    return crawl


async def test_crawls_answer_their_audits(daemon: Daemon, audit_site_server: AuditSite) -> None:
    base = audit_site_server.base_url
    project = await daemon.project(
        base_url=base + "/", settings={"audits": ["accessibility", "seo"]}
    )

    crawl = await _crawl(daemon, project["id"])

    pages = {page["url"].removeprefix(base): page for page in crawl["results"]["pages"]}
    assert list(pages) == _FIRST_PAGES
    gallery = pages["/gallery"]["audits"]
    assert [item["rule"] for item in gallery["accessibility"]] == ["image-alt"]
    [node] = gallery["accessibility"][0]["nodes"]
    assert node["target"] and "<img" in node["html"]
    assert gallery["performance"] is None and gallery["security"] is None
    assert gallery["scores"] == {"accessibility": 75, "seo": 92}
    summary = crawl["audit_summary"]
    assert summary["pages"] == 3 and summary["performance"] is None
    assert summary["accessibility"]["score"] == round((100 + 75 + 75) / 3)
    assert summary["accessibility"]["findings"]["critical"] == 2
    listed = await daemon.call("GET", f"/crawls/{crawl['id']}/pages?limit=1&page=2")
    assert listed.data[0]["audits"] == gallery
    assert [c["audit_summary"] for c in (await daemon.call("GET", "/crawls")).data] == [summary]

    rules = (await daemon.call("GET", f"/crawls/{crawl['id']}/audits")).data
    assert [(r["category"], r["rule"], r["impact"], r["pages"]) for r in rules] == [
        ("accessibility", "image-alt", "critical", 1),
        ("accessibility", "label", "critical", 1),
        ("seo", "image-alt-missing", "moderate", 1),
    ]
    assert rules[0]["example_urls"] == [base + "/gallery"] and rules[0]["nodes"] == 1
    seo = await daemon.call("GET", f"/crawls/{crawl['id']}/audits?category=seo")
    assert [rule["rule"] for rule in seo.data] == ["image-alt-missing"]
    bad = await daemon.call("GET", f"/crawls/{crawl['id']}/audits?category=speed")
    assert bad.status == 400 and bad.error["code"] == "VALIDATION_ERROR"

    suite = (await daemon.call("GET", f"/suites/{crawl['suite_id']}")).data
    smoke = [case for case in suite["cases"] if case["type"] == "smoke"]
    actions = [[step["action"] for step in case["steps"]] for case in smoke]
    # Only accessibility is checked: performance was not audited.
    assert all("expect_no_a11y_violations" in a and "expect_performance" not in a for a in actions)

    with audit_site_server.changed("new violation"):
        second = await _crawl(daemon, project["id"])
    changes = second["results"]["changes"]
    assert [(c["url"], c["category"], c["rule"]) for c in changes["new_findings"]] == [
        (base + "/", "accessibility", "image-alt"),
        (base + "/", "seo", "image-alt-missing"),
    ]
    assert changes["fixed_findings"] == []  # the other way round: test_changes.py


async def test_audits_turned_off(daemon: Daemon, audit_site_server: AuditSite) -> None:
    project = await daemon.project(base_url=audit_site_server.base_url + "/")
    assert project["settings"]["audits"] == []

    crawl = await _crawl(daemon, project["id"])

    assert crawl["audit_summary"] is None
    assert all(page["audits"] is None for page in crawl["results"]["pages"])
    assert (await daemon.call("GET", f"/crawls/{crawl['id']}/audits")).data == []
    suite = (await daemon.call("GET", f"/suites/{crawl['suite_id']}")).data
    actions = {step["action"] for case in suite["cases"] for step in case["steps"]}
    assert not actions & {"expect_no_a11y_violations", "expect_performance"}


async def test_every_category_is_audited_by_default(daemon: Daemon) -> None:
    answer = await daemon.call("POST", "/projects", json={"name": "S", "base_url": "http://a.b/"})

    assert answer.data["settings"]["audits"] == ["accessibility", "performance", "seo", "security"]


@pytest.mark.parametrize(
    ("audits", "message"),
    [
        (["speed"], "Input should be 'accessibility'"),
        (["seo", "seo"], "each category at most once"),
    ],
)
async def test_bad_audit_settings_are_refused(
    daemon: Daemon, audits: list[str], message: str
) -> None:
    project = await daemon.project(settings={"audits": ["seo"]})

    answer = await daemon.call(
        "PUT", f"/projects/{project['id']}", json={"settings": {"audits": audits}}
    )

    assert answer.status == 400 and answer.error["code"] == "VALIDATION_ERROR"
    [detail] = answer.error["details"]
    assert detail["field"].startswith("settings.audits") and message in detail["message"]
    kept = await daemon.call("GET", f"/projects/{project['id']}")
    assert kept.data["settings"]["audits"] == ["seo"]
