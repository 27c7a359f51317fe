"""The network node dies during pings, then comes back: gateway HA with BFD.

    .venv/bin/python examples/gateway_failover.py

The seed lab with the article's router (gateway chassis network 3, compute1 2, compute2 1),
vm_1 (compute1, with a floating IP) and vm_2 (compute2, no floating IP) pinging 8.8.8.8
every 0.2 s. The network node is powered off: the other chassis's BFD sessions to it time
out (3 x 1000 ms after its last control message), compute1 claims the gateway port
(cr-lrp) and announces the router's address with GARPs, SNAT leaves through compute1.
Powered on again, it takes the gateway back (preemptive failback) once BFD is up.
Times are virtual seconds after each event. Exits 1 unless the figures fall where BFD's
timers put them (and the real lab measured them).
"""

from __future__ import annotations

import sys

from ovnlab.failover import checks as failover_checks
from ovnlab.failover import measure, render
from ovnlab.lab import Lab
from ovnlab.scenario import run_article

lab = Lab.build("seed")
run_article(lab.openstack)
lab.openstack.server_create("vm_2", network="n1", host="compute2")  # no floating IP
report = measure(lab, "network", ["vm_1", "vm_2"])
print(render(report))

checks = failover_checks(report, backup="compute1")
for text, held in checks:
    print(f"{'ok  ' if held else 'FAIL'} {text}")
sys.exit(0 if all(held for _t, held in checks) else 1)
