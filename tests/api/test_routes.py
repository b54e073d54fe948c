"""Checks generated from the route table, so a new route cannot be forgotten."""

from __future__ import annotations

import re

import pytest

from aegisd.app import API_PREFIXES, ENDPOINTS
from tests.apiclient import Daemon

PROTECTED = [e for e in ENDPOINTS if e.scope is not None]


def _concrete(path: str) -> str:
    return re.sub(r"{(\w+)}", lambda m: m.group(1).split("_")[0] + "_doesnotexist1", path)


@pytest.mark.parametrize("endpoint", PROTECTED, ids=lambda e: f"{e.method} {e.path}")
@pytest.mark.parametrize("prefix", API_PREFIXES)
async def test_every_protected_route_needs_a_key(daemon: Daemon, endpoint, prefix: str) -> None:  # type: ignore[no-untyped-def]
    answer = await daemon.call(
        endpoint.method, _concrete(endpoint.path), key="", prefix=prefix, json={}
    )
    assert answer.status == 401, answer.body
    bogus = await daemon.call(
        endpoint.method, _concrete(endpoint.path), key="aegis_" + "0" * 32, prefix=prefix, json={}
    )
    assert bogus.status == 401


async def test_read_keys_cannot_write_anywhere(daemon: Daemon) -> None:
    read = await daemon.new_key("read")
    for endpoint in PROTECTED:
        if endpoint.method != "GET":
            answer = await daemon.call(endpoint.method, _concrete(endpoint.path), key=read, json={})
            assert answer.status == 403, (endpoint.method, endpoint.path)


async def test_openapi_lists_every_route(daemon: Daemon) -> None:
    document = (await daemon.call("GET", "/openapi.json", key="")).body
    assert document["openapi"].startswith("3.1")
    served = set()
    for resource in daemon.app.router.resources():
        info = resource.get_info()
        path = info.get("path") or info.get("formatter")
        if path is None or not (path.startswith("/v1/") or path == "/healthz"):
            continue  # the /api/v1 copies, and the dashboard's pages and static files
        for route in resource:
            served.add((route.method.lower(), path))
    documented = {(m, p) for p, ops in document["paths"].items() for m in ops}
    assert served == documented
    create = document["paths"]["/v1/projects"]["post"]
    body_ref = create["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    body_schema = document["components"]["schemas"][body_ref.rsplit("/", 1)[1]]
    assert {"name", "base_url"} <= set(body_schema["required"])
    assert body_schema["additionalProperties"] is False
    listing = document["paths"]["/v1/projects"]["get"]
    assert {p["name"] for p in listing["parameters"]} == {"page", "limit", "pageSize"}
