"""Photo upload and delete (src/wedwatch/platform/photos.py)."""

from __future__ import annotations

import aiohttp
from platform_fakes import Client, MakeClient

from wedwatch.platform import PlatformSettings


def _form(data: bytes, field: str = "file") -> aiohttp.FormData:
    form = aiohttp.FormData()
    form.add_field(field, data, filename="probe.jpg", content_type="image/jpeg")
    return form


async def test_upload_then_delete(client: Client) -> None:
    response = await client.post("/api/weddings/w-small/photos", data=_form(b"\xff\xd8" + b"x" * 5000))
    assert response.status == 201
    body = await response.json()
    assert body["bytes"] == 5002
    assert body["content_type"] == "image/jpeg"
    assert response.headers["Location"] == f"/api/weddings/w-small/photos/{body['photo_id']}"

    deleted = await client.delete(response.headers["Location"])
    assert deleted.status == 204
    again = await client.delete(response.headers["Location"])
    assert again.status == 404
    assert (await again.json())["field"] == "photo_id"


async def test_photo_above_the_cap_is_413(make_client: MakeClient) -> None:
    client = await make_client(settings=PlatformSettings(photo_max_bytes=1000))
    at_cap = await client.post("/api/weddings/w-small/photos", data=_form(b"x" * 1000))
    assert at_cap.status == 201
    above = await client.post("/api/weddings/w-small/photos", data=_form(b"x" * 1001))
    assert above.status == 413
    assert (await above.json())["field"] == "file"


async def test_photo_far_above_the_cap_is_refused_by_its_length(make_client: MakeClient) -> None:
    client = await make_client(settings=PlatformSettings(photo_max_bytes=1000))
    response = await client.post("/api/weddings/w-small/photos", data=_form(b"x" * 200_000))
    assert response.status == 413


async def test_wedding_total_cap_and_deleting_frees_room(make_client: MakeClient) -> None:
    client = await make_client(settings=PlatformSettings(photo_max_bytes=1000, photo_wedding_max_bytes=2500))
    first = await client.post("/api/weddings/w-small/photos", data=_form(b"x" * 1000))
    await client.post("/api/weddings/w-small/photos", data=_form(b"x" * 1000))
    full = await client.post("/api/weddings/w-small/photos", data=_form(b"x" * 1000))
    assert full.status == 507
    # The cap is per wedding: another wedding still has room.
    other = await client.post("/api/weddings/w-large/photos", data=_form(b"x" * 1000))
    assert other.status == 201
    assert (await client.delete(first.headers["Location"])).status == 204
    retry = await client.post("/api/weddings/w-small/photos", data=_form(b"x" * 1000))
    assert retry.status == 201


async def test_upload_needs_multipart_with_a_file_field(client: Client) -> None:
    raw = await client.post("/api/weddings/w-small/photos", data=b"x" * 10, headers={"Content-Type": "image/jpeg"})
    assert raw.status == 415
    no_file = await client.post("/api/weddings/w-small/photos", data=_form(b"x", field="picture"))
    assert no_file.status == 400
    assert (await no_file.json())["field"] == "file"
