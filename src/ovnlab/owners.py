"""Neutron's port device owners (neutron_lib.constants `DEVICE_OWNER_*`), shared by the
cloud model and the OVN driver below it."""

from __future__ import annotations

from enum import StrEnum


class DeviceOwner(StrEnum):
    ROUTER_INTF = "network:router_interface"
    DVR_INTERFACE = "network:router_interface_distributed"
    HA_REPLICATED_INT = "network:ha_router_replicated_interface"
    ROUTER_GW = "network:router_gateway"
    FLOATINGIP = "network:floatingip"
    DISTRIBUTED = "network:distributed"  # the metadata port
    DHCP = "network:dhcp"
    ROUTER_HA_INTERFACE = "network:router_ha_interface"


NETWORK_PREFIX = "network:"  # DEVICE_OWNER_NETWORK_PREFIX
COMPUTE_PREFIX = "compute:"  # DEVICE_OWNER_COMPUTE_PREFIX
NEUTRON_PREFIX = "neutron:"  # DEVICE_OWNER_NEUTRON_PREFIX
ROUTER_OWNERS = (DeviceOwner.ROUTER_INTF, DeviceOwner.DVR_INTERFACE,
                 DeviceOwner.HA_REPLICATED_INT, DeviceOwner.ROUTER_GW)  # ROUTER_PORT_OWNERS
# AUTO_DELETE_PORT_OWNERS: ports that go with their network (and their subnet's addresses)
AUTO_DELETE_OWNERS = (DeviceOwner.DHCP, DeviceOwner.DISTRIBUTED, DeviceOwner.ROUTER_HA_INTERFACE)


def is_network_owned(owner: object) -> bool:
    """neutron_lib `is_port_trusted`: network-owned ports (routers, DHCP) are trusted."""
    return str(owner or "").startswith(NETWORK_PREFIX)
