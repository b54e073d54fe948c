"""Dashboard sessions: a signed cookie naming a sign-in, checked like a Bearer key.

Signing in at ``/login`` with an API key stores a session row
(:mod:`storage.sessions`) and sets the cookie ``aegisd_session`` to
``<session id>.<key id>.<signature>``, the signature an HMAC-SHA256 of both ids
under the secret in ``<data_dir>/session-secret``. Every request checks the
signature, that the session has neither ended (signed out) nor expired, and then
the key itself as for a Bearer key: a revoked key, or one deleted with its project,
ends every session signed in with it at once. The cookie is HttpOnly, SameSite=Lax
and, when the dashboard is served over https, Secure.

Every form POST carries a CSRF token, an HMAC of the session id, valid for that
session only. The sign-in form, posted before there is a session, carries an HMAC
of a random nonce that the ``aegisd_login`` cookie holds (a double-submit token).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiohttp import web

from aegisd.auth import Principal, principal_of_key_id
from aegisd.errors import Unauthorized
from aegisd.links import load_secret
from aegisd.state import CONFIG, DB
from storage.ids import to_iso, utc_now

SESSION_COOKIE = "aegisd_session"
LOGIN_COOKIE = "aegisd_login"
SESSION_DAYS = 7
_LOGIN_NONCE_S = 3600


@dataclass(frozen=True)
class Session:
    """A signed-in dashboard visitor: the session's id, its key's principal and the
    CSRF token its forms carry."""

    id: str
    principal: Principal
    csrf: str


class SessionSigner:
    """Signs session cookies and derives CSRF tokens with the daemon's session secret."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    @classmethod
    def load(cls, data_dir: Path) -> SessionSigner:
        """The signer for ``data_dir``, creating its secret on first use."""
        return cls(load_secret(data_dir, "session-secret"))

    def _mac(self, purpose: str, text: str) -> str:
        message = f"{purpose}:{text}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()[:43]

    def cookie(self, session_id: str, key_id: str) -> str:
        return f"{session_id}.{key_id}.{self._mac('session', f'{session_id}.{key_id}')}"

    def ids(self, cookie: str) -> tuple[str, str] | None:
        """The session and key ids of a cookie this signer made; ``None`` for any other."""
        session_id, _, rest = cookie.partition(".")
        key_id, _, signature = rest.partition(".")
        if not session_id or not key_id or not signature:
            return None
        expected = self._mac("session", f"{session_id}.{key_id}")
        return (session_id, key_id) if hmac.compare_digest(expected, signature) else None

    def csrf(self, session_id: str) -> str:
        return self._mac("csrf", session_id)

    def login_token(self, nonce: str) -> str:
        """The sign-in form's CSRF token for the ``aegisd_login`` cookie's ``nonce``."""
        return self._mac("login", nonce)


SIGNER = web.AppKey("session_signer", SessionSigner)


async def current_session(request: web.Request) -> Session | None:
    """The request's live session, or ``None`` (no cookie, a forged or stale one, signed
    out, expired, or its key revoked or gone)."""
    cookie = request.cookies.get(SESSION_COOKIE)
    signer = request.app[SIGNER]
    ids = signer.ids(cookie) if cookie else None
    if ids is None:
        return None
    session_id, key_id = ids
    db = request.app[DB]
    row = await db.get_session(session_id)
    if row is None or row["key_id"] != key_id or row["ended_at"] is not None:
        return None
    if row["expires_at"] <= utc_now():
        return None
    try:
        principal = await principal_of_key_id(db, key_id)
    except Unauthorized:
        return None
    return Session(session_id, principal, signer.csrf(session_id))


def _secure(request: web.Request) -> bool:
    return request.app[CONFIG].base_url.startswith("https://") or request.secure


def _set_cookie(
    request: web.Request, response: web.StreamResponse, name: str, value: str, max_age: int
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="Lax",
        secure=_secure(request),
    )


async def start_session(request: web.Request, response: web.StreamResponse, key_id: str) -> None:
    """Store a session for ``key_id`` and set its cookie on ``response``."""
    expires = datetime.now(UTC) + timedelta(days=SESSION_DAYS)
    row = await request.app[DB].create_session(key_id, to_iso(expires))
    cookie = request.app[SIGNER].cookie(row["id"], key_id)
    _set_cookie(request, response, SESSION_COOKIE, cookie, SESSION_DAYS * 86400)
    response.del_cookie(LOGIN_COOKIE, path="/")


async def end_session(request: web.Request, response: web.StreamResponse, session: Session) -> None:
    """End ``session`` for good and drop its cookie."""
    await request.app[DB].end_session(session.id)
    response.del_cookie(SESSION_COOKIE, path="/")


def login_form_token(request: web.Request) -> tuple[str, str | None]:
    """The sign-in form's CSRF token, and the nonce to set as the ``aegisd_login`` cookie
    (:func:`set_login_nonce`) when the request brought none."""
    nonce = request.cookies.get(LOGIN_COOKIE)
    new = None
    if not nonce or len(nonce) > 64:
        nonce = new = secrets.token_urlsafe(24)
    return request.app[SIGNER].login_token(nonce), new


def set_login_nonce(request: web.Request, response: web.StreamResponse, nonce: str) -> None:
    _set_cookie(request, response, LOGIN_COOKIE, nonce, _LOGIN_NONCE_S)


def login_token_ok(request: web.Request, token: object) -> bool:
    """Whether the sign-in form's ``token`` belongs to the request's ``aegisd_login`` cookie."""
    nonce = request.cookies.get(LOGIN_COOKIE)
    if not nonce or not isinstance(token, str):
        return False
    return hmac.compare_digest(request.app[SIGNER].login_token(nonce), token)
