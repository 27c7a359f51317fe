from __future__ import annotations

import re
from typing import Any

import pytest
from cloud_helpers import RecordingDriver, fails

from ovnlab.cloud import Cloud, Context


@pytest.fixture
def net(cloud: Cloud, admin: Context) -> dict[str, Any]:
    n = cloud.create_network(admin, {"name": "n1"})
    s = cloud.create_subnet(admin, {"network_id": n["id"], "cidr": "10.1.0.0/29"})
    return {"net": n, "subnet": s}


def test_port_defaults(cloud: Cloud, admin: Context, net: dict[str, Any],
                       driver: RecordingDriver) -> None:
    port = cloud.create_port(admin, {"port": {"network_id": net["net"]["id"]}})
    assert re.fullmatch(r"fa:16:3e(:[0-9a-f]{2}){3}", port["mac_address"])
    assert port["fixed_ips"] == [{"subnet_id": net["subnet"]["id"], "ip_address": "10.1.0.2"}]
    assert port["status"] == "DOWN" and port["port_security_enabled"] is True
    default = cloud.security_groups.get_security_groups(admin, {"name": ["default"]})[0]
    assert port["security_groups"] == [default["id"]]
    assert (port["binding:host_id"], port["binding:vif_type"]) == ("", "unbound")
    assert (port["device_owner"], port["device_id"]) == ("", "")
    assert driver.last("create_port")[0]["id"] == port["id"]
    bound = cloud.update_port(admin, port["id"], {"binding:host_id": "compute1"})
    assert bound["binding:vif_type"] == "ovs"


def test_binding_is_admin_only(cloud: Cloud, demo: Context) -> None:
    n = cloud.create_network(demo, {"name": "mine"})
    port = cloud.create_port(demo, {"network_id": n["id"]})
    assert "binding:host_id" not in port and port["fixed_ips"] == []
    fails(cloud, lambda: cloud.create_port(demo, {"network_id": n["id"],
                                                  "binding:host_id": "compute1"}),
          403, "PolicyNotAuthorized",
          "(rule:create_port and rule:create_port:binding:host_id) is disallowed by policy")


def test_fixed_ip_errors(cloud: Cloud, admin: Context, net: dict[str, Any]) -> None:
    nid, sid = net["net"]["id"], net["subnet"]["id"]
    taken = cloud.create_port(admin, {"network_id": nid, "fixed_ips": [{"ip_address": "10.1.0.5"}]})
    assert taken["fixed_ips"] == [{"subnet_id": sid, "ip_address": "10.1.0.5"}]
    fails(cloud, lambda: cloud.create_port(admin, {
        "network_id": nid, "fixed_ips": [{"subnet_id": sid, "ip_address": "10.1.0.5"}]}),
        409, "IpAddressAlreadyAllocated", f"IP address 10.1.0.5 already allocated in subnet {sid}")
    fails(cloud, lambda: cloud.create_port(admin, {
        "network_id": nid, "fixed_ips": [{"subnet_id": sid, "ip_address": "10.9.9.9"}]}),
        400, "InvalidIpForSubnet", "IP address 10.9.9.9 is not a valid IP for the specified subnet.")
    fails(cloud, lambda: cloud.create_port(admin, {
        "network_id": nid, "fixed_ips": [{"subnet_id": sid, "ip_address": "10.1.0.7"}]}),
        400, "InvalidIpForSubnet")  # the broadcast address
    fails(cloud, lambda: cloud.create_port(admin, {
        "network_id": nid, "fixed_ips": [{"ip_address": "10.9.9.9"}]}),
        400, "InvalidIpForNetwork",
        "IP address 10.9.9.9 is not a valid IP for any of the subnets on the specified network.")
    fails(cloud, lambda: cloud.create_port(admin, {
        "network_id": nid, "fixed_ips": [{"ip_address": "10.1.0.3"}, {"ip_address": "10.1.0.3"}]}),
        409, "IpAddressAlreadyAllocated")
    other = cloud.create_network(admin, {"name": "other"})
    other_sub = cloud.create_subnet(admin, {"network_id": other["id"], "cidr": "10.2.0.0/24"})
    fails(cloud, lambda: cloud.create_port(admin, {
        "network_id": nid, "fixed_ips": [{"subnet_id": other_sub["id"]}]}),
        400, "InvalidInput", f"Invalid input for operation: Failed to create port on network "
        f"{nid}, because fixed_ips included invalid subnet {other_sub['id']}.")


def test_exhaustion(cloud: Cloud, admin: Context, net: dict[str, Any]) -> None:
    nid = net["net"]["id"]
    ips = [cloud.create_port(admin, {"network_id": nid})["fixed_ips"][0]["ip_address"]
           for _ in range(5)]  # 10.1.0.0/29: .2 - .6 (gateway .1)
    assert ips == ["10.1.0.2", "10.1.0.3", "10.1.0.4", "10.1.0.5", "10.1.0.6"]
    fails(cloud, lambda: cloud.create_port(admin, {"network_id": nid}), 409,
          "IpAddressGenerationFailure", f"No more IP addresses available on network {nid}.")


def test_mac_and_security(cloud: Cloud, admin: Context, net: dict[str, Any]) -> None:
    nid = net["net"]["id"]
    cloud.create_port(admin, {"network_id": nid, "mac_address": "FA:16:3E:00:00:01"})
    fails(cloud, lambda: cloud.create_port(admin, {"network_id": nid,
                                                   "mac_address": "fa:16:3e:00:00:01"}),
          409, "MacAddressInUse", f"Unable to complete operation for network {nid}. The mac "
          "address fa:16:3e:00:00:01 is in use.")
    fails(cloud, lambda: cloud.create_port(admin, {"network_id": nid, "mac_address": "zz"}),
          400, "HTTPBadRequest")
    insecure = cloud.create_port(admin, {"network_id": nid, "port_security_enabled": False})
    assert insecure["security_groups"] == []
    sg = cloud.security_groups.create_security_group(admin, {"name": "web"})
    fails(cloud, lambda: cloud.create_port(admin, {"network_id": nid,
                                                   "port_security_enabled": False,
                                                   "security_groups": [sg["id"]]}),
          400, "PortSecurityAndIPRequiredForSecurityGroups")
    fails(cloud, lambda: cloud.create_port(admin, {"network_id": nid,
                                                   "security_groups": ["nope"]}),
          404, "SecurityGroupNotFound", "Security group nope does not exist")
    p = cloud.create_port(admin, {"network_id": nid, "security_groups": [sg["id"]]})
    assert p["security_groups"] == [sg["id"]]


def test_update_and_delete(cloud: Cloud, admin: Context, net: dict[str, Any],
                           driver: RecordingDriver) -> None:
    nid, sid = net["net"]["id"], net["subnet"]["id"]
    port = cloud.create_port(admin, {"network_id": nid})
    moved = cloud.update_port(admin, port["id"], {"fixed_ips": [{"subnet_id": sid,
                                                                 "ip_address": "10.1.0.6"}]})
    assert moved["fixed_ips"][0]["ip_address"] == "10.1.0.6"
    assert moved["revision_number"] == 2
    new, old = driver.last("update_port")
    assert (new["fixed_ips"][0]["ip_address"], old["fixed_ips"][0]["ip_address"]) == (
        "10.1.0.6", "10.1.0.2")
    # its old address is free again, its own address may be kept
    cloud.update_port(admin, port["id"], {"fixed_ips": [{"ip_address": "10.1.0.6"}]})
    assert cloud.create_port(admin, {"network_id": nid})["fixed_ips"][0]["ip_address"] == "10.1.0.2"
    cloud.update_port(admin, port["id"], {"binding:host_id": "compute1"})
    fails(cloud, lambda: cloud.update_port(admin, port["id"], {"mac_address": "fa:16:3e:aa:bb:cc"}),
          409, "PortBound")
    fails(cloud, lambda: cloud.update_port(admin, port["id"], {"network_id": "x"}),
          400, "HTTPBadRequest", "Cannot update read-only attribute network_id")
    cloud.delete_port(admin, port["id"])
    assert driver.last("delete_port")[0]["id"] == port["id"]
    fails(cloud, lambda: cloud.get_port(admin, port["id"]), 404, "PortNotFound",
          f"Port {port['id']} could not be found.")


def test_ports_of_other_projects_are_hidden(cloud: Cloud, admin: Context, demo: Context,
                                            net: dict[str, Any]) -> None:
    port = cloud.create_port(admin, {"network_id": net["net"]["id"]})
    assert cloud.get_ports(demo) == []
    fails(cloud, lambda: cloud.update_port(demo, port["id"], {"name": "x"}), 404, "PortNotFound")
    fails(cloud, lambda: cloud.create_port(demo, {"network_id": net["net"]["id"]}), 404,
          "NetworkNotFound")


def test_device_id_filter(cloud: Cloud, admin: Context, net: dict[str, Any]) -> None:
    nid = net["net"]["id"]
    cloud.create_port(admin, {"network_id": nid, "device_id": "dev-1"})
    cloud.create_port(admin, {"network_id": nid, "device_id": "dev-2"})
    assert [p["device_id"] for p in cloud.get_ports(admin, {"device_id": ["dev-2"]})] == ["dev-2"]
    found = cloud.get_ports(admin, {"fixed_ips": ["ip_address=10.1.0.3"]})
    assert [p["device_id"] for p in found] == ["dev-2"]


def test_shared_network_users_cannot_pick_addresses(cloud: Cloud, admin: Context, demo: Context) -> None:
    shared = cloud.create_network(admin, {"name": "shared", "shared": True})
    cloud.create_subnet(admin, {"network_id": shared["id"], "cidr": "10.5.0.0/24"})
    port = cloud.create_port(demo, {"network_id": shared["id"]})
    assert port["project_id"] == demo.project_id
    fails(cloud, lambda: cloud.create_port(demo, {"network_id": shared["id"],
                                                  "fixed_ips": [{"ip_address": "10.5.0.9"}]}),
          403, "PolicyNotAuthorized", "(rule:create_port and "
          "rule:create_port:fixed_ips:ip_address) is disallowed by policy")
    fails(cloud, lambda: cloud.update_port(demo, port["id"], {"mac_address": "fa:16:3e:01:02:03"}),
          403, "PolicyNotAuthorized")


def test_update_keeps_the_address_on_a_kept_subnet(cloud: Cloud, admin: Context,
                                                   net: dict[str, Any]) -> None:
    nid, sid = net["net"]["id"], net["subnet"]["id"]
    cloud.create_port(admin, {"network_id": nid})  # .2
    port = cloud.create_port(admin, {"network_id": nid})  # .3
    cloud.delete_port(admin, cloud.get_ports(admin)[0]["id"])  # .2 is free again
    same = cloud.update_port(admin, port["id"], {"fixed_ips": [{"subnet_id": sid}]})
    assert same["fixed_ips"] == [{"subnet_id": sid, "ip_address": "10.1.0.3"}]
