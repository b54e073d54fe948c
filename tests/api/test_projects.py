from __future__ import annotations

import re

import pytest

from tests.apiclient import Daemon
from tests.sites import login_steps

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
GOTO_LOGIN = {"action": "goto", "url": "/login"}


async def test_create_get_update_delete(daemon: Daemon) -> None:
    created = await daemon.call(
        "POST",
        "/projects",
        json={
            "name": "Shop",
            "base_url": "https://shop.example.test",
            "settings": {"max_pages": 50, "exclude_patterns": ["/admin"]},
        },
    )
    assert created.status == 201
    project = created.data
    assert re.match(r"^proj_[A-Za-z0-9_-]{12,}$", project["id"])
    assert ISO.match(project["created_at"]) and ISO.match(project["updated_at"])
    assert project["settings"]["max_pages"] == 50
    assert project["settings"]["depth"] == 3  # default filled in
    assert project["description"] is None

    fetched = await daemon.call("GET", f"/projects/{project['id']}")
    assert fetched.data == project

    updated = await daemon.call(
        "PUT", f"/projects/{project['id']}", json={"description": "d", "settings": {"depth": 1}}
    )
    assert updated.status == 200
    assert updated.data["name"] == "Shop"  # untouched
    assert updated.data["description"] == "d"
    assert updated.data["settings"]["depth"] == 1
    assert updated.data["settings"]["max_pages"] == 50  # partial settings merge
    assert updated.data["settings"]["exclude_patterns"] == ["/admin"]

    deleted = await daemon.call("DELETE", f"/projects/{project['id']}")
    assert deleted.data == {"id": project["id"], "deleted": True}
    assert (await daemon.call("GET", f"/projects/{project['id']}")).status == 404
    assert (await daemon.call("DELETE", f"/projects/{project['id']}")).status == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"base_url": "http://a.test"}, "name"),
        ({"name": "x" * 201, "base_url": "http://a.test"}, "name"),
        ({"name": "x"}, "base_url"),
        ({"name": "x", "base_url": "a.test/path"}, "base_url"),
        ({"name": "x", "base_url": "javascript:alert(1)"}, "base_url"),
        (
            {"name": "x", "base_url": "http://a.test", "settings": {"max_pages": 0}},
            "settings.max_pages",
        ),
        ({"name": "x", "base_url": "http://a.test", "settings": {"depth": -1}}, "settings.depth"),
        (
            {"name": "x", "base_url": "http://a.test", "settings": {"exclude_patterns": ["("]}},
            "settings.exclude_patterns",
        ),
        (
            {"name": "x", "base_url": "http://a.test", "settings": {"headers": {"bad name": "v"}}},
            "settings.headers",
        ),
        (
            {"name": "x", "base_url": "http://a.test", "settings": {"unknown": 1}},
            "settings.unknown",
        ),
        *(
            ({"name": "x", "base_url": "http://a.test", "settings": {"login": login}}, field)
            for login, field in [
                ({"steps": []}, "settings.login.steps"),
                (
                    {"steps": [{"action": "click", "target": {"text": "Go"}}]},
                    "settings.login.steps",
                ),
                (
                    {
                        "steps": [
                            GOTO_LOGIN,
                            {"action": "click", "target": {"text": "a", "css": "b"}},
                        ]
                    },
                    "settings.login.steps.1.click.target",
                ),
                ({"steps": [GOTO_LOGIN, {"action": "hover"}]}, "settings.login.steps.1"),
                ({"steps": [GOTO_LOGIN], "user": "ada"}, "settings.login.user"),
                ("ada:secret", "settings.login"),
            ]
        ),
    ],
)
async def test_create_validation(daemon: Daemon, body: dict[str, object], field: str) -> None:
    answer = await daemon.call("POST", "/projects", json=body)
    assert answer.status == 400
    assert answer.error["code"] == "VALIDATION_ERROR"
    assert field in {detail["field"] for detail in answer.error["details"]}
    assert (await daemon.call("GET", "/projects")).body["pagination"]["total"] == 0


async def test_update_validation_changes_nothing(daemon: Daemon) -> None:
    project = await daemon.project()
    for body, field in [
        ({"base_url": "nope"}, "base_url"),
        ({"settings": {"max_pages": "many"}}, "settings.max_pages"),
        (
            {"settings": {"login": {"steps": [{"action": "goto"}]}}},
            "settings.login.steps.0.goto.url",
        ),
        ({"name": ""}, "name"),
        ({"id": "proj_x"}, "id"),
    ]:
        answer = await daemon.call("PUT", f"/projects/{project['id']}", json=body)
        assert answer.status == 400, body
        assert field in {detail["field"] for detail in answer.error["details"]}
    assert (await daemon.call("GET", f"/projects/{project['id']}")).data == project


async def test_login_is_set_kept_and_removed(daemon: Daemon) -> None:
    """``settings.login`` is one key: given, it replaces the whole login; null removes it."""
    project = await daemon.project(settings={"login": login_steps()})
    assert project["settings"]["login"]["steps"][2]["value"] == login_steps()["steps"][2]["value"]
    path = f"/projects/{project['id']}"

    kept = await daemon.call("PUT", path, json={"settings": {"depth": 1}})
    assert kept.data["settings"]["login"] == project["settings"]["login"]
    replaced = await daemon.call("PUT", path, json={"settings": {"login": {"steps": [GOTO_LOGIN]}}})
    assert len(replaced.data["settings"]["login"]["steps"]) == 1
    removed = await daemon.call("PUT", path, json={"settings": {"login": None}})
    assert removed.data["settings"]["login"] is None
    assert (await daemon.project(name="plain"))["settings"]["login"] is None


async def test_update_unknown_project_is_404(daemon: Daemon) -> None:
    answer = await daemon.call("PUT", "/projects/proj_nope00000000", json={"name": "y"})
    assert answer.status == 404


async def test_pagination_metadata(daemon: Daemon) -> None:
    ids = [(await daemon.project(name=f"p{i}"))["id"] for i in range(7)]
    newest_first = list(reversed(ids))

    first = await daemon.call("GET", "/projects?limit=3")
    assert first.body["pagination"] == {"page": 1, "limit": 3, "total": 7, "pages": 3}
    assert [p["id"] for p in first.data] == newest_first[:3]

    last = await daemon.call("GET", "/projects?page=3&pageSize=3")
    assert last.body["pagination"] == {"page": 3, "limit": 3, "total": 7, "pages": 3}
    assert [p["id"] for p in last.data] == newest_first[6:]

    past = await daemon.call("GET", "/projects?page=9&limit=3")
    assert past.status == 200
    assert past.data == []
    assert past.body["pagination"] == {"page": 9, "limit": 3, "total": 7, "pages": 3}

    default = await daemon.call("GET", "/projects")
    assert default.body["pagination"]["limit"] == 20


@pytest.mark.parametrize(
    "query", ["page=0", "page=x", "limit=0", "limit=101", "pageSize=500", "page=-1"]
)
async def test_bad_pagination_is_400(daemon: Daemon, query: str) -> None:
    answer = await daemon.call("GET", f"/projects?{query}")
    assert answer.status == 400
    assert answer.error["code"] == "VALIDATION_ERROR"
    assert answer.error["details"][0]["field"] == query.split("=")[0]


async def test_delete_cascades_to_bound_keys(daemon: Daemon) -> None:
    project = await daemon.project()
    bound = await daemon.new_key("read", project["id"])
    assert (await daemon.call("GET", "/projects", key=bound)).status == 200
    await daemon.call("DELETE", f"/projects/{project['id']}")
    assert (await daemon.call("GET", "/projects", key=bound)).status == 401
    assert (
        await daemon.db.fetchval(
            "SELECT COUNT(*) FROM api_keys WHERE project_id = ?", (project["id"],)
        )
        == 0
    )
