"""Webhooks: signed POSTs of run and crawl events, and their delivery log (DESIGN §3.4).

A webhook without ``project_id`` gets every project's events and is seen only by
keys not bound to a project; a bound key's webhooks are bound to its project. An
``email`` webhook's ``url`` is ``mailto:a@b,c@d``; it needs ``[notifications.smtp]``.
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any, Literal

from aiohttp import web
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from aegisd.api.access import owned, visible_project
from aegisd.api.projects import Deleted, load_project
from aegisd.api.schedules import referenced
from aegisd.config import Config
from aegisd.envelope import Page, PageQuery
from aegisd.errors import NotFound, ValidationFailed
from aegisd.mail import mailto_url
from aegisd.messages import TEST_EVENT
from aegisd.project_settings import http_url
from aegisd.routing import Router
from aegisd.state import CONFIG, DB, PRINCIPAL, WEBHOOK_SENDER
from aegisd.webhooks import EVENTS, EventName
from storage.webhooks import NewEvent

router = Router()

DeliveryStatus = Literal["pending", "delivered", "failed"]
Format = Literal["json", "slack", "discord", "teams", "email"]
_SECRET_PREFIX = "whsec_"


def _distinct(events: list[EventName]) -> list[EventName]:
    return list(dict.fromkeys(events))


def _target(url: str) -> str:
    """An http(s) URL, or the ``mailto:`` URL of an email webhook."""
    if url.strip().lower().startswith("mailto:"):
        return mailto_url(url)
    return http_url(url)


Target = Annotated[
    str,
    AfterValidator(_target),
    Field(description="Where to send: an http(s) URL, or mailto:a@b,c@d for format email."),
]
Events = Annotated[
    list[EventName], AfterValidator(_distinct), Field(min_length=1, description="Events to send.")
]
Secret = Annotated[
    str, Field(min_length=16, max_length=256, description="HMAC-SHA256 key of the signature.")
]


class WebhookCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: Target
    events: Events = Field(default_factory=lambda: list(EVENTS))
    secret: Secret | None = Field(None, description="Default: generated; answered once.")
    format: Format = Field(
        "json",
        description="json: the signed event; slack, discord, teams: a chat message; "
        "email: a mail through [notifications.smtp].",
    )
    project_id: str | None = Field(
        None, description="Only this project's events. Default: a bound key's project, else all."
    )
    enabled: bool = True


class WebhookUpdate(BaseModel):
    """Fields to change; ``project_id: null`` makes the webhook get every project's events."""

    model_config = ConfigDict(extra="forbid")

    url: Target | None = None
    events: Events | None = None
    secret: Secret | None = None
    format: Format | None = None
    project_id: str | None = None
    enabled: bool | None = None


class WebhookQuery(PageQuery):
    project_id: str | None = None


class DeliveryQuery(PageQuery):
    status: DeliveryStatus | None = None


class Webhook(BaseModel):
    id: str
    url: str
    events: list[str]
    format: Format
    project_id: str | None
    enabled: bool
    created_at: str
    updated_at: str


class NewWebhook(Webhook):
    secret: str = Field(description="Shown this once: keep it to check signatures.")


class DeliveryAttempt(BaseModel):
    attempt: int
    status_code: int | None
    error: str | None
    duration: int
    attempted_at: str


class Delivery(BaseModel):
    """One event on its way to one webhook, with the outcome of its last attempt."""

    id: str = Field(description="Sent as X-Aegis-Delivery, the same on every attempt.")
    webhook_id: str
    event_id: str
    event: str
    status: DeliveryStatus
    attempts: int = Field(description="Attempts made so far.")
    status_code: int | None = Field(description="The last attempt's HTTP status, if answered.")
    error: str | None = Field(description="Why the last attempt failed.")
    duration: int | None = Field(description="The last attempt's duration.")
    next_retry_at: str | None = Field(description="When the next attempt is due (pending).")
    created_at: str
    completed_at: str | None
    history: list[DeliveryAttempt]


async def load_webhook(request: web.Request, webhook_id: str) -> dict[str, Any]:
    """The webhook's row if it exists and the key may see it; 404/403 otherwise."""
    return owned(request, await request.app[DB].get_webhook(webhook_id), "webhook", webhook_id)


def _check_target(config: Config, url: str, format: str) -> None:
    """An email webhook mails ``mailto:`` recipients through a configured server; the
    others POST to http(s) URLs."""
    mailto = url.startswith("mailto:")
    if format == "email" and config.notifications.smtp is None:
        raise ValidationFailed.field(
            "format", "email needs a mail server: set [notifications.smtp] in the config"
        )
    if format == "email" and not mailto:
        raise ValidationFailed.field("url", "an email webhook's url is mailto:address[,...]")
    if format != "email" and mailto:
        raise ValidationFailed.field("url", f"a {format} webhook needs an http(s) URL")


async def _project_filter(request: web.Request, project_id: str | None) -> str | None:
    """Check the ``project_id`` a webhook is to be bound to (None: every project)."""
    if project_id is None:
        request[PRINCIPAL].check_project(None)
        return None
    project = await referenced("project_id", load_project(request, project_id))
    return str(project["id"])


@router.get("/webhooks")
async def list_webhooks(request: web.Request, query: WebhookQuery) -> Page[Webhook]:
    """List webhooks, newest first; filter by project."""
    rows, total = await request.app[DB].list_webhooks(
        query.size, query.offset, project_id=visible_project(request, query.project_id)
    )
    return Page([Webhook.model_validate(row) for row in rows], total, query)


@router.get("/webhooks/{webhook_id}")
async def get_webhook(request: web.Request, webhook_id: str) -> Webhook:
    """Get one webhook (without its secret)."""
    return Webhook.model_validate(await load_webhook(request, webhook_id))


@router.post("/webhooks", status=201)
async def create_webhook(request: web.Request, body: WebhookCreate) -> NewWebhook:
    """Create a webhook; the answer shows its secret, this once."""
    _check_target(request.app[CONFIG], body.url, body.format)
    project_id = await _project_filter(request, body.project_id or request[PRINCIPAL].project_id)
    secret = body.secret or _SECRET_PREFIX + secrets.token_urlsafe(24)
    row = await request.app[DB].create_webhook(
        **{**body.model_dump(), "secret": secret, "project_id": project_id}
    )
    return NewWebhook.model_validate(row)


@router.put("/webhooks/{webhook_id}")
async def update_webhook(request: web.Request, webhook_id: str, body: WebhookUpdate) -> Webhook:
    """Change some of a webhook's fields (a new ``secret`` replaces the old one)."""
    webhook = await load_webhook(request, webhook_id)
    changes = body.model_dump(exclude_none=True)
    merged = {**webhook, **changes}
    _check_target(request.app[CONFIG], merged["url"], merged["format"])
    if "project_id" in body.model_fields_set:
        changes["project_id"] = await _project_filter(request, body.project_id)
    row = await request.app[DB].update_webhook(webhook_id, changes)
    if row is None:
        raise NotFound(f"webhook {webhook_id} not found")
    return Webhook.model_validate(row)


@router.delete("/webhooks/{webhook_id}")
async def delete_webhook(request: web.Request, webhook_id: str) -> Deleted:
    """Delete a webhook and its deliveries; pending ones are not sent."""
    await load_webhook(request, webhook_id)
    await request.app[DB].delete_webhook(webhook_id)
    return Deleted(id=webhook_id)


@router.get("/webhooks/{webhook_id}/deliveries")
async def list_deliveries(
    request: web.Request, webhook_id: str, query: DeliveryQuery
) -> Page[Delivery]:
    """List a webhook's deliveries, newest first, each with its attempts."""
    await load_webhook(request, webhook_id)
    rows, total = await request.app[DB].list_deliveries(
        webhook_id, query.size, query.offset, status=query.status
    )
    return Page([Delivery.model_validate(row) for row in rows], total, query)


@router.post("/webhooks/{webhook_id}/test")
async def send_test_event(request: web.Request, webhook_id: str) -> Delivery:
    """Send a ``webhook.test`` event now; the delivery after its first attempt.

    A failed test delivery is retried like any other.
    """
    webhook = await load_webhook(request, webhook_id)
    data = {"webhook_id": webhook_id, "message": "a test event from aegisd"}
    db = request.app[DB]
    delivery_id = await db.queue_delivery(
        webhook_id, NewEvent(TEST_EVENT, webhook["project_id"], data)
    )
    await request.app[WEBHOOK_SENDER].send_now(delivery_id)
    return Delivery.model_validate(await db.get_delivery(delivery_id))
