"""The supabase dialect of the stand-in (src/wedwatch/platform/supabase/)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from platform_fakes import Client, FakeClock, MakeClient

from wedwatch.calendar import Wedding, parse_calendar
from wedwatch.platform import DEFAULT_API_KEY, PlatformSettings, live_status
from wedwatch.platform.guests import fake_guests
from wedwatch.platform.mobile import summary

KEY = "test-anon-key"
AUTH = {"apikey": KEY, "Authorization": f"Bearer {KEY}"}
SUPABASE = PlatformSettings(dialect="supabase", api_key=KEY, guest_list_base_seconds=0, guest_list_per_guest_seconds=0)
REPRESENTATION = {"Prefer": "return=representation"}
WS = "/realtime/v1/websocket"


@pytest.fixture
async def sb(make_client: MakeClient) -> Client:
    """A supabase-dialect platform whose client sends the key on every request."""
    return await make_client(settings=SUPABASE, headers=AUTH)


@pytest.fixture
async def bare(make_client: MakeClient) -> Client:
    """A supabase-dialect platform whose client sends no key unless told to."""
    return await make_client(settings=SUPABASE)


async def _rows(client: Client, table: str, /, **params: str) -> list[dict[str, Any]]:
    response = await client.get(f"/rest/v1/{table}", params=params)
    assert response.status == 200, await response.text()
    rows: list[dict[str, Any]] = await response.json()
    return rows


async def _insert(client: Client, table: str, row: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(f"/rest/v1/{table}", json=row, headers=REPRESENTATION)
    assert response.status == 201, await response.text()
    [inserted] = await response.json()
    assert isinstance(inserted, dict)
    return inserted


async def _fault(client: Client, **spec: Any) -> None:
    response = await client.post("/admin/faults", json=spec)
    assert response.status == 201, await response.text()


# --- auth --------------------------------------------------------------------------------------

ENDPOINTS = [
    ("GET", "/rest/v1/weddings"),
    ("GET", "/rest/v1/nope"),
    ("POST", "/rest/v1/timeline_events"),
    ("GET", "/rest/v1/rpc/mobile_summary?wedding_id=w-small"),
    ("POST", "/storage/v1/object/photos/w-small/a.jpg"),
    ("DELETE", "/storage/v1/object/photos/w-small/a.jpg"),
    ("GET", WS),
]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "No API key found in request"),
        ({"Authorization": f"Bearer {KEY}"}, "No API key found in request"),
        ({"apikey": "wrong", "Authorization": f"Bearer {KEY}"}, "Invalid API key"),
        ({"apikey": KEY + "x", "Authorization": f"Bearer {KEY}"}, "Invalid API key"),
    ],
)
async def test_every_api_needs_the_key(
    bare: Client, method: str, path: str, headers: dict[str, str], message: str
) -> None:
    response = await bare.request(method, path, headers=headers)
    assert response.status == 401
    assert await response.json() == {"message": message}


@pytest.mark.parametrize("authorization", [None, "Bearer wrong", f"Basic {KEY}"])
@pytest.mark.parametrize(("method", "path"), [m for m in ENDPOINTS if m[1] != WS])
async def test_rest_and_storage_need_the_bearer_too(
    bare: Client, method: str, path: str, authorization: str | None
) -> None:
    headers = {"apikey": KEY} | ({"Authorization": authorization} if authorization else {})
    response = await bare.request(method, path, headers=headers)
    assert response.status == 401
    assert "message" in await response.json()


async def test_realtime_takes_the_key_as_a_header_or_a_query_parameter(bare: Client) -> None:
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await bare.ws_connect(WS, params={"vsn": "1.0.0", "apikey": "wrong"})
    assert refused.value.status == 401
    async with bare.ws_connect(WS, params={"vsn": "1.0.0", "apikey": KEY}) as ws:
        assert not ws.closed
    async with bare.ws_connect(WS, headers={"apikey": KEY}) as ws:
        assert not ws.closed


async def test_admin_and_health_need_no_key(bare: Client) -> None:
    assert (await bare.get("/-/healthy")).status == 200
    assert (await bare.get("/admin/storage")).status == 200


async def test_the_wedwatch_api_is_not_served(sb: Client) -> None:
    assert (await sb.get("/api/weddings")).status == 404
    assert (await sb.get("/api/weddings/w-small/guests")).status == 404


def test_the_default_key_is_documented() -> None:
    assert PlatformSettings().api_key.get_secret_value() == DEFAULT_API_KEY
    from wedwatch.platform import supabase

    assert DEFAULT_API_KEY in (supabase.__doc__ or "")


# --- tables ------------------------------------------------------------------------------------


async def test_weddings_table_is_a_calendar(sb: Client, weddings: list[Wedding]) -> None:
    rows = await _rows(sb, "weddings")
    assert rows[0] == {
        "id": "w-small",
        "name": None,
        "venue": None,
        "ceremony_at": "2030-06-01T14:00:00+00:00",  # 15:00 in London, as an instant with its offset
        "timezone": "Europe/London",
        "guests": 10,
        "vendors": 2,
    }
    # A calendar mapping `items: "$[*]"` with the default fields reads it back to the same weddings.
    load = parse_calendar(rows, source="supabase", strict=False)
    assert load.errors == []
    assert load.weddings == weddings
    assert await _rows(sb, "weddings", id="eq.w-large", select="id,guests") == [{"id": "w-large", "guests": 400}]


async def test_guests_are_the_calendars_count_of_the_shared_guest_list(sb: Client, weddings: list[Wedding]) -> None:
    calendar = {row["id"]: row["guests"] for row in await _rows(sb, "weddings")}
    for wedding in weddings:
        rows = await _rows(sb, "guests", wedding_id=f"eq.{wedding.id}")
        assert len(rows) == calendar[wedding.id] == wedding.guests
        assert rows == [{"wedding_id": wedding.id, **guest} for guest in fake_guests(wedding, 0)]
    assert await _rows(sb, "guests", wedding_id="eq.no-such-wedding") == []
    assert len(await _rows(sb, "guests")) == sum(w.guests for w in weddings)


async def test_filters_select_order_limit_and_offset(sb: Client) -> None:
    table_two = await _rows(sb, "guests", wedding_id="eq.w-large", table="eq.2", select="id,table")
    assert [row["table"] for row in table_two] == [2] * 10
    assert set(table_two[0]) == {"id", "table"}
    ids = [row["id"] for row in await _rows(sb, "guests", wedding_id="eq.w-small")]
    response = await sb.get(
        "/rest/v1/guests",
        params={"wedding_id": "eq.w-small", "select": "id", "order": "id.desc", "limit": "3", "offset": "1"},
    )
    assert await response.json() == [{"id": i} for i in sorted(ids, reverse=True)[1:4]]
    assert response.headers["Content-Range"] == "1-3/*"
    by_table = await _rows(sb, "guests", wedding_id="eq.w-large", order="table.desc,id.asc", limit="2")
    assert [row["table"] for row in by_table] == [40, 40]
    assert by_table[0]["id"] < by_table[1]["id"]


async def test_unknown_table_is_404(sb: Client) -> None:
    for method in ("GET", "POST"):
        response = await sb.request(method, "/rest/v1/nope", json={})
        assert response.status == 404
        body = await response.json()
        assert body["code"] == "42P01" and "nope" in body["message"]


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"wedding_id": "gt.w-small"}, "PGRST100"),
        ({"wedding_id": "w-small"}, "PGRST100"),
        ({"colour": "eq.red"}, "42703"),
        ({"table": "eq.first"}, "22P02"),
        ({"select": "id,colour"}, "42703"),
        ({"select": "*,weddings(*)"}, "PGRST100"),
        ({"order": "id.sideways"}, "PGRST100"),
        ({"order": "colour"}, "42703"),
        ({"limit": "-1"}, "PGRST100"),
        ({"offset": "many"}, "PGRST100"),
    ],
)
async def test_bad_query_is_400(sb: Client, params: dict[str, str], code: str) -> None:
    response = await sb.get("/rest/v1/guests", params=params)
    assert response.status == 400
    body = await response.json()
    assert body["code"] == code
    assert set(body) == {"code", "details", "hint", "message"}


async def test_timeline_events_are_readable_after_the_propagation_delay(sb: Client, clock: FakeClock) -> None:
    row = await _insert(sb, "timeline_events", {"wedding_id": "w-small", "marker": "probe-1"})
    assert row == {
        "id": row["id"],
        "wedding_id": "w-small",
        "marker": "probe-1",
        "created_at": "2030-05-01T12:00:00.000Z",
    }
    assert await _rows(sb, "timeline_events", wedding_id="eq.w-small") == []
    clock.advance(0.02)  # default propagation is 20 ms
    assert await _rows(sb, "timeline_events", wedding_id="eq.w-small") == [row]
    assert await _rows(sb, "timeline_events", marker="eq.probe-1", select="id") == [{"id": row["id"]}]
    assert await _rows(sb, "timeline_events", wedding_id="eq.w-large") == []
    # Without Prefer: return=representation, PostgREST answers 201 with no body.
    minimal = await sb.post("/rest/v1/timeline_events", json={"wedding_id": "w-small", "marker": "probe-2"})
    assert (minimal.status, await minimal.read()) == (201, b"")
    bulk = await sb.post(
        "/rest/v1/timeline_events?select=marker",
        json=[{"wedding_id": "w-large", "marker": "a"}, {"wedding_id": "w-large", "marker": "b"}],
        headers=REPRESENTATION,
    )
    assert await bulk.json() == [{"marker": "a"}, {"marker": "b"}]


@pytest.mark.parametrize(
    ("table", "body", "status", "code"),
    [
        ("timeline_events", {"wedding_id": "w-small", "marker": "m", "colour": "red"}, 400, "PGRST204"),
        ("timeline_events", {"wedding_id": "w-small", "marker": "m", "id": 7}, 400, "428C9"),
        ("timeline_events", {"wedding_id": "w-small"}, 400, "23502"),
        ("timeline_events", {"wedding_id": "w-small", "marker": None}, 400, "23502"),
        ("timeline_events", {"wedding_id": "w-small", "marker": {"a": 1}}, 400, "22P02"),
        ("timeline_events", {"wedding_id": "w-small", "marker": "x" * 257}, 400, "22001"),
        ("timeline_events", {"wedding_id": "w-nowhere", "marker": "m"}, 409, "23503"),
        ("timeline_events", ["not a row"], 400, "PGRST102"),
        ("notifications", {"vendor": "florist"}, 400, "23502"),
        ("guests", {"wedding_id": "w-small", "name": "Gate Crasher"}, 403, "42501"),
        ("wedding_status", {"wedding_id": "w-small"}, 403, "42501"),
    ],
)
async def test_bad_insert(sb: Client, table: str, body: Any, status: int, code: str) -> None:
    response = await sb.post(f"/rest/v1/{table}", json=body, headers=REPRESENTATION)
    assert response.status == status
    assert (await response.json())["code"] == code


async def test_insert_body_must_be_json(sb: Client) -> None:
    bad = await sb.post("/rest/v1/timeline_events", data="{nope", headers={"Content-Type": "application/json"})
    assert (bad.status, (await bad.json())["code"]) == (400, "PGRST102")
    form = await sb.post("/rest/v1/timeline_events", data={"wedding_id": "w-small"})
    assert (form.status, (await form.json())["code"]) == (415, "PGRST107")


async def test_notification_status_moves_to_delivered(sb: Client, clock: FakeClock) -> None:
    row = await _insert(sb, "notifications", {"wedding_id": "w-small"})
    assert isinstance(row["id"], int)
    assert (row["status"], row["vendor"], row["message"]) == ("queued", "all", "test notification")
    statuses = []
    for step in (0, 0.01, 0.02):  # sent after 10 ms, delivered after 30 ms
        clock.advance(step)
        [now] = await _rows(sb, "notifications", id=f"eq.{row['id']}")
        statuses.append(now["status"])
    assert statuses == ["queued", "sent", "delivered"]
    assert now["delivered_at"] == "2030-05-01T12:00:00.030Z"
    other = await _insert(sb, "notifications", {"wedding_id": "w-large", "vendor": "florist", "message": "hi"})
    assert other["id"] != row["id"]
    assert [r["id"] for r in await _rows(sb, "notifications", wedding_id="eq.w-large")] == [other["id"]]
    assert await _rows(sb, "notifications", id="eq.999") == []


async def test_wedding_status_is_the_live_status(sb: Client, clock: FakeClock, weddings: list[Wedding]) -> None:
    await _fault(sb, operation="critical_path", wedding_id="w-large", milestone_delay_seconds=600, open_incidents=2)
    clock.advance(5)
    rows = {row["wedding_id"]: row for row in await _rows(sb, "wedding_status")}
    assert set(rows) == {"w-small", "w-large"}
    for wedding in weddings:
        extra = 600 if wedding.id == "w-large" else 0
        status = live_status(wedding, clock(), extra_delay_seconds=extra).to_dict()
        row = rows[wedding.id]
        for column in ("guests_checked_in", "guests_expected", "vendors_confirmed", "vendors_booked", "phase"):
            assert row[column] == status[column]
        assert row["timeline_delay_seconds"] == status["next_milestone"]["delay_seconds"]
        assert row["next_milestone"] == status["next_milestone"]["name"]
    assert (rows["w-large"]["open_incidents"], rows["w-large"]["incident_response_seconds"]) == (2, 5.0)
    assert (rows["w-small"]["open_incidents"], rows["w-small"]["incident_response_seconds"]) == (0, 0.0)
    assert await _rows(sb, "wedding_status", wedding_id="eq.w-small", select="open_incidents") == [
        {"open_incidents": 0}
    ]


async def test_mobile_summary_by_get_or_post(sb: Client, clock: FakeClock, weddings: list[Wedding]) -> None:
    phone = {"User-Agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)"}
    got = await sb.get("/rest/v1/rpc/mobile_summary", params={"wedding_id": "w-large"}, headers=phone)
    assert got.status == 200
    assert await got.json() == summary(weddings[1], clock(), mobile=True)
    assert got.headers["Vary"] == "User-Agent"
    posted = await sb.post("/rest/v1/rpc/mobile_summary", json={"wedding_id": "w-large"})
    assert await posted.json() == summary(weddings[1], clock(), mobile=False)
    unknown = await sb.get("/rest/v1/rpc/mobile_summary", params={"wedding_id": "w-nowhere"})
    assert (unknown.status, (await unknown.json())["code"]) == (404, "P0002")
    for response in (
        await sb.get("/rest/v1/rpc/mobile_summary"),
        await sb.post("/rest/v1/rpc/mobile_summary", json={"wedding": "w-large"}),
        await sb.get("/rest/v1/rpc/teleport", params={"wedding_id": "w-large"}),
    ):
        assert (response.status, (await response.json())["code"]) == (404, "PGRST202")


# --- realtime ----------------------------------------------------------------------------------


def _join(topic: str, ref: str, **change: Any) -> dict[str, Any]:
    binding = {"event": "INSERT", "schema": "public", "table": "timeline_events"} | change
    return {"topic": topic, "event": "phx_join", "payload": {"config": {"postgres_changes": [binding]}}, "ref": ref}


async def _next(ws: aiohttp.ClientWebSocketResponse, event: str) -> dict[str, Any]:
    """The next message of `event`, skipping others (system messages); bounded by a timeout."""
    async with asyncio.timeout(5):
        while True:
            message: dict[str, Any] = await ws.receive_json()
            if message["event"] == event:
                return message


async def test_inserts_reach_the_channels_whose_filter_they_match(sb: Client) -> None:
    async with sb.ws_connect(WS, params={"apikey": KEY, "vsn": "1.0.0"}) as ws:
        await ws.send_json(_join("realtime:mine", "1", filter="wedding_id=eq.w-small"))
        reply = await _next(ws, "phx_reply")
        assert (reply["topic"], reply["ref"], reply["payload"]["status"]) == ("realtime:mine", "1", "ok")
        [binding] = reply["payload"]["response"]["postgres_changes"]
        assert binding["filter"] == "wedding_id=eq.w-small" and isinstance(binding["id"], int)
        await ws.send_json(_join("realtime:theirs", "2", filter="wedding_id=eq.w-large"))
        theirs = (await _next(ws, "phx_reply"))["payload"]["response"]["postgres_changes"][0]["id"]

        written = await _insert(sb, "timeline_events", {"wedding_id": "w-small", "marker": "mine"})
        change = await _next(ws, "postgres_changes")
        assert change["topic"] == "realtime:mine" and change["ref"] is None
        assert change["payload"]["ids"] == [binding["id"]]
        data = change["payload"]["data"]
        assert (data["schema"], data["table"], data["type"]) == ("public", "timeline_events", "INSERT")
        assert data["record"] == written
        assert data["commit_timestamp"] == written["created_at"]

        await _insert(sb, "timeline_events", {"wedding_id": "w-large", "marker": "theirs"})
        change = await _next(ws, "postgres_changes")
        assert (change["topic"], change["payload"]["ids"]) == ("realtime:theirs", [theirs])
        assert change["payload"]["data"]["record"]["marker"] == "theirs"


async def test_a_filter_for_another_wedding_gets_nothing(sb: Client) -> None:
    async with sb.ws_connect(WS, params={"apikey": KEY}) as ws:
        await ws.send_json(_join("realtime:large", "1", filter="wedding_id=eq.w-large"))
        await _next(ws, "phx_reply")
        await _insert(sb, "timeline_events", {"wedding_id": "w-small", "marker": "not-for-you"})
        await _insert(sb, "timeline_events", {"wedding_id": "w-large", "marker": "for-you"})
        # Changes go out in insert order after the same delay: the first one here must be the second insert.
        change = await _next(ws, "postgres_changes")
        assert change["payload"]["data"]["record"]["marker"] == "for-you"


async def test_heartbeat_leave_and_refused_joins(sb: Client) -> None:
    async with sb.ws_connect(WS, params={"apikey": KEY}) as ws:
        await ws.send_json({"topic": "phoenix", "event": "heartbeat", "payload": {}, "ref": "7"})
        assert await _next(ws, "phx_reply") == {
            "topic": "phoenix",
            "event": "phx_reply",
            "payload": {"status": "ok", "response": {}},
            "ref": "7",
        }
        for join in (
            _join("realtime:x", "1", table="guests"),
            _join("realtime:x", "2", filter="wedding_id=gt.w-small"),
            _join("realtime:x", "3", event="TRUNCATE"),
            _join("elsewhere", "4"),
        ):
            await ws.send_json(join)
            reply = await _next(ws, "phx_reply")
            assert (reply["ref"], reply["payload"]["status"]) == (join["ref"], "error")
            assert reply["payload"]["response"]["reason"]
        await ws.send_json(_join("realtime:all", "5"))
        assert (await _next(ws, "phx_reply"))["payload"]["status"] == "ok"
        await ws.send_json({"topic": "realtime:all", "event": "phx_leave", "payload": {}, "ref": "6"})
        assert (await _next(ws, "phx_reply"))["payload"]["status"] == "ok"
        await ws.send_str("not json")
        await ws.send_json({"topic": "realtime:all", "event": "broadcast", "payload": {}, "ref": "8"})
        assert (await _next(ws, "phx_reply"))["payload"]["response"] == {"reason": "unmatched topic"}


async def test_unsupported_serializer_is_refused(sb: Client) -> None:
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await sb.ws_connect(WS, params={"apikey": KEY, "vsn": "2.0.0"})
    assert refused.value.status == 400


async def test_shutdown_closes_open_sockets(sb: Client) -> None:
    async with sb.ws_connect(WS, params={"apikey": KEY}) as ws:
        await ws.send_json(_join("realtime:all", "1"))
        await _next(ws, "phx_reply")
        # The server waits for the client's answer to its close frame: read while it stops.
        stopping = asyncio.create_task(sb.server.close())
        async with asyncio.timeout(5):
            while (closing := await ws.receive()).type is aiohttp.WSMsgType.TEXT:
                pass  # the join's system message
            await stopping
        assert closing.type is aiohttp.WSMsgType.CLOSE
        assert ws.close_code == aiohttp.WSCloseCode.GOING_AWAY


async def _propagation(sb: Client, wedding_id: str) -> float:
    """Seconds from an insert's answer to its change on a subscribed socket."""
    async with sb.ws_connect(WS, params={"apikey": KEY}) as ws:
        await ws.send_json(_join("realtime:t", "1", filter=f"wedding_id=eq.{wedding_id}"))
        await _next(ws, "phx_reply")
        await _insert(sb, "timeline_events", {"wedding_id": wedding_id, "marker": "timed"})
        answered = time.perf_counter()
        await _next(ws, "postgres_changes")
        return time.perf_counter() - answered


async def test_realtime_delivery_includes_timeline_sync_latency(sb: Client) -> None:
    await _fault(sb, operation="timeline_sync", wedding_id="w-small", latency_seconds=0.3)
    slow = await _propagation(sb, "w-small")
    other = await _propagation(sb, "w-large")
    assert other < slow / 3  # a ratio within one run, never a wall-clock threshold


# --- storage -----------------------------------------------------------------------------------


async def _objects(client: Client) -> int:
    count: int = (await (await client.get("/admin/storage")).json())["objects"]
    return count


async def test_upload_duplicate_upsert_and_delete(sb: Client) -> None:
    url = "/storage/v1/object/photos/w-small/probe.jpg"
    first = await sb.post(url, data=b"\xff\xd8jpeg", headers={"Content-Type": "image/jpeg"})
    assert first.status == 200
    body = await first.json()
    assert body["Key"] == "photos/w-small/probe.jpg" and len(body["Id"]) == 36
    assert await _objects(sb) == 1

    duplicate = await sb.post(url, data=b"again", headers={"Content-Type": "image/jpeg"})
    assert duplicate.status == 400
    assert await duplicate.json() == {
        "statusCode": "409",
        "error": "Duplicate",
        "message": "The resource already exists",
    }
    upsert = await sb.post(url, data=b"again", headers={"Content-Type": "image/jpeg", "x-upsert": "true"})
    assert upsert.status == 200
    assert (await upsert.json())["Id"] != body["Id"]

    form = aiohttp.FormData()
    form.add_field("file", b"\xff\xd8multipart", filename="p.jpg", content_type="image/jpeg")
    multipart = await sb.post("/storage/v1/object/photos/misc/p.jpg", data=form)
    assert (multipart.status, (await multipart.json())["Key"]) == (200, "photos/misc/p.jpg")
    usage = await (await sb.get("/admin/storage")).json()
    assert usage == {"objects": 2, "bytes": len(b"again") + len(b"\xff\xd8multipart")}

    for key in ("photos/w-small/probe.jpg", "photos/misc/p.jpg"):
        deleted = await sb.delete(f"/storage/v1/object/{key}")
        assert (deleted.status, await deleted.json()) == (200, {"message": "Successfully deleted"})
    assert await (await sb.get("/admin/storage")).json() == {"objects": 0, "bytes": 0}
    missing = await sb.delete(url)
    assert missing.status == 404
    assert (await missing.json())["statusCode"] == "404"


async def test_upload_limits(make_client: MakeClient) -> None:
    sb = await make_client(settings=SUPABASE.model_copy(update={"photo_max_bytes": 1000}), headers=AUTH)
    too_big = await sb.post("/storage/v1/object/photos/a.jpg", data=b"x" * 1001)
    assert too_big.status == 413
    assert (await too_big.json())["statusCode"] == "413"
    form = aiohttp.FormData()
    form.add_field("other", b"x", filename="p.jpg")
    no_file = await sb.post("/storage/v1/object/photos/b.jpg", data=form)
    assert no_file.status == 400
    assert await _objects(sb) == 0


# --- faults ------------------------------------------------------------------------------------

Call = Callable[[Client, str], Awaitable[aiohttp.ClientResponse]]

OPERATIONS: dict[str, Call] = {
    "guest_list": lambda c, w: c.get("/rest/v1/guests", params={"wedding_id": f"eq.{w}"}),
    "photo_upload": lambda c, w: c.post(
        f"/storage/v1/object/photos/{w}/probe.jpg", data=b"jpeg", headers={"x-upsert": "true"}
    ),
    "timeline_sync": lambda c, w: c.post("/rest/v1/timeline_events", json={"wedding_id": w, "marker": "m"}),
    "vendor_notification": lambda c, w: c.post("/rest/v1/notifications", json={"wedding_id": w}),
    "mobile": lambda c, w: c.get("/rest/v1/rpc/mobile_summary", params={"wedding_id": w}),
    "critical_path": lambda c, w: c.get("/rest/v1/wedding_status", params={"wedding_id": f"eq.{w}"}),
}


@pytest.mark.parametrize("operation", OPERATIONS)
async def test_error_fault_answers_its_status_for_its_operation_and_wedding(sb: Client, operation: str) -> None:
    await _fault(sb, operation=operation, wedding_id="w-small", error_rate=1, status=503)
    failed = await OPERATIONS[operation](sb, "w-small")
    assert failed.status == 503
    body = await failed.json()
    if operation == "photo_upload":
        assert body == {"statusCode": "503", "error": "Service Unavailable", "message": body["message"]}
    else:
        assert body["code"] == "WW000" and "injected fault" in body["message"]
    assert (await OPERATIONS[operation](sb, "w-large")).status < 300
    others = [op for op in OPERATIONS if op != operation]
    for other in others:
        assert (await OPERATIONS[other](sb, "w-small")).status < 300, other
    assert (await sb.get("/rest/v1/weddings")).status == 200  # the calendar belongs to no operation


async def _elapsed(call: Awaitable[aiohttp.ClientResponse]) -> float:
    started = time.perf_counter()
    response = await call
    await response.read()
    assert response.status < 300
    return time.perf_counter() - started


@pytest.mark.parametrize("operation", OPERATIONS)
async def test_latency_fault_delays_its_operation_and_wedding(sb: Client, operation: str) -> None:
    await _fault(sb, operation=operation, wedding_id="w-small", latency_seconds=0.3)
    slow = await _elapsed(OPERATIONS[operation](sb, "w-small"))
    other = await _elapsed(OPERATIONS[operation](sb, "w-large"))
    assert other < slow / 3  # a ratio within one run, never a wall-clock threshold


async def test_a_notification_read_by_id_gets_its_weddings_faults(sb: Client) -> None:
    row = await _insert(sb, "notifications", {"wedding_id": "w-small"})
    await _fault(sb, operation="vendor_notification", wedding_id="w-small", error_rate=1, status=502)
    assert (await sb.get("/rest/v1/notifications", params={"id": f"eq.{row['id']}"})).status == 502


async def test_hang_fault_holds_the_request(sb: Client) -> None:
    await _fault(sb, operation="guest_list", wedding_id="w-small", hang=True)
    with pytest.raises(TimeoutError):
        await sb.get("/rest/v1/guests?wedding_id=eq.w-small", timeout=aiohttp.ClientTimeout(total=0.3))
    assert (await sb.get("/rest/v1/guests?wedding_id=eq.w-large")).status == 200
