"""OpenAPI 3.0 description of what the App serves, derived from its routes and the
Neutron attribute maps (so it cannot drift from the validation)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from .network import RESOURCES

if TYPE_CHECKING:
    from .app import App

_ERROR = {"description": "error", "content": {"application/json": {"schema": {"type": "object"}}}}

_SERVER_CREATE = {"type": "object", "required": ["server"], "properties": {"server": {
    "type": "object", "required": ["name", "flavorRef"], "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 255},
        "imageRef": {"type": "string"},
        "flavorRef": {"type": "string"},
        "networks": {"anyOf": [{"enum": ["auto", "none"]}, {"type": "array", "items": {
            "type": "object", "additionalProperties": False, "properties": {
                "uuid": {"type": "string"}, "fixed_ip": {"type": "string"},
                "port": {"type": "string"}, "tag": {"type": "string"}}}}]},
        "security_groups": {"type": "array", "items": {
            "type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}},
        "availability_zone": {"type": "string"},
        "block_device_mapping_v2": {"type": "array", "items": {"type": "object"}},
        "min_count": {"type": "integer", "minimum": 1},
        "max_count": {"type": "integer", "minimum": 1},
    }}}}

_SERVER_ACTION = {"type": "object", "minProperties": 1, "maxProperties": 1, "properties": {
    **{a: {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}
       for a in ("addSecurityGroup", "removeSecurityGroup")},
    "reboot": {"type": "object", "required": ["type"], "properties": {
        "type": {"enum": ["HARD", "Hard", "hard", "SOFT", "Soft", "soft"]}}},
    "rebuild": {"type": "object", "required": ["imageRef"], "properties": {
        "imageRef": {"type": "string"}, "name": {"type": "string"},
        "adminPass": {"type": "string"}, "metadata": {"type": "object"}}},
    "lock": {"type": "object", "nullable": True, "properties": {"locked_reason": {"type": "string"}}},
    **{a: {"type": "object", "nullable": True} for a in (
        "os-stop", "os-start", "unlock", "forceDelete", "restore", "os-getConsoleOutput")}}}

_AUTH = {"type": "object", "required": ["auth"], "properties": {"auth": {
    "type": "object", "required": ["identity"], "properties": {
        "identity": {"type": "object", "properties": {
            "methods": {"type": "array", "items": {"enum": ["password"]}},
            "password": {"type": "object", "properties": {"user": {"type": "object",
                         "properties": {"name": {"type": "string"},
                                        "password": {"type": "string"},
                                        "domain": {"type": "object"}}}}}}},
        "scope": {"type": "object"}}}}}

_INTERFACE = {"type": "object", "properties": {"subnet_id": {"type": "string"},
                                               "port_id": {"type": "string"}}}


def _request_schema(method: str, template: str) -> dict[str, Any] | None:
    if template.endswith("/auth/tokens") and method == "POST":
        return _AUTH
    if template.endswith("_router_interface"):
        return _INTERFACE
    if template.endswith("/servers") and method == "POST":
        return _SERVER_CREATE
    if template.endswith("/action"):
        return _SERVER_ACTION
    if method in ("POST", "PUT"):
        for res in RESOURCES:
            if re.search(f"/{re.escape(res.collection)}(/{{id}})?$", template):
                return res.schema(method)
    return None


def _ok(method: str, template: str) -> dict[str, Any]:
    if method == "DELETE":
        return {"204": {"description": "deleted"}}
    if method == "POST" and template.startswith("/compute") or template.endswith("/action"):
        return {"202": {"description": "accepted", "content": {
            "application/json": {"schema": {"type": "object"}}}}}
    if method == "POST":
        return {"201": {"description": "created", "content": {
            "application/json": {"schema": {"type": "object"}}}}}
    code = "300" if template in ("/identity", "/image", "/image/") else "200"
    return {code: {"description": "ok", "content": {
        "application/json": {"schema": {"type": "object"}}}}}


def document(app: App, base_url: str) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for route in app.router.routes:
        template = route.template
        op: dict[str, Any] = {
            "operationId": f"{route.method.lower()}{re.sub(r'[^A-Za-z0-9]+', '_', template)}",
            "responses": {**_ok(route.method, template), "400": _ERROR, "401": _ERROR,
                          "403": _ERROR, "404": _ERROR, "409": _ERROR},
        }
        params = [{"name": n, "in": "path", "required": True, "schema": {"type": "string"}}
                  for n in re.findall(r"\{(\w+)\}", template)]
        if params:
            op["parameters"] = params
        if not route.auth:
            op["security"] = []
        body = _request_schema(route.method, template)
        if body is not None:
            op["requestBody"] = {"required": True,
                                 "content": {"application/json": {"schema": body}}}
        paths.setdefault(template, {})[route.method.lower()] = op
    return {
        "openapi": "3.0.3",
        "info": {"title": "ovnlab OpenStack API (Keystone v3, Neutron v2.0, Nova v2.1, "
                          "Glance v2)", "version": "1"},
        "servers": [{"url": base_url}],
        "components": {"securitySchemes": {"token": {
            "type": "apiKey", "in": "header", "name": "X-Auth-Token"}}},
        "security": [{"token": []}],
        "paths": paths,
    }
