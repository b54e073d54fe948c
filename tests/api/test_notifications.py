"""Discord, Teams and email webhooks, delivered to real receivers on 127.0.0.1.

Discord and Teams messages go to local HTTP servers that check the payload shapes
those services accept; email goes to a real SMTP server (aiosmtpd) with STARTTLS or
TLS and a login, through the same outbox, retries and deliveries log as any webhook.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from aegisd.state import CONFIG
from runner.browsers import Browsers
from tests.api.receivers import MailReceiver, Receiver, self_signed_certificate
from tests.api.test_runs import site_pages
from tests.api.test_suites import CASES, make_suite
from tests.api.test_webhooks import crawl_of, run_of, webhook
from tests.apiclient import Daemon, make_config, running
from tests.conftest import ServeApp, Spawn
from tests.daemon import UNLIMITED, free_port, poll
from tests.sites import Site

RECIPIENTS = "mailto:qa@example.test,dev@example.test"
LOGIN = ("aegisd", "s3cret-smtp-passw0rd")
GONE: dict[str, Any] = {
    "name": "About is gone",  # fails at once: nothing waits for a step to time out
    "steps": [{"action": "goto", "url": "/about"}, {"action": "expect_status", "status": 404}],
}


def check_discord_shape(message: dict[str, Any]) -> dict[str, Any]:
    """Discord's execute-webhook body and its limits; the one embed."""
    assert set(message) <= {"content", "embeds", "allowed_mentions", "username"}
    assert 0 < len(message["content"]) <= 2000
    assert message["allowed_mentions"] == {"parse": []}  # a case name never pings anyone
    [embed] = message["embeds"]
    assert 0 < len(embed["title"]) <= 256 and len(embed.get("description", "")) <= 4096
    assert isinstance(embed["color"], int) and 0 <= embed["color"] <= 0xFFFFFF
    assert len(embed["fields"]) <= 25
    for item in embed["fields"]:
        assert 0 < len(item["name"]) <= 256 and 0 < len(item["value"]) <= 1024
    text = [embed["title"], embed.get("description", ""), embed["footer"]["text"]]
    text += [f"{item['name']} {item['value']}" for item in embed["fields"]]
    assert sum(map(len, text)) <= 6000
    return embed  # type: ignore[no-any-return]


def check_teams_shape(message: dict[str, Any]) -> dict[str, Any]:
    """The message incoming webhooks and Workflows take: one Adaptive Card; the card."""
    assert message["type"] == "message"
    [attachment] = message["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.4"
    assert card["$schema"] == "http://adaptivecards.io/schemas/adaptive-card.json"
    for element in card["body"]:
        assert element["type"] in ("TextBlock", "FactSet")
        if element["type"] == "TextBlock":
            assert element["text"] and element["wrap"] is True
        else:
            assert all(set(fact) == {"title", "value"} for fact in element["facts"])
    for action in card.get("actions", []):
        assert action["type"] == "Action.OpenUrl" and action["url"].startswith("http")
    return card  # type: ignore[no-any-return]


def card_text(card: dict[str, Any]) -> str:
    lines = []
    for element in card["body"]:
        if element["type"] == "TextBlock":
            lines.append(element["text"])
        else:
            lines += [f"{fact['title']}: {fact['value']}" for fact in element["facts"]]
    return "\n".join(lines)


async def test_discord_and_teams_messages(daemon: Daemon, serve: ServeApp) -> None:
    receiver = Receiver()
    url = await serve(receiver.app())
    events = ["run.failed", "crawl.completed"]
    discord = await webhook(daemon, url + "/discord", format="discord", events=events)
    teams = await webhook(daemon, url + "/teams", format="teams", events=events)
    project = await daemon.project(base_url=await serve(Site(site_pages()).app()))
    suite = await make_suite(daemon, project["id"], [CASES[0], GONE], name="Shop @everyone")
    run = await run_of(daemon, suite["id"])
    crawl = await crawl_of(daemon, project["id"])
    await receiver.wait_for(4, within_s=60)
    for hook in (discord, teams):
        await daemon.call("POST", f"/webhooks/{hook['id']}/test")
    received = await receiver.wait_for(6, within_s=60)
    base = daemon.app[CONFIG].base_url

    def sent(path: str) -> dict[str, dict[str, Any]]:
        return {r.event: r.json for r in received if r.path == path}

    to_discord, to_teams = sent("/discord"), sent("/teams")
    assert set(to_discord) == set(to_teams) == {*events, "webhook.test"}

    embed = check_discord_shape(to_discord["run.failed"])
    assert embed["title"] == "Run failed: Shop @everyone"
    assert embed["url"] == f"{base}/runs/{run['id']}"
    fields = {item["name"]: item["value"] for item in embed["fields"]}
    assert (fields["Passed"], fields["Failed"], fields["Browser"]) == ("1", "1", "chromium")
    assert "About is gone (new): expected status 404 but got 200" in embed["description"]
    assert to_discord["run.failed"]["content"].startswith("Run failed: Shop @everyone (1 passed")
    crawled = check_discord_shape(to_discord["crawl.completed"])
    assert crawled["url"] == f"{base}/crawls/{crawl['id']}"
    assert {f["name"]: f["value"] for f in crawled["fields"]}["Pages"] == "2"
    assert "test message" in check_discord_shape(to_discord["webhook.test"])["title"]

    card = check_teams_shape(to_teams["run.failed"])
    text = card_text(card)
    assert "Run failed: Shop @everyone" in text and "Passed: 1" in text and "Failed: 1" in text
    assert "About is gone (new): expected status 404 but got 200" in text
    links = {action["title"]: action["url"] for action in card["actions"]}
    assert links["Open the run"] == f"{base}/runs/{run['id']}"
    assert links["HTML report"] == run["report_url"]
    crawl_card = check_teams_shape(to_teams["crawl.completed"])
    assert crawl_card["actions"][0]["url"] == f"{base}/crawls/{crawl['id']}"
    assert "Pages: 2" in card_text(crawl_card)
    assert "test message" in card_text(check_teams_shape(to_teams["webhook.test"]))


def smtp_settings(port: int, **extra: Any) -> dict[str, Any]:
    return {"smtp": {"host": "127.0.0.1", "port": port, "from": "aegisd <aegisd@example.test>",
                     **extra}}  # fmt: skip


async def test_email_over_starttls_with_a_login_arrives_after_a_refusal(
    tmp_path: Path, browsers: Browsers, serve: ServeApp, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    certificate = self_signed_certificate(tmp_path)
    mail = MailReceiver(refuse=1, certificate=certificate, login=LOGIN)
    port = await mail.start()
    smtp = smtp_settings(
        port, username=LOGIN[0], password=LOGIN[1], cafile=str(certificate[0])
    )  # STARTTLS is the default
    config = make_config(tmp_path / "data", notifications=smtp, webhooks={"retry_backoff_s": 0.05})
    try:
        async with running(config, browsers) as daemon:
            hook = await webhook(daemon, RECIPIENTS, format="email", events=["run.failed"])
            assert (hook["url"], hook["format"]) == (RECIPIENTS, "email")
            project = await daemon.project(base_url=await serve(Site(site_pages()).app()))
            suite = await make_suite(daemon, project["id"], [CASES[0], GONE])
            run = await run_of(daemon, suite["id"])
            [got] = await mail.wait_for(1, within_s=60)
            path = f"/webhooks/{hook['id']}/deliveries"
            [delivery] = await daemon.wait_for(path, lambda ds: ds[0]["status"] != "pending")
    finally:
        await mail.stop()

    assert (delivery["status"], delivery["attempts"]) == ("delivered", 2)
    refused, taken = delivery["history"]
    assert refused["status_code"] == 451 and "try again later" in refused["error"]
    assert (taken["status_code"], taken["error"]) == (250, None)
    # The same message both times, so a mail client shows a retried one once.
    assert [m["Message-ID"] for m in mail.offered] == [f"<{delivery['id']}@aegisd>"] * 2

    assert got.login == LOGIN[0]  # logged in, over STARTTLS (the server requires both)
    assert got.sender == "aegisd@example.test"
    assert got.recipients == ["qa@example.test", "dev@example.test"]
    message = got.message
    assert message["To"] == "qa@example.test, dev@example.test"
    counts = "1 passed, 1 failed, 0 skipped, 0 flaky"
    assert message["Subject"] == f"[aegisd] Run failed: Smoke ({counts})"
    assert message["X-Aegis-Event"] == "run.failed"
    text = got.part("plain")
    assert "About is gone (new): expected status 404 but got 200" in text
    assert f"Open the run: {config.base_url}/runs/{run['id']}" in text
    assert f"HTML report: {run['report_url']}" in text
    html = got.part("html")
    assert f'href="{config.base_url}/runs/{run["id"]}"' in html
    assert "<li>About is gone (new): expected status 404" in html

    ours = [r.getMessage() for r in caplog.records if not r.name.startswith("mail.")]
    assert ours and LOGIN[1] not in "\n".join(ours) and LOGIN[1] not in str(delivery)


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")  # it is TLS
@pytest.mark.parametrize("server", ["implicit tls", "no starttls"])
async def test_email_over_tls_and_refusing_to_send_in_the_clear(
    tmp_path: Path, browsers: Browsers, server: str
) -> None:
    certificate = self_signed_certificate(tmp_path)
    if server == "implicit tls":
        mail = MailReceiver(certificate=certificate, implicit_tls=True, login=LOGIN)
        extra = {"tls": True, "starttls": False, "username": LOGIN[0], "password": LOGIN[1]}
    else:
        mail = MailReceiver()  # offers no STARTTLS: the password must not go in the clear
        extra = {"username": LOGIN[0], "password": LOGIN[1]}
    port = await mail.start()
    smtp = smtp_settings(port, cafile=str(certificate[0]), **extra)
    try:
        async with running(make_config(tmp_path / "data", notifications=smtp), browsers) as daemon:
            hook = await webhook(daemon, "mailto:ops@example.test", format="email")
            delivery = (await daemon.call("POST", f"/webhooks/{hook['id']}/test")).data
    finally:
        await mail.stop()
    if server == "implicit tls":
        assert delivery["status"] == "delivered", delivery
        [got] = mail.received
        assert got.login == LOGIN[0] and got.recipients == ["ops@example.test"]
        assert got.message["Subject"].startswith("[aegisd] aegisd test message for webhook")
    else:
        assert delivery["status"] == "pending" and mail.offered == []
        assert "STARTTLS" in delivery["error"]


async def test_bad_notification_webhooks_are_refused_and_change_nothing(
    daemon: Daemon, tmp_path: Path, browsers: Browsers
) -> None:
    # Without [notifications.smtp], no email webhook.
    answer = await daemon.call(
        "POST", "/webhooks", json={"url": "mailto:qa@example.test", "format": "email"}
    )
    assert answer.status == 400 and answer.error["details"][0]["field"] == "format"
    assert "[notifications.smtp]" in answer.error["message"]
    hook = await webhook(daemon, "http://127.0.0.1:9/hook")
    change = {"url": "mailto:qa@example.test", "format": "email"}
    answer = await daemon.call("PUT", f"/webhooks/{hook['id']}", json=change)
    assert answer.status == 400 and answer.error["details"][0]["field"] == "format"
    assert (await daemon.call("GET", "/webhooks")).data == [
        {k: v for k, v in hook.items() if k != "secret"}
    ]

    smtp = smtp_settings(free_port())
    config = make_config(tmp_path / "mailing", notifications=smtp)
    async with running(config, browsers) as mailing:
        url = "http://127.0.0.1:9/hook"
        for body, field in [
            ({"url": "mailto:", "format": "email"}, "url"),
            ({"url": "mailto:not-an-address", "format": "email"}, "url"),
            ({"url": "mailto:qa@example.test,,dev@example.test", "format": "email"}, "url"),
            ({"url": "mailto:qa@example.test?subject=hi", "format": "email"}, "url"),
            ({"url": url, "format": "email"}, "url"),
            ({"url": "mailto:qa@example.test"}, "url"),  # format json needs http(s)
            ({"url": "mailto:qa@example.test", "format": "slack"}, "url"),
            ({"url": url, "format": "msteams"}, "format"),
        ]:
            answer = await mailing.call("POST", "/webhooks", json=body)
            assert answer.status == 400, body
            assert answer.error["details"][0]["field"] == field, (body, answer.error)
        assert (await mailing.call("GET", "/webhooks")).data == []

        email = await webhook(mailing, "mailto:QA@example.test,dev@example.test,QA@example.test",
                              format="email")  # fmt: skip
        assert email["url"] == "mailto:QA@example.test,dev@example.test"
        for change, field in [
            ({"format": "json"}, "url"),
            ({"url": "https://hooks.example.test/x"}, "url"),
            ({"url": "mailto:nobody"}, "url"),
            ({"format": "discord"}, "url"),
        ]:
            answer = await mailing.call("PUT", f"/webhooks/{email['id']}", json=change)
            assert answer.status == 400 and answer.error["details"][0]["field"] == field, change
        kept = (await mailing.call("GET", f"/webhooks/{email['id']}")).data
        assert (kept["url"], kept["format"]) == (email["url"], "email")
        switched = await mailing.call(
            "PUT", f"/webhooks/{email['id']}", json={"format": "teams", "url": url}
        )
        assert switched.status == 200 and switched.data["format"] == "teams"


async def test_a_pending_email_is_sent_after_a_restart(spawn: Spawn, tmp_path: Path) -> None:
    mail = MailReceiver(refuse=1000)
    port = await mail.start()
    env = {
        **UNLIMITED,
        "AEGISD_WEBHOOKS__RETRY_BACKOFF_S": "1",
        "AEGISD_NOTIFICATIONS__SMTP__HOST": "127.0.0.1",
        "AEGISD_NOTIFICATIONS__SMTP__PORT": str(port),
        "AEGISD_NOTIFICATIONS__SMTP__STARTTLS": "false",
        "AEGISD_NOTIFICATIONS__SMTP__FROM": "aegisd@example.test",
    }
    try:
        daemon = spawn(tmp_path / "data", env=env)
        await daemon.start()
        key = daemon.admin_key
        async with daemon.api(key) as http:
            body = {"url": "mailto:ops@example.test", "format": "email"}
            async with http.post("webhooks", json=body) as response:
                hook = (await response.json())["data"]
            async with http.post(f"webhooks/{hook['id']}/test") as response:
                pending = (await response.json())["data"]
        assert pending["status"] == "pending" and pending["status_code"] == 451
        daemon.kill()
        mail.refuse = 0

        restarted = spawn(tmp_path / "data", env=env)
        await restarted.start()
        async with restarted.api(key) as http:
            [delivery] = await poll(
                http,
                f"webhooks/{hook['id']}/deliveries",
                lambda items: bool(items) and items[0]["status"] != "pending",
            )
        assert delivery["id"] == pending["id"] and delivery["status"] == "delivered"
        [got] = mail.received
        assert got.message["Message-ID"] == f"<{pending['id']}@aegisd>"
        assert restarted.stop() == 0
    finally:
        await mail.stop()
