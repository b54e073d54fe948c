"""URL normalisation, origins, and include/exclude patterns.

Normalisation (``normalise_url``) turns every URL the crawler sees into one
spelling, so that one page is one URL:

- relative URLs are resolved against the page they were found on;
- only ``http`` and ``https`` URLs are pages; anything else normalises to ``None``;
- scheme and host are lower-cased, the default port (80 for http, 443 for https)
  is dropped, an empty path becomes ``/``, ``.`` and ``..`` segments are resolved;
- the fragment (``#...``) is dropped; the query string is kept as it is (not
  sorted: ``?a=1&b=2`` and ``?b=2&a=1`` are two pages), an empty ``?`` is dropped;
- characters that may not stand unescaped in a URL (spaces, non-ASCII...) are
  percent-encoded, existing escapes are left alone.

A directory URL and its index document (``/docs/`` and ``/docs/index.html`` or
``/docs/index.htm``) normalise to different URLs: both are fetched when linked,
and they count as one page when they serve the same document. ``index_key``
gives the key under which the crawl compares them; see ``crawler.engine``.

Include and exclude patterns are Python regular expressions searched
(``re.search``) in the normalised absolute URL: ``/blog/`` matches every URL
containing ``/blog/``, ``\\.pdf$`` every URL ending in ``.pdf``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, quote, urljoin, urlsplit, urlunsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}
_INDEX_DOCUMENTS = ("index.html", "index.htm")
# RFC 3986 reserved and unreserved characters, plus "%" so existing escapes survive.
_SAFE = "/:@!$&'()*+,;=-._~%?"
# "log" or "sign", then "out" or "off", as a word of its own: /logout, /users/sign_out, Log out.
_LOGOUT = re.compile(r"(?<![a-z])(?:log|sign)(?:[-_\s]|%20)?(?:out|off)(?![a-z])", re.IGNORECASE)
_DELETE = re.compile(r"(?<![a-z])(?:delete|remove|destroy|unsubscribe)(?![a-z])", re.IGNORECASE)


def normalise_url(url: str, base: str | None = None) -> str | None:
    """``url`` (resolved against ``base``) in normal form, or ``None`` if it is no web page URL."""
    try:
        absolute = urljoin(base, url.strip()) if base else url.strip()
        parts = urlsplit(absolute)
        port = parts.port
    except ValueError:  # an unparsable host or port: not a URL we can visit
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    host = parts.hostname
    if ":" in host:
        host = f"[{host}]"
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        host = f"{host}:{port}"
    userinfo = parts.netloc.rpartition("@")[0]
    if userinfo:
        host = f"{userinfo}@{host}"
    path = quote(_remove_dot_segments(parts.path), safe=_SAFE)
    query = quote(parts.query, safe=_SAFE)
    return urlunsplit((scheme, host, path, query, ""))


def _remove_dot_segments(path: str) -> str:
    output: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if len(output) > 1:
                output.pop()
        elif segment != ".":
            output.append(segment)
    if path.endswith(("/.", "/..")):
        output.append("")
    joined = "/".join(output)
    return joined if joined.startswith("/") else "/" + joined


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of a normalised URL."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


def same_origin(url: str, origin: str) -> bool:
    """Whether the normalised ``url`` lives on ``origin`` (as given by ``origin_of``)."""
    return origin_of(url) == origin


def looks_like_logout(url: str, name: str = "") -> bool:
    """Whether ``url``'s path or query, or the name of a link to it, reads like logging out.

    ``/logout``, ``/log-out``, ``/users/sign_out``, ``/signoff``, ``/?action=logout``
    and links named "Log out" or "Sign off" do; ``/catalog-outlet``, ``/blog/outdoors``
    and "Blog outline" do not.
    """
    parts = urlsplit(url)
    return any(_LOGOUT.search(text) for text in (f"{parts.path}?{parts.query}", name))


def looks_destructive(url: str, name: str = "") -> bool:
    """Whether following ``url`` (a link or form named ``name``) reads like logging out or
    deleting something: ``looks_like_logout``, or delete, remove, destroy, unsubscribe as a
    word of the path, query or name (``/items/3/delete/``, "Remove from cart")."""
    parts = urlsplit(url)
    texts = (f"{parts.path}?{parts.query}", name)
    return looks_like_logout(url, name) or any(_DELETE.search(text) for text in texts)


def variant_group(url: str) -> tuple[str, frozenset[str]]:
    """The path and the set of query keys of ``url``: what its query-string variants share
    (``/list?o=1`` and ``/list?o=-2.1`` are both ``("/list", {"o"})``)."""
    parts = urlsplit(url)
    keys = frozenset(key for key, _ in parse_qsl(parts.query, keep_blank_values=True))
    return parts.path, keys


_ID_SEGMENT = re.compile(
    r"^(?:\d+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|(?=[a-z]*\d)[0-9a-f]{12,})$",
    re.IGNORECASE,
)


def path_shape(url: str) -> str:
    """``url``'s path with its id segments (numbers, UUIDs, long hex) as ``{id}``:
    ``/items/42/edit`` and ``/items/7/edit`` are both ``/items/{id}/edit``."""
    segments = urlsplit(url).path.split("/")
    return "/".join("{id}" if _ID_SEGMENT.match(segment) else segment for segment in segments)


def index_key(url: str) -> str:
    """The directory URL of an index document (``/a/index.html`` -> ``/a/``), else ``url``."""
    parts = urlsplit(url)
    directory, _, last = parts.path.rpartition("/")
    if last.lower() not in _INDEX_DOCUMENTS:
        return url
    return urlunsplit((parts.scheme, parts.netloc, directory + "/", parts.query, ""))


def compile_patterns(patterns: Iterable[str]) -> list[re.Pattern[str]]:
    """Compile include/exclude patterns; ``ValueError`` names the first that is no regex."""
    compiled = []
    for pattern in patterns:
        try:
            compiled.append(re.compile(pattern))
        except re.error as exc:
            raise ValueError(f"{pattern!r} is not a valid regular expression: {exc}") from exc
    return compiled


class UrlFilter:
    """Which URLs a crawl may visit according to its include and exclude patterns."""

    def __init__(self, include: Iterable[str], exclude: Iterable[str]) -> None:
        self._include = compile_patterns(include)
        self._exclude = compile_patterns(exclude)

    def allows(self, url: str) -> bool:
        """True when ``url`` matches an include pattern (or there are none) and no exclude."""
        if self._include and not any(p.search(url) for p in self._include):
            return False
        return not any(p.search(url) for p in self._exclude)
