"""Forms: a posted form read into an API request model, its errors put at the fields.

A form's fields are named by the dotted path the request model (and its
``VALIDATION_ERROR`` details) use, e.g. ``settings.max_pages``, so a form is read
into the same nested data a JSON body would hold and validated by the same
pydantic model; each error detail is shown at the field it names (or the field
holding it: ``settings.login.steps.1.url`` at ``settings.login``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from multidict import MultiMapping
from pydantic import BaseModel, ValidationError

from aegisd.errors import ValidationFailed

Model = TypeVar("Model", bound=BaseModel)
Posted = MultiMapping[Any]
FieldKind = Literal["text", "lines", "json", "headers", "checkbox", "choices"]
"""How a field is written: one line of text; one item per line; JSON; ``Name: value``
lines; a checkbox; several checkboxes of one name. Blank lines and headers fields are
an empty list and mapping."""


@dataclass(frozen=True)
class FormField:
    """One field: its dotted name, how it is written, what a blank value means (``omit``:
    not sent, so the model's default applies; ``null``: sent as null), and whether it
    goes to the model at all (``sent=False``: the handler reads it itself)."""

    name: str
    kind: FieldKind = "text"
    blank: Literal["omit", "null"] = "omit"
    sent: bool = True


@dataclass
class Form:
    """The fields of one form, and which API field names are shown at which of them."""

    fields: tuple[FormField, ...]
    aliases: Mapping[str, str] = field(default_factory=dict)

    def read(self, posted: Posted) -> tuple[dict[str, Any], list[dict[str, str]]]:
        """The posted values as the nested data of a JSON body, and the fields that could
        not be read (not JSON, a header without a colon) as error details."""
        data: dict[str, Any] = {}
        problems = []
        for spec in self.fields:
            if not spec.sent:
                continue
            try:
                value = _value(spec, posted)
            except ValueError as exc:
                problems.append({"field": spec.name, "message": str(exc)})
                continue
            if value is not _OMIT:
                _put(data, spec.name, value)
        return data, problems

    def validate(self, model: type[Model], posted: Posted, **extra: Any) -> Model:
        """The posted form (and ``extra`` fields) as ``model``; ``ValidationFailed`` naming
        each wrong field, as the API's, those that could not be read among them."""
        data, problems = self.read(posted)
        unread = {problem["field"] for problem in problems}
        try:
            validated = model.model_validate({**data, **extra})
        except ValidationError as exc:
            problems += [
                detail
                for detail in ValidationFailed.from_pydantic(exc).details or []
                if detail["field"] not in unread
            ]
        if problems:
            message = "; ".join(f"invalid {p['field']}: {p['message']}" for p in problems)
            raise ValidationFailed(message, problems)
        return validated

    def errors(self, failed: ValidationFailed) -> dict[str, list[str]]:
        """Each error's message under the form field it belongs to (``""``: the form's)."""
        names = sorted((spec.name for spec in self.fields), key=len, reverse=True)
        errors: dict[str, list[str]] = {}
        for detail in failed.details or [{"field": "", "message": failed.message}]:
            path = self.aliases.get(detail["field"], detail["field"])
            owner = next((n for n in names if path == n or path.startswith(n + ".")), "")
            message = detail["message"].removeprefix("Value error, ")  # pydantic's wording
            errors.setdefault(owner, []).append(message)
        return errors

    def values(self, posted: Posted) -> dict[str, Any]:
        """The posted values as the form's inputs show them again."""
        shown: dict[str, Any] = {}
        for spec in self.fields:
            if spec.kind == "choices":
                shown[spec.name] = posted.getall(spec.name, [])
            elif spec.kind == "checkbox":
                shown[spec.name] = spec.name in posted
            else:
                shown[spec.name] = posted.get(spec.name, "")
        return shown

    def values_of(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """A stored resource (nested data, as the API shows it) as the form's inputs."""
        shown: dict[str, Any] = {}
        for spec in self.fields:
            value = _get(data, spec.name)
            shown[spec.name] = _written(spec.kind, value)
        return shown


class _Omit:
    pass


_OMIT = _Omit()


def _value(spec: FormField, posted: Posted) -> Any:
    if spec.kind == "checkbox":
        return spec.name in posted
    if spec.kind == "choices":
        return posted.getall(spec.name, [])
    raw = posted.get(spec.name)
    text = raw.strip() if isinstance(raw, str) else ""
    if not text and spec.kind in ("lines", "headers"):
        return [] if spec.kind == "lines" else {}  # an emptied list is an empty one
    if not text:
        return _OMIT if spec.blank == "omit" else None
    if spec.kind == "lines":
        return [line.strip() for line in text.splitlines() if line.strip()]
    if spec.kind == "headers":
        return _headers(text)
    if spec.kind == "json":
        try:
            return json.loads(text)
        except ValueError as exc:
            raise ValueError(f"not valid JSON: {exc}") from None
    return text


def _headers(text: str) -> dict[str, str]:
    headers = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        name, colon, value = line.partition(":")
        if not colon or not name.strip():
            raise ValueError(f"line {number}: write each header as Name: value")
        headers[name.strip()] = value.strip()
    return headers


def _written(kind: FieldKind, value: Any) -> Any:
    if kind == "checkbox":
        return bool(value)
    if kind == "choices":
        return list(value or [])
    if value is None:
        return ""
    if isinstance(value, bool):  # a choice of "true" and "false"
        return "true" if value else "false"
    if kind == "lines":
        return "\n".join(value)
    if kind == "headers":
        return "\n".join(f"{name}: {text}" for name, text in value.items())
    if kind == "json":
        return json.dumps(value, indent=2)
    return str(value)


def _put(data: dict[str, Any], name: str, value: Any) -> None:
    *parents, last = name.split(".")
    for part in parents:
        data = data.setdefault(part, {})
    data[last] = value


def _get(data: Mapping[str, Any], name: str) -> Any:
    value: Any = data
    for part in name.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value
