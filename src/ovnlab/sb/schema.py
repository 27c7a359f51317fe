"""OVN 22.03's Southbound schema (ovn-sb.ovsschema 20.21.0), the tables ovnlab uses.

Column conventions (shared with the NB schema and every reader of these rows):
- scalar columns (`min 1, max 1`) hold str / int / bool;
- optional columns (`min 0, max 1`) hold the scalar or None (`ovn-sbctl list` prints `[]`);
- sets hold tuples (references are row UUID strings), maps hold dicts of str → str.

Left out (ovnlab has no use for them): Connection, SSL, Meter, Meter_Band, DHCP_Options,
DHCPv6_Options, RBAC_*, Controller_Event, IP_Multicast, IGMP_Group, Service_Monitor, BFD.

Logical_Flow provenance lives in `external_ids`, as ovn-northd writes it: `stage-name`
(e.g. "lr_in_dnat"), `stage-hint` (first 8 hex digits of the NB row's UUID that caused the
flow) and `source` ("northd.c:NNNN" in OVN; ovnlab writes "<module>:<generator>").
"""

from __future__ import annotations

from collections.abc import Mapping

from ovnlab.ovsdb import Column, Database

SB_SCHEMA_VERSION = "20.21.0"

STR = Column("string", "")
INT = Column("integer", 0)
BOOL = Column("boolean", False)
SET = Column("set", ())
MAP = Column("map", {})


def _ref(table: str) -> Column:
    return Column("uuid", "", ref_table=table)


def _set(table: str | None = None) -> Column:
    return Column("set", (), ref_table=table)


def _opt(kind: str, table: str | None = None) -> Column:
    return Column(kind, None, optional=True, ref_table=table)


SB_SCHEMA: Mapping[str, Mapping[str, Column]] = {
    "SB_Global": {
        "nb_cfg": INT,
        "external_ids": MAP,
        "connections": _set(),
        "ssl": _opt("uuid"),
        "options": MAP,
        "ipsec": BOOL,
    },
    "Chassis": {
        "name": STR,
        "hostname": STR,
        "encaps": _set("Encap"),
        "vtep_logical_switches": SET,
        "nb_cfg": INT,
        "external_ids": MAP,
        "other_config": MAP,
        "transport_zones": SET,
    },
    "Chassis_Private": {
        "name": STR,
        "chassis": _opt("uuid", "Chassis"),
        "nb_cfg": INT,
        "nb_cfg_timestamp": INT,
        "external_ids": MAP,
    },
    "Encap": {
        "type": STR,
        "options": MAP,
        "ip": STR,
        "chassis_name": STR,
    },
    "Address_Set": {
        "name": STR,
        "addresses": SET,
    },
    "Port_Group": {
        "name": STR,
        "ports": SET,
    },
    "Logical_Flow": {
        "logical_datapath": _opt("uuid", "Datapath_Binding"),
        "logical_dp_group": _opt("uuid", "Logical_DP_Group"),
        "pipeline": STR,
        "table_id": INT,
        "priority": INT,
        "match": STR,
        "actions": STR,
        "tags": MAP,
        "controller_meter": _opt("string"),
        "external_ids": MAP,
    },
    "Logical_DP_Group": {
        "datapaths": _set("Datapath_Binding"),
    },
    "Multicast_Group": {
        "datapath": _ref("Datapath_Binding"),
        "name": STR,
        "tunnel_key": INT,
        "ports": _set("Port_Binding"),
    },
    "Datapath_Binding": {
        "tunnel_key": INT,
        "load_balancers": SET,
        "external_ids": MAP,
    },
    "Port_Binding": {
        "logical_port": STR,
        "type": STR,
        "gateway_chassis": _set("Gateway_Chassis"),
        "ha_chassis_group": _opt("uuid", "HA_Chassis_Group"),
        "options": MAP,
        "datapath": _ref("Datapath_Binding"),
        "tunnel_key": INT,
        "parent_port": _opt("string"),
        "tag": _opt("integer"),
        "virtual_parent": _opt("string"),
        "chassis": _opt("uuid", "Chassis"),
        "encap": _opt("uuid", "Encap"),
        "mac": SET,
        "nat_addresses": SET,
        "up": _opt("boolean"),
        "external_ids": MAP,
        "requested_chassis": _opt("uuid", "Chassis"),
    },
    "MAC_Binding": {
        "logical_port": STR,
        "ip": STR,
        "mac": STR,
        "datapath": _ref("Datapath_Binding"),
    },
    "DNS": {
        "records": MAP,
        "datapaths": _set("Datapath_Binding"),
        "external_ids": MAP,
    },
    "Gateway_Chassis": {
        "name": STR,
        "chassis": _opt("uuid", "Chassis"),
        "priority": INT,
        "external_ids": MAP,
        "options": MAP,
    },
    "HA_Chassis": {
        "chassis": _opt("uuid", "Chassis"),
        "priority": INT,
        "external_ids": MAP,
    },
    "HA_Chassis_Group": {
        "name": STR,
        "ha_chassis": _set("HA_Chassis"),
        "ref_chassis": _set("Chassis"),
        "external_ids": MAP,
    },
    "Load_Balancer": {
        "name": STR,
        "vips": MAP,
        "protocol": _opt("string"),
        "datapaths": _set("Datapath_Binding"),
        "options": MAP,
        "external_ids": MAP,
    },
    "FDB": {
        "mac": STR,
        "dp_key": INT,
        "port_key": INT,
    },
}


def new_sb(seed: int = 0) -> Database:
    """An empty Southbound database named as ovsdb-server names it."""
    return Database("OVN_Southbound", SB_SCHEMA, seed=seed)
