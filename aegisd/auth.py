"""API keys: how they look, how they are stored and what each scope may do (DESIGN §3.2)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any, Literal

from aegisd.errors import Forbidden, Unauthorized
from storage import Database

Scope = Literal["read", "write", "admin"]
SCOPES: tuple[Scope, ...] = ("read", "write", "admin")
KEY_PREFIX = "aegis_"
_DISPLAY_CHARS = 10


@dataclass(frozen=True)
class NewKey:
    """A key just made: ``secret`` is shown once and never stored."""

    secret: str
    prefix: str
    key_hash: str


@dataclass(frozen=True)
class Principal:
    """The key behind a request."""

    key_id: str
    scope: Scope
    project_id: str | None

    def allows(self, needed: Scope) -> bool:
        return SCOPES.index(self.scope) >= SCOPES.index(needed)

    def check_project(self, project_id: str | None) -> None:
        """Raise ``Forbidden`` unless this key may see resources of ``project_id``."""
        if self.project_id is not None and project_id != self.project_id:
            raise Forbidden(f"this key is bound to project {self.project_id}")


def hash_key(secret: str) -> str:
    """SHA-256 of the key; the ``aegis_`` prefix is optional when the key is sent."""
    if not secret.startswith(KEY_PREFIX):
        secret = KEY_PREFIX + secret
    return hashlib.sha256(secret.encode()).hexdigest()


def generate_key() -> NewKey:
    """``aegis_`` and 32 random url-safe characters."""
    secret = KEY_PREFIX + secrets.token_urlsafe(24)
    return NewKey(secret, secret[:_DISPLAY_CHARS], hash_key(secret))


async def create_key(
    db: Database, name: str, scope: Scope, project_id: str | None
) -> tuple[str, dict[str, Any]]:
    """Store a new key; return its secret (to show once) and its row."""
    new = generate_key()
    row = await db.create_key(name, new.prefix, new.key_hash, scope, project_id)
    return new.secret, row


async def authenticate(db: Database, authorization: str | None) -> Principal:
    """The principal for an ``Authorization`` header, or ``Unauthorized``."""
    if not authorization:
        raise Unauthorized("missing API key: send Authorization: Bearer <key>")
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("malformed Authorization header: expected Bearer <key>")
    return await principal_of_key(db, token)


async def principal_of_key(db: Database, secret: str) -> Principal:
    """The principal for a key itself (as sent, ``aegis_`` prefix optional), or ``Unauthorized``."""
    key_hash = hash_key(secret)
    row = await db.get_key_by_hash(key_hash)
    # The lookup is by hash; compare again in constant time so timing says nothing.
    if row is None or not hmac.compare_digest(row["key_hash"], key_hash):
        raise Unauthorized("invalid API key")
    return _principal(row)


async def principal_of_key_id(db: Database, key_id: str) -> Principal:
    """The principal for the key a dashboard session was signed in with, checked like a
    key sent with a request: unknown (its project deleted) or revoked is ``Unauthorized``."""
    row = await db.get_live_key(key_id)
    if row is None:
        raise Unauthorized("API key no longer exists")
    return _principal(row)


def _principal(row: dict[str, Any]) -> Principal:
    if row["revoked_at"] is not None:
        raise Unauthorized("API key has been revoked")
    return Principal(row["id"], row["scope"], row["project_id"])
