"""Health windows: each case's outcomes in a suite's last runs, kept in memory and moved
along as runs finish.

Health over 1,000 runs of a 60-case suite adds up 60,000 outcomes, and a finished run
changes two runs' worth of them: the run that joined and the oldest one, which leaves.
A window keeps the outcomes it read. Asked again, it is given the ``seq`` of the runs it
covers now (one range of an index): it drops the outcomes of the runs it no longer
covers from its oldest end, and says which runs joined, whose outcomes alone are read.
Retention deletes the oldest runs, which is the same move. Any other change (a run
deleted from the middle, or the newest one) empties the window, and it is read whole
again.

This module holds no SQL: :meth:`storage.history.HistoryQueries.case_outcomes` reads
the rows and feeds them in.
"""

from __future__ import annotations

import bisect
from collections import OrderedDict, deque
from typing import Any, NamedTuple

WindowKey = tuple[str, str, int, str | None]
"""Project id, suite name, how many runs and the base URL they ran against (or any)."""


class Outcomes(NamedTuple):
    """A case's outcomes in some runs, oldest first, a column per field."""

    seqs: list[int]
    passed: list[int]
    """1 where it passed (history holds passes and failures only)."""
    judged: list[int]
    """1 where it is not classified ``environment``: it counts for flips."""
    flaky: list[int]
    durations: list[int]


class _Case:
    """One case's outcomes in a window, oldest first, and the figures health reads."""

    def __init__(self) -> None:
        self._seqs: deque[int] = deque()
        self._passed: deque[int] = deque()
        self._judged: deque[int] = deque()
        self._flaky: deque[int] = deque()
        self._durations: deque[int] = deque()
        self._ordered: list[int] = []  # the durations in order, for the median
        self._sums = {"passed": 0, "flaky": 0, "flips": 0}
        self._last_judged: int | None = None

    def extend(self, outcomes: Outcomes) -> None:
        """Add the outcomes of newer runs."""
        self._seqs.extend(outcomes.seqs)
        self._passed.extend(outcomes.passed)
        self._judged.extend(outcomes.judged)
        self._flaky.extend(outcomes.flaky)
        self._durations.extend(outcomes.durations)
        if self._ordered:
            for duration in outcomes.durations:
                bisect.insort(self._ordered, duration)
        else:
            self._ordered = sorted(outcomes.durations)
        self._sums["passed"] += sum(outcomes.passed)
        self._sums["flaky"] += sum(outcomes.flaky)
        last, flips = self._last_judged, 0
        for passed, judged in zip(outcomes.passed, outcomes.judged, strict=True):
            if judged:
                flips += last is not None and last != passed
                last = passed
        self._last_judged = last
        self._sums["flips"] += flips

    def drop_before(self, seq: int) -> None:
        """Drop the outcomes of runs older than ``seq``."""
        while self._seqs and self._seqs[0] < seq:
            self._seqs.popleft()
            passed, judged = self._passed.popleft(), self._judged.popleft()
            self._sums["passed"] -= passed
            self._sums["flaky"] -= self._flaky.popleft()
            del self._ordered[bisect.bisect_left(self._ordered, self._durations.popleft())]
            if judged:
                following = next(
                    (p for p, j in zip(self._passed, self._judged, strict=True) if j), None
                )
                if following is None:
                    self._last_judged = None
                elif following != passed:
                    self._sums["flips"] -= 1

    def figures(self) -> dict[str, Any] | None:
        """``runs, passed, flaky, flips, last_status, median_duration``; ``None`` when the
        case did not run in the window."""
        if not self._seqs:
            return None
        ordered, count = self._ordered, len(self._ordered)
        return {
            "runs": count,
            **self._sums,
            "last_status": "passed" if self._passed[-1] else "failed",
            "median_duration": (ordered[(count - 1) // 2] + ordered[count // 2]) / 2,
        }


class Window:
    """The outcomes of the named cases in one suite's last runs."""

    def __init__(self) -> None:
        self.seqs: list[int] = []
        """The runs covered, oldest first."""
        self.names: set[str] = set()
        """The cases whose outcomes were read."""
        self._cases: dict[str, _Case] = {}

    def move(self, seqs: list[int]) -> list[int]:
        """Cover the runs ``seqs`` (oldest first) instead; the runs that joined, whose
        outcomes of :attr:`names` are then to be added. When the window cannot
        get there by dropping its oldest runs, it empties first, and all of them joined."""
        kept = self.seqs[bisect.bisect_left(self.seqs, seqs[0]) :] if seqs else []
        if not seqs or seqs[: len(kept)] != kept:
            self.clear()
            kept = []
        else:
            for case in self._cases.values():
                case.drop_before(seqs[0])
        self.seqs = seqs
        return seqs[len(kept) :]

    def clear(self) -> None:
        """Forget every run and outcome: the window is then read whole."""
        self.seqs = []
        self.names.clear()
        self._cases.clear()

    def add(self, name: str, outcomes: Outcomes) -> None:
        """Add ``name``'s outcomes in runs that joined."""
        self._cases.setdefault(name, _Case()).extend(outcomes)

    def figures(self, name: str) -> dict[str, Any] | None:
        """Health's figures for the case ``name`` (see ``_Case.figures``)."""
        case = self._cases.get(name)
        return None if case is None else case.figures()


class Windows:
    """The last ``size`` windows used, least recently used dropped first."""

    def __init__(self, size: int = 8) -> None:
        self._size = size
        self._windows: OrderedDict[WindowKey, Window] = OrderedDict()

    def get(self, key: WindowKey) -> Window:
        """The window kept for ``key``, or a new empty one."""
        window = self._windows.pop(key, None) or Window()
        self._windows[key] = window
        while len(self._windows) > self._size:
            self._windows.popitem(last=False)
        return window
