"""The `gw-only` topology: only the network node is a gateway chassis; FIPs stay distributed.

    .venv/bin/python examples/gateway_flagged_network_node.py

Same nodes as the seed, but only `network` has ovn-cms-options=enable-chassis-as-gw (as
kolla-ansible and the current Neutron rule have it). Neutron's scheduler then gives the
router's gateway port one Gateway_Chassis row (network, priority 1) instead of three.
The compute nodes still have ovn-bridge-mappings=extnet0:br-ex, so a VM with a floating IP
still goes out through its own compute node, while a VM without one goes through the
network node with the router's SNAT address.
Exits 1 unless: one gateway chassis (network); vm_1's FIP traffic only on compute1's eth0;
vm_2's SNAT traffic only on the network node's eth0.
"""

from __future__ import annotations

import sys

from ovnlab import observations as obs
from ovnlab.lab import Lab
from ovnlab.packet import ICMP_ECHO_REQUEST
from ovnlab.scenario import run_article

lab = Lab.build("gw-only")
for node in ("network", "compute1"):
    cms = lab.exec(node, "ovs-vsctl get open_vswitch . external_ids:ovn-cms-options")
    print(f"[{node}]$ ovs-vsctl get open_vswitch . external_ids:ovn-cms-options")
    print(cms.stdout or cms.stderr)

run_article(lab.openstack)
lab.openstack.server_create("vm_2", network="n1", host="compute2")  # no floating IP
vm_1, vm_2 = obs.facts(lab, server="vm_1"), obs.facts(lab, server="vm_2")

print("[network]$ ovn-nbctl lrp-get-gateway-chassis lrp-" + vm_1.gw_port_id)
print(lab.exec("network", f"ovn-nbctl lrp-get-gateway-chassis lrp-{vm_1.gw_port_id}").stdout)
rows = [r for r in lab.nb.rows("Gateway_Chassis") if r["name"].startswith(f"lrp-{vm_1.gw_port_id}_")]
network = lab.topology.node("network")

cap = obs.Capture(lab)
for vm in ("vm_1", "vm_2"):
    out = lab.exec(vm, "ping -c 3 dns.google").stdout.strip().splitlines()
    print(f"[{vm}]$ ping -c 3 dns.google\n{out[-2] if out else '(no output)'}")


def requests_from(address: str | None) -> dict[str, int]:
    """Echo requests with this source address, per chassis eth0."""
    return {n.hostname: len(cap.icmp(n.hostname, src=address, kind=ICMP_ECHO_REQUEST))
            for n in lab.topology.nodes}


fip_seen, snat_seen = requests_from(vm_1.fip), requests_from(vm_2.gw_ip)
print(f"\necho requests from the FIP {vm_1.fip} (vm_1 on {vm_1.vm_host}): {fip_seen}")
print(f"echo requests from the SNAT {vm_2.gw_ip} (vm_2 on {vm_2.vm_host}): {snat_seen}\n")

checks = {
    "one Gateway_Chassis row: network, priority 1":
        [(r["chassis_name"], r["priority"]) for r in rows] == [(network.system_id, 1)],
    f"vm_1's FIP traffic leaves {vm_1.vm_host} only": fip_seen[vm_1.vm_host] > 0
    and sum(fip_seen.values()) == fip_seen[vm_1.vm_host],
    "vm_2's SNAT traffic leaves network only": snat_seen["network"] > 0
    and sum(snat_seen.values()) == snat_seen["network"],
}
for what, held in checks.items():
    print(f"{'ok  ' if held else 'FAIL'} {what}")
sys.exit(0 if all(checks.values()) else 1)
