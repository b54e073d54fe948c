"""The suites API with hand-written cases (generated suites are tested with crawls)."""

from __future__ import annotations

from typing import Any

from tests.apiclient import Daemon

CASES: list[dict[str, Any]] = [
    {
        "name": "Home loads",
        "type": "smoke",
        "steps": [
            {"action": "goto", "url": "/"},
            {"action": "expect_status", "status": 200},
            {"action": "expect_title", "value": "Home"},
        ],
    },
    {
        "name": "About is linked",
        "type": "navigation",
        "steps": [
            {"action": "goto", "url": "/"},
            {"action": "click", "target": {"role": "link", "name": "About"}},
            {"action": "expect_url", "value": "/about"},
        ],
    },
]


async def make_suite(
    daemon: Daemon, project_id: str, cases: list[dict[str, Any]] = CASES, **extra: Any
) -> dict[str, Any]:
    answer = await daemon.call(
        "POST", "/suites", json={"project_id": project_id, "name": "Smoke", "cases": cases, **extra}
    )
    assert answer.status == 201, answer.body
    return answer.data  # type: ignore[no-any-return]


async def test_create_get_list_export_delete(daemon: Daemon) -> None:
    project = await daemon.project(base_url="http://127.0.0.1:9/")
    suite = await make_suite(daemon, project["id"])
    assert suite["case_count"] == 2 and suite["base_url"] == "http://127.0.0.1:9/"
    assert suite["crawl_id"] is None
    assert [c["name"] for c in suite["cases"]] == ["Home loads", "About is linked"]
    assert all(c["id"].startswith("case_") for c in suite["cases"])

    detail = await daemon.call("GET", f"/suites/{suite['id']}")
    assert detail.data == suite
    listing = await daemon.call("GET", f"/suites?project_id={project['id']}")
    assert [s["id"] for s in listing.data] == [suite["id"]]
    assert "cases" not in listing.data[0]

    exported = await daemon.call("GET", f"/suites/{suite['id']}/export")
    assert exported.data["language"] == "typescript"
    assert exported.data["filename"].endswith(".spec.ts")
    assert "test.describe(" in exported.data["code"] and "Home loads" in exported.data["code"]
    python = await daemon.call("GET", f"/suites/{suite['id']}/export?language=python")
    assert python.data["filename"].endswith(".py") and "def test_" in python.data["code"]
    download = await daemon.call("GET", f"/suites/{suite['id']}/export?download=true")
    assert download.status == 200
    assert download.headers["Content-Disposition"] == (
        f'attachment; filename="{exported.data["filename"]}"'
    )
    assert download.body == exported.data["code"].encode()
    bad = await daemon.call("GET", f"/suites/{suite['id']}/export?language=ruby")
    assert bad.status == 400 and bad.error["details"][0]["field"] == "language"

    assert (await daemon.call("DELETE", f"/suites/{suite['id']}")).data["deleted"] is True
    assert (await daemon.call("GET", f"/suites/{suite['id']}")).status == 404
    assert await daemon.db.fetchval("SELECT COUNT(*) FROM cases") == 0


async def test_invalid_cases_name_the_field(daemon: Daemon) -> None:
    project = await daemon.project()
    bad_step = [{"name": "x", "steps": [{"action": "teleport"}]}]
    two_targets = [
        {"name": "x", "steps": [{"action": "click", "target": {"text": "a", "css": "b"}}]}
    ]
    for cases, field in [
        (bad_step, "cases.0.steps.0"),
        (two_targets, "cases.0.steps.0"),
        ([], "cases"),
    ]:
        answer = await daemon.call(
            "POST", "/suites", json={"project_id": project["id"], "name": "s", "cases": cases}
        )
        assert answer.status == 400, cases
        assert any(d["field"].startswith(field) for d in answer.error["details"]), answer.error
    assert (await daemon.call("GET", "/suites")).body["pagination"]["total"] == 0


async def test_unknown_ids_and_bound_keys(daemon: Daemon) -> None:
    assert (await daemon.call("GET", "/suites/suite_nope00000000")).status == 404
    assert (await daemon.call("GET", "/suites/suite_nope00000000/export")).status == 404
    assert (await daemon.call("DELETE", "/suites/suite_nope00000000")).status == 404
    mine, other = await daemon.project(), await daemon.project()
    theirs = await make_suite(daemon, other["id"])
    key = await daemon.new_key("write", mine["id"])
    for method, path in [
        ("GET", f"/suites/{theirs['id']}"),
        ("GET", f"/suites/{theirs['id']}/export"),
        ("DELETE", f"/suites/{theirs['id']}"),
        ("GET", f"/suites?project_id={other['id']}"),
    ]:
        assert (await daemon.call(method, path, key=key)).status == 403, path
    assert (await daemon.call("GET", "/suites", key=key)).data == []
    body = {"project_id": other["id"], "name": "s", "cases": CASES}
    assert (await daemon.call("POST", "/suites", json=body, key=key)).status == 403
