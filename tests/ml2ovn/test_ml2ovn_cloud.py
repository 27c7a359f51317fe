"""The article's scenario through the cloud model (ovnlab.cloud.Cloud) into this driver."""

from __future__ import annotations

import pytest

from ovnlab import topology
from ovnlab.client import OpenStack
from ovnlab.cloud import Cloud
from ovnlab.ml2ovn import OVNMechanismDriver, new_nb
from ovnlab.ml2ovn.scenario import register_chassis, set_lsp_up
from ovnlab.ml2ovn.sync import canonical
from ovnlab.sb.schema import new_sb
from ovnlab.scenario import run_article
from ovnlab.tools.ovn_nbctl import run as nbctl


class World:
    def __init__(self, name: str = "seed", *overrides: str) -> None:
        self.topo = topology.load(name, list(overrides))
        self.nb, self.sb = new_nb(), new_sb()
        register_chassis(self.sb, self.topo)
        self.driver = OVNMechanismDriver(self.nb, self.sb, self.topo.neutron.ovn)
        self.cloud = Cloud(None, self.topo, self.driver)
        self.driver.on_port_status = lambda port_id, up: self.cloud.update_port_status(
            port_id, "ACTIVE" if up else "DOWN")
        admin = next(u for p in self.topo.projects for u in p.users if u.admin)
        project = next(p for p in self.topo.projects if admin in p.users)
        self.ctx = self.cloud.identity.authenticate(admin.name, admin.password, project.name)
        self.os = OpenStack(self.cloud, self.ctx)

    def vm_port(self) -> dict:  # type: ignore[type-arg]
        server = self.os.find("server", "vm_1")
        return self.cloud.get_ports(self.ctx, filters={"device_id": [server["id"]]})[0]

    def router_name(self) -> str:
        return f"neutron-{self.os.find('router', 'r')['id']}"

    def chassis(self, host: str) -> str:
        return self.topo.node(host).system_id


@pytest.fixture
def world() -> World:
    w = World()
    run_article(w.os)
    return w


def test_article_gives_observation_1(world: World) -> None:
    res = nbctl(world.nb, ["--bare", "--columns=chassis_name,priority", "list", "Gateway_Chassis"])
    pairs = sorted(zip(*[iter(res.stdout.split())] * 2, strict=True), key=lambda p: p[1], reverse=True)
    assert pairs == [(world.chassis("network"), "3"), (world.chassis("compute1"), "2"),
                     (world.chassis("compute2"), "1")]
    gw = world.cloud.get_ports(world.ctx, filters={"device_owner": ["network:router_gateway"]})[0]
    names = nbctl(world.nb, ["--bare", "--columns=name", "list", "Gateway_Chassis"]).stdout.split()
    assert sorted(names) == sorted(f"lrp-{gw['id']}_{world.chassis(h)}"
                                   for h in ("network", "compute1", "compute2"))


def test_article_gives_observation_2_once_the_vm_port_is_up(world: World) -> None:
    vm = world.vm_port()
    fip = world.cloud.l3.get_floatingips(world.ctx)[0]
    fport = world.cloud.get_ports(world.ctx, filters={"device_owner": ["network:floatingip"]})[0]
    lines = nbctl(world.nb, ["lr-nat-list", world.router_name()]).stdout.splitlines()
    # Not claimed by a chassis yet: the FIP is centralized for now.
    assert lines[1].split() == ["dnat_and_snat", fip["floating_ip_address"], "172.16.100.10"]
    set_lsp_up(world.nb, vm["id"], True)  # northd reports the compute node's claim
    lines = nbctl(world.nb, ["lr-nat-list", world.router_name()]).stdout.splitlines()
    assert lines[1].split() == ["dnat_and_snat", fip["floating_ip_address"], "172.16.100.10",
                                fport["mac_address"], vm["id"]]
    gw_ip = world.os.find("router", "r")["external_gateway_info"]["external_fixed_ips"][0]["ip_address"]
    assert lines[2].split() == ["snat", gw_ip, "172.16.100.0/24"]
    assert world.vm_port()["status"] == "ACTIVE"


def test_config_set_rewrites_external_mac(world: World) -> None:
    vm = world.vm_port()
    set_lsp_up(world.nb, vm["id"], True)
    nat = world.nb.find("NAT", type="dnat_and_snat")[0]
    assert nat["external_mac"] is not None
    world.cloud.set_config(enable_distributed_floating_ip=False)
    assert world.nb.tables["NAT"][nat.uuid]["external_mac"] is None
    world.cloud.set_config(enable_distributed_floating_ip=True)
    assert world.nb.tables["NAT"][nat.uuid]["external_mac"] == nat["external_mac"]


def test_removing_the_fip_leaves_only_snat(world: World) -> None:
    fip = world.cloud.l3.get_floatingips(world.ctx)[0]
    world.os.server_remove_floating_ip(fip["floating_ip_address"])
    assert [n["type"] for n in world.nb.rows("NAT")] == ["snat"]
    world.os.floating_ip_delete(fip["floating_ip_address"])
    assert [n["type"] for n in world.nb.rows("NAT")] == ["snat"]


def test_gw_only_schedules_the_network_node() -> None:
    w = World("gw-only")
    run_article(w.os)
    rows = w.nb.rows("Gateway_Chassis")
    assert [(g["chassis_name"], g["priority"]) for g in rows] == [(w.chassis("network"), 1)]


def test_restart_resync_from_the_cloud_equals_the_incremental_nb(world: World) -> None:
    fresh = new_nb(seed=5)
    drv = OVNMechanismDriver(fresh, world.sb, world.topo.neutron.ovn)
    drv.sync(world.cloud.resources())
    assert canonical(fresh, revisions=False) == canonical(world.nb, revisions=False)


def test_unwinding_the_article_empties_the_nb(world: World) -> None:
    fip = world.cloud.l3.get_floatingips(world.ctx)[0]
    world.os.floating_ip_delete(fip["floating_ip_address"])
    world.os.server_delete("vm_1")
    world.os.router_remove_subnet("r", "n1subnet")
    r = world.os.find("router", "r")
    world.cloud.l3.update_router(world.ctx, r["id"], {"external_gateway_info": None})
    assert world.nb.rows("Gateway_Chassis") == []
    assert world.nb.rows("NAT") == []
    assert world.nb.rows("Logical_Router_Static_Route") == []
    assert world.nb.rows("Logical_Router_Port") == []
    world.cloud.l3.delete_router(world.ctx, r["id"])
    assert world.nb.rows("Logical_Router") == []
    for net in ("n1", "ext_n2"):
        world.cloud.delete_network(world.ctx, world.os.find("network", net)["id"])
    assert world.nb.rows("Logical_Switch") == []
    assert world.nb.rows("Logical_Switch_Port") == []


def _fresh_sync(world: World) -> dict:  # type: ignore[type-arg]
    fresh = new_nb(seed=5)
    OVNMechanismDriver(fresh, world.sb, world.topo.neutron.ovn).sync(world.cloud.resources())
    return canonical(fresh, revisions=False)


def test_removing_the_last_overlay_interface_makes_the_gateway_bridged(world: World) -> None:
    """The driver reads the interface ports from the cloud after the interface port is gone
    (Neutron's order: delete_port, then delete_router_port), so the gateway port's options
    are re-derived from the interfaces that remain."""
    c, ctx = world.cloud, world.ctx
    net = c.create_network(ctx, {"name": "v", "provider:network_type": "vlan",
                                 "provider:physical_network": "extnet0",
                                 "provider:segmentation_id": 100})
    sub = c.create_subnet(ctx, {"network_id": net["id"], "cidr": "172.16.200.0/24",
                                "ip_version": 4})
    router = world.os.find("router", "r")
    c.l3.add_router_interface(ctx, router["id"], {"subnet_id": sub["id"]})
    gw = c.get_ports(ctx, filters={"device_owner": ["network:router_gateway"]})[0]
    lrp = world.driver.api.must("Logical_Router_Port", f"lrp-{gw['id']}")
    assert "redirect-type" not in lrp["options"]  # n1 is geneve
    world.os.floating_ip_delete(c.l3.get_floatingips(ctx)[0]["floating_ip_address"])
    world.os.router_remove_subnet("r", "n1subnet")
    lrp = world.driver.api.must("Logical_Router_Port", f"lrp-{gw['id']}")
    assert lrp["options"]["redirect-type"] == "bridged"


def test_resync_after_a_rolled_back_request_reads_the_cloud_as_it_is(world: World) -> None:
    """A request rolled back after its driver transaction committed leaves the NB ahead of
    the cloud; the resync reads the cloud's own store (there is no other copy) and repairs."""
    with pytest.raises(RuntimeError), world.cloud.store.transaction():
        doomed = world.cloud.create_network(world.ctx, {"name": "doomed"})
        raise RuntimeError("the request failed after the operation")
    assert world.nb.find("Logical_Switch", name=f"neutron-{doomed['id']}") != []
    assert world.driver.plugin.get("networks", doomed["id"]) is None
    world.cloud.sync_driver()
    assert world.nb.find("Logical_Switch", name=f"neutron-{doomed['id']}") == []
    assert canonical(world.nb, revisions=False) == _fresh_sync(world)
