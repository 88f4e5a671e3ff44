"""The receiver's API described in OpenAPI 3.1 (served at /openapi.json)."""

from __future__ import annotations

from typing import Any

from wedwatch import __version__

__all__ = ["openapi_document"]

_ERROR = {"$ref": "#/components/schemas/Error"}


def _ok(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    body = schema or {"type": "object"}
    return {"description": description, "content": {"application/json": {"schema": body}}}


def _err(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ERROR}}}


_LIST = {"type": "object", "properties": {"status": {"type": "string"}, "data": {"type": "array", "items": {"type": "object"}}}}
def _limit(most: int) -> dict[str, Any]:
    return {"name": "limit", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1, "maximum": most}}
_SECURED: list[dict[str, list[str]]] = [{"bearer": []}, {"basic": []}]


def _capacity_targets() -> dict[str, Any]:
    # {"status": "success", "data": {"instances": {"target": 6, "reason": "plan", "bounds": [2, 10]}, ...}}
    target = {
        "type": "object",
        "required": ["target", "reason", "bounds"],
        "additionalProperties": False,
        "properties": {
            "target": {"type": "number", "description": "within bounds; whole steps"},
            "reason": {"type": "string", "enum": ["emergency", "plan", "forecast", "minimum"]},
            "bounds": {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2,
                       "description": "[min, max] from actions.capacity"},
        },
    }  # fmt: skip
    resources = ("instances", "db_connections", "cache_mb")
    data = {"type": "object", "required": list(resources), "additionalProperties": False,
            "properties": {r: target for r in resources}}  # fmt: skip
    return {"type": "object", "required": ["status", "data"],
            "properties": {"status": {"type": "string", "enum": ["success"]}, "data": data}}  # fmt: skip


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document."""
    alert = {
        "type": "object",
        "required": ["status", "labels", "startsAt", "fingerprint"],
        "properties": {
            "status": {"type": "string", "enum": ["firing", "resolved"]},
            "labels": {"type": "object", "additionalProperties": {"type": "string"}},
            "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
            "startsAt": {"type": "string", "format": "date-time"},
            "endsAt": {"type": "string", "format": "date-time"},
            "generatorURL": {"type": "string"},
            "fingerprint": {"type": "string", "minLength": 1, "maxLength": 64},
        },
    }
    webhook = {
        "type": "object",
        "required": ["version", "groupKey", "status", "alerts"],
        "properties": {
            "version": {"type": "string", "enum": ["4"]},
            "groupKey": {"type": "string"},
            "status": {"type": "string", "enum": ["firing", "resolved"]},
            "receiver": {"type": "string"},
            "alerts": {"type": "array", "items": alert},
            "groupLabels": {"type": "object", "additionalProperties": {"type": "string"}},
            "commonLabels": {"type": "object", "additionalProperties": {"type": "string"}},
            "commonAnnotations": {"type": "object", "additionalProperties": {"type": "string"}},
            "externalURL": {"type": "string"},
            "truncatedAlerts": {"type": "integer"},
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "wedwatch receiver", "version": __version__,
                 "description": "Alertmanager webhooks in, wedding-aware responses out."},  # fmt: skip
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}, "basic": {"type": "http", "scheme": "basic"}},
            "schemas": {
                "Webhook": webhook,
                "CapacityTargets": _capacity_targets(),
                "Error": {"type": "object", "properties": {"status": {"type": "string"}, "error": {"type": "string"}}},
            },
        },
        "paths": {
            "/alerts": {"post": {
                "summary": "Alertmanager webhook (version 4)",
                "security": _SECURED,
                "requestBody": {"required": True, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Webhook"}}}},
                "responses": {
                    "200": _ok("committed (or a duplicate of a committed notification)"),
                    "400": _err("not JSON, or not version 4, or not a webhook"),
                    "401": _err("missing or wrong credentials"),
                    "413": _err("body above the limit"),
                    "503": _err("store unavailable: retry"),
                },
            }},
            "/api/v1/alerts": {"get": {
                "summary": "Incidents, newest first",
                "security": _SECURED,
                "parameters": [{"name": "status", "in": "query", "required": False,
                                "schema": {"type": "string", "enum": ["firing", "resolved"]}}, _limit(1000)],
                "responses": {"200": _ok("incidents", _LIST), "400": _err("bad parameter"), "401": _err("credentials"),
                              "503": _err("store unavailable")},
            }},
            "/api/v1/responses": {"get": {"summary": "Decisions, actions and effectiveness", "security": _SECURED,
                                          "parameters": [_limit(500)],
                                          "responses": {"200": _ok("responses", _LIST), "400": _err("bad parameter"),
                                                        "401": _err("credentials"), "503": _err("store unavailable")}}},
            "/api/v1/weddings/live": {"get": {"summary": "Weddings live now and next, with firing alerts", "security": _SECURED,
                                              "responses": {"200": _ok("weddings"), "401": _err("credentials"),
                                                            "503": _err("store unavailable")}}},
            "/api/v1/forecasts/latest": {"get": {"summary": "Latest forecast of each series", "security": _SECURED,
                                                 "responses": {"200": _ok("forecasts", _LIST), "401": _err("credentials"),
                                                               "503": _err("store unavailable")}}},
            "/api/v1/emergency": {"get": {"summary": "Emergency periods", "security": _SECURED, "parameters": [_limit(200)],
                                          "responses": {"200": _ok("periods", _LIST), "400": _err("bad parameter"),
                                                        "401": _err("credentials"), "503": _err("store unavailable")}}},
            "/api/v1/capacity": {"get": {
                "summary": "What the platform should run now per resource (KEDA's metrics-api trigger)",
                "security": _SECURED,
                "responses": {"200": _ok("targets", {"$ref": "#/components/schemas/CapacityTargets"}),
                              "401": _err("credentials"), "503": _err("store unavailable")},
            }},
            "/api/v1/automation": {
                "get": {"summary": "Whether automation runs", "security": _SECURED,
                        "responses": {"200": _ok("state"), "401": _err("credentials"), "503": _err("store unavailable")}},
                "post": {"summary": "The kill switch", "security": _SECURED,
                         "requestBody": {"required": True, "content": {"application/json": {"schema": {
                             "type": "object", "required": ["enabled"], "additionalProperties": False,
                             "properties": {"enabled": {"type": "boolean"}, "reason": {"type": "string", "maxLength": 500},
                                            "by": {"type": "string", "maxLength": 100}}}}}},
                         "responses": {"200": _ok("state"), "400": _err("bad body"), "401": _err("credentials"),
                                       "503": _err("store unavailable")}},
            },
            "/metrics": {"get": {"summary": "Prometheus metrics", "responses": {"200": {"description": "text exposition"}}}},
            "/-/healthy": {"get": {"summary": "Liveness", "responses": {"200": {"description": "healthy"}}}},
            "/-/ready": {"get": {"summary": "Readiness (the store answers)", "responses": {
                "200": {"description": "ready"}, "503": {"description": "store unavailable"}}}},
        },
    }  # fmt: skip
