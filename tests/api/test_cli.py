"""The real ``aegisd`` process: first start, keys commands beside it, clean shutdown."""

from __future__ import annotations

import re
import signal
from pathlib import Path

import aiohttp
import pytest

from tests.conftest import Spawn
from tests.daemon import run_cli

KEY = re.compile(r"aegis_[A-Za-z0-9_-]{32}")


async def _get(url: str, key: str) -> tuple[int, dict[str, object]]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(url, headers={"Authorization": f"Bearer {key}"}) as response,
    ):
        return response.status, await response.json()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
async def test_serve_prints_admin_key_once_and_stops_cleanly(
    spawn: Spawn, tmp_path: Path, sig: int
) -> None:
    data = tmp_path / "data"
    daemon = spawn(data)
    await daemon.start()
    admin = KEY.findall(daemon.stdout)
    assert len(admin) == 1
    status, body = await _get(daemon.url + "/v1/projects", admin[0])
    assert status == 200 and body["pagination"] == {"page": 1, "limit": 20, "total": 0, "pages": 0}
    assert daemon.stop(sig) == 0
    assert "Traceback" not in daemon.stderr

    again = spawn(data)
    await again.start()
    assert KEY.findall(again.stdout) == []  # keys exist: nothing new printed
    assert (await _get(again.url + "/v1/projects", admin[0]))[0] == 200
    assert again.stop() == 0
    assert admin[0] not in again.stderr and admin[0] not in daemon.stderr


async def test_keys_commands_work_beside_a_running_daemon(spawn: Spawn, tmp_path: Path) -> None:
    data = tmp_path / "data"
    daemon = spawn(data)
    await daemon.start()
    try:
        created = run_cli("keys", "create", "--name", "ci", "--scope", "read", data_dir=data)
        assert created.returncode == 0, created.stderr
        secret = KEY.findall(created.stdout)[0]
        key_id = re.findall(r"key_[A-Za-z0-9_-]+", created.stdout)[0]
        assert (await _get(daemon.url + "/api/v1/projects", secret))[0] == 200

        listed = run_cli("keys", "list", data_dir=data)
        assert key_id in listed.stdout and secret not in listed.stdout
        assert "read" in listed.stdout

        revoked = run_cli("keys", "revoke", key_id, data_dir=data)
        assert revoked.returncode == 0
        assert (await _get(daemon.url + "/v1/projects", secret))[0] == 401
        assert "revoked" in run_cli("keys", "list", data_dir=data).stdout
    finally:
        assert daemon.stop() == 0
    # Neither the key nor its hash reaches the log, though requests carried it.
    assert secret not in daemon.stderr and secret.removeprefix("aegis_") not in daemon.stderr
    assert "Authorization" not in daemon.stderr


def test_keys_errors(tmp_path: Path) -> None:
    missing = run_cli("keys", "revoke", "key_nope", data_dir=tmp_path)
    assert missing.returncode == 2 and "not found" in missing.stderr
    unbound = run_cli("keys", "create", "--project", "proj_nope", data_dir=tmp_path)
    assert unbound.returncode == 2 and "not found" in unbound.stderr


def test_bad_config_fails_at_start_naming_the_key(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("[server]\nport = 0\n")
    result = run_cli("serve", "--config", str(config), data_dir=tmp_path)
    assert result.returncode == 2
    assert "server.port" in result.stderr
    assert "Traceback" not in result.stderr


async def test_warns_when_bound_beyond_loopback(spawn: Spawn, tmp_path: Path) -> None:
    daemon = spawn(tmp_path / "data", "--host", "0.0.0.0")
    await daemon.start()
    assert daemon.stop() == 0
    assert "reachable from the network" in daemon.stderr


@pytest.mark.parametrize("enabled", [False, True])
async def test_access_log_is_opt_in(spawn: Spawn, tmp_path: Path, enabled: bool) -> None:
    env = {"AEGISD_SERVER__ACCESS_LOG": "true"} if enabled else {}
    daemon = spawn(tmp_path / "data", env=env)
    await daemon.start()
    assert (await _get(daemon.url + "/v1/projects", daemon.admin_key))[0] == 200
    assert daemon.stop() == 0
    assert ('"GET /v1/projects HTTP/1.1" 200' in daemon.stderr) is enabled
    assert daemon.admin_key not in daemon.stderr
