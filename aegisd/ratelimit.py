"""Per-key request limits over fixed one-minute windows (DESIGN §3.3)."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Quota:
    """Where a key stands in the current window."""

    limit: int
    remaining: int
    reset: int
    retry_after: int
    allowed: bool

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset),
        }


class RateLimiter:
    """Counts each key's requests in the current minute."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._windows: dict[str, tuple[int, int]] = {}

    def hit(self, key_id: str, now: float | None = None) -> Quota | None:
        """Count one request; ``None`` when limiting is off."""
        if self.per_minute <= 0:
            return None
        now = time.time() if now is None else now
        window = int(now // 60)
        if len(self._windows) > 10_000:
            self._windows = {k: v for k, v in self._windows.items() if v[0] == window}
        start, used = self._windows.get(key_id, (window, 0))
        if start != window:
            used = 0
        allowed = used < self.per_minute
        if allowed:
            used += 1
        self._windows[key_id] = (window, used)
        reset = (window + 1) * 60
        return Quota(
            self.per_minute, self.per_minute - used, reset, max(1, math.ceil(reset - now)), allowed
        )
