"""Configuration: defaults < TOML file < ``AEGISD_*`` environment < command-line flags.

Environment variables name a key by table and key joined with ``__``:
``AEGISD_SERVER__PORT=8601`` sets ``[server] port``.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator

from crawler.settings import CrawlerSettings
from runner.browsers import BrowserSettings
from runner.executor import RunnerSettings

ENV_PREFIX = "AEGISD_"
PLAN_LIMITS = {"pro": 60, "business": 300}


class ConfigError(Exception):
    """The configuration cannot be loaded; the message names the key."""


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "aegisd"


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)


class ServerSettings(_Table):
    host: str = "127.0.0.1"
    """Address to listen on. Anything but loopback exposes the API to the network."""

    port: int = Field(8600, ge=1, le=65535)
    """TCP port to listen on."""

    public_url: str | None = None
    """Base URL clients use to reach this daemon (for links in webhooks and CI answers);
    defaults to ``http://host:port``."""

    sse_keepalive_s: float = Field(15.0, gt=0)
    """Seconds between keep-alive lines on Server-Sent Event streams."""

    shutdown_grace_s: float = Field(10.0, ge=0)
    """On SIGTERM/SIGINT, seconds running crawls and runs get to finish before they are cut
    off (cut-off jobs are re-queued and run again at the next start)."""

    access_log: bool = False
    """Log a line per HTTP request (client, request line, status, size, time) to stderr."""


class StorageSettings(_Table):
    data_dir: Path = Field(default_factory=_default_data_dir)
    """Directory holding the SQLite file, screenshots, traces and reports."""


class ApiSettings(_Table):
    plan: Literal["pro", "business"] = "pro"
    """Rate-limit plan: ``pro`` is 60 requests a minute per key, ``business`` 300."""

    rate_limit_per_minute: int | None = Field(None, ge=0)
    """Overrides the plan's per-key limit; 0 turns rate limiting off."""

    def requests_per_minute(self) -> int:
        """The effective per-key limit; 0 means unlimited."""
        if self.rate_limit_per_minute is not None:
            return self.rate_limit_per_minute
        return PLAN_LIMITS[self.plan]


class SchedulerSettings(_Table):
    misfire_grace_s: int = Field(300, ge=0)
    """A schedule fire missed while the daemon was down runs once at start if this recent."""


class WebhookSettings(_Table):
    timeout_s: float = Field(10.0, gt=0)
    """Seconds to wait for a webhook receiver before counting the attempt as failed."""

    max_attempts: int = Field(6, ge=1, le=20)
    """Attempts per delivery before it is given up."""

    retry_backoff_s: float = Field(10.0, gt=0)
    """Wait before the first retry of a failed delivery; each further retry waits twice as
    long as the one before (at most an hour)."""


class SmtpSettings(_Table):
    """The ``[notifications.smtp]`` table: the mail server email webhooks send through."""

    host: str = Field(min_length=1)
    """Host name or address of the SMTP server (a relay or a submission server)."""

    port: int = Field(587, ge=1, le=65535)
    """Port: 587 for submission with STARTTLS, 465 with ``tls``, 25 for a plain relay."""

    starttls: bool = True
    """Upgrade the connection with STARTTLS before logging in and sending (refuse to send
    if the server does not offer it)."""

    tls: bool = False
    """Speak TLS from the first byte (SMTPS, usually port 465) instead of STARTTLS."""

    username: str | None = None
    """Log in with this user (AUTH) before sending; unset sends without logging in."""

    password: SecretStr | None = None
    """The login's password; never logged. ``AEGISD_NOTIFICATIONS__SMTP__PASSWORD`` keeps it
    out of the file."""

    from_: str = Field(alias="from", min_length=3)
    """The sender address, e.g. ``aegisd <aegisd@example.com>``."""

    cafile: Path | None = None
    """CA certificates (PEM) to verify the server's certificate with; unset uses the
    system's."""

    @model_validator(mode="after")
    def _consistent(self) -> SmtpSettings:
        if self.tls and self.starttls:
            raise ValueError("tls and starttls exclude each other: set starttls = false")
        if (self.username is None) != (self.password is None):
            raise ValueError("username and password go together")
        return self


class NotificationSettings(_Table):
    smtp: SmtpSettings | None = None
    """The mail server for webhooks with ``format = "email"``; unset, they cannot be made."""


class RetentionSettings(_Table):
    runs_days: int = Field(30, ge=0)
    """Runs older than this many days are deleted with their files; 0 keeps them forever."""

    webhook_events_days: int = Field(30, ge=0)
    """Webhook events older than this many days are deleted with their delivery history
    once no delivery is pending; 0 keeps them forever."""


class Config(_Table):
    """The whole configuration, one attribute per TOML table."""

    server: ServerSettings = Field(default_factory=ServerSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    browsers: BrowserSettings = Field(default_factory=BrowserSettings)
    crawler: CrawlerSettings = Field(default_factory=CrawlerSettings)
    runner: RunnerSettings = Field(default_factory=RunnerSettings)
    scheduler: SchedulerSettings = Field(default_factory=SchedulerSettings)
    webhooks: WebhookSettings = Field(default_factory=WebhookSettings)
    notifications: NotificationSettings = Field(default_factory=NotificationSettings)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)

    @property
    def database_path(self) -> Path:
        return self.storage.data_dir / "aegisd.sqlite3"

    def artifacts_dir(self, run_id: str) -> Path:
        """Where a run's screenshots and traces live."""
        return self.storage.data_dir / "artifacts" / run_id

    def baselines_dir(self, project_id: str, suite_id: str | None = None) -> Path:
        """Where a project's (or one of its suites') baseline screenshots live."""
        project = self.storage.data_dir / "baselines" / project_id
        return project if suite_id is None else project / suite_id

    @property
    def base_url(self) -> str:
        """Where clients reach the daemon, without a trailing slash."""
        if self.server.public_url:
            return self.server.public_url.rstrip("/")
        host = self.server.host
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.server.port}"


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _from_env(environ: Mapping[str, str]) -> dict[str, Any]:
    """``AEGISD_TABLE__KEY`` values; ``AEGISD_NOTIFICATIONS__SMTP__HOST`` for a nested table."""
    values: dict[str, Any] = {}
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or "__" not in name:
            continue
        *tables, key = name[len(ENV_PREFIX) :].lower().split("__")
        table = values
        for part in tables:
            table = table.setdefault(part, {})
        table[key] = value
    return values


def load_config(
    path: Path | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Config:
    """Build the configuration from its layers; raise ``ConfigError`` naming any bad key.

    ``overrides`` holds command-line values as ``{"server": {"port": 8601}}``.
    """
    layers: dict[str, Any] = {}
    if path is not None:
        try:
            layers = tomllib.loads(path.read_text())
        except OSError as exc:
            raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    layers = _merge(layers, _from_env(os.environ if environ is None else environ))
    layers = _merge(layers, overrides or {})
    try:
        return Config.model_validate(layers)
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_url=False):
            key = ".".join(str(part) for part in error["loc"])
            shown = not isinstance(error["input"], dict) and "password" not in error["loc"]
            got = f" (got {error['input']!r})" if shown else ""
            problems.append(f"{key}: {error['msg']}{got}")
        raise ConfigError("invalid configuration: " + "; ".join(problems)) from None
