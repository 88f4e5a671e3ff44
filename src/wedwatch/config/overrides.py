"""The value a `WEDWATCH_…` override gives a field, read off the type of the field it overrides.

An environment variable is a string. Read as YAML, a token such as `0123` (octal 83), `18:30`
(base 60: 1110), `yes` or `null` stops being the string it was, and a string field rejects it. So:

- a field that takes a string gets the string as given;
- a field that takes a list or a mapping (or a section) gets the string read as YAML, `[a, b]` or
  `{key: value}` (inside them YAML's own quoting applies: `{X-Key: "0123"}`);
- a field that takes None but no string gets None from YAML's null (`null`, `~`);
- any other field (numbers, booleans) gets the string as given, which pydantic's lax mode parses
  as that field's type: `25`, `0123` (123), `1e3`, `0.5`, `true`, `off`; anything else is an error
  naming the field, as for a value in the file.

A path the schema does not describe (an unknown key, which validation reports, or a value typed
`object`) keeps the older reading: YAML, or the string when it is not valid YAML.
"""

from __future__ import annotations

import types
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, SecretStr

from wedwatch.config.model import Config
from wedwatch.config.operations import ADDED_KEY

__all__ = ["override_value"]

_STRUCTURED = (list, tuple, set, frozenset, dict, Mapping, Sequence)
_NULLS = frozenset({"null", "Null", "NULL", "~"})


def override_value(keys: Sequence[str], text: str) -> Any:
    """What the override `text` of the field at `keys` (`("store", "url")`) puts into the raw document."""
    if not text.strip():
        return text
    arms = _field_arms(keys)
    if arms is None or any(arm is Any or arm is object for arm in arms):
        return _yaml_or_text(text)
    if any(_takes_str(arm) for arm in arms):
        return text
    if any(_is_structured(arm) for arm in arms):
        return _yaml_or_text(text)
    if type(None) in arms and text.strip() in _NULLS:
        return None
    return text


def _yaml_or_text(text: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def _field_arms(keys: Sequence[str]) -> list[Any] | None:
    """The types the field at `keys` accepts (a union's arms, flattened); None when the schema has no such field."""
    arms: list[Any] = [Config]
    for key in keys:
        children = [child for arm in arms for child in _children(arm, key)]
        if not children:
            return None
        arms = [flat for child in children for flat in _flatten(child)]
    return arms


def _children(arm: Any, key: str) -> list[Any]:
    """The annotation(s) of `key` inside a section or a mapping's values; none when `arm` has no `key`."""
    if isinstance(arm, type) and issubclass(arm, BaseModel):
        field = arm.model_fields.get(key)
        if field is not None:
            return [field.annotation]
        # Sections with names of the user's choosing (operations added by name) gather them under
        # a field aliased ADDED_KEY: the key is one of that mapping's keys.
        added = [f.annotation for f in arm.model_fields.values() if f.alias == ADDED_KEY]
        return [get_args(a)[1] for a in added if get_origin(a) is dict]
    if get_origin(arm) in (dict, Mapping):
        return [get_args(arm)[1]]
    return []


def _flatten(annotation: Any) -> list[Any]:
    origin = get_origin(annotation)
    if origin is Annotated:
        return _flatten(get_args(annotation)[0])
    if origin is Union or origin is types.UnionType:
        return [flat for arm in get_args(annotation) for flat in _flatten(arm)]
    return [annotation]


def _takes_str(arm: Any) -> bool:
    if get_origin(arm) is Literal:
        return any(isinstance(value, str) for value in get_args(arm))
    return isinstance(arm, type) and issubclass(arm, str | SecretStr)


def _is_structured(arm: Any) -> bool:
    origin = get_origin(arm) or arm
    return isinstance(origin, type) and (issubclass(origin, _STRUCTURED) or issubclass(origin, BaseModel))
