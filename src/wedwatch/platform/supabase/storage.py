"""Supabase Storage's object upload and delete, over the stand-in's shared photo store."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime

from aiohttp import BodyPartReader, hdrs, web

from wedwatch.platform.faults import FAULTS
from wedwatch.platform.photos import PhotoStore
from wedwatch.platform.state import CLOCK, SETTINGS, WEDDINGS
from wedwatch.platform.supabase.gateway import StorageError

__all__ = ["ObjectStore", "OBJECTS", "routes"]

_CHUNK = 64 * 1024
# Room for the multipart boundaries and part headers around the file itself.
_MULTIPART_OVERHEAD = 64 * 1024
_OBJECT = "/storage/v1/object/{bucket}/{path:.+}"


@dataclass(frozen=True, slots=True)
class _Object:
    owner: str  # the wedding whose photo quota holds it, or "" for a path that names no wedding
    photo_id: str
    id: str
    size: int


class ObjectStore:
    """Object keys (`bucket/path`) over the photo store, which holds the bytes and each wedding's quota."""

    def __init__(self, photos: PhotoStore) -> None:
        self._photos = photos
        self._objects: dict[str, _Object] = {}

    def __len__(self) -> int:
        return len(self._objects)

    def size_bytes(self) -> int:
        """Bytes the stored objects hold."""
        return sum(o.size for o in self._objects.values())

    def put(self, key: str, owner: str, content_type: str, data: bytes, now: datetime, *, upsert: bool) -> str:
        """Store an object and return its id; a key already taken needs `upsert`."""
        old = self._objects.get(key)
        if old is not None and not upsert:
            raise StorageError(400, "Duplicate", "The resource already exists", status_code=409)
        freed = old.size if old is not None and old.owner == owner else 0
        if not self._photos.fits(owner, len(data) - freed):
            raise StorageError(507, "Insufficient Storage", f"no room left for photos of {owner or 'no wedding'!r}")
        if old is not None:
            self._photos.remove(old.owner, old.photo_id)
        photo = self._photos.add(owner, content_type, data, now)
        self._objects[key] = stored = _Object(owner, photo.id, str(uuid.uuid4()), len(data))
        return stored.id

    def remove(self, key: str) -> bool:
        """Delete an object; False when there is none under `key`."""
        old = self._objects.pop(key, None)
        if old is None:
            return False
        self._photos.remove(old.owner, old.photo_id)
        return True


OBJECTS = web.AppKey("supabase_objects", ObjectStore)


def _key_and_owner(request: web.Request) -> tuple[str, str]:
    bucket, path = request.match_info["bucket"], request.match_info["path"]
    # A path under a wedding's id (`photos/<wedding_id>/...`) is that wedding's: its faults and quota apply.
    first = path.partition("/")[0]
    return f"{bucket}/{path}", first if first in request.config_dict[WEDDINGS] else ""


def _too_large() -> StorageError:
    return StorageError(413, "Payload too large", "The object exceeded the maximum allowed size")


async def _capped(chunks: AsyncIterator[bytes], limit: int) -> bytes:
    parts: list[bytes] = []
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise _too_large()
        parts.append(chunk)
    return b"".join(parts)


async def _part_chunks(part: BodyPartReader) -> AsyncIterator[bytes]:
    while chunk := await part.read_chunk(_CHUNK):
        yield chunk


async def _read_object(request: web.Request) -> tuple[str, bytes]:
    """The uploaded bytes and their content type: a multipart `file` field, or the raw body."""
    limit = request.config_dict[SETTINGS].photo_max_bytes
    if request.content_length is not None and request.content_length > limit + _MULTIPART_OVERHEAD:
        raise _too_large()
    if request.content_type != "multipart/form-data":
        return request.content_type, await _capped(request.content.iter_chunked(_CHUNK), limit)
    reader = await request.multipart()
    while (part := await reader.next()) is not None:
        if isinstance(part, BodyPartReader) and part.name == "file":
            data = await _capped(_part_chunks(part), limit)
            return part.headers.get(hdrs.CONTENT_TYPE, "application/octet-stream"), data
        await part.release()
    raise StorageError(400, "Invalid Input", "multipart body has no `file` field")


routes = web.RouteTableDef()


@routes.post(_OBJECT)
async def upload(request: web.Request) -> web.StreamResponse:
    """Store an object; a second upload to the same key is refused unless `x-upsert: true`."""
    key, owner = _key_and_owner(request)
    await request.config_dict[FAULTS].inject(request, "photo_upload", owner)
    content_type, data = await _read_object(request)
    upsert = request.headers.get("x-upsert", "").strip().lower() == "true"
    object_id = request.config_dict[OBJECTS].put(
        key, owner, content_type, data, request.config_dict[CLOCK](), upsert=upsert
    )
    return web.json_response({"Key": key, "Id": object_id})


@routes.delete(_OBJECT)
async def delete(request: web.Request) -> web.StreamResponse:
    """Delete an object."""
    key, owner = _key_and_owner(request)
    await request.config_dict[FAULTS].inject(request, "photo_upload", owner)
    if not request.config_dict[OBJECTS].remove(key):
        raise StorageError(404, "not_found", "Object not found")
    return web.json_response({"message": "Successfully deleted"})


@routes.get("/admin/storage")
async def storage_usage(request: web.Request) -> web.StreamResponse:
    """How many objects the storage holds, and their bytes (so a test can see probes clean up)."""
    objects = request.config_dict[OBJECTS]
    return web.json_response({"objects": len(objects), "bytes": objects.size_bytes()})
