"""Webhook receivers: real aiohttp and SMTP servers on 127.0.0.1 that keep what they get."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import ssl
import subprocess
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from aiohttp import web
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from multidict import CIMultiDictProxy


@dataclass
class Received:
    path: str
    headers: CIMultiDictProxy[str]
    body: bytes

    @property
    def event(self) -> str:
        return self.headers["X-Aegis-Event"]

    @property
    def json(self) -> Any:
        return json.loads(self.body)


def signature_ok(secret: str, received: Received) -> bool:
    """Check ``X-Aegis-Signature`` the way the README tells receivers to."""
    timestamp = received.headers["X-Aegis-Timestamp"].encode()
    digest = hmac.new(secret.encode(), timestamp + b"." + received.body, hashlib.sha256)
    return hmac.compare_digest(
        "sha256=" + digest.hexdigest(), received.headers["X-Aegis-Signature"]
    )


class Receiver:
    """Answers each POST with the next of ``answers`` (200 once they run out).

    With ``gate``, each request waits for it to be set before answering.
    """

    def __init__(self, answers: list[int] | None = None, gate: asyncio.Event | None = None) -> None:
        self.answers = list(answers or [])
        self.gate = gate
        self.received: list[Received] = []

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/{path:.*}", self._receive)
        return app

    async def _receive(self, request: web.Request) -> web.Response:
        self.received.append(Received(request.path, request.headers, await request.read()))
        if self.gate is not None:
            await self.gate.wait()
        status = self.answers.pop(0) if self.answers else 200
        return web.Response(status=status, text="ok" if status < 300 else "broken")

    async def wait_for(self, count: int, within_s: float = 30) -> list[Received]:
        """Wait until ``count`` requests have come; all that came."""
        deadline = asyncio.get_running_loop().time() + within_s
        while len(self.received) < count:
            if asyncio.get_running_loop().time() > deadline:
                events = [r.event for r in self.received]
                raise AssertionError(f"{count} requests expected in {within_s}s, got {events}")
            await asyncio.sleep(0.05)
        return self.received

    def events(self, path: str = "/") -> list[str]:
        return [r.event for r in self.received if r.path == path]


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, made with ``openssl``: (cert, key)."""
    cert, key = directory / "smtp-cert.pem", directory / "smtp-key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


@dataclass
class Mail:
    sender: str
    recipients: list[str]
    message: EmailMessage
    login: str | None

    def part(self, subtype: str) -> str:
        """The text of the message's ``text/<subtype>`` part."""
        found = self.message.get_body(preferencelist=(subtype,))
        assert found is not None and found.get_content_subtype() == subtype, subtype
        return str(found.get_content())


class MailReceiver:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps the mail it takes.

    It answers the first ``refuse`` messages' DATA with ``451`` (try again later).
    With ``certificate`` (cert, key) it requires STARTTLS, or with ``implicit_tls``
    speaks TLS from the first byte; with ``login`` (user, password) it requires AUTH.
    ``attempts`` counts every message offered, refused ones included.
    """

    def __init__(
        self,
        *,
        refuse: int = 0,
        certificate: tuple[Path, Path] | None = None,
        implicit_tls: bool = False,
        login: tuple[str, str] | None = None,
    ) -> None:
        self.refuse = refuse
        self.login = login
        self.context: ssl.SSLContext | None = None
        if certificate is not None:
            self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self.context.load_cert_chain(*map(str, certificate))
        self.implicit_tls = implicit_tls
        self.received: list[Mail] = []
        self.offered: list[EmailMessage] = []
        self._server: asyncio.Server | None = None

    async def start(self) -> int:
        """Listen on a free port; the port."""
        starttls = self.context if not self.implicit_tls else None

        def protocol() -> SMTP:
            return SMTP(
                self,
                hostname="127.0.0.1",
                tls_context=starttls,
                require_starttls=starttls is not None,
                authenticator=self._authenticate if self.login else None,
                auth_required=self.login is not None,
                auth_require_tls=not self.implicit_tls,
            )

        loop = asyncio.get_running_loop()
        tls = self.context if self.implicit_tls else None
        self._server = await loop.create_server(protocol, "127.0.0.1", 0, ssl=tls)
        return int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and self.login == (
            data.login.decode(),
            data.password.decode(),
        )
        return AuthResult(success=ok, auth_data=data.login.decode() if ok else None)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        message = BytesParser(policy=policy.default).parsebytes(envelope.content)
        self.offered.append(message)
        if self.refuse > 0:
            self.refuse -= 1
            return "451 4.3.0 Mailbox busy, try again later"
        login = session.auth_data if self.login else None
        self.received.append(
            Mail(envelope.mail_from or "", list(envelope.rcpt_tos), message, login)
        )
        return "250 OK"

    async def wait_for(self, count: int, within_s: float = 30) -> list[Mail]:
        """Wait until ``count`` messages were taken; all taken."""
        deadline = asyncio.get_running_loop().time() + within_s
        while len(self.received) < count:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{count} mails expected in {within_s}s")
            await asyncio.sleep(0.05)
        return self.received
