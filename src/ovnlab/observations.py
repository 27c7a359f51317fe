"""The article's observations (DESIGN.md §1), checked by running the lab.

Each check looks at what the system did — NB rows, installed OpenFlow flows, frames
captured on the chassis NICs while a ping really runs — never at what we expect it to
print. The demo and the scenario tests share them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ovnlab.datapath.bfd import BFD_DEST_PORT
from ovnlab.fabric.capture import Captured
from ovnlab.nb.types import NatType
from ovnlab.owners import DeviceOwner
from ovnlab.packet import ETH_ARP, ETH_IP, PROTO_ICMP, ip, ip_str, mac

if TYPE_CHECKING:
    from ovnlab.lab import Lab

ECHO_REQUEST, ECHO_REPLY = 8, 0


@dataclass
class Observation:
    number: str
    title: str
    ok: bool = False
    evidence: list[str] = field(default_factory=list)
    carried: str = ""  # which chassis carried the traffic, for the demo's summary

    def fail(self, why: str) -> Observation:
        self.ok = False
        self.evidence.append(f"FAILED: {why}")
        return self


@dataclass(frozen=True)
class Fip:
    """The seed's facts, read from the cloud (never assumed)."""

    router_id: str
    gw_port_id: str
    gw_ip: str
    fip: str | None
    fip_mac: str | None
    vm_port_id: str
    vm_ip: str
    vm_host: str


def facts(lab: Lab, router: str = "r", server: str = "vm_1") -> Fip:
    os = lab.openstack
    r = os.find("router", router)
    vm = os.find("server", server)
    ports = lab.cloud.get_ports(lab.admin, filters={"device_id": [vm["id"]]})
    vm_port = ports[0]
    gw = lab.cloud.get_ports(lab.admin, filters={"device_id": [r["id"]],
                                                  "device_owner": [DeviceOwner.ROUTER_GW]})[0]
    fips = [f for f in lab.cloud.l3.get_floatingips(lab.admin) if f["port_id"] == vm_port["id"]]
    fip_mac = None
    if fips:
        fport = lab.cloud.get_ports(lab.admin, filters={
            "device_owner": [DeviceOwner.FLOATINGIP], "device_id": [fips[0]["id"]]})
        fip_mac = fport[0]["mac_address"] if fport else None
    return Fip(r["id"], gw["id"], gw["fixed_ips"][0]["ip_address"],
               fips[0]["floating_ip_address"] if fips else None, fip_mac, vm_port["id"],
               vm_port["fixed_ips"][0]["ip_address"], vm["OS-EXT-SRV-ATTR:host"])


def network_node(lab: Lab) -> str:
    return next(n.hostname for n in lab.topology.nodes if n.role == "network")


# ---------------------------------------------------------------- 1 and 2: the NB


def gateway_chassis(lab: Lab, f: Fip) -> Observation:
    obs = Observation("1", "gateway_chassis: one row per chassis with the mapping, 3/2/1")
    rows = [r for r in lab.nb.rows("Gateway_Chassis") if r["name"].startswith(f"lrp-{f.gw_port_id}_")]
    by_prio = sorted(rows, key=lambda r: -r["priority"])
    sysids = {n.system_id: n.hostname for n in lab.topology.nodes}
    obs.evidence = [f"{r['name']}  priority {r['priority']}  ({sysids.get(r['chassis_name'], '?')})"
                    for r in by_prio]
    mapped = [n for n in lab.topology.nodes if n.bridge_mappings]
    obs.ok = (len(rows) == len(mapped) and [r["priority"] for r in by_prio]
              == list(range(len(rows), 0, -1))
              and sysids.get(by_prio[0]["chassis_name"]) == network_node(lab)
              and all(r["name"] == f"lrp-{f.gw_port_id}_{r['chassis_name']}" for r in rows))
    return obs


def nat_rows(lab: Lab, f: Fip, distributed: bool = True) -> Observation:
    obs = Observation("2", "lr-nat-list: dnat_and_snat with EXTERNAL_MAC and LOGICAL_PORT")
    router = lab.nb.get("Logical_Router", f"neutron-{f.router_id}")
    nats = [lab.nb.tables["NAT"][u] for u in router["nat"]]
    obs.evidence = [f"{n['type']} {n['external_ip']} {n['logical_ip']} "
                    f"{n['external_mac'] or ''} {n['logical_port'] or ''}".rstrip() for n in nats]
    snat = [n for n in nats if n["type"] == NatType.SNAT and n["external_ip"] == f.gw_ip]
    dnat = [n for n in nats if n["type"] == NatType.DNAT_AND_SNAT and n["external_ip"] == f.fip]
    obs.ok = (len(snat) == 1 and len(dnat) == 1 and dnat[0]["logical_ip"] == f.vm_ip
              and dnat[0]["logical_port"] == f.vm_port_id
              and (dnat[0]["external_mac"] == f.fip_mac) == distributed
              and (distributed or not dnat[0]["external_mac"]))
    return obs


# ---------------------------------------------------------------- 3: OpenFlow on the chassis


def nat_flows(lab: Lab, f: Fip, node: str) -> list[str]:
    """`ovs-ofctl dump-flows br-int | grep FIP | grep nat` on `node`."""
    out = lab.exec(node, ["ovs-ofctl", "dump-flows", "br-int"]).stdout
    return [line.strip() for line in out.splitlines() if f.fip and f.fip in line and "nat" in line]


def nat_tables(lab: Lab) -> tuple[int, int]:
    """The OpenFlow tables of lr_in_dnat and lr_out_snat: OVN 22.03's (ovnlab's), or the
    release the real backend runs."""
    tables: tuple[int, int] = getattr(lab, "nat_tables", (14, 43))
    return tables


def fip_flows(lab: Lab, f: Fip, distributed: bool = True) -> Observation:
    dnat_table, snat_table = nat_tables(lab)
    obs = Observation("3", f"DNAT (table {dnat_table}) and SNAT (table {snat_table}) flows "
                      "where the FIP is handled")
    where = f.vm_host if distributed else network_node(lab)
    others = [n.hostname for n in lab.topology.nodes if n.hostname != where]
    flows = nat_flows(lab, f, where)
    obs.evidence = [f"[{where}] {line}" for line in flows]
    dnat = [x for x in flows if f"table={dnat_table}," in x and f"nat(dst={f.vm_ip})" in x
            and "ct(commit" in x]
    snat = [x for x in flows if f"table={snat_table}," in x and f"nat(src={f.fip})" in x]
    stray = [n for n in others
             if any(f"table={snat_table}," in x for x in nat_flows(lab, f, n))]
    obs.ok = bool(dnat and snat) and not stray and (
        not distributed or all(f"mod_dl_src:{f.fip_mac}" in x for x in snat))
    if stray:
        obs.evidence.append(f"FIP SNAT flows also on: {', '.join(stray)}")
    return obs


# ---------------------------------------------------------------- 4-6: packets on the wire


class Capture:
    """Frames seen on every chassis NIC from now on (what `tcpdump -i IF` would print).
    A lab on the real backend captures with the real tcpdump (its `capture_session`)."""

    def __init__(self, lab: Lab, ifaces: Iterable[str] = ("eth0", "eth1")) -> None:
        self.lab = lab
        real = getattr(lab, "capture_session", None)
        self._real = real(tuple(ifaces)) if real is not None else None
        self.resolve_name = (self._real.resolve_name if self._real is not None
                             else lab.fabric.resolve_name)
        captures = {} if self._real is not None else {
            n.hostname: lab.fabric.captures(n.hostname) for n in lab.topology.nodes}
        self.marks = {(node, i): by_iface[i].total
                      for node, by_iface in captures.items() for i in ifaces if i in by_iface}

    def frames(self, node: str, iface: str) -> list[Captured]:
        if self._real is not None:
            frames: list[Captured] = self._real.frames(node, iface)
            return frames
        seen = self.lab.fabric.captures(node).get(iface)
        return [] if seen is None else seen.since(self.marks.get((node, iface), 0))

    def icmp(self, node: str, src: str | None = None, dst: str | None = None,
             kind: int | None = None) -> list[Captured]:
        return [c for c in self.frames(node, "eth0")
                if c.packet.ip_proto == PROTO_ICMP and c.packet.eth_type == ETH_IP
                and (src is None or c.packet.ip_src == ip(src))
                and (dst is None or c.packet.ip_dst == ip(dst))
                and (kind is None or c.packet.icmp_type == kind)]

    def geneve(self, node: str) -> list[Captured]:
        """Tunnelled traffic on the underlay (not the BFD sessions' control messages)."""
        return [c for c in self.frames(node, "eth1") if c.packet.geneve is not None
                and c.packet.geneve.inner.tp_dst != BFD_DEST_PORT]

    def tcpdump(self, node: str, frames: list[Captured]) -> list[str]:
        from ovnlab.capture.format import format_packet

        return [f"[{node}] {c.direction:<3} " + format_packet(c.packet, resolver=self.resolve_name)
                for c in frames]


def ping(lab: Lab, node: str, dest: str, count: int = 3) -> tuple[int, str]:
    result = lab.exec(node, ["ping", "-c", str(count), dest])
    return result.rc, result.stdout


def _outbound(lab: Lab, f: Fip, dest: str, snat_ip: str, where: str, number: str,
              title: str) -> Observation:
    obs = Observation(number, title)
    cap = Capture(lab)
    rc, out = ping(lab, "vm_1", dest)
    others = [n.hostname for n in lab.topology.nodes if n.hostname != where]
    requests = cap.icmp(where, src=snat_ip, kind=ECHO_REQUEST)
    replies = cap.icmp(where, dst=snat_ip, kind=ECHO_REPLY)
    leaks = {n: cap.icmp(n) for n in others}
    obs.evidence = [out.strip().splitlines()[-2] if out.strip() else "(no ping output)"]
    obs.evidence += cap.tcpdump(where, requests[:1] + replies[:1])
    obs.ok = rc == 0 and bool(requests) and bool(replies) and not any(leaks.values())
    for node, frames in leaks.items():
        if frames:
            obs.fail(f"{node} eth0 also saw ICMP: {cap.tcpdump(node, frames[:1])}")
    return obs


def outbound_distributed(lab: Lab, f: Fip, dest: str = "8.8.8.8") -> Observation:
    assert f.fip is not None
    return _outbound(lab, f, dest, f.fip, f.vm_host, "4",
                     f"vm_1 pings {dest}: leaves {f.vm_host}'s eth0 as {f.fip}, nothing on the others")


def outbound_centralized(lab: Lab, f: Fip, dest: str = "8.8.8.8") -> Observation:
    return _outbound(lab, f, dest, f.gw_ip, network_node(lab), "6",
                     f"without the FIP, the ping leaves {network_node(lab)} as {f.gw_ip}")


def outbound_fip_centralized(lab: Lab, f: Fip, dest: str = "8.8.8.8") -> Observation:
    """Distributed FIPs off: the FIP's traffic crosses the network node (the bottleneck)."""
    assert f.fip is not None
    return _outbound(lab, f, dest, f.fip, network_node(lab), "4c",
                     f"distributed FIPs off: vm_1's FIP traffic leaves {network_node(lab)}")


def inbound(lab: Lab, f: Fip, source: str = "exthost") -> Observation:
    assert f.fip is not None
    obs = Observation("5", f"{source} pings the FIP: ARP answered and echo handled on {f.vm_host}")
    cap = Capture(lab)
    rc, out = ping(lab, source, f.fip)
    arp_replies = {n.hostname: [c for c in cap.frames(n.hostname, "eth0")
                                if c.direction == "out" and c.packet.eth_type == ETH_ARP
                                and c.packet.arp_op == 2 and c.packet.arp_spa == ip(f.fip)]
                   for n in lab.topology.nodes}
    answered_by = [n for n, frames in arp_replies.items() if frames]
    requests = cap.icmp(f.vm_host, dst=f.fip, kind=ECHO_REQUEST)
    replies = cap.icmp(f.vm_host, src=f.fip, kind=ECHO_REPLY)
    others = [n.hostname for n in lab.topology.nodes if n.hostname != f.vm_host]
    obs.evidence = [out.strip().splitlines()[-2] if out.strip() else "(no ping output)"]
    obs.evidence += cap.tcpdump(f.vm_host, arp_replies[f.vm_host][:1] + requests[:1] + replies[:1])
    obs.ok = (rc == 0 and answered_by == [f.vm_host] and bool(requests) and bool(replies)
              and not any(cap.icmp(n) for n in others)
              and all(ip_str(c.packet.arp_spa) == f.fip and c.packet.arp_sha == mac(f.fip_mac or "0")
                      for c in arp_replies[f.vm_host]))
    if answered_by != [f.vm_host]:
        obs.fail(f"ARP for {f.fip} answered by {answered_by or 'nobody'}")
    return obs

