"""The fixed set of packets ovnlab's ovn-trace is compared on with the real ovn-trace 22.03,
for the seed lab (DVR on and off): VM to the internet, an external host to the FIP,
east-west between two subnets, a VM to its own FIP (hairpin), a VM to another VM's FIP,
ARP for the router's IPs; and floods (multicast groups).  `lab_ids()` reads what they need from a lab; `packets()` builds
them; `diff()` runs both tools.  The differential tier can call these with its own labs."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass

from ovnlab.lab import Lab

EXTHOST_MAC = "52:54:00:00:00:64"


@dataclass(frozen=True)
class Vm:
    port: str
    mac: str
    ip: str
    network: str  # the switch's name (neutron-<network id>)
    gateway: str  # its subnet's gateway IP
    router_mac: str  # the router port's MAC on that subnet
    fip: str | None


@dataclass(frozen=True)
class Ids:
    vms: tuple[Vm, ...]
    router: str
    ext_switch: str
    localnet: str
    gw_ip: str  # the router's external IP
    gw_mac: str


@dataclass(frozen=True)
class TracePacket:
    name: str
    args: tuple[str, ...]  # ovn-trace's arguments: options, datapath, microflow


def lab_ids(lab: Lab) -> Ids:
    """The ports, MACs and addresses of a lab built like the seed (router `r`)."""
    admin, cloud = lab.admin, lab.cloud
    router = lab.openstack.find("router", "r")
    rports = cloud.get_ports(admin, filters={"device_id": [router["id"]]})
    fips = {f["port_id"]: f["floating_ip_address"] for f in cloud.l3.get_floatingips(admin)
            if f.get("port_id")}
    vms = []
    for server in sorted(cloud.nova.get_servers(admin), key=lambda s: s["name"]):
        port = cloud.get_ports(admin, filters={"device_id": [server["id"]]})[0]
        fixed = port["fixed_ips"][0]
        subnet = cloud.get_subnet(admin, fixed["subnet_id"])
        rport = next(p for p in rports if p["fixed_ips"][0]["subnet_id"] == fixed["subnet_id"])
        vms.append(Vm(port["id"], port["mac_address"], fixed["ip_address"],
                      f"neutron-{port['network_id']}", subnet["gateway_ip"],
                      rport["mac_address"], fips.get(port["id"])))
    gw = next(p for p in rports if p["device_owner"] == "network:router_gateway")
    return Ids(tuple(vms), f"neutron-{router['id']}", f"neutron-{gw['network_id']}",
               f"provnet-{gw['network_id']}", gw["fixed_ips"][0]["ip_address"],
               gw["mac_address"])


def _icmp(vm: Vm, dst: str) -> str:
    return (f'inport == "{vm.port}" && eth.src == {vm.mac} && eth.dst == {vm.router_mac} && '
            f"ip4.src == {vm.ip} && ip4.dst == {dst} && ip.ttl == 64 && icmp4.type == 8")


def _arp(inport: str, mac: str, spa: str, tpa: str) -> str:
    return (f'inport == "{inport}" && eth.src == {mac} && eth.dst == ff:ff:ff:ff:ff:ff && '
            f"arp.op == 1 && arp.sha == {mac} && arp.spa == {spa} && arp.tpa == {tpa} && "
            "arp.tha == 00:00:00:00:00:00")


def packets(ids: Ids) -> list[TracePacket]:
    vm1 = ids.vms[0]
    out = [
        TracePacket("vm to the internet", ("--all", vm1.network, _icmp(vm1, "8.8.8.8"))),
        TracePacket("vm to the internet, --ct new,est",
                    ("--summary", "--ct", "new", "--ct=est", vm1.network, _icmp(vm1, "8.8.8.8"))),
        TracePacket("vm to the internet, datapath from the inport, full names",
                    ("--no-friendly-names", _icmp(vm1, "8.8.8.8"))),
        TracePacket("arp for the gateway", ("--all", _arp(vm1.port, vm1.mac, vm1.ip,
                                                          vm1.gateway))),
        TracePacket("arp for an unused address (flooded)",
                    ("--all", _arp(vm1.port, vm1.mac, vm1.ip,
                                   vm1.gateway.rsplit(".", 1)[0] + ".99"))),
        TracePacket("broadcast from outside (flooded)",
                    ("--all", ids.ext_switch, _external(ids, "ff:ff:ff:ff:ff:ff",
                                                        "10.0.2.255"))),
        TracePacket("arp for the router's external ip",
                    ("--all", ids.ext_switch, _arp(ids.localnet, EXTHOST_MAC, "10.0.2.100",
                                                   ids.gw_ip))),
        TracePacket("external host to the router's external ip",
                    ("--all", ids.ext_switch, _external(ids, ids.gw_mac, ids.gw_ip))),
    ]
    if vm1.fip is not None:
        out += [
            TracePacket("vm to its own fip (hairpin)", ("--all", vm1.network, _icmp(vm1, vm1.fip))),
            TracePacket("external host to the fip",
                        ("--all", "--ct", "new", ids.ext_switch, _external(ids, ids.gw_mac,
                                                                          vm1.fip))),
            TracePacket("arp for the fip", ("--minimal", ids.ext_switch, _arp(
                ids.localnet, EXTHOST_MAC, "10.0.2.100", vm1.fip))),
        ]
    for other in ids.vms[1:]:
        out.append(TracePacket(f"east-west to {other.ip}",
                               ("--all", "--ct", "new", "--ct", "est", vm1.network,
                                _icmp(vm1, other.ip))))
        if other.fip is not None:
            out.append(TracePacket(f"vm to another vm's fip {other.fip}",
                                   ("--all", vm1.network, _icmp(vm1, other.fip))))
    return out


def _external(ids: Ids, dst_mac: str, dst_ip: str) -> str:
    return (f'inport == "{ids.localnet}" && eth.src == {EXTHOST_MAC} && eth.dst == {dst_mac} && '
            f"ip4.src == 10.0.2.100 && ip4.dst == {dst_ip} && ip.ttl == 64 && icmp4.type == 8")


Trace = Callable[[list[str]], str]


# A flow header of a trace: "9. ls_in_acl (northd.c:6425): MATCH, priority 2002, uuid e79e8f6b".
_FLOW_LINE = re.compile(r"^(\s*\d+\. \S+ \([^)]*\)): .*, priority (\d+), uuid ([0-9a-f]{8})$")


def _bucket_tie(want: str, got: str) -> bool:
    """Two flows of one stage and priority that both match, in one bucket of the IDL's hash
    map (the same low 8 bits of their UUIDs: the smallest mask of a Southbound of 256 or
    more flows). Which of them the real tool tries first depends on the order the rows were
    inserted into that bucket, which ovnlab does not model (ovntrace/db.py)."""
    a, b = _FLOW_LINE.match(want), _FLOW_LINE.match(got)
    return (a is not None and b is not None and a.group(1, 2) == b.group(1, 2)
            and a.group(3)[-2:] == b.group(3)[-2:])


def same_trace(want: str, got: str) -> bool:
    """Identical, but for bucket ties between equally good flows (`_bucket_tie`)."""
    wl, gl = want.splitlines(), got.splitlines()
    return len(wl) == len(gl) and all(w == g or _bucket_tie(w, g) for w, g in zip(wl, gl, strict=True))


def diff(real: Trace, ours: Trace, cases: list[TracePacket]) -> dict[str, str]:
    """Each case whose stdout differs, with a unified diff (real → ovnlab)."""
    out = {}
    for case in cases:
        want, got = real(list(case.args)), ours(list(case.args))
        if not same_trace(want, got):
            out[case.name] = "".join(difflib.unified_diff(
                want.splitlines(True), got.splitlines(True), "real ovn-trace", "ovnlab"))
    return out
