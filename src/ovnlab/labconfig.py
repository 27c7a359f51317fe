"""What a running lab takes and tells on either backend: the options `ovnlab config set`
changes (as a neutron-server restart with the new neutron.conf would) and the counts
`ovnlab status` shows."""

from __future__ import annotations

from typing import Any

from ovnlab.cloud import Cloud
from ovnlab.errors import BadRequest

CONFIG_KEYS = {"ovn.enable_distributed_floating_ip"}


def config_set(cloud: Cloud, key: str, value: str) -> None:
    """Check `key=value` and apply it to the cloud; a bad one changes nothing."""
    if key not in CONFIG_KEYS:
        raise BadRequest(f"unknown or read-only option {key!r} (settable: "
                         f"{', '.join(sorted(CONFIG_KEYS))})")
    lowered = value.strip().lower()
    if lowered not in ("true", "false"):
        raise BadRequest(f"{key}: expected true or false, got {value!r}")
    cloud.set_config(enable_distributed_floating_ip=lowered == "true")


def resource_counts(cloud: Cloud, admin: Any) -> dict[str, int]:
    """`ovnlab status`'s counts, as the admin sees them."""
    return {"networks": len(cloud.get_networks(admin)), "routers": len(cloud.l3.get_routers(admin)),
            "servers": len(cloud.nova.get_servers(admin)), "fips": len(cloud.l3.get_floatingips(admin))}
