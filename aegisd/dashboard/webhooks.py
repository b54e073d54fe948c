"""Webhooks: the list, create (the secret shown this once), edit, delete, and a webhook's
page with its deliveries log and a test send."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from aegisd.api import projects, webhooks
from aegisd.dashboard.forms import Form, FormField
from aegisd.dashboard.pages import PageRouter, call, page_number, redirect, render
from aegisd.envelope import PageQuery
from aegisd.errors import ValidationFailed
from aegisd.webhooks import EVENTS

pages = PageRouter()

_FIELDS = (
    FormField("url"),
    FormField("events", "choices"),
    FormField("format"),
    FormField("enabled", "checkbox"),
)
CREATE_FORM = Form((*_FIELDS, FormField("project_id"), FormField("secret")))
# Editing: "all projects" is sent as null; a blank secret keeps the current one.
EDIT_FORM = Form((*_FIELDS, FormField("project_id", blank="null"), FormField("secret")))
DELIVERIES_PER_PAGE = 25


async def _form_page(
    request: web.Request,
    form: Form,
    values: dict[str, Any],
    errors: dict[str, list[str]],
    webhook: Any = None,
    status: int = 200,
) -> web.Response:
    project_page = await call(request, projects.list_projects, query=PageQuery(limit=100))
    context = {
        "values": values,
        "errors": errors,
        "webhook": webhook,
        "events": EVENTS,
        "projects": project_page.items,
    }
    return await render(request, "webhooks/form.html", context, status=status, nav="webhooks")


async def _webhook_page(
    request: web.Request, webhook_id: str, secret: str | None = None
) -> web.Response:
    webhook = await call(request, webhooks.get_webhook, webhook_id=webhook_id)
    query = webhooks.DeliveryQuery(page=page_number(request), limit=DELIVERIES_PER_PAGE)
    deliveries = await call(request, webhooks.list_deliveries, webhook_id=webhook_id, query=query)
    project = None
    if webhook.project_id:
        project = await call(request, projects.get_project, project_id=webhook.project_id)
    context = {
        "webhook": webhook,
        "deliveries": deliveries.items,
        "pagination": deliveries,
        "secret": secret,
        "project": project,
    }
    return await render(request, "webhooks/detail.html", context, nav="webhooks")


@pages.get("/webhooks")
async def webhook_list(request: web.Request) -> web.StreamResponse:
    listed = await call(request, webhooks.list_webhooks, query=webhooks.WebhookQuery(limit=100))
    project_page = await call(request, projects.list_projects, query=PageQuery(limit=100))
    context = {
        "webhooks": listed.items,
        "total": listed.total,
        "names": {project.id: project.name for project in project_page.items},
    }
    return await render(request, "webhooks/list.html", context, nav="webhooks")


@pages.get("/webhooks/new")
async def new_webhook(request: web.Request) -> web.StreamResponse:
    values = {
        "url": "",
        "events": list(EVENTS),
        "format": "json",
        "enabled": True,
        "project_id": request.query.get("project_id", ""),
        "secret": "",
    }
    return await _form_page(request, CREATE_FORM, values, {})


@pages.post("/webhooks/new")
async def create_webhook(request: web.Request) -> web.StreamResponse:
    posted = await request.post()
    try:
        body = CREATE_FORM.validate(webhooks.WebhookCreate, posted)
        created = await call(request, webhooks.create_webhook, body=body)
    except ValidationFailed as failed:
        errors = CREATE_FORM.errors(failed)
        values = {**CREATE_FORM.values(posted), "secret": ""}  # a secret is never echoed
        return await _form_page(request, CREATE_FORM, values, errors, status=400)
    # The secret is on this answer only: it is never shown again.
    return await _webhook_page(request, created.id, secret=created.secret)


@pages.get("/webhooks/{webhook_id}")
async def webhook_page(request: web.Request) -> web.StreamResponse:
    return await _webhook_page(request, request.match_info["webhook_id"])


@pages.get("/webhooks/{webhook_id}/edit")
async def edit_webhook(request: web.Request) -> web.StreamResponse:
    webhook_id = request.match_info["webhook_id"]
    webhook = await call(request, webhooks.get_webhook, webhook_id=webhook_id)
    values = {**EDIT_FORM.values_of(webhook.model_dump()), "secret": ""}
    return await _form_page(request, EDIT_FORM, values, {}, webhook)


@pages.post("/webhooks/{webhook_id}/edit")
async def update_webhook(request: web.Request) -> web.StreamResponse:
    webhook_id = request.match_info["webhook_id"]
    webhook = await call(request, webhooks.get_webhook, webhook_id=webhook_id)
    posted = await request.post()
    try:
        body = EDIT_FORM.validate(webhooks.WebhookUpdate, posted)
        await call(request, webhooks.update_webhook, webhook_id=webhook_id, body=body)
    except ValidationFailed as failed:
        errors = EDIT_FORM.errors(failed)
        values = {**EDIT_FORM.values(posted), "secret": ""}
        return await _form_page(request, EDIT_FORM, values, errors, webhook, status=400)
    return redirect(f"/webhooks/{webhook_id}")


@pages.post("/webhooks/{webhook_id}/delete")
async def delete_webhook(request: web.Request) -> web.StreamResponse:
    await call(request, webhooks.delete_webhook, webhook_id=request.match_info["webhook_id"])
    return redirect("/webhooks")


@pages.post("/webhooks/{webhook_id}/test")
async def send_test(request: web.Request) -> web.StreamResponse:
    webhook_id = request.match_info["webhook_id"]
    await call(request, webhooks.send_test_event, webhook_id=webhook_id)
    return redirect(f"/webhooks/{webhook_id}")
