"""What every action shares: its context, its result, failures, and safe templates."""

from __future__ import annotations

import logging
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import aiohttp

from wedwatch.config import Config

if TYPE_CHECKING:
    from wedwatch.store import Store

__all__ = ["ActionContext", "ActionResult", "ActionFailure", "render", "render_json", "TemplateError"]

log = logging.getLogger("wedwatch.receiver.actions")


class ActionFailure(Exception):
    """An action did not do its job; `retryable` says whether trying again may help."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


class TemplateError(ActionFailure):
    """A template names a field that does not exist or uses more than a plain field."""

    def __init__(self, message: str) -> None:
        super().__init__(message, retryable=False)


@dataclass(frozen=True, slots=True)
class ActionResult:
    """What an action did, stored on its outbox row."""

    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class ActionContext:
    """Everything one action run may use."""

    name: str
    definition: Any  # the action's config model (None for a built-in without a definition)
    params: Mapping[str, Any]  # the incident: alertname, severity, strategy, wedding_id, labels...
    config: Config
    session: aiohttp.ClientSession
    store: Store
    action_id: int
    now: datetime

    @property
    def values(self) -> dict[str, str]:
        """Template values: the incident's fields and its labels (`{label_<name>}`)."""
        flat = {k: str(v) for k, v in self.params.items() if isinstance(v, str | int | float) and not isinstance(v, bool)}
        for key, value in dict(self.params.get("labels") or {}).items():
            flat[f"label_{key}"] = str(value)
        flat.setdefault("wedding_id", "")
        return flat


class _PlainFields(string.Formatter):
    """str.format restricted to `{name}`: no attribute access, indexing or conversions."""

    def get_field(self, field_name: str, args: Any, kwargs: Any) -> tuple[Any, str]:
        if not field_name.isidentifier():
            raise TemplateError(f"template field {{{field_name}}} is not a plain name")
        if field_name not in kwargs:
            if field_name.startswith("label_"):
                return "", field_name  # alerts differ in their labels: a missing one is empty
            raise TemplateError(f"template field {{{field_name}}} is unknown (known: {', '.join(sorted(kwargs))})")
        return kwargs[field_name], field_name

    def convert_field(self, value: Any, conversion: str | None) -> Any:
        if conversion is not None:
            raise TemplateError("template fields take no conversion")
        return value

    def format_field(self, value: Any, format_spec: str) -> str:
        if format_spec:
            raise TemplateError("template fields take no format spec")
        return str(value)


_FORMATTER = _PlainFields()


def render(template: str, values: Mapping[str, str]) -> str:
    """Fill `{name}` fields; the result is one string whatever the values hold."""
    try:
        return _FORMATTER.vformat(template, (), dict(values))
    except (ValueError, IndexError) as exc:
        raise TemplateError(f"bad template {template!r}: {exc}") from None


def render_json(document: Any, values: Mapping[str, str]) -> Any:
    """Fill templates in every string of a JSON document; values stay strings, so the encoder quotes them."""
    if isinstance(document, str):
        return render(document, values)
    if isinstance(document, dict):
        return {render(str(k), values): render_json(v, values) for k, v in document.items()}
    if isinstance(document, list):
        return [render_json(v, values) for v in document]
    return document
