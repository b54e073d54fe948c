"""Baselines through the API: recorded by a first run, listed, approved, deleted, exported.

One daemon runs a hand-written suite of screenshot checks against Studio: the
first run records a baseline per screenshot; a changed stylesheet makes two of
them differ (and the run say so); bad approvals change nothing; approving
turns the next run green; a deleted baseline and a deleted suite take their
files along; the zip exports carry the baselines in Playwright's layout.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

from aegisd.state import CONFIG
from runner.browsers import Browsers
from tests.api.test_suites import make_suite
from tests.apiclient import STEP_TIMEOUT_S, Daemon, make_config, running
from tests.conftest import ServeApp
from tests.visual.site import CHANGES, studio_site

CASES: list[dict[str, Any]] = [
    {"name": name, "steps": [{"action": "goto", "url": path}, {"action": "expect_screenshot"}]}
    for name, path in [("About", "/about"), ("Gallery", "/gallery"), ("Team", "/team")]
]


async def _run(daemon: Daemon, suite_id: str) -> dict[str, Any]:
    queued = await daemon.call("POST", "/runs", json={"suite_id": suite_id})
    assert queued.status == 201, queued.body
    return await daemon.finished(f"/runs/{queued.data['id']}", within_s=300)  # type: ignore[no-any-return]


async def _get(daemon: Daemon, url: str) -> Any:
    answer = await daemon.call("GET", "/" + url.split("/v1/", 1)[1])
    assert answer.status == 200, url
    return answer.body


def _checks(run: dict[str, Any]) -> dict[str, list[str]]:
    return {r["name"]: [check["status"] for check in r["visual"]] for r in run["results"]}


async def test_baselines_through_their_life(
    serve: ServeApp, browsers: Browsers, tmp_path: Path
) -> None:
    site = studio_site()
    base_url = await serve(site)
    config = make_config(tmp_path, runner={"screenshots": "off", "trace": "off"})
    async with running(config, browsers) as daemon:
        project = await daemon.project(base_url=base_url)
        suite = await make_suite(daemon, project["id"], CASES)
        case_ids = {case["name"]: case["id"] for case in suite["cases"]}
        baselines_url = f"/suites/{suite['id']}/baselines"

        first = await _run(daemon, suite["id"])
        listing = await daemon.call("GET", baselines_url)
        site[CHANGES].update({"colour", "image"})
        second = await _run(daemon, suite["id"])

        # The first run records a baseline per screenshot, from its own screenshots.
        assert first["status"] == "passed" and first["visual_diffs"] == 0
        assert _checks(first) == {"About": ["new"], "Gallery": ["new"], "Team": ["new"]}
        assert listing.body["pagination"]["total"] == 3
        assert {row["case_id"] for row in listing.data} == set(case_ids.values())
        for row in listing.data:
            assert (row["name"], row["browser"], row["viewport"]) == (
                "page",
                "chromium",
                "1280x720",
            )
            assert row["approved_from_run"] == first["id"]
        about = next(r for r in first["results"] if r["name"] == "About")
        about_baseline = next(row for row in listing.data if row["case_id"] == case_ids["About"])
        recorded = await _get(daemon, about_baseline["image"])
        assert recorded.startswith(b"\x89PNG")
        assert recorded == await _get(daemon, about["visual"][0]["actual"])
        one = await daemon.call("GET", f"{baselines_url}?case_id={case_ids['Team']}")
        assert [row["case_id"] for row in one.data] == [case_ids["Team"]]

        # The changed colour and image show in two screenshots; the run counts them.
        assert second["status"] == "failed" and second["visual_diffs"] == 2
        assert _checks(second) == {
            "About": ["differs"],
            "Gallery": ["differs"],
            "Team": ["matched"],
        }
        differing = next(r for r in second["results"] if r["name"] == "Gallery")["visual"][0]
        assert differing["diff_pixels"] > 0 and 0 < differing["diff_ratio"] < 1
        for kind in ("expected", "actual", "diff"):
            assert (await _get(daemon, differing[kind])).startswith(b"\x89PNG")
        assert await _get(daemon, differing["expected"]) == await _get(
            daemon,
            next(row for row in listing.data if row["case_id"] == case_ids["Gallery"])["image"],
        )

        report = await daemon.call("GET", f"/runs/{second['id']}/report")
        assert report.body.count('<div class="visual-panels">') == 2
        assert report.body.count('<figcaption class="sub">Diff</figcaption>') == 2

        await _bad_approvals(daemon, second, case_ids)
        unchanged = await daemon.call("GET", baselines_url)
        assert {row["approved_from_run"] for row in unchanged.data} == {first["id"]}

        # Approving one screenshot by name, another with no body at all (all of them).
        approve = f"/runs/{second['id']}/results/{{}}/approve"
        named = await daemon.call(
            "POST", approve.format(case_ids["About"]), json={"names": ["page"]}
        )
        everything = await daemon.call("POST", approve.format(case_ids["Gallery"]))
        assert named.status == everything.status == 200, (named.body, everything.body)
        assert [row["approved_from_run"] for row in named.data + everything.data] == [
            second["id"],
            second["id"],
        ]
        assert [row["id"] for row in named.data] == [about_baseline["id"]]
        approved_image = await _get(daemon, named.data[0]["image"])
        about_now = next(r for r in second["results"] if r["name"] == "About")["visual"][0]
        assert approved_image == await _get(daemon, about_now["actual"])
        third = await _run(daemon, suite["id"])
        assert third["status"] == "passed" and third["visual_diffs"] == 0
        assert _checks(third) == {"About": ["matched"], "Gallery": ["matched"], "Team": ["matched"]}

        # Deleting a baseline takes its file; the suite's deletion takes them all.
        team = next(row for row in unchanged.data if row["case_id"] == case_ids["Team"])
        deleted = await daemon.call("DELETE", f"{baselines_url}/{team['id']}")
        assert deleted.status == 200 and deleted.data == {"id": team["id"], "deleted": True}
        assert (await daemon.call("DELETE", f"{baselines_url}/{team['id']}")).status == 404
        assert (await daemon.call("GET", f"{baselines_url}/{team['id']}/image")).status == 404
        assert (await daemon.call("GET", baselines_url)).body["pagination"]["total"] == 2

        await _zip_exports(daemon, suite["id"], approved_image)

        baselines_dir = daemon.app[CONFIG].baselines_dir(project["id"], suite["id"])
        assert len(list(baselines_dir.iterdir())) == 2
        assert (await daemon.call("DELETE", f"/suites/{suite['id']}")).status == 200
        assert not baselines_dir.exists()
        gone = await daemon.call("POST", approve.format(case_ids["About"]))
        assert gone.status == 409 and "deleted" in gone.error["message"]


async def _bad_approvals(daemon: Daemon, run: dict[str, Any], case_ids: dict[str, str]) -> None:
    """Approvals refused with a clear error; they change nothing."""
    about = f"/runs/{run['id']}/results/{case_ids['About']}/approve"
    team = f"/runs/{run['id']}/results/{case_ids['Team']}/approve"

    names = await daemon.call("POST", team, json={"names": ["page", "nope"]})
    assert names.status == 400 and names.error["code"] == "VALIDATION_ERROR"
    assert [d["field"] for d in names.error["details"]] == ["names.0", "names.1"]
    assert "matched its baseline" in names.error["details"][0]["message"]
    assert 'no screenshot "nope"' in names.error["details"][1]["message"]
    for body, field in [({"names": []}, "names"), ({"name": "page"}, "name")]:
        answer = await daemon.call("POST", about, json=body)
        assert answer.status == 400 and answer.error["details"][0]["field"] == field, answer.body
    malformed = await daemon.call(
        "POST", about, data=b"{", headers={"Content-Type": "application/json"}
    )
    assert malformed.status == 400 and malformed.error["code"] == "BAD_REQUEST"

    read = await daemon.new_key("read")
    assert (await daemon.call("POST", about, key=read)).status == 403
    other = await daemon.project("other")
    bound = await daemon.new_key("write", other["id"])
    assert (await daemon.call("POST", about, key=bound)).status == 403
    theirs = await make_suite(daemon, other["id"], CASES[:1])
    foreign_case = f"/runs/{run['id']}/results/{theirs['cases'][0]['id']}/approve"
    assert (await daemon.call("POST", foreign_case)).status == 404
    missing_run = f"/runs/run_nope00000000/results/{case_ids['About']}/approve"
    assert (await daemon.call("POST", missing_run)).status == 404
    assert (await daemon.call("GET", "/suites/suite_nope00000000/baselines")).status == 404
    assert (await daemon.call("GET", f"/suites/{theirs['id']}/baselines", key=bound)).status == 200
    assert (
        await daemon.call("DELETE", f"/suites/{theirs['id']}/baselines/base_nope00000000")
    ).status == 404


async def _zip_exports(daemon: Daemon, suite_id: str, about_image: bytes) -> None:
    """Both zips carry the spec, its configuration and the baselines, in one layout."""
    expected = {
        "typescript": {"smoke.spec.ts", "playwright.config.ts", "package.json"},
        "python": {
            "test_smoke.py",
            "conftest.py",
            "aegis_visual.py",
            "aegis_pixelmatch.py",
            "requirements.txt",
        },
    }
    configs = {"typescript": "playwright.config.ts", "python": "conftest.py"}
    ms = STEP_TIMEOUT_S * 1000  # the daemon's, carried into the export
    timeouts = {
        "typescript": [f"actionTimeout: {ms},", "navigationTimeout: 30000,", "timeout: 30000,"],
        "python": [f"STEP_TIMEOUT_MS = {ms}", "NAVIGATION_TIMEOUT_MS = 30000"],
    }
    for language, files in expected.items():
        answer = await daemon.call(
            "GET", f"/suites/{suite_id}/export?language={language}&format=zip"
        )
        assert answer.status == 200 and answer.headers["Content-Type"] == "application/zip"
        assert f'filename="smoke-{language}.zip"' in answer.headers["Content-Disposition"]
        with zipfile.ZipFile(io.BytesIO(answer.body)) as archive:
            shots = {
                "__screenshots__/chromium/about/page.png",
                "__screenshots__/chromium/gallery/page.png",
            }
            assert set(archive.namelist()) == files | shots
            assert archive.read("__screenshots__/chromium/about/page.png") == about_image
            # The daemon's timeouts (runner defaults), so the export waits as a run does.
            settings = archive.read(configs[language]).decode()
            assert all(line in settings for line in timeouts[language])
    bad = await daemon.call("GET", f"/suites/{suite_id}/export?format=tarball")
    assert bad.status == 400 and bad.error["details"][0]["field"] == "format"
