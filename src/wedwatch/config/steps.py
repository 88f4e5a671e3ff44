"""Steps of a configured operation (DESIGN.md section 2b): request, websocket, wait; expect, capture, until, record.

The models check what one step can check on its own (one kind per step, at most one body, valid
JSONPaths and regexes); `check_scopes` checks what needs the whole operation (templates name known
variables or earlier captures, a `wait` follows the step that opens its socket), and names the
step by index and name.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import Field, PositiveInt, field_validator, model_validator

from wedwatch.config._base import Seconds, Strict
from wedwatch.probing.jsonpaths import compile_path
from wedwatch.probing.templates import parse_json_template, parse_template

__all__ = [
    "Assertion",
    "Expect",
    "Until",
    "Upload",
    "RequestSpec",
    "WebsocketSpec",
    "WaitSpec",
    "Step",
    "RECORD_READINGS",
    "RUN_VARIABLES",
    "check_scopes",
    "step_label",
]

STEP_NAME = r"^[a-z][a-z0-9_]*$"
# What every template may name besides captures.
RUN_VARIABLES = ("base_url", "wedding_id", "guests", "vendors", "ceremony_at", "operation", "run_id")
# `record` keys -> the critical-path readings the exporter turns into gauges.
RECORD_READINGS = {
    "checked_in": "guests_checked_in",
    "expected": "guests_expected",
    "timeline_delay_seconds": "next_milestone_delay_seconds",
    "vendors_confirmed": "vendors_confirmed",
    "vendors_booked": "vendors_booked",
    "open_incidents": "open_incidents",
    "incident_response_seconds": "incident_response_seconds",
}
_CHECKS = ("count", "equals", "not_equals", "less_than", "greater_than", "matches", "exists", "max_age_seconds")
_NUMERIC_CHECKS = ("count", "less_than", "greater_than", "max_age_seconds")
_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _path(value: str) -> str:
    compile_path(value)
    return value


class Assertion(Strict):
    """One JSONPath assertion: exactly one check of the nodes `path` selects."""

    path: str
    count: int | str | None = None
    equals: Any = None
    not_equals: Any = None
    less_than: float | str | None = None
    greater_than: float | str | None = None
    matches: str | None = None
    exists: bool | None = None
    # The first node is a time (RFC 3339, or Unix seconds) no older than this many seconds when checked.
    max_age_seconds: float | str | None = None

    _check_path = field_validator("path")(classmethod(lambda cls, v: _path(v)))

    @field_validator("matches")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"invalid regular expression {value!r}: {exc}") from None
        return value

    @model_validator(mode="after")
    def _one_check(self) -> Assertion:
        given = [name for name in _CHECKS if name in self.model_fields_set]
        if len(given) != 1:
            shown = " and ".join(given) if given else "none"
            raise ValueError(f"an assertion takes exactly one of {', '.join(_CHECKS)} (got {shown})")
        expected = self.expected
        if given[0] in _NUMERIC_CHECKS and isinstance(expected, str):
            if not parse_template(expected).names and not _is_number(expected):
                raise ValueError(f"{given[0]}: {expected!r} is neither a number nor a template")
        return self

    @property
    def check(self) -> str:
        """The check this assertion makes."""
        return next(name for name in _CHECKS if name in self.model_fields_set)

    @property
    def expected(self) -> Any:
        """The value the check compares with."""
        return getattr(self, self.check)


class Expect(Strict):
    """What a step's answer must be: a status (default any 2xx) and assertions on its JSON."""

    status: list[Annotated[int, Field(ge=100, le=599)]] | None = None
    assert_: list[Assertion] = Field(default_factory=list, alias="assert")


class Until(Strict):
    """Repeat the step until `expect` holds (or the operation's deadline); `abort` fails it at once."""

    interval_seconds: Seconds = 0.05
    # An answer that can never turn good (a notification that bounced) fails the step with
    # reason assertion instead of polling on to the deadline.
    abort: list[Assertion] = Field(default_factory=list)


class Upload(Strict):
    """A generated file of random bytes (random so that nothing on the way can compress it)."""

    size_bytes: PositiveInt = 256 * 1024
    content_type: str = "application/octet-stream"
    # multipart/form-data with this field; none: the raw bytes are the body.
    field: str | None = None
    filename: str = "wedwatch-probe"


class RequestSpec(Strict):
    """One HTTP exchange."""

    method: str = "GET"
    url: str
    headers: dict[str, str] = Field(default_factory=dict)
    json_: Any = Field(default=None, alias="json")
    body: str | None = None
    upload: Upload | None = None

    @field_validator("method")
    @classmethod
    def _method(cls, value: str) -> str:
        if value.upper() not in _METHODS:
            raise ValueError(f"unknown method {value!r} (expected one of {', '.join(_METHODS)})")
        return value.upper()

    @model_validator(mode="after")
    def _one_body(self) -> RequestSpec:
        bodies = [name for name, field in (("json", "json_"), ("body", "body"), ("upload", "upload")) if field in self.model_fields_set]
        if len(bodies) > 1:
            raise ValueError(f"at most one body: json, body or upload (got {' and '.join(bodies)})")
        return self


class WebsocketSpec(Strict):
    """Open a websocket that stays open for later `wait` steps of the same run."""

    url: str
    socket: Annotated[str, Field(pattern=STEP_NAME)]
    headers: dict[str, str] = Field(default_factory=dict)
    send: list[Any] = Field(default_factory=list)  # JSON messages sent on open

    @field_validator("url")
    @classmethod
    def _scheme(cls, value: str) -> str:
        if not value.startswith(("ws://", "wss://", "http://", "https://", "{")):
            raise ValueError(f"must start with ws:// or wss:// (or be a template), got {value!r}")
        return value


class WaitSpec(Strict):
    """Wait for the next message on an open socket that satisfies `expect`."""

    socket: str


class Step(Strict):
    """One step: exactly one of request, websocket, wait."""

    name: Annotated[str, Field(pattern=STEP_NAME)] | None = None
    request: RequestSpec | None = None
    websocket: WebsocketSpec | None = None
    wait: WaitSpec | None = None
    expect: Expect = Field(default_factory=Expect)
    capture: dict[Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")], str] = Field(default_factory=dict)
    until: Until | None = None
    record: dict[Literal[tuple(RECORD_READINGS)], str] | None = None  # type: ignore[valid-type]
    # false: the step's failure is reported (wedwatch_probe_step_success 0) but does not fail the
    # probe, and its time is not part of the probe's duration once no critical step follows it.
    critical: bool = True

    @field_validator("capture", "record")
    @classmethod
    def _paths(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        for key, path in (value or {}).items():
            try:
                compile_path(path)
            except ValueError as exc:
                raise ValueError(f"{key}: {exc}") from None
        return value

    @model_validator(mode="after")
    def _one_kind(self) -> Step:
        kinds = [k for k in ("request", "websocket", "wait") if getattr(self, k) is not None]
        if len(kinds) != 1:
            shown = " and ".join(kinds) if kinds else "none"
            raise ValueError(f"a step takes exactly one of request, websocket, wait (got {shown})")
        if self.expect.status is not None and self.request is None:
            raise ValueError("expect.status: only a request step has a status")
        if self.until is not None and self.request is None:
            raise ValueError("until: only a request step repeats (a wait already waits for its message)")
        if not self.critical and self.request is None:
            raise ValueError("critical: only a request step may be non-critical (a socket's steps depend on each other)")
        return self

    @property
    def kind(self) -> Literal["request", "websocket", "wait"]:
        """Which kind of step this is."""
        return "request" if self.request is not None else "websocket" if self.websocket is not None else "wait"


def step_label(section: str, index: int, step: Step) -> str:
    """How errors name a step: `steps[1] (propagation)`."""
    return f"{section}[{index}]" + (f" ({step.name})" if step.name else "")


def check_scopes(steps: list[Step], cleanup: list[Step], *, records: bool = False, extra: tuple[str, ...] = ()) -> None:
    """Templates name only run variables and earlier captures; waits follow their socket; names are unique.

    Raises ValueError("steps[i] (name).field: reason"), the loader's form for a nested field.
    """
    known = set(RUN_VARIABLES) | set(extra)
    sockets: set[str] = set()
    names: set[str] = set()
    for section, group in (("steps", steps), ("cleanup", cleanup)):
        for index, step in enumerate(group):
            where = step_label(section, index, step)
            if section == "steps":
                if step.name is None:
                    raise ValueError(f"{where}.name: every step needs a name (it becomes the `step` label)")
                if step.name in names:
                    raise ValueError(f"{where}.name: {step.name!r} names an earlier step too")
                names.add(step.name)
            if step.record is not None and section == "cleanup":
                raise ValueError(f"{where}.record: cleanup steps record nothing")
            if step.record is not None and not records:
                raise ValueError(f"{where}.record: only the critical_path operation records readings")
            for field, names_used in _templates(step):
                unknown = sorted(names_used - known)
                if unknown:
                    raise ValueError(
                        f"{where}.{field}: unknown variable {{{unknown[0]}}} (known here: {', '.join(sorted(known))})"
                    )
            if step.websocket is not None:
                if section == "cleanup":
                    raise ValueError(f"{where}.websocket: cleanup steps make requests only")
                sockets.add(step.websocket.socket)
            if step.wait is not None:
                if section == "cleanup":
                    raise ValueError(f"{where}.wait: cleanup steps make requests only")
                if step.wait.socket not in sockets:
                    opened = ", ".join(sorted(sockets)) or "none"
                    raise ValueError(
                        f"{where}.wait.socket: no earlier step opens socket {step.wait.socket!r} (opened: {opened})"
                    )
            # A non-critical step may fail and capture nothing, so later steps cannot rely on its captures.
            if step.critical:
                known |= set(step.capture)
            elif section == "cleanup":
                raise ValueError(f"{where}.critical: a cleanup step never fails the probe anyway")
    if steps and not any(step.critical for step in steps):
        raise ValueError("steps: at least one step must be critical (otherwise the probe could never fail)")


def _templates(step: Step) -> list[tuple[str, frozenset[str]]]:
    found: list[tuple[str, frozenset[str]]] = []
    if step.request is not None:
        r = step.request
        found.append(("request.url", parse_template(r.url).names))
        found += [(f"request.headers.{k}", parse_template(v).names) for k, v in r.headers.items()]
        if "json_" in r.model_fields_set:
            found.append(("request.json", parse_json_template(r.json_).names))
        if r.body is not None:
            found.append(("request.body", parse_template(r.body).names))
    if step.websocket is not None:
        w = step.websocket
        found.append(("websocket.url", parse_template(w.url).names))
        found += [(f"websocket.headers.{k}", parse_template(v).names) for k, v in w.headers.items()]
        found += [(f"websocket.send[{i}]", parse_json_template(m).names) for i, m in enumerate(w.send)]
    assertions = [("expect.assert", step.expect.assert_)]
    if step.until is not None:
        assertions.append(("until.abort", step.until.abort))
    for prefix, group in assertions:
        for i, assertion in enumerate(group):
            expected = assertion.expected
            if isinstance(expected, str) and assertion.check != "matches":
                found.append((f"{prefix}[{i}].{assertion.check}", parse_template(expected).names))
            elif assertion.check in ("equals", "not_equals"):
                found.append((f"{prefix}[{i}].{assertion.check}", parse_json_template(expected).names))
    return found
