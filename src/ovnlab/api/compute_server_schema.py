"""The servers' create and update bodies as Nova's schemas check them
(nova/api/openstack/compute/schemas/servers.py), the parts this emulation uses, with Nova's
error texts."""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from .compute_schema import _bad, _validate_metadata, _validate_name, _validate_string

_SERVER_KEYS = frozenset({
    "name", "imageRef", "flavorRef", "networks", "security_groups", "availability_zone",
    "block_device_mapping_v2", "min_count", "max_count", "key_name", "user_data", "metadata",
    "config_drive", "description", "tags", "OS-DCF:diskConfig", "adminPass", "hostname",
    "return_reservation_id", "trusted_image_certificates", "host", "hypervisor_hostname",
    "accessIPv4", "accessIPv6", "personality", "scheduler_hints"})
_NETWORK_KEYS = frozenset({"uuid", "fixed_ip", "port", "tag"})


def validate_server_create(body: Any) -> dict[str, Any]:
    """Nova's create schema, the parts this emulation uses; extra properties are a 400."""
    if not isinstance(body, dict) or not isinstance(body.get("server"), dict):
        raise _bad("Invalid input for field/attribute server. Value: None. 'server' is a "
                   "required property")
    extra = sorted(k for k in body if k not in ("server", "os:scheduler_hints",
                                                "OS-SCH-HNT:scheduler_hints"))
    if extra:
        raise _bad(f"Additional properties are not allowed ({', '.join(map(repr, extra))} "
                   "were unexpected)")
    server = dict(body["server"])
    hints = body.get("os:scheduler_hints", body.get("OS-SCH-HNT:scheduler_hints", {}))
    server["scheduler_hints"] = _scheduler_hints(hints)
    unknown = sorted(k for k in server if k not in _SERVER_KEYS)
    if unknown:
        raise _bad(f"Additional properties are not allowed ({', '.join(map(repr, unknown))} "
                   "were unexpected)")
    for key in ("name", "flavorRef"):
        if key not in server:
            raise _bad(f"Invalid input for field/attribute server. Value: {server}. "
                       f"'{key}' is a required property")
    server["name"] = _validate_name(_validate_string(server["name"], "name", min_len=1))
    for key, family in (("accessIPv4", 4), ("accessIPv6", 6)):
        if key in server:
            server[key] = _access_ip(server[key], key, family)
    flavor = server["flavorRef"]
    if isinstance(flavor, int) and not isinstance(flavor, bool):
        server["flavorRef"] = str(flavor)
    server["flavorRef"] = _validate_string(server["flavorRef"], "flavorRef", min_len=1)
    if "imageRef" in server:
        server["imageRef"] = _validate_string(server["imageRef"], "imageRef")
    if not server.get("imageRef") and not server.get("block_device_mapping_v2"):
        raise _bad("Block Device Mapping is Invalid: Boot sequence for the instance and "
                   "image/block device mapping combination is not valid.")
    if "block_device_mapping_v2" in server and not isinstance(
            server["block_device_mapping_v2"], list):
        raise _bad("Invalid input for field/attribute block_device_mapping_v2. "
                   f"Value: {server['block_device_mapping_v2']}. is not of type 'array'")
    server["networks"] = _networks(server.get("networks", "auto"))
    sgs = server.get("security_groups", [])
    if not isinstance(sgs, list) or any(
            not isinstance(g, dict) or not isinstance(g.get("name"), str) or len(g) != 1
            for g in sgs):
        raise _bad(f"Invalid input for field/attribute security_groups. Value: {sgs}.")
    if "availability_zone" in server:
        _validate_string(server["availability_zone"], "availability_zone", min_len=1)
    _counts(server, explicit_max="max_count" in body["server"])
    reservation = server.get("return_reservation_id", False)
    if not isinstance(reservation, bool):
        raise _bad(f"Invalid input for field/attribute return_reservation_id. Value: "
                   f"{reservation}. {reservation!r} is not of type 'boolean'")
    if "metadata" in server:
        _validate_metadata(server["metadata"])
    if "OS-DCF:diskConfig" in server:
        _disk_config(server["OS-DCF:diskConfig"])
    return server


def _networks(nets: Any) -> Any:
    """`networks`: "auto", "none", or a list of {uuid|port, fixed_ip, tag} requests."""
    if isinstance(nets, str):
        if nets not in ("auto", "none"):
            raise _bad(f"Invalid input for field/attribute networks. Value: {nets}. "
                       f"'{nets}' is not one of ['auto', 'none']")
    elif isinstance(nets, list):
        for n in nets:
            if not isinstance(n, dict) or any(k not in _NETWORK_KEYS for k in n):
                raise _bad(f"Invalid input for field/attribute networks. Value: {nets}.")
            for k in ("uuid", "fixed_ip", "port"):
                if k in n and n[k] is not None:
                    _validate_string(n[k], k)
            if not n.get("uuid") and not n.get("port"):
                raise _bad("Bad networks format: network uuid is not in proper format ()")
    else:
        raise _bad(f"Invalid input for field/attribute networks. Value: {nets}.")
    return nets


def _counts(server: dict[str, Any], explicit_max: bool) -> None:
    """min_count and max_count, as integers (max_count defaults to min_count)."""
    for key in ("min_count", "max_count"):
        count = server.get(key, 1)
        if isinstance(count, str) and count.isdigit():
            count = int(count)
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise _bad(f"Invalid input for field/attribute {key}. Value: {count}.")
        server[key] = count
    if not explicit_max:
        server["max_count"] = server["min_count"]
    if server["min_count"] > server["max_count"]:
        raise _bad("min_count must be <= max_count")


_UUID = re.compile(r"^[0-9a-fA-F]{8}-?([0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12}$")


def _scheduler_hints(hints: Any) -> dict[str, Any]:
    """Nova's scheduler hints schema, the `group` hint (a server group's UUID) checked;
    other hints pass as Nova lets them (additionalProperties: true)."""
    if not isinstance(hints, dict):
        raise _bad(f"Invalid input for field/attribute os:scheduler_hints. Value: {hints}. "
                   f"{hints!r} is not of type 'object'")
    group = hints.get("group")
    if group is not None and (not isinstance(group, str) or not _UUID.match(group)):
        raise _bad(f"Invalid input for field/attribute group. Value: {group}. {group!r} is "
                   "not a 'uuid'")
    return dict(hints)


def validate_server_update(body: Any, version: tuple[int, int]) -> dict[str, Any]:
    """Nova's update schema: name, accessIPv4/6, OS-DCF:diskConfig, description (2.19)."""
    server = body.get("server") if isinstance(body, dict) and len(body) == 1 else None
    if not isinstance(server, dict):
        raise _bad(f"Invalid input for field/attribute server. Value: {body}. 'server' is a "
                   "required property")
    allowed = {"name", "accessIPv4", "accessIPv6", "OS-DCF:diskConfig"} | (
        {"description"} if version >= (2, 19) else set())
    extra = sorted(k for k in server if k not in allowed)
    if extra:
        raise _bad(f"Additional properties are not allowed ({', '.join(map(repr, extra))} "
                   f"{'was' if len(extra) == 1 else 'were'} unexpected)")
    out: dict[str, Any] = {}
    if "name" in server:
        out["name"] = _validate_name(_validate_string(server["name"], "name", min_len=1))
    if "description" in server and server["description"] is not None:
        out["description"] = _validate_string(server["description"], "description")
    elif "description" in server:
        out["description"] = None
    for key, family in (("accessIPv4", 4), ("accessIPv6", 6)):
        if key in server:
            out[key] = _access_ip(server[key], key, family)
    if "OS-DCF:diskConfig" in server:
        out["OS-DCF:diskConfig"] = _disk_config(server["OS-DCF:diskConfig"])
    return out


def _disk_config(value: Any) -> str:
    if value not in ("AUTO", "MANUAL"):
        raise _bad(f"Invalid input for field/attribute OS-DCF:diskConfig. Value: {value}. "
                   f"{value!r} is not one of ['AUTO', 'MANUAL']")
    return str(value)


def _access_ip(value: Any, key: str, family: int) -> str:
    try:
        if isinstance(value, str) and ipaddress.ip_address(value).version == family:
            return str(ipaddress.ip_address(value))  # stored normalised, as netaddr does
    except ValueError:
        pass
    raise _bad(f"Invalid input for field/attribute {key}. Value: {value}. {value!r} is not "
               f"a 'ipv{family}'")
