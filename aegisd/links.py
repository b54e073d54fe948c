"""Links for people: dashboard pages, and shareable report URLs.

:func:`dashboard_url` is where messages and CI answers send people (the dashboard's
page of a run or crawl, DESIGN §11). Reports are linked from webhooks, Slack
messages and CI answers, where no ``Authorization`` header can be sent: a report
URL carries a token, an HMAC of the page's path under a secret kept in the data
directory, so it opens exactly that path.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import os
import secrets
from pathlib import Path
from typing import Literal

TOKEN_PARAM = "token"
DashboardPage = Literal["runs", "crawls", "suites", "projects"]
_API_PREFIXES = ("/api/v1/", "/v1/")


def _canonical(path: str) -> str:
    for prefix in _API_PREFIXES:
        if path.startswith(prefix):
            return "/v1/" + path[len(prefix) :]
    return path


def dashboard_url(base_url: str, page: DashboardPage, resource_id: str) -> str:
    """The dashboard's page of a resource, e.g. ``{base_url}/runs/run_…``; ``base_url`` is
    ``Config.base_url``."""
    return f"{base_url}/{page}/{resource_id}"


def load_secret(data_dir: Path, name: str) -> bytes:
    """The 32-byte secret in ``data_dir/name``, created (mode 0600) on first use."""
    path = data_dir / name
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as file:
            file.write(secrets.token_bytes(32))
    return path.read_bytes()


class LinkSigner:
    """Signs and checks paths with the daemon's link secret."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret
        # Lists sign a link per row: the same paths come back page after page.
        self.token = functools.lru_cache(maxsize=4096)(self._token)

    @classmethod
    def load(cls, data_dir: Path) -> LinkSigner:
        """The signer for ``data_dir``, creating its secret on first use."""
        return cls(load_secret(data_dir, "link-secret"))

    def _token(self, path: str) -> str:
        digest = hmac.new(self._secret, _canonical(path).encode(), hashlib.sha256)
        return digest.hexdigest()[:40]

    def sign(self, base_url: str, path: str) -> str:
        """``base_url + path`` with its token."""
        return f"{base_url}{path}?{TOKEN_PARAM}={self.token(path)}"

    def verify(self, path: str, token: str) -> bool:
        return hmac.compare_digest(self.token(path), token)
