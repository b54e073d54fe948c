"""Run the real ``aegisd`` command in a subprocess, for tests of the process as a whole."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp

AEGISD = [sys.executable, "-m", "aegisd.cli"]
UNLIMITED = {"AEGISD_API__RATE_LIMIT_PER_MINUTE": "0"}
"""Environment for a spawned daemon whose test makes more requests than a plan allows."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_cli(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    """Run an ``aegisd`` command to completion."""
    return subprocess.run(
        [*AEGISD, *args, "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=60,
        env=clean_env(),
    )


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("AEGISD_")}


class DaemonProcess:
    """``aegisd serve`` on a free port; ``await start()``, then ``stop()`` or ``kill()``."""

    def __init__(self, data_dir: Path, *extra: str, env: dict[str, str] | None = None) -> None:
        self.data_dir = data_dir
        self.env = {**clean_env(), **(env or {})}
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.extra = extra
        self.process: subprocess.Popen[str] | None = None
        self.stdout_path = data_dir.parent / f"aegisd-{self.port}.out"
        self.stderr_path = data_dir.parent / f"aegisd-{self.port}.err"

    def _spawn(self) -> subprocess.Popen[str]:
        command = [*AEGISD, "serve", "--data-dir", str(self.data_dir), "--port", str(self.port)]
        return subprocess.Popen(
            [*command, *self.extra],
            stdout=self.stdout_path.open("w"),
            stderr=self.stderr_path.open("w"),
            text=True,
            env=self.env,
        )

    async def start(self, within_s: float = 30) -> None:
        """Start the process and wait until ``/healthz`` answers."""
        self.process = self._spawn()
        deadline = time.monotonic() + within_s
        async with aiohttp.ClientSession() as session:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"aegisd exited: {self.stderr}")
                try:
                    async with session.get(self.url + "/healthz") as response:
                        if response.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
        raise TimeoutError(f"aegisd did not start: {self.stderr}")

    @property
    def admin_key(self) -> str:
        """The admin key the first start printed."""
        return self.stdout.split("(shown once): ")[1].split()[0]

    def api(self, key: str) -> aiohttp.ClientSession:
        """A session on this daemon's ``/v1/`` API, sending ``key``."""
        return aiohttp.ClientSession(self.url + "/v1/", headers={"Authorization": f"Bearer {key}"})

    @property
    def stdout(self) -> str:
        return self.stdout_path.read_text()

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text()

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        """Send ``sig`` and wait for the exit code."""
        assert self.process is not None
        self.process.send_signal(sig)
        return self.process.wait(timeout)

    def kill(self) -> None:
        """``kill -9``: no cleanup at all."""
        assert self.process is not None
        self.process.kill()
        self.process.wait(10)

    def reap(self) -> None:
        """Kill the process if a test left it running."""
        if self.process is not None and self.process.poll() is None:
            self.kill()


async def poll(http: aiohttp.ClientSession, path: str, done: Callable[[Any], bool]) -> Any:
    """``GET path`` of a spawned daemon's API until ``done(data)``; the data then."""
    for _ in range(1200):
        async with http.get(path) as response:
            data = (await response.json())["data"]
        if done(data):
            return data
        await asyncio.sleep(0.1)
    raise AssertionError(f"{path} never got there: {data}")
