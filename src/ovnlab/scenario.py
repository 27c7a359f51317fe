"""The article's scenario (DESIGN.md §1) through the Python API, step by step.

Each step is data (the openstack command the article types, and the call that does it),
so the demo can print the command and tests can run the same steps.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ovnlab.client import OpenStack


@dataclass(frozen=True, slots=True)
class Step:
    command: str
    run: Callable[[OpenStack], Any]


def _add_fip(os: OpenStack) -> Any:
    fip = os.floating_ip_create("ext_n2")
    return os.server_add_floating_ip("vm_1", fip["floating_ip_address"])


def _allow_icmp_ssh(os: OpenStack) -> Any:
    os.security_group_create("allow-icmp-ssh")
    os.security_group_rule_create("allow-icmp-ssh", protocol="icmp")
    os.security_group_rule_create("allow-icmp-ssh", protocol="tcp", dst_port=22)
    return os.server_add_security_group("vm_1", "allow-icmp-ssh")


ARTICLE: tuple[Step, ...] = (
    Step("openstack network create --provider-network-type geneve --provider-segment 123 n1",
         lambda os: os.network_create("n1", provider_network_type="geneve", provider_segment=123)),
    Step("openstack subnet create --subnet-range 172.16.100.0/24 --network n1 n1subnet",
         lambda os: os.subnet_create("n1subnet", network="n1", subnet_range="172.16.100.0/24")),
    Step("openstack network create --provider-network-type flat "
         "--provider-physical-network extnet0 ext_n2 --external",
         lambda os: os.network_create("ext_n2", provider_network_type="flat",
                                      provider_physical_network="extnet0", external=True)),
    Step("openstack subnet create --subnet-range 10.0.2.0/24 --network ext_n2 extsubnet --no-dhcp "
         "--gateway 10.0.2.2 --allocation-pool start=10.0.2.210,end=10.0.2.220",
         lambda os: os.subnet_create("extsubnet", network="ext_n2", subnet_range="10.0.2.0/24",
                                     dhcp=False, gateway="10.0.2.2",
                                     allocation_pool=("10.0.2.210", "10.0.2.220"))),
    Step("openstack server create --nic net-id=n1,v4-fixed-ip=172.16.100.10 --flavor m1.nano "
         "--image $IMAGE_ID vm_1",
         lambda os: os.server_create("vm_1", network="n1", fixed_ip="172.16.100.10")),
    Step("openstack router create r", lambda os: os.router_create("r")),
    Step("openstack router add subnet r n1subnet", lambda os: os.router_add_subnet("r", "n1subnet")),
    Step("openstack router set r --external-gateway ext_n2",
         lambda os: os.router_set_external_gateway("r", "ext_n2")),
    Step("openstack floating ip create ext_n2 && openstack server add floating ip vm_1 $FLOATING_IP",
         _add_fip),
    Step("openstack server add security group vm_1 allow-icmp-ssh", _allow_icmp_ssh),
)


def run_article(os: OpenStack) -> None:
    for step in ARTICLE:
        step.run(os)
