"""Which server fields a Nova microversion shows (nova/api/openstack/compute/views/
servers.py and the REST API version history): the model answers in the newest format, and
a request at an older microversion gets the server as Nova rendered it then."""

from __future__ import annotations

from typing import Any

Version = tuple[int, int]

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
