"""ovn-trace benchmark: reading a Southbound (every logical flow parsed and annotated per
datapath, as the real tool does at start) and tracing one packet, for generated clouds of
N VM ports with a distributed FIP each (northd.samples.fip_cloud).

Run: `python -m benchmarks.bench_ovn_trace [--full]` (prints JSON).
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from ovnlab.northd import Northd
from ovnlab.northd.samples import IF_MAC, fip_cloud
from ovnlab.ovntrace import db as tracedb
from ovnlab.ovntrace.trace import Options, trace
from ovnlab.sb import new_sb

SIZES = (100, 1000)
FULL = (100, 1000, 10000)
REPEAT = 5


def _packets(nb: Any) -> tuple[str, str]:
    """VM 0 to the internet (NAT'ed to its FIP) and VM 0 to VM 1 (east-west, one switch)."""
    vm0, vm1 = (nb.get("Logical_Switch_Port", n) for n in _vm_ports(nb)[:2])
    mac0, ip0 = vm0["addresses"][0].split()
    ip1 = vm1["addresses"][0].split()[1]
    head = f'inport == "{vm0["name"]}" && eth.src == {mac0} && ip4.src == {ip0} && ip.ttl == 64'
    return (f"{head} && eth.dst == {IF_MAC} && ip4.dst == 8.8.8.8 && icmp4.type == 8",
            f"{head} && eth.dst == {vm1['addresses'][0].split()[0]} && ip4.dst == {ip1} && "
            "icmp4.type == 8")


def _vm_ports(nb: Any) -> list[str]:
    return [r.uuid for r in nb.rows("Logical_Switch_Port") if r["type"] == ""]


def _best(fn: Any) -> float:
    times = []
    for _ in range(REPEAT):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def one_size(n_fips: int) -> dict[str, Any]:
    nb = fip_cloud(n_fips, 3)
    sb = new_sb()
    Northd(nb, sb).run()
    router = next(r for r in sb.rows("Datapath_Binding") if "logical-router" in r["external_ids"])
    with sb.transaction() as txn:  # the next hop's MAC, as a ping would have learnt it
        txn.insert("MAC_Binding", logical_port="lrp-rgw", ip="100.64.0.2",
                   mac="52:54:00:00:00:02", datapath=router.uuid)
    to_internet, east_west = _packets(nb)
    read_s = _best(lambda: tracedb.read(sb))
    db = tracedb.read(sb)
    opts = Options()
    out = trace(db, "neutron-tenant", to_internet, opts)
    assert "ct_snatin_czone(ip4.src=100.64.0.10)" in out and "localnet" in out, out
    return {
        "fips": n_fips,
        "sb_lflows": len(sb.rows("Logical_Flow")),
        "read_sb_s": round(read_s, 4),
        "trace_to_internet_s": round(_best(lambda: trace(db, "neutron-tenant", to_internet,
                                                         opts)), 5),
        "trace_east_west_s": round(_best(lambda: trace(db, "neutron-tenant", east_west,
                                                       opts)), 5),
        "tables_traced_to_internet": sum(1 for line in out.splitlines()
                                         if line.strip()[:3].rstrip(".").isdigit()),
    }


def run(sizes: tuple[int, ...] = SIZES) -> dict[str, Any]:
    return {"benchmark": "ovn_trace", "results": [one_size(n) for n in sizes]}


if __name__ == "__main__":
    print(json.dumps(run(FULL if "--full" in sys.argv else SIZES), indent=2))
