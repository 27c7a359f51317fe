"""The Northbound states the differential tier compares: the named ones (the seed with
distributed FIPs on and off, the gw-only topology, every example's end state, the scenario
tests' clouds), the benchmarks' generated NB (samples), and clouds generated from random
sequences of API operations."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ovnlab.errors import OvnlabError
from ovnlab.lab import Lab
from ovnlab.northd.samples import fip_cloud, register_chassis
from ovnlab.ovsdb import Database
from ovnlab.sb import new_sb
from ovnlab.scenario import run_article

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "scenario"))  # the scenario tests' cloud builders

from scenario_clouds import CloudSpec, make_cloud  # noqa: E402


@dataclass(frozen=True)
class Named:
    name: str
    build: Callable[[], Lab]


def _article(topology: str, *overrides: str) -> Callable[[], Lab]:
    def build() -> Lab:
        lab = Lab.build(topology, list(overrides))
        run_article(lab.openstack)
        return lab

    return build


def _gateway_mtu() -> Lab:
    """`[ovn] ovn_emit_need_to_frag` and an external network's MTU lowered below n1's:
    Neutron sets the gateway port's `gateway_mtu` (check_pkt_larger, frag-needed)."""
    lab = _article("seed", "ovn.ovn_emit_need_to_frag=true")()
    ext = next(n for n in lab.cloud.get_networks(lab.admin) if n["name"] == "ext_n2")
    lab.openstack.cloud.update_network(lab.admin, ext["id"], {"mtu": 1400})
    return lab


def _gw_only(*overrides: str) -> Callable[[], Lab]:
    """The network node alone flagged as a gateway, a second VM on a compute node."""

    def build() -> Lab:
        lab = _article("gw-only", *overrides)()
        lab.openstack.server_create("vm_2", network="n1", host="compute2")
        return lab

    return build


def _example(path: Path) -> Callable[[], Lab]:
    """The lab an example script leaves (its global `lab`), run as `python example.py`."""

    def build() -> Lab:
        scope: dict[str, Any] = {"__name__": "__main__", "__file__": str(path)}
        try:
            exec(compile(path.read_text(), str(path), "exec"), scope)  # noqa: S102
        except SystemExit as exc:
            if exc.code not in (0, None):
                raise AssertionError(f"{path.name} exited {exc.code}") from None
        lab = scope["lab"]
        assert isinstance(lab, Lab)
        return lab

    return build


def _cloud(spec: CloudSpec, *overrides: str) -> Callable[[], Lab]:
    def build() -> Lab:
        lab = Lab.build("seed", list(overrides))
        make_cloud(lab, spec)
        return lab

    return build


SCENARIO_CLOUDS = {
    "cloud-2nets-gw-fips": CloudSpec(networks=2, gateway=True,
                                     vms=((1, 0, True), (2, 1, False), (2, 0, True))),
    "cloud-3nets-no-gw": CloudSpec(networks=3, gateway=False, vms=((1, 0, False), (2, 2, False))),
    "cloud-1net-gw-no-vm": CloudSpec(networks=1, gateway=True, vms=()),
}

NAMED: tuple[Named, ...] = (
    Named("seed-dvr-on", _article("seed")),
    Named("seed-dvr-off", _article("seed", "ovn.enable_distributed_floating_ip=false")),
    Named("gw-only", _gw_only()),
    # centralized FIPs: the gateway port redirects always, and ovn-controller stops its
    # local datapaths there on the chassis that cannot hold it (need_add_peer_to_local)
    Named("gw-only-dvr-off", _gw_only("ovn.enable_distributed_floating_ip=false")),
    Named("seed-metadata", _article("seed", "ovn.ovn_metadata_enabled=true")),
    Named("seed-gateway-mtu", _gateway_mtu),
    *(Named(f"example-{p.stem}", _example(p)) for p in sorted((REPO / "examples").glob("*.py"))),
    *(Named(name, _cloud(spec)) for name, spec in SCENARIO_CLOUDS.items()),
    Named("cloud-2nets-gw-fips-dvr-off",
          _cloud(SCENARIO_CLOUDS["cloud-2nets-gw-fips"], "ovn.enable_distributed_floating_ip=false")),
)



@dataclass(frozen=True)
class Sample:
    """An NB built directly, as benchmarks/bench_northd.py builds it (no lab), with the
    SB chassis it registers: `build` returns (NB, SB) before northd runs."""

    name: str
    build: Callable[[], tuple[Database, Database]]


def _fip_cloud(n_fips: int, n_chassis: int) -> Callable[[], tuple[Database, Database]]:
    def build() -> tuple[Database, Database]:
        sb = new_sb()
        register_chassis(sb, n_chassis)
        return fip_cloud(n_fips, n_chassis), sb

    return build


SAMPLES: tuple[Sample, ...] = (Sample("bench-fip-cloud-100x10", _fip_cloud(100, 10)),)

# ------------------------------------------------------------------ generated clouds
HOSTS = ("compute1", "compute2")
OPS = ("net_geneve", "net_vlan", "net_flat", "subnet", "subnet_nodhcp", "router",
       "router_gw", "router_iface", "boot", "boot", "boot", "delete", "fip_add", "fip_move",
       "fip_remove", "fip_delete", "sg_web", "sg_remote", "port_security_off", "dvr",
       "gw_flag")


@dataclass
class Cloud:
    """What a generated sequence has made so far (names only; the lab holds the rest)."""

    lab: Lab
    networks: list[str]
    subnets: list[str]
    routers: list[str]
    vms: list[str]
    fips: dict[str, str]  # address -> server ('' when unassociated)
    groups: set[str]
    counter: int = 0

    def next(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"


TOPOLOGIES = ("seed", "gw-only")  # every node a gateway candidate, or the network node alone


def start_cloud(topology: str = "seed") -> Cloud:
    """`topology` with an external network and one tenant network on a router with a
    gateway (make_cloud's), from which operations start."""
    lab = Lab.build(topology)
    make_cloud(lab, CloudSpec(networks=1, gateway=True, vms=()))
    return Cloud(lab, ["n0"], ["n0-subnet"], ["r"], [], {}, set())


def apply(cloud: Cloud, op: str, arg: int) -> None:
    """One API operation; what Neutron refuses (an OvnlabError) changes nothing."""
    try:
        _OPS[op](cloud, arg)
    except OvnlabError:
        pass


def _pick(items: list[str] | tuple[str, ...], arg: int) -> str | None:
    return items[arg % len(items)] if items else None


def _net(kind: str) -> Callable[[Cloud, int], None]:
    def op(c: Cloud, arg: int) -> None:
        name = c.next("net")
        extra: dict[str, Any] = {}
        if kind != "geneve":
            extra = {"provider_physical_network": "extnet0"}
        if kind == "vlan":
            extra["provider_segment"] = 100 + arg
        c.lab.openstack.network_create(name, provider_network_type=kind, **extra)
        c.networks.append(name)

    return op


def _subnet(dhcp: bool) -> Callable[[Cloud, int], None]:
    def op(c: Cloud, arg: int) -> None:
        net = _pick(c.networks, arg)
        if net is None:
            return
        name = c.next("sub")
        c.lab.openstack.subnet_create(name, network=net, dhcp=dhcp,
                                      subnet_range=f"10.{100 + c.counter % 100}.{arg}.0/24")
        c.subnets.append(name)

    return op


def _router(c: Cloud, arg: int) -> None:
    name = c.next("r")
    c.lab.openstack.router_create(name)
    c.routers.append(name)
    if arg % 2:
        c.lab.openstack.router_set_external_gateway(name, "ext")


def _router_gw(c: Cloud, arg: int) -> None:
    router = _pick(c.routers, arg)
    if router is not None:
        c.lab.openstack.router_set_external_gateway(router, "ext")


def _router_iface(c: Cloud, arg: int) -> None:
    router, subnet = _pick(c.routers, arg), _pick(c.subnets, arg // 2)
    if router is None or subnet is None:
        return
    try:
        c.lab.openstack.router_add_subnet(router, subnet)
    except OvnlabError:
        c.lab.openstack.router_remove_subnet(router, subnet)  # already there: take it off


def _boot(c: Cloud, arg: int) -> None:
    net = _pick(c.networks, arg)
    if net is not None:
        name = c.next("vm")
        c.lab.openstack.server_create(name, network=net, host=HOSTS[arg % len(HOSTS)])
        c.vms.append(name)


def _delete(c: Cloud, arg: int) -> None:
    vm = _pick(c.vms, arg)
    if vm is not None:
        c.lab.openstack.server_delete(vm)
        c.vms.remove(vm)
        for address, holder in c.fips.items():
            if holder == vm:
                c.fips[address] = ""


def _fip_add(c: Cloud, arg: int) -> None:
    vm = _pick(c.vms, arg)
    if vm is not None and vm not in c.fips.values():
        address = c.lab.openstack.floating_ip_create("ext")["floating_ip_address"]
        c.fips[address] = ""
        c.lab.openstack.server_add_floating_ip(vm, address)
        c.fips[address] = vm


def _fip_move(c: Cloud, arg: int) -> None:
    address, vm = _pick(sorted(c.fips), arg), _pick(c.vms, arg + 1)
    if address is not None and vm is not None and vm not in c.fips.values():
        c.lab.openstack.server_add_floating_ip(vm, address)
        c.fips[address] = vm


def _fip_remove(c: Cloud, arg: int) -> None:
    address = _pick(sorted(a for a, vm in c.fips.items() if vm), arg)
    if address is not None:
        c.lab.openstack.server_remove_floating_ip(address)
        c.fips[address] = ""


def _fip_delete(c: Cloud, arg: int) -> None:
    address = _pick(sorted(c.fips), arg)
    if address is not None:
        c.lab.openstack.floating_ip_delete(address)
        del c.fips[address]


def _sg(remote: bool) -> Callable[[Cloud, int], None]:
    def op(c: Cloud, arg: int) -> None:
        vm = _pick(c.vms, arg)
        if vm is None:
            return
        os = c.lab.openstack
        group = f"sg-{'remote' if remote else 'web'}-{arg % 2}"
        if group not in c.groups:
            os.security_group_create(group)
            c.groups.add(group)
            if remote:  # an ACL over the group's own address set
                sg = os.find("security_group", group)["id"]
                c.lab.cloud.security_groups.create_security_group_rule(c.lab.admin, {
                    "security_group_id": sg, "direction": "ingress", "ethertype": "IPv4",
                    "protocol": "icmp", "remote_group_id": sg})
                c.lab.converge()
            else:
                os.security_group_rule_create(group, protocol="tcp", dst_port=22)
        os.server_add_security_group(vm, group)

    return op


def _port_security_off(c: Cloud, arg: int) -> None:
    vm = _pick(c.vms, arg)
    if vm is None:
        return
    os = c.lab.openstack
    port = os.cloud.get_ports(os.ctx, filters={"device_id": [os.find("server", vm)["id"]]})[0]
    os.cloud.update_port(os.ctx, port["id"], {"port_security_enabled": False,
                                              "security_groups": []})


def _dvr(c: Cloud, arg: int) -> None:
    c.lab.config_set("ovn.enable_distributed_floating_ip", "false" if arg % 2 else "true")


def _gw_flag(c: Cloud, arg: int) -> None:
    node = ("network", *HOSTS)[arg % 3]
    value = "enable-chassis-as-gw" if arg % 2 == 0 else ""
    result = c.lab.exec(node, ["ovs-vsctl", "set", "open", ".",
                               f"external_ids:ovn-cms-options={value}"])
    assert result.rc == 0, result.stderr


_OPS: dict[str, Callable[[Cloud, int], None]] = {
    "net_geneve": _net("geneve"), "net_vlan": _net("vlan"), "net_flat": _net("flat"),
    "subnet": _subnet(True), "subnet_nodhcp": _subnet(False), "router": _router,
    "router_gw": _router_gw, "router_iface": _router_iface, "boot": _boot, "delete": _delete,
    "fip_add": _fip_add, "fip_move": _fip_move, "fip_remove": _fip_remove,
    "fip_delete": _fip_delete, "sg_web": _sg(False), "sg_remote": _sg(True),
    "port_security_off": _port_security_off, "dvr": _dvr, "gw_flag": _gw_flag,
}
