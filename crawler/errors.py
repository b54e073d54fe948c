"""Errors of the crawler: why a crawl could not run at all, or could not go on.

A crawl that runs reports trouble with single pages inside its result (a page's
``error``, broken links); these exceptions are for the crawl as a whole.

CrawlerError
 ├── StartUrlDisallowed
 ├── StartPageUnreachable
 └── BrowserFailed
"""


class CrawlerError(Exception):
    """Base of every error raised by the crawler package."""


class StartUrlDisallowed(CrawlerError):
    """The site's robots.txt forbids the start URL and robots.txt is being respected."""


class StartPageUnreachable(CrawlerError):
    """The start page gave no HTTP response at all (refused, timed out, redirect loop...)."""


class BrowserFailed(CrawlerError):
    """The browser closed (crashed, was killed) or could not open a tab during the crawl."""
