"""Which text a generated assertion may rely on: not empty, not cut short, not likely to change.

Titles, headings and link names that carry a time, a date, a counter, an id or a
relative time ("5 minutes ago") differ from one load to the next, so generation
does not assert them and the crawl does not spend locator checks on them.
"""

from __future__ import annotations

import re
from typing import TypeGuard

from crawler.analysis import LIMITS

_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
VOLATILE_TEXT = re.compile(
    r"\d{1,2}:\d{2}"  # a time of day
    r"|\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[/.]\d{1,2}[/.]\d{2,4}"  # a numeric date
    rf"|\b{_MONTH}\s+\d{{1,2}}\b|\b\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH}(?![a-z])"  # a date
    r"|\d{5,}|\d{1,3}(?:,\d{3})+"  # counters, ids, timestamps
    r"|\b(?=[a-f\d-]*\d)(?=[a-f\d-]*[a-f])[a-f\d]{8,}(?:-[a-f\d]+)*\b"  # hex ids, UUIDs
    r"|\b\d+\s+(?:second|minute|hour|day|week|month|year)s?\s+ago\b|\bjust now\b",
    re.IGNORECASE,
)
"""Text that looks like it changes from one load to the next. The pattern reads the
same in Python and JavaScript (the browser runs it too, ``crawler.dynamic``)."""


def is_stable_text(text: str | None) -> TypeGuard[str]:
    """Whether ``text`` can be asserted: not empty, not cut short, not likely to change."""
    if not text:
        return False
    return len(text) < LIMITS["text"] and VOLATILE_TEXT.search(text) is None
