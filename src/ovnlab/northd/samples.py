"""NB contents as Neutron's OVN driver writes them, built directly with OVSDB transactions:
the seed scenario (DESIGN.md §1) and generated clouds for the benchmarks."""

from __future__ import annotations

import uuid as uuidlib
from dataclasses import dataclass

from ovnlab.ml2ovn.fip import external_mac
from ovnlab.nb.schema import NB_SCHEMA
from ovnlab.ovsdb import Database, Transaction


def _uuid(tag: str) -> str:
    return str(uuidlib.uuid5(uuidlib.NAMESPACE_URL, f"ovnlab:{tag}"))


@dataclass(frozen=True, slots=True)
class SeedIds:
    net_n1: str
    net_ext: str
    router: str
    vm_port: str
    router_if_port: str
    gw_port: str
    fip_port: str
    sg: str
    chassis: tuple[str, ...]


SEED = SeedIds(_uuid("net-n1"), _uuid("net-ext"), _uuid("router-r"), _uuid("port-vm1"),
               _uuid("port-r-n1"), _uuid("port-r-gw"), _uuid("port-fip"), _uuid("sg-icmp-ssh"),
               (_uuid("chassis-network"), _uuid("chassis-compute1"), _uuid("chassis-compute2")))

VM_MAC = "fa:16:3e:11:11:10"
FIP_MAC = "fa:16:3e:9f:84:ff"
GW_MAC = "fa:16:3e:00:02:11"
IF_MAC = "fa:16:3e:00:01:01"


def new_nb() -> Database:
    return Database("OVN_Northbound", NB_SCHEMA)


def pg_name(sg_id: str) -> str:
    return "pg_" + sg_id.replace("-", "_")


def add_security_group(txn: Transaction, sg_id: str, ports: list[str]) -> str:
    """Neutron's port group for a security group (egress any + ingress icmp/ssh, stateful)
    and neutron_pg_drop (default drop for every port in a group); `ports` are
    Logical_Switch_Port UUIDs."""
    pg = pg_name(sg_id)
    acls = []
    for direction, match in (
            ("from-lport", f"inport == @{pg} && ip4"),
            ("to-lport", f"outport == @{pg} && ip4 && ip4.src == 0.0.0.0/0 && icmp4"),
            ("to-lport", f"outport == @{pg} && ip4 && ip4.src == 0.0.0.0/0 && tcp "
                         "&& tcp.dst == 22")):
        acls.append(txn.insert("ACL", priority=1002, direction=direction, match=match,
                               action="allow-related", name=None,
                               external_ids={"neutron:security_group_rule_id":
                                             _uuid(f"{sg_id}:{match}")}).uuid)
    txn.insert("Port_Group", name=pg, ports=tuple(ports), acls=tuple(acls),
               external_ids={"neutron:security_group_id": sg_id})
    existing = txn.db.find("Port_Group", name="neutron_pg_drop")
    if existing:
        drop = existing[0]
        txn.update("Port_Group", drop.uuid,
                   ports=(*drop["ports"], *(p for p in ports if p not in drop["ports"])))
        return pg
    drops = [txn.insert("ACL", priority=1001, direction=d, match=m, action="drop").uuid
             for d, m in (("from-lport", "inport == @neutron_pg_drop && ip"),
                          ("to-lport", "outport == @neutron_pg_drop && ip"))]
    txn.insert("Port_Group", name="neutron_pg_drop", ports=tuple(ports), acls=tuple(drops))
    return pg


def seed_nb(distributed: bool = True, with_fip: bool = True,
            chassis_names: tuple[str, ...] | None = None) -> Database:
    """The seed's NB after all its `openstack` commands; `distributed=False` leaves
    NAT.external_mac empty, as Neutron does with enable_distributed_floating_ip = False."""
    nb = new_nb()
    s = SEED
    chassis = chassis_names or s.chassis
    with nb.transaction() as txn:
        vm = txn.insert("Logical_Switch_Port", name=s.vm_port,
                        addresses=(f"{VM_MAC} 172.16.100.10",),
                        port_security=(f"{VM_MAC} 172.16.100.10",),
                        external_ids={"neutron:device_owner": "compute:nova",
                                      "neutron:cidrs": "172.16.100.10/24"})
        rif = txn.insert("Logical_Switch_Port", name=s.router_if_port, type="router",
                         addresses=("router",),
                         options={"router-port": f"lrp-{s.router_if_port}"})
        txn.insert("Logical_Switch", uuid=_uuid("ls-n1"), name=f"neutron-{s.net_n1}",
                   ports=(vm.uuid, rif.uuid),
                   external_ids={"neutron:network_name": "n1"})
        ln = txn.insert("Logical_Switch_Port", name=f"provnet-{_uuid('segment-ext')}",
                        type="localnet", addresses=("unknown",),
                        options={"network_name": "extnet0"})
        gwp = txn.insert("Logical_Switch_Port", name=s.gw_port, type="router",
                         addresses=("router",),
                         options={"router-port": f"lrp-{s.gw_port}",
                                  "nat-addresses": "router"})
        txn.insert("Logical_Switch", uuid=_uuid("ls-ext"), name=f"neutron-{s.net_ext}",
                   ports=(ln.uuid, gwp.uuid), external_ids={"neutron:network_name": "ext_n2"})
        lrp_if = txn.insert("Logical_Router_Port", name=f"lrp-{s.router_if_port}",
                            mac=IF_MAC, networks=("172.16.100.1/24",))
        gcs = [txn.insert("Gateway_Chassis", name=f"lrp-{s.gw_port}_{c}", chassis_name=c,
                          priority=len(chassis) - i).uuid for i, c in enumerate(chassis)]
        lrp_gw = txn.insert("Logical_Router_Port", name=f"lrp-{s.gw_port}", mac=GW_MAC,
                            networks=("10.0.2.211/24",), gateway_chassis=tuple(gcs))
        route = txn.insert("Logical_Router_Static_Route", ip_prefix="0.0.0.0/0",
                           nexthop="10.0.2.2")
        nats = [txn.insert("NAT", type="snat", external_ip="10.0.2.211",
                           logical_ip="172.16.100.0/24").uuid]
        if with_fip:
            nats.append(txn.insert(
                "NAT", type="dnat_and_snat", external_ip="10.0.2.216",
                logical_ip="172.16.100.10", logical_port=s.vm_port,
                external_mac=external_mac(distributed=distributed, port_up=True,
                                          fip_mac=FIP_MAC, current=None),
                external_ids={"neutron:fip_id": s.fip_port}).uuid)
        txn.insert("Logical_Router", uuid=_uuid("lr-r"), name=f"neutron-{s.router}",
                   ports=(lrp_if.uuid, lrp_gw.uuid), static_routes=(route.uuid,),
                   nat=tuple(nats), external_ids={"neutron:router_name": "r"})
        add_security_group(txn, s.sg, [vm.uuid])
    return nb


def fip_cloud(n_fips: int, n_chassis: int) -> Database:
    """One router, one tenant network of n_fips VM ports each with a distributed FIP
    (1:1), an external network, and gateway chassis on (at most 5 of) n_chassis."""
    nb = new_nb()
    chassis = [f"chassis-{i}" for i in range(n_chassis)]
    with nb.transaction() as txn:
        ports = []
        vm_names = []
        for i in range(n_fips):
            mac = _mac(0x100000 + i)
            ip = _tenant_ip(i)
            name = _uuid(f"vm-port-{i}")
            vm_names.append(name)
            ports.append(txn.insert("Logical_Switch_Port", name=name,
                                    addresses=(f"{mac} {ip}",),
                                    port_security=(f"{mac} {ip}",)).uuid)
        rif = txn.insert("Logical_Switch_Port", name="rif", type="router", addresses=("router",),
                         options={"router-port": "lrp-rif"})
        txn.insert("Logical_Switch", name="neutron-tenant", ports=(*ports, rif.uuid))
        ln = txn.insert("Logical_Switch_Port", name="provnet-ext", type="localnet",
                        addresses=("unknown",), options={"network_name": "extnet0"})
        gwp = txn.insert("Logical_Switch_Port", name="rgw", type="router", addresses=("router",),
                         options={"router-port": "lrp-rgw", "nat-addresses": "router"})
        txn.insert("Logical_Switch", name="neutron-ext", ports=(ln.uuid, gwp.uuid))
        lrp_if = txn.insert("Logical_Router_Port", name="lrp-rif", mac=IF_MAC,
                            networks=("10.0.0.1/8",))
        gcs = [txn.insert("Gateway_Chassis", name=f"lrp-rgw_{c}", chassis_name=c,
                          priority=5 - i).uuid for i, c in enumerate(chassis[:5])]
        lrp_gw = txn.insert("Logical_Router_Port", name="lrp-rgw", mac=GW_MAC,
                            networks=("100.64.0.1/10",), gateway_chassis=tuple(gcs))
        nats = [txn.insert("NAT", type="snat", external_ip="100.64.0.1",
                           logical_ip="10.0.0.0/8").uuid]
        for i in range(n_fips):
            nats.append(fip_row(txn, i, vm_names[i]))
        route = txn.insert("Logical_Router_Static_Route", ip_prefix="0.0.0.0/0",
                           nexthop="100.64.0.2")
        txn.insert("Logical_Router", name="neutron-router", ports=(lrp_if.uuid, lrp_gw.uuid),
                   nat=tuple(nats), static_routes=(route.uuid,))
        add_security_group(txn, _uuid("bench-sg"), ports)
    return nb


def register_chassis(sb: Database, n: int) -> None:
    """n chassis (chassis-0...) in the SB as their ovn-controllers register them: a Geneve
    encap each and the external network's bridge mapping (fip_cloud's gateway chassis)."""
    with sb.transaction() as txn:
        for i in range(n):
            enc = txn.insert("Encap", type="geneve", ip=f"192.168.{i // 250}.{i % 250 + 1}",
                             chassis_name=f"chassis-{i}", options={"csum": "true"})
            txn.insert("Chassis", name=f"chassis-{i}", hostname=f"node-{i}", encaps=(enc.uuid,),
                       other_config={"ovn-bridge-mappings": "extnet0:br-ex"})


def fip_row(txn: Transaction, i: int, vm_port: str) -> str:
    return txn.insert("NAT", type="dnat_and_snat", external_ip=_fip_ip(i),
                      logical_ip=_tenant_ip(i), logical_port=vm_port,
                      external_mac=external_mac(distributed=True, port_up=True,
                                                fip_mac=_mac(0x200000 + i), current=None)).uuid


def _mac(n: int) -> str:
    return "fa:16:3e:" + ":".join(f"{(n >> s) & 0xff:02x}" for s in (16, 8, 0))


def _tenant_ip(i: int) -> str:
    n = i + 10
    return f"10.{(n >> 16) & 0xff}.{(n >> 8) & 0xff}.{n & 0xff}"


def _fip_ip(i: int) -> str:
    n = i + 10
    return f"100.{64 + ((n >> 16) & 0x3f)}.{(n >> 8) & 0xff}.{n & 0xff}"
