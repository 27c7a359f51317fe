"""OVN Northbound schema (OVN 22.03, `ovn-nb.ovsschema` version 6.1.0) for `ovsdb.Database`.

Every table and column of the real schema, with the real names. Two later columns are added
because Neutron and operators use them: `NAT.gateway_port` (OVN 22.06+) and
`Logical_Router_Port.status` (OVN 23.09+).

Value conventions (shared with the SB schema and every reader of these rows):
- scalar columns (min 1, max 1) hold str / int / bool;
- 0..1 columns (`optional=True`) hold the value or None (ovsdb prints `[]` for None);
- sets hold tuples (references are row UUID strings), maps hold dicts.
"""

from __future__ import annotations

from ovnlab.ovsdb import Column, Schema

NB_VERSION = "6.1.0"

_STR = Column("string", "")
_INT = Column("integer", 0)
_BOOL = Column("boolean", False)
_MAP = Column("map", {})


def _ref(table: str) -> Column:
    return Column("uuid", "", ref_table=table)


def _opt(kind: str, ref_table: str | None = None) -> Column:
    return Column(kind, None, optional=True, ref_table=ref_table)


def _set(ref_table: str | None = None) -> Column:
    return Column("set", (), ref_table=ref_table)


NB_SCHEMA: Schema = {
    "NB_Global": {
        "name": _STR,
        "nb_cfg": _INT,
        "nb_cfg_timestamp": _INT,
        "sb_cfg": _INT,
        "sb_cfg_timestamp": _INT,
        "hv_cfg": _INT,
        "hv_cfg_timestamp": _INT,
        "external_ids": _MAP,
        "connections": _set("Connection"),
        "ssl": _opt("uuid", "SSL"),
        "options": _MAP,
        "ipsec": _BOOL,
    },
    "Copp": {
        "name": _STR,
        "meters": _MAP,
        "external_ids": _MAP,
    },
    "Logical_Switch": {
        "name": _STR,
        "ports": _set("Logical_Switch_Port"),
        "acls": _set("ACL"),
        "qos_rules": _set("QoS"),
        "load_balancer": _set("Load_Balancer"),
        "load_balancer_group": _set("Load_Balancer_Group"),
        "dns_records": _set("DNS"),
        "copp": _opt("uuid", "Copp"),
        "other_config": _MAP,
        "external_ids": _MAP,
        "forwarding_groups": _set("Forwarding_Group"),
    },
    "Logical_Switch_Port": {
        "name": _STR,
        "type": _STR,
        "options": _MAP,
        "parent_name": _opt("string"),
        "tag_request": _opt("integer"),
        "tag": _opt("integer"),
        "addresses": _set(),
        "dynamic_addresses": _opt("string"),
        "port_security": _set(),
        "up": _opt("boolean"),
        "enabled": _opt("boolean"),
        "dhcpv4_options": _opt("uuid", "DHCP_Options"),
        "dhcpv6_options": _opt("uuid", "DHCP_Options"),
        "ha_chassis_group": _opt("uuid", "HA_Chassis_Group"),
        "external_ids": _MAP,
    },
    "Forwarding_Group": {
        "name": _STR,
        "vip": _STR,
        "vmac": _STR,
        "liveness": _BOOL,
        "external_ids": _MAP,
        "child_port": _set(),
    },
    "Address_Set": {
        "name": _STR,
        "addresses": _set(),
        "external_ids": _MAP,
    },
    "Port_Group": {
        "name": _STR,
        "ports": _set("Logical_Switch_Port"),
        "acls": _set("ACL"),
        "external_ids": _MAP,
    },
    "Load_Balancer": {
        "name": _STR,
        "vips": _MAP,
        "protocol": _opt("string"),
        "health_check": _set("Load_Balancer_Health_Check"),
        "ip_port_mappings": _MAP,
        "selection_fields": _set(),
        "options": _MAP,
        "external_ids": _MAP,
    },
    "Load_Balancer_Group": {
        "name": _STR,
        "load_balancer": _set("Load_Balancer"),
    },
    "Load_Balancer_Health_Check": {
        "vip": _STR,
        "options": _MAP,
        "external_ids": _MAP,
    },
    "ACL": {
        "name": _opt("string"),
        "priority": _INT,
        "direction": _STR,
        "match": _STR,
        "action": _STR,
        "log": _BOOL,
        "severity": _opt("string"),
        "meter": _opt("string"),
        "label": _INT,
        "options": _MAP,
        "external_ids": _MAP,
    },
    "QoS": {
        "priority": _INT,
        "direction": _STR,
        "match": _STR,
        "action": _MAP,
        "bandwidth": _MAP,
        "external_ids": _MAP,
    },
    "Meter": {
        "name": _STR,
        "unit": _STR,
        "bands": _set("Meter_Band"),
        "fair": _opt("boolean"),
        "external_ids": _MAP,
    },
    "Meter_Band": {
        "action": _STR,
        "rate": _INT,
        "burst_size": _INT,
        "external_ids": _MAP,
    },
    "Logical_Router": {
        "name": _STR,
        "ports": _set("Logical_Router_Port"),
        "static_routes": _set("Logical_Router_Static_Route"),
        "policies": _set("Logical_Router_Policy"),
        "enabled": _opt("boolean"),
        "nat": _set("NAT"),
        "load_balancer": _set("Load_Balancer"),
        "load_balancer_group": _set("Load_Balancer_Group"),
        "copp": _opt("uuid", "Copp"),
        "options": _MAP,
        "external_ids": _MAP,
    },
    "Logical_Router_Port": {
        "name": _STR,
        "gateway_chassis": _set("Gateway_Chassis"),
        "ha_chassis_group": _opt("uuid", "HA_Chassis_Group"),
        "options": _MAP,
        "networks": _set(),
        "mac": _STR,
        "peer": _opt("string"),
        "enabled": _opt("boolean"),
        "ipv6_ra_configs": _MAP,
        "ipv6_prefix": _set(),
        "external_ids": _MAP,
        "status": _MAP,  # OVN 23.09+ (schema 7.1.0): hosting-chassis
    },
    "Logical_Router_Static_Route": {
        "route_table": _STR,
        "ip_prefix": _STR,
        "policy": _opt("string"),
        "nexthop": _STR,
        "output_port": _opt("string"),
        "bfd": _opt("uuid", "BFD"),
        "options": _MAP,
        "external_ids": _MAP,
    },
    "Logical_Router_Policy": {
        "priority": _INT,
        "match": _STR,
        "action": _STR,
        "nexthop": _opt("string"),
        "nexthops": _set(),
        "options": _MAP,
        "external_ids": _MAP,
    },
    "NAT": {
        "external_ip": _STR,
        "external_mac": _opt("string"),
        "external_port_range": _STR,
        "logical_ip": _STR,
        "logical_port": _opt("string"),
        "type": _STR,
        "allowed_ext_ips": _opt("uuid", "Address_Set"),
        "exempted_ext_ips": _opt("uuid", "Address_Set"),
        "options": _MAP,
        "external_ids": _MAP,
        "gateway_port": _opt("uuid", "Logical_Router_Port"),  # OVN 22.06+ (schema 6.3.0); Neutron master sets it
    },
    "DHCP_Options": {
        "cidr": _STR,
        "options": _MAP,
        "external_ids": _MAP,
    },
    "Connection": {
        "target": _STR,
        "max_backoff": _opt("integer"),
        "inactivity_probe": _opt("integer"),
        "other_config": _MAP,
        "external_ids": _MAP,
        "is_connected": _BOOL,
        "status": _MAP,
    },
    "DNS": {
        "records": _MAP,
        "external_ids": _MAP,
    },
    "SSL": {
        "private_key": _STR,
        "certificate": _STR,
        "ca_cert": _STR,
        "bootstrap_ca_cert": _BOOL,
        "ssl_protocols": _STR,
        "ssl_ciphers": _STR,
        "external_ids": _MAP,
    },
    "Gateway_Chassis": {
        "name": _STR,
        "chassis_name": _STR,
        "priority": _INT,
        "external_ids": _MAP,
        "options": _MAP,
    },
    "HA_Chassis": {
        "chassis_name": _STR,
        "priority": _INT,
        "external_ids": _MAP,
    },
    "HA_Chassis_Group": {
        "name": _STR,
        "ha_chassis": _set("HA_Chassis"),
        "external_ids": _MAP,
    },
    "BFD": {
        "logical_port": _STR,
        "dst_ip": _STR,
        "min_tx": _opt("integer"),
        "min_rx": _opt("integer"),
        "detect_mult": _opt("integer"),
        "status": _opt("string"),
        "external_ids": _MAP,
        "options": _MAP,
    },
}

# Tables whose rows live without being referenced (OVSDB "isRoot"): rows of the other tables
# exist only while a parent references them (e.g. a Logical_Switch_Port in `ports`).
NB_ROOT_TABLES = frozenset({
    "Address_Set", "BFD", "Copp", "DHCP_Options", "DNS", "HA_Chassis_Group", "Load_Balancer",
    "Load_Balancer_Group", "Logical_Router", "Logical_Switch", "Meter", "NB_Global", "Port_Group",
})

# References with "refType": "weak": they do not keep the referenced row alive, and are
# dropped when it is deleted (plus NAT.gateway_port, weak in OVN 22.06+).
NB_WEAK_REFS = frozenset({
    ("Logical_Switch", "load_balancer"), ("Logical_Switch", "dns_records"), ("Logical_Switch", "copp"),
    ("Logical_Switch_Port", "dhcpv4_options"), ("Logical_Switch_Port", "dhcpv6_options"),
    ("Port_Group", "ports"), ("Load_Balancer_Group", "load_balancer"),
    ("Logical_Router", "load_balancer"), ("Logical_Router", "copp"),
    ("Logical_Router_Static_Route", "bfd"), ("NAT", "gateway_port"),
})

# Unique indexes of the real schema (the name a command may look a row up by).
NB_INDEXES: dict[str, tuple[tuple[str, ...], ...]] = {
    "Copp": (("name",),),
    "Logical_Switch_Port": (("name",),),
    "Address_Set": (("name",),),
    "Port_Group": (("name",),),
    "Load_Balancer_Group": (("name",),),
    "Meter": (("name",),),
    "Logical_Router_Port": (("name",),),
    "Connection": (("target",),),
    "Gateway_Chassis": (("name",),),
    "HA_Chassis_Group": (("name",),),
    "BFD": (("logical_port", "dst_ip"),),
}
