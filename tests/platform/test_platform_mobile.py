"""The mobile endpoint (src/wedwatch/platform/mobile.py)."""

from __future__ import annotations

import pytest
from platform_fakes import Client

from wedwatch.platform.mobile import is_mobile

IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) wedwatch-probe"


async def test_mobile_summary_differs_slightly_for_phones(client: Client) -> None:
    phone = await client.get("/api/mobile/weddings/w-large", headers={"User-Agent": IPHONE})
    desktop = await client.get("/api/mobile/weddings/w-large", headers={"User-Agent": "curl/8.0"})
    assert phone.status == desktop.status == 200
    assert phone.headers["Vary"] == "User-Agent"
    on_phone, on_desktop = await phone.json(), await desktop.json()
    assert (on_phone["layout"], on_desktop["layout"]) == ("compact", "full")
    assert on_phone["hero_image"]["width"] < on_desktop["hero_image"]["width"]
    same = {k: v for k, v in on_phone.items() if k not in ("layout", "hero_image")}
    assert same == {k: v for k, v in on_desktop.items() if k not in ("layout", "hero_image")}
    assert same["name"] == "Ada & Bo"
    assert same["ceremony_at"] == "2030-06-08T14:00-04:00"
    assert same["phase"] == "planning"


@pytest.mark.parametrize(
    ("agent", "mobile"),
    [(IPHONE, True), ("Mozilla/5.0 (Linux; Android 14; Pixel 8) Mobile Safari", True), ("curl/8.0", False)],
)
def test_is_mobile(agent: str, mobile: bool) -> None:
    assert is_mobile(agent) is mobile
