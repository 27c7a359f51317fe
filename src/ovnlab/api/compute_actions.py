"""Nova's server actions (`POST /servers/{id}/action`) beyond the network ones, each with
its request schema (nova/api/openstack/compute/schemas/servers.py, lock_server.py) and
answered as nova/api/openstack/compute/servers.py, lock_server.py, deferred_delete.py do;
and `os-instance-actions`. The cloud runs the action; this layer parses and renders."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from ovnlab.cloud.context import Context
from ovnlab.cloud.server_states import Action
from ovnlab.cloud.services import NovaNetworking as Cloud
from ovnlab.errors import BadRequest, NotFound, OvnlabError

from .http import Request, Response, Router
from .microversions import Version, microversion, update_view, version_headers
from .microversions import nova_writer as _writer

View = Callable[[Request, dict[str, Any]], dict[str, Any]]

_REBOOT_TYPES = ("HARD", "Hard", "hard", "SOFT", "Soft", "soft")
_DISK_CONFIGS = ("AUTO", "MANUAL")
FULL_REBUILD_VIEW: Version = (2, 75)  # rebuild answers with the whole server from here
EVENTS_FOR_ALL: Version = (2, 51)  # instance action events shown to non-admins from here


class NotImplementedFault(OvnlabError):
    status = 501


def _bad(message: str) -> BadRequest:
    return BadRequest(message, type="ValidationError")


def _no_body(action: str, arg: Any) -> None:
    """Actions whose value Nova ignores: `null` or `{}` both do."""
    if arg not in (None, {}):
        raise _bad(f"Invalid input for field/attribute {action}. Value: {arg}. {arg!r} is "
                   "not of type 'null'")


def _reboot_type(arg: Any) -> bool:
    """`{"type": "HARD"|"SOFT"}` (any case Nova's enum lists); True for HARD."""
    what = f"Invalid input for field/attribute reboot. Value: {arg}."
    if not isinstance(arg, dict):
        raise _bad(f"{what} {arg!r} is not of type 'object'")
    extra = sorted(k for k in arg if k != "type")
    if extra:
        raise _bad(f"{what} Additional properties are not allowed "
                   f"({', '.join(map(repr, extra))} were unexpected)")
    if "type" not in arg:
        raise _bad(f"{what} 'type' is a required property")
    if arg["type"] not in _REBOOT_TYPES:
        raise _bad(f"Invalid input for field/attribute type. Value: {arg['type']}. "
                   f"{arg['type']!r} is not one of {list(_REBOOT_TYPES)}")
    return str(arg["type"]).upper() == "HARD"


def _lock_reason(arg: Any, version: Version) -> str | None:
    if version < (2, 73):
        _no_body("lock", arg)
        return None
    if arg in (None, {}):
        return None
    what = f"Invalid input for field/attribute lock. Value: {arg}."
    if not isinstance(arg, dict):
        raise _bad(f"{what} {arg!r} is not of type 'object', 'null'")
    extra = sorted(k for k in arg if k != "locked_reason")
    if extra:
        raise _bad(f"{what} Additional properties are not allowed "
                   f"({', '.join(map(repr, extra))} were unexpected)")
    reason = arg.get("locked_reason")
    if not isinstance(reason, str) or not 1 <= len(reason) <= 255:
        raise _bad(f"Invalid input for field/attribute locked_reason. Value: {reason}. "
                   f"{reason!r} is not a valid string of 1 to 255 characters")
    return reason


def rebuild_keys(version: Version) -> frozenset[str]:
    keys = {"imageRef", "name", "adminPass", "metadata", "preserve_ephemeral",
            "OS-DCF:diskConfig", "accessIPv4", "accessIPv6"}
    if version <= (2, 56):
        keys.add("personality")
    for key, since in (("description", (2, 19)), ("key_name", (2, 54)),
                       ("user_data", (2, 57)), ("trusted_image_certificates", (2, 63)),
                       ("hostname", (2, 90))):
        if version >= since:
            keys.add(key)
    return frozenset(keys)


def validate_rebuild(arg: Any, version: Version,
                     name: Callable[[Any], str], ip: Callable[[Any, str, int], str],
                     metadata: Callable[[Any], None]) -> dict[str, Any]:
    what = f"Invalid input for field/attribute rebuild. Value: {arg}."
    if not isinstance(arg, dict):
        raise _bad(f"{what} {arg!r} is not of type 'object'")
    extra = sorted(k for k in arg if k not in rebuild_keys(version))
    if extra:
        raise _bad(f"Additional properties are not allowed ({', '.join(map(repr, extra))} "
                   f"{'was' if len(extra) == 1 else 'were'} unexpected)")
    if "imageRef" not in arg:
        raise _bad(f"{what} 'imageRef' is a required property")
    if not isinstance(arg["imageRef"], str):
        raise _bad(f"Invalid input for field/attribute imageRef. Value: {arg['imageRef']}. "
                   f"{arg['imageRef']!r} is not of type 'string'")
    out = dict(arg)
    if "name" in out:
        out["name"] = name(out["name"])
    for key, family in (("accessIPv4", 4), ("accessIPv6", 6)):
        if key in out:
            out[key] = ip(out[key], key, family)
    if "metadata" in out:
        metadata(out["metadata"])
    if "OS-DCF:diskConfig" in out and out["OS-DCF:diskConfig"] not in _DISK_CONFIGS:
        raise _bad(f"Invalid input for field/attribute OS-DCF:diskConfig. Value: "
                   f"{out['OS-DCF:diskConfig']}. {out['OS-DCF:diskConfig']!r} is not one of "
                   f"{list(_DISK_CONFIGS)}")
    return out


class ServerActions:
    """The actions `Nova.server_action` hands over, and `os-instance-actions`."""

    def __init__(self, cloud: Cloud, view: View,
                 validators: tuple[Callable[[Any], str], Callable[[Any, str, int], str],
                                   Callable[[Any], None]]) -> None:
        self.cloud = cloud
        self.view = view
        self.validators = validators
        self.handlers: dict[str, Callable[[Request, str, Any], Response]] = {
            "reboot": self.reboot, "rebuild": self.rebuild, "lock": self.lock,
            "restore": self.restore,
            "os-stop": self._simple("os-stop", self.cloud.nova.stop_server, Action.STOP),
            "os-start": self._simple("os-start", self.cloud.nova.start_server, Action.START),
            "unlock": self._simple("unlock", self.cloud.nova.unlock_server, Action.UNLOCK),
            "forceDelete": self._simple("forceDelete", self.cloud.nova.force_delete_server,
                                        Action.DELETE),
            "os-getConsoleOutput": self.console_output,
            "pause": self._simple("pause", self.cloud.nova.pause_server, Action.PAUSE),
            "unpause": self._simple("unpause", self.cloud.nova.unpause_server, Action.UNPAUSE),
            "suspend": self._simple("suspend", self.cloud.nova.suspend_server, Action.SUSPEND),
            "resume": self._simple("resume", self.cloud.nova.resume_server, Action.RESUME),
        }

    def register(self, router: Router, v21: str) -> None:
        base = v21 + "/servers/{id}/os-instance-actions"
        router.add("GET", base, self.list_actions)
        router.add("GET", base + "/{request_id}", self.show_action)
        password = v21 + "/servers/{id}/os-server-password"
        router.add("GET", password, self.show_password)
        router.add("DELETE", password, self.clear_password)

    def handles(self, action: str) -> bool:
        return action in self.handlers

    def run(self, req: Request, server_id: str, action: str, arg: Any) -> Response:
        return self.handlers[action](req, server_id, arg)

    def _done(self, req: Request, server_id: str, action: Action,
              body: Any = None) -> Response:
        self.cloud.nova.record_instance_action(req.context, server_id, action, req.request_id)
        return Response(202, body, version_headers(microversion(req)))

    # -- power
    def reboot(self, req: Request, server_id: str, arg: Any) -> Response:
        hard = _reboot_type(arg)
        self.cloud.nova.reboot_server(req.context, server_id, hard)
        return self._done(req, server_id, Action.REBOOT)

    def _simple(self, name: str, method: Callable[[Context, str], None], action: Action
                ) -> Callable[[Request, str, Any], Response]:
        """An action whose body Nova ignores and whose effect is one state change."""
        def handler(req: Request, server_id: str, arg: Any) -> Response:
            _no_body(name, arg)
            method(req.context, server_id)
            return self._done(req, server_id, action)
        return handler

    # -- rebuild
    def rebuild(self, req: Request, server_id: str, arg: Any) -> Response:
        version = microversion(req)
        changes = validate_rebuild(arg, version, *self.validators)
        try:
            server = self.cloud.nova.rebuild_server(req.context, server_id, changes)
        except NotFound as e:
            if e.type != "ImageNotFound":
                raise
            raise BadRequest(e.message, type=e.type) from None  # the request's image: a 400
        view = self.view(req, server)
        if version < FULL_REBUILD_VIEW:
            view = update_view(view)
        view["adminPass"] = changes.get("adminPass") or hashlib.sha256(
            f"{server_id}{req.request_id}".encode()).hexdigest()[:12]
        return self._done(req, server_id, Action.REBUILD, {"server": view})

    # -- lock
    def lock(self, req: Request, server_id: str, arg: Any) -> Response:
        reason = _lock_reason(arg, microversion(req))
        self.cloud.nova.lock_server(req.context, server_id, reason)
        return self._done(req, server_id, Action.LOCK)

    # -- deferred delete (reclaim_instance_interval = 0: nothing is ever soft-deleted)
    def restore(self, req: Request, server_id: str, arg: Any) -> Response:
        _no_body("restore", arg)
        self.cloud.nova.restore_server(req.context, server_id)
        return Response(202, None, version_headers(microversion(req)))

    def console_output(self, req: Request, server_id: str, arg: Any) -> Response:
        """The emulated guests have no serial console: Nova's answer for a driver without
        get_console_output, once the server is found."""
        self.cloud.nova.get_server(req.context, server_id)
        raise NotImplementedFault("Action get_console_output is not supported.",
                                  type="HTTPNotImplemented")

    # -- os-instance-actions
    def _action_view(self, req: Request, action: dict[str, Any], *,
                     events: bool) -> dict[str, Any]:
        version = microversion(req)
        out = {k: action[k] for k in ("action", "instance_uuid", "message", "project_id",
                                      "request_id", "start_time", "user_id")}
        if version >= (2, 58):
            out["updated_at"] = action["updated_at"]
        if events and (req.context.is_admin or version >= EVENTS_FOR_ALL):
            out["events"] = [
                {k: v for k, v in e.items()
                 if k != "host" or (req.context.is_admin and version >= (2, 62))}
                for e in action["events"]]
        return out

    def list_actions(self, req: Request) -> Response:
        found = self.cloud.nova.get_instance_actions(req.context, req.params["id"])
        body = {"instanceActions": [self._action_view(req, a, events=False) for a in found]}
        return Response(200, body, version_headers(microversion(req)))

    def show_action(self, req: Request) -> Response:
        found = self.cloud.nova.get_instance_action(req.context, req.params["id"],
                                               req.params["request_id"])
        body = {"instanceAction": self._action_view(req, found, events=True)}
        return Response(200, body, version_headers(microversion(req)))

    # -- os-server-password: what the guest posted to the metadata service (encrypted
    # with its key pair). The emulated guests post none, so it is always empty.
    def show_password(self, req: Request) -> Response:
        self.cloud.nova.get_server(req.context, req.params["id"])
        return Response(200, {"password": ""}, version_headers(microversion(req)))

    def clear_password(self, req: Request) -> Response:
        _writer(req, "os-server-password:clear")
        self.cloud.nova.get_server(req.context, req.params["id"])
        return Response(204, None, version_headers(microversion(req)))
