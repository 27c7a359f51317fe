"""The cloud → ML2/OVN driver path alone (no northd, no chassis): what a Neutron/Nova
operation costs in the cloud model and the driver that writes the NB for it, and what
neutron-server's start-up resync costs, at a few cloud sizes.

- `build`: through the OpenStack client: an external network, `routers` routers with a
  gateway, `networks` tenant networks (one interface each), `servers` servers (one port
  each) and a FIP on every `fip_every`-th one. Mean seconds per server boot and per FIP
  association (CPU seconds of this process: the machine is shared), and the NB's size.
- `resync`: `Cloud.sync_driver()` on the built cloud (the driver rebuilds what the NB must
  hold from the cloud's store and applies the difference, here none).
- `peak_rss_mib`: this process's peak RSS after the largest size.
Run: `python -m benchmarks.bench_cloud [--quick]` (prints JSON).
"""

from __future__ import annotations

import json
import resource
import sys
import time
from dataclasses import asdict, dataclass
from typing import Any

from ovnlab import topology
from ovnlab.client import OpenStack
from ovnlab.cloud import Cloud
from ovnlab.ml2ovn import OVNMechanismDriver, new_nb
from ovnlab.ml2ovn.scenario import register_chassis
from ovnlab.sb.schema import new_sb


@dataclass(frozen=True, slots=True)
class Size:
    servers: int
    networks: int = 4
    routers: int = 2
    fip_every: int = 10


SIZES = (Size(100), Size(400))
QUICK_SIZES = (Size(10, networks=2, routers=1, fip_every=5),)


def _cpu() -> float:
    return time.process_time()


def _mean(total: float, count: int) -> float:
    return round(total / count, 5) if count else 0.0


def _cloud() -> tuple[Cloud, OpenStack, OVNMechanismDriver]:
    topo = topology.load("seed")
    nb, sb = new_nb(), new_sb()
    register_chassis(sb, topo)
    driver = OVNMechanismDriver(nb, sb, topo.neutron.ovn)
    cloud = Cloud(None, topo, driver)
    return cloud, OpenStack(cloud, cloud.admin_context()), driver


def build_networks(os: OpenStack, routers: int, networks: int) -> None:
    """The generated clouds' networks: a flat external network, `routers` routers with
    their gateway on it, and `networks` Geneve tenant networks spread over the routers
    (also what `bench_lab` builds its 100-chassis cloud on)."""
    os.network_create("ext", provider_network_type="flat", provider_physical_network="extnet0",
                      external=True)
    os.subnet_create("ext-subnet", network="ext", subnet_range="10.0.0.0/16", dhcp=False,
                     gateway="10.0.0.1", allocation_pool=("10.0.1.1", "10.0.255.254"))
    for r in range(routers):
        os.router_create(f"router-{r}")
        os.router_set_external_gateway(f"router-{r}", "ext")
    for k in range(networks):
        os.network_create(f"tenant-{k}", provider_network_type="geneve")
        os.subnet_create(f"tenant-{k}-subnet", network=f"tenant-{k}",
                         subnet_range=f"172.16.{4 * k}.0/22")
        os.router_add_subnet(f"router-{k % routers}", f"tenant-{k}-subnet")


def measure(size: Size) -> dict[str, Any]:
    cloud, os, driver = _cloud()
    t0 = _cpu()
    build_networks(os, size.routers, size.networks)
    networks_cpu = _cpu() - t0
    boot_cpu = fip_cpu = 0.0
    fips = 0
    for v in range(size.servers):
        t0 = _cpu()
        os.server_create(f"vm-{v}", network=f"tenant-{v % size.networks}")
        boot_cpu += _cpu() - t0
        if v % size.fip_every == 0:
            t0 = _cpu()
            fip = os.floating_ip_create("ext")
            os.server_add_floating_ip(f"vm-{v}", fip["floating_ip_address"])
            fip_cpu += _cpu() - t0
            fips += 1
    t0 = _cpu()
    cloud.sync_driver()
    resync_cpu = _cpu() - t0
    rows = {t: len(driver.nb.tables[t]) for t in
            ("Logical_Switch_Port", "Logical_Router_Port", "NAT", "ACL", "DHCP_Options")}
    cloud.close()
    return {"size": asdict(size), "networks_routers_cpu_s": round(networks_cpu, 3),
            "server_boot_cpu_s_mean": _mean(boot_cpu, size.servers),
            "fip_create_associate_cpu_s_mean": _mean(fip_cpu, fips),
            "resync_cpu_s": round(resync_cpu, 3), "nb_rows": rows}


def run(quick: bool = False) -> dict[str, Any]:
    results = [measure(size) for size in (QUICK_SIZES if quick else SIZES)]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"benchmark": "cloud", "quick": quick, "sizes": results,
            "peak_rss_mib": round(peak, 1)}


if __name__ == "__main__":
    print(json.dumps(run(quick="--quick" in sys.argv[1:]), indent=2))
