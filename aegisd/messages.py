"""Notification messages: an event as Slack, Discord, Microsoft Teams and email show it.

Each is drawn from one :class:`Summary` (:func:`summarize`): the title, the counts,
the failed cases with their classification (or, for a run the site was down for,
that one line), and a link to the dashboard's page of the run or crawl. They are
built from the event's stored ``data`` when a delivery is attempted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate
from html import escape
from typing import Any

from aegisd.links import dashboard_url
from aegisd.triage import site_down

TEST_EVENT = "webhook.test"
LISTED_FAILURES = 10
"""Failed cases a message lists by name; it says how many more there are."""

_DISCORD_COLOURS = {"passed": 0x2EB67D, "completed": 0x2EB67D, "failed": 0xE01E5A,
                    "error": 0xECB22E, "cancelled": 0x8D8D8D}  # fmt: skip
_TEAMS_COLOURS = {"passed": "Good", "completed": "Good", "failed": "Attention",
                  "error": "Warning"}  # fmt: skip
_SLACK_MARKS = {"passed": ":white_check_mark:", "completed": ":white_check_mark:", "failed": ":x:",
                "error": ":warning:", "cancelled": ":no_entry_sign:"}  # fmt: skip
_DISCORD_MARKDOWN = re.compile(r"([\\*_`~|>\[\]])")
_MESSAGE_CHARS = 300


@dataclass(frozen=True)
class Failure:
    name: str
    classification: str | None
    message: str | None


@dataclass(frozen=True)
class Summary:
    """What every format says about one event."""

    event: str
    title: str
    status: str
    subject: str | None = None
    """The run's or crawl's id."""
    counts: dict[str, int] = field(default_factory=dict)
    facts: dict[str, str] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    unlisted: int = 0
    """Failed cases beyond those in ``failures``."""
    error: str | None = None
    link: str | None = None
    link_label: str = ""
    report_url: str | None = None
    when: str | None = None

    @property
    def headline(self) -> str:
        """The title with the counts: ``Run failed: Shop (11 passed, 1 failed, ...)``."""
        counts = ", ".join(f"{value} {name}" for name, value in self.counts.items())
        return f"{self.title} ({counts})" if counts else self.title


def _seconds(duration_ms: int | None) -> str:
    return "-" if duration_ms is None else f"{duration_ms / 1000:.1f} s"


def _shorten(text: str | None) -> str | None:
    if text is None:
        return None
    text = " ".join(text.split())
    return text if len(text) <= _MESSAGE_CHARS else text[: _MESSAGE_CHARS - 1] + "…"


def failures(data: dict[str, Any], limit: int = LISTED_FAILURES) -> tuple[list[Failure], int]:
    """The first ``limit`` failed cases of the run ``data`` (none when the site was down)
    and how many more failed."""
    if site_down(data):
        return [], 0
    failed = data.get("failed_cases") or []
    listed = [
        Failure(case["name"], case["classification"], _shorten(case["error"]))
        for case in failed[:limit]
    ]
    return listed, data["failed"] - len(listed)


def summarize(event: str, data: dict[str, Any], base_url: str) -> Summary:
    """The facts of ``event`` (its stored ``data``) every format shows."""
    if event == TEST_EVENT:
        return Summary(event, f"aegisd test message for webhook {data['webhook_id']}", "passed")
    facts = {"Duration": _seconds(data["duration"])}
    if event.startswith("run."):
        listed, unlisted = failures(data)
        return Summary(
            event,
            f"Run {data['status']}: {data['suite_name']}",
            data["status"],
            data["id"],
            counts={key: data[key] for key in ("passed", "failed", "skipped", "flaky")},
            facts={"Browser": data["browser"], "Base URL": data["base_url"], **facts},
            failures=listed,
            unlisted=unlisted,
            error=data["error"],
            link=dashboard_url(base_url, "runs", data["id"]),
            link_label="Open the run",
            report_url=data["report_url"],
            when=data["completed_at"],
        )
    return Summary(
        event,
        f"Crawl {data['status']}: {data['start_url']}",
        data["status"],
        data["id"],
        counts={
            "pages": data["pages_crawled"],
            "broken links": data["broken_links_count"],
            "console errors": data["console_errors_count"],
        },
        facts={"Suite": data["suite_id"] or "none", **facts},
        error=data["error"],
        link=dashboard_url(base_url, "crawls", data["id"]),
        link_label="Open the crawl",
        when=data["completed_at"],
    )


def _line(failure: Failure) -> str:
    label = failure.classification or "unclassified"
    return f"{failure.name} ({label})" + (f": {failure.message}" if failure.message else "")


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _mrkdwn(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": text}


def slack_message(summary: Summary) -> dict[str, Any]:
    """A Slack incoming-webhook message: ``text`` (the notification) and ``blocks`` (the
    title, the counts and facts as fields, the error, the failed cases and the links)."""
    if summary.event == TEST_EVENT:
        text = _slack_escape(summary.title)
        return {"text": text, "blocks": [{"type": "section", "text": _mrkdwn(text)}]}
    mark = _SLACK_MARKS.get(summary.status, ":grey_question:")
    fields = {**{name.capitalize(): value for name, value in summary.counts.items()},
              **summary.facts}  # fmt: skip
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": _mrkdwn(f"{mark} *{_slack_escape(summary.title)}*")},
        {
            "type": "section",
            "fields": [
                _mrkdwn(f"*{_slack_escape(name)}*\n{_slack_escape(str(value))}")
                for name, value in fields.items()
            ][:10],
        },
    ]
    if summary.error:
        error = _slack_escape(summary.error[:2000])
        blocks.append({"type": "section", "text": _mrkdwn(f"> {error}")})
    if summary.failures:
        lines = [
            f"• {_slack_escape(failure.name)} (`{failure.classification or 'unclassified'}`)"
            for failure in summary.failures
        ]
        lines += [f"… and {summary.unlisted} more"] if summary.unlisted else []
        blocks.append({"type": "section", "text": _mrkdwn("\n".join(lines)[:2000])})
    links = [
        f"<{url}|{label}>"
        for label, url in ((summary.link_label, summary.link), ("report", summary.report_url))
        if url
    ]
    context = " · ".join([*links, f"`{summary.subject}`", summary.event])
    blocks.append({"type": "context", "elements": [_mrkdwn(context)]})
    return {"text": f"{mark} {_slack_escape(summary.headline)}", "blocks": blocks}


def _discord_escape(text: str) -> str:
    return _DISCORD_MARKDOWN.sub(r"\\\1", text)


def discord_message(summary: Summary) -> dict[str, Any]:
    """A Discord webhook message: one embed with the counts as fields, the failures in the
    description and the dashboard link as the embed's URL. Nobody is mentioned."""
    lines = [f"> {_discord_escape(summary.error)}"] if summary.error else []
    if summary.failures:
        lines.append("**Failed cases**")
        lines += [f"• {_discord_escape(_line(failure))}" for failure in summary.failures]
        if summary.unlisted:
            lines.append(f"… and {summary.unlisted} more")
    if summary.report_url:
        lines.append(f"[HTML report]({summary.report_url})")
    embed: dict[str, Any] = {
        "title": summary.title[:256],
        "color": _DISCORD_COLOURS.get(summary.status, 0x8D8D8D),
        "fields": [
            {"name": name.capitalize(), "value": str(value)[:1024], "inline": True}
            for name, value in {**summary.counts, **summary.facts}.items()
        ][:25],
        "footer": {"text": summary.event},
    }
    if lines:
        embed["description"] = "\n".join(lines)[:4096]
    if summary.link:
        embed["url"] = summary.link
    if summary.when:
        embed["timestamp"] = summary.when
    return {
        "content": summary.headline[:2000],
        "embeds": [embed],
        "allowed_mentions": {"parse": []},
    }


def _text_block(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": text, "wrap": True, **style}


def teams_message(summary: Summary) -> dict[str, Any]:
    """A Microsoft Teams message holding an Adaptive Card (1.4), the shape incoming
    webhooks and Workflows' "when a Teams webhook request is received" both take."""
    colour = _TEAMS_COLOURS.get(summary.status, "Default")
    body: list[dict[str, Any]] = [
        _text_block(summary.title, weight="Bolder", size="Medium", color=colour)
    ]
    facts = {**{name.capitalize(): str(value) for name, value in summary.counts.items()},
             **summary.facts}  # fmt: skip
    if facts:
        body.append(
            {"type": "FactSet", "facts": [{"title": k, "value": v} for k, v in facts.items()]}
        )
    if summary.error:
        body.append(_text_block(summary.error, color="Attention"))
    if summary.failures:
        body.append(_text_block("Failed cases", weight="Bolder", spacing="Medium"))
        body += [_text_block(f"- {_line(failure)}", spacing="None") for failure in summary.failures]
        if summary.unlisted:
            body.append(_text_block(f"… and {summary.unlisted} more", isSubtle=True))
    actions = [
        {"type": "Action.OpenUrl", "title": title, "url": url}
        for title, url in ((summary.link_label, summary.link), ("HTML report", summary.report_url))
        if url
    ]
    card: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "msteams": {"width": "Full"},
        "body": body,
    }
    if actions:
        card["actions"] = actions
    attachment = {
        "contentType": "application/vnd.microsoft.card.adaptive",
        "contentUrl": None,
        "content": card,
    }
    return {"type": "message", "summary": summary.headline, "attachments": [attachment]}


def _plain(summary: Summary) -> str:
    lines = [summary.title, ""]
    lines += [f"{name.capitalize()}: {value}" for name, value in summary.counts.items()]
    lines += [f"{name}: {value}" for name, value in summary.facts.items()]
    if summary.error:
        lines += ["", summary.error]
    if summary.failures:
        lines += ["", "Failed cases:"] + [f"- {_line(failure)}" for failure in summary.failures]
        if summary.unlisted:
            lines.append(f"… and {summary.unlisted} more")
    links = [(summary.link_label, summary.link), ("HTML report", summary.report_url)]
    lines += [""] + [f"{label}: {url}" for label, url in links if url]
    return "\n".join(lines).rstrip() + "\n"


def _html(summary: Summary) -> str:
    rows = "".join(
        f"<tr><th align=left>{escape(str(name))}</th><td>{escape(str(value))}</td></tr>"
        for name, value in {
            **{n.capitalize(): v for n, v in summary.counts.items()},
            **summary.facts,
        }.items()
    )
    parts = [f"<h2>{escape(summary.title)}</h2>", f"<table>{rows}</table>" if rows else ""]
    if summary.error:
        parts.append(f"<p><strong>{escape(summary.error)}</strong></p>")
    if summary.failures:
        items = "".join(f"<li>{escape(_line(failure))}</li>" for failure in summary.failures)
        more = f"<li>… and {summary.unlisted} more</li>" if summary.unlisted else ""
        parts.append(f"<h3>Failed cases</h3><ul>{items}{more}</ul>")
    links = [(summary.link_label, summary.link), ("HTML report", summary.report_url)]
    parts += [f'<p><a href="{escape(url)}">{escape(label)}</a></p>' for label, url in links if url]
    return f"<!doctype html><html><body>{''.join(parts)}</body></html>"


def email_message(
    summary: Summary, *, sender: str, recipients: list[str], delivery_id: str
) -> EmailMessage:
    """The event as an email (plain text and HTML). Every attempt of a delivery has the
    same ``Message-ID``, so a mail client shows a retried one once."""
    message = EmailMessage()
    message["Subject"] = f"[aegisd] {summary.headline}"
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = f"<{delivery_id}@aegisd>"
    message["X-Aegis-Event"] = summary.event
    message["X-Aegis-Delivery"] = delivery_id
    message.set_content(_plain(summary))
    message.add_alternative(_html(summary), subtype="html")
    return message
