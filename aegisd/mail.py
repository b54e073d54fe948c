"""Email webhooks: ``mailto:`` recipients and sending through ``[notifications.smtp]``.

Sending uses the standard library's ``smtplib`` and blocks: the webhook sender calls
:func:`send_mail` in a thread. The password is handed to the server's AUTH only.
"""

from __future__ import annotations

import logging
import re
import smtplib
import ssl
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import parseaddr
from urllib.parse import unquote

from aegisd.config import SmtpSettings

log = logging.getLogger(__name__)

MAX_RECIPIENTS = 50
_LOCAL_PART = r"[^@\s<>()\[\],;:\"\\]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_ADDRESS = re.compile(rf"{_LOCAL_PART}@{_LABEL}(?:\.{_LABEL})*")


def mailto_recipients(url: str) -> list[str]:
    """The addresses of ``mailto:a@b,c@d`` (each at most once); ``ValueError`` says what is
    wrong with one that is not such a URL."""
    scheme, colon, rest = url.strip().partition(":")
    if scheme.lower() != "mailto" or not colon:
        raise ValueError("an email webhook's url is mailto:address[,address...]")
    if "?" in rest:
        raise ValueError("a mailto: url takes addresses only (no ?subject= or other headers)")
    addresses = [unquote(part).strip() for part in rest.split(",")]
    for address in addresses:
        if not address:
            raise ValueError("an address of the mailto: url is empty")
        if not _ADDRESS.fullmatch(address):
            raise ValueError(f"{address!r} is not an email address")
    unique = list(dict.fromkeys(addresses))
    if len(unique) > MAX_RECIPIENTS:
        raise ValueError(f"at most {MAX_RECIPIENTS} addresses")
    return unique


def mailto_url(url: str) -> str:
    """``url`` in the form it is stored: ``mailto:`` and its distinct addresses."""
    return "mailto:" + ",".join(mailto_recipients(url))


def send_mail(
    settings: SmtpSettings, message: EmailMessage, recipients: Sequence[str], timeout_s: float
) -> None:
    """Send ``message`` to ``recipients`` (blocking): TLS or STARTTLS, then AUTH, as set.

    Raises ``smtplib.SMTPException`` or ``OSError`` (``TimeoutError`` included) when
    it could not; recipients the server refuses while taking others are logged.
    """
    context = ssl.create_default_context(cafile=settings.cafile)
    client: smtplib.SMTP
    if settings.tls:
        client = smtplib.SMTP_SSL(settings.host, settings.port, timeout=timeout_s, context=context)
    else:
        client = smtplib.SMTP(settings.host, settings.port, timeout=timeout_s)
    with client:
        if settings.starttls:
            client.starttls(context=context)
        if settings.username is not None and settings.password is not None:
            client.login(settings.username, settings.password.get_secret_value())
        refused = client.send_message(
            message, from_addr=parseaddr(settings.from_)[1], to_addrs=list(recipients)
        )
    if refused:
        log.warning("the SMTP server refused some recipients: %s", ", ".join(sorted(refused)))


def smtp_problem(error: smtplib.SMTPException | OSError) -> tuple[int | None, str]:
    """An SMTP failure as a delivery attempt records it: the server's reply code, if it
    answered with one, and what went wrong."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        refusals = error.recipients.items()
        listed = "; ".join(f"{to}: {code} {_text(why)}" for to, (code, why) in refusals)
        return min((code for _, (code, _) in refusals), default=None), f"refused: {listed}"
    if isinstance(error, smtplib.SMTPResponseException):
        return error.smtp_code, f"SMTP {error.smtp_code}: {_text(error.smtp_error)}"
    return None, f"{type(error).__name__}: {error}"


def _text(reply: bytes | str) -> str:
    return reply.decode(errors="replace") if isinstance(reply, bytes) else reply
