"""The supabase dialect: the stand-in's weddings and state in Supabase's public API shapes.

`wedwatch platform --dialect supabase` (or `--platform.dialect supabase`; `PlatformSettings(dialect="supabase")`)
serves the endpoints below INSTEAD of the default dialect's `/api/...`. `GET /-/healthy` and `/admin/...`
(`/admin/faults`, plus `GET /admin/storage` here) are served as in the default dialect. It is a small subset of
PostgREST, Supabase Storage and Supabase Realtime (Phoenix channels): what is not listed is not served.

Authentication
    The key comes from the environment variable WEDWATCH_PLATFORM_API_KEY; unset, it is the documented local
    key `wedwatch-local-anon-key` (`PlatformSettings.api_key`). Every request under /rest/, /storage/ and
    /realtime/ (unknown paths too) must carry it, compared in constant time:
      /rest/..., /storage/...  header `apikey: <key>` AND header `Authorization: Bearer <key>`
      /realtime/...            header `apikey: <key>` OR query parameter `apikey=<key>` (no Authorization)
    Otherwise 401 with a JSON body: {"message": "No API key found in request"} (no apikey),
    {"message": "Invalid API key"} (wrong apikey), {"message": "Invalid authentication credentials"} (bearer
    missing or wrong; with `WWW-Authenticate: Bearer`).

Error bodies
    /rest      {"code": "<code>", "details": <text|null>, "hint": null, "message": "<text>"}  (PostgREST's shape)
    /storage   {"statusCode": "<code as a string>", "error": "<name>", "message": "<text>"}
    /realtime  {"message": "<text>"}  (before the websocket upgrade)
    Injected faults and aiohttp's own errors (unknown route 404, wrong method 405, a JSON body above
    max_request_bytes, 1 MiB by default: 413) keep their status and take these shapes; in /rest their code is
    "WW000".

PostgREST: reading -- GET /rest/v1/<table>?<query>
    200 with a JSON array of row objects ([] when nothing matches) and `Content-Range: <first>-<last>/*`
    (`*/*` when empty). Query parameters:
      <column>=eq.<value>   rows whose column equals value (as numbers on the columns marked # below, as text
                            otherwise; null equals nothing); several filters must all hold. Only `eq.` exists.
      select=*              the default; or select=<col>,<col>,... for only these columns, in this order
      order=<col>[.asc|.desc][.nullsfirst|.nullslast][,<col>...]
      limit=<n>, offset=<n> non-negative integers
    400 for: a filter with another operator or none (code PGRST100); a column the table lacks in a filter,
    select or order (42703); a non-number on a # column (22P02); a select other than * or column names, e.g.
    embedding (PGRST100); a bad order, limit or offset (PGRST100).
    404 for an unknown table: {"code": "42P01", "message": "relation \"public.<table>\" does not exist", ...}.

Tables (columns in order; # numeric)
    weddings        the calendar; no operation, so no faults
                    id, name, venue, ceremony_at, timezone, guests #, vendors #
                    ceremony_at is the instant with its offset ("2030-06-01T14:00:00+00:00"), timezone the IANA
                    zone: a wedwatch calendar reads it with url "{base_url}/rest/v1/weddings", items "$[*]" and
                    the default fields (plus platform.headers for apikey and Authorization).
    guests          the guest list; operation guest_list
                    id ("<wedding_id>-g<n>"), wedding_id, name, email, rsvp (accepted|pending|declined), table #,
                    dietary. `?wedding_id=eq.<id>` returns exactly the calendar's `guests` rows, after the same
                    simulated cost as the default dialect's guest list (base + per guest returned).
    timeline_events the timeline; operation timeline_sync
                    id # (serial), wedding_id, marker, created_at ("2030-05-01T12:00:00.000Z")
                    A row is readable only once the propagation delay (timeline_propagation_seconds, 20 ms by
                    default) has passed; inserts are also streamed over Realtime (below).
    notifications   vendor notifications; operation vendor_notification
                    id # (serial), wedding_id, vendor, message, status, created_at, sent_at, delivered_at
                    status is "queued", then "sent" (notification_sent_seconds, 10 ms), then "delivered"
                    (notification_delivery_seconds, 30 ms), as in the default dialect; sent_at and
                    delivered_at are null until then. Read one with `?id=eq.<id>`.
    wedding_status  a view, one row per wedding; operation critical_path
                    wedding_id, phase, at, guests_checked_in #, guests_expected #, next_milestone,
                    next_milestone_at, timeline_delay_seconds #, vendors_confirmed #, vendors_booked #,
                    open_incidents #, incident_response_seconds #
                    The default dialect's status values; timeline_delay_seconds is the next milestone's delay,
                    and it, next_milestone and next_milestone_at are null when no milestone is left.
                    critical_path faults' milestone_delay_seconds and open_incidents show here.

PostgREST: inserting -- POST /rest/v1/timeline_events, POST /rest/v1/notifications
    `Content-Type: application/json`; the body is one row object or an array of them:
      timeline_events  {"wedding_id": "<id>", "marker": "<text, at most 256>"}
      notifications    {"wedding_id": "<id>", "vendor": "<at most 128; default all>",
                        "message": "<at most 4096; default test notification>"}
    With `Prefer: return=representation`: 201 and the inserted rows as a JSON array ([row] for one object),
    as a GET shows them (id assigned, created_at now, a notification "queued"), projected by `?select=` when
    given. Without it: 201 and an empty body. `columns=` and `on_conflict=` are accepted and ignored.
    Errors: body not JSON, or not objects: 400 PGRST102; Content-Type not JSON: 415 PGRST107; a column the
    table lacks: 400 PGRST204; a generated column (id, created_at, status, sent_at, delivered_at): 400 428C9;
    a required column missing or null: 400 23502; a value neither text nor number: 400 22P02; too long: 400
    22001; a wedding_id not in weddings: 409 23503; an insert into weddings, guests or wedding_status: 403
    42501.

PostgREST: the mobile function -- operation mobile
    GET /rest/v1/rpc/mobile_summary?wedding_id=<id>, or POST /rest/v1/rpc/mobile_summary with
    {"wedding_id": "<id>"}: 200 and the default dialect's mobile document (wedding_id, name, venue,
    ceremony_at as local time, timezone, phase, countdown_seconds, guests, layout, hero_image), layout
    "compact" for a mobile User-Agent, with `Vary: User-Agent`. An unknown wedding: 404 P0002; missing or
    other arguments, or another function: 404 PGRST202.

Storage -- operation photo_upload
    POST /storage/v1/object/<bucket>/<path>
      The object is the raw body (its Content-Type is kept), or, for multipart/form-data, the field `file`.
      200 {"Key": "<bucket>/<path>", "Id": "<uuid>"}. Any bucket name; buckets need no creating.
      When the path's first segment is a wedding id (photos/<wedding_id>/probe.jpg) the object is that
      wedding's: its faults and its photo quota (photo_wedding_max_bytes) apply; other paths get only the
      faults injected without wedding_id.
      The same key again: 400 {"statusCode": "409", "error": "Duplicate", "message": "The resource already
      exists"}, unless header `x-upsert: true` (then replaced: 200, a new Id).
      Larger than photo_max_bytes (10 MiB): 413 {"statusCode": "413", "error": "Payload too large", ...};
      the wedding's quota used up: 507; multipart without `file`: 400.
    DELETE /storage/v1/object/<bucket>/<path>
      200 {"message": "Successfully deleted"}; unknown key: 404 {"statusCode": "404", "error": "not_found",
      "message": "Object not found"}.
    GET /admin/storage (behind the admin token like /admin/faults): {"objects": <count>, "bytes": <total>}.

Realtime -- GET /realtime/v1/websocket?apikey=<key>&vsn=1.0.0
    A websocket speaking Phoenix channels with serializer 1.0.0: every message, both ways, is a JSON text
    frame {"topic", "event", "payload", "ref"}. vsn defaults to 1.0.0; any other is 400 before the upgrade.
    Join  {"topic": "realtime:<any>", "event": "phx_join", "ref": "1", "payload": {"config":
            {"postgres_changes": [{"event": "INSERT", "schema": "public", "table": "timeline_events",
            "filter": "wedding_id=eq.<id>"}]}}}
          event is INSERT, UPDATE, DELETE or * (only inserts happen); filter is optional, <column>=eq.<value>
          on a timeline_events column; other keys (access_token, broadcast, presence, private) are ignored.
          Reply {"topic": <topic>, "event": "phx_reply", "ref": "1", "payload": {"status": "ok", "response":
            {"postgres_changes": [{"id": <n>, "event": "INSERT", "schema": "public",
            "table": "timeline_events", "filter": "wedding_id=eq.<id>"}]}}}   (ids unique per server)
          then {"topic": <topic>, "event": "system", "ref": null, "payload": {"channel": "<any>",
            "extension": "postgres_changes", "message": "Subscribed to PostgreSQL", "status": "ok"}}.
          Another schema or table, a bad event or filter, or a topic not starting with "realtime:": phx_reply
          with {"status": "error", "response": {"reason": "<text>"}}.
    Change for each row inserted into timeline_events that a binding of a joined channel matched at insert time,
          sent after the propagation delay plus the latency of the timeline_sync faults of the row's wedding:
          {"topic": <topic>, "event": "postgres_changes", "ref": null, "payload": {"data": {"schema": "public",
            "table": "timeline_events", "type": "INSERT", "record": <the row, as the insert returned it>,
            "commit_timestamp": <its created_at>, "errors": null}, "ids": [<the matching bindings' ids>]}}
          (one message per channel).
    Heartbeat {"topic": "phoenix", "event": "heartbeat", "payload": {}, "ref": "<r>"} is answered
          {"topic": "phoenix", "event": "phx_reply", "payload": {"status": "ok", "response": {}}, "ref": "<r>"}.
    Leave phx_leave on a joined topic: phx_reply ok. Other events on a joined topic are ignored; any event
          on a topic not joined: phx_reply error, reason "unmatched topic". Frames that are not JSON are
          ignored. At shutdown the server closes every socket with code 1001.

Faults
    POST /admin/faults as in the default dialect. An operation's faults apply to its endpoints above, for
    the wedding a request names: a GET's `wedding_id=eq.` filter (without one: the wedding_id every selected
    row shares, e.g. notifications?id=eq.<n>; else only faults without wedding_id), each inserted row's
    wedding_id, the rpc's wedding_id, the storage path's first segment. latency_seconds delays the answer,
    error_rate answers the fault's status (body as under Error bodies, code WW000 in /rest), hang holds the
    request; reads and inserts of an operation are both affected, as are storage deletes.
"""

from __future__ import annotations

from aiohttp import web

from wedwatch.platform.photos import PHOTOS
from wedwatch.platform.state import SETTINGS, WEDDINGS
from wedwatch.platform.supabase import realtime, rest, storage
from wedwatch.platform.supabase.gateway import gateway_middleware
from wedwatch.platform.supabase.realtime import REALTIME, Realtime
from wedwatch.platform.supabase.storage import OBJECTS, ObjectStore
from wedwatch.platform.supabase.tables import ROW_IDS, TABLES, TIMELINE_EVENTS, RowIds

__all__ = ["OBJECTS", "REALTIME", "TABLES", "setup"]


def setup(app: web.Application) -> None:
    """Make `app` speak the supabase dialect over the shared state `create_app` has already put in it."""
    settings = app[SETTINGS]
    app[ROW_IDS] = RowIds(
        max_markers=settings.timeline_max_markers,
        max_notifications=settings.notification_max_per_wedding * max(1, len(app[WEDDINGS])),
    )
    app[OBJECTS] = ObjectStore(app[PHOTOS])
    app[REALTIME] = hub = Realtime({TIMELINE_EVENTS.schema.name: TIMELINE_EVENTS.schema})
    # Innermost: the key is checked, and errors take each API's shape, before the shared error middleware.
    app.middlewares.append(gateway_middleware)
    for module_routes in (rest.routes, storage.routes, realtime.routes):
        app.add_routes(module_routes)

    async def close_sockets(_: web.Application) -> None:
        # on_shutdown runs before the server waits for handlers: open websockets would hold it up.
        await hub.close()

    app.on_shutdown.append(close_sockets)
