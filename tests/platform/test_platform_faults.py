"""Fault injection and the admin API (src/wedwatch/platform/faults.py, admin.py)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
import pytest
from platform_fakes import AddFault, Client, MakeClient

from wedwatch.platform import PlatformSettings
from wedwatch.platform.faults import FAULTS

GUESTS = "/api/weddings/{}/guests"
MOBILE = "/api/mobile/weddings/{}"


async def _elapsed(client: Client, path: str) -> float:
    started = time.perf_counter()
    response = await client.get(path)
    await response.read()
    assert response.status == 200
    return time.perf_counter() - started


async def _hanging(client: Client) -> int:
    count: int = (await (await client.get("/admin/faults")).json())["hanging_requests"]
    return count


async def _until_hanging(client: Client, expected: int) -> None:
    for _ in range(200):
        if await _hanging(client) == expected:
            return
        await asyncio.sleep(0.025)
    pytest.fail(f"hanging_requests never reached {expected}")


async def test_latency_applies_only_to_the_targeted_wedding_and_operation(client: Client, add_fault: AddFault) -> None:
    fault = await add_fault(operation="guest_list", wedding_id="w-small", latency_seconds=0.5)
    assert fault["id"] and fault["latency_seconds"] == 0.5
    slow = await _elapsed(client, GUESTS.format("w-small"))
    other_wedding = await _elapsed(client, GUESTS.format("w-large"))
    other_operation = await _elapsed(client, MOBILE.format("w-small"))
    # Ratios within one run, never a wall-clock threshold (a loaded machine slows every request).
    assert other_wedding < slow / 3
    assert other_operation < slow / 3


async def test_fault_without_wedding_applies_to_every_wedding(client: Client, add_fault: AddFault) -> None:
    await add_fault(operation="mobile", error_rate=1, status=503)
    for wedding_id in ("w-small", "w-large"):
        assert (await client.get(MOBILE.format(wedding_id))).status == 503
    assert (await client.get(GUESTS.format("w-small"))).status == 200


async def test_error_rate_one_always_fails_with_the_status(client: Client, add_fault: AddFault) -> None:
    fault = await add_fault(operation="guest_list", wedding_id="w-small", error_rate=1, status=503)
    for _ in range(20):
        response = await client.get(GUESTS.format("w-small"))
        assert response.status == 503
        assert fault["id"] in (await response.json())["error"]


async def test_error_rate_zero_never_fails(client: Client, add_fault: AddFault) -> None:
    await add_fault(operation="guest_list", error_rate=0, status=503)
    statuses = {(await client.get(GUESTS.format("w-small"))).status for _ in range(20)}
    assert statuses == {200}


async def test_default_status_is_500_and_errors_follow_the_seed(make_client: MakeClient) -> None:
    async def outcomes(seed: int) -> list[int]:
        client = await make_client(settings=PlatformSettings(seed=seed, guest_list_base_seconds=0))
        await client.post("/admin/faults", json={"operation": "guest_list", "error_rate": 0.5})
        return [(await client.get(GUESTS.format("w-small"))).status for _ in range(30)]

    first, replay = await outcomes(7), await outcomes(7)
    assert first == replay
    assert set(first) == {200, 500}


async def test_hang_is_cut_by_the_client_timeout(client: Client, add_fault: AddFault) -> None:
    await add_fault(operation="mobile", wedding_id="w-small", hang=True)
    with pytest.raises(TimeoutError):
        await client.get(MOBILE.format("w-small"), timeout=aiohttp.ClientTimeout(total=0.3))
    # The handler notices that its client went away: nothing is left hanging.
    await _until_hanging(client, 0)
    # Only the targeted wedding hangs.
    assert (await client.get(MOBILE.format("w-large"), timeout=aiohttp.ClientTimeout(total=5))).status == 200


async def test_clearing_a_hang_lets_held_requests_through(client: Client, add_fault: AddFault) -> None:
    await add_fault(operation="timeline_sync", hang=True)
    held = asyncio.create_task(client.get("/api/weddings/w-small/timeline"))
    await _until_hanging(client, 1)
    assert not held.done()
    assert (await client.delete("/admin/faults")).status == 200
    response = await asyncio.wait_for(held, 5)
    assert response.status == 200


async def test_shutdown_releases_hung_requests(client: Client, add_fault: AddFault) -> None:
    await add_fault(operation="guest_list", hang=True)
    held = asyncio.create_task(client.get(GUESTS.format("w-small")))
    await _until_hanging(client, 1)
    app = client.app
    assert app is not None
    # The test server waits up to 60 s for in-flight handlers; a hang must not make it.
    async with asyncio.timeout(5):
        await client.server.close()
    assert app[FAULTS].hanging == 0
    outcome: Any = await asyncio.gather(held, return_exceptions=True)
    assert isinstance(outcome[0], aiohttp.ClientError) or outcome[0].status == 503


async def test_list_delete_one_and_clear(client: Client, add_fault: AddFault) -> None:
    first = await add_fault(operation="mobile", error_rate=1)
    second = await add_fault(operation="guest_list", wedding_id="w-large", latency_seconds=0.1)
    listed = await (await client.get("/admin/faults")).json()
    assert [f["id"] for f in listed["faults"]] == [first["id"], second["id"]]
    assert listed["faults"][1]["wedding_id"] == "w-large"

    assert (await client.delete(f"/admin/faults/{first['id']}")).status == 204
    assert (await client.get(MOBILE.format("w-small"))).status == 200
    missing = await client.delete(f"/admin/faults/{first['id']}")
    assert (missing.status, (await missing.json())["field"]) == (404, "fault_id")

    await add_fault(operation="mobile", error_rate=1)
    cleared = await client.delete("/admin/faults")
    assert await cleared.json() == {"cleared": 2}
    assert (await (await client.get("/admin/faults")).json())["faults"] == []
    assert (await client.get(MOBILE.format("w-small"))).status == 200


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({}, "operation"),
        ({"operation": "teleport"}, "operation"),
        ({"operation": "mobile", "error_rate": 1.5}, "error_rate"),
        ({"operation": "mobile", "latency_seconds": -1}, "latency_seconds"),
        ({"operation": "mobile", "latency_seconds": "slow"}, "latency_seconds"),
        ({"operation": "mobile", "status": 200}, "status"),
        ({"operation": "mobile", "hang": "sometimes"}, "hang"),
        ({"operation": "mobile", "colour": "red"}, "colour"),
        ({"operation": "mobile", "milestone_delay_seconds": 60}, "milestone_delay_seconds"),
        ({"operation": "guest_list", "open_incidents": 1}, "open_incidents"),
    ],
)
async def test_bad_fault_is_422_naming_the_field(client: Client, spec: dict[str, Any], field: str) -> None:
    response = await client.post("/admin/faults", json=spec)
    assert response.status == 422
    body = await response.json()
    assert body["field"] == field
    assert field in body["error"]


async def test_fault_body_must_be_json(client: Client) -> None:
    not_json = await client.post("/admin/faults", data="operation=mobile", headers={"Content-Type": "application/json"})
    assert not_json.status == 400
    form = await client.post("/admin/faults", data={"operation": "mobile"})
    assert form.status == 415


async def test_fault_for_an_unknown_wedding_is_404(client: Client) -> None:
    response = await client.post("/admin/faults", json={"operation": "mobile", "wedding_id": "w-nowhere"})
    assert response.status == 404
    assert (await response.json())["field"] == "wedding_id"


async def test_fault_count_is_capped(make_client: MakeClient) -> None:
    client = await make_client(settings=PlatformSettings(max_faults=2))
    statuses = [(await client.post("/admin/faults", json={"operation": "mobile"})).status for _ in range(3)]
    assert statuses == [201, 201, 409]


@pytest.mark.parametrize(
    ("authorization", "status"),
    [(None, 401), ("Bearer wrong", 401), ("Basic czNjcmV0", 401), ("Bearer s3cret", 200), ("bearer s3cret", 200)],
)
async def test_admin_token_is_enforced_when_set(
    make_client: MakeClient, authorization: str | None, status: int
) -> None:
    client = await make_client(settings=PlatformSettings(admin_token="s3cret"))
    headers = {"Authorization": authorization} if authorization else {}
    response = await client.get("/admin/faults", headers=headers)
    assert response.status == status
    if status == 401:
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert "error" in await response.json()
    # The platform's own API stays open.
    assert (await client.get(GUESTS.format("w-small"))).status == 200


async def test_admin_is_open_without_a_token(client: Client) -> None:
    assert (await client.get("/admin/faults")).status == 200
