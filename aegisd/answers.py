"""Reusing answers: the bodies of GET answers, kept while the table they were read from
is unchanged.

Clients poll lists (CI waiting for a run, dashboards refreshing), mostly when
nothing has changed. An endpoint declared with ``cached_on="runs"`` is answered
from here while ``runs``' change count (kept by triggers in SQLite, so writes by
any process count) is the one the body was built at. Authentication and rate
limits still apply to every request; the key includes the caller's project
binding, which shapes what a list shows.

A suite's health is kept the same way, while the run history is unchanged: building
it reads the suite, its windows (``storage/windows.py``) and its last failures, and a
team's dashboard asks for it again far more often than a run finishes.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

AnswerKey = tuple[str, str | None]
"""The request's path with its query string, and the project the caller's key is bound to."""


class Answers(Generic[K, V]):
    """The last ``size`` answers built, least recently used dropped first."""

    def __init__(self, size: int = 256) -> None:
        self._size = size
        self._answers: OrderedDict[K, tuple[int, V]] = OrderedDict()

    def get(self, key: K, changes: int) -> V | None:
        """The answer kept for ``key`` if it was built at ``changes``."""
        kept = self._answers.get(key)
        if kept is None or kept[0] != changes:
            return None
        self._answers.move_to_end(key)
        return kept[1]

    def put(self, key: K, changes: int, answer: V) -> None:
        """Keep ``answer``, built from the table as it was at ``changes``."""
        self._answers[key] = (changes, answer)
        self._answers.move_to_end(key)
        while len(self._answers) > self._size:
            self._answers.popitem(last=False)
