"""Running exported suites the way a user would: ``npx playwright test`` and ``pytest``.

Each runner gets a scratch directory holding the exported file unchanged plus the
configuration a user's project would have: a ``playwright.config.ts`` or a
``conftest.py`` pointing Playwright at the system Chromium. A zip export brings
its own configuration: it is unzipped and run as it is, told the site and the
browser through ``BASE_URL`` and ``PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH``.
Outcomes come back keyed by case name as ``passed``, ``failed`` or ``skipped``.
"""

from __future__ import annotations

import ast
import asyncio
import json
import os
import signal
import sys
import xml.etree.ElementTree as ET
import zipfile
from io import BytesIO
from pathlib import Path
from typing import Any

from runner.browsers import CHROMIUM_ARGS, BrowserSettings, find_chromium
from runner.export_common import ExportedFile, Language
from runner.export_zip import ExportedZip

NODE_MODULES = Path(__file__).resolve().parents[2] / "node_modules"
TIMEOUT_MS = 5_000
"""Action and assertion timeout for every runner, so broken cases fail quickly."""

_RUN_TIMEOUT_S = 900
_LAUNCH_ARGS = [*CHROMIUM_ARGS, "--no-sandbox"]
_PLAYWRIGHT_STATUSES = {
    "expected": "passed",
    "flaky": "passed",
    "unexpected": "failed",
    "skipped": "skipped",
}

_PLAYWRIGHT_CONFIG = """\
import {{ defineConfig }} from '@playwright/test';

export default defineConfig({{
  testDir: '.',
  workers: {workers},
  retries: 0,
  expect: {{ timeout: {timeout} }},
  use: {{
    actionTimeout: {timeout},
    trace: '{trace}',
    screenshot: '{screenshot}',
    launchOptions: {{ executablePath: {chromium}, args: {args} }},
  }},
}});
"""

_CONFTEST = """\
import pytest
from playwright.sync_api import Page, expect

expect.set_options(timeout={timeout})


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {{**browser_type_launch_args, "executable_path": {chromium!r}, "args": {args!r}}}


@pytest.fixture(autouse=True)
def short_timeouts(page: Page) -> None:
    page.set_default_timeout({timeout})
"""


def _chromium() -> str:
    return find_chromium(BrowserSettings(), None)


async def _run(command: list[str], cwd: Path, env: dict[str, str]) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        *command,
        cwd=cwd,
        env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        output, _ = await asyncio.wait_for(process.communicate(), timeout=_RUN_TIMEOUT_S)
    finally:
        if process.returncode is None:  # timed out or cancelled: take its workers down too
            os.killpg(process.pid, signal.SIGKILL)
            await process.wait()
    return process.returncode or 0, output.decode(errors="replace")


def _specs(suite: dict[str, Any]) -> list[dict[str, Any]]:
    specs: list[dict[str, Any]] = list(suite.get("specs", []))
    for child in suite.get("suites", []):
        specs += _specs(child)
    return specs


def _write(workdir: Path, files: dict[str, str]) -> None:
    workdir.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (workdir / name).write_text(text)


async def playwright_outcomes(
    spec: ExportedFile, workdir: Path, workers: int = 2, failure_artifacts: bool = False
) -> dict[str, str]:
    """Run a TypeScript export with the real ``npx playwright test``; outcome per test title.

    ``failure_artifacts`` keeps a trace and a screenshot of failed tests, as aegisd's
    defaults do (recording a trace of every test to keep the failed ones').
    """
    config = _PLAYWRIGHT_CONFIG.format(
        workers=workers,
        trace="retain-on-failure" if failure_artifacts else "off",
        screenshot="only-on-failure" if failure_artifacts else "off",
        timeout=TIMEOUT_MS,
        chromium=json.dumps(_chromium()),
        args=json.dumps(_LAUNCH_ARGS),
    )
    _write(workdir, {spec.filename: spec.code, "playwright.config.ts": config})
    return await _playwright_test(workdir, {})


async def _playwright_test(workdir: Path, env: dict[str, str]) -> dict[str, str]:
    """``npx playwright test`` in ``workdir``; the outcome per test title."""
    os.symlink(NODE_MODULES, workdir / "node_modules", target_is_directory=True)
    report = workdir / "report.json"
    code, output = await _run(
        [str(NODE_MODULES / ".bin" / "playwright"), "test", "--reporter=json"],
        workdir,
        {
            "PLAYWRIGHT_JSON_OUTPUT_NAME": str(report),
            "PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD": "1",
            **env,
        },
    )
    assert report.exists(), f"playwright test wrote no report (exit {code}):\n{output}"
    data = json.loads(report.read_text())
    assert not data.get("errors"), f"playwright test reported errors: {data['errors']}\n{output}"
    return {
        item["title"]: _PLAYWRIGHT_STATUSES[item["tests"][0]["status"]]
        for suite in data["suites"]
        for item in _specs(suite)
    }


async def pytest_outcomes(module: ExportedFile, workdir: Path) -> dict[str, str]:
    """Run a Python export with ``pytest`` and pytest-playwright; outcome per case name."""
    conftest = _CONFTEST.format(timeout=TIMEOUT_MS, chromium=_chromium(), args=_LAUNCH_ARGS)
    _write(workdir, {module.filename: module.code, "conftest.py": conftest})
    return await _pytest(workdir, module.filename, module.code, {})


async def _pytest(workdir: Path, filename: str, code: str, env: dict[str, str]) -> dict[str, str]:
    """``pytest filename`` in ``workdir``; the outcome per case name (the docstrings)."""
    junit = workdir / "junit.xml"
    command = [sys.executable, "-m", "pytest", filename, "-p", "no:cacheprovider"]
    status, output = await _run([*command, f"--junitxml={junit}"], workdir, env)
    assert junit.exists(), f"pytest wrote no report (exit {status}):\n{output}"
    case_names = {
        node.name: ast.get_docstring(node) or ""
        for node in ast.parse(code).body
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")
    }
    outcomes: dict[str, str] = {}
    for testcase in ET.parse(junit).getroot().iter("testcase"):
        children = {child.tag for child in testcase}
        outcome = "passed"
        if children & {"failure", "error"}:
            outcome = "failed"
        elif "skipped" in children:
            outcome = "skipped"
        function = testcase.attrib["name"].partition("[")[0]  # pytest-playwright adds [chromium]
        outcomes[case_names[function]] = outcome
    return outcomes


async def zip_outcomes(
    exported: ExportedZip, language: Language, workdir: Path, base_url: str
) -> dict[str, str]:
    """Unzip a zip export into ``workdir`` and run it as it is (``npx playwright test`` or
    ``pytest``) against ``base_url``; the outcome per case name."""
    with zipfile.ZipFile(BytesIO(exported.data)) as archive:
        archive.extractall(workdir)
        modules = [name for name in archive.namelist() if name.startswith("test_")]
        code = archive.read(modules[0]).decode() if modules else ""
    env = {"BASE_URL": base_url, "PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH": _chromium()}
    if language == "typescript":
        return await _playwright_test(workdir, env)
    return await _pytest(workdir, modules[0], code, env)
