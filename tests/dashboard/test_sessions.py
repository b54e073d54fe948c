"""Signing in and out, sessions, cookie flags and CSRF, over HTTP as a browser sends it."""

from __future__ import annotations

from pathlib import Path

import pytest

from aegisd.dashboard.sessions import SESSION_COOKIE
from runner.browsers import Browsers
from tests.apiclient import Daemon, make_config, running
from tests.dashboard.conftest import MakeVisitor, Visitor, signed_in


def session_cookie(answer_headers: object) -> str:
    cookies = [c for c in answer_headers.getall("Set-Cookie", []) if c.startswith(SESSION_COOKIE)]  # type: ignore[attr-defined]
    assert len(cookies) == 1, cookies
    return str(cookies[0])


async def test_no_session_goes_to_sign_in_and_back_to_the_page_asked_for(
    daemon: Daemon, visitor: MakeVisitor
) -> None:
    someone = visitor(daemon)
    asked = "/runs?status=failed&page=2"
    answer = await someone.get(asked)
    assert answer.status == 303
    assert answer.headers["Location"] == "/login?next=/runs%3Fstatus%3Dfailed%26page%3D2"
    form = await someone.get(answer.headers["Location"])
    assert form.status == 200 and 'name="next" value="/runs?status=failed&amp;page=2"' in form.text
    signed = await someone.post("/login", {"csrf": form.csrf, "key": daemon.key, "next": asked})
    assert (signed.status, signed.headers["Location"]) == (303, asked)
    assert (await someone.get(asked)).status == 200
    # Signed in already: the sign-in page sends you on.
    again = await someone.get("/login?next=/schedules")
    assert (again.status, again.headers["Location"]) == (303, "/schedules")


@pytest.mark.parametrize(
    "next_page",
    ["//evil.test/x", "https://evil.test/", "/\\evil.test", "javascript:alert(1)", "/login", ""],
)
async def test_after_sign_in_only_local_pages(
    daemon: Daemon, visitor: MakeVisitor, next_page: str
) -> None:
    answer = await visitor(daemon).sign_in(daemon.key, next_page)
    assert (answer.status, answer.headers["Location"]) == (303, "/")


async def test_a_wrong_key_shows_the_form_again_and_says_nothing_more(
    daemon: Daemon, visitor: MakeVisitor
) -> None:
    revoked = await daemon.new_key("read")
    rows = await daemon.db.fetchall("SELECT id FROM api_keys WHERE scope = 'read'")
    await daemon.db.revoke_key(rows[0]["id"])
    texts = set()
    for wrong in ["aegis_" + "x" * 32, "", "not a key", revoked]:
        someone = visitor(daemon)
        answer = await someone.sign_in(wrong)
        assert answer.status == 401
        assert "That API key is not valid." in answer.text
        assert 'name="key"' in answer.text
        assert not [c for c in answer.headers.getall("Set-Cookie", []) if SESSION_COOKIE in c]
        assert (await someone.get("/")).status == 303
        texts.add(answer.text.replace(answer.csrf, ""))
    assert len(texts) == 1  # unknown, malformed and revoked keys read the same


async def test_cookie_flags(daemon: Daemon, visitor: MakeVisitor) -> None:
    answer = await visitor(daemon).sign_in(daemon.key)
    cookie = session_cookie(answer.headers)
    flags = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "path", "samesite", "max-age"} <= flags and "secure" not in flags
    assert "samesite=lax" in cookie.lower() and "path=/" in cookie.lower()
    # The cookie names the session and the key, never the key itself.
    assert daemon.key not in cookie and daemon.key.removeprefix("aegis_") not in cookie


async def test_cookies_are_secure_behind_https(tmp_path: Path, browsers: Browsers) -> None:
    config = make_config(tmp_path, server={"public_url": "https://aegis.example"})
    async with running(config, browsers) as daemon:
        form = await daemon.client.get("/login")
        login_cookie = form.headers.getall("Set-Cookie")[0]
        assert "secure" in login_cookie.lower() and "httponly" in login_cookie.lower()
        token = (await form.text()).split('name="csrf" value="')[1].split('"')[0]
        # The TLS proxy in front would send the (Secure) cookie back; plain http does not.
        answer = await daemon.client.post(
            "/login",
            data={"csrf": token, "key": daemon.key},
            headers={"Cookie": login_cookie.split(";")[0]},
            allow_redirects=False,
        )
        assert answer.status == 303
        assert "secure" in session_cookie(answer.headers).lower()


async def test_sign_out_ends_the_session_for_good(daemon: Daemon, visitor: MakeVisitor) -> None:
    someone = await signed_in(visitor, daemon)
    stolen = someone.cookie(SESSION_COOKIE)
    answer = await someone.send("/", "/logout")
    assert (answer.status, answer.headers["Location"]) == (303, "/login")
    assert (await someone.get("/")).status == 303
    # The same cookie sent again (copied before signing out) opens nothing.
    replay = visitor(daemon)
    replay.http.cookie_jar.update_cookies({SESSION_COOKIE: stolen})
    assert (await replay.get("/")).status == 303


async def test_a_revoked_key_ends_its_sessions_at_once(
    daemon: Daemon, visitor: MakeVisitor
) -> None:
    key = await daemon.new_key("write")
    someone = await signed_in(visitor, daemon, key)
    other = await signed_in(visitor, daemon, key)
    assert (await someone.get("/")).status == 200
    key_id = (await daemon.db.fetchall("SELECT id FROM api_keys WHERE scope = 'write'"))[0]["id"]
    assert (await daemon.call("DELETE", f"/api-keys/{key_id}")).status == 200
    for visitor_ in (someone, other):
        answer = await visitor_.get("/runs")
        assert (answer.status, answer.headers["Location"]) == (303, "/login?next=/runs")
        assert (await visitor_.get("/runs/run_x/events")).status == 401


async def test_a_key_deleted_with_its_project_ends_its_sessions(
    daemon: Daemon, visitor: MakeVisitor
) -> None:
    project = await daemon.project("doomed")
    someone = await signed_in(visitor, daemon, await daemon.new_key("write", project["id"]))
    assert (await someone.get(f"/projects/{project['id']}")).status == 200
    assert (await daemon.call("DELETE", f"/projects/{project['id']}")).status == 200
    assert (await someone.get("/")).status == 303


async def test_an_expired_or_forged_session_opens_nothing(
    daemon: Daemon, visitor: MakeVisitor
) -> None:
    someone = await signed_in(visitor, daemon)
    cookie = someone.cookie(SESSION_COOKIE)
    session_id, key_id, signature = cookie.split(".")
    other_key = await daemon.new_key("admin")
    other_id = (await daemon.db.fetchall("SELECT id FROM api_keys ORDER BY rowid DESC"))[0]["id"]
    assert other_key
    for forged in (
        f"{session_id}.{other_id}.{signature}",  # another key's id under this signature
        f"{session_id}.{key_id}.{'0' * len(signature)}",
        f"{session_id}.{key_id}",
        "garbage",
    ):
        faker = visitor(daemon)
        faker.http.cookie_jar.update_cookies({SESSION_COOKIE: forged})
        assert (await faker.get("/")).status == 303, forged
    await daemon.db.execute(
        "UPDATE dashboard_sessions SET expires_at = '2000-01-01T00:00:00Z' WHERE id = ?",
        (session_id,),
    )
    daemon.db.keys_changed()  # as the clock would: the kept row is read again
    assert (await someone.get("/")).status == 303
    assert await daemon.db.prune_sessions("2001-01-01T00:00:00Z") == 1


async def csrf_refused(someone: Visitor, daemon: Daemon, data: dict[str, str]) -> None:
    answer = await someone.post(
        "/projects/new", {"name": "Sneaky", "base_url": "http://a.test", **data}
    )
    assert answer.status == 403, answer.text[:300]
    assert "CSRF" in answer.text and "nothing was changed" in answer.text
    assert (await daemon.call("GET", "/projects")).body["pagination"]["total"] == 0


async def test_a_post_without_the_sessions_csrf_token_changes_nothing(
    daemon: Daemon, visitor: MakeVisitor
) -> None:
    someone = await signed_in(visitor, daemon)
    other = await signed_in(visitor, daemon)
    login_form = await visitor(daemon).get("/login")
    for data in (
        {},
        {"csrf": ""},
        {"csrf": "0" * 43},
        {"csrf": (await other.get("/projects/new")).csrf},  # another session's token
        {"csrf": login_form.csrf},  # the sign-in form's token
    ):
        await csrf_refused(someone, daemon, data)
    # Signing out takes the token too: a forged sign-out does not end the session.
    assert (await someone.post("/logout", {})).status == 403
    assert (await someone.get("/")).status == 200
    # The sign-in form refuses a post without its own token (login CSRF).
    stranger = visitor(daemon)
    answer = await stranger.post("/login", {"key": daemon.key, "csrf": "x"})
    assert answer.status == 403 and "expired" in answer.text
    assert (await stranger.get("/")).status == 303


async def test_event_streams_need_a_session(daemon: Daemon, visitor: MakeVisitor) -> None:
    someone = visitor(daemon)
    for path in ("/runs/run_nope00000000/events", "/crawls/crawl_nope0000000/events"):
        answer = await someone.get(path)
        assert answer.status == 401


async def test_unknown_pages_answer_html_and_unknown_api_routes_json(
    daemon: Daemon, visitor: MakeVisitor
) -> None:
    someone = await signed_in(visitor, daemon)
    answer = await someone.get("/no/such/page")
    assert answer.status == 404 and "text/html" in answer.headers["Content-Type"]
    assert "there is no page at /no/such/page" in answer.text
    missing = await someone.get("/runs/run_nope00000000")
    assert missing.status == 404 and "run run_nope00000000 not found" in missing.text
    api = await daemon.call("GET", "/no/such/route", headers={"Accept": "text/html"})
    assert api.status == 404 and api.error["code"] == "NOT_FOUND"


async def test_pages_are_private_and_framed_by_nothing(
    daemon: Daemon, visitor: MakeVisitor
) -> None:
    someone = await signed_in(visitor, daemon)
    answer = await someone.get("/")
    assert answer.headers["Cache-Control"] == "no-store"
    assert answer.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in answer.headers["Content-Security-Policy"]
    assert "script-src 'self'" in answer.headers["Content-Security-Policy"]
    assert answer.headers["Server-Timing"].startswith("app;dur=")
