"""Checking a link without rendering it: one request, HEAD first.

Links whose target the crawl does not visit (beyond ``depth`` or ``max_pages``,
over the query-variant budget, excluded) are checked with one request through the
crawl's own browser context (its cookies and headers: a logged-in crawl checks
logged-in), external ones through a request context of their own that carries
none of the project's headers. HEAD comes first; a server refusing it (405, 501)
gets a GET. Redirects are followed; a target answering 4xx/5xx or nothing is broken.
"""

from __future__ import annotations

from dataclasses import dataclass

from playwright.async_api import APIRequestContext
from playwright.async_api import Error as PlaywrightError

from runner.playback import reason

EXTERNAL_TIMEOUT_S = 10.0
"""Longest an external link's check may take."""

_HEAD_REFUSED = frozenset({405, 501})
_MAX_REDIRECTS = 10


@dataclass(frozen=True)
class LinkStatus:
    """What a link's target answered: a status, or the error that stopped the request."""

    status: int | None
    error: str | None

    @property
    def broken(self) -> bool:
        """Answered 4xx/5xx, or nothing."""
        return self.status is None or self.status >= 400


async def check_link(request: APIRequestContext, url: str, *, timeout_s: float) -> LinkStatus:
    """Request ``url`` with HEAD (GET when HEAD is refused) and say what it answered."""
    try:
        response = await request.head(url, timeout=timeout_s * 1000, max_redirects=_MAX_REDIRECTS)
        if response.status in _HEAD_REFUSED:
            await response.dispose()
            response = await request.get(
                url, timeout=timeout_s * 1000, max_redirects=_MAX_REDIRECTS
            )
        status = response.status
        await response.dispose()
    except PlaywrightError as error:
        return LinkStatus(status=None, error=reason(error))
    return LinkStatus(status=status, error=None)
