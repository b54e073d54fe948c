"""Identifiers and timestamps as the API shows them."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime


def new_id(prefix: str) -> str:
    """A fresh id such as ``proj_Xk3...``: the prefix, ``_``, 16 url-safe random characters."""
    return f"{prefix}_{secrets.token_urlsafe(12)}"


def utc_now() -> str:
    """The current time as ISO 8601 UTC with a ``Z``, to the second."""
    return to_iso(datetime.now(UTC))


def to_iso(moment: datetime) -> str:
    """``moment`` as ISO 8601 UTC with a ``Z``, to the second."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def from_iso(text: str) -> datetime:
    """Parse a timestamp written by :func:`to_iso`."""
    return datetime.fromisoformat(text).astimezone(UTC)  # fast: pages parse hundreds
