"""Neutron's resources as its API shows them: each one's attribute map (neutron-lib's
api/definitions: what a request may set, what it must, the defaults) and the API
extensions the server lists."""

from __future__ import annotations

from .attrs import (
    CIDR,
    IP,
    MAC,
    AddressPairs,
    Attr,
    Bool,
    Enum,
    Int,
    ListOf,
    Obj,
    Port,
    Protocol,
    Resource,
    Str,
    UniqueStrings,
)

_S = Str()
_S_NULL = Str(nullable=True)
_DESC = Attr(Str(max_len=255))
_OWNER = {"tenant_id": Attr(_S, put=False), "project_id": Attr(_S, put=False),
          "tags": Attr(UniqueStrings(max_len=255))}
_FIXED_IPS = ListOf(Obj({"subnet_id": _S, "ip_address": IP()}))
_ROUTES = ListOf(Obj({"destination": CIDR(), "nexthop": IP()}, ("destination", "nexthop")))

NETWORK = Resource("networks", "network", {
    "id": Attr(_S, put=False),
    "name": Attr(_S),
    "description": _DESC,
    "admin_state_up": Attr(Bool()),
    "shared": Attr(Bool()),
    "router:external": Attr(Bool()),
    "provider:network_type": Attr(Enum(("flat", "vlan", "geneve", "vxlan", "gre", "local"))),
    "provider:physical_network": Attr(_S_NULL),
    "provider:segmentation_id": Attr(Int(0, 16777215, nullable=True)),
    "mtu": Attr(Int(68, 65535)),
    "port_security_enabled": Attr(Bool()),
    "availability_zone_hints": Attr(ListOf(_S), put=False),
    "dns_domain": Attr(_S),
    "qos_policy_id": Attr(_S_NULL),
    "is_default": Attr(Bool()),
    **_OWNER,
})

SUBNET = Resource("subnets", "subnet", {
    "id": Attr(_S, put=False),
    "name": Attr(_S),
    "description": _DESC,
    "network_id": Attr(_S, put=False, required=True),
    "ip_version": Attr(Enum((4, 6)), put=False, required=True),
    "cidr": Attr(CIDR(), put=False),  # or from `subnetpool_id` / `use_default_subnetpool`
    "gateway_ip": Attr(IP(nullable=True)),
    "allocation_pools": Attr(ListOf(Obj({"start": IP(), "end": IP()}, ("start", "end")))),
    "dns_nameservers": Attr(ListOf(IP())),
    "host_routes": Attr(_ROUTES),
    "enable_dhcp": Attr(Bool()),
    "ipv6_ra_mode": Attr(Enum(("slaac", "dhcpv6-stateful", "dhcpv6-stateless"), nullable=True),
                         put=False),
    "ipv6_address_mode": Attr(Enum(("slaac", "dhcpv6-stateful", "dhcpv6-stateless"),
                                   nullable=True), put=False),
    "subnetpool_id": Attr(_S_NULL, put=False),
    "segment_id": Attr(_S_NULL),
    "service_types": Attr(ListOf(_S)),
    "dns_publish_fixed_ip": Attr(Bool()),
    "use_default_subnetpool": Attr(Bool(), put=False),
    "prefixlen": Attr(Int(0, 128), put=False),
    **_OWNER,
})

PORT = Resource("ports", "port", {
    "id": Attr(_S, put=False),
    "name": Attr(_S),
    "description": _DESC,
    "network_id": Attr(_S, put=False, required=True),
    "admin_state_up": Attr(Bool()),
    "mac_address": Attr(MAC()),
    "fixed_ips": Attr(_FIXED_IPS),
    "device_id": Attr(_S),
    "device_owner": Attr(_S),
    "security_groups": Attr(ListOf(_S)),
    "port_security_enabled": Attr(Bool()),
    "allowed_address_pairs": Attr(AddressPairs()),
    "binding:host_id": Attr(_S),
    "binding:vnic_type": Attr(Enum(("normal", "direct", "macvtap", "baremetal",
                                    "direct-physical", "virtio-forwarder", "smart-nic"))),
    "binding:profile": Attr(Obj({}, extra=True, nullable=True)),
    "dns_name": Attr(_S),
    "qos_policy_id": Attr(_S_NULL),
    "propagate_uplink_status": Attr(Bool()),
    "extra_dhcp_opts": Attr(ListOf(Obj({}, extra=True), none_is_empty=True)),
    **_OWNER,
})

ROUTER = Resource("routers", "router", {
    "id": Attr(_S, put=False),
    "name": Attr(_S),
    "description": _DESC,
    "admin_state_up": Attr(Bool()),
    "external_gateway_info": Attr(Obj({
        "network_id": _S,
        "enable_snat": Bool(),
        "external_fixed_ips": ListOf(Obj({"subnet_id": _S, "ip_address": IP()})),
        "qos_policy_id": _S_NULL,
    }, ("network_id",), nullable=True, nodata=True)),
    "distributed": Attr(Bool()),
    "ha": Attr(Bool()),
    "routes": Attr(ListOf(_ROUTES.item, none_is_empty=True), post=False),
    "availability_zone_hints": Attr(ListOf(_S), put=False),
    "flavor_id": Attr(_S_NULL, put=False),
    "enable_ndp_proxy": Attr(Bool()),
    **_OWNER,
})

FLOATINGIP = Resource("floatingips", "floatingip", {
    "id": Attr(_S, put=False),
    "floating_network_id": Attr(_S, put=False, required=True),
    "floating_ip_address": Attr(IP(), put=False),
    "subnet_id": Attr(_S_NULL, put=False),
    "port_id": Attr(_S_NULL),
    "fixed_ip_address": Attr(IP(nullable=True)),
    "description": _DESC,
    "dns_name": Attr(_S, put=False),
    "dns_domain": Attr(_S, put=False),
    "qos_policy_id": Attr(_S_NULL),
    **_OWNER,
})

SECURITY_GROUP = Resource("security-groups", "security_group", {
    "id": Attr(_S, put=False),
    "name": Attr(_S),
    "description": _DESC,
    "stateful": Attr(Bool()),
    **_OWNER,
})

# Neutron has no update for rules (every attribute is allow_put=False).
SECURITY_GROUP_RULE = Resource("security-group-rules", "security_group_rule", {
    "id": Attr(_S, put=False),
    "security_group_id": Attr(_S, put=False, required=True),
    "direction": Attr(Enum(("ingress", "egress")), put=False, required=True),
    "ethertype": Attr(Enum(("IPv4", "IPv6")), put=False),
    "protocol": Attr(Protocol(), put=False),
    "port_range_min": Attr(Port(), put=False),
    "port_range_max": Attr(Port(), put=False),
    "remote_ip_prefix": Attr(CIDR(nullable=True), put=False),
    "remote_group_id": Attr(_S_NULL, put=False),
    "remote_address_group_id": Attr(_S_NULL, put=False),
    "description": Attr(Str(), put=False),
    "tenant_id": Attr(_S, put=False),
    "project_id": Attr(_S, put=False),
})

_PREFIXLEN = Attr(Int(0, 128))
SUBNETPOOL = Resource("subnetpools", "subnetpool", {
    "id": Attr(_S, put=False),
    "name": Attr(_S),
    "description": _DESC,
    "prefixes": Attr(ListOf(CIDR()), required=True),
    "default_prefixlen": _PREFIXLEN,
    "min_prefixlen": _PREFIXLEN,
    "max_prefixlen": _PREFIXLEN,
    "default_quota": Attr(Int(0, 2 ** 31 - 1, nullable=True)),
    "shared": Attr(Bool(), put=False),
    "is_default": Attr(Bool()),
    "address_scope_id": Attr(_S_NULL),
    "ip_version": Attr(Int(4, 6), post=False, put=False),
    **_OWNER,
})

RESOURCES: tuple[Resource, ...] = (NETWORK, SUBNET, PORT, ROUTER, FLOATINGIP, SECURITY_GROUP,
                                   SECURITY_GROUP_RULE, SUBNETPOOL)

# What this emulation actually implements, within ML2/OVN's own list (neutron/common/ovn/
# extensions.py): so no `dvr` (OVN routing is always distributed; an admin's
# `distributed: false` is not honoured). `external-gateway-multihoming` must stay out: the
# client would switch `router set --external-gateway` to update_external_gateways.
EXTENSIONS: tuple[tuple[str, str, str], ...] = (
    ("router", "Neutron L3 Router", "Router abstraction for basic L3 forwarding"),
    ("ext-gw-mode", "Neutron L3 Configurable external gateway mode",
     "Extension of the router abstraction for specifying whether SNAT should occur"),
    ("external-net", "Neutron external network", "Adds external network attribute"),
    ("provider", "Provider Network", "Expose mapping of virtual networks to physical networks"),
    ("security-group", "security-group", "The security groups extension."),
    ("port-security", "Port Security", "Provides port security"),
    ("binding", "Port Binding", "Expose port bindings of a virtual port to external application"),
    ("project-id", "project_id field enabled", "Extension that indicates that project_id is "
     "enabled."),
    ("standard-attr-description", "standard-attr-description",
     "Extension to add descriptions to standard attributes"),
    ("agent", "agent", "The agent management extension."),
    ("pagination", "Pagination support", "Extension that indicates that pagination is "
     "enabled."),
    ("sorting", "Sorting support", "Extension that indicates that sorting is enabled."),
    ("allowed-address-pairs", "Allowed Address Pairs", "Provides allowed address pairs"),
    ("extraroute", "Neutron Extra Route", "Extra routes configuration for L3 router"),
    ("net-mtu", "Network MTU", "Provides MTU attribute for a network resource."),
    ("standard-attr-timestamp", "Resource timestamps", "Adds created_at and updated_at "
     "fields to all Neutron resources that have Neutron standard attributes."),
    ("standard-attr-tag", "Tag support for resources with standard attribute: subnet, "
     "trunk, network_segment_range, router, network, policy, subnetpool, port, "
     "security_group, floatingip", "Enables to set tag on resources with standard "
     "attribute."),
    ("quotas", "Quota management support", "Expose functions for quotas management per "
     "project"),
    ("quota_details", "Quota details management support", "Expose functions for quotas "
     "usage statistics per project"),
    ("quota-check-limit", "Quota engine limit check", "Support for checking the resource "
     "usage before applying a new quota limit"),
    ("extra_dhcp_opt", "Neutron Extra DHCP options", "Extra options configuration for "
     "DHCP. For example PXE boot options to DHCP clients can be specified (e.g. tftp-server, "
     "server-ip-address, bootfile-name)"),
    ("subnet_allocation", "Subnet Allocation", "Enables allocation of subnets from a "
     "subnet pool"),
    ("standard-attr-revisions", "Resource revision numbers", "This extension will display "
     "the revision number of neutron resources."),
)
