"""Property tests on whole labs (hypothesis): random small topologies and clouds, built
through the public API, checked against the model of DESIGN.md §1-§2:

- gateway chassis scheduling: candidates = chassis with the physnet mapping and
  `enable-chassis-as-gw`; if none of those, every chassis with the mapping; failing that
  the flagged ones (Neutron ≤ Zed: `cms_bmaps or bmaps or cms`); at most 5, priorities
  N..1; the active gateway (the chassis that claims `cr-lrp`) is the highest priority;
- north-south: a VM with a FIP and distributed FIPs on leaves from its own chassis as its
  FIP; otherwise through the active gateway chassis (as its FIP, or as the router's SNAT
  address); nothing on any other chassis's provider NIC;
- TTL drops by one per router hop; NAT'ed replies come back un-NAT'ed to the sender;
- the same seed and operations give the same captures.
Examples are small (1 network node + 1-3 computes, 1-3 VMs); the file runs in about a minute.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from scenario_clouds import CloudSpec, make_cloud

from ovnlab import observations as O
from ovnlab import topology
from ovnlab.errors import NotFound
from ovnlab.lab import Lab
from ovnlab.packet import ICMP_ECHO_REPLY, ICMP_ECHO_REQUEST, PROTO_ICMP, ip, ip_str

GW_FLAG = "enable-chassis-as-gw"
INTERNET = "8.8.8.8"
TTL = 64
LAB_SETTINGS = settings(deadline=None, derandomize=True,
                        suppress_health_check=[HealthCheck.too_slow])


# ---------------------------------------------------------------- the model's inputs


@dataclass(frozen=True)
class TopoSpec:
    computes: int
    mapped: tuple[bool, ...]  # per node (network node first)
    flagged: tuple[bool, ...]
    dvr: bool

    @property
    def names(self) -> list[str]:
        return ["network"] + [f"compute{i}" for i in range(1, self.computes + 1)]

    def build(self) -> Lab:
        nodes = []
        for i, name in enumerate(self.names):
            nodes.append({
                "hostname": name, "role": "network" if i == 0 else "compute",
                # real system-ids are random; their first 6 characters name tunnel ports
                "system_id": str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{name}.properties.ovnlab")),
                "tunnel_ip": f"192.168.50.{i + 1}",
                "ovn_bridge_mappings": {"extnet0": "br-ex"} if self.mapped[i] else {},
                "ovn_cms_options": [GW_FLAG] if self.flagged[i] else [],
            })
        return Lab(topology.from_dict({
            "name": "property",
            "neutron": {"ovn": {"enable_distributed_floating_ip": self.dvr}},
            "nodes": nodes,
            "physical_networks": [{"name": "extnet0", "cidr": "10.0.2.0/24"}],
            "external_routers": [{"name": "extgw", "physical_network": "extnet0",
                                  "ip": "10.0.2.2", "mac": "02:00:0a:00:02:02"}],
            "internet_hosts": [{"name": "google-dns", "ip": INTERNET,
                                "reverse_name": "dns.google"}],
        }))


@st.composite
def topo_specs(draw: Any, all_mapped: bool = False) -> TopoSpec:
    computes = draw(st.integers(1, 3))
    n = computes + 1
    flags = st.lists(st.booleans(), min_size=n, max_size=n).map(tuple)
    mapped = (True,) * n if all_mapped else draw(flags)
    return TopoSpec(computes, mapped, draw(flags), draw(st.booleans()))


@st.composite
def clouds(draw: Any) -> tuple[TopoSpec, CloudSpec]:
    topo = draw(topo_specs(all_mapped=True))
    networks = draw(st.integers(1, 2))
    gateway = draw(st.sampled_from((True, True, True, False)))  # the interesting paths
    vm = st.tuples(st.integers(1, topo.computes), st.integers(0, networks - 1),
                   st.booleans() if gateway else st.just(False))
    return topo, CloudSpec(networks, gateway, tuple(draw(st.lists(vm, min_size=1, max_size=3))))


# ---------------------------------------------------------------- building the cloud


def vm_ip(lab: Lab, vm: str) -> str:
    server = lab.openstack.find("server", vm)
    port = lab.cloud.get_ports(lab.admin, filters={"device_id": [server["id"]]})[0]
    return str(port["fixed_ips"][0]["ip_address"])


def vm_fip(lab: Lab, vm: str) -> str | None:
    server = lab.openstack.find("server", vm)
    port = lab.cloud.get_ports(lab.admin, filters={"device_id": [server["id"]]})[0]
    fips = [f for f in lab.cloud.l3.get_floatingips(lab.admin) if f["port_id"] == port["id"]]
    return str(fips[0]["floating_ip_address"]) if fips else None


def router_gateway(lab: Lab) -> tuple[str, str]:
    """(gateway port id, its IP = the router's SNAT address)."""
    router = lab.openstack.find("router", "r")
    gw = lab.cloud.get_ports(lab.admin, filters={"device_id": [router["id"]],
                                                  "device_owner": ["network:router_gateway"]})[0]
    return str(gw["id"]), str(gw["fixed_ips"][0]["ip_address"])


def gateway_rows(lab: Lab, gw_port: str) -> dict[str, int]:
    """hostname → priority of the gateway port's Gateway_Chassis rows."""
    hostnames = {n.system_id: n.hostname for n in lab.topology.nodes}
    rows = [r for r in lab.nb.rows("Gateway_Chassis") if r["name"].startswith(f"lrp-{gw_port}_")]
    for r in rows:
        assert r["name"] == f"lrp-{gw_port}_{r['chassis_name']}"
    return {hostnames[r["chassis_name"]]: r["priority"] for r in rows}


def expected_candidates(spec: TopoSpec) -> set[str]:
    both = {n for n, m, f in zip(spec.names, spec.mapped, spec.flagged, strict=True) if m and f}
    mapped = {n for n, m in zip(spec.names, spec.mapped, strict=True) if m}
    flagged = {n for n, f in zip(spec.names, spec.flagged, strict=True) if f}
    return both or mapped or flagged


def cr_lrp_chassis(lab: Lab, gw_port: str) -> str | None:
    """The hostname of the chassis that claimed `cr-lrp-<gateway port>` in the SB."""
    hostnames = {n.system_id: n.hostname for n in lab.topology.nodes}
    pbs = lab.sb.find("Port_Binding", logical_port=f"cr-lrp-{gw_port}")
    assert len(pbs) == 1, "no chassisredirect port binding for the gateway port"
    chassis = pbs[0]["chassis"]
    return hostnames[lab.sb.tables["Chassis"][chassis]["name"]] if chassis else None


# ---------------------------------------------------------------- pings, observed


@dataclass
class PingSeen:
    received: int
    requests_on_eth0: dict[str, list[Any]]  # chassis → echo requests leaving eth0
    other_icmp: dict[str, int]  # chassis → any other ICMP frames on eth0
    replies_at_vm: list[Any]  # echo replies the sender's eth0 received


def ping_from(lab: Lab, vm: str, dest: str, count: int = 2) -> PingSeen:
    lab.exec(vm, ["ping", "-c", "1", "-W", "1", dest])  # warm-up: ARP, MAC_Binding
    cap = O.Capture(lab, ("eth0",))
    marks = len(lab.fabric.captures(vm)["eth0"])
    result = lab.exec(vm, ["ping", "-c", str(count), "-i", "0.2", dest])
    received = 0
    for line in result.stdout.splitlines():
        if "packets transmitted" in line:
            received = int(line.split(",")[1].split()[0])
    requests = {n.hostname: [c.packet for c in cap.icmp(n.hostname, dst=None,
                                                        kind=ICMP_ECHO_REQUEST)
                             if c.direction == "out" and c.packet.ip_dst == ip(dest)]
                for n in lab.topology.nodes}
    other = {n.hostname: len(cap.icmp(n.hostname)) for n in lab.topology.nodes}
    replies = [c.packet for c in lab.fabric.captures(vm)["eth0"][marks:]
               if c.direction == "in" and c.packet.ip_proto == PROTO_ICMP
               and c.packet.icmp_type == ICMP_ECHO_REPLY]
    return PingSeen(received, requests, other, replies)


# ---------------------------------------------------------------- properties


@settings(LAB_SETTINGS, max_examples=20)
@given(topo_specs())
@example(TopoSpec(2, (True, True, True), (False, False, False), True))  # the seed's lab
def test_gateway_chassis_scheduling_and_the_active_gateway(spec: TopoSpec) -> None:
    lab = spec.build()
    make_cloud(lab, CloudSpec(1, True, ((1, 0, False),)))
    gw_port, snat_ip = router_gateway(lab)
    rows = gateway_rows(lab, gw_port)
    candidates = expected_candidates(spec)
    assert len(rows) == min(5, len(candidates))
    assert set(rows) <= candidates
    assert sorted(rows.values(), reverse=True) == list(range(len(rows), 0, -1))
    if not rows:
        return
    active = max(rows, key=lambda h: rows[h])
    assert cr_lrp_chassis(lab, gw_port) == active
    if not spec.mapped[spec.names.index(active)]:
        return  # the flagged-only fallback: the active gateway has no provider NIC
    seen = ping_from(lab, "vm0", INTERNET)
    assert seen.received == 2
    assert [ip_str(p.ip_src) for p in seen.requests_on_eth0[active]] == [snat_ip] * 2
    assert all(p.ip_ttl == TTL - 1 for p in seen.requests_on_eth0[active])  # one router hop
    assert not any(n for h, n in seen.other_icmp.items() if h != active)


SEED_LIKE = TopoSpec(2, (True, True, True), (False, False, False), True)


@settings(LAB_SETTINGS, max_examples=30)
@given(clouds())
@example((SEED_LIKE, CloudSpec(1, True, ((1, 0, True), (2, 0, False)))))  # FIP + no FIP
@example((TopoSpec(2, (True,) * 3, (True, False, True), False),  # centralized FIPs
          CloudSpec(2, True, ((1, 0, True), (2, 1, False)))))
def test_north_south_and_east_west_paths_follow_the_model(case: tuple[TopoSpec, CloudSpec]) -> None:
    spec, cloud = case
    lab = spec.build()
    make_cloud(lab, cloud)
    names = [f"vm{i}" for i in range(len(cloud.vms))]
    if not cloud.gateway:
        fip = lab.openstack.floating_ip_create("ext")["floating_ip_address"]
        try:
            lab.openstack.server_add_floating_ip("vm0", fip)
            raise AssertionError("a FIP was associated behind a router without gateway")
        except NotFound as exc:
            assert exc.type == "ExternalGatewayForFloatingIPNotFound"
        seen = ping_from(lab, "vm0", INTERNET, 1)
        assert seen.received == 0 and not any(seen.other_icmp.values())
    else:
        gw_port, snat_ip = router_gateway(lab)
        rows = gateway_rows(lab, gw_port)
        active = max(rows, key=lambda h: rows[h])
        for i, vm in enumerate(names):
            host = f"compute{cloud.vms[i][0]}"
            fip = vm_fip(lab, vm)
            assert (fip is not None) == cloud.vms[i][2]
            where = host if fip and spec.dvr else active
            seen = ping_from(lab, vm, INTERNET)
            assert seen.received == 2, (vm, host, fip, where)
            assert [ip_str(p.ip_src) for p in seen.requests_on_eth0[where]] == [fip or snat_ip] * 2
            assert all(p.ip_ttl == TTL - 1 for p in seen.requests_on_eth0[where])
            assert not any(n for h, n in seen.other_icmp.items() if h != where), seen.other_icmp
            # replies un-NAT'ed to the sender; 8.8.8.8 → extgw → the OVN router: two hops
            mine = vm_ip(lab, vm)
            assert len(seen.replies_at_vm) == 2
            assert all(ip_str(p.ip_src) == INTERNET and ip_str(p.ip_dst) == mine
                       and p.ip_ttl == TTL - 2 for p in seen.replies_at_vm)
    if len(names) >= 2:  # east-west: routed on the source chassis, one hop between subnets
        a, b = names[0], names[1]
        seen = ping_from(lab, a, vm_ip(lab, b))
        hops = 0 if cloud.vms[0][1] == cloud.vms[1][1] else 1
        assert seen.received == 2
        assert all(ip_str(p.ip_src) == vm_ip(lab, b) and p.ip_ttl == TTL - hops
                   for p in seen.replies_at_vm)
        assert not any(seen.other_icmp.values())  # never on a provider NIC


def _all_captures(lab: Lab) -> list[tuple[str, str, float, str, bytes]]:
    return [(node, iface, c.time, c.direction, c.packet.to_bytes())
            for node in sorted(lab.fabric.nodes)
            for iface, frames in sorted(lab.fabric.captures(node).items())
            for c in frames]


@settings(LAB_SETTINGS, max_examples=5)
@given(clouds())
def test_same_operations_give_identical_captures(case: tuple[TopoSpec, CloudSpec]) -> None:
    spec, cloud = case
    runs = []
    for _ in range(2):
        lab = spec.build()
        make_cloud(lab, cloud)
        for i in range(len(cloud.vms)):
            lab.exec(f"vm{i}", ["ping", "-c", "2", INTERNET])
        if len(cloud.vms) >= 2:
            lab.exec("vm0", ["ping", "-c", "2", vm_ip(lab, "vm1")])
        lab.fabric.run(5.0)  # timers: GARPs, ARP ageing
        runs.append(_all_captures(lab))
    assert runs[0] == runs[1]
    assert runs[0]  # something was captured
