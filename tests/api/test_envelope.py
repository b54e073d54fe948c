"""The envelope and error codes of DESIGN §3.1, for every kind of failure, in one place."""

from __future__ import annotations

import json

import pytest

from tests.apiclient import Daemon


def assert_error(answer: object, status: int, code: str) -> dict[str, object]:
    assert answer.status == status, answer.body  # type: ignore[attr-defined]
    body = answer.body  # type: ignore[attr-defined]
    assert set(body) == {"success", "error"}
    assert body["success"] is False
    error = body["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]
    assert "Traceback" not in error["message"]
    return error  # type: ignore[no-any-return]


async def test_success_envelope(daemon: Daemon) -> None:
    answer = await daemon.call("GET", "/projects")
    assert answer.status == 200
    assert set(answer.body) == {"success", "data", "pagination"}
    assert answer.body["success"] is True


@pytest.mark.parametrize("prefix", ["/v1", "/api/v1"])
async def test_unknown_route_is_404(daemon: Daemon, prefix: str) -> None:
    assert_error(await daemon.call("GET", "/no-such-thing", prefix=prefix), 404, "NOT_FOUND")
    assert_error(await daemon.call("GET", "/x", prefix="/nowhere"), 404, "NOT_FOUND")


async def test_unknown_id_is_404(daemon: Daemon) -> None:
    error = assert_error(await daemon.call("GET", "/projects/proj_missing0000"), 404, "NOT_FOUND")
    assert "proj_missing0000" in error["message"]  # type: ignore[operator]


async def test_wrong_method_is_405(daemon: Daemon) -> None:
    answer = await daemon.call("PATCH", "/projects")
    assert_error(answer, 405, "METHOD_NOT_ALLOWED")
    assert set(answer.headers["Allow"].split(",")) == {"GET", "POST"}


async def test_missing_key_is_401(daemon: Daemon) -> None:
    assert_error(await daemon.call("GET", "/projects", key=""), 401, "UNAUTHORIZED")


async def test_malformed_json_is_400_and_changes_nothing(daemon: Daemon) -> None:
    answer = await daemon.call(
        "POST", "/projects", data=b'{"name": "x", ', headers={"Content-Type": "application/json"}
    )
    assert_error(answer, 400, "BAD_REQUEST")
    assert (await daemon.call("GET", "/projects")).body["pagination"]["total"] == 0


async def test_wrong_content_type_is_400(daemon: Daemon) -> None:
    body = json.dumps({"name": "x", "base_url": "http://a.test"})
    answer = await daemon.call(
        "POST", "/projects", data=body, headers={"Content-Type": "text/plain"}
    )
    error = assert_error(answer, 400, "BAD_REQUEST")
    assert "application/json" in error["message"]  # type: ignore[operator]


async def test_empty_body_is_400(daemon: Daemon) -> None:
    assert_error(await daemon.call("POST", "/projects"), 400, "BAD_REQUEST")


async def test_non_object_json_is_validation_error(daemon: Daemon) -> None:
    assert_error(await daemon.call("POST", "/projects", json=[1, 2]), 400, "VALIDATION_ERROR")


async def test_validation_error_names_fields(daemon: Daemon) -> None:
    answer = await daemon.call(
        "POST", "/projects", json={"name": "", "base_url": "ftp://x", "bogus": 1}
    )
    error = assert_error(answer, 400, "VALIDATION_ERROR")
    fields = {detail["field"] for detail in error["details"]}  # type: ignore[attr-defined]
    assert fields == {"name", "base_url", "bogus"}
    assert all(detail["message"] for detail in error["details"])  # type: ignore[attr-defined]


async def test_body_over_one_mebibyte_is_413(daemon: Daemon) -> None:
    huge = {"name": "x", "base_url": "http://a.test", "description": "x" * (1024 * 1024)}
    assert_error(await daemon.call("POST", "/projects", json=huge), 413, "PAYLOAD_TOO_LARGE")
    assert (await daemon.call("GET", "/projects")).body["pagination"]["total"] == 0


async def test_internal_error_has_no_traceback(daemon: Daemon) -> None:
    await daemon.db.close()  # every query now fails inside the handler
    answer = await daemon.call("GET", "/projects")
    error = assert_error(answer, 500, "INTERNAL_ERROR")
    assert "database" not in error["message"]  # type: ignore[operator]
    await daemon.db.open()
