"""Screenshots of the dashboard's main pages for the README, taken from a real daemon.

Serves a small demo shop, starts aegisd in this process on a fresh data dir,
crawls the shop, runs the generated suite, breaks the shop (a title changed, a
page gone, a JavaScript error, a heading lost; an image's missing alt text added)
and crawls and runs again; adds schedules and a webhook; then signs in with
Chromium and writes ``docs/screenshots/*.png`` at 1280 px and, for three pages,
at 390 px. Retake them after a change to the looks:

    .venv/bin/python -m bench.screenshots [--out docs/screenshots]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from playwright.async_api import Page

from aegisd.app import create_app
from aegisd.auth import create_key
from aegisd.config import load_config
from aegisd.state import DB
from runner.browsers import Browsers, BrowserSettings
from tests.sites import Site, page

DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}
# A 120x80 picture of a tent, inline: the shop serves pages only.
TENT = (
    '<img src="data:image/svg+xml,%3Csvg xmlns=%22http://www.w3.org/2000/svg%22 '
    "viewBox=%220 0 120 80%22%3E%3Cpath d=%22M10 75 60 8l50 67z%22 fill=%22%23486%22/%3E"
    '%3C/svg%3E" width="120" height="80">'
)


def shop_pages() -> dict[str, str]:
    links = [
        ("/", "Home"),
        ("/products", "Products"),
        ("/journal", "Journal"),
        ("/about", "About"),
        ("/contact", "Contact"),
    ]
    nav = "<nav>" + " ".join(f'<a href="{href}">{name}</a>' for href, name in links) + "</nav>"
    form = (
        '<form method="get" action="/contact/thanks"><label for="n">Name</label>'
        '<input id="n" name="name" required><label for="e">Email</label>'
        '<input id="e" name="email" type="email" required><button>Send</button></form>'
    )
    return {
        "/": page("Acme Outfitters", nav + "<p>Gear for the trail.</p>"),
        "/products": page(
            "Products",
            nav
            + '<a href="/products/tent">Two-person tent</a> <a href="/products/stove">Stove</a>',
        ),
        "/products/tent": page("Two-person tent", nav + TENT),
        "/products/stove": page("Camping stove", nav),
        "/journal": page("Journal", nav + '<a href="/journal/first-trip">Our first trip</a>'),
        "/journal/first-trip": page("Our first trip", nav),
        "/about": page("About Acme", nav + '<a href="/team">The team</a>'),
        "/contact": page("Contact us", nav + form),
        "/contact/thanks": page("Thanks", nav),
    }


def break_shop(site: Site) -> None:
    """A changed title, a page gone, a new JavaScript error and a heading lost; the tent's
    picture gets its alt text (a finding fixed)."""
    site.pages["/about"] = (
        site.pages["/about"]
        .replace("<h1>About Acme</h1>", "")
        .replace("About Acme", "About Acme Outfitters")
    )
    site.pages["/products/tent"] = site.pages["/products/tent"].replace(
        '" width=', '" alt="Our two-person tent" width='
    )
    del site.pages["/products/stove"]
    site.pages["/journal"] = site.pages["/journal"].replace(
        "</main>", "</main><script>window.track.pageView()</script>"
    )


@asynccontextmanager
async def served(app: web.Application) -> AsyncIterator[str]:
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    try:
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()


class Api:
    def __init__(self, http: aiohttp.ClientSession, base: str) -> None:
        self.http = http
        self.base = base + "/v1"

    async def __call__(self, method: str, path: str, body: Any = None) -> Any:
        async with self.http.request(method, self.base + path, json=body) as response:
            answer = await response.json()
        assert answer["success"], answer
        return answer["data"]

    async def finished(self, path: str) -> dict[str, Any]:
        while True:
            data = await self(method="GET", path=path)
            if data["status"] not in ("queued", "running"):
                return data  # type: ignore[no-any-return]
            await asyncio.sleep(0.5)


async def seed(api: Api, site: Site, shop: str, receiver: str) -> dict[str, str]:
    """Two crawls and four runs of the demo shop, schedules and a webhook; the ids."""
    project = await api(
        "POST",
        "/projects",
        {"name": "Acme Outfitters", "base_url": shop, "description": "Staging shop"},
    )
    await api("POST", "/projects", {"name": "Docs site", "base_url": "http://127.0.0.1:9/"})
    first = await api.finished(
        f"/crawls/{(await api('POST', '/crawls', {'project_id': project['id']}))['id']}"
    )
    suite_id = first["suite_id"]
    for _ in range(3):
        run = await api("POST", "/runs", {"suite_id": suite_id})
        await api.finished(f"/runs/{run['id']}")
    break_shop(site)
    second = await api.finished(
        f"/crawls/{(await api('POST', '/crawls', {'project_id': project['id']}))['id']}"
    )
    failed = await api("POST", "/runs", {"suite_id": suite_id})
    await api.finished(f"/runs/{failed['id']}")
    await api(
        "POST",
        "/schedules",
        {
            "action": "run",
            "suite_id": suite_id,
            "cron": "30 6 * * 1-5",
            "timezone": "Europe/Berlin",
        },
    )
    await api(
        "POST", "/schedules", {"action": "crawl", "project_id": project["id"], "cron": "0 3 * * 0"}
    )
    hook = await api(
        "POST",
        "/webhooks",
        {
            "url": receiver + "/hook",
            "project_id": project["id"],
            "events": ["run.failed", "crawl.failed"],
        },
    )
    await api("POST", f"/webhooks/{hook['id']}/test")
    return {
        "project": project["id"],
        "suite": suite_id,
        "crawl": second["id"],
        "run": failed["id"],
        "webhook": hook["id"],
    }


async def shoot(page: Page, out: Path, name: str, path: str, base: str) -> None:
    await page.goto(base + path)
    await page.wait_for_load_state("networkidle")
    await page.screenshot(path=str(out / f"{name}.png"))
    print(f"  {name}.png  {path}")


async def take(out: Path) -> None:

    async def ok(_: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    receiver_app = web.Application()
    receiver_app.router.add_post("/hook", ok)
    site = Site(shop_pages())
    with tempfile.TemporaryDirectory(prefix="aegisd-shots-") as data_dir:
        config = load_config(
            environ={},
            overrides={"storage": {"data_dir": data_dir}, "api": {"rate_limit_per_minute": 0}},
        )
        async with (
            Browsers(BrowserSettings()) as browsers,
            served(site.app()) as shop,
            served(receiver_app) as receiver,
        ):
            app = create_app(config, browsers)
            async with served(app) as base:
                key, _ = await create_key(app[DB], "admin", "admin", None)
                headers = {"Authorization": f"Bearer {key}"}
                async with aiohttp.ClientSession(headers=headers) as http:
                    print("seeding (two crawls, four runs)...")
                    ids = await seed(Api(http, base), site, shop, receiver)
                async with browsers.context(viewport=DESKTOP) as context:
                    tab = await context.new_page()
                    await shoot(tab, out, "login", "/login", base)
                    await tab.get_by_label("API key").fill(key)
                    await tab.get_by_role("button", name="Sign in").click()
                    await tab.wait_for_url(base + "/")
                    pages = [
                        ("projects", "/"),
                        ("project", f"/projects/{ids['project']}"),
                        ("crawl", f"/crawls/{ids['crawl']}"),
                        ("suite", f"/suites/{ids['suite']}"),
                        ("runs", "/runs"),
                        ("run", f"/runs/{ids['run']}"),
                        ("schedules", "/schedules"),
                        ("webhook", f"/webhooks/{ids['webhook']}"),
                        ("security", "/settings/security"),
                    ]
                    for name, path in pages:
                        await shoot(tab, out, name, path, base)
                    # The crawl's Audits tab with its first rule open, and a page's detail.
                    await tab.goto(f"{base}/crawls/{ids['crawl']}#audits")
                    await tab.locator("#audits details.rule summary").first.click()
                    await tab.locator("#audits").screenshot(path=str(out / "crawl-audits.png"))
                    print("  crawl-audits.png")
                    await shoot(tab, out, "crawl-page", f"/crawls/{ids['crawl']}/pages/3", base)
                    # A case opened on the suite page; a key just generated (shown once).
                    await tab.goto(f"{base}/suites/{ids['suite']}")
                    await tab.locator("details.case summary").nth(1).click()
                    await tab.screenshot(path=str(out / "suite.png"))
                    await tab.goto(f"{base}/settings/security")
                    await tab.get_by_label("Name").fill("ci")
                    await tab.get_by_label("Scope").select_option("write")
                    await tab.get_by_role("button", name="Generate API key").click()
                    await tab.screenshot(path=str(out / "security.png"))
                    cookies = await context.cookies()
                async with browsers.context(viewport=PHONE, is_mobile=True) as phone:
                    await phone.add_cookies(cookies)  # type: ignore[arg-type]
                    tab = await phone.new_page()
                    await shoot(tab, out, "run-390", f"/runs/{ids['run']}", base)
                    await shoot(tab, out, "project-390", f"/projects/{ids['project']}", base)
                    await tab.goto(f"{base}/crawls/{ids['crawl']}#audits")
                    await tab.locator("#audits details.rule summary").first.click()
                    await tab.screenshot(path=str(out / "crawl-audits-390.png"))
                    print("  crawl-audits-390.png")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    out: Path = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    asyncio.run(take(out))


if __name__ == "__main__":
    main()
