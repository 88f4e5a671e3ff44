"""Vendor notifications and their delivery (src/wedwatch/platform/vendors.py)."""

from __future__ import annotations

import asyncio

import pytest
from platform_fakes import Client, FakeClock, MakeClient

from wedwatch.platform.state import utc_now

URL = "/api/weddings/w-small/notifications"


async def _status(client: Client, notification_id: str) -> str:
    response = await client.get(f"{URL}/{notification_id}")
    assert response.status == 200
    status: str = (await response.json())["status"]
    return status


async def test_notification_is_queued_then_sent_then_delivered(client: Client, clock: FakeClock) -> None:
    response = await client.post(URL, json={"vendor": "florist", "message": "running late"})
    assert response.status == 202
    body = await response.json()
    assert (body["status"], body["vendor"]) == ("queued", "florist")
    notification_id = body["notification_id"]
    assert await _status(client, notification_id) == "queued"
    clock.advance(0.01)  # default: sent after 10 ms, delivered after 30 ms
    assert await _status(client, notification_id) == "sent"
    clock.advance(0.02)
    assert await _status(client, notification_id) == "delivered"


async def test_empty_body_sends_a_test_notification(client: Client) -> None:
    response = await client.post(URL)
    assert response.status == 202
    assert (await response.json())["vendor"] == "all"


async def test_notification_becomes_delivered_on_the_real_clock(make_client: MakeClient) -> None:
    client = await make_client(clock=utc_now)
    notification_id = (await (await client.post(URL, json={})).json())["notification_id"]
    for _ in range(100):
        if await _status(client, notification_id) == "delivered":
            break
        await asyncio.sleep(0.05)
    else:
        pytest.fail("notification never delivered")


async def test_notifications_belong_to_their_wedding(client: Client) -> None:
    notification_id = (await (await client.post(URL)).json())["notification_id"]
    other = await client.get(f"/api/weddings/w-large/notifications/{notification_id}")
    assert other.status == 404
    assert (await other.json())["field"] == "notification_id"
