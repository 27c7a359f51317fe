"""Names and keys exactly as Neutron's OVN driver writes them
(neutron/common/ovn/utils.py and constants.py)."""

from __future__ import annotations

from ovnlab.owners import DeviceOwner, is_network_owned

# external_ids keys (constants.py OVN_*_EXT_ID_KEY)
SG_ID = "neutron:security_group_id"
SG_RULE_ID = "neutron:security_group_rule_id"
NETWORK_NAME = "neutron:network_name"
MTU = "neutron:mtu"
PORT_NAME = "neutron:port_name"
PORT_FIP = "neutron:port_fip"
PORT_CAPABILITIES = "neutron:port_capabilities"
VNIC_TYPE = "neutron:vnic_type"
ROUTER_NAME = "neutron:router_name"
AZ_HINTS = "neutron:availability_zone_hints"
IS_EXT_GW = "neutron:is_ext_gw"
GW_PORT_ID = "neutron:gw_port_id"
GW_NETWORK_ID = "neutron:gw_network_id"
SUBNET_ID = "neutron:subnet_id"
SUBNET_IDS = "neutron:subnet_ids"
ADDR_SCOPE4 = "neutron:subnet_pool_addr_scope4"
ADDR_SCOPE6 = "neutron:subnet_pool_addr_scope6"
PROJECT_ID = "neutron:project_id"
DEVICE_ID = "neutron:device_id"
CIDRS = "neutron:cidrs"
FIP_ID = "neutron:fip_id"
FIP_PORT_ID = "neutron:fip_port_id"
FIP_EXTERNAL_MAC = "neutron:fip_external_mac"
FIP_NETWORK_ID = "neutron:fip_network_id"
REVISION = "neutron:revision_number"
SG_IDS = "neutron:security_group_ids"
DEVICE_OWNER = "neutron:device_owner"
HOST_ID = "neutron:host_id"

DROP_PORT_GROUP = "neutron_pg_drop"
ACL_PRIORITY_ALLOW = 1002
ACL_PRIORITY_DROP = 1001
MAX_GW_CHASSIS = 5
CMS_OPT_CHASSIS_AS_GW = "enable-chassis-as-gw"
UNKNOWN_ADDR = "unknown"
ROUTER_ADDR = "router"  # DEFAULT_ADDR_FOR_LSP_WITH_PEER

# Neutron device owners (neutron_lib.constants)
OWNER_ROUTER_INTF = DeviceOwner.ROUTER_INTF
OWNER_ROUTER_GW = DeviceOwner.ROUTER_GW
OWNER_FLOATINGIP = DeviceOwner.FLOATINGIP
OWNER_DISTRIBUTED = DeviceOwner.DISTRIBUTED  # the metadata port
METADATA_PREFIX = "ovnmeta-"  # OVN_METADATA_PREFIX: its device_id, the agent's namespace
METADATA_V4_CIDR = "169.254.169.254/32"


def ovn_name(neutron_id: str) -> str:
    """Logical_Switch / Logical_Router name: `neutron-<id>`."""
    return f"neutron-{neutron_id}"


def lrp_name(port_id: str) -> str:
    return f"lrp-{port_id}"


def cr_lrp_name(port_id: str) -> str:
    """The chassisredirect port northd creates for a distributed gateway port."""
    return f"cr-lrp-{port_id}"


def provnet_name(segment_or_network_id: str) -> str:
    return f"provnet-{segment_or_network_id}"


def port_group_name(sg_id: str) -> str:
    return f"pg-{sg_id}".replace("-", "_")


def pg_addrset_name(sg_id: str, ip_version: str) -> str:
    """The address set OVN derives from a port group (`pg_<id>_ip4`)."""
    return f"pg-{sg_id}-{ip_version}".replace("-", "_")


def gateway_chassis_name(lrp: str, chassis: str) -> str:
    return f"{lrp}_{chassis}"


def port_id_from_lrp(name: str) -> str:
    return name[len("lrp-"):] if name.startswith("lrp-") else name


def is_metadata_port(port: dict[str, object]) -> bool:
    """utils.is_ovn_metadata_port: the network's `ovnmeta-<network id>` localport."""
    return (port.get("device_owner") == OWNER_DISTRIBUTED
            and str(port.get("device_id") or "").startswith(METADATA_PREFIX))


def is_trusted(port: dict[str, object]) -> bool:
    """neutron_lib is_port_trusted: network-owned ports (routers, DHCP) skip port security."""
    return is_network_owned(port.get("device_owner"))
