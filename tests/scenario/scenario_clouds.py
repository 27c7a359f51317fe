"""The tenant cloud the scenario property tests build through the API: a flat external
network on extnet0 (10.0.2.0/24, FIPs from .210), router `r`, tenant networks `n<k>`
(172.16.<10+k>.0/24) on it, and VMs with or without a FIP."""

from __future__ import annotations

from dataclasses import dataclass

from ovnlab.lab import Lab


@dataclass(frozen=True)
class CloudSpec:
    networks: int  # tenant networks, all on the router
    gateway: bool  # router has an external gateway
    vms: tuple[tuple[int, int, bool], ...]  # (compute index from 1, network, has FIP)



def make_cloud(lab: Lab, cloud: CloudSpec) -> None:
    os = lab.openstack
    os.network_create("ext", provider_network_type="flat", provider_physical_network="extnet0",
                      external=True)
    os.subnet_create("ext-subnet", network="ext", subnet_range="10.0.2.0/24", dhcp=False,
                     gateway="10.0.2.2", allocation_pool=("10.0.2.210", "10.0.2.250"))
    os.router_create("r")
    for k in range(cloud.networks):
        os.network_create(f"n{k}", provider_network_type="geneve")
        os.subnet_create(f"n{k}-subnet", network=f"n{k}", subnet_range=f"172.16.{10 + k}.0/24")
        os.router_add_subnet("r", f"n{k}-subnet")
    if cloud.gateway:
        os.router_set_external_gateway("r", "ext")
    for i, (compute, net, with_fip) in enumerate(cloud.vms):
        os.server_create(f"vm{i}", network=f"n{net}", host=f"compute{compute}")
        fip = os.floating_ip_create("ext")["floating_ip_address"]
        if with_fip:
            os.server_add_floating_ip(f"vm{i}", fip)
        else:
            os.floating_ip_delete(fip)
