"""The guest list (src/wedwatch/platform/guests.py)."""

from __future__ import annotations

import time

from platform_fakes import Client, MakeClient, calendar_weddings

from wedwatch.platform import PlatformSettings
from wedwatch.platform.guests import fake_guests


async def test_guest_list_has_the_calendar_count(client: Client) -> None:
    for wedding in calendar_weddings():
        response = await client.get(f"/api/weddings/{wedding.id}/guests")
        assert response.status == 200
        body = await response.json()
        assert body["wedding_id"] == wedding.id
        assert len(body["guests"]) == wedding.guests
        assert len({g["id"] for g in body["guests"]}) == wedding.guests
        assert {g["rsvp"] for g in body["guests"]} <= {"accepted", "pending", "declined"}


async def test_guest_list_is_stable_across_requests_and_apps(client: Client, make_client: MakeClient) -> None:
    first = await (await client.get("/api/weddings/w-large/guests")).json()
    again = await (await client.get("/api/weddings/w-large/guests")).json()
    other_app = await make_client()
    elsewhere = await (await other_app.get("/api/weddings/w-large/guests")).json()
    assert first == again == elsewhere


def test_fake_guests_depend_on_seed_and_wedding() -> None:
    small, large = calendar_weddings()
    assert fake_guests(large, 0) == fake_guests(large, 0)
    assert fake_guests(large, 0) != fake_guests(large, 1)
    assert [g["table"] for g in fake_guests(small, 0)] == [1] * 10


async def _elapsed(client: Client, path: str) -> float:
    started = time.perf_counter()
    response = await client.get(path)
    await response.read()
    assert response.status == 200
    return time.perf_counter() - started


async def test_guest_list_latency_grows_with_guests(make_client: MakeClient) -> None:
    # 10 vs 400 guests at 1 ms each: 10 ms vs 400 ms; overheads cannot close a 40x gap to 4x.
    client = await make_client(settings=PlatformSettings(guest_list_base_seconds=0, guest_list_per_guest_seconds=0.001))
    small = await _elapsed(client, "/api/weddings/w-small/guests")
    large = await _elapsed(client, "/api/weddings/w-large/guests")
    assert large / small > 4
