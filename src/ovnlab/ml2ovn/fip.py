"""The one home of "is this floating IP distributed?" on the Neutron side.

Neutron's OVN driver makes a FIP distributed by writing `NAT.external_mac` (northd then
keeps its traffic on the VM's chassis). `ovn_client._create_or_update_floatingip`,
`mech_driver._update_dnat_entry_if_needed` (port up/down), the restart that applies a
changed `[ovn] enable_distributed_floating_ip` and `ovn_db_sync` all decide it by the same
rule, `external_mac` below; `nat_columns` gives a FIP's whole NAT row. The option itself
lives in the cloud's config and reaches the driver as a value (`OvnConfig`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ovnlab.ml2ovn import names as n
from ovnlab.nb.types import NatType


def external_mac(*, distributed: bool, port_up: bool, fip_mac: str | None,
                 current: str | None) -> str | None:
    """`NAT.external_mac` of a FIP's dnat_and_snat row.

    Centralized: never set. Distributed: the FIP port's MAC once the VM port is up (before,
    the MAC would be announced from a chassis that does not host it yet); a port going down
    keeps what the row has (LP#2025264: no GARP storm for a VM that only rebooted)."""
    if not distributed:
        return None
    if port_up and fip_mac:
        return fip_mac
    return current or None


def nat_columns(fip: Mapping[str, Any], router_id: str, fip_mac: str, *, distributed: bool,
                port_up: bool, current_mac: str | None = None) -> dict[str, Any]:
    """`_get_floatingip_dnat_and_snat_info`-style: the FIP's dnat_and_snat NAT row
    (its uuid is the FIP id), `external_mac` by the rule above."""
    cols: dict[str, Any] = {
        "type": NatType.DNAT_AND_SNAT.value,
        "logical_ip": fip["fixed_ip_address"],
        "external_ip": fip["floating_ip_address"],
        "logical_port": fip["port_id"],
        "external_ids": {
            n.FIP_ID: fip["id"],
            n.REVISION: str(fip.get("revision_number", 0)),
            n.FIP_PORT_ID: fip["port_id"],
            n.ROUTER_NAME: n.ovn_name(router_id),
            n.FIP_EXTERNAL_MAC: str(fip_mac),
            n.FIP_NETWORK_ID: str(fip.get("floating_network_id") or ""),
        },
    }
    mac = external_mac(distributed=distributed, port_up=port_up, fip_mac=str(fip_mac),
                       current=current_mac)
    if mac:
        cols["external_mac"] = mac
    return cols


def is_fip_nat(nat: Mapping[str, Any]) -> bool:
    """A Neutron FIP's row: dnat_and_snat bound to a logical port."""
    return nat["type"] == NatType.DNAT_AND_SNAT and bool(nat["logical_port"])
