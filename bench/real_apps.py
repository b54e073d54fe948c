"""Real apps: generated suites on real open-source web apps must pass on the unchanged app.

Sets up three apps from PyPI under ``--apps-dir`` (their own venv; nothing in this
repository depends on them), each of a different kind:

- **django**: a Django admin behind a login (a superuser, a ``shop`` app whose
  changelists have 5 sortable columns, filters, search and a date hierarchy, and
  a few dozen rows), served by ``manage.py runserver``;
- **datasette**: Datasette on a generated SQLite database (tables with foreign
  keys, facets, sortable and filterable columns, row pages, a SQL form);
- **mkdocs**: a documentation site built by MkDocs from the descriptions of the
  packages installed in the apps' venv, served by ``http.server``.

Then, through an in-process aegisd daemon, it crawls each (depth 3, up to 120
pages, the login as the project's ``settings.login``), runs the generated suite
``--runs`` times, and prints per app the case count, each run's pass rate and
what failed. Setup is idempotent: a second run reuses the venv, the data and the
build. Not part of ``make test``; see bench/README.md.

    .venv/bin/python -m bench.real_apps [--apps-dir /work/apps] [--only django,mkdocs]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from aegisd.app import create_app
from aegisd.auth import create_key
from aegisd.config import load_config
from aegisd.state import DB
from runner.browsers import Browsers, BrowserSettings

PACKAGES = ["django>=5.2,<5.3", "datasette>=0.65,<0.66", "mkdocs>=1.6,<1.7"]
TARGET = 0.995
ADMIN = ("admin", "aegisd-real-apps")
_WAIT_S = 60.0


@dataclass
class App:
    """One real app: how to set it up, how to serve it, how aegisd logs in."""

    name: str
    setup: Callable[[Path, Path], None]
    command: Callable[[Path, Path, int], list[str]]
    path: str = "/"
    login: dict[str, Any] | None = None


@dataclass
class Outcome:
    """What one app gave: its crawl, its suite and its runs."""

    app: str
    pages: int = 0
    broken_links: int = 0
    cases: int = 0
    runs: list[dict[str, Any]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    error: str | None = None


def _python(apps_dir: Path) -> Path:
    return apps_dir / "venv" / "bin" / "python"


def _ensure_venv(apps_dir: Path) -> None:
    python = _python(apps_dir)
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(apps_dir / "venv")], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", *PACKAGES], check=True)


_DJANGO_SETTINGS = """
from pathlib import Path
BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = "aegisd-real-apps-not-secret"
DEBUG = True
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = [
    "django.contrib.admin", "django.contrib.auth", "django.contrib.contenttypes",
    "django.contrib.sessions", "django.contrib.messages", "django.contrib.staticfiles", "shop",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
ROOT_URLCONF = "demo.urls"
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True,
    "OPTIONS": {"context_processors": [
        "django.template.context_processors.request",
        "django.contrib.auth.context_processors.auth",
        "django.contrib.messages.context_processors.messages",
    ]},
}]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "db.sqlite3"}}
USE_TZ = True
TIME_ZONE = "UTC"
STATIC_URL = "static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
"""
_DJANGO_URLS = """
from django.contrib import admin
from django.urls import path
urlpatterns = [path("admin/", admin.site.urls)]
"""
_SHOP_MODELS = """
from django.db import models

class Category(models.Model):
    name = models.CharField(max_length=80, unique=True)
    slug = models.SlugField(unique=True)
    featured = models.BooleanField(default=False)

    class Meta:
        verbose_name_plural = "categories"

    def __str__(self):
        return self.name

class Product(models.Model):
    name = models.CharField(max_length=120)
    category = models.ForeignKey(Category, on_delete=models.PROTECT)
    price = models.DecimalField(max_digits=8, decimal_places=2)
    in_stock = models.BooleanField(default=True)
    added = models.DateField()
    description = models.TextField(blank=True)

    def __str__(self):
        return self.name
"""
_SHOP_ADMIN = """
from django.contrib import admin
from .models import Category, Product

@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "featured"]
    list_filter = ["featured"]
    search_fields = ["name"]

@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["name", "category", "price", "in_stock", "added"]
    list_filter = ["in_stock", "category"]
    search_fields = ["name", "description"]
    date_hierarchy = "added"
"""
_SHOP_DATA = """
import datetime
from django.contrib.auth.models import User
from shop.models import Category, Product
if not User.objects.filter(username=USERNAME).exists():
    User.objects.create_superuser(USERNAME, "admin@example.com", PASSWORD)
    for n in range(1, 6):
        User.objects.create_user(f"user{n}", f"user{n}@example.com", "x", is_staff=n % 2 == 0)
    names = ["Tools", "Garden", "Kitchen", "Books", "Toys"]
    categories = [
        Category.objects.create(name=name, slug=name.lower(), featured=i % 2 == 0)
        for i, name in enumerate(names)
    ]
    for n in range(1, 41):
        Product.objects.create(
            name=f"Product {n}", category=categories[n % 5], price=n * 3 + 0.99,
            in_stock=n % 3 != 0, added=datetime.date(2024, 1 + n % 12, 1 + n % 27),
            description=f"Description of product {n}.",
        )
"""


def _setup_django(apps_dir: Path, python: Path) -> None:
    root = apps_dir / "django"
    if (root / "db.sqlite3").exists():
        return
    files = {
        "manage.py": (
            "import os, sys\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'demo.settings')\n"
            "from django.core.management import execute_from_command_line\n"
            "execute_from_command_line(sys.argv)\n"
        ),
        "demo/__init__.py": "",
        "demo/settings.py": _DJANGO_SETTINGS,
        "demo/urls.py": _DJANGO_URLS,
        "shop/__init__.py": "",
        "shop/models.py": _SHOP_MODELS,
        "shop/admin.py": _SHOP_ADMIN,
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text.lstrip())
    manage = [str(python), "manage.py"]
    subprocess.run([*manage, "makemigrations", "shop", "-v", "0"], cwd=root, check=True)
    subprocess.run([*manage, "migrate", "-v", "0"], cwd=root, check=True)
    script = f"USERNAME, PASSWORD = {ADMIN!r}\n" + _SHOP_DATA
    subprocess.run([*manage, "shell", "-c", script], cwd=root, check=True)


def _setup_datasette(apps_dir: Path, _python: Path) -> None:
    root = apps_dir / "datasette"
    database = root / "shop.db"
    if database.exists():
        return
    root.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(database)
    connection.executescript(
        """
        CREATE TABLE categories (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
        CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT NOT NULL,
            category_id INTEGER REFERENCES categories(id), price REAL, in_stock INTEGER,
            colour TEXT, added TEXT);
        CREATE TABLE orders (id INTEGER PRIMARY KEY, product_id INTEGER REFERENCES products(id),
            quantity INTEGER, status TEXT, placed TEXT);
        """
    )
    colours = ["red", "green", "blue", "black", "white"]
    statuses = ["new", "paid", "shipped", "returned"]
    connection.executemany(
        "INSERT INTO categories VALUES (?, ?)",
        [(i, name) for i, name in enumerate(["Tools", "Garden", "Kitchen", "Books"], 1)],
    )
    connection.executemany(
        "INSERT INTO products VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            (
                n,
                f"Product {n}",
                1 + n % 4,
                n * 2.5,
                n % 3 != 0,
                colours[n % 5],
                f"2024-{1 + n % 12:02d}-{1 + n % 27:02d}",
            )
            for n in range(1, 121)
        ],
    )
    connection.executemany(
        "INSERT INTO orders VALUES (?, ?, ?, ?, ?)",
        [
            (n, 1 + n % 120, 1 + n % 7, statuses[n % 4], f"2024-{1 + n % 12:02d}-15")
            for n in range(1, 301)
        ],
    )
    connection.commit()
    connection.close()


_MKDOCS_LIST = """
import json, sys
from importlib import metadata
pages = {}
for dist in metadata.distributions():
    meta = dist.metadata
    kind = meta.get("Description-Content-Type") or ""
    body = meta.get_payload() or meta.get("Description") or ""
    if "markdown" in kind and len(body) > 200:
        pages[meta["Name"].lower()] = body
json.dump(pages, sys.stdout)
"""


def _setup_mkdocs(apps_dir: Path, python: Path) -> None:
    root = apps_dir / "mkdocs"
    if (root / "site" / "index.html").exists():
        return
    docs = root / "docs"
    docs.mkdir(parents=True, exist_ok=True)
    found = subprocess.run(
        [str(python), "-c", _MKDOCS_LIST], check=True, capture_output=True, text=True, cwd=root
    )
    pages: dict[str, str] = json.loads(found.stdout)
    names = sorted(pages)
    index = ["# Package documentation", "", "The installed packages, one page each:", ""]
    index += [f"- [{name}]({name}.md)" for name in names]
    (docs / "index.md").write_text("\n".join(index) + "\n")
    for name in names:
        (docs / f"{name}.md").write_text(pages[name])
    nav = "\n".join(f"      - {name}: {name}.md" for name in names)
    (root / "mkdocs.yml").write_text(
        f"site_name: Package docs\nnav:\n  - Home: index.md\n  - Packages:\n{nav}\n"
    )
    mkdocs = python.parent / "mkdocs"
    subprocess.run([str(mkdocs), "build", "-q"], cwd=root, check=True)


APPS = [
    App(
        "django",
        _setup_django,
        lambda apps_dir, python, port: [
            str(python),
            str(apps_dir / "django" / "manage.py"),
            "runserver",
            "--noreload",
            f"127.0.0.1:{port}",
        ],
        path="/admin/",
        login={
            "steps": [
                {"action": "goto", "url": "/admin/login/"},
                {"action": "fill", "target": {"label": "Username"}, "value": ADMIN[0]},
                {"action": "fill", "target": {"label": "Password"}, "value": ADMIN[1]},
                {"action": "click", "target": {"role": "button", "name": "Log in"}},
                {"action": "expect_url", "value": "/admin/"},
            ]
        },
    ),
    App(
        "datasette",
        _setup_datasette,
        lambda apps_dir, python, port: [
            str(python.parent / "datasette"),
            "serve",
            str(apps_dir / "datasette" / "shop.db"),
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
        ],
    ),
    App(
        "mkdocs",
        _setup_mkdocs,
        lambda apps_dir, python, port: [
            str(python),
            "-m",
            "http.server",
            str(port),
            "--bind",
            "127.0.0.1",
            "--directory",
            str(apps_dir / "mkdocs" / "site"),
        ],
    ),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def _serving(app: App, apps_dir: Path) -> Iterator[str]:
    """Run the app's server; yield its base URL once it answers."""
    port = _free_port()
    command = app.command(apps_dir, _python(apps_dir), port)
    logs = (apps_dir / f"{app.name}.log").open("w")
    process = subprocess.Popen(command, stdout=logs, stderr=subprocess.STDOUT, cwd=apps_dir)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + _WAIT_S
        while True:
            try:
                urllib.request.urlopen(base + app.path, timeout=5).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(f"{app.name} did not start (see {logs.name})") from None
                time.sleep(0.5)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)
        logs.close()


class _Daemon:
    """An in-process aegisd on a free port, called with an admin key."""

    def __init__(self, session: aiohttp.ClientSession, base: str, key: str) -> None:
        self.session, self.base, self.key = session, base, key

    async def call(self, method: str, path: str, body: Any = None) -> Any:
        headers = {"Authorization": f"Bearer {self.key}"}
        async with self.session.request(
            method, self.base + path, json=body, headers=headers
        ) as answer:
            data = await answer.json()
        if not data.get("success"):
            raise RuntimeError(f"{method} {path}: {data}")
        return data["data"]

    async def finished(self, path: str, within_s: float) -> Any:
        deadline = time.monotonic() + within_s
        while True:
            data = await self.call("GET", path)
            if data["status"] not in ("queued", "running"):
                return data
            if time.monotonic() > deadline:
                raise RuntimeError(f"{path} still {data['status']} after {within_s:g} s")
            await asyncio.sleep(1)


async def _try_app(daemon: _Daemon, app: App, base: str, args: argparse.Namespace) -> Outcome:
    outcome = Outcome(app.name)
    settings: dict[str, Any] = {"depth": args.depth, "max_pages": args.max_pages}
    if app.login is not None:
        settings["login"] = app.login
    project = await daemon.call(
        "POST", "/projects", {"name": app.name, "base_url": base + app.path, "settings": settings}
    )
    queued = await daemon.call("POST", "/crawls", {"project_id": project["id"]})
    crawl = await daemon.finished(f"/crawls/{queued['id']}", within_s=args.timeout_s)
    if crawl["status"] != "completed":
        outcome.error = f"crawl {crawl['status']}: {crawl['error']}"
        return outcome
    outcome.pages, outcome.broken_links = crawl["pages_crawled"], crawl["broken_links_count"]
    suite = await daemon.call("GET", f"/suites/{crawl['suite_id']}")
    outcome.cases = len(suite["cases"])
    for _ in range(args.runs):
        queued_run = await daemon.call("POST", "/runs", {"suite_id": suite["id"]})
        run = await daemon.finished(f"/runs/{queued_run['id']}", within_s=args.timeout_s)
        outcome.runs.append(run)
        outcome.failures += [
            f"run {len(outcome.runs)}: {result['name']}: {(result['error'] or {}).get('message')}"
            for result in run["results"]
            if result["status"] == "failed"
        ]
    return outcome


async def _measure(args: argparse.Namespace, apps: list[App]) -> list[Outcome]:
    outcomes = []
    with tempfile.TemporaryDirectory(prefix="aegisd-real-apps-") as data_dir:
        overrides = {
            "storage": {"data_dir": data_dir},
            "api": {"rate_limit_per_minute": 0},
            "runner": {
                "step_timeout_s": args.step_timeout_s,
                "case_timeout_s": args.case_timeout_s,
            },
        }
        config = load_config(environ={}, overrides=overrides)
        async with Browsers(BrowserSettings()) as browsers:
            daemon_app = create_app(config, browsers)
            runner = web.AppRunner(daemon_app, access_log=None)
            await runner.setup()
            port = _free_port()
            await web.TCPSite(runner, "127.0.0.1", port).start()
            key, _ = await create_key(daemon_app[DB], "real apps", "admin", None)
            try:
                async with aiohttp.ClientSession() as session:
                    daemon = _Daemon(session, f"http://127.0.0.1:{port}/v1", key)
                    for app in apps:
                        with _serving(app, args.apps_dir) as base:
                            print(f"{app.name}: serving at {base}, crawling...", flush=True)
                            outcomes.append(await _try_app(daemon, app, base, args))
                        _report(outcomes[-1])
            finally:
                await runner.cleanup()
    return outcomes


def _rate(run: dict[str, Any]) -> float:
    return float(run["passed"]) / run["total"] if run["total"] else 0.0


def _report(outcome: Outcome) -> None:
    if outcome.error:
        print(f"{outcome.app}: {outcome.error}", flush=True)
        return
    rates = ", ".join(
        f"{_rate(run) * 100:.1f}% ({run['passed']}/{run['total']})" for run in outcome.runs
    )
    print(
        f"{outcome.app}: {outcome.pages} pages, {outcome.broken_links} broken links, "
        f"{outcome.cases} cases; runs: {rates}",
        flush=True,
    )
    for failure in outcome.failures:
        print(f"  FAILED {failure}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--apps-dir", type=Path, default=Path("/work/apps"))
    parser.add_argument("--only", default=",".join(app.name for app in APPS))
    parser.add_argument("--depth", type=int, default=3)
    parser.add_argument("--max-pages", type=int, default=120)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--timeout-s", type=float, default=1800, help="per crawl and run")
    # The daemon's defaults; raise them on a machine too loaded to load a page in 10 s.
    parser.add_argument("--step-timeout-s", type=float, default=10)
    parser.add_argument("--case-timeout-s", type=float, default=30)
    parser.add_argument("--skip-install", action="store_true", help="reuse the venv as it is")
    args = parser.parse_args()
    apps = [app for app in APPS if app.name in args.only.split(",")]
    args.apps_dir.mkdir(parents=True, exist_ok=True)
    if not args.skip_install:
        _ensure_venv(args.apps_dir)
    for app in apps:
        app.setup(args.apps_dir, _python(args.apps_dir))
    outcomes = asyncio.run(_measure(args, apps))
    print()
    print(f"{'app':<10} {'pages':>5} {'cases':>5}  pass rate per run (target {TARGET:.1%})")
    met = True
    for outcome in outcomes:
        rates = [_rate(run) for run in outcome.runs]
        met = met and not outcome.error and bool(rates) and min(rates) >= TARGET
        shown = "  ".join(f"{rate * 100:.1f}%" for rate in rates) or outcome.error
        print(f"{outcome.app:<10} {outcome.pages:>5} {outcome.cases:>5}  {shown}")
    print("target met" if met else "target NOT met")


if __name__ == "__main__":
    main()
