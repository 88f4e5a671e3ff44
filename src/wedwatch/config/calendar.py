"""Where the weddings come from, and how entries of any JSON shape map onto calendar fields."""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from wedwatch.config._base import Seconds, Strict
from wedwatch.probing.jsonpaths import compile_path
from wedwatch.probing.templates import parse_template

__all__ = ["CalendarConfig", "CALENDAR_FIELDS"]

# The fields of a calendar entry (wedwatch.calendar.model.Wedding); a test keeps the two equal.
CALENDAR_FIELDS: tuple[str, ...] = ("id", "ceremony_at", "timezone", "guests", "vendors", "name", "venue")
# The only template the calendar URL takes; it is filled from platform.base_url when the config loads.
_URL_TEMPLATES = frozenset({"base_url"})


class CalendarConfig(Strict):
    """Where the weddings come from: exactly one of file, store, url."""

    file: str | None = None
    store: bool = False
    url: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    refresh_interval_seconds: Seconds = 60.0
    # RFC 9535 JSONPath to the entries of a file or URL calendar; unset: a `weddings` list or a
    # top-level list (`$.weddings[*]` or `$[*]`).
    items: str | None = None
    # A JSONPath per calendar field, relative to one entry; a field not named here is read from the
    # entry's key of the same name.
    fields: dict[str, str] = Field(default_factory=dict)

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        unknown = sorted(parse_template(value).names - _URL_TEMPLATES)
        if unknown:
            raise ValueError(f"unknown template {{{unknown[0]}}}; the calendar URL takes only {{base_url}}")
        if not value.startswith(("http://", "https://", "{base_url}")):
            raise ValueError(f"must start with http://, https:// or {{base_url}}, got {value!r}")
        return value

    @field_validator("items")
    @classmethod
    def _check_items(cls, value: str | None) -> str | None:
        if value is not None:
            compile_path(value)
        return value

    @field_validator("fields")
    @classmethod
    def _check_fields(cls, value: dict[str, str]) -> dict[str, str]:
        for name, path in value.items():
            if name not in CALENDAR_FIELDS:
                raise ValueError(f"{name}: unknown calendar field (known: {', '.join(CALENDAR_FIELDS)})")
            try:
                compile_path(path)
            except ValueError as exc:
                raise ValueError(f"{name}: {exc}") from None
        return value

    @model_validator(mode="after")
    def _one_source(self) -> CalendarConfig:
        chosen = [name for name, on in (("file", self.file), ("store", self.store), ("url", self.url)) if on]
        if len(chosen) > 1:
            raise ValueError(f"choose one calendar source, not {' and '.join(chosen)}")
        if not (self.file or self.url):
            for name in ("items", "fields"):
                if name in self.model_fields_set and getattr(self, name):
                    raise ValueError(f"{name}: applies to calendar.file and calendar.url only")
        return self

    @property
    def source(self) -> str:
        """The configured source's name, `none` when nothing is configured."""
        if self.file:
            return "file"
        if self.store:
            return "store"
        if self.url:
            return "url"
        return "none"

    def url_for(self, base_url: str) -> str | None:
        """The calendar URL with `{base_url}` filled in (`{{` and `}}` become single braces)."""
        if self.url is None:
            return None
        return parse_template(self.url).render_str({"base_url": base_url})
