"""Nova requests: the microversion asked for, the member-only writes, and which server
fields a microversion shows (nova/api/openstack/compute/views/
servers.py and the REST API version history): the model answers in the newest format, and
a request at an older microversion gets the server as Nova rendered it then."""

from __future__ import annotations

import re
from typing import Any

from ovnlab.errors import BadRequest, Forbidden

from .http import NotAcceptable, Request

Version = tuple[int, int]
MIN_VERSION: Version = (2, 1)
MAX_VERSION: Version = (2, 96)


def _v(t: Version) -> str:
    return f"{t[0]}.{t[1]}"



# Field -> the microversion that introduced it in the server view.
SINCE: dict[str, Version] = {
    "OS-EXT-SRV-ATTR:reservation_id": (2, 3), "OS-EXT-SRV-ATTR:launch_index": (2, 3),
    "OS-EXT-SRV-ATTR:hostname": (2, 3), "OS-EXT-SRV-ATTR:kernel_id": (2, 3),
    "OS-EXT-SRV-ATTR:ramdisk_id": (2, 3), "OS-EXT-SRV-ATTR:root_device_name": (2, 3),
    "OS-EXT-SRV-ATTR:user_data": (2, 3),
    "locked": (2, 9),
    "host_status": (2, 16),
    "description": (2, 19),
    "tags": (2, 26),
    "trusted_image_certificates": (2, 63),
    "server_groups": (2, 71),
    "locked_reason": (2, 73),
    "pinned_availability_zone": (2, 96),
    "scheduler_hints": (2, 100),
}
EMBEDDED_FLAVOR: Version = (2, 47)  # before it, the flavor is {id, links}
NON_ADMIN_HOSTNAME: Version = (2, 90)  # OS-EXT-SRV-ATTR:hostname shown to the owner too


# What Nova's update (PUT /servers/{id}) and rebuild (before 2.75) responses leave out: its view is built with the
# AZ, config drive, extended attributes and status, host status, key pair, usage, security
# groups, volumes and server groups all turned off.
NOT_IN_UPDATE = ("OS-EXT-AZ:", "OS-EXT-SRV-ATTR:", "OS-EXT-STS:", "OS-SRV-USG:",
                 "os-extended-volumes:", "config_drive", "host_status", "key_name",
                 "security_groups", "server_groups")


def update_view(server: dict[str, Any]) -> dict[str, Any]:
    """Also without the addresses' OS-EXT-IPS extension (extend_address=False): each
    address is only its `addr` and `version`."""
    out = {k: v for k, v in server.items() if not k.startswith(NOT_IN_UPDATE)}
    if isinstance(out.get("addresses"), dict):
        out["addresses"] = {net: [{"addr": a["addr"], "version": a["version"]} for a in addrs]
                            for net, addrs in out["addresses"].items()}
    return out


def server_at(server: dict[str, Any], version: Version, *, is_admin: bool,
              flavor_ref: dict[str, Any]) -> dict[str, Any]:
    """The newest-format `server` as `version` shows it to an admin or its owner;
    `flavor_ref` is the pre-2.47 {id, links} of its flavor."""
    out = {k: v for k, v in server.items() if version >= SINCE.get(k, (2, 1))}
    if not is_admin:
        for key in [k for k in out if k.startswith("OS-EXT-SRV-ATTR:")]:
            if not (key == "OS-EXT-SRV-ATTR:hostname" and version >= NON_ADMIN_HOSTNAME):
                del out[key]
    if version < EMBEDDED_FLAVOR:
        out["flavor"] = flavor_ref
    return out


def microversion(req: Request) -> tuple[int, int]:
    """The requested microversion (OpenStack-API-Version or the legacy Nova header)."""
    raw = ""
    for part in req.header("OpenStack-API-Version").split(","):
        service, _, value = part.strip().partition(" ")
        if service.lower() == "compute":
            raw = value.strip()
    raw = raw or req.header("X-OpenStack-Nova-API-Version").strip()
    if not raw:
        return MIN_VERSION
    if raw.lower() == "latest":
        return MAX_VERSION
    m = re.fullmatch(r"(\d{1,4})\.(\d{1,4})", raw)
    if m is None:
        raise BadRequest(f"API Version String {raw} is of invalid format. Must be of format "
                         "MajorNum.MinorNum.")
    version = (int(m.group(1)), int(m.group(2)))
    if not MIN_VERSION <= version <= MAX_VERSION:
        raise NotAcceptable(f"Version {raw} is not supported by the API. Minimum is "
                            f"{_v(MIN_VERSION)} and maximum is {_v(MAX_VERSION)}.")
    return version


def version_headers(version: tuple[int, int]) -> tuple[tuple[str, str], ...]:
    return (("OpenStack-API-Version", f"compute {_v(version)}"),
            ("X-OpenStack-Nova-API-Version", _v(version)),
            ("Vary", "OpenStack-API-Version, X-OpenStack-Nova-API-Version"))


def nova_writer(req: Request, rule: str) -> None:
    """Nova's default write rules need the member role (PROJECT_MEMBER): a reader is refused."""
    if getattr(req.context, "reader_only", False):
        raise Forbidden(f"Policy doesn't allow os_compute_api:{rule} to be performed.")
