"""The ``aegisd`` command: ``serve``, ``scan`` and ``keys``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import ipaddress
import logging
import os
import sys
from pathlib import Path
from typing import Any

from aiohttp import web
from pydantic import ValidationError

from aegisd.app import configure_logging, create_app
from aegisd.auth import SCOPES, create_key
from aegisd.config import Config, ConfigError, load_config
from aegisd.project_settings import http_url
from aegisd.scan import EXIT_ERROR, ScanOptions, scan
from runner.browsers import BROWSER_NAMES
from runner.errors import BrowserNotAvailable
from runner.login import Login
from storage import Database

log = logging.getLogger("aegisd")


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, help="TOML config file")
    parser.add_argument("--data-dir", type=Path, help="directory for the database and files")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="aegisd", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the daemon")
    _common(serve)
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default 8600)")

    scan = commands.add_parser("scan", help="crawl, generate and run in one go, no daemon")
    _common(scan)
    scan.add_argument("url", help="the site's start URL")
    scan.add_argument("--max-pages", type=int, default=50, help="pages to crawl at most")
    scan.add_argument("--depth", type=int, default=3, help="link depth from the start page")
    scan.add_argument("--browser", choices=BROWSER_NAMES, default="chromium")
    scan.add_argument("--junit", type=Path, help="write JUnit XML here")
    scan.add_argument("--report", type=Path, help="write the HTML report here")
    scan.add_argument("--export", type=Path, help="write the suite as a Playwright spec (.ts/.py)")
    scan.add_argument(
        "--login", type=Path, help='log in first: a JSON file {"steps": [...]} (step language)'
    )

    keys = commands.add_parser("keys", help="manage API keys (daemon running or not)")
    key_commands = keys.add_subparsers(dest="keys_command", required=True)
    create = key_commands.add_parser("create", help="create a key and print it once")
    _common(create)
    create.add_argument("--name", default="cli key")
    create.add_argument("--scope", choices=SCOPES, default="write")
    create.add_argument("--project", help="bind the key to this project id")
    listing = key_commands.add_parser("list", help="list keys")
    _common(listing)
    revoke = key_commands.add_parser("revoke", help="revoke a key")
    _common(revoke)
    revoke.add_argument("id", help="key id (key_...)")
    return parser


def _config(args: argparse.Namespace) -> Config:
    overrides: dict[str, Any] = {}
    for table, key, value in (
        ("server", "host", getattr(args, "host", None)),
        ("server", "port", getattr(args, "port", None)),
        ("storage", "data_dir", args.data_dir),
    ):
        if value is not None:
            overrides.setdefault(table, {})[key] = value
    return load_config(args.config, overrides=overrides)


def _usable_data_dir(path: Path) -> str | None:
    """Why ``path`` cannot hold the daemon's data, or ``None`` when it can."""
    probe = path / ".aegisd-write-probe"
    try:
        path.mkdir(parents=True, exist_ok=True)
        with probe.open("wb") as file:
            file.write(b"\0" * 65536)  # a full disk fails here, not mid-write later
            file.flush()
            os.fsync(file.fileno())
    except OSError as exc:
        return f"data directory {path} is not usable: {exc.strerror or exc}"
    finally:
        with contextlib.suppress(OSError):
            probe.unlink()
    return None


async def _settle_heap(_: web.Application) -> None:
    """Once started, leave what lives as long as the daemon out of the collector's full
    scans: a page allocates a great deal, and a scan of the whole heap that it sets off
    made the slowest requests (gc.freeze, as long-running servers use it)."""
    gc.collect()
    gc.freeze()


def _serve(config: Config) -> int:
    problem = _usable_data_dir(config.storage.data_dir)
    if problem:
        print(f"aegisd: {problem} (set storage.data_dir or --data-dir)", file=sys.stderr)
        return 2
    host = config.server.host
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if not loopback:
        log.warning("listening on %s: the API is reachable from the network", host)
    log.info("aegisd serving on %s (data in %s)", config.base_url, config.storage.data_dir)
    app = create_app(config)
    app.on_startup.append(_settle_heap)
    web.run_app(
        app,
        host=host,
        port=config.server.port,
        print=None,
        access_log=logging.getLogger("aegisd.access") if config.server.access_log else None,
    )
    log.info("aegisd stopped")
    return 0


def _read_login(path: Path) -> Login:
    """The login of a ``scan --login`` file; ``ValueError`` says what is wrong with it."""
    try:
        return Login.model_validate_json(path.read_bytes())
    except OSError as exc:
        raise ValueError(exc.strerror or str(exc)) from None
    except ValidationError as exc:
        raise ValueError(
            "; ".join(
                f"{'.'.join(map(str, error['loc'])) or 'login'}: {error['msg']}"
                for error in exc.errors(include_url=False)
            )
        ) from None


def _scan(args: argparse.Namespace, config: Config) -> int:
    try:
        url = http_url(args.url)
    except ValueError as exc:
        print(f"aegisd: {args.url}: {exc}", file=sys.stderr)
        return EXIT_ERROR
    if args.max_pages < 1 or args.depth < 0:
        print("aegisd: --max-pages must be at least 1 and --depth at least 0", file=sys.stderr)
        return EXIT_ERROR
    try:
        login = None if args.login is None else _read_login(args.login)
    except ValueError as exc:
        print(f"aegisd: --login {args.login}: {exc}", file=sys.stderr)
        return EXIT_ERROR
    options = ScanOptions(
        url=url,
        max_pages=args.max_pages,
        depth=args.depth,
        browser=args.browser,
        junit=args.junit,
        report=args.report,
        export=args.export,
        login=login,
    )
    try:
        return scan(options, config, keep=args.data_dir is not None)
    except BrowserNotAvailable as exc:
        print(f"aegisd: {exc}", file=sys.stderr)
        return EXIT_ERROR


async def _keys(args: argparse.Namespace, config: Config) -> int:
    async with Database(config.database_path) as db:
        if args.keys_command == "create":
            if args.project and await db.get_project(args.project) is None:
                print(f"aegisd: project {args.project} not found", file=sys.stderr)
                return 2
            secret, row = await create_key(db, args.name, args.scope, args.project)
            print(f"{row['id']}  scope={row['scope']}  project={row['project_id'] or '-'}")
            print(f"key (shown once): {secret}")
        elif args.keys_command == "list":
            rows, _ = await db.list_keys(limit=1_000_000, offset=0)
            for row in rows:
                state = f"revoked {row['revoked_at']}" if row["revoked_at"] else "active"
                print(
                    f"{row['id']}  {row['prefix']}…  {row['scope']:<5}  "
                    f"project={row['project_id'] or '-'}  {state}  {row['name']}"
                )
        else:
            if await db.get_key(args.id) is None:
                print(f"aegisd: key {args.id} not found", file=sys.stderr)
                return 2
            await db.revoke_key(args.id)
            print(f"revoked {args.id}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    configure_logging()
    try:
        config = _config(args)
    except ConfigError as exc:
        print(f"aegisd: {exc}", file=sys.stderr)
        return 2
    if args.command == "serve":
        return _serve(config)
    if args.command == "scan":
        return _scan(args, config)
    return asyncio.run(_keys(args, config))


if __name__ == "__main__":
    sys.exit(main())
