"""The mobile app's offline bundle manifest (src/wedwatch/platform/offline.py) and its faults."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

import pytest
from platform_fakes import AddFault, Client, FakeClock

MANIFEST = "/api/mobile/weddings/{}/offline-manifest"


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


async def test_manifest_lists_the_bundle_with_digests_and_sizes(client: Client, clock: FakeClock) -> None:
    response = await client.get(MANIFEST.format("w-large"))
    assert response.status == 200
    document = await response.json()
    assert set(document) == {"wedding_id", "version", "generated_at", "files"}
    assert document["wedding_id"] == "w-large"
    assert document["generated_at"].endswith("Z")
    assert timedelta(0) <= clock.now - _instant(document["generated_at"]) < timedelta(hours=1)
    paths = [f["path"] for f in document["files"]]
    assert "/api/weddings/w-large/guests" in paths and "/api/mobile/weddings/w-large" in paths
    assert len(paths) == len(set(paths))
    for entry in document["files"]:
        assert set(entry) == {"path", "sha256", "bytes"}
        assert len(entry["sha256"]) == 64 and int(entry["sha256"], 16) >= 0
        assert entry["bytes"] > 0
    # The guest list's entry describes the very body the platform serves.
    guests = await (await client.get("/api/weddings/w-large/guests")).read()
    entry = next(f for f in document["files"] if f["path"] == "/api/weddings/w-large/guests")
    assert (entry["sha256"], entry["bytes"]) == (hashlib.sha256(guests).hexdigest(), len(guests))


async def test_manifest_is_rebuilt_every_hour_with_a_new_version(client: Client, clock: FakeClock) -> None:
    first = await (await client.get(MANIFEST.format("w-small"))).json()
    clock.advance(60)
    same_hour = await (await client.get(MANIFEST.format("w-small"))).json()
    clock.advance(3600)
    next_hour = await (await client.get(MANIFEST.format("w-small"))).json()
    assert same_hour == first
    assert next_hour["version"] != first["version"]
    assert _instant(next_hour["generated_at"]) - _instant(first["generated_at"]) == timedelta(hours=1)


async def test_unknown_wedding_is_404(client: Client) -> None:
    response = await client.get(MANIFEST.format("nope"))
    assert response.status == 404
    assert (await response.json())["field"] == "wedding_id"


async def test_missing_fault_removes_the_manifest_of_that_wedding_only(client: Client, add_fault: AddFault) -> None:
    fault = await add_fault(operation="mobile", wedding_id="w-small", offline="missing")
    assert fault["offline"] == "missing"
    response = await client.get(MANIFEST.format("w-small"))
    assert response.status == 404
    assert "offline bundle" in (await response.json())["error"]
    assert (await client.get(MANIFEST.format("w-large"))).status == 200
    # The summary itself is still served: the app works online, only offline is lost.
    assert (await client.get("/api/mobile/weddings/w-small")).status == 200
    assert (await client.delete(f"/admin/faults/{fault['id']}")).status == 204
    assert (await client.get(MANIFEST.format("w-small"))).status == 200


async def test_stale_fault_makes_the_manifest_three_days_old(
    client: Client, add_fault: AddFault, clock: FakeClock
) -> None:
    await add_fault(operation="mobile", offline="stale")
    document = await (await client.get(MANIFEST.format("w-large"))).json()
    age = clock.now - _instant(document["generated_at"])
    assert timedelta(days=3) <= age < timedelta(days=3, hours=1)
    assert document["files"]


async def test_mobile_latency_and_errors_apply_to_the_manifest_too(client: Client, add_fault: AddFault) -> None:
    await add_fault(operation="mobile", wedding_id="w-small", error_rate=1, status=503)
    assert (await client.get(MANIFEST.format("w-small"))).status == 503


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"operation": "guest_list", "offline": "missing"}, "offline"),
        ({"operation": "mobile", "offline": "gone"}, "offline"),
    ],
)
async def test_offline_fault_is_validated(client: Client, spec: dict[str, str], field: str) -> None:
    response = await client.post("/admin/faults", json=spec)
    assert response.status == 422
    assert (await response.json())["field"] == field
