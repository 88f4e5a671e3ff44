"""PostgREST's endpoints, `/rest/v1/<table>` and `/rest/v1/rpc/<function>`, over the dialect's tables."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable
from typing import Any

from aiohttp import hdrs, web

from wedwatch.calendar import Wedding
from wedwatch.platform.faults import FAULTS
from wedwatch.platform.mobile import is_mobile, summary
from wedwatch.platform.state import CLOCK, SETTINGS, WEDDINGS
from wedwatch.platform.supabase.gateway import PostgrestError
from wedwatch.platform.supabase.postgrest import Row, parse_query
from wedwatch.platform.supabase.tables import TABLES, Table

__all__ = ["routes"]

_TABLE = "/rest/v1/{table}"
_FUNCTION = "/rest/v1/rpc/{function}"


def _table(request: web.Request) -> Table:
    name = request.match_info["table"]
    table = TABLES.get(name)
    if table is None:
        raise PostgrestError(404, "42P01", f'relation "public.{name}" does not exist')
    return table


async def _inject(request: web.Request, operation: str | None, wedding_id: str) -> None:
    # "" names no wedding: then only the faults injected without a wedding_id apply.
    if operation is not None:
        await request.config_dict[FAULTS].inject(request, operation, wedding_id)


def _single_wedding(rows: Iterable[Row]) -> str:
    owners = {row.get("wedding_id") for row in rows}
    owner = owners.pop() if len(owners) == 1 else None
    return owner if isinstance(owner, str) else ""


def _rows_response(rows: list[Row], *, offset: int = 0, status: int = 200) -> web.Response:
    content_range = f"{offset}-{offset + len(rows) - 1}/*" if rows else "*/*"
    return web.json_response(rows, status=status, headers={hdrs.CONTENT_RANGE: content_range})


routes = web.RouteTableDef()


@routes.get(_TABLE)
async def select(request: web.Request) -> web.StreamResponse:
    """Rows of a table, filtered with `column=eq.value`, with select, order, limit and offset."""
    table = _table(request)
    query = parse_query(table.schema, request.query)
    wedding_id = query.eq("wedding_id")
    if wedding_id is not None:  # faults first, so that a read delayed by them sees the state after the delay
        await _inject(request, table.operation, wedding_id)
    rows = query.pick(table.rows(request, query))
    if wedding_id is None:  # e.g. notifications?id=eq.N: the faults of the rows' one wedding, if they have one
        await _inject(request, table.operation, _single_wedding(rows))
    if table.cost_seconds is not None:
        await asyncio.sleep(table.cost_seconds(request.config_dict[SETTINGS], len(rows)))
    return _rows_response(query.project(rows), offset=query.offset)


async def _json_body(request: web.Request) -> Any:
    if request.content_type != "application/json":
        raise PostgrestError(415, "PGRST107", f"Content-Type not acceptable: {request.content_type}")
    try:
        return json.loads(await request.read())
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise PostgrestError(400, "PGRST102", "Empty or invalid json") from None


def _values(request: web.Request, table: Table, item: dict[str, Any]) -> tuple[Wedding, dict[str, str]]:
    """A row to insert, checked as PostgreSQL would check it, and the wedding it references."""
    name = table.schema.name
    for column in item:
        if column in table.schema.columns and column not in table.writable:
            raise PostgrestError(400, "428C9", f'cannot insert a non-DEFAULT value into column "{column}"')
        if column not in table.writable:
            raise PostgrestError(
                400, "PGRST204", f"Could not find the '{column}' column of '{name}' in the schema cache"
            )
    values: dict[str, str] = {}
    for column, spec in table.writable.items():
        value = item[column] if column in item else spec.default
        if value is None:
            raise PostgrestError(
                400, "23502", f'null value in column "{column}" of relation "{name}" violates not-null constraint'
            )
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise PostgrestError(400, "22P02", f"invalid input syntax for type text: {json.dumps(value)}")
        text = str(value)
        if len(text) > spec.max_length:
            raise PostgrestError(400, "22001", f"value too long for type character varying({spec.max_length})")
        values[column] = text
    wedding = request.config_dict[WEDDINGS].get(values["wedding_id"])
    if wedding is None:
        raise PostgrestError(
            409,
            "23503",
            f'insert or update on table "{name}" violates foreign key constraint "{name}_wedding_id_fkey"',
            details=f'Key (wedding_id)=({values["wedding_id"]}) is not present in table "weddings".',
        )
    return wedding, values


@routes.post(_TABLE)
async def insert(request: web.Request) -> web.StreamResponse:
    """Insert one row (a JSON object) or several (an array); 201, with the rows under `Prefer: return=representation`."""
    table = _table(request)
    columns = parse_query(table.schema, request.query)  # only its select matters to an insert
    if table.insert is None:
        raise PostgrestError(403, "42501", f"permission denied for table {table.schema.name}")
    body = await _json_body(request)
    items = body if isinstance(body, list) else [body]
    if not all(isinstance(item, dict) for item in items):
        raise PostgrestError(400, "PGRST102", "Empty or invalid json")
    checked = [_values(request, table, item) for item in items]
    for wedding_id in dict.fromkeys(wedding.id for wedding, _ in checked):
        await _inject(request, table.operation, wedding_id)
    rows = [table.insert(request, wedding, values) for wedding, values in checked]
    if "return=representation" not in request.headers.get("Prefer", ""):
        return web.Response(status=201)
    return _rows_response(columns.project(rows), status=201)


@routes.get(_FUNCTION)
@routes.post(_FUNCTION)
async def call(request: web.Request) -> web.StreamResponse:
    """`mobile_summary(wedding_id)`: the mobile app's summary, arguments in the query (GET) or a JSON object (POST)."""
    name = request.match_info["function"]
    if request.method == hdrs.METH_POST:
        args = await _json_body(request) if request.body_exists else {}
        if not isinstance(args, dict):
            raise PostgrestError(400, "PGRST102", "Empty or invalid json")
    else:
        args = dict(request.query)
    if name != "mobile_summary" or set(args) != {"wedding_id"}:
        signature = f"({', '.join(sorted(args))})" if args else " without parameters"
        raise PostgrestError(
            404, "PGRST202", f"Could not find the function public.{name}{signature} in the schema cache"
        )
    wedding = request.config_dict[WEDDINGS].get(str(args["wedding_id"]))
    if wedding is None:
        raise PostgrestError(404, "P0002", f"unknown wedding {args['wedding_id']!r}")
    await _inject(request, "mobile", wedding.id)
    mobile = is_mobile(request.headers.get(hdrs.USER_AGENT, ""))
    body = summary(wedding, request.config_dict[CLOCK](), mobile=mobile)
    return web.json_response(body, headers={hdrs.VARY: hdrs.USER_AGENT})
