"""Photo uploads: multipart in, held in memory under a per-photo and a per-wedding cap."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from aiohttp import BodyPartReader, MultipartReader, hdrs, web

from wedwatch.calendar import Wedding
from wedwatch.platform.faults import operation
from wedwatch.platform.http import ApiError
from wedwatch.platform.state import CLOCK, SETTINGS, iso

__all__ = ["Photo", "PhotoStore", "PHOTOS", "routes"]

_CHUNK = 64 * 1024
# Room for the multipart boundaries and part headers around the file itself.
_MULTIPART_OVERHEAD = 64 * 1024


@dataclass(frozen=True, slots=True)
class Photo:
    """One uploaded photo."""

    id: str
    content_type: str
    data: bytes
    uploaded_at: datetime


class PhotoStore:
    """Photos per wedding, with the bytes each wedding holds."""

    def __init__(self, wedding_max_bytes: int) -> None:
        self._wedding_max_bytes = wedding_max_bytes
        self._photos: dict[str, dict[str, Photo]] = {}
        self._used: dict[str, int] = {}

    def used(self, wedding_id: str) -> int:
        """Bytes the wedding's photos hold."""
        return self._used.get(wedding_id, 0)

    def fits(self, wedding_id: str, size: int) -> bool:
        """Whether another `size` bytes stay within the wedding's cap."""
        return self.used(wedding_id) + size <= self._wedding_max_bytes

    def add(self, wedding_id: str, content_type: str, data: bytes, now: datetime) -> Photo:
        """Keep a photo (the caller checked `fits`)."""
        photo = Photo(id=secrets.token_hex(8), content_type=content_type, data=data, uploaded_at=now)
        self._photos.setdefault(wedding_id, {})[photo.id] = photo
        self._used[wedding_id] = self.used(wedding_id) + len(data)
        return photo

    def remove(self, wedding_id: str, photo_id: str) -> bool:
        """Delete a photo; False when the wedding has none with that id."""
        photo = self._photos.get(wedding_id, {}).pop(photo_id, None)
        if photo is None:
            return False
        self._used[wedding_id] -= len(photo.data)
        return True


PHOTOS = web.AppKey("photos", PhotoStore)

routes = web.RouteTableDef()


@routes.post("/api/weddings/{wedding_id}/photos")
@operation("photo_upload")
async def upload_photo(request: web.Request, wedding: Wedding) -> web.StreamResponse:
    """Store the multipart field `file`; 201 with the photo's id and size."""
    settings = request.config_dict[SETTINGS]
    if request.content_type != "multipart/form-data":
        raise ApiError(415, f"expected Content-Type multipart/form-data, got {request.content_type}")
    limit = settings.photo_max_bytes
    if request.content_length is not None and request.content_length > limit + _MULTIPART_OVERHEAD:
        raise ApiError(413, f"photo larger than {limit} bytes", field="file")
    part = await _file_part(await request.multipart())
    data = await _read_capped(part, limit)
    content_type = part.headers.get(hdrs.CONTENT_TYPE, "application/octet-stream")
    store = request.config_dict[PHOTOS]
    if not store.fits(wedding.id, len(data)):
        raise ApiError(507, f"wedding {wedding.id!r} has no room left for photos ({store.used(wedding.id)} bytes held)")
    photo = store.add(wedding.id, content_type, data, request.config_dict[CLOCK]())
    body = {
        "wedding_id": wedding.id,
        "photo_id": photo.id,
        "bytes": len(data),
        "content_type": photo.content_type,
        "uploaded_at": iso(photo.uploaded_at),
    }
    location = request.app.router["delete_photo"].url_for(wedding_id=wedding.id, photo_id=photo.id)
    return web.json_response(body, status=201, headers={hdrs.LOCATION: str(location)})


async def _file_part(reader: MultipartReader) -> BodyPartReader:
    while (part := await reader.next()) is not None:
        if isinstance(part, BodyPartReader) and part.name == "file":
            return part
        await part.release()
    raise ApiError(400, "multipart body has no `file` field", field="file")


async def _read_capped(part: BodyPartReader, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while chunk := await part.read_chunk(_CHUNK):
        size += len(chunk)
        if size > limit:
            raise ApiError(413, f"photo larger than {limit} bytes", field="file")
        chunks.append(chunk)
    return b"".join(chunks)


@routes.delete("/api/weddings/{wedding_id}/photos/{photo_id}", name="delete_photo")
@operation("photo_upload")
async def delete_photo(request: web.Request, wedding: Wedding) -> web.StreamResponse:
    """Delete an uploaded photo; 204, or 404 when there is none with that id."""
    photo_id = request.match_info["photo_id"]
    if not request.config_dict[PHOTOS].remove(wedding.id, photo_id):
        raise ApiError(404, f"wedding {wedding.id!r} has no photo {photo_id!r}", field="photo_id")
    return web.Response(status=204)
