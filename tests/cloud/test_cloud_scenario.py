"""DESIGN §1's walkthrough through the Cloud API, persistence, determinism, atomicity."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest
from cloud_helpers import Clock, RecordingDriver, article, fails

from ovnlab import topology
from ovnlab.cloud import Cloud, Context


def test_article_resources(cloud: Cloud, admin: Context, driver: RecordingDriver) -> None:
    r = article(cloud, admin)
    pool = [ipaddress.ip_address("10.0.2.210") + i for i in range(11)]
    gw_ip = r["router"]["external_gateway_info"]["external_fixed_ips"][0]["ip_address"]
    fip_ip = r["fip"]["floating_ip_address"]
    # Both come from the external pool, are different, and the router's is allocated first
    # (lowest free address first: this cloud's deterministic IPAM).
    assert ipaddress.ip_address(gw_ip) in pool and ipaddress.ip_address(fip_ip) in pool
    assert ipaddress.ip_address(gw_ip) < ipaddress.ip_address(fip_ip)
    assert r["router"]["external_gateway_info"]["enable_snat"] is True
    vm = cloud.nova.get_server(admin, r["vm"]["id"])
    port = r["vm_port"]
    assert port["fixed_ips"][0]["ip_address"] == "172.16.100.10"
    assert (port["device_owner"], port["device_id"]) == ("compute:nova", vm["id"])
    assert r["fip"]["port_id"] == port["id"] and r["fip"]["router_id"] == r["router"]["id"]
    assert r["fip"]["fixed_ip_address"] == "172.16.100.10"
    assert [a["addr"] for a in vm["addresses"]["n1"]] == ["172.16.100.10", fip_ip]
    assert [a["OS-EXT-IPS:type"] for a in vm["addresses"]["n1"]] == ["fixed", "floating"]
    assert vm["security_groups"] == [{"name": "default"}, {"name": "allow-icmp-ssh"}]
    assert vm["status"] == "BUILD"
    # the driver saw the FIP with its own port's MAC (EXTERNAL_MAC of the NAT row)
    fip_for_driver = driver.last("update_floatingip")[0]
    fip_port = cloud.get_port(admin, fip_for_driver["floating_port_id"])
    assert fip_for_driver["floating_port_mac"] == fip_port["mac_address"] != port["mac_address"]
    assert fip_port["fixed_ips"][0]["ip_address"] == fip_ip
    # the router's interface has the subnet's gateway IP
    ifaces = cloud.get_ports(admin, {"device_id": [r["router"]["id"]]})
    owners = {p["device_owner"]: p for p in ifaces}
    assert owners["network:router_interface"]["fixed_ips"][0]["ip_address"] == "172.16.100.1"
    assert owners["network:router_gateway"]["fixed_ips"][0]["ip_address"] == gw_ip


def test_port_up_makes_the_server_and_fip_active(cloud: Cloud, admin: Context) -> None:
    r = article(cloud, admin)
    assert cloud.l3.get_floatingip(admin, r["fip"]["id"])["status"] == "DOWN"
    cloud.update_port_status(r["vm_port"]["id"], "ACTIVE")
    assert cloud.nova.get_server(admin, r["vm"]["id"])["status"] == "ACTIVE"
    fip = cloud.l3.get_floatingip(admin, r["fip"]["id"])
    assert fip["status"] == "ACTIVE" and fip["port_details"]["status"] == "ACTIVE"
    cloud.update_port_status(r["vm_port"]["id"], "DOWN")
    assert cloud.l3.get_floatingip(admin, r["fip"]["id"])["status"] == "DOWN"
    cloud.update_port_status("no-such-port", "ACTIVE")  # a late event for a deleted port


def test_set_config_persists_and_reaches_the_driver(tmp_path: Path) -> None:
    seed = topology.load("seed")
    path = tmp_path / "cloud.db"
    driver = RecordingDriver()
    cloud = Cloud(path, seed, driver, clock=Clock())  # type: ignore[arg-type]
    admin = cloud.admin_context()
    r = article(cloud, admin)
    cloud.update_port_status(r["vm_port"]["id"], "ACTIVE")
    cloud.set_config(enable_distributed_floating_ip=False)
    name, (enabled, lsp_up) = driver.calls[-1]
    assert name == "set_distributed_floating_ip" and enabled is False
    assert lsp_up(r["vm_port"]["id"]) is True and lsp_up(r["router"]["id"]) is False
    assert cloud.l3.get_router(admin, r["router"]["id"])["distributed"] is False
    cloud.close()
    # a restart keeps the option, and tells a driver built from the topology about it
    again_driver = RecordingDriver()
    again = Cloud(path, seed, again_driver)  # type: ignore[arg-type]
    assert again.get_config()["enable_distributed_floating_ip"] is False
    assert again_driver.names() == ["set_distributed_floating_ip"]
    again.close()


def test_state_survives_reopening(tmp_path: Path) -> None:
    seed = topology.load("seed")
    path = tmp_path / "cloud.db"
    first = Cloud(path, seed, RecordingDriver(), clock=Clock())  # type: ignore[arg-type]
    admin = first.admin_context()
    r = article(first, admin)
    before = first.resources()
    first.close()
    second = Cloud(path, seed, RecordingDriver(), clock=Clock())  # type: ignore[arg-type]
    assert second.resources() == before
    vm = second.nova.get_server(admin, r["vm"]["id"])
    assert vm["addresses"]["n1"][1]["addr"] == r["fip"]["floating_ip_address"]
    # allocation continues where it stopped: no id or address is handed out twice
    fip2 = second.l3.create_floatingip(admin, {"floating_network_id": r["ext"]["id"]})
    assert fip2["floating_ip_address"] not in {r["fip"]["floating_ip_address"],
                                               r["router"]["external_gateway_info"]
                                               ["external_fixed_ips"][0]["ip_address"]}
    ids = [d["id"] for kind in before.values() for d in kind if "id" in d]
    assert fip2["id"] not in ids
    second.close()


def test_same_operations_same_ids() -> None:
    def run() -> dict:
        c = Cloud(None, topology.load("seed"), RecordingDriver(), clock=Clock())  # type: ignore[arg-type]
        r = article(c, c.admin_context())
        snapshot = c.store.snapshot()
        c.close()
        return {"ids": {k: v["id"] for k, v in r.items()}, "store": snapshot}

    a, b = run(), run()
    assert a == b
    macs = [d["mac_address"] for (kind, _), d in a["store"].items() if kind == "port"]
    assert len(macs) == len(set(macs)) == 4  # vm, router interface, gateway, FIP ports
    other = Cloud(None, topology.load("seed"), seed=1, clock=Clock())
    assert article(other, other.admin_context())["n1"]["id"] != a["ids"]["n1"]


def test_driver_failure_rolls_back_the_cloud(cloud: Cloud, admin: Context,
                                             driver: RecordingDriver) -> None:
    r = article(cloud, admin)
    before = cloud.store.snapshot()
    calls = list(driver.calls)
    for hook, call in [
        ("create_port", lambda: cloud.nova.create_server(admin, {"server": {
            "name": "vm_2", "imageRef": r["vm"]["image"]["id"], "flavorRef": "42",
            "networks": [{"uuid": r["n1"]["id"]}]}})),
        ("delete_floatingip", lambda: cloud.l3.delete_floatingip(admin, r["fip"]["id"])),
        ("update_floatingip", lambda: cloud.l3.update_floatingip(admin, r["fip"]["id"],
                                                              {"port_id": None})),
        ("update_router", lambda: cloud.l3.update_router(admin, r["router"]["id"], {"name": "r2"})),
        ("update_port", lambda: cloud.nova.server_remove_security_group(admin, r["vm"]["id"],
                                                                   "allow-icmp-ssh")),
        ("create_network", lambda: cloud.create_network(admin, {"name": "x"})),
        ("set_distributed_floating_ip",
         lambda: cloud.set_config(enable_distributed_floating_ip=False)),
    ]:
        driver.fail_on = hook
        with pytest.raises(RuntimeError):
            call()
        assert cloud.store.snapshot() == before, hook
        assert driver.calls == calls
    driver.fail_on = None


def test_validation_failures_consume_no_ids(cloud: Cloud, admin: Context) -> None:
    r = article(cloud, admin)
    fails(cloud, lambda: cloud.l3.create_floatingip(admin, {"floating_network_id": r["n1"]["id"]}),
          400, "BadRequest")
    fails(cloud, lambda: cloud.l3.add_router_interface(admin, r["router"]["id"],
                                                    {"subnet_id": r["n1subnet"]["id"]}),
          400, "BadRequest")


def test_resources_snapshot_for_resync(cloud: Cloud, admin: Context) -> None:
    r = article(cloud, admin)
    snap = cloud.resources()
    assert {n["id"] for n in snap["networks"]} == {r["n1"]["id"], r["ext"]["id"]}
    router = snap["routers"][0]
    assert router["gw_port"]["device_owner"] == "network:router_gateway"
    assert router["interfaces"][0]["subnet_id"] == r["n1subnet"]["id"]
    fip = snap["floatingips"][0]
    assert fip["floating_port_mac"] and fip["floating_port_id"]
    assert any(len(sg["security_group_rules"]) == 4 for sg in snap["security_groups"])


def test_identity(cloud: Cloud) -> None:
    ctx = cloud.identity.authenticate("demo", "secret", "demo")
    assert (ctx.is_admin, ctx.project_name, len(ctx.project_id)) == (False, "demo", 32)
    assert cloud.identity.authenticate("demo", "secret", ctx.project_id) == ctx
    fails(cloud, lambda: cloud.identity.authenticate("demo", "wrong", "demo"), 401, "Unauthorized")
    fails(cloud, lambda: cloud.identity.authenticate("demo", "secret", "admin"), 401, "Unauthorized")
    assert {p["name"] for p in cloud.identity.get_projects()} == {"admin", "demo"}
    assert cloud.admin_context().is_admin
