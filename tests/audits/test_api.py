"""Audits through the daemon: settings.audits, the crawl's audit_summary, its pages'
audits, GET /crawls/:id/audits and the new findings of a second crawl."""

from __future__ import annotations

from typing import Any

import pytest

from tests.apiclient import Daemon
from tests.audits.conftest import AuditedDaemon, AuditSite, daemon_crawl
from tests.audits.site import PROBLEMS

_FIRST_PAGES = list(PROBLEMS)[:3]
"""The pages a crawl of three pages reaches: /, /gallery and /contact."""


async def _crawl(daemon: Daemon, project_id: str) -> dict[str, Any]:
    return await daemon_crawl(daemon, project_id, max_pages=len(_FIRST_PAGES))


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


def test_a_second_crawl_has_new_and_fixed_findings(audited_daemon: AuditedDaemon) -> None:
    base = audited_daemon.project["base_url"].rstrip("/")
    changes = audited_daemon.current["results"]["changes"]

    assert changes["previous_crawl_id"] == audited_daemon.previous["id"]
    # Pages of the first crawl only: /, /gallery and /contact.
    assert [(c["url"], c["category"], c["rule"], c["impact"]) for c in changes["new_findings"]] == [
        (base + "/contact", "accessibility", "label", "critical"),
    ]
    assert [(c["url"], c["category"], c["rule"]) for c in changes["fixed_findings"]] == [
        (base + "/", "accessibility", "image-alt"),
        (base + "/", "seo", "image-alt-missing"),
    ]
    assert len(changes["added"]) == len(PROBLEMS) - 3 and changes["removed"] == []


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


async def test_the_pages_failing_a_rule(audited_daemon: AuditedDaemon) -> None:
    daemon, base = audited_daemon.daemon, audited_daemon.project["base_url"].rstrip("/")
    previous, current = audited_daemon.previous["id"], audited_daemon.current["id"]
    paths = [page["url"].removeprefix(base) for page in audited_daemon.current["results"]["pages"]]

    image_alt = await daemon.call("GET", f"/crawls/{previous}/audits/accessibility/image-alt")
    second = await daemon.call(
        "GET", f"/crawls/{previous}/audits/accessibility/image-alt?limit=1&page=2"
    )
    blocking = await daemon.call("GET", f"/crawls/{current}/audits/performance/total-blocking-time")
    none_fail = await daemon.call("GET", f"/crawls/{current}/audits/seo/title-missing")
    unknown = await daemon.call("GET", f"/crawls/{current}/audits/speed/tbt")

    assert [(p["index"], p["url"]) for p in image_alt.data] == [
        (0, base + "/"),
        (1, base + "/gallery"),
    ]
    assert image_alt.body["pagination"]["total"] == 2
    [home, gallery] = [page["finding"] for page in image_alt.data]
    assert home["rule"] == "image-alt" and home["impact"] == "critical"
    assert home["node_count"] == 1 and '<img src="/static/photo.png">' in home["nodes"][0]["html"]
    assert gallery["node_count"] == 1
    assert [p["url"] for p in second.data] == [base + "/gallery"]
    assert second.body["pagination"] == {"page": 2, "limit": 1, "total": 2, "pages": 2}
    [busy] = blocking.data
    assert busy["index"] == paths.index("/busy") and busy["title"] == "Busy"
    assert busy["finding"]["rule"] == "total-blocking-time"
    assert busy["finding"]["help"].startswith("Total Blocking Time over 200 ms")
    assert none_fail.status == 200 and none_fail.data == []
    assert none_fail.body["pagination"]["total"] == 0
    assert unknown.status == 404 and "no audit category 'speed'" in unknown.error["message"]
    rules = (await daemon.call("GET", f"/crawls/{previous}/audits")).data
    [summary] = [rule for rule in rules if rule["rule"] == "image-alt"]
    assert [(e["index"], e["url"], e["node_count"]) for e in summary["examples"]] == [
        (0, base + "/", 1),
        (1, base + "/gallery", 1),
    ]
    assert summary["examples"][0]["nodes"] == home["nodes"]
