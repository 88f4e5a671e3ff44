"""guest_list: GET the wedding's guest list; time to the full body; optionally check the count.

Counting the guests is most of this probe's CPU when it decodes every guest: json.loads builds
~2,300 objects for a 50 KB list (~0.6 ms, as much as a whole blackbox_exporter probe; see
bench/probe_engine.py). With msgspec installed the body is validated in full but the guests are
skipped over, not built (~0.06 ms); without it the standard library gives the same answers.
"""

from __future__ import annotations

import codecs
import json
from typing import Any

from wedwatch.config.model import GuestListConfig
from wedwatch.exporter.probes.base import ProbeContext, ProbeFailure, ProbeResult

try:
    import msgspec
except ImportError:  # pragma: no cover - exercised by forcing the fallback in the tests
    msgspec = None  # type: ignore[assignment]

__all__ = ["URL", "probe", "count_guests"]

URL = "{base_url}/api/weddings/{wedding_id}/guests"
_NO_LIST = "response holds no `guests` list"

if msgspec is not None:

    class _Document(msgspec.Struct):
        # Other fields are skipped; each guest is validated but kept as raw JSON, never built.
        guests: list[msgspec.Raw]

    # A document is an object with a `guests` list, or the list itself: decoded in one pass.
    _DECODER: Any = msgspec.json.Decoder(_Document | list[msgspec.Raw])


def count_guests(body: bytes, *, fast: bool = True) -> int:
    """How many guests the body lists; ProbeFailure("assertion") when it is not JSON or holds no list."""
    if fast and msgspec is not None:
        return _count_skipping(body)
    try:
        document = json.loads(body)
    except ValueError as exc:
        raise ProbeFailure("assertion", f"response is not JSON: {exc}") from None
    guests = document.get("guests") if isinstance(document, dict) else document
    if not isinstance(guests, list):
        raise ProbeFailure("assertion", _NO_LIST)
    return len(guests)


def _count_skipping(body: bytes) -> int:
    try:
        # msgspec does not check UTF-8 inside the values it skips: decoding first rejects what
        # json.loads would (~4 µs for 50 KB); json.loads also accepts a UTF-8 byte-order mark.
        document = _DECODER.decode(body.removeprefix(codecs.BOM_UTF8).decode())
    except msgspec.ValidationError:  # valid JSON of the wrong shape (checked before its base class)
        raise ProbeFailure("assertion", _NO_LIST) from None
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        raise ProbeFailure("assertion", f"response is not JSON: {exc}") from None
    return len(document.guests if isinstance(document, _Document) else document)


async def probe(ctx: ProbeContext) -> ProbeResult:
    """Load the whole guest list, as a planner opening the wedding does."""
    response = await ctx.request("GET", ctx.url(URL), headers={"Accept": "application/json"})
    count = count_guests(response.body)
    config = ctx.config
    if isinstance(config, GuestListConfig) and config.assert_guest_count and count != ctx.wedding.guests:
        raise ProbeFailure("assertion", f"{count} guests listed, the calendar expects {ctx.wedding.guests}")
    return ctx.ok(guests=float(count))
