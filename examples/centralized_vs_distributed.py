"""The same floating IP with distributed floating IPs off, then on: which chassis carries it.

    .venv/bin/python examples/centralized_vs_distributed.py

The lab starts with `[ovn] enable_distributed_floating_ip = false` (the Neutron default).
vm_1 (on compute1) pings dns.google through its FIP; we count, from the frames captured on
every chassis's eth0 (provider network) and eth1 (Geneve underlay), where the ICMP left and
which chassis tunnelled. Then we turn the option on, as a neutron-server restart applies it
(the NAT row gains external_mac; nothing is recreated), and measure again.
Exits 1 unless: off -> the FIP's ICMP is on the network node's eth0 only and compute1
tunnels to it; on -> the ICMP is on compute1's eth0 only and nothing is tunnelled.
"""

from __future__ import annotations

import sys

from ovnlab import observations as obs
from ovnlab.lab import Lab
from ovnlab.packet import PROTO_ICMP, ip_str
from ovnlab.scenario import run_article

GARP_SETTLE = 3.0  # seconds of lab time: the new owner of the FIP announces it (GARPs)


def measure(lab: Lab, fip: str) -> dict[str, tuple[int, int]]:
    """Ping from vm_1; per chassis: (ICMP frames from/to the FIP on eth0, Geneve frames sent)."""
    cap = obs.Capture(lab)  # marks where each NIC's capture stands now
    result = lab.exec("vm_1", "ping -c 3 dns.google")
    print("   ", result.stdout.strip().splitlines()[-2])
    if result.rc != 0:
        sys.exit(f"ping failed:\n{result.stdout}")
    seen = {}
    for node in (n.hostname for n in lab.topology.nodes):
        icmp = [c for c in cap.frames(node, "eth0") if c.packet.ip_proto == PROTO_ICMP
                and fip in (ip_str(c.packet.ip_src), ip_str(c.packet.ip_dst))]
        sent = [c for c in cap.geneve(node) if c.direction == "out"]
        seen[node] = (len(icmp), len(sent))
        print(f"    {node:<9} eth0: {len(icmp)} ICMP frames with {fip}   "
              f"eth1: {len(sent)} Geneve frames sent")
    return seen


lab = Lab.build("seed", ["ovn.enable_distributed_floating_ip=false"])
run_article(lab.openstack)  # the article's commands (ovnlab.scenario.ARTICLE)
f = obs.facts(lab)
gw = obs.network_node(lab)
nat = f"ovn-nbctl lr-nat-list neutron-{f.router_id}"
print(f"vm_1 {f.vm_ip} on {f.vm_host}, floating IP {f.fip}, active gateway chassis {gw}\n")

print("[ovn] enable_distributed_floating_ip = false (centralized)")
print(lab.exec(gw, nat).stdout)
lab.fabric.run(GARP_SETTLE)
off = measure(lab, f.fip or "")

print("\n[ovn] enable_distributed_floating_ip = true (distributed)")
lab.config_set("ovn.enable_distributed_floating_ip", "true")
print(lab.exec(gw, nat).stdout)
lab.fabric.run(GARP_SETTLE)
on = measure(lab, f.fip or "")

others = [n for n in off if n not in (gw, f.vm_host)]
checks = {
    f"off: the FIP's ICMP only on {gw}'s eth0": off[gw][0] > 0
    and all(off[n][0] == 0 for n in off if n != gw),
    f"off: {f.vm_host} tunnels to {gw}": off[f.vm_host][1] > 0 and off[gw][1] > 0,
    f"on: the FIP's ICMP only on {f.vm_host}'s eth0": on[f.vm_host][0] > 0
    and all(on[n][0] == 0 for n in on if n != f.vm_host),
    "on: no Geneve at all": all(sent == 0 for _, sent in on.values()),
    f"{', '.join(others)} never involved": all(off[n] == on[n] == (0, 0) for n in others),
}
print()
for what, held in checks.items():
    print(f"{'ok  ' if held else 'FAIL'} {what}")
sys.exit(0 if all(checks.values()) else 1)
