"""The on-call API and page: credentials, content, escaping, OpenAPI, metrics."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from typing import Any

import pytest
from receiver_support import AUTH, MakeConfig, MakeReceiver, alert, fixture, notification

READS = ["/api/v1/alerts", "/api/v1/responses", "/api/v1/weddings/live", "/api/v1/forecasts/latest",
         "/api/v1/emergency", "/api/v1/automation", "/"]  # fmt: skip


async def post(client: Any, body: Any) -> int:
    response = await client.post("/alerts", data=io.BytesIO(json.dumps(body).encode()),
                                 headers={"Content-Type": "application/json", **AUTH})  # fmt: skip
    return int(response.status)


@pytest.mark.parametrize("path", READS)
async def test_reads_need_credentials_unless_public_read(
    path: str, make_config: MakeConfig, make_receiver: MakeReceiver
) -> None:
    client, _ = await make_receiver(make_config())
    assert (await client.get(path)).status == 401
    assert (await client.get(path, headers=AUTH)).status == 200
    public, _ = await make_receiver(make_config(receiver={"auth": {"bearer_token": "x", "public_read": True}}))
    assert (await public.get(path)).status == 200
    # public_read opens reads only: the kill switch still needs credentials.
    assert (await public.post("/api/v1/automation", json={"enabled": False})).status == 401


@pytest.mark.parametrize("path", ["/metrics", "/-/healthy", "/-/ready", "/openapi.json"])
async def test_operational_endpoints_are_open(path: str, make_config: MakeConfig, make_receiver: MakeReceiver) -> None:
    client, _ = await make_receiver(make_config())
    assert (await client.get(path)).status == 200


async def test_page_shows_the_live_wedding_and_its_firing_alert(make_config: MakeConfig, make_receiver: MakeReceiver) -> None:
    client, receiver = await make_receiver(make_config())
    assert await post(client, fixture("firing")) == 200
    assert receiver.worker is not None
    await receiver.worker.tick()
    page = await (await client.get("/", headers=AUTH)).text()
    live_section = page.split("<h2>Weddings live now</h2>")[1].split("<h2>")[0]
    assert "w-123" in live_section and "GuestListSyncFailing" in live_section
    assert "EMERGENCY MODE" in page
    assert "scale: done" in page and "page: done" in page
    assert "w-june" not in live_section


async def test_page_escapes_label_values(make_config: MakeConfig, make_receiver: MakeReceiver) -> None:
    client, _ = await make_receiver(make_config())
    evil = {"alertname": "<script>alert(1)</script>", "severity": "high", "wedding_id": "w-123", "operation": "<b>x</b>"}
    assert await post(client, notification(alert("xss", labels=evil))) == 200
    page = await (await client.get("/", headers=AUTH)).text()
    assert "<script>alert(1)</script>" not in page and "<b>x</b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


async def test_live_weddings_and_alerts_api(make_config: MakeConfig, make_receiver: MakeReceiver) -> None:
    client, _ = await make_receiver(make_config())
    await post(client, fixture("firing"))
    live = (await (await client.get("/api/v1/weddings/live", headers=AUTH)).json())["data"]
    (wedding,) = live["live"]
    assert wedding["wedding_id"] == "w-123" and wedding["phase"] == "ceremony"
    assert [a["alertname"] for a in wedding["firing"]] == ["GuestListSyncFailing"]
    assert live["emergency"]["wedding_id"] == "w-123"
    firing = (await (await client.get("/api/v1/alerts?status=firing", headers=AUTH)).json())["data"]
    assert [a["fingerprint"] for a in firing] == ["7610edfa3eac9aab"]
    assert (await client.get("/api/v1/alerts?status=weird", headers=AUTH)).status == 400
    assert (await client.get("/api/v1/alerts?limit=0", headers=AUTH)).status == 400
    responses = (await (await client.get("/api/v1/responses", headers=AUTH)).json())["data"]
    assert responses[0]["strategy"] == "emergency"
    assert sorted(a["action"] for a in responses[0]["actions"]) == ["cache_warm", "log", "page", "scale"]


async def test_openapi_describes_every_route(make_config: MakeConfig, make_receiver: MakeReceiver) -> None:
    client, receiver = await make_receiver(make_config())
    document = await (await client.get("/openapi.json")).json()
    assert document["openapi"].startswith("3.")
    routes = {r.resource.canonical for r in client.app.router.routes() if r.resource is not None}  # type: ignore[union-attr]
    documented = set(document["paths"]) | {"/", "/openapi.json"}
    assert routes <= documented, routes - documented


async def test_metrics_pass_promtool(make_config: MakeConfig, make_receiver: MakeReceiver) -> None:
    client, receiver = await make_receiver(make_config())
    await post(client, fixture("firing"))
    await post(client, {"version": "3"})
    assert receiver.worker is not None
    await receiver.worker.tick()
    body = await (await client.get("/metrics")).read()
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail("promtool is missing: `make test` installs Debian's prometheus package")
    done = subprocess.run([promtool, "check", "metrics"], input=body, capture_output=True, check=False)
    assert done.returncode == 0, done.stdout.decode() + done.stderr.decode()
    text = body.decode()
    assert 'wedwatch_receiver_notifications_total{outcome="accepted"} 1.0' in text
    assert 'wedwatch_receiver_notifications_total{outcome="bad_request"} 1.0' in text
    assert 'wedwatch_receiver_alerts_total{severity="critical",status="firing"} 1.0' in text
    assert 'wedwatch_actions_total{action="page",outcome="succeeded"} 1.0' in text
