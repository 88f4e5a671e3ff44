"""The receiver application's keys: what its handlers find on `request.app`."""

from __future__ import annotations

from aiohttp import web

from wedwatch.receiver.service import Receiver

__all__ = ["RECEIVER_KEY"]

RECEIVER_KEY = web.AppKey("receiver", Receiver)
