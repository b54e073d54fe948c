"""The crawls API over a real crawl of a fixture site."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from aegisd import stored_pages
from aegisd.api.crawls import DETAIL_PAGES
from aegisd.api.projects import CrawlDefaults
from aegisd.state import DB
from crawler.audits.scoring import page_scores
from crawler.audits.summary import audit_rules, audit_summary
from crawler.generate import generate
from crawler.models import PageResult
from runner.browsers import Browsers
from tests.apiclient import Daemon, make_config, running
from tests.conftest import ServeApp
from tests.sites import Site, linked_site, page


async def _crawl(daemon: Daemon, project_id: str, **body: object) -> dict[str, object]:
    answer = await daemon.call("POST", "/crawls", json={"project_id": project_id, **body})
    assert answer.status == 201, answer.body
    return answer.data  # type: ignore[no-any-return]


async def test_full_crawl_stores_pages_broken_links_and_changes(
    daemon: Daemon, serve: ServeApp
) -> None:
    site = Site(linked_site())
    base = await serve(site.app())
    project = await daemon.project(base_url=base + "/")

    queued = await _crawl(daemon, project["id"], max_pages=10, depth=3, generate_suite=False)
    assert queued["status"] == "queued"
    assert re.match(r"^crawl_[A-Za-z0-9_-]{12,}$", queued["id"])  # type: ignore[arg-type]
    assert queued["start_url"] == base + "/"

    crawl = await daemon.finished(f"/crawls/{queued['id']}")
    assert crawl["status"] == "completed", crawl
    assert crawl["pages_crawled"] == crawl["pages_found"] == 5
    assert crawl["duration"] is not None and crawl["completed_at"] >= crawl["started_at"]
    pages = {p["url"].removeprefix(base): p for p in crawl["results"]["pages"]}
    assert {path: p["depth"] for path, p in pages.items()} == {
        "/": 0,
        "/about": 1,
        "/blog": 1,
        "/missing": 2,
        "/blog/post": 2,
    }
    assert pages["/about"]["title"] == "About us" and pages["/about"]["status"] == 200
    assert pages["/missing"]["status"] == 404
    assert crawl["broken_links_count"] == 1
    [broken] = crawl["results"]["broken_links"]
    assert broken["url"] == base + "/missing" and broken["found_on"] == base + "/about"
    assert broken["status"] == 404
    assert crawl["results"]["changes"] is None  # first crawl of the project

    listing = await daemon.call("GET", f"/crawls/{crawl['id']}/pages?limit=2&page=2")
    assert listing.body["pagination"] == {"page": 2, "limit": 2, "total": 5, "pages": 3}
    ordered = [p["url"] for p in crawl["results"]["pages"]]
    assert [p["url"] for p in listing.data] == ordered[2:4]

    site.pages["/about"] = page("About the team")
    del site.pages["/blog/post"]
    site.pages["/"] = site.pages["/"].replace("</nav>", '<a href="/new">New</a></nav>')
    site.pages["/new"] = page("New")
    second = await daemon.finished(
        f"/crawls/{(await _crawl(daemon, project['id'], generate_suite=False))['id']}"
    )
    changes = second["results"]["changes"]
    assert changes["previous_crawl_id"] == crawl["id"]
    assert changes["added"] == [base + "/new"]
    assert changes["removed"] == [base + "/missing"]  # /about no longer links to it
    changed = {c["url"]: (c["before"], c["after"]) for c in changes["changed"]}
    assert set(changed) == {base + "/about", base + "/blog/post"}
    assert changed[base + "/about"][1]["title"] == "About the team"
    assert (
        changed[base + "/blog/post"][0]["status"],
        changed[base + "/blog/post"][1]["status"],
    ) == (200, 404)

    filtered = await daemon.call("GET", f"/crawls?project_id={project['id']}&status=completed")
    assert [c["id"] for c in filtered.data] == [second["id"], crawl["id"]]
    assert (await daemon.call("GET", "/crawls?status=queued")).data == []


async def test_quick_mode_and_depth_cut_off(daemon: Daemon, serve: ServeApp) -> None:
    base = await serve(Site(linked_site()).app())
    project = await daemon.project(base_url=base, settings={"max_pages": 500})
    quick = await daemon.finished(
        f"/crawls/{(await _crawl(daemon, project['id'], mode='quick', generate_suite=False))['id']}"
    )
    assert quick["max_pages"] == 20 and quick["depth"] == 1
    assert sorted(p["depth"] for p in quick["results"]["pages"]) == [0, 1, 1]
    shallow = await _crawl(daemon, project["id"], depth=0, generate_suite=False)
    done = await daemon.finished(f"/crawls/{shallow['id']}")
    assert [p["url"] for p in done["results"]["pages"]] == [base + "/"]


async def test_create_validation(daemon: Daemon) -> None:
    project = await daemon.project(base_url="http://127.0.0.1:9/app/")
    cases = [
        ({"project_id": project["id"], "mode": "deep"}, 400, "mode"),
        ({"project_id": project["id"], "max_pages": 0}, 400, "max_pages"),
        ({"project_id": project["id"], "start_url": "http://other.test/"}, 400, "start_url"),
        ({"project_id": project["id"], "start_url": "not a url"}, 400, "start_url"),
        ({"project_id": project["id"], "extra": 1}, 400, "extra"),
        ({}, 400, "project_id"),
    ]
    for body, status, field in cases:
        answer = await daemon.call("POST", "/crawls", json=body)
        assert answer.status == status, body
        assert field in {d["field"] for d in answer.error["details"]}, answer.body
    assert (
        await daemon.call("POST", "/crawls", json={"project_id": "proj_nope00000000"})
    ).status == 404
    assert (await daemon.call("GET", "/crawls")).body["pagination"]["total"] == 0
    assert (await daemon.call("GET", "/crawls?status=done")).status == 400
    assert (await daemon.call("GET", "/crawls/crawl_nope00000000")).status == 404


async def test_cancel_running_queued_and_finished(
    tmp_path: Path, browsers: Browsers, serve: ServeApp
) -> None:
    pages = {f"/p{i}": page(f"P{i}") for i in range(30)}
    pages["/"] = page("Home", "".join(f'<a href="/p{i}">p{i}</a>' for i in range(30)))
    base = await serve(Site(pages, delay_s=0.5).app())
    config = make_config(tmp_path, crawler={"max_concurrent_crawls": 1, "concurrency": 1})
    async with running(config, browsers) as daemon:
        project = await daemon.project(base_url=base)
        first = await _crawl(daemon, project["id"], generate_suite=False)
        second = await _crawl(daemon, project["id"], generate_suite=False)
        await daemon.wait_for(f"/crawls/{first['id']}", lambda c: c["pages_crawled"] >= 1)
        assert (await daemon.call("GET", f"/crawls/{second['id']}")).data["status"] == "queued"

        cancelled = await daemon.call("POST", f"/crawls/{second['id']}/cancel")
        assert cancelled.data["status"] == "cancelled"
        stopped = await daemon.call("POST", f"/crawls/{first['id']}/cancel")
        assert stopped.data["status"] == "cancelled"
        assert 1 <= stopped.data["pages_crawled"] < 31
        again = await daemon.call("POST", f"/crawls/{first['id']}/cancel")
        assert again.status == 409 and again.error["code"] == "CONFLICT"
        assert (await daemon.call("POST", "/crawls/crawl_nope00000000/cancel")).status == 404


async def test_running_crawl_is_requeued_after_a_crash(
    tmp_path: Path, browsers: Browsers, serve: ServeApp
) -> None:
    base = await serve(Site(linked_site()).app())
    config = make_config(tmp_path)
    async with running(config, browsers) as daemon:
        project = await daemon.project(base_url=base)
        db = daemon.app[DB]
        # What a crash leaves behind: a crawl marked running with a partial page.
        row = await db.create_crawl(project["id"], "full", 10, 3, base + "/", False, {})
        await db.execute("UPDATE crawls SET status = 'running' WHERE id = ?", (row["id"],))
        await db.add_crawl_page(
            row["id"], 0, base + "/stale", 200, "Stale", 0, {"url": base + "/stale"}
        )
    async with running(config, browsers) as restarted:
        crawl = await restarted.finished(f"/crawls/{row['id']}")
        assert crawl["status"] == "completed"
        urls = [p["url"] for p in crawl["results"]["pages"]]
        assert base + "/stale" not in urls and len(urls) == 5


async def test_project_bound_key_and_cascade(daemon: Daemon, serve: ServeApp) -> None:
    base = await serve(Site(linked_site()).app())
    mine, other = await daemon.project(base_url=base), await daemon.project(base_url=base)
    theirs = await _crawl(daemon, other["id"], depth=0, generate_suite=False)
    key = await daemon.new_key("write", mine["id"])
    assert (await daemon.call("GET", f"/crawls/{theirs['id']}", key=key)).status == 403
    assert (await daemon.call("GET", f"/crawls/{theirs['id']}/pages", key=key)).status == 403
    assert (await daemon.call("POST", f"/crawls/{theirs['id']}/cancel", key=key)).status == 403
    assert (
        await daemon.call("POST", "/crawls", json={"project_id": other["id"]}, key=key)
    ).status == 403
    assert (await daemon.call("GET", f"/crawls?project_id={other['id']}", key=key)).status == 403
    assert (await daemon.call("GET", "/crawls", key=key)).data == []
    await daemon.finished(f"/crawls/{theirs['id']}")
    await daemon.call("DELETE", f"/projects/{other['id']}")
    assert (await daemon.call("GET", f"/crawls/{theirs['id']}")).status == 404
    assert await daemon.db.fetchval("SELECT COUNT(*) FROM crawl_pages") == 0


async def test_detail_caps_pages_and_the_pages_list_has_the_rest(daemon: Daemon) -> None:
    project = await daemon.project(base_url="http://127.0.0.1:9/")
    db = daemon.db
    row = await db.create_crawl(project["id"], "full", 1000, 5, "http://127.0.0.1:9/", False, {})
    total = DETAIL_PAGES * 2 + 37
    urls = [f"http://127.0.0.1:9/p/{seq}" for seq in range(total)]
    for seq, url in enumerate(urls):
        data = {"url": url, "status": 200, "title": f"P{seq}", "depth": min(seq, 5)}
        await db.add_crawl_page(row["id"], seq, url, 200, f"P{seq}", min(seq, 5), data)
    broken = [
        {"url": f"http://127.0.0.1:9/gone/{n}", "name": "Gone", "status": 404, "error": None,
         "found_on": urls[n]}
        for n in range(DETAIL_PAGES + 5)
    ]  # fmt: skip
    await db.finish_crawl(
        row["id"], "completed", pages_found=total, pages_crawled=total, broken_links=broken,
        broken_links_count=len(broken), changes={"previous_crawl_id": None, "added": urls},
    )  # fmt: skip

    for prefix in ("/v1", "/api/v1"):
        detail = (await daemon.call("GET", f"/crawls/{row['id']}", prefix=prefix)).data
        results = detail["results"]
        assert [page["url"] for page in results["pages"]] == urls[:DETAIL_PAGES]
        assert results["pages_total"] == total
        assert results["pages_url"] == f"{prefix}/crawls/{row['id']}/pages"
        assert results["broken_links"] == broken  # complete, not capped
        assert results["changes"]["added"] == urls

    listed: list[str] = []
    number = 1
    while True:
        answer = await daemon.call("GET", f"/crawls/{row['id']}/pages?limit=100&page={number}")
        assert answer.body["pagination"] == {
            "page": number, "limit": 100, "total": total, "pages": 3
        }  # fmt: skip
        if not answer.data:
            break
        listed += [page["url"] for page in answer.data]
        number += 1
    assert listed == urls and number == 4

    for query, field in [("page=0", "page"), ("limit=101", "limit"), ("limit=x", "limit"),
                         ("pageSize=0", "pageSize")]:  # fmt: skip
        answer = await daemon.call("GET", f"/crawls/{row['id']}/pages?{query}")
        assert answer.status == 400, query
        assert answer.error["code"] == "VALIDATION_ERROR"
        assert field in {d["field"] for d in answer.error["details"]}, answer.body
    empty = await daemon.call("GET", f"/crawls/{row['id']}/pages?page=9&limit=100")
    assert empty.data == [] and empty.body["pagination"]["total"] == total


async def test_the_job_finishes_the_crawl_from_its_stored_pages(
    daemon: Daemon, serve: ServeApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Batches of two pages: every pass over the stored pages takes several.
    monkeypatch.setattr(stored_pages, "PAGE_BATCH", 2)
    search = (
        '<form action="/search" method="get"><label for="q">Search</label>'
        '<input id="q" name="q"><button>Go</button></form>'
    )
    routes = linked_site()
    routes["/blog/post"] = page("Blog", '<a href="/">Home</a>' + search)  # /blog's title too
    routes["/search"] = page("Results")
    routes["/about"] += "<script>console.error('no index')</script>"
    routes["/blog"] = routes["/blog"].replace("</main>", search + "</main>")
    base = await serve(Site(routes).app())
    project = await daemon.project(base_url=base + "/", settings={"audits": ["seo"]})

    crawl = await daemon.finished(f"/crawls/{(await _crawl(daemon, project['id']))['id']}")
    assert crawl["status"] == "completed", crawl

    listed = await daemon.call("GET", f"/crawls/{crawl['id']}/pages?limit=100")
    pages = [PageResult.model_validate(data) for data in listed.data]
    assert crawl["pages_crawled"] == len(pages) == 5
    assert crawl["console_errors_count"] == sum(len(p.console_errors) for p in pages) > 0
    # The crawl-wide findings were added to the stored pages, and their scores with them.
    repeated = {p.url.removeprefix(base): p.audits for p in pages if p.title == "Blog"}
    assert set(repeated) == {"/blog", "/blog/post"}
    for audits in repeated.values():
        assert audits is not None and audits.seo is not None
        assert "title-duplicate" in {item.rule for item in audits.seo}
        assert audits.scores == page_scores(audits)
    audited = [(p.url, p.audits) for p in pages]
    summary = audit_summary(audited)
    assert summary is not None and crawl["audit_summary"] == summary.model_dump(mode="json")
    rules = [rule.model_dump(mode="json") for rule in audit_rules(audited)]
    assert await daemon.db.crawl_audit_rules(crawl["id"]) == rules

    # The suite made a batch at a time is the one the whole crawl in memory gives.
    settings = CrawlDefaults.model_validate(project["settings"])
    expected = generate(
        pages,
        project["base_url"],
        submit_post_forms=settings.submit_post_forms,
        visual_checks=settings.visual_checks,
    )
    suite = (await daemon.call("GET", f"/suites/{crawl['suite_id']}")).data
    cases = [{k: v for k, v in case.items() if k != "id"} for case in suite["cases"]]
    assert cases == [case.model_dump(mode="json", exclude={"id"}) for case in expected.cases]
    assert any(case["type"] == "form" for case in cases)
    notes = await daemon.db.suite_generation(crawl["suite_id"])
    assert notes == expected.notes.model_dump(mode="json")
