"""URL normalisation, origins, index keys and include/exclude patterns."""

from __future__ import annotations

import pytest

from crawler.urls import (
    UrlFilter,
    compile_patterns,
    index_key,
    looks_like_logout,
    normalise_url,
    origin_of,
)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTP://Example.COM/Path", "http://example.com/Path"),
        ("http://example.com", "http://example.com/"),
        ("http://example.com:80/a", "http://example.com/a"),
        ("https://example.com:443/a", "https://example.com/a"),
        ("http://example.com:443/a", "http://example.com:443/a"),
        ("https://example.com:8443/a", "https://example.com:8443/a"),
        ("http://example.com/a#section", "http://example.com/a"),
        ("http://example.com/a?b=2&a=1#x", "http://example.com/a?b=2&a=1"),
        ("http://example.com/a?", "http://example.com/a"),
        ("http://example.com/a/./b/../c", "http://example.com/a/c"),
        ("http://example.com/../a", "http://example.com/a"),
        ("http://example.com/a/..", "http://example.com/"),
        ("http://example.com/a b/é", "http://example.com/a%20b/%C3%A9"),
        ("http://example.com/a%20b", "http://example.com/a%20b"),
        ("http://[::1]:80/x", "http://[::1]/x"),
        ("http://user:pw@Example.com/x", "http://user:pw@example.com/x"),
        ("  http://example.com/x  ", "http://example.com/x"),
        ("mailto:someone@example.com", None),
        ("javascript:void(0)", None),
        ("ftp://example.com/file", None),
        ("/relative/without/base", None),
        ("http://", None),
        ("http://example.com:99999/", None),
    ],
)
def test_normalise_url(url: str, expected: str | None) -> None:
    assert normalise_url(url) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("page", "http://example.com/dir/page"),
        ("../up", "http://example.com/up"),
        ("/root#frag", "http://example.com/root"),
        ("?q=1", "http://example.com/dir/index.html?q=1"),
        ("//Other.example.com:80/x", "http://other.example.com/x"),
        ("tel:+1555", None),
    ],
)
def test_normalise_relative_url(url: str, expected: str | None) -> None:
    assert normalise_url(url, "http://example.com/dir/index.html") == expected


def test_origin() -> None:
    assert origin_of("https://user@example.com:8443/a?b") == "https://example.com:8443"
    assert origin_of("http://example.com/") == "http://example.com"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://h/docs/index.html", "http://h/docs/"),
        ("http://h/docs/INDEX.HTM", "http://h/docs/"),
        ("http://h/index.html?x=1", "http://h/?x=1"),
        ("http://h/docs/", "http://h/docs/"),
        ("http://h/docs/indexes.html", "http://h/docs/indexes.html"),
        ("http://h/docs/main.html", "http://h/docs/main.html"),
    ],
)
def test_index_key(url: str, expected: str) -> None:
    assert index_key(url) == expected


def test_url_filter() -> None:
    only_blog = UrlFilter([r"/blog/", r"/news$"], [r"draft", r"\.pdf$"])
    assert only_blog.allows("http://h/blog/post")
    assert only_blog.allows("http://h/news")
    assert not only_blog.allows("http://h/news/1")
    assert not only_blog.allows("http://h/blog/draft-1")
    assert not only_blog.allows("http://h/blog/file.pdf")
    everything = UrlFilter([], [])
    assert everything.allows("http://h/anything")


def test_bad_pattern_is_named() -> None:
    with pytest.raises(ValueError, match=r"'\(unclosed' is not a valid regular expression"):
        compile_patterns(["fine", "(unclosed"])


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/logout", True),
        ("/LogOut.php", True),
        ("/log-out", True),
        ("/users/sign_out", True),
        ("/signout/", True),
        ("/account/log-off", True),
        ("/?action=logout", True),
        ("/catalog-outlet", False),
        ("/blog/outdoors", False),
        ("/logouts", False),
        ("/login", False),
        ("/signing-off-notes", False),
    ],
)
def test_looks_like_logout(path: str, expected: bool) -> None:
    assert looks_like_logout("http://example.com" + path) is expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Log out", True),
        ("Sign Out", True),
        ("Logout", True),
        ("sign off", True),
        ("Blog outline", False),
        ("Sign up", False),
        ("Log in", False),
        ("", False),
    ],
)
def test_link_names_that_look_like_logout(name: str, expected: bool) -> None:
    assert looks_like_logout("http://example.com/session/end", name) is expected
