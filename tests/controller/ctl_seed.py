"""Test helpers: the seed scenario's SB rows (what northd writes for DESIGN §1, with
readable names as in shared/reference/real-ovn-lab.md) and a contract-shaped Vswitch."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ovnlab.controller import Controller
from ovnlab.incproc import converge
from ovnlab.ovsdb import Database
from ovnlab.sb import new_sb
from ovnlab.topology import load

FIP, FIP_MAC, VM_IP, VM_MAC = "10.0.2.216", "fa:16:3e:9f:84:ff", "172.16.100.10", "fa:16:3e:11:11:10"
GW_IP, GW_MAC = "10.0.2.211", "fa:16:3e:00:02:11"
N1_MAC = "fa:16:3e:00:01:01"


@dataclass
class FakePort:
    name: str
    ofport: int
    type: str = ""
    options: dict[str, str] = field(default_factory=dict)
    external_ids: dict[str, str] = field(default_factory=dict)
    bfd: dict[str, str] = field(default_factory=dict)
    bfd_status: dict[str, str] = field(default_factory=dict)


@dataclass
class FakeBridge:
    name: str
    fail_mode: str | None = None
    ports: dict[str, FakePort] = field(default_factory=dict)
    flows: list[Any] = field(default_factory=list)
    _next: int = 1

    def add_port(self, name: str, type: str = "", options: dict[str, str] | None = None,
                 external_ids: dict[str, str] | None = None, ofport: int | None = None) -> FakePort:
        port = FakePort(name, ofport or self._next, type, dict(options or {}),
                        dict(external_ids or {}))
        self._next = max(self._next, port.ofport) + 1
        self.ports[name] = port
        return port

    def del_port(self, name: str) -> None:
        self.ports.pop(name)

    def replace_flows(self, flows: list[Any]) -> None:
        self.flows = list(flows)


@dataclass
class FakeVswitch:
    hostname: str
    bridges: dict[str, FakeBridge] = field(default_factory=dict)
    external_ids: dict[str, str] = field(default_factory=dict)

    def add_bridge(self, name: str, fail_mode: str | None = None) -> FakeBridge:
        self.bridges[name] = FakeBridge(name, fail_mode)
        return self.bridges[name]


def lflow(txn: Any, dp: str, pipeline: str, table: int, prio: int, match: str, actions: str,
          stage: str = "") -> None:
    txn.insert("Logical_Flow", logical_datapath=dp, pipeline=pipeline, table_id=table,
               priority=prio, match=match, actions=actions,
               external_ids={"stage-name": stage})


def build_seed_sb(distributed: bool = True) -> tuple[Database, dict[str, str]]:
    """SB rows for the seed after `server add floating ip` (no chassis rows: controllers
    register themselves). Returns the db and a name → uuid map."""
    sb = new_sb(seed=7)
    u: dict[str, str] = {}
    with sb.transaction() as txn:
        n1 = txn.insert("Datapath_Binding", tunnel_key=1, external_ids={"name": "neutron-n1",
                                                                         "logical-switch": "x"})
        ext = txn.insert("Datapath_Binding", tunnel_key=2,
                         external_ids={"name": "neutron-ext_n2", "logical-switch": "y"})
        r = txn.insert("Datapath_Binding", tunnel_key=3,
                       external_ids={"name": "neutron-r", "logical-router": "z"})
        u.update(n1=n1.uuid, ext=ext.uuid, r=r.uuid)

        def pb(name: str, dp: str, key: int, typ: str = "", **cols: Any) -> str:
            row = txn.insert("Port_Binding", logical_port=name, datapath=dp, tunnel_key=key,
                             type=typ, **cols)
            u[name] = row.uuid
            return row.uuid

        pb("vm_1", n1.uuid, 1, mac=(f"{VM_MAC} {VM_IP}",))
        pb("n1-r", n1.uuid, 2, "patch", options={"peer": "lrp-r-n1"}, mac=("router",))
        pb("provnet-extnet0", ext.uuid, 1, "localnet",
           options={"network_name": "extnet0"}, mac=("unknown",))
        nat = [f"{GW_MAC} {GW_IP} is_chassis_resident(\"cr-lrp-r-gw\")"]
        if distributed:
            nat.append(f"{FIP_MAC} {FIP} is_chassis_resident(\"vm_1\")")
        pb("ext_n2-r", ext.uuid, 2, "patch", options={"peer": "lrp-r-gw"}, mac=("router",),
           nat_addresses=tuple(nat))
        pb("lrp-r-gw", r.uuid, 1, "patch", options={"peer": "ext_n2-r"},
           mac=(f"{GW_MAC} {GW_IP}/24",))
        pb("lrp-r-n1", r.uuid, 2, "patch", options={"peer": "n1-r"},
           mac=(f"{N1_MAC} 172.16.100.1/24",))
        pb("cr-lrp-r-gw", r.uuid, 3, "chassisredirect",
           options={"distributed-port": "lrp-r-gw"}, mac=(f"{GW_MAC} {GW_IP}/24",))
        mc = txn.insert("Multicast_Group", datapath=n1.uuid, name="_MC_flood", tunnel_key=32768,
                        ports=(u["vm_1"], u["n1-r"]))
        u["mc_n1"] = mc.uuid
        mc = txn.insert("Multicast_Group", datapath=ext.uuid, name="_MC_flood",
                        tunnel_key=32768, ports=(u["provnet-extnet0"], u["ext_n2-r"]))
        u["mc_ext"] = mc.uuid

        # Logical flows (trimmed to what the observations exercise).
        lflow(txn, n1.uuid, "ingress", 0, 50, 'inport == "vm_1"', "next;", "ls_in_port_sec_l2")
        lflow(txn, n1.uuid, "ingress", 0, 50, 'inport == "n1-r"', "next;", "ls_in_port_sec_l2")
        lflow(txn, n1.uuid, "ingress", 22, 50, f"eth.dst == {VM_MAC}",
              'outport = "vm_1"; output;', "ls_in_l2_lkup")
        lflow(txn, n1.uuid, "ingress", 22, 50, f"eth.dst == {N1_MAC}",
              'outport = "n1-r"; output;', "ls_in_l2_lkup")
        lflow(txn, n1.uuid, "ingress", 22, 70, "eth.mcast",
              'outport = "_MC_flood"; output;', "ls_in_l2_lkup")
        lflow(txn, n1.uuid, "egress", 9, 50, 'outport == "vm_1"', "output;", "ls_out_port_sec_l2")
        lflow(txn, n1.uuid, "egress", 9, 50, 'outport == "n1-r"', "output;", "ls_out_port_sec_l2")
        lflow(txn, ext.uuid, "ingress", 0, 50, 'inport == "provnet-extnet0"', "next;")
        lflow(txn, ext.uuid, "ingress", 0, 50, 'inport == "ext_n2-r"', "next;")
        if distributed:
            lflow(txn, ext.uuid, "ingress", 22, 50,
                  f'eth.dst == {FIP_MAC} && is_chassis_resident("vm_1")',
                  'outport = "ext_n2-r"; output;', "ls_in_l2_lkup")
        lflow(txn, ext.uuid, "ingress", 22, 50,
              f'eth.dst == {GW_MAC} && is_chassis_resident("cr-lrp-r-gw")',
              'outport = "ext_n2-r"; output;', "ls_in_l2_lkup")
        lflow(txn, ext.uuid, "ingress", 22, 0, "1", 'outport = "_MC_unknown"; output;')
        lflow(txn, ext.uuid, "egress", 9, 50, 'outport == "provnet-extnet0"', "output;")
        lflow(txn, ext.uuid, "egress", 9, 50, 'outport == "ext_n2-r"', "output;")
        # router r
        lflow(txn, r.uuid, "ingress", 0, 50, f'eth.dst == {GW_MAC} && inport == "lrp-r-gw" '
              f'&& is_chassis_resident("cr-lrp-r-gw")', f"xreg0[0..47] = {GW_MAC}; next;",
              "lr_in_admission")
        lflow(txn, r.uuid, "ingress", 0, 50, f'eth.dst == {N1_MAC} && inport == "lrp-r-n1"',
              f"xreg0[0..47] = {N1_MAC}; next;", "lr_in_admission")
        if distributed:
            lflow(txn, r.uuid, "ingress", 0, 50, f'eth.dst == {FIP_MAC} && inport == "lrp-r-gw" '
                  f'&& is_chassis_resident("vm_1")', f"xreg0[0..47] = {GW_MAC}; next;",
                  "lr_in_admission")
            lflow(txn, r.uuid, "ingress", 3, 92, f'inport == "lrp-r-gw" && arp.op == 1 && '
                  f'arp.tpa == {FIP} && is_chassis_resident("vm_1")',
                  f"eth.dst = eth.src; eth.src = {FIP_MAC}; arp.op = 2; /* ARP reply */ "
                  f"arp.tha = arp.sha; arp.sha = {FIP_MAC}; arp.tpa = arp.spa; arp.spa = {FIP}; "
                  f'outport = inport; flags.loopback = 1; output;'.replace(
                      " /* ARP reply */", ""), "lr_in_ip_input")
        lflow(txn, r.uuid, "ingress", 3, 91, f'inport == "lrp-r-gw" && arp.op == 1 && '
              f"arp.tpa == {FIP}", "drop;", "lr_in_ip_input")
        lflow(txn, r.uuid, "ingress", 4, 100, f'ip && ip4.dst == {FIP} && inport == "lrp-r-gw" '
              f"&& flags.loopback == 0", "ct_snat_in_czone;", "lr_in_unsnat")
        lflow(txn, r.uuid, "ingress", 6, 100, f'ip && ip4.dst == {FIP} && inport == "lrp-r-gw"'
              + ("" if distributed else ' && is_chassis_resident("cr-lrp-r-gw")'),
              f"ct_dnat_in_czone({VM_IP});", "lr_in_dnat")
        lflow(txn, r.uuid, "ingress", 10, 49, "ip4.dst == 0.0.0.0/0",
              f'ip.ttl--; reg8[0..15] = 0; reg0 = 10.0.2.2; reg1 = {GW_IP}; eth.src = {GW_MAC}; '
              f'outport = "lrp-r-gw"; flags.loopback = 1; next;', "lr_in_ip_routing")
        lflow(txn, r.uuid, "ingress", 13, 0, "ip4", "get_arp(outport, reg0); next;",
              "lr_in_arp_resolve")
        if distributed:
            lflow(txn, r.uuid, "ingress", 16, 100, f'ip4.src == {VM_IP} && outport == "lrp-r-gw" '
                  f'&& is_chassis_resident("vm_1")', f"eth.src = {FIP_MAC}; reg1 = {FIP}; next;",
                  "lr_in_gw_redirect")
        lflow(txn, r.uuid, "ingress", 16, 50, 'outport == "lrp-r-gw"',
              'outport = "cr-lrp-r-gw"; next;', "lr_in_gw_redirect")
        lflow(txn, r.uuid, "ingress", 17, 100, "eth.dst == 00:00:00:00:00:00 && ip4",
              "arp { eth.dst = ff:ff:ff:ff:ff:ff; arp.spa = reg1; arp.tpa = reg0; arp.op = 1; "
              "output; };", "lr_in_arp_request")
        lflow(txn, r.uuid, "ingress", 17, 0, "1", "output;", "lr_in_arp_request")
        lflow(txn, r.uuid, "egress", 1, 100, f'ip && ip4.src == {VM_IP} && outport == "lrp-r-gw"'
              + ("" if distributed else ' && is_chassis_resident("cr-lrp-r-gw")'),
              (f"eth.src = {FIP_MAC}; " if distributed else "") + "ct_dnat_in_czone;",
              "lr_out_undnat")
        if distributed:
            lflow(txn, r.uuid, "egress", 3, 161, f'ip && ip4.src == {VM_IP} && outport == '
                  f'"lrp-r-gw" && is_chassis_resident("vm_1")',
                  f"eth.src = {FIP_MAC}; ct_snat_in_czone({FIP});", "lr_out_snat")
        else:
            lflow(txn, r.uuid, "egress", 3, 161, f'ip && ip4.src == {VM_IP} && outport == '
                  f'"lrp-r-gw" && is_chassis_resident("cr-lrp-r-gw")',
                  f"ct_snat_in_czone({FIP});", "lr_out_snat")
        lflow(txn, r.uuid, "egress", 3, 153, 'ip && ip4.src == 172.16.100.0/24 && outport == '
              '"lrp-r-gw" && is_chassis_resident("cr-lrp-r-gw")',
              f"ct_snat_in_czone({GW_IP});", "lr_out_snat")
        lflow(txn, r.uuid, "egress", 6, 100, 'outport == "lrp-r-gw"', "output;", "lr_out_delivery")
        lflow(txn, r.uuid, "egress", 6, 100, 'outport == "lrp-r-n1"', "output;", "lr_out_delivery")
    return sb, u


def add_ha_group(sb: Database, u: dict[str, str], topo_nodes: list[Any]) -> None:
    """HA_Chassis_Group for cr-lrp-r-gw: network 3, compute1 2, compute2 1."""
    with sb.transaction() as txn:
        has = []
        for prio, node in zip((3, 2, 1), topo_nodes, strict=False):
            ch = sb.get("Chassis", node.system_id)
            has.append(txn.insert("HA_Chassis", chassis=ch.uuid, priority=prio).uuid)
        grp = txn.insert("HA_Chassis_Group", name="lrp-r-gw", ha_chassis=tuple(has))
        txn.update("Port_Binding", u["cr-lrp-r-gw"], ha_chassis_group=grp.uuid)


@dataclass
class SeedLab:
    sb: Database
    u: dict[str, str]
    vswitches: dict[str, FakeVswitch]
    controllers: dict[str, Controller]


def seed_lab(distributed: bool = True, boot_vm: bool = True) -> SeedLab:
    topo = load("seed")
    sb, u = build_seed_sb(distributed)
    vs = {n.hostname: FakeVswitch(n.hostname, external_ids=n.ovs_external_ids())
          for n in topo.nodes}
    ctls: dict[str, Controller] = {}
    for n in topo.nodes:  # each ovn-controller keeps up with the SB as the next starts
        ctls[n.hostname] = Controller(sb, vs[n.hostname])
        converge(list(ctls.values()))
    add_ha_group(sb, u, list(topo.nodes))
    converge(list(ctls.values()))
    if boot_vm:
        br = vs["compute1"].bridges["br-int"]
        br.add_port("tap-vm1", external_ids={"iface-id": "vm_1", "attached-mac": VM_MAC})
        ctls["compute1"].run()
    return SeedLab(sb, u, vs, ctls)
