"""The article's scenario (iThome 2023, day 27) through the Python API, observations 1-6 printed.

    .venv/bin/python examples/seed.py

Builds the seed lab in memory (network, compute1, compute2; all with
ovn-bridge-mappings=extnet0:br-ex; distributed floating IPs on), types the article's
openstack commands as Python calls, then checks what the lab did: NB rows, the OpenFlow
flows on the VM's compute node, and the frames captured on every chassis NIC while pings
really run. Exits 1 if any observation does not hold.
"""

from __future__ import annotations

import sys

from ovnlab import observations as obs
from ovnlab.lab import Lab

lab = Lab.build("seed")
os = lab.openstack  # the openstack CLI verbs, as the admin; the lab converges after each

# The article's commands, one call each.
os.network_create("n1", provider_network_type="geneve", provider_segment=123)
os.subnet_create("n1subnet", network="n1", subnet_range="172.16.100.0/24")
os.network_create("ext_n2", provider_network_type="flat",
                  provider_physical_network="extnet0", external=True)
os.subnet_create("extsubnet", network="ext_n2", subnet_range="10.0.2.0/24", dhcp=False,
                 gateway="10.0.2.2", allocation_pool=("10.0.2.210", "10.0.2.220"))
os.server_create("vm_1", network="n1", fixed_ip="172.16.100.10")  # the scheduler picks a compute
os.router_create("r")
os.router_add_subnet("r", "n1subnet")
os.router_set_external_gateway("r", "ext_n2")
fip = os.floating_ip_create("ext_n2")["floating_ip_address"]
os.server_add_floating_ip("vm_1", fip)
os.security_group_create("allow-icmp-ssh")  # created on an earlier day of the article series
os.security_group_rule_create("allow-icmp-ssh", protocol="icmp")
os.security_group_rule_create("allow-icmp-ssh", protocol="tcp", dst_port=22)
os.server_add_security_group("vm_1", "allow-icmp-ssh")

# What the cloud allocated (router gateway IP, FIP, its MAC, the VM's port and host).
facts = obs.facts(lab)
print(f"router gateway {facts.gw_ip}, floating IP {facts.fip} (MAC {facts.fip_mac}) "
      f"-> vm_1 {facts.vm_ip} on {facts.vm_host}\n")

# The operator's view, exactly as the article runs it.
print("$ ovn-nbctl lr-nat-list r")
print(lab.exec("network", f"ovn-nbctl lr-nat-list neutron-{facts.router_id}").stdout)

checks = [
    obs.gateway_chassis(lab, facts),       # 1: three Gateway_Chassis rows, priorities 3/2/1
    obs.nat_rows(lab, facts),              # 2: dnat_and_snat with external_mac + logical_port
    obs.fip_flows(lab, facts),             # 3: table=14 DNAT / table=43 SNAT on the VM's chassis
    obs.outbound_distributed(lab, facts),  # 4: vm_1 -> dns.google leaves the compute node's eth0
    obs.inbound(lab, facts),               # 5: exthost -> FIP enters the compute node directly
]
os.server_remove_floating_ip(fip)          # 6: without the FIP, SNAT on the network node
checks.append(obs.outbound_centralized(lab, obs.facts(lab)))

for o in checks:
    print(f"{'ok  ' if o.ok else 'FAIL'} observation {o.number}: {o.title}")
    for line in o.evidence:
        print(f"       {line}")

failed = [o.number for o in checks if not o.ok]
print(f"\n{len(checks) - len(failed)}/{len(checks)} observations hold")
sys.exit(1 if failed else 0)
