"""East-west: two subnets on one router, VMs on different compute nodes.

    .venv/bin/python examples/east_west.py

OVN's logical router is distributed: the source chassis runs the whole router pipeline
(routing, TTL decrement, MAC rewrite) and tunnels the frame straight to the destination
VM's chassis. The network node never sees the traffic, and this needs no floating IP, no
gateway port and no distributed-FIP option.
Exits 1 unless: the ping works with one router hop (ttl=63); every Geneve frame compute1
sends goes to compute2's tunnel IP and carries the routed frame (source MAC = router
port b's MAC); the network node's NICs carry no IP packet of it.
"""

from __future__ import annotations

import sys

from ovnlab import observations as obs
from ovnlab.lab import Lab
from ovnlab.packet import ETH_IP, PROTO_ICMP, ip_str, mac_str

lab = Lab.build("seed")
os = lab.openstack
os.network_create("a", provider_network_type="geneve")
os.subnet_create("a-sub", network="a", subnet_range="192.168.10.0/24")
os.network_create("b", provider_network_type="geneve")
os.subnet_create("b-sub", network="b", subnet_range="192.168.20.0/24")
os.router_create("r")
os.router_add_subnet("r", "a-sub")
os.router_add_subnet("r", "b-sub")
os.server_create("va", network="a", fixed_ip="192.168.10.10", host="compute1")  # pinned
os.server_create("vb", network="b", fixed_ip="192.168.20.10", host="compute2")

# The router port on b: its MAC is the source MAC of frames routed into b.
b_if = lab.cloud.get_ports(lab.admin, filters={"device_owner": ["network:router_interface"],
                                                "fixed_ips": ["ip_address=192.168.20.1"]})
router_mac_b = b_if[0]["mac_address"] if b_if else "?"

cap = obs.Capture(lab)
result = lab.exec("va", "ping -c 3 192.168.20.10")
print("[va]$ ping -c 3 192.168.20.10")
print(result.stdout)

# Where it went, hop by hop (the lab's chassis-aware trace).
print(lab.trace_text("va", "192.168.20.10", "icmp", 0, "minimal"))

compute2 = lab.topology.node("compute2").tunnel_ip
sent = [c for c in cap.geneve("compute1") if c.direction == "out"]
tunnels = [(c.packet, c.packet.geneve) for c in sent if c.packet.geneve is not None]
for outer, g in tunnels[:2]:  # what tcpdump -i eth1 shows, inner frame decoded
    print(f"compute1 eth1 out: {ip_str(outer.ip_src)} > {ip_str(outer.ip_dst)} Geneve "
          f"vni {g.vni:#x}: {mac_str(g.inner.eth_src)} > {mac_str(g.inner.eth_dst)}, "
          f"{ip_str(g.inner.ip_src)} > {ip_str(g.inner.ip_dst)} ttl {g.inner.ip_ttl}")
echo = [g.inner for _, g in tunnels if g.inner.ip_proto == PROTO_ICMP]
# The network node may hear compute1's broadcast ARP for compute2's underlay address; it
# must not carry any IP packet (no Geneve, no ICMP) of this flow.
network_ip = [c for i in ("eth0", "eth1") for c in cap.frames("network", i)
              if c.packet.eth_type == ETH_IP]
print(f"IP frames on the network node's eth0/eth1 meanwhile: {len(network_ip)}\n")

checks = {
    "ping works, one router hop (ttl=63)": result.rc == 0 and "ttl=63" in result.stdout,
    "compute1 tunnels straight to compute2":
        bool(sent) and all(ip_str(c.packet.ip_dst) == compute2 for c in sent),
    "routed on compute1 (inner source MAC = router port on b)":
        bool(echo) and all(mac_str(p.eth_src) == router_mac_b and p.ip_ttl == 63 for p in echo),
    "the network node never sees it": not network_ip,
}
for what, held in checks.items():
    print(f"{'ok  ' if held else 'FAIL'} {what}")
sys.exit(0 if all(checks.values()) else 1)
