"""The Neutron plugin methods behind each v2.0 collection, bound from the typed cloud
(`ovnlab.cloud.services.Neutron`): the REST layer calls methods, never names built from
strings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ovnlab.cloud.base import Doc
from ovnlab.cloud.context import Context
from ovnlab.cloud.services import Neutron as Cloud

from .attrs import Resource


@dataclass(frozen=True, slots=True)
class Crud:
    """One collection's plugin methods, Neutron-style (get_networks, get_network,
    create_network, update_network, delete_network)."""

    list: Callable[[Context], list[Doc]]
    show: Callable[[Context, str], Doc]
    create: Callable[[Context, object], Doc]
    update: Callable[[Context, str, object], Doc] | None
    delete: Callable[[Context, str], None]


def crud(cloud: Cloud, res: Resource) -> Crud:
    """The plugin methods behind a collection (security group rules cannot be updated)."""
    c = cloud
    match res.member:
        case "network":
            return Crud(c.get_networks, c.get_network, c.create_network, c.update_network,
                        c.delete_network)
        case "subnet":
            return Crud(c.get_subnets, c.get_subnet, c.create_subnet, c.update_subnet,
                        c.delete_subnet)
        case "port":
            return Crud(c.get_ports, c.get_port, c.create_port, c.update_port, c.delete_port)
        case "router":
            return Crud(c.l3.get_routers, c.l3.get_router, c.l3.create_router,
                        c.l3.update_router, c.l3.delete_router)
        case "floatingip":
            return Crud(c.l3.get_floatingips, c.l3.get_floatingip, c.l3.create_floatingip,
                        c.l3.update_floatingip, c.l3.delete_floatingip)
        case "security_group":
            sgs = c.security_groups
            return Crud(sgs.get_security_groups, sgs.get_security_group,
                        sgs.create_security_group, sgs.update_security_group,
                        sgs.delete_security_group)
        case "subnetpool":
            pools = c.subnetpools
            return Crud(pools.get_subnetpools, pools.get_subnetpool, pools.create_subnetpool,
                        pools.update_subnetpool, pools.delete_subnetpool)
        case "security_group_rule":
            sgs = c.security_groups
            return Crud(sgs.get_security_group_rules, sgs.get_security_group_rule,
                        sgs.create_security_group_rule, None, sgs.delete_security_group_rule)
    raise KeyError(f"no plugin methods for the {res.member} collection: add them here")
