"""Supabase Realtime's Postgres changes over Phoenix channels (serializer vsn 1.0.0: JSON objects)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from wedwatch.platform.supabase.gateway import GatewayError
from wedwatch.platform.supabase.postgrest import Row, Schema, matches

__all__ = ["Realtime", "REALTIME", "Subscription", "routes"]

log = logging.getLogger("wedwatch.platform")

_VSN = "1.0.0"
_EVENTS = frozenset({"INSERT", "UPDATE", "DELETE", "*"})

Message = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Subscription:
    """One `postgres_changes` binding of a joined channel."""

    id: int
    event: str
    table: str
    filter: tuple[str, str] | None  # (column, value) of `column=eq.value`

    def describe(self) -> dict[str, Any]:
        """The binding as the join reply echoes it, with its id."""
        described: dict[str, Any] = {"id": self.id, "event": self.event, "schema": "public", "table": self.table}
        if self.filter is not None:
            described["filter"] = f"{self.filter[0]}=eq.{self.filter[1]}"
        return described

    def wants(self, table: str, event: str, row: Row) -> bool:
        """Whether a change of `table` must reach this binding."""
        if table != self.table or self.event not in ("*", event):
            return False
        return self.filter is None or matches(row.get(self.filter[0]), self.filter[1])


@dataclass(eq=False, slots=True)
class _Socket:
    ws: web.WebSocketResponse
    channels: dict[str, list[Subscription]] = field(default_factory=dict)


def _reply(topic: Any, ref: Any, status: str, response: dict[str, Any]) -> Message:
    return {"topic": topic, "event": "phx_reply", "payload": {"status": status, "response": response}, "ref": ref}


class Realtime:
    """The open sockets, their channels, and the changes on their way to them."""

    def __init__(self, published: Mapping[str, Schema]) -> None:
        self._published = published
        self._sockets: set[_Socket] = set()
        self._deliveries: set[asyncio.Task[None]] = set()
        self._next_id = 1

    def _binding(self, spec: Any) -> Subscription:
        if not isinstance(spec, dict):
            raise ValueError("each postgres_changes entry must be an object")
        event = str(spec.get("event", "")).upper()
        schema, table, where = spec.get("schema"), spec.get("table"), spec.get("filter")
        if event not in _EVENTS:
            raise ValueError(f"event must be one of INSERT, UPDATE, DELETE, *; got {spec.get('event')!r}")
        if schema != "public" or not isinstance(table, str) or table not in self._published:
            raise ValueError(
                f"no changes are published for {schema}.{table}; only public.{', public.'.join(self._published)}"
            )
        condition = None
        if where not in (None, ""):
            column, _, value = str(where).partition("=")
            operator, dot, value = value.partition(".")
            if column not in self._published[table].columns or operator != "eq" or not dot:
                raise ValueError(f"filter must be column=eq.value with a column of {table}; got {where!r}")
            condition = (column, value)
        subscription = Subscription(self._next_id, event, table, condition)
        self._next_id += 1
        return subscription

    async def _handle(self, socket: _Socket, message: Message) -> None:
        topic, event, ref = message.get("topic"), message.get("event"), message.get("ref")
        payload = message.get("payload")
        if topic == "phoenix" and event == "heartbeat":
            await socket.ws.send_json(_reply(topic, ref, "ok", {}))
        elif event == "phx_join":
            await self._join(socket, topic, payload, ref)
        elif event == "phx_leave" and topic in socket.channels:
            del socket.channels[topic]
            await socket.ws.send_json(_reply(topic, ref, "ok", {}))
        elif topic not in socket.channels:
            await socket.ws.send_json(_reply(topic, ref, "error", {"reason": "unmatched topic"}))
        # Other events of a joined channel (access_token, broadcast, presence) need no answer here.

    async def _join(self, socket: _Socket, topic: Any, payload: Any, ref: Any) -> None:
        if not isinstance(topic, str) or not topic.startswith("realtime:"):
            await socket.ws.send_json(_reply(topic, ref, "error", {"reason": "unmatched topic"}))
            return
        config = payload.get("config") if isinstance(payload, dict) else None
        specs = config.get("postgres_changes") if isinstance(config, dict) else None
        try:
            if not isinstance(specs, list | None):
                raise ValueError("config.postgres_changes must be a list")
            bindings = [self._binding(spec) for spec in specs or ()]
        except ValueError as exc:
            await socket.ws.send_json(_reply(topic, ref, "error", {"reason": str(exc)}))
            return
        socket.channels[topic] = bindings
        await socket.ws.send_json(_reply(topic, ref, "ok", {"postgres_changes": [b.describe() for b in bindings]}))
        if bindings:
            system = {
                "channel": topic.removeprefix("realtime:"),
                "extension": "postgres_changes",
                "message": "Subscribed to PostgreSQL",
                "status": "ok",
            }
            await socket.ws.send_json({"topic": topic, "event": "system", "payload": system, "ref": None})

    def publish(self, table: str, row: Row, *, commit_timestamp: str, delay_seconds: float) -> None:
        """An INSERT into `table`: deliver it after `delay_seconds` to the channels subscribed now."""
        targets = []
        for socket in self._sockets:
            for topic, bindings in socket.channels.items():
                ids = [b.id for b in bindings if b.wants(table, "INSERT", row)]
                if ids:
                    targets.append((socket, topic, ids))
        if not targets:
            return
        data = {
            "schema": "public",
            "table": table,
            "type": "INSERT",
            "record": row,
            "commit_timestamp": commit_timestamp,
            "errors": None,
        }
        task = asyncio.get_running_loop().create_task(self._deliver(targets, data, delay_seconds))
        self._deliveries.add(task)
        task.add_done_callback(self._deliveries.discard)

    async def _deliver(self, targets: list[tuple[_Socket, str, list[int]]], data: Message, delay: float) -> None:
        await asyncio.sleep(delay)
        for socket, topic, ids in targets:
            if socket.ws.closed or topic not in socket.channels:  # gone or left meanwhile
                continue
            message = {"topic": topic, "event": "postgres_changes", "payload": {"data": data, "ids": ids}, "ref": None}
            with contextlib.suppress(ConnectionError):
                await socket.ws.send_json(message)

    async def serve(self, request: web.Request) -> web.WebSocketResponse:
        """Run one client's socket until either side closes it."""
        vsn = request.query.get("vsn", _VSN)
        if vsn != _VSN:
            raise GatewayError(400, f"unsupported vsn {vsn!r}: this stand-in speaks {_VSN} (JSON objects)")
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        socket = _Socket(ws)
        self._sockets.add(socket)
        try:
            async for frame in ws:
                if frame.type is not WSMsgType.TEXT:
                    continue
                try:
                    message = json.loads(frame.data)
                except ValueError:
                    log.debug("realtime: ignored a frame that is not JSON")
                    continue
                if isinstance(message, dict):
                    await self._handle(socket, message)
        finally:
            self._sockets.discard(socket)
        return ws

    async def close(self) -> None:
        """Drop pending deliveries and close every socket (at shutdown, before the server waits for handlers)."""
        for task in list(self._deliveries):
            task.cancel()
        await asyncio.gather(*self._deliveries, return_exceptions=True)
        for socket in list(self._sockets):
            await socket.ws.close(code=WSCloseCode.GOING_AWAY, message=b"platform shutting down")


REALTIME = web.AppKey("supabase_realtime", Realtime)

routes = web.RouteTableDef()


@routes.get("/realtime/v1/websocket")
async def websocket(request: web.Request) -> web.StreamResponse:
    """Supabase Realtime's socket: Phoenix channels carrying Postgres changes."""
    return await request.config_dict[REALTIME].serve(request)
