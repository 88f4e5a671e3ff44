"""The app as a whole: calendar, health, JSON errors, body limits (src/wedwatch/platform/app.py, http.py)."""

from __future__ import annotations

import pytest
from platform_fakes import Client, MakeClient

from wedwatch.calendar import Wedding, parse_calendar
from wedwatch.platform import PlatformSettings

PER_WEDDING = [
    ("GET", "/api/weddings/{id}/guests"),
    ("POST", "/api/weddings/{id}/photos"),
    ("DELETE", "/api/weddings/{id}/photos/p1"),
    ("POST", "/api/weddings/{id}/timeline/markers"),
    ("GET", "/api/weddings/{id}/timeline"),
    ("POST", "/api/weddings/{id}/notifications"),
    ("GET", "/api/weddings/{id}/notifications/n1"),
    ("GET", "/api/mobile/weddings/{id}"),
    ("GET", "/api/weddings/{id}/status"),
]


async def test_healthy(client: Client) -> None:
    response = await client.get("/-/healthy")
    assert response.status == 200
    assert "Healthy" in await response.text()


async def test_calendar_round_trips_through_the_calendar_parser(client: Client, weddings: list[Wedding]) -> None:
    response = await client.get("/api/weddings")
    assert response.status == 200
    # The exporter's calendar.url source reads this endpoint with the lenient parser.
    load = parse_calendar(await response.json(), source="platform", strict=False)
    assert load.errors == []
    assert load.weddings == weddings


@pytest.mark.parametrize(("method", "path"), PER_WEDDING)
async def test_unknown_wedding_is_a_json_404(client: Client, method: str, path: str) -> None:
    response = await client.request(method, path.format(id="no-such-wedding"))
    assert response.status == 404
    assert await response.json() == {"error": "unknown wedding 'no-such-wedding'", "field": "wedding_id"}


async def test_unknown_route_and_wrong_method_answer_json(client: Client) -> None:
    missing = await client.get("/nope")
    assert (missing.status, missing.content_type) == (404, "application/json")
    wrong = await client.put("/api/weddings/w-small/guests")
    assert wrong.status == 405
    assert "GET" in wrong.headers["Allow"]
    assert "error" in await wrong.json()


async def test_body_above_client_max_size_is_413(make_client: MakeClient) -> None:
    client = await make_client(settings=PlatformSettings(max_request_bytes=1024))
    response = await client.post(
        "/api/weddings/w-small/timeline/markers",
        data=b'{"marker": "' + b"x" * 4096 + b'"}',
        headers={"Content-Type": "application/json"},
    )
    assert response.status == 413
    assert "error" in await response.json()


async def test_json_endpoints_reject_other_content_types_and_bad_json(client: Client) -> None:
    url = "/api/weddings/w-small/timeline/markers"
    wrong_type = await client.post(url, data="marker=x", headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert wrong_type.status == 415
    bad_json = await client.post(url, data="{nope", headers={"Content-Type": "application/json"})
    assert bad_json.status == 400
    assert "not valid JSON" in (await bad_json.json())["error"]


def test_settings_refuse_delivery_before_sending() -> None:
    with pytest.raises(ValueError, match="notification_delivery_seconds"):
        PlatformSettings(notification_sent_seconds=1, notification_delivery_seconds=0.5)
