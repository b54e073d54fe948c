"""Reusing answers: the bodies of GET answers, kept while the table they were read from
is unchanged.

Clients poll lists (CI waiting for a run, dashboards refreshing), mostly when
nothing has changed. An endpoint declared with ``cached_on="runs"`` is answered
from here while ``runs``' change count (kept by triggers in SQLite, so writes by
any process count) is the one the body was built at. Authentication and rate
limits still apply to every request; the key includes the caller's project
binding, which shapes what a list shows.
"""

from __future__ import annotations

from collections import OrderedDict

AnswerKey = tuple[str, str | None]
"""The request's path with its query string, and the project the caller's key is bound to."""


class Answers:
    """The last ``size`` answers built, least recently used dropped first."""

    def __init__(self, size: int = 256) -> None:
        self._size = size
        self._bodies: OrderedDict[AnswerKey, tuple[int, bytes]] = OrderedDict()

    def get(self, key: AnswerKey, changes: int) -> bytes | None:
        """The body kept for ``key`` if it was built at ``changes``."""
        kept = self._bodies.get(key)
        if kept is None or kept[0] != changes:
            return None
        self._bodies.move_to_end(key)
        return kept[1]

    def put(self, key: AnswerKey, changes: int, body: bytes) -> None:
        """Keep ``body``, built from the table as it was at ``changes``."""
        self._bodies[key] = (changes, body)
        self._bodies.move_to_end(key)
        while len(self._bodies) > self._size:
            self._bodies.popitem(last=False)
