"""Read a config file: YAML, ${ENV} references, WEDWATCH_* overrides, validation, relative paths."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from wedwatch.config.actions import ACTION_TYPES
from wedwatch.config.model import Config
from wedwatch.config.operations import ADDED_KEY
from wedwatch.config.overrides import override_value
from wedwatch.errors import ConfigError

__all__ = ["LoadedConfig", "load_config", "parse_config", "ENV_PREFIX"]

ENV_PREFIX = "WEDWATCH_"
# Only variables with a double underscore are overrides (WEDWATCH_STORE__URL -> store.url), so that
# WEDWATCH_CONFIG and secrets such as WEDWATCH_RECEIVER_TOKEN never collide with the schema.
_NESTING = "__"
# The seed's switches keep their historical names.
_SEED_FLAGS = {
    "PERFORMANCE_MONITORING_ENABLED": ("features", "performance_monitoring"),
    "WEDDING_DAY_ENHANCED_MONITORING": ("features", "wedding_day_enhanced_monitoring"),
    "PREDICTIVE_SCALING_ENABLED": ("features", "predictive_scaling"),
}
# "field: reason" from a cross-field validator; the field may index a list and name its step
# (`steps[1] (propagation).wait.socket`).
_NESTED_REASON = re.compile(r"^((?:\.?[A-Za-z_][\w.-]*|\[\d+\](?: \([a-z][a-z0-9_]*\))?)+): (.+)$", re.DOTALL)
_REFERENCE = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


@dataclass(frozen=True)
class LoadedConfig:
    """A validated config and where it came from (relative paths are already resolved)."""

    config: Config
    path: Path | None
    # Every value a ${ENV} reference brought in, and the platform's header values: never shown in
    # debug output (`/probe?debug=true`, `wedwatch probe --verbose`).
    secrets: tuple[str, ...] = ()


def load_config(path: str | os.PathLike[str], environ: Mapping[str, str] | None = None) -> LoadedConfig:
    """Read, expand, override and validate the config file at `path`."""
    file = Path(path)
    source = str(file)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror or exc}", source=source) from exc
    return parse_config(text, source=source, base_dir=file.resolve().parent, environ=environ, path=file)


def parse_config(
    text: str,
    *,
    source: str = "<config>",
    base_dir: Path | None = None,
    environ: Mapping[str, str] | None = None,
    path: Path | None = None,
) -> LoadedConfig:
    """Validate config text; `base_dir` anchors the relative paths inside it."""
    env = os.environ if environ is None else environ
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"invalid YAML: {problem}", source=source, field=where) from exc
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"the top level must be a mapping, not {type(raw).__name__}", source=source)
    _apply_overrides(raw, env, source)
    substituted: set[str] = set()
    expanded = _expand(raw, env, source, (), substituted)
    try:
        config = Config.model_validate(expanded)
    except ValidationError as exc:
        raise _from_validation(exc, source, expanded) from None
    secrets = substituted | set(config.platform.headers.values())
    # Longest first, so that a secret containing another is redacted whole.
    ordered = tuple(sorted((s for s in secrets if len(s) >= 4), key=len, reverse=True))
    return LoadedConfig(config=_resolve_paths(config, base_dir or Path.cwd()), path=path, secrets=ordered)


def _apply_overrides(raw: dict[str, Any], env: Mapping[str, str], source: str) -> None:
    for name, value in sorted(env.items()):
        if name in _SEED_FLAGS:
            keys: tuple[str, ...] = _SEED_FLAGS[name]
        elif name.startswith(ENV_PREFIX) and _NESTING in name:
            keys = tuple(k.lower() for k in name[len(ENV_PREFIX) :].split(_NESTING))
            if not all(keys):
                raise ConfigError(f"malformed override variable {name}", source="environment")
        else:
            continue
        node = raw
        for key in keys[:-1]:
            child = node.setdefault(key, {})
            if not isinstance(child, dict):
                raise ConfigError(f"{name} overrides inside a non-mapping", source=source, field=".".join(keys))
            node = child
        node[keys[-1]] = override_value(keys, value)


def _expand(node: Any, env: Mapping[str, str], source: str, where: tuple[str | int, ...], found: set[str]) -> Any:
    if isinstance(node, dict):
        return {k: _expand(v, env, source, (*where, str(k)), found) for k, v in node.items()}
    if isinstance(node, list):
        return [_expand(v, env, source, (*where, i), found) for i, v in enumerate(node)]
    if not isinstance(node, str) or "$" not in node:
        return node

    def substitute(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, default = match.group(1), match.group(2)
        if name in env:
            found.add(env[name])
            return env[name]
        if default is not None:
            return default
        raise ConfigError(f"environment variable {name} is not set", source=source, field=_dotted(where))

    return _REFERENCE.sub(substitute, node)


def _dotted(where: tuple[str | int, ...], raw: Any = None) -> str:
    """`a.b[0].c`; with the raw document, a step also gets its name: `steps[0] (load).request`."""
    out = ""
    node = raw
    for part in where:
        if isinstance(part, int):
            out += f"[{part}]"
            node = node[part] if isinstance(node, list) and part < len(node) else None
            name = node.get("name") if isinstance(node, dict) else None
            if isinstance(name, str) and _STEP_NAME.match(name):
                out += f" ({name})"
        else:
            out += f".{part}" if out else str(part)
            node = node.get(part) if isinstance(node, dict) else None
    return out


def _from_validation(exc: ValidationError, source: str, raw: Any = None) -> ConfigError:
    errors = exc.errors(include_url=False)
    first = errors[0]
    loc = tuple(p for p in first["loc"] if not (isinstance(p, str) and p in _DROPPED_LOC))
    field = _dotted(loc, raw) or None
    reason = first["msg"].removeprefix("Value error, ")
    # Cross-field validators name the nested field at the front of their message.
    nested = _NESTED_REASON.match(reason) if first["type"] == "value_error" else None
    if nested:
        field = ".".join(p for p in (field, nested.group(1)) if p)
        reason = nested.group(2)
    if first["type"] == "extra_forbidden":
        reason = "unknown key"
    elif first["type"] == "union_tag_invalid":
        ctx = first.get("ctx", {})
        reason = f"unknown type {ctx.get('tag')!r} (expected one of {ctx.get('expected_tags')})"
    elif "input" in first and first["type"] not in ("missing", "value_error", "union_tag_invalid"):
        shown = repr(first["input"])
        reason += f" (got {shown[:60]})"
    if len(errors) > 1:
        reason += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
    return ConfigError(reason, source=source, field=field)


# pydantic puts the discriminator's value into the error location of tagged unions; operations
# with new names live under a key of their own (ADDED_KEY) that users never write.
_DROPPED_LOC = frozenset({*ACTION_TYPES, ADDED_KEY, "[key]"})
_STEP_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def _resolve_paths(config: Config, base: Path) -> Config:
    def resolve(p: str) -> str:
        return str(p if os.path.isabs(p) else (base / p))

    updates: dict[str, Any] = {}
    if config.calendar.file:
        updates["calendar"] = config.calendar.model_copy(update={"file": resolve(config.calendar.file)})
    if config.calendar.url:
        # Filled here, once, so that every reader of the calendar (exporter, forecaster, CLI) gets the same URL.
        url = config.calendar.url_for(config.platform.base_url)
        updates["calendar"] = config.calendar.model_copy(update={"url": url})
    if config.store.url.startswith("sqlite:///"):
        db = config.store.url.removeprefix("sqlite:///")
        if db and db != ":memory:":
            updates["store"] = config.store.model_copy(update={"url": "sqlite:///" + resolve(db)})
    if config.forecast.model_dir:
        updates["forecast"] = config.forecast.model_copy(update={"model_dir": resolve(config.forecast.model_dir)})
    if config.receiver.tls:
        tls = config.receiver.tls.model_copy(
            update={"cert_file": resolve(config.receiver.tls.cert_file), "key_file": resolve(config.receiver.tls.key_file)}
        )
        updates["receiver"] = config.receiver.model_copy(update={"tls": tls})
    return config.model_copy(update=updates) if updates else config
