"""`ovnlab demo`: the article's walkthrough in one command, checked.

Builds the seed lab in-process (no daemon, nothing left behind), performs the article's
steps, prints each command with its output as the article does, runs the traffic the
article could and could not verify, contrasts centralized with distributed floating IPs,
and exits non-zero naming any observation that did not hold.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

from ovnlab import observations as obs_mod
from ovnlab import topology as topo_mod
from ovnlab.lab import Lab, lab_on
from ovnlab.observations import Capture, Observation
from ovnlab.scenario import ARTICLE

RULE = "─" * 78


class Printer:
    def __init__(self, out: TextIO, step: bool) -> None:
        self.out = out
        self.step = step

    def section(self, title: str) -> None:
        if self.step and sys.stdin.isatty():
            input("\n[press Enter for the next step] ")
        print(f"\n{RULE}\n{title}\n{RULE}", file=self.out)

    def command(self, node: str, command: str, output: str = "") -> None:
        print(f"\n[{node}]$ {command}", file=self.out)
        if output:
            print(output.rstrip("\n"), file=self.out)

    def line(self, text: str = "") -> None:
        print(text, file=self.out)

    def check(self, o: Observation) -> None:
        mark = "✔" if o.ok else "✘"
        print(f"\n  {mark} observation {o.number}: {o.title}", file=self.out)
        for line in o.evidence:
            if line.startswith("FAILED"):
                print(f"      {line}", file=self.out)


def run_demo(step: bool = False, out: TextIO = sys.stdout,
             backend: topo_mod.Backend = topo_mod.Backend.EMULATED, ovn_bin: str = "") -> int:
    started = time.monotonic()
    p = Printer(out, step)
    p.line("ovnlab demo: OVN distributed floating IPs (shared/seed), reproduced end to end")
    with lab_on(backend, ovn_bin=ovn_bin) as lab:
        if backend is not topo_mod.Backend.EMULATED:
            p.line(f"on the real programs: OVN {lab.status()['ovn_version']} "
                   f"({lab.programs.ovn_bin}), Open vSwitch in network namespaces "
                   f"{lab.layout.prefix}* (up in {lab.startup_seconds:.1f} s)")
        return _article(p, lab, started)


def _article(p: Printer, lab: Any, started: float) -> int:
    p.line("lab 'seed': " + ", ".join(
        f"{n.hostname} ({n.role}, ovn-bridge-mappings={','.join(f'{a}:{b}' for a, b in n.ovn_bridge_mappings)})"
        for n in lab.topology.nodes))
    p.line("[ovn] enable_distributed_floating_ip = "
           f"{bool(lab.cloud.get_config()['enable_distributed_floating_ip'])}")

    p.section("The article's commands")
    for s in ARTICLE:
        s.run(lab.openstack)
        p.command("controller", s.command)
    f = obs_mod.facts(lab)
    results: list[Observation] = []
    run = _runner(p, results)

    p.section("Observation 1: every chassis with the bridge mapping is a gateway chassis")
    p.command("network", "ovn-nbctl list gateway_chassis", _exec(lab, "network", "ovn-nbctl list gateway_chassis"))
    run(obs_mod.gateway_chassis(lab, f))

    p.section("Observation 2: the FIP's NAT row carries EXTERNAL_MAC and LOGICAL_PORT")
    cmd = f"ovn-nbctl lr-nat-list neutron-{f.router_id}"
    p.command("network", cmd, _exec(lab, "network", cmd))
    run(obs_mod.nat_rows(lab, f))

    p.section(f"Observation 3: DNAT/SNAT flows for {f.fip} on the VM's compute node")
    p.command(f.vm_host, f"ovs-ofctl dump-flows br-int | grep {f.fip} | grep nat",
              "\n".join(obs_mod.nat_flows(lab, f, f.vm_host)))
    run(obs_mod.fip_flows(lab, f))

    p.section("Observation 4: vm_1 pings dns.google; tcpdump -i eth0 icmp on every node")
    run(_traffic(p, lab, lambda: obs_mod.outbound_distributed(lab, f), "vm_1", "ping -c 3 dns.google"))

    p.section("Observation 5: the external host pings the FIP (the article could not verify this)")
    run(_traffic(p, lab, lambda: obs_mod.inbound(lab, f), "exthost", f"ping -c 3 {f.fip}"))

    p.section("Contrast: distributed floating IPs off (as a neutron-server restart applies it)")
    p.command("controller", "ovnlab config set ovn.enable_distributed_floating_ip false")
    lab.config_set("ovn.enable_distributed_floating_ip", "false")
    p.command("network", cmd, _exec(lab, "network", cmd))
    run(_traffic(p, lab, lambda: obs_mod.outbound_fip_centralized(lab, f), "vm_1", "ping -c 3 dns.google"))
    lab.config_set("ovn.enable_distributed_floating_ip", "true")
    p.command("controller", "ovnlab config set ovn.enable_distributed_floating_ip true")

    p.section("Observation 6: the FIP removed, the ping leaves through the network node (SNAT)")
    lab.openstack.server_remove_floating_ip(f.fip or "")
    p.command("controller", f"openstack server remove floating ip vm_1 {f.fip}")
    f_snat = obs_mod.facts(lab)
    run(_traffic(p, lab, lambda: obs_mod.outbound_centralized(lab, f_snat), "vm_1", "ping -c 3 dns.google"))

    _summary(p, results)
    failed = [o for o in results if not o.ok]
    p.line(f"\n{len(results) - len(failed)}/{len(results)} observations hold "
           f"({time.monotonic() - started:.1f} s).")
    if failed:
        p.line("FAILED: " + "; ".join(f"observation {o.number} ({o.title})" for o in failed))
        return 1
    return 0


def run_failover_demo(step: bool = False, out: TextIO = sys.stdout) -> int:
    """`ovnlab demo --failover`: the network node dies during pings, then comes back."""
    from ovnlab.failover import checks, measure, render

    p = Printer(out, step)
    p.line("ovnlab demo --failover: what happens when the network node dies?")
    lab = Lab.build("seed")
    for s in ARTICLE:
        s.run(lab.openstack)
    lab.openstack.server_create("vm_2", network="n1", host="compute2")
    f = obs_mod.facts(lab)
    p.section("The article's lab, and vm_2 on compute2 without a floating IP")
    cmd = f"ovn-nbctl lrp-get-gateway-chassis lrp-{f.gw_port_id}"
    p.command("network", cmd, _exec(lab, "network", cmd))
    p.command("compute2", "ovs-vsctl show | grep -A4 'type: geneve'",
              "\n".join(_geneve_lines(_exec(lab, "compute2", "ovs-vsctl show"))))
    p.section("vm_1 (FIP) and vm_2 ping 8.8.8.8 every 0.2 s; the network node powers off, "
              "then on (virtual time)")
    p.command("controller", "ovnlab node stop network   ...   ovnlab node start network")
    report = measure(lab, "network", ["vm_1", "vm_2"])
    p.line(render(report))
    p.section("Checks")
    results = checks(report, backup="compute1")
    for text, held in results:
        p.line(f"  {'✔' if held else '✘'} {text}")
    failed = [text for text, held in results if not held]
    p.line(f"\n{len(results) - len(failed)}/{len(results)} failover checks hold.")
    if failed:
        p.line("FAILED: " + "; ".join(failed))
        return 1
    return 0


def _geneve_lines(show: str) -> list[str]:
    lines = show.splitlines()
    out: list[str] = []
    for i, line in enumerate(lines):
        if line.strip().startswith("Port ovn-"):
            out += lines[i:i + 5]
    return out


def _runner(p: Printer, results: list[Observation]) -> Callable[[Observation], None]:
    def run(o: Observation) -> None:
        results.append(o)
        p.check(o)
    return run


def _exec(lab: Lab, node: str, command: str) -> str:
    result = lab.exec(node, command)
    return result.stdout + result.stderr


def _traffic(p: Printer, lab: Lab, check: Callable[[], Observation], node: str,
             command: str) -> Observation:
    """Run the check's traffic, then show the ping and every node's eth0 capture."""
    cap = Capture(lab)
    o = check()
    p.command(node, command, o.evidence[0] if o.evidence else "")
    for n in lab.topology.nodes:
        lines = cap.tcpdump(n.hostname, cap.icmp(n.hostname))
        tunnels = len(cap.geneve(n.hostname))
        p.command(n.hostname, "tcpdump -i eth0 icmp",
                  "\n".join(lines[:4]) + (f"\n... {len(lines) - 4} more" if len(lines) > 4 else "")
                  if lines else "(nothing)")
        if tunnels:
            p.line(f"    (+ {tunnels} Geneve frame(s) on {n.hostname}'s eth1 underlay)")
    o.carried = _carried(lab, cap)
    return o


def _carried(lab: Lab, cap: Capture) -> str:
    eth0 = [n.hostname for n in lab.topology.nodes if cap.icmp(n.hostname)]
    eth1 = [n.hostname for n in lab.topology.nodes if cap.geneve(n.hostname)]
    return f"eth0 ICMP on {', '.join(eth0) or 'none'}; Geneve on {', '.join(eth1) or 'none'}"


def _summary(p: Printer, results: list[Observation]) -> None:
    p.section("Summary: which chassis carried what")
    for o in results:
        if o.carried:
            p.line(f"  {o.number:>3}  {o.title}\n       {o.carried}")

