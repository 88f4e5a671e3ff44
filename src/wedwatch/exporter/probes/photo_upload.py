"""photo_upload: POST a generated image (multipart); time and throughput; delete it afterwards."""

from __future__ import annotations

import os

import aiohttp

from wedwatch.config.model import PhotoUploadConfig
from wedwatch.exporter.probes.base import ProbeContext, ProbeFailure, ProbeResult

URL = "{base_url}/api/weddings/{wedding_id}/photos"

# A JPEG start-of-image marker and JFIF header so that type sniffing sees an image.
_JPEG_HEAD = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"


def _image(size: int) -> bytes:
    # Random bytes do not compress, so no proxy can make the upload look faster than it is.
    return _JPEG_HEAD + os.urandom(max(0, size - len(_JPEG_HEAD) - 2)) + b"\xff\xd9"


async def probe(ctx: ProbeContext) -> ProbeResult:
    """Upload one photo as a guest's phone would, then remove it."""
    config = ctx.config
    size = config.size_bytes if isinstance(config, PhotoUploadConfig) else 256 * 1024
    form = aiohttp.FormData()
    form.add_field("file", _image(size), filename="wedwatch-probe.jpg", content_type="image/jpeg")
    url = ctx.url(URL)
    response = await ctx.request("POST", url, data=form, expect=(200, 201))
    elapsed = ctx.elapsed()
    document = response.json()
    photo_id = document.get("photo_id") if isinstance(document, dict) else None
    if not photo_id:
        raise ProbeFailure("assertion", "upload answered without a photo_id")
    throughput = size / elapsed if elapsed > 0 else 0.0
    if not isinstance(config, PhotoUploadConfig) or config.delete_after:
        # Cleanup is not part of the measured upload, and a failed delete only leaves a photo behind.
        try:
            await ctx.request("DELETE", f"{url}/{photo_id}", expect=(200, 202, 204, 404), record_steps=False)
        except aiohttp.ClientError as exc:
            ctx.log(f"delete failed: {exc}")
    return ctx.ok(duration=elapsed, bytes=float(size), throughput_bytes_per_second=throughput)
