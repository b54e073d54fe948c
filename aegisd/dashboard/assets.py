"""The dashboard's static files: its one stylesheet and one script, shipped as package data."""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

STATIC_DIR = Path(__file__).parent / "static"
STATIC_PREFIX = "/static/"


@functools.cache
def static_url(name: str) -> str:
    """The URL of a static file, versioned by its content so browsers may cache it."""
    digest = hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest()[:12]
    return f"{STATIC_PREFIX}{name}?v={digest}"


@functools.cache
def stylesheet() -> str:
    """The dashboard's stylesheet, which the self-contained run report inlines."""
    return (STATIC_DIR / "dashboard.css").read_text()
