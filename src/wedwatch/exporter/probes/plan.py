"""An operation's steps compiled once: templates parsed, paths compiled, what each step needs decided."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Literal

from wedwatch.config.operations import OperationConfig
from wedwatch.config.steps import RECORD_READINGS, Step, Upload, step_label
from wedwatch.exporter.probes.checks import Check, compile_check
from wedwatch.probing.jsonpaths import Path, compile_path
from wedwatch.probing.templates import JsonTemplate, Template, parse_json_template, parse_template

__all__ = ["StepPlan", "Plan", "compile_plan", "plan_for"]


@dataclass(frozen=True, slots=True)
class StepPlan:
    """One step, ready to run."""

    name: str | None
    label: str  # `steps[1] (propagation)`, as errors and logs name it
    kind: Literal["request", "websocket", "wait"]
    method: str
    url: Template | None
    headers: tuple[tuple[str, Template], ...]
    json: JsonTemplate | None
    body: Template | None
    upload: Upload | None
    statuses: frozenset[int] | None  # None: any 2xx
    checks: tuple[Check, ...]
    captures: tuple[tuple[str, Path], ...]
    record: tuple[tuple[str, Path], ...]  # (reading, path)
    until_interval: float | None
    aborts: tuple[Check, ...]
    socket: str | None
    send: tuple[JsonTemplate, ...]
    # Counting a list is the only use of the body: count it without building it.
    count_only: Check | None
    # False: a failure is the step's own (wedwatch_probe_step_success 0), not the probe's.
    critical: bool = True

    @property
    def names(self) -> frozenset[str]:
        """Every variable this step's templates name."""
        found: set[str] = set()
        for template in (self.url, self.json, self.body, *(t for _, t in self.headers), *self.send):
            if template is not None:
                found |= template.names
        for check in (*self.checks, *self.aborts):
            if isinstance(check.expected, Template | JsonTemplate):
                found |= check.expected.names
        return frozenset(found)

    @property
    def needs_json(self) -> bool:
        """Whether anything reads the answer's JSON."""
        return bool(self.checks or self.captures or self.record or self.aborts)


@dataclass(frozen=True, slots=True)
class Plan:
    """A whole operation: its steps, its cleanup, and whether it is one request (then its HTTP steps are its steps)."""

    operation: str
    steps: tuple[StepPlan, ...]
    cleanup: tuple[StepPlan, ...]
    single_request: bool
    # The variables the templates name: what is costly to make (run_id, ceremony_at) is made only if named.
    names: frozenset[str]


def _step(section: str, index: int, step: Step) -> StepPlan:
    checks = tuple(compile_check(a) for a in step.expect.assert_)
    captures = tuple((name, compile_path(path)) for name, path in step.capture.items())
    record = tuple((RECORD_READINGS[key], compile_path(path)) for key, path in (step.record or {}).items())
    aborts = tuple(compile_check(a) for a in step.until.abort) if step.until else ()
    only = len(checks) == 1 and checks[0].check == "count" and not (captures or record or aborts)
    count_only = checks[0] if only and checks[0].path.countable else None
    request, websocket = step.request, step.websocket
    url = request.url if request else websocket.url if websocket else None
    headers = request.headers if request else websocket.headers if websocket else {}
    return StepPlan(
        name=step.name,
        label=step_label(section, index, step),
        kind=step.kind,
        method=request.method if request else "GET",
        url=parse_template(url) if url is not None else None,
        headers=tuple((k, parse_template(v)) for k, v in headers.items()),
        json=parse_json_template(request.json_) if request and "json_" in request.model_fields_set else None,
        body=parse_template(request.body) if request and request.body is not None else None,
        upload=request.upload if request else None,
        statuses=frozenset(step.expect.status) if step.expect.status is not None else None,
        checks=checks,
        captures=captures,
        record=record,
        until_interval=step.until.interval_seconds if step.until else None,
        aborts=aborts,
        socket=websocket.socket if websocket else step.wait.socket if step.wait else None,
        send=tuple(parse_json_template(m) for m in websocket.send) if websocket else (),
        count_only=count_only,
        critical=step.critical,
    )


def compile_plan(operation: str, config: OperationConfig) -> Plan:
    """Compile a validated operation."""
    steps = tuple(_step("steps", i, s) for i, s in enumerate(config.run_steps))
    cleanup = tuple(_step("cleanup", i, s) for i, s in enumerate(config.cleanup_steps))
    names = frozenset().union(*(step.names for step in (*steps, *cleanup)))
    return Plan(operation, steps, cleanup, single_request=len(steps) == 1 and steps[0].kind == "request", names=names)


_CACHE: OrderedDict[tuple[str, int], tuple[OperationConfig, Plan]] = OrderedDict()
_CACHE_SIZE = 256


def plan_for(operation: str, config: OperationConfig) -> Plan:
    """The compiled plan of a config object, compiled once (configs are immutable; a reload brings new ones)."""
    key = (operation, id(config))
    hit = _CACHE.get(key)
    if hit is not None and hit[0] is config:
        return hit[1]
    plan = compile_plan(operation, config)
    _CACHE[key] = (config, plan)  # holding the config keeps its id from being reused while cached
    if len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return plan


