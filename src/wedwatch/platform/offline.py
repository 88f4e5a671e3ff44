"""The mobile app's offline bundle: the manifest of what a phone keeps for when the venue has no signal.

Like a service worker's precache manifest (Workbox's `{url, revision}` entries, Angular's
`ngsw.json` hash table), it lists every file of the bundle with its digest and size, so that the
app fetches only what changed: the app shell, the wedding's summary, its guest list (check-in at a
venue without signal) and its hero image. The bundle is rebuilt at the top of every hour, so a
healthy manifest is less than an hour old. A `mobile` fault with `offline: missing` makes the
manifest answer 404 (the bundle was never published); `offline: stale` makes it three days older
(the build that publishes it stopped).
"""

from __future__ import annotations

import hashlib
import json
import random
from collections import OrderedDict
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from wedwatch.calendar import Wedding
from wedwatch.platform.faults import FAULTS, operation
from wedwatch.platform.guests import GUESTS
from wedwatch.platform.http import ApiError
from wedwatch.platform.mobile import summary
from wedwatch.platform.state import CLOCK, SETTINGS, iso

__all__ = ["APP_VERSION", "STALE_AGE", "OfflineBundles", "OFFLINE", "manifest", "routes"]

APP_VERSION = "4.12.0"
STALE_AGE = timedelta(days=3)
# The app shell, the same for every wedding: (path, smallest and largest plausible size in bytes).
_SHELL = (
    ("/app/index.html", 1_800, 4_000),
    ("/app/main.js", 180_000, 420_000),
    ("/app/styles.css", 18_000, 60_000),
    ("/app/manifest.webmanifest", 400, 900),
)


def _synthetic(label: str, low: int, high: int) -> dict[str, Any]:
    """A file whose bytes the stand-in does not keep: a stable size and digest for its label."""
    rng = random.Random(label)
    return {"bytes": rng.randint(low, high), "sha256": hashlib.sha256(label.encode()).hexdigest()}


def _real(body: bytes) -> dict[str, Any]:
    return {"bytes": len(body), "sha256": hashlib.sha256(body).hexdigest()}


class OfflineBundles:
    """Manifests built once per wedding and build time (hashing a large guest list is not free)."""

    def __init__(self, max_entries: int = 1024) -> None:
        self._built: OrderedDict[tuple[str, datetime], dict[str, Any]] = OrderedDict()
        self._max = max_entries

    def get(self, key: tuple[str, datetime]) -> dict[str, Any] | None:
        """A manifest built before, if it is still kept."""
        return self._built.get(key)

    def keep(self, key: tuple[str, datetime], document: dict[str, Any]) -> None:
        """Keep a manifest; the oldest is forgotten past the cap."""
        self._built[key] = document
        while len(self._built) > self._max:
            self._built.popitem(last=False)


OFFLINE = web.AppKey("offline", OfflineBundles)


def manifest(wedding: Wedding, built_at: datetime, guest_list: bytes, *, seed: int = 0) -> dict[str, Any]:
    """The manifest of the bundle built at `built_at`: wedding_id, version, generated_at (RFC 3339) and files."""
    files: list[dict[str, Any]] = [
        {"path": path, **_synthetic(f"shell:{APP_VERSION}:{path}", low, high)} for path, low, high in _SHELL
    ]
    data = json.dumps(summary(wedding, built_at, mobile=True), separators=(",", ":")).encode()
    files.append({"path": f"/api/mobile/weddings/{wedding.id}", **_real(data)})
    files.append({"path": f"/api/weddings/{wedding.id}/guests", **_real(guest_list)})
    hero = f"/media/{wedding.id}/hero.jpg"
    files.append({"path": hero, **_synthetic(f"{seed}:{hero}", 60_000, 240_000)})
    version = hashlib.sha256("\n".join(f"{f['path']} {f['sha256']}" for f in files).encode()).hexdigest()[:16]
    return {"wedding_id": wedding.id, "version": version, "generated_at": iso(built_at), "files": files}


routes = web.RouteTableDef()


@routes.get("/api/mobile/weddings/{wedding_id}/offline-manifest")
@operation("mobile")
async def get_offline_manifest(request: web.Request, wedding: Wedding) -> web.StreamResponse:
    """The wedding's offline bundle manifest; 404 when a fault removed it, three days old when one made it stale."""
    modes = {f.spec.offline for f in request.config_dict[FAULTS].matching("mobile", wedding.id)}
    if "missing" in modes:
        raise ApiError(404, f"wedding {wedding.id!r} has no offline bundle")
    now = request.config_dict[CLOCK]()
    built_at = now.replace(minute=0, second=0, microsecond=0)  # rebuilt at the top of every hour
    if "stale" in modes:
        built_at -= STALE_AGE
    bundles = request.app[OFFLINE]
    key = (wedding.id, built_at)
    document = bundles.get(key)
    if document is None:
        guest_list = request.app[GUESTS].body(wedding)
        document = manifest(wedding, built_at, guest_list, seed=request.config_dict[SETTINGS].seed)
        bundles.keep(key, document)
    return web.json_response(document, headers={"Cache-Control": "no-cache"})
