from __future__ import annotations

import re

from tests.apiclient import Daemon


async def test_bearer_key_with_and_without_prefix(daemon: Daemon) -> None:
    key = await daemon.new_key("read")
    assert re.match(r"^aegis_[A-Za-z0-9_-]{32}$", key)
    assert (await daemon.call("GET", "/projects", key=key)).status == 200
    assert (await daemon.call("GET", "/projects", key=key.removeprefix("aegis_"))).status == 200


async def test_unknown_malformed_and_revoked_keys_are_401(daemon: Daemon) -> None:
    assert (await daemon.call("GET", "/projects", key="aegis_" + "x" * 32)).status == 401
    answer = await daemon.call("GET", "/projects", key="", headers={"Authorization": "Basic abc"})
    assert answer.status == 401
    key = await daemon.new_key("read")
    # Used first, so the key is known (and kept in memory) when it is revoked.
    assert (await daemon.call("GET", "/projects", key=key)).status == 200
    rows = await daemon.db.fetchall("SELECT id FROM api_keys WHERE scope = 'read'")
    revoked = await daemon.call("DELETE", f"/api-keys/{rows[0]['id']}")
    assert revoked.data["revoked_at"] is not None
    answer = await daemon.call("GET", "/projects", key=key)
    assert answer.status == 401
    assert "revoked" in answer.error["message"]


async def test_key_of_a_deleted_project_stops_working(daemon: Daemon) -> None:
    project = await daemon.project("doomed")
    key = await daemon.new_key("write", project_id=project["id"])
    assert (await daemon.call("GET", f"/projects/{project['id']}", key=key)).status == 200
    assert (await daemon.call("DELETE", f"/projects/{project['id']}")).status == 200
    answer = await daemon.call("GET", "/projects", key=key)
    assert answer.status == 401 and answer.error["code"] == "UNAUTHORIZED"


async def test_scopes(daemon: Daemon) -> None:
    read, write = await daemon.new_key("read"), await daemon.new_key("write")
    body = {"name": "x", "base_url": "http://a.test"}
    answer = await daemon.call("POST", "/projects", json=body, key=read)
    assert answer.status == 403 and answer.error["code"] == "FORBIDDEN"
    assert (await daemon.call("POST", "/projects", json=body, key=write)).status == 201
    assert (await daemon.call("GET", "/api-keys", key=write)).status == 403
    assert (await daemon.call("POST", "/api-keys", json={}, key=write)).status == 403
    assert (await daemon.call("GET", "/api-keys")).status == 200


async def test_key_bound_to_project_sees_only_it(daemon: Daemon) -> None:
    mine, other = await daemon.project("mine"), await daemon.project("other")
    key = await daemon.new_key("write", mine["id"])
    listing = await daemon.call("GET", "/projects", key=key)
    assert [p["id"] for p in listing.data] == [mine["id"]]
    assert listing.body["pagination"]["total"] == 1
    assert (await daemon.call("GET", f"/projects/{mine['id']}", key=key)).status == 200
    for method, body in [("GET", None), ("PUT", {"name": "z"}), ("DELETE", None)]:
        answer = await daemon.call(method, f"/projects/{other['id']}", json=body, key=key)
        assert answer.status == 403, method
    created = await daemon.call(
        "POST", "/projects", json={"name": "n", "base_url": "http://a.test"}, key=key
    )
    assert created.status == 403
    assert (await daemon.call("GET", f"/projects/{other['id']}")).data["name"] == "other"


async def test_api_keys_routes(daemon: Daemon) -> None:
    project = await daemon.project()
    created = await daemon.call(
        "POST", "/api-keys", json={"name": "ci", "scope": "write", "project_id": project["id"]}
    )
    assert created.status == 201
    secret = created.data["key"]
    assert secret.startswith(created.data["prefix"])
    assert re.match(r"^key_[A-Za-z0-9_-]{12,}$", created.data["id"])
    listing = await daemon.call("GET", "/api-keys")
    assert all("key" not in row and "key_hash" not in row for row in listing.data)
    assert created.data["id"] in [row["id"] for row in listing.data]
    assert (await daemon.call("GET", "/projects", key=secret)).status == 200

    bad = await daemon.call("POST", "/api-keys", json={"scope": "root"})
    assert bad.status == 400 and bad.error["details"][0]["field"] == "scope"
    missing = await daemon.call("POST", "/api-keys", json={"project_id": "proj_nope00000000"})
    assert missing.status == 404
    assert (await daemon.call("DELETE", "/api-keys/key_nope00000000")).status == 404


async def test_bound_admin_cannot_mint_unbound_keys(daemon: Daemon) -> None:
    project = await daemon.project()
    admin = await daemon.new_key("admin", project["id"])
    assert (
        await daemon.call("POST", "/api-keys", json={"scope": "admin"}, key=admin)
    ).status == 403
    ok = await daemon.call("POST", "/api-keys", json={"project_id": project["id"]}, key=admin)
    assert ok.status == 201
    listing = await daemon.call("GET", "/api-keys", key=admin)
    assert {row["project_id"] for row in listing.data} == {project["id"]}


async def test_only_hash_and_prefix_are_stored(daemon: Daemon) -> None:
    key = await daemon.new_key("read")
    dump = "\n".join(str(row) for row in await daemon.db.fetchall("SELECT * FROM api_keys"))
    assert key not in dump
    assert key[:10] in dump
