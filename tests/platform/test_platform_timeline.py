"""Timeline markers and their propagation delay (src/wedwatch/platform/timeline.py)."""

from __future__ import annotations

import asyncio

import pytest
from platform_fakes import Client, FakeClock, MakeClient

from wedwatch.calendar import Wedding
from wedwatch.platform import PlatformSettings, create_app
from wedwatch.platform.state import utc_now
from wedwatch.platform.timeline import TIMELINE

URL = "/api/weddings/w-small/timeline"


async def _visible(client: Client, marker: str) -> bool:
    response = await client.get(URL, params={"marker": marker})
    assert response.status == 200
    body = await response.json()
    assert body["marker"] == marker
    visible: bool = body["visible"]
    return visible


async def test_marker_is_invisible_then_visible(client: Client, clock: FakeClock) -> None:
    written = await client.post(URL + "/markers", json={"marker": "probe-1"})
    assert written.status == 202
    assert (await written.json())["marker"] == "probe-1"
    assert not await _visible(client, "probe-1")
    clock.advance(0.019)  # default propagation is 20 ms
    assert not await _visible(client, "probe-1")
    clock.advance(0.001)
    assert await _visible(client, "probe-1")
    assert not await _visible(client, "never-written")


async def test_recent_markers_show_only_propagated_ones_newest_first(client: Client, clock: FakeClock) -> None:
    for name in ("a", "b"):
        await client.post(URL + "/markers", json={"marker": name})
        clock.advance(1)
    await client.post(URL + "/markers", json={"marker": "c"})
    body = await (await client.get(URL)).json()
    assert [m["marker"] for m in body["markers"]] == ["b", "a"]
    limited = await (await client.get(URL, params={"limit": "1"})).json()
    assert [m["marker"] for m in limited["markers"]] == ["b"]


async def test_markers_are_per_wedding(client: Client, clock: FakeClock) -> None:
    await client.post(URL + "/markers", json={"marker": "mine"})
    clock.advance(60)
    other = await client.get("/api/weddings/w-large/timeline", params={"marker": "mine"})
    assert (await other.json())["visible"] is False


async def test_marker_becomes_visible_on_the_real_clock(make_client: MakeClient) -> None:
    client = await make_client(clock=utc_now)
    await client.post(URL + "/markers", json={"marker": "real"})
    for _ in range(100):  # 20 ms propagation; give it up to 5 s on a loaded machine
        if await _visible(client, "real"):
            break
        await asyncio.sleep(0.05)
    else:
        pytest.fail("marker never became visible")


def test_old_markers_fall_off(clock: FakeClock, weddings: list[Wedding]) -> None:
    app = create_app(weddings, settings=PlatformSettings(timeline_max_markers=2), clock=clock)
    timeline = app[TIMELINE]
    for name in ("a", "b", "c"):
        timeline.write("w-small", name, clock())
    clock.advance(1)
    assert not timeline.is_visible("w-small", "a", clock())
    assert [m.marker for m in timeline.recent("w-small", clock(), 10)] == ["c", "b"]


@pytest.mark.parametrize(
    ("body", "field"),
    [({}, "marker"), ({"marker": ""}, "marker"), ({"marker": 3}, "marker"), ([], None)],
)
async def test_bad_marker_is_422(client: Client, body: object, field: str | None) -> None:
    response = await client.post(URL + "/markers", json=body)
    assert response.status == 422
    assert (await response.json()).get("field") == field


async def test_bad_limit_is_400(client: Client) -> None:
    response = await client.get(URL, params={"limit": "many"})
    assert response.status == 400
    assert (await response.json())["field"] == "limit"
