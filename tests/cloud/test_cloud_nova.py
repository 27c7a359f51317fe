from __future__ import annotations

from typing import Any

import pytest
from cloud_helpers import RecordingDriver, fails

from ovnlab.cloud import Cloud, Context
from ovnlab.errors import BadRequest


@pytest.fixture
def net(cloud: Cloud, admin: Context, demo: Context) -> dict[str, Any]:
    n = cloud.create_network(admin, {"name": "n1", "shared": True})
    s = cloud.create_subnet(admin, {"network_id": n["id"], "cidr": "172.16.100.0/24"})
    return {"net": n, "subnet": s, "image": cloud.nova.get_images(admin)[0]["id"]}


def _server(name: str, net: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"server": {"name": name, "imageRef": net["image"], "flavorRef": "42",
                       "networks": [{"uuid": net["net"]["id"]}], **extra}}


def test_flavors_images_hypervisors(cloud: Cloud, admin: Context) -> None:
    nano = next(f for f in cloud.nova.get_flavors(admin) if f["name"] == "m1.nano")
    assert (nano["id"], nano["vcpus"], nano["ram"], nano["disk"]) == ("42", 1, 128, 1)
    assert [i["name"] for i in cloud.nova.get_images(admin, {"name": "cirros"})] == ["cirros"]
    hypervisors = cloud.nova.get_hypervisors(admin)
    assert [h["hypervisor_hostname"] for h in hypervisors] == ["compute1", "compute2"]
    assert hypervisors[0]["host_ip"] == "192.168.50.11" and hypervisors[0]["state"] == "up"


def test_server_create_and_view(cloud: Cloud, admin: Context, net: dict[str, Any],
                                driver: RecordingDriver) -> None:
    vm = cloud.nova.create_server(admin, _server("vm_1", net, networks=[
        {"uuid": net["net"]["id"], "fixed_ip": "172.16.100.10"}]))
    assert vm["status"] == "BUILD" and vm["OS-EXT-STS:vm_state"] == "building"
    assert vm["flavor"] == {"vcpus": 1, "ram": 128, "disk": 1, "ephemeral": 0, "swap": 0,
                            "original_name": "m1.nano", "extra_specs": {}}
    assert vm["image"]["id"] == net["image"] and isinstance(vm["image"]["links"], list)
    assert vm["OS-EXT-SRV-ATTR:host"] == vm["OS-EXT-SRV-ATTR:hypervisor_hostname"] == "compute1"
    assert vm["OS-EXT-AZ:availability_zone"] == "nova"
    port = cloud.get_ports(admin, {"device_id": vm["id"]})[0]
    assert (port["device_owner"], port["binding:host_id"]) == ("compute:nova", "compute1")
    assert vm["addresses"] == {"n1": [{"addr": "172.16.100.10", "version": 4,
                                       "OS-EXT-IPS:type": "fixed",
                                       "OS-EXT-IPS-MAC:mac_addr": port["mac_address"]}]}
    assert vm["security_groups"] == [{"name": "default"}]
    assert driver.last("create_port")[0]["id"] == port["id"]
    cloud.update_port_status(port["id"], "ACTIVE")
    vm = cloud.nova.get_server(admin, vm["id"])
    assert vm["status"] == "ACTIVE" and vm["OS-EXT-STS:power_state"] == 1
    assert vm["OS-SRV-USG:launched_at"] is not None
    cloud.update_port_status(port["id"], "DOWN")
    assert cloud.nova.get_server(admin, vm["id"])["status"] == "ACTIVE"  # Nova keeps it active
    assert cloud.get_port(admin, port["id"])["status"] == "DOWN"


def test_placement_least_loaded_and_pinned(cloud: Cloud, admin: Context, demo: Context,
                                           net: dict[str, Any]) -> None:
    hosts = [cloud.nova.create_server(admin, _server(f"vm{i}", net))["OS-EXT-SRV-ATTR:host"]
             for i in range(3)]
    assert hosts == ["compute1", "compute2", "compute1"]
    pinned = cloud.nova.create_server(admin, _server("p", net, availability_zone="nova:compute1"))
    assert pinned["OS-EXT-SRV-ATTR:host"] == "compute1"
    by_id = cloud.nova.create_server(admin, _server(
        "q", net, availability_zone=f"nova:{cloud.topology.node('compute2').system_id}"))
    assert by_id["OS-EXT-SRV-ATTR:host"] == "compute2"
    fails(cloud, lambda: cloud.nova.create_server(demo, _server("d", net,
                                                           availability_zone="nova:compute2")),
          403, "PolicyNotAuthorized")
    fails(cloud, lambda: cloud.nova.create_server(admin, _server("d", net,
                                                            availability_zone="nova:compute9")),
          400, "ComputeHostNotFound")
    fails(cloud, lambda: cloud.nova.create_server(admin, _server("d", net, availability_zone="zone9")),
          400, "InvalidRequest")


def test_create_errors(cloud: Cloud, admin: Context, demo: Context, net: dict[str, Any]) -> None:
    cloud.nova.create_server(admin, _server("a", net, networks=[
        {"uuid": net["net"]["id"], "fixed_ip": "172.16.100.10"}]))
    fails(cloud, lambda: cloud.nova.create_server(admin, _server("b", net, networks=[
        {"uuid": net["net"]["id"], "fixed_ip": "172.16.100.10"}])), 400, "FixedIpAlreadyInUse")
    fails(cloud, lambda: cloud.nova.create_server(admin, _server("b", net, networks=[
        {"uuid": net["net"]["id"], "fixed_ip": "10.9.9.9"}])), 400, "InvalidIpForNetwork")
    fails(cloud, lambda: cloud.nova.create_server(admin, _server("b", net, networks=[{"uuid": "nope"}])),
          400, "NetworkNotFound", "Network nope could not be found.")
    fails(cloud, lambda: cloud.nova.create_server(admin, _server("b", net, flavorRef="999")), 400,
          "FlavorNotFound", "Invalid flavorRef provided.")
    fails(cloud, lambda: cloud.nova.create_server(admin, _server("b", net, imageRef="nope")), 400,
          "ImageNotFound")
    fails(cloud, lambda: cloud.nova.create_server(admin, _server("", net)), 400, "ValidationError")
    fails(cloud, lambda: cloud.nova.create_server(admin, _server(
        "b", net, security_groups=[{"name": "nope"}])), 400, "SecurityGroupNotFound")


def test_network_auto_and_port_nics(cloud: Cloud, demo: Context, net: dict[str, Any]) -> None:
    vm = cloud.nova.create_server(demo, _server("a", net, networks="auto"))
    assert list(vm["addresses"]) == ["n1"]
    port = cloud.create_port(demo, {"network_id": net["net"]["id"]})
    vm2 = cloud.nova.create_server(demo, _server("b", net, networks=[{"port": port["id"]}]))
    assert cloud.get_port(demo, port["id"])["device_id"] == vm2["id"]
    fails(cloud, lambda: cloud.nova.create_server(demo, _server("c", net, networks=[{"port": port["id"]}])),
          409, "PortInUse")
    cloud.nova.delete_server(demo, vm2["id"])
    kept = cloud.get_port(demo, port["id"])  # a port the user brought is only unbound
    assert (kept["device_id"], kept["device_owner"]) == ("", "")
    ports_before = len(cloud.get_ports(demo))
    cloud.nova.delete_server(demo, vm["id"])
    assert len(cloud.get_ports(demo)) == ports_before - 1
    fails(cloud, lambda: cloud.nova.get_server(demo, vm["id"]), 404, "InstanceNotFound",
          f"Instance {vm['id']} could not be found.")


def test_security_group_actions(cloud: Cloud, demo: Context, admin: Context,
                                net: dict[str, Any], driver: RecordingDriver) -> None:
    vm = cloud.nova.create_server(demo, _server("vm", net))
    sg = cloud.security_groups.create_security_group(demo, {"name": "allow-icmp-ssh"})
    cloud.nova.server_add_security_group(demo, vm["id"], "allow-icmp-ssh")
    port = cloud.get_ports(demo, {"device_id": vm["id"]})[0]
    assert port["security_groups"][-1] == sg["id"]
    assert driver.last("update_port")[0]["security_groups"] == port["security_groups"]
    assert cloud.nova.get_server(demo, vm["id"])["security_groups"] == [{"name": "default"},
                                                                    {"name": "allow-icmp-ssh"}]
    fails(cloud, lambda: cloud.nova.server_add_security_group(demo, vm["id"], sg["id"]), 400,
          "SecurityGroupExistsForInstance")
    fails(cloud, lambda: cloud.nova.server_add_security_group(demo, vm["id"], "nope"), 404,
          "SecurityGroupNotFoundForProject",
          f"Security group nope not found for project {demo.project_id}.")
    cloud.nova.server_remove_security_group(demo, vm["id"], sg["id"])
    assert cloud.nova.get_server(demo, vm["id"])["security_groups"] == [{"name": "default"}]
    fails(cloud, lambda: cloud.nova.server_remove_security_group(demo, vm["id"], sg["id"]), 400,
          "SecurityGroupNotExistsForInstance")
    other = cloud.security_groups.create_security_group(demo, {"name": "dup"})
    cloud.security_groups.create_security_group(demo, {"name": "dup"})
    fails(cloud, lambda: cloud.nova.server_add_security_group(demo, vm["id"], "dup"), 409,
          "NoUniqueMatch")
    cloud.nova.server_add_security_group(demo, vm["id"], other["id"])  # by id is unambiguous


def test_server_visibility_and_filters(cloud: Cloud, admin: Context, demo: Context,
                                       net: dict[str, Any]) -> None:
    mine = cloud.nova.create_server(demo, _server("vm_1", net))
    cloud.nova.create_server(admin, _server("vm_10", net))
    assert [s["name"] for s in cloud.nova.get_servers(demo)] == ["vm_1"]
    assert "OS-EXT-SRV-ATTR:host" not in cloud.nova.get_server(demo, mine["id"])
    assert [s["name"] for s in cloud.nova.get_servers(admin, {"name": "vm_1"})] == ["vm_1", "vm_10"]
    assert [s["name"] for s in cloud.nova.get_servers(admin, {"name": "^vm_1$"})] == ["vm_1"]
    assert len(cloud.nova.get_servers(admin, {"host": "compute2"})) == 1
    fails(cloud, lambda: cloud.nova.delete_server(demo, cloud.nova.get_servers(admin, {"name": "vm_10"})[0]["id"]),
          404, "InstanceNotFound")
    with pytest.raises(BadRequest):
        cloud.update_port_status("whatever", "UP")
