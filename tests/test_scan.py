"""``aegisd scan``: the real command against fixture sites, no daemon."""

from __future__ import annotations

import asyncio
import json
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

from tests.conftest import ServeApp
from tests.daemon import AEGISD, clean_env
from tests.sites import LoginSite, Site, login_steps, page


def _nav(*paths: str) -> str:
    return (
        "<nav>" + " ".join(f'<a href="{p}">{p.strip("/") or "Home"}</a>' for p in paths) + "</nav>"
    )


async def _scan(base: str, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    command = [
        *AEGISD, "scan", base + "/", "--junit", str(out / "junit.xml"),
        "--report", str(out / "report.html"), "--export", str(out / "suite.spec.ts"), *extra,
    ]  # fmt: skip
    process = await asyncio.create_subprocess_exec(
        *command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=clean_env()
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 300)
    assert process.returncode is not None
    return subprocess.CompletedProcess(
        command, process.returncode, stdout.decode(), stderr.decode()
    )


async def test_healthy_site_exits_0_with_outputs(serve: ServeApp, tmp_path: Path) -> None:
    nav = _nav("/", "/about", "/contact")
    pages = {"/": page("Home", nav), "/about": page("About", nav), "/contact": page("Contact", nav)}
    base = await serve(Site(pages).app())
    result = await _scan(base, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Crawled 3 pages" in result.stdout and "0 failed" in result.stdout
    junit = ET.parse(tmp_path / "junit.xml").getroot()
    assert int(junit.attrib["tests"]) >= 3 and junit.attrib["failures"] == "0"
    assert "<html" in (tmp_path / "report.html").read_text()
    spec = (tmp_path / "suite.spec.ts").read_text()
    assert "test.describe(" in spec and "Page loads: /about" in spec


async def test_broken_site_exits_1_with_a_failure_per_finding(
    serve: ServeApp, tmp_path: Path
) -> None:
    nav = _nav("/", "/gone", "/crash", "/script")
    pages = {
        "/": page("Home", nav),
        "/crash": page("Oops", nav),
        "/script": page("Script", nav, script="window.undefinedFunction()"),
    }
    base = await serve(Site(pages, statuses={"/crash": 500}).app())
    result = await _scan(base, tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    junit = ET.parse(tmp_path / "junit.xml").getroot()
    failures = {
        case.attrib["name"]: case.find("failure").attrib.get("message", "")  # type: ignore[union-attr]
        for case in junit.iter("testcase")
        if case.find("failure") is not None
    }
    assert f"Broken link: {base}/gone" in failures
    assert f"Server error: {base}/crash" in failures
    assert f"JavaScript errors: {base}/script" in failures
    assert "undefinedFunction" in failures[f"JavaScript errors: {base}/script"]


def test_bad_url_exits_2(tmp_path: Path) -> None:
    result = subprocess.run(
        [*AEGISD, "scan", "not-a-url"], capture_output=True, text=True, env=clean_env(), timeout=60
    )
    assert result.returncode == 2 and "not-a-url" in result.stderr


async def test_login_file_logs_the_crawl_the_run_and_the_export_in(
    serve: ServeApp, tmp_path: Path
) -> None:
    site = LoginSite()
    base = await serve(site.app())
    login = tmp_path / "login.json"
    login.write_text(json.dumps(login_steps()))
    result = await _scan(base, tmp_path, "--login", str(login))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Crawled 3 pages" in result.stdout and "/logout" not in site.hits
    assert "test.beforeEach(" in (tmp_path / "suite.spec.ts").read_text()

    login.write_text(json.dumps({"steps": [{"action": "click"}]}))
    refused = await _scan(base, tmp_path, "--login", str(login))
    assert refused.returncode == 2 and "steps.0.click.target" in refused.stderr
