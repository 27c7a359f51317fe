"""The probe comparison (issues 14 and 17): the same probes in the real OVN 22.03 namespace
lab (lab.sh, plus a second VM on comp2 without a FIP and a third on comp1 in vm1's groups),
in ovnlab's seed lab (vm_2 and vm_3 added alike), and in that same seed lab on ovnlab's
real backend (`--backend ovn`: the real OVN 22.03 programs, run through the same Lab
interface), compared by outcome: answered or not, by whom, on which chassis's provider NIC
the probe's packets crossed, the VM's address as seen there.

The two labs differ where lab.sh differs from the seed: its external router (10.0.2.2)
holds the "internet" address itself (198.51.100.10 on its loopback; ovnlab's 8.8.8.8 is
one hop further, so traceroute shows one hop more), its VMs' MTU is 1400 (ovnlab's 1442,
Neutron's for Geneve), it runs no DHCP or metadata agent (its DHCP is OVN's native one,
its server_mac unescaped first). Neutron writes no reject ACL: the reject probes add the same
one on both sides with `ovn-nbctl acl-add`.
Probes it cannot run are checked against what Neutron documents instead.

`python tests/differential/test_probes.py` prints the table (real vs ovnlab vs ovnlab on
the real backend)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ovnlab.capture.format import FormatOptions, Formatter
from ovnlab.lab import Lab, lab_on
from ovnlab.observations import Capture
from ovnlab.scenario import run_article
from ovnlab.topology import Backend

pytestmark = pytest.mark.differential

OURS_REMOTE = "8.8.8.8"
FIP, GW_IP, ROUTER_IP = "10.0.2.211", "10.0.2.210", "172.16.100.1"
FIP2, VM2_IP = "10.0.2.212", "172.16.100.20"  # vm_2's FIP, given by the FIP-to-FIP probe
FIP3, VM3_IP = "10.0.2.213", "172.16.100.30"  # vm_3 (compute1, vm_1's groups) and its FIP
REJECT_PORT = 81  # the reject ACL's TCP and UDP port (a port-group ACL of allow-icmp-ssh)
CHASSIS = ("network", "compute1", "compute2")
SETTLE = 0.7  # s after a probe on the real backend: with the captures' own, lab.sh's 1 s
PAUSE = 1.0  # s before a probe on the real backend, as lab.sh's


@dataclass(frozen=True)
class Outcome:
    answered: bool
    by: str = ""  # who answered: the address (or MAC) the answer came from
    crossed: tuple[str, ...] = ()  # chassis whose provider NIC carried the probe
    seen: str = ""  # the VM's address as seen there

    def cell(self) -> str:
        parts = ["answered" if self.answered else "no answer"]
        if self.by:
            parts.append(f"by {self.by}")
        parts.append("NIC: " + (", ".join(self.crossed) if self.crossed else "none"))
        if self.seen:
            parts.append(f"as {self.seen}")
        return "; ".join(parts)


@dataclass(frozen=True)
class Probe:
    name: str
    real: Callable[[RealSide], Outcome] | None
    ours: Callable[[OurSide], Outcome]
    note: str = ""
    on_ovn: bool = True  # also run on ovnlab's real backend


# ------------------------------------------------------------------ the two sides
class RealSide:
    def __init__(self, lab: object) -> None:
        self.lab = lab  # real_lab.RealLab

    def run(self, node: str, command: str, mark: str) -> tuple[str, dict[str, list[str]]]:
        """`command` in namespace `node`; its output and the provider NICs' lines that
        contain `mark`."""
        result, seen = self.lab.capture(lambda: self.lab.ns(node, command))  # type: ignore[attr-defined]
        return result.stdout + result.stderr, {ch: [x for x in lines if mark in x]
                                               for ch, lines in seen.items()}


class OurSide:
    """ovnlab's lab through its Lab interface (the emulated backend here, the real one in
    OvnSide): `exec` and the captures of `observations.Capture`."""

    def __init__(self, lab: Any) -> None:
        self.lab = lab
        self.fmt = Formatter(FormatOptions(numeric=True))

    def run(self, node: str, command: str, mark: str) -> tuple[str, dict[str, list[str]]]:
        capture = Capture(self.lab, ("eth0",))
        r = self.lab.exec(node, command)
        self.settle()
        seen = {ch: [line for c in capture.frames(ch, "eth0")
                     for line in [self.fmt.format(c.packet, c.time).split(" ", 1)[1]]
                     if mark in line] for ch in CHASSIS}
        return r.stdout + r.stderr, seen

    def settle(self) -> None:
        self.lab.fabric.run(1.0)  # what is still in flight, as the real capture waits


class OvnSide(OurSide):
    """The same seed lab on ovnlab's real backend (real OVN 22.03 in namespaces)."""

    def run(self, node: str, command: str, mark: str) -> tuple[str, dict[str, list[str]]]:
        # a pause first, as lab.sh's capture (real_lab.capture) waits before each probe:
        # pinctrl's GARPs for a FIP just added leave about 0.5 s after `--wait=hv`, and
        # until the provider segment's bridge has learnt the FIP's MAC from them it
        # floods the FIP's traffic to every chassis's NIC
        time.sleep(PAUSE)
        return super().run(node, command, mark)

    def settle(self) -> None:
        time.sleep(SETTLE)  # the real captures wait the rest themselves (wire.SETTLE)


def _crossed(seen: dict[str, list[str]]) -> tuple[str, ...]:
    return tuple(ch for ch in CHASSIS if seen.get(ch))


def _source(seen: dict[str, list[str]], marker: str) -> str:
    for lines in seen.values():
        for line in lines:
            if marker in line:
                return line.split()[1]
    return ""


def _ping(side: RealSide | OurSide, node: str, target: str, extra: str = "",
          mark: str | None = None) -> Outcome:
    out, seen = side.run(node, f"ping -c 2 -i 0.3 -W 2 {extra} {target}".replace("  ", " "),
                         mark or "ICMP")
    answered = bool(re.search(r" [1-9]\d* received", out))
    m = re.search(r"From (\S+) icmp_seq=\d+ (.*)", out)
    by = m.group(1) if m else (target if answered else "")
    if by == _remote(side):
        by = "the remote host"  # 198.51.100.10 in lab.sh, 8.8.8.8 in ovnlab
    return Outcome(answered or m is not None, by, _crossed(seen),
                   _source(seen, "echo request"))


def _remote(side: RealSide | OurSide) -> str:
    return "198.51.100.10" if isinstance(side, RealSide) else OURS_REMOTE


def _outside(side: RealSide | OurSide) -> str:
    return "exthost" if isinstance(side, RealSide) else "extgw"  # 10.0.2.2 in both


def _vm(side: RealSide | OurSide, n: int) -> str:
    return f"vm{n}" if isinstance(side, RealSide) else f"vm_{n}"


# ------------------------------------------------------------------ the probes
def first_ping_gateway(side: RealSide | OurSide) -> Outcome:
    return _ping(side, _outside(side), GW_IP)


def first_ping_fip(side: RealSide | OurSide) -> Outcome:
    return _ping(side, _outside(side), FIP)


def vm_ping(side: RealSide | OurSide) -> Outcome:
    return _ping(side, _vm(side, 1), _remote(side))


def vm_ping_ttl1(side: RealSide | OurSide) -> Outcome:
    return _ping(side, _vm(side, 1), _remote(side), "-t 1")


def vm_traceroute(side: RealSide | OurSide) -> Outcome:
    remote = _remote(side)
    out, seen = side.run(_vm(side, 1), f"traceroute -n -q 1 -w 1 {remote}", "ICMP")
    hops = [line.split()[1] for line in out.splitlines()[1:] if line.strip()]
    return Outcome(bool(hops) and hops[-1] == remote, f"hop 1 {hops[0]}" if hops else "",
                   _crossed(seen), "")


def outside_ttl1_to_fip(side: RealSide | OurSide) -> Outcome:
    return _ping(side, _outside(side), FIP, "-t 1")


def vm_arp_for_gateway(side: RealSide | OurSide) -> Outcome:
    """Who answers vm_1's ARP for its gateway, and whether a MAC_Binding is written."""
    if isinstance(side, RealSide):
        side.lab.ns("vm1", "ip neigh flush dev eth0")  # type: ignore[attr-defined]
        out, seen = side.run("vm1", f"busybox arping -c 1 -w 2 -I eth0 {ROUTER_IP}", "ARP")
        m = re.search(r"\[([0-9a-f:]+)\]", out.lower())
        rows = side.lab.bash("sbctl --bare --columns=logical_ip list mac_binding").stdout  # type: ignore[attr-defined]
        return Outcome(m is not None, m.group(1) if m else "", _crossed(seen),
                       "MAC_Binding for the VM" if "172.16.100.10" in rows else "")
    if isinstance(side, OvnSide):  # the ARP a first packet to the gateway sends
        side.lab.exec("vm_1", "ip neigh flush dev eth0")
        _out, seen = side.run("vm_1", f"ping -c 1 -W 2 {ROUTER_IP}", "ARP")
        neigh = side.lab.exec("vm_1", f"ip neigh show {ROUTER_IP}").stdout.split()
        mac = neigh[neigh.index("lladdr") + 1] if "lladdr" in neigh else ""
        return Outcome(bool(mac), mac, _crossed(seen), _mac_binding(side))
    vm = side.lab.fabric.node("vm_1")
    replies = [c.packet for c in vm.interfaces["eth0"].captures
               if c.packet.is_arp and c.packet.arp_op == 2 and c.packet.arp_spa == 0xAC106401]
    mac = ":".join(f"{replies[0].arp_sha:012x}"[i:i + 2] for i in range(0, 12, 2)) \
        if replies else ""
    return Outcome(bool(replies), mac, (), _mac_binding(side))


def _mac_binding(side: OurSide) -> str:
    rows = side.lab.exec("network", "ovn-sbctl --bare --columns=logical_ip list "
                                    "mac_binding").stdout
    return "MAC_Binding for the VM" if "172.16.100.10" in rows else ""


def vm_hairpin_own_fip(side: RealSide | OurSide) -> Outcome:
    return _ping(side, _vm(side, 1), FIP)


def nofip_vm_to_fip(side: RealSide | OurSide) -> Outcome:
    return _ping(side, _vm(side, 2), FIP)


def nofip_vm_to_remote(side: RealSide | OurSide) -> Outcome:
    return _ping(side, _vm(side, 2), _remote(side))


def fip_to_fip_other_chassis(side: RealSide | OurSide) -> Outcome:
    """vm_2 (compute2) gets FIP 10.0.2.212, then vm_1 (compute1, FIP 10.0.2.211) pings it:
    both ends distributed, so compute1's NIC to compute2's, nothing through the network
    node."""
    if isinstance(side, RealSide):
        side.lab.bash(f"nbctl lr-nat-add $R dnat_and_snat {FIP2} {VM2_IP} vm2port "  # type: ignore[attr-defined]
                      f"fa:16:3e:00:00:21 && nbctl --wait=hv sync")
    else:
        os = side.lab.openstack
        ext = os.find("network", "ext_n2")
        os.cloud.l3.create_floatingip(os.ctx, {"floating_network_id": ext["id"],
                                            "floating_ip_address": FIP2})
        os.server_add_floating_ip("vm_2", FIP2)
    return _ping(side, _vm(side, 1), FIP2)


def fip_to_fip_same_chassis(side: RealSide | OurSide) -> Outcome:
    """vm_3 (compute1, vm_1's security groups) gets FIP 10.0.2.213, then vm_1 (compute1,
    FIP 10.0.2.211) pings it: both FIPs distributed on the same chassis."""
    if isinstance(side, RealSide):
        side.lab.bash(f"nbctl lr-nat-add $R dnat_and_snat {FIP3} {VM3_IP} vm3port "  # type: ignore[attr-defined]
                      f"fa:16:3e:00:00:31 && nbctl --wait=hv sync")
    else:
        os = side.lab.openstack
        ext = os.find("network", "ext_n2")
        os.cloud.l3.create_floatingip(os.ctx, {"floating_network_id": ext["id"],
                                            "floating_ip_address": FIP3})
        os.server_add_floating_ip("vm_3", FIP3)
    return _ping(side, _vm(side, 1), FIP3)


def _add_reject_acl(side: RealSide | OurSide) -> None:
    """The same port-group ACL on both sides, through each side's ovn-nbctl: reject TCP and
    UDP to REJECT_PORT on allow-icmp-ssh's ports (vm_1), above Neutron's 1002 rules."""
    from real_lab import P2

    acl = (f"--may-exist --type=port-group acl-add {P2} to-lport 1003 "
           f"'outport == @{P2} && ip4 && (tcp.dst == {REJECT_PORT} || "
           f"udp.dst == {REJECT_PORT})' reject")
    if isinstance(side, RealSide):
        real = side.lab.bash(f"nbctl {acl} && nbctl --wait=hv sync")  # type: ignore[attr-defined]
        assert real.returncode == 0, real.stderr
    else:
        ours = side.lab.exec("network", f"ovn-nbctl {acl}")
        assert ours.rc == 0, ours.stderr


def _first_source(seen: dict[str, list[str]], pattern: str) -> str:
    """The source address (without port) of the first NIC line matching `pattern`."""
    for ch in CHASSIS:
        for line in seen.get(ch, []):
            if re.search(pattern, line):
                return line.split()[1].rsplit(".", 1)[0] if "Flags" in line \
                    else line.split()[1]
    return ""


def reject_tcp(side: RealSide | OurSide) -> Outcome:
    """22.03's reject for TCP: a RST (`tcp_reset`) back to the client, as from the VM."""
    _add_reject_acl(side)
    target = f"{FIP}/{REJECT_PORT}" if isinstance(side, RealSide) else f"{FIP} {REJECT_PORT}"
    cmd = (f"timeout 4 bash -c 'exec 3<>/dev/tcp/{target}'" if isinstance(side, RealSide)
           else f"nc -zv -w 4 {target}")
    out, seen = side.run(_outside(side), cmd, "Flags")
    return Outcome("refused" in out, _first_source(seen, r"Flags \[R"), _crossed(seen),
                   "RST" if _first_source(seen, r"Flags \[R") else "")


def reject_udp(side: RealSide | OurSide) -> Outcome:
    """22.03's reject for UDP: ICMP port unreachable back to the client. One UDP probe
    (traceroute -U, TTL 3, past the router) to REJECT_PORT on the FIP."""
    _add_reject_acl(side)
    out, seen = side.run(_outside(side), f"traceroute -n -U -p {REJECT_PORT} -f 3 -m 3 -q 1 "
                                          f"-w 2 {FIP}", "ICMP")
    hops = [line.split()[1] for line in out.splitlines()[1:] if line.strip()]
    by = _first_source(seen, f"udp port {REJECT_PORT} unreachable")
    return Outcome(bool(hops) and hops[-1] == FIP, by, _crossed(seen),
                   "port unreachable" if by else "")


def _tcp(side: RealSide | OurSide, port: int) -> Outcome:
    if isinstance(side, RealSide):
        from real_lab import PREFIX

        listener = subprocess.Popen(["ip", "netns", "exec", f"{PREFIX}vm1", "busybox", "nc", "-l",
                                     "-p", "22"], stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
        try:
            out, seen = side.run("exthost", f"timeout 4 bash -c 'exec 3<>/dev/tcp/{FIP}/{port}"
                                            " && echo open'", "Flags")
        finally:
            listener.terminate()
            listener.wait(timeout=10)
        answered = "open" in out
    else:
        out, seen = side.run("extgw", f"nc -zv -w 4 {FIP} {port}", "Flags")
        answered = "succeeded" in out
    replied = [line for lines in seen.values() for line in lines
               if line.startswith(f"IP {FIP}.{port} >")]
    return Outcome(answered, FIP if replied else "", _crossed(seen), "")


def tcp_allowed(side: RealSide | OurSide) -> Outcome:
    return _tcp(side, 22)


def tcp_blocked(side: RealSide | OurSide) -> Outcome:
    return _tcp(side, 80)


def dhcp_lease(side: RealSide | OurSide) -> Outcome:
    cmd = "busybox udhcpc -i eth0 -n -q -s /bin/true" if isinstance(side, RealSide) \
        else "udhcpc -i eth0 -n -q"
    out, seen = side.run(_vm(side, 1), cmd, "BOOTP")
    m = re.search(r"lease of (\S+) obtained from (\S+),", out)
    return Outcome(m is not None, m.group(2) if m else "", _crossed(seen),
                   m.group(1) if m else "")


def oversized_df(side: RealSide | OurSide) -> Outcome:
    out, seen = side.run(_vm(side, 1), f"ping -c 1 -s 1500 -M do {_remote(side)}", "ICMP")
    m = re.search(r"local error: message too long", out)
    return Outcome(False, "the VM's own stack (message too long)" if m else "", _crossed(seen))


def oversized_no_df(side: RealSide | OurSide) -> Outcome:
    return _ping(side, _vm(side, 1), _remote(side), "-s 1500")


def metadata(side: RealSide | OurSide) -> Outcome:
    """Neutron's documented behaviour (the real lab runs no metadata agent): the VM's own
    chassis answers through the network's localport, nothing crosses a NIC."""
    assert isinstance(side, OurSide)
    lab = Lab.build("seed", ["ovn.ovn_metadata_enabled=true"])
    run_article(lab.openstack)
    r = lab.exec("vm_1", "curl -s http://169.254.169.254/latest/meta-data/local-ipv4")
    ns = [k[0] for k in lab.fabric.metadata_namespaces]
    return Outcome(r.rc == 0 and r.stdout == "172.16.100.10",
                   f"ovnmeta namespace on {', '.join(ns)}", (), r.stdout)


PROBES: tuple[Probe, ...] = (
    Probe("first ping, new external host -> gateway IP", first_ping_gateway, first_ping_gateway),
    Probe("first ping, new external host -> FIP", first_ping_fip, first_ping_fip),
    Probe("vm_1 ping remote", vm_ping, vm_ping),
    Probe("vm_1 ping -t 1 remote", vm_ping_ttl1, vm_ping_ttl1),
    Probe("vm_1 traceroute -n remote", vm_traceroute, vm_traceroute,
          "the real remote sits on 10.0.2.2: 2 hops there, 3 in ovnlab"),
    Probe("outside ping -t 1 -> FIP", outside_ttl1_to_fip, outside_ttl1_to_fip),
    Probe("vm_1 ARP for its gateway", vm_arp_for_gateway, vm_arp_for_gateway),
    Probe("vm_1 ping its own FIP (hairpin)", vm_hairpin_own_fip, vm_hairpin_own_fip),
    Probe("no-FIP vm_2 (compute2) ping the FIP", nofip_vm_to_fip, nofip_vm_to_fip),
    Probe("no-FIP vm_2 ping remote", nofip_vm_to_remote, nofip_vm_to_remote),
    Probe("FIP to FIP, other chassis (vm_1 -> vm_2 given FIP 10.0.2.212)",
          fip_to_fip_other_chassis, fip_to_fip_other_chassis,
          "vm_2 is in the default group only: its ingress drops the FIP-sourced echo"),
    Probe("FIP to FIP, same chassis (vm_1 -> vm_3 on compute1, FIP 10.0.2.213)",
          fip_to_fip_same_chassis, fip_to_fip_same_chassis,
          "vm_3 in vm_1's groups: allow-icmp-ssh lets the echo in"),
    Probe("outside TCP -> FIP:22 (allowed)", tcp_allowed, tcp_allowed),
    Probe("outside TCP -> FIP:80 (blocked)", tcp_blocked, tcp_blocked),
    Probe("vm_1 DHCP lease (udhcpc)", dhcp_lease, dhcp_lease),
    Probe("vm_1 ping -s 1500 -M do remote", oversized_df, oversized_df,
          "mtu=1400 in lab.sh, 1442 in ovnlab"),
    Probe("vm_1 ping -s 1500 remote (fragments)", oversized_no_df, oversized_no_df,
          "the far end's 1500-byte fragments do not fit the VM's port"),
    Probe("vm_1 curl 169.254.169.254 (metadata)", None, metadata,
          "no metadata agent in lab.sh or on the real backend: Neutron's documented "
          "behaviour", on_ovn=False),
    Probe(f"ACL reject, outside TCP -> FIP:{REJECT_PORT}", reject_tcp, reject_tcp,
          "a reject ACL added with ovn-nbctl acl-add: Neutron itself writes none"),
    Probe(f"ACL reject, outside UDP -> FIP:{REJECT_PORT} (traceroute -U, TTL 3)", reject_udp,
          reject_udp, "the same reject ACL: Neutron itself writes none"),
)
NOT_RUN: tuple[tuple[str, str], ...] = ()


# ------------------------------------------------------------------ running all three
@dataclass(frozen=True)
class Row:
    probe: Probe
    real: Outcome | None  # lab.sh's (None: documented behaviour instead)
    ours: Outcome  # ovnlab's, emulated
    ovn: Outcome | None  # ovnlab's on the real backend (None: not run there)


def _seed(lab: Any) -> None:
    """The article, then vm_2 (compute2, no FIP) and vm_3 (compute1, vm_1's groups)."""
    run_article(lab.openstack)
    lab.openstack.server_create("vm_2", network="n1", fixed_ip=VM2_IP, host="compute2")
    lab.openstack.server_create("vm_3", network="n1", fixed_ip=VM3_IP, host="compute1",
                                security_groups=("default", "allow-icmp-ssh"))


def run_all(run_dir: Path) -> list[Row]:
    """lab.sh's lab and the emulated one side by side, then (lab.sh's stopped, so that two
    real labs never share the machine's cores) the real backend's."""
    from ovn22 import require_real
    from real_lab import RealLab

    real_lab = RealLab(run_dir / "lab")  # lab.sh makes it (and refuses an existing one)
    ours = Lab.build("seed")
    _seed(ours)
    real_lab.up()
    try:
        real, mine = RealSide(real_lab), OurSide(ours)
        both = [(p, p.real(real) if p.real else None, p.ours(mine)) for p in PROBES]
    finally:
        real_lab.down()
    if os.geteuid() != 0:
        pytest.skip("the real backend needs root (network namespaces)")
    with lab_on(Backend.OVN, "seed", (), str(require_real() / "bin")) as on_ovn:
        _seed(on_ovn)
        side = OvnSide(on_ovn)
        return [Row(p, real, o, p.ours(side) if p.on_ovn else None) for p, real, o in both]


def render(rows: list[Row]) -> str:
    lines = ["| probe | real OVN 22.03 (lab.sh) | ovnlab | ovnlab --backend ovn | same |",
             "|---|---|---|---|---|"]
    for row in rows:
        cells = [o for o in (row.real, row.ours, row.ovn) if o is not None]
        same = "n/a" if len(cells) < 2 else ("yes" if len(set(cells)) == 1 else "no")
        note = f" ({row.probe.note})" if row.probe.note else ""
        lines.append(f"| {row.probe.name}{note} | {row.real.cell() if row.real else 'not run'} "
                     f"| {row.ours.cell()} | {row.ovn.cell() if row.ovn else 'not run'} "
                     f"| {same} |")
    for name, why in NOT_RUN:
        lines.append(f"| {name} | not run | not run | not run | n/a ({why}) |")
    return "\n".join(lines)


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Row]]:
    rows = run_all(tmp_path_factory.mktemp("probes"))
    print("\n" + render(rows))
    yield rows


@pytest.mark.parametrize("index", range(len(PROBES)), ids=[p.name for p in PROBES])
def test_probe_outcome_agrees(outcomes: list[Row], index: int) -> None:
    row = outcomes[index]
    if row.real is None:  # documented behaviour instead of the real lab
        assert row.ours.answered, row.probe.name
        return
    assert row.ours == row.real, \
        f"{row.probe.name}: real {row.real.cell()} / ovnlab {row.ours.cell()}"


ON_OVN = [i for i, p in enumerate(PROBES) if p.on_ovn]


@pytest.mark.parametrize("index", ON_OVN, ids=[PROBES[i].name for i in ON_OVN])
def test_probe_on_the_real_backend_agrees_with_both(outcomes: list[Row], index: int) -> None:
    row = outcomes[index]
    assert row.ovn is not None
    assert row.ovn == row.ours, \
        f"{row.probe.name}: ovnlab {row.ours.cell()} / --backend ovn {row.ovn.cell()}"
    if row.real is not None:
        assert row.ovn == row.real, \
            f"{row.probe.name}: real {row.real.cell()} / --backend ovn {row.ovn.cell()}"


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    print(render(run_all(Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/ovnlab-probes"))))
