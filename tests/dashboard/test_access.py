"""Who may see and change what on the dashboard: the API's scopes and project bindings,
its rate limits, and secrets shown once."""

from __future__ import annotations

from pathlib import Path

from aegisd.dashboard.sessions import SESSION_COOKIE
from runner.browsers import Browsers
from tests.api.test_suites import CASES, make_suite
from tests.apiclient import Daemon, make_config, running
from tests.dashboard.conftest import MakeVisitor, Visitor, signed_in


async def seeded(daemon: Daemon) -> dict[str, str]:
    """A project with a suite, a finished run, a schedule and a webhook; their ids."""
    project = await daemon.project("Mine", "http://127.0.0.1:9/")
    suite = await make_suite(daemon, project["id"], CASES)
    schedule = await daemon.call(
        "POST", "/schedules", json={"action": "run", "suite_id": suite["id"], "cron": "0 6 * * *"}
    )
    # Finished before the test looks: nothing changes under it but what it does.
    started = await daemon.call("POST", "/runs", json={"suite_id": suite["id"]})
    run = await daemon.finished(f"/runs/{started.data['id']}")
    # Made after the run, so no delivery of its events is being retried meanwhile.
    hook = await daemon.call(
        "POST", "/webhooks", json={"url": "http://127.0.0.1:9/hook", "project_id": project["id"]}
    )
    return {
        "project": project["id"],
        "suite": suite["id"],
        "run": run["id"],
        "schedule": schedule.data["id"],
        "webhook": hook.data["id"],
        "case": suite["cases"][0]["id"],
    }


def pages_of(ids: dict[str, str]) -> list[str]:
    return [
        "/",
        f"/projects/{ids['project']}",
        f"/projects/{ids['project']}/edit",
        f"/suites/{ids['suite']}",
        f"/suites/{ids['suite']}/health",
        "/runs",
        f"/runs/{ids['run']}",
        "/schedules",
        f"/schedules/{ids['schedule']}/edit",
        "/webhooks",
        f"/webhooks/{ids['webhook']}",
        f"/webhooks/{ids['webhook']}/edit",
        "/settings/security",
    ]


def changes_of(ids: dict[str, str]) -> list[tuple[str, str, dict[str, str]]]:
    """(a page, the form it posts to, the form's fields) for every kind of change."""
    project, suite = f"/projects/{ids['project']}", f"/suites/{ids['suite']}"
    return [
        ("/", "/projects/new", {"name": "x", "base_url": "http://a.test"}),
        (project, f"{project}/edit", {"name": "renamed", "base_url": "http://a.test"}),
        (project, f"{project}/crawl", {}),
        (project, f"{project}/delete", {}),
        (suite, f"{suite}/run", {"browser": "chromium"}),
        (suite, f"{suite}/cases/{ids['case']}", {"enabled": "false"}),
        ("/schedules", "/schedules/new", {"target": f"suite:{ids['suite']}", "cron": "0 * * * *"}),
        ("/schedules", f"/schedules/{ids['schedule']}/delete", {}),
        (
            "/webhooks",
            "/webhooks/new",
            {"url": "http://a.test/h", "events": "run.failed", "project_id": ids["project"]},
        ),
        ("/webhooks", f"/webhooks/{ids['webhook']}/test", {}),
        ("/webhooks", f"/webhooks/{ids['webhook']}/delete", {}),
        ("/settings/security", "/settings/security/keys", {"name": "more"}),
    ]


async def state(daemon: Daemon) -> list[object]:
    """Everything the changes above could change."""
    tables = [
        "projects",
        "crawls",
        "suites",
        "runs",
        "schedules",
        "webhooks",
        "webhook_deliveries",
        "api_keys",
        "cases",
    ]
    return [await daemon.db.fetchall(f"SELECT * FROM {table} ORDER BY rowid") for table in tables]


async def test_a_read_key_sees_everything_and_changes_nothing(
    daemon: Daemon, visitor: MakeVisitor
) -> None:
    ids = await seeded(daemon)
    reader = await signed_in(visitor, daemon, await daemon.new_key("read"))
    for path in pages_of(ids):
        answer = await reader.get(path)
        assert answer.status == 200, (path, answer.text[:300])
    overview = await reader.get(f"/projects/{ids['project']}")
    assert "Crawl now" not in overview.text and "Run suite" not in overview.text
    before = await state(daemon)
    for page, action, fields in changes_of(ids):
        answer = await reader.send(page, action, fields)
        assert answer.status == 403, (action, answer.status)
        assert "this key has scope &#39;read&#39;" in answer.text
    assert await state(daemon) == before
    # Still signed in: a refused change is no reason to end the session.
    assert (await reader.get("/")).status == 200


async def test_a_write_key_changes_but_does_not_manage_keys(
    daemon: Daemon, visitor: MakeVisitor
) -> None:
    ids = await seeded(daemon)
    writer = await signed_in(visitor, daemon, await daemon.new_key("write"))
    security = await writer.get("/settings/security")
    assert "Managing API keys takes an admin key." in security.text
    answer = await writer.send("/settings/security", "/settings/security/keys", {"name": "x"})
    assert answer.status == 403
    switched = await writer.send(
        f"/suites/{ids['suite']}",
        f"/suites/{ids['suite']}/cases/{ids['case']}",
        {"enabled": "false"},
    )
    assert switched.status == 303
    cases = (await daemon.call("GET", f"/suites/{ids['suite']}")).data["cases"]
    assert cases[0]["enabled"] is False and cases[1]["enabled"] is True


async def test_a_bound_key_sees_nothing_of_another_project(
    daemon: Daemon, visitor: MakeVisitor
) -> None:
    theirs = await seeded(daemon)
    await daemon.call("PUT", f"/projects/{theirs['project']}", json={"name": "Secret project"})
    mine = await daemon.project("Bound project")
    bound_key = await daemon.new_key("admin", mine["id"])
    bound = await signed_in(visitor, daemon, bound_key)
    for path in ["/", "/runs", "/schedules", "/webhooks", "/settings/security"]:
        answer = await bound.get(path)
        assert answer.status == 200, path
        assert "Secret project" not in answer.text and theirs["run"] not in answer.text, path
    assert "Bound project" in (await bound.get("/")).text
    for path in pages_of(theirs)[1:]:
        if path in ("/runs", "/schedules", "/webhooks", "/settings/security"):
            continue
        answer = await bound.get(path)
        # The same answer as the API gives this key for the same resource.
        assert answer.status == 403, (path, answer.status)
        assert "Secret project" not in answer.text
    api = await daemon.call("GET", f"/runs/{theirs['run']}", key=bound_key)
    assert api.status == 403
    assert (await bound.get(f"/runs/{theirs['run']}/junit")).status == 403
    assert (await bound.get(f"/runs?project_id={theirs['project']}")).status == 403
    before = await state(daemon)
    for page, action, fields in changes_of(theirs):
        if page == "/" or action.startswith("/settings"):
            continue  # those are not another project's
        answer = await bound.send(f"/projects/{mine['id']}", action, fields)
        assert answer.status == 403, (action, answer.status)
    assert await state(daemon) == before


async def test_no_page_shows_a_key_or_a_webhook_secret_after_its_first_showing(
    daemon: Daemon, visitor: MakeVisitor
) -> None:
    ids = await seeded(daemon)
    admin = await signed_in(visitor, daemon)
    created = await admin.send(
        "/webhooks/new",
        "/webhooks/new",
        {
            "url": "http://127.0.0.1:9/other",
            "events": "run.failed",
            "format": "json",
            "enabled": "on",
            "secret": "my-own-secret-of-sixteen+",
        },
    )
    assert created.status == 200 and "shown this once" in created.text
    assert 'value="my-own-secret-of-sixteen+"' in created.text
    generated = await admin.send(
        "/settings/security", "/settings/security/keys", {"name": "ci", "scope": "write"}
    )
    assert generated.status == 200
    new_key = generated.text.split('aria-label="New API key" id="new-key"')[0].split('value="')[-1]
    new_key = new_key.split('"')[0]
    assert new_key.startswith("aegis_") and len(new_key) == 38
    webhook_secret = await daemon.db.fetchall("SELECT secret FROM webhooks")
    secrets = [
        new_key,
        daemon.key,
        admin.cookie(SESSION_COOKIE),
        *(r["secret"] for r in webhook_secret),
    ]
    hooks = [row["id"] for row in await daemon.db.fetchall("SELECT id FROM webhooks")]
    paths = pages_of(ids) + [f"/webhooks/{hook}" for hook in hooks]
    paths += [f"/webhooks/{hook}/edit" for hook in hooks]
    for path in paths:
        page = await admin.get(path)
        assert page.status == 200, path
        for secret in secrets:
            assert secret not in page.text, (path, secret[:10])
            assert secret.removeprefix("aegis_") not in page.text, path


async def test_rate_limits_count_actions_not_page_views(
    tmp_path: Path, browsers: Browsers, visitor: MakeVisitor
) -> None:
    config = make_config(tmp_path, api={"rate_limit_per_minute": 3})
    async with running(config, browsers) as daemon:
        someone = await signed_in(visitor, daemon)
        for _ in range(10):  # page views: far over the per-minute quota, never refused
            assert (await someone.get("/")).status == 200
        statuses = []
        for number in range(4):
            answer = await someone.send(
                "/projects/new",
                "/projects/new",
                {"name": f"p{number}", "base_url": "http://a.test"},
            )
            statuses.append(answer.status)
        assert statuses == [303, 303, 303, 429]
        assert "nothing was changed" in answer.text and int(answer.headers["Retry-After"]) >= 1
        assert (await daemon.call("GET", "/projects")).status == 429  # the same quota as the API
        assert len(await daemon.db.fetchall("SELECT id FROM projects")) == 3


async def test_form_errors_are_the_apis_shown_at_the_field(
    daemon: Daemon, visitor: MakeVisitor
) -> None:
    ids = await seeded(daemon)
    admin: Visitor = await signed_in(visitor, daemon)
    bad_project = await admin.send(
        "/projects/new",
        "/projects/new",
        {
            "name": "",
            "base_url": "ftp://x",
            "settings.depth": "99",
            "settings.include_patterns": "(",
            "settings.login": "{not json",
        },
    )
    assert bad_project.status == 400
    for field in (
        "name",
        "base_url",
        "settings.depth",
        "settings.include_patterns",
        "settings.login",
    ):
        assert f'id="f-{field}" name="{field}"' in bad_project.text
        assert f'aria-describedby="{field}-error"' in bad_project.text, field
    assert "must be an absolute http:// or https:// URL" in bad_project.text
    assert "not valid JSON" in bad_project.text
    zone = await admin.send(
        "/schedules/new",
        "/schedules/new",
        {
            "target": f"suite:{ids['suite']}",
            "cron": "0 6 * * *",
            "timezone": "Mars/Olympus",
            "enabled": "on",
        },
    )
    assert zone.status == 400 and 'aria-describedby="timezone-error"' in zone.text
    assert ">unknown time zone &#39;Mars/Olympus&#39;; use an IANA name" in zone.text
    no_target = await admin.send("/schedules/new", "/schedules/new", {"cron": "0 6 * * *"})
    assert no_target.status == 400 and 'aria-describedby="target-error"' in no_target.text
    assert len(await daemon.db.fetchall("SELECT id FROM schedules")) == 1
    assert len(await daemon.db.fetchall("SELECT id FROM projects")) == 1


async def test_editing_a_project_keeps_what_is_left_and_clears_what_is_emptied(
    daemon: Daemon, visitor: MakeVisitor
) -> None:
    settings = {"max_pages": 7, "include_patterns": ["/docs/"], "headers": {"X-Env": "qa"}}
    project = await daemon.project("Docs", "http://127.0.0.1:9/", settings=settings)
    admin = await signed_in(visitor, daemon)
    form = await admin.get(f"/projects/{project['id']}/edit")
    assert 'value="7"' in form.text and "X-Env: qa" in form.text
    saved = await admin.post(
        f"/projects/{project['id']}/edit",
        {
            "csrf": form.csrf,
            "name": "Docs v2",
            "base_url": "http://127.0.0.1:9/",
            "settings.max_pages": "",
            "settings.depth": "2",
            "settings.include_patterns": "",
            "settings.headers": "X-Env: staging\nX-Team: qa",
            "settings.respect_robots_txt": "false",
        },
    )
    assert saved.status == 303, saved.text[:500]
    after = (await daemon.call("GET", f"/projects/{project['id']}")).data
    assert after["name"] == "Docs v2" and after["description"] is None
    assert after["settings"]["max_pages"] == 7 and after["settings"]["depth"] == 2
    assert after["settings"]["include_patterns"] == []
    assert after["settings"]["headers"] == {"X-Env": "staging", "X-Team": "qa"}
    assert after["settings"]["respect_robots_txt"] is False
    bad = await admin.post(
        f"/projects/{project['id']}/edit",
        {
            "csrf": form.csrf,
            "name": "Docs v3",
            "base_url": "http://127.0.0.1:9/",
            "settings.headers": "no colon here",
        },
    )
    assert bad.status == 400 and "write each header as Name: value" in bad.text
    assert (await daemon.call("GET", f"/projects/{project['id']}")).data["name"] == "Docs v2"
