from __future__ import annotations

from typing import Any

import pytest
from cloud_helpers import RecordingDriver, fails

from ovnlab.cloud import Cloud, Context


@pytest.fixture
def lab(cloud: Cloud, admin: Context) -> dict[str, Any]:
    n1 = cloud.create_network(admin, {"name": "n1"})
    s1 = cloud.create_subnet(admin, {"name": "s1", "network_id": n1["id"], "cidr": "172.16.100.0/24"})
    ext = cloud.create_network(admin, {"name": "ext", "router:external": True,
                                       "provider:network_type": "flat",
                                       "provider:physical_network": "extnet0"})
    es = cloud.create_subnet(admin, {"network_id": ext["id"], "cidr": "10.0.2.0/24",
                                     "enable_dhcp": False, "gateway_ip": "10.0.2.2",
                                     "allocation_pools": [{"start": "10.0.2.210",
                                                           "end": "10.0.2.212"}]})
    router = cloud.l3.create_router(admin, {"name": "r"})
    vm_port = cloud.create_port(admin, {"network_id": n1["id"], "device_owner": "compute:nova",
                                        "device_id": "vm-1"})
    return {"n1": n1, "s1": s1, "ext": ext, "es": es, "router": router, "vm_port": vm_port}


def test_interface_by_subnet(cloud: Cloud, admin: Context, lab: dict[str, Any],
                             driver: RecordingDriver) -> None:
    rid, sid = lab["router"]["id"], lab["s1"]["id"]
    info = cloud.l3.add_router_interface(admin, rid, {"subnet_id": sid})
    assert info["id"] == rid and info["subnet_id"] == sid and info["subnet_ids"] == [sid]
    port = cloud.get_port(admin, info["port_id"])
    assert port["device_owner"] == "network:router_interface" and port["device_id"] == rid
    assert port["fixed_ips"] == [{"subnet_id": sid, "ip_address": "172.16.100.1"}]
    assert port["security_groups"] == []
    router, rport, subnet = driver.last("add_router_interface")
    assert (router["id"], rport["id"], subnet["id"]) == (rid, port["id"], sid)
    assert router["interfaces"][0]["cidr"] == "172.16.100.0/24"
    fails(cloud, lambda: cloud.l3.add_router_interface(admin, rid, {"subnet_id": sid}), 400,
          "BadRequest", f"Bad router request: Router already has a port on subnet {sid}.")
    fails(cloud, lambda: cloud.l3.delete_router(admin, rid), 409, "RouterInUse",
          f"Router {rid} has ports still attached: {port['id']}")
    fails(cloud, lambda: cloud.delete_port(admin, port["id"]), 409, "ServicePortInUse",
          f"Port {port['id']} cannot be deleted directly via the port API: has device owner "
          "network:router_interface.")
    fails(cloud, lambda: cloud.delete_subnet(admin, sid), 409, "SubnetInUse")
    cloud.l3.remove_router_interface(admin, rid, {"subnet_id": sid})
    assert driver.names()[-2:] == ["delete_port", "remove_router_interface"]  # as Neutron's L3 DB
    fails(cloud, lambda: cloud.l3.remove_router_interface(admin, rid, {"subnet_id": sid}), 404,
          "RouterInterfaceNotFoundForSubnet", f"Router {rid} has no interface on subnet {sid}")
    cloud.l3.delete_router(admin, rid)
    assert driver.last("delete_router")[0]["id"] == rid


def test_interface_errors(cloud: Cloud, admin: Context, lab: dict[str, Any]) -> None:
    rid = lab["router"]["id"]
    cloud.l3.add_router_interface(admin, rid, {"subnet_id": lab["s1"]["id"]})
    n2 = cloud.create_network(admin, {"name": "n2"})
    s2 = cloud.create_subnet(admin, {"network_id": n2["id"], "cidr": "172.16.0.0/16"})
    fails(cloud, lambda: cloud.l3.add_router_interface(admin, rid, {"subnet_id": s2["id"]}), 400,
          "BadRequest", f"Bad router request: Cidr 172.16.0.0/16 of subnet {s2['id']} overlaps "
          f"with cidr 172.16.100.0/24 of subnet {lab['s1']['id']}.")
    nogw = cloud.create_subnet(admin, {"network_id": n2["id"], "cidr": "192.168.5.0/24",
                                       "gateway_ip": None})
    fails(cloud, lambda: cloud.l3.add_router_interface(admin, rid, {"subnet_id": nogw["id"]}), 400,
          "BadRequest", "Bad router request: Subnet for router interface must have a gateway IP.")
    fails(cloud, lambda: cloud.l3.add_router_interface(admin, rid, {}), 400, "BadRequest",
          "Bad router request: Either subnet_id or port_id must be specified.")
    fails(cloud, lambda: cloud.l3.add_router_interface(admin, rid, {"subnet_id": "a", "port_id": "b"}),
          400, "BadRequest", "Bad router request: Cannot specify both subnet-id and port-id.")
    fails(cloud, lambda: cloud.l3.add_router_interface(admin, "nope", {"subnet_id": "a"}), 404,
          "RouterNotFound", "Router nope could not be found")
    fails(cloud, lambda: cloud.l3.add_router_interface(admin, rid, {"port_id": lab["vm_port"]["id"]}),
          409, "PortInUse")


def test_interface_by_port(cloud: Cloud, admin: Context, lab: dict[str, Any]) -> None:
    rid = lab["router"]["id"]
    n2 = cloud.create_network(admin, {"name": "n2"})
    cloud.create_subnet(admin, {"network_id": n2["id"], "cidr": "192.168.9.0/24"})
    port = cloud.create_port(admin, {"network_id": n2["id"]})
    info = cloud.l3.add_router_interface(admin, rid, {"port_id": port["id"]})
    attached = cloud.get_port(admin, info["port_id"])
    assert (attached["device_owner"], attached["device_id"]) == ("network:router_interface", rid)
    cloud.l3.remove_router_interface(admin, rid, {"port_id": port["id"]})
    fails(cloud, lambda: cloud.l3.remove_router_interface(admin, rid, {"port_id": port["id"]}), 404,
          "RouterInterfaceNotFound", f"Router {rid} does not have an interface with id {port['id']}")


def test_external_gateway(cloud: Cloud, admin: Context, lab: dict[str, Any],
                          driver: RecordingDriver) -> None:
    rid, ext = lab["router"]["id"], lab["ext"]["id"]
    fails(cloud, lambda: cloud.l3.update_router(admin, rid, {"external_gateway_info": {
        "network_id": lab["n1"]["id"]}}), 400, "BadRequest",
        f"Bad router request: Network {lab['n1']['id']} is not an external network.")
    router = cloud.l3.update_router(admin, rid, {"external_gateway_info": {"network_id": ext}})
    info = router["external_gateway_info"]
    assert info["network_id"] == ext and info["enable_snat"] is True
    assert info["external_fixed_ips"] == [{"subnet_id": lab["es"]["id"], "ip_address": "10.0.2.210"}]
    gw = cloud.get_ports(admin, {"device_owner": ["network:router_gateway"]})[0]
    assert gw["device_id"] == rid and gw["project_id"] == "" and gw["network_id"] == ext
    new, old = driver.last("update_router")
    assert new["gw_port"]["id"] == gw["id"] and new["gw_port_id"] == gw["id"]
    assert old["external_gateway_info"] is None
    assert "gw_port_id" not in router  # internal
    router = cloud.l3.update_router(admin, rid, {"external_gateway_info": {"network_id": ext,
                                                                        "enable_snat": False}})
    assert router["external_gateway_info"]["enable_snat"] is False
    assert cloud.get_ports(admin, {"device_owner": ["network:router_gateway"]})[0]["id"] == gw["id"]
    cloud.l3.update_router(admin, rid, {"external_gateway_info": {}})
    assert cloud.get_ports(admin, {"device_owner": ["network:router_gateway"]}) == []
    fails(cloud, lambda: cloud.l3.update_router(cloud.identity.authenticate("demo", "secret", "demo"), rid,
                                             {"name": "x"}), 404, "RouterNotFound")


def test_gateway_overlap_and_fixed_ip(cloud: Cloud, admin: Context, demo: Context,
                                      lab: dict[str, Any]) -> None:
    rid, ext = lab["router"]["id"], lab["ext"]["id"]
    fails(cloud, lambda: cloud.l3.update_router(admin, rid, {"external_gateway_info": {
        "network_id": ext, "external_fixed_ips": [{"ip_address": "10.0.2.2"}]}}), 400,
        "BadRequest", "Bad router request: External IP 10.0.2.2 is the same as the gateway IP.")
    router = cloud.l3.update_router(admin, rid, {"external_gateway_info": {
        "network_id": ext, "external_fixed_ips": [{"ip_address": "10.0.2.212"}]}})
    assert router["external_gateway_info"]["external_fixed_ips"][0]["ip_address"] == "10.0.2.212"
    mine = cloud.l3.create_router(demo, {"name": "mine"})
    fails(cloud, lambda: cloud.l3.update_router(demo, mine["id"], {"external_gateway_info": {
        "network_id": ext, "enable_snat": False}}), 403, "PolicyNotAuthorized")


def test_routes(cloud: Cloud, admin: Context, lab: dict[str, Any]) -> None:
    rid = lab["router"]["id"]
    cloud.l3.add_router_interface(admin, rid, {"subnet_id": lab["s1"]["id"]})
    r = cloud.l3.update_router(admin, rid, {"routes": [{"destination": "192.168.0.0/24",
                                                     "nexthop": "172.16.100.50"}]})
    assert r["routes"] == [{"destination": "192.168.0.0/24", "nexthop": "172.16.100.50"}]
    fails(cloud, lambda: cloud.l3.update_router(admin, rid, {"routes": [
        {"destination": "192.168.0.0/24", "nexthop": "10.9.9.9"}]}), 400, "InvalidRoutes")
    fails(cloud, lambda: cloud.l3.remove_router_interface(admin, rid, {"subnet_id": lab["s1"]["id"]}),
          409, "RouterInterfaceInUseByRoute")


def test_floating_ips(cloud: Cloud, admin: Context, lab: dict[str, Any],
                      driver: RecordingDriver) -> None:
    rid, ext, vm_port = lab["router"]["id"], lab["ext"]["id"], lab["vm_port"]
    fails(cloud, lambda: cloud.l3.create_floatingip(admin, {"floating_network_id": lab["n1"]["id"]}),
          400, "BadRequest",
          f"Bad floatingip request: Network {lab['n1']['id']} is not a valid external network.")
    fip = cloud.l3.create_floatingip(admin, {"floatingip": {"floating_network_id": ext}})
    assert fip["floating_ip_address"] == "10.0.2.210"
    assert (fip["status"], fip["port_id"], fip["router_id"], fip["port_details"]) == (
        "DOWN", None, None, None)
    assert "floating_port_id" not in fip
    created = driver.last("create_floatingip")[0]
    fip_port = cloud.get_port(admin, created["floating_port_id"])
    assert fip_port["device_owner"] == "network:floatingip"
    assert fip_port["device_id"] == fip["id"] and fip_port["status"] == "N/A"
    assert created["floating_port_mac"] == fip_port["mac_address"] != vm_port["mac_address"]
    s1 = lab["s1"]["id"]
    unreachable = (f"External network {ext} is not reachable from subnet {s1}.  Therefore, "
                   f"cannot associate Port {vm_port['id']} with a Floating IP.")
    fails(cloud, lambda: cloud.l3.update_floatingip(admin, fip["id"], {"port_id": vm_port["id"]}),
          404, "ExternalGatewayForFloatingIPNotFound", unreachable)
    cloud.l3.add_router_interface(admin, rid, {"subnet_id": s1})
    fails(cloud, lambda: cloud.l3.update_floatingip(admin, fip["id"], {"port_id": vm_port["id"]}),
          404, "ExternalGatewayForFloatingIPNotFound", unreachable)  # no gateway yet
    cloud.l3.update_router(admin, rid, {"external_gateway_info": {"network_id": ext}})
    fip = cloud.l3.update_floatingip(admin, fip["id"], {"floatingip": {"port_id": vm_port["id"]}})
    assert (fip["fixed_ip_address"], fip["router_id"]) == (vm_port["fixed_ips"][0]["ip_address"], rid)
    assert fip["port_details"]["device_id"] == "vm-1" and fip["status"] == "DOWN"
    new, old = driver.last("update_floatingip")
    assert (new["port_id"], old["port_id"]) == (vm_port["id"], None)
    assert new["floating_port_mac"] == fip_port["mac_address"]
    fails(cloud, lambda: cloud.l3.update_router(admin, rid, {"external_gateway_info": None}), 409,
          "RouterExternalGatewayInUseByFloatingIp")
    fails(cloud, lambda: cloud.l3.remove_router_interface(admin, rid, {"subnet_id": s1}), 409,
          "RouterInterfaceInUseByFloatingIP",
          f"Router interface for subnet {s1} on router {rid} cannot be deleted, as it is "
          "required by one or more floating IPs.")
    second = cloud.l3.create_floatingip(admin, {"floating_network_id": ext})
    fails(cloud, lambda: cloud.l3.update_floatingip(admin, second["id"], {"port_id": vm_port["id"]}),
          409, "FloatingIPPortAlreadyAssociated")
    fails(cloud, lambda: cloud.l3.create_floatingip(admin, {"floating_network_id": ext}), 409,
          "IpAddressGenerationFailure", f"No more IP addresses available on network {ext}.")
    fails(cloud, lambda: cloud.l3.update_floatingip(admin, fip["id"], {"floating_ip_address": "1.2.3.4"}),
          400, "HTTPBadRequest")
    router_port = cloud.get_ports(admin, {"device_owner": ["network:router_interface"]})[0]
    fails(cloud, lambda: cloud.l3.update_floatingip(admin, second["id"], {"port_id": router_port["id"]}),
          400, "BadRequest")
    fip = cloud.l3.update_floatingip(admin, fip["id"], {"port_id": None})
    assert (fip["port_id"], fip["fixed_ip_address"], fip["router_id"], fip["status"]) == (
        None, None, None, "DOWN")
    cloud.l3.delete_floatingip(admin, fip["id"])
    assert driver.names()[-2:] == ["delete_floatingip", "delete_port"]
    fails(cloud, lambda: cloud.get_port(admin, created["floating_port_id"]), 404, "PortNotFound")
    fails(cloud, lambda: cloud.l3.get_floatingip(admin, fip["id"]), 404, "FloatingIPNotFound")


def test_deleting_a_port_disassociates_its_fip(cloud: Cloud, admin: Context,
                                               lab: dict[str, Any]) -> None:
    rid, ext, vm_port = lab["router"]["id"], lab["ext"]["id"], lab["vm_port"]
    cloud.l3.add_router_interface(admin, rid, {"subnet_id": lab["s1"]["id"]})
    cloud.l3.update_router(admin, rid, {"external_gateway_info": {"network_id": ext}})
    fip = cloud.l3.create_floatingip(admin, {"floating_network_id": ext, "port_id": vm_port["id"]})
    assert fip["port_id"] == vm_port["id"]
    cloud.delete_port(admin, vm_port["id"])
    after = cloud.l3.get_floatingip(admin, fip["id"])
    assert (after["port_id"], after["fixed_ip_address"], after["router_id"]) == (None, None, None)


def test_fip_of_another_project(cloud: Cloud, admin: Context, demo: Context,
                                lab: dict[str, Any]) -> None:
    fip = cloud.l3.create_floatingip(demo, {"floating_network_id": lab["ext"]["id"]})
    fails(cloud, lambda: cloud.l3.update_floatingip(demo, fip["id"], {"port_id": lab["vm_port"]["id"]}),
          404, "PortNotFound")
    fails(cloud, lambda: cloud.l3.create_floatingip(demo, {"floating_network_id": lab["ext"]["id"],
                                                        "floating_ip_address": "10.0.2.212"}),
          403, "PolicyNotAuthorized")
    assert [f["id"] for f in cloud.l3.get_floatingips(demo)] == [fip["id"]]
    fails(cloud, lambda: cloud.l3.delete_floatingip(demo, "nope"), 404, "FloatingIPNotFound")


def test_interface_on_someone_elses_subnet(cloud: Cloud, admin: Context, demo: Context) -> None:
    shared = cloud.create_network(admin, {"name": "shared", "shared": True})
    sub = cloud.create_subnet(admin, {"network_id": shared["id"], "cidr": "10.50.0.0/24"})
    router = cloud.l3.create_router(demo, {"name": "mine"})
    fails(cloud, lambda: cloud.l3.add_router_interface(demo, router["id"], {"subnet_id": sub["id"]}),
          400, "BadRequest", "Bad router request: Cannot add interface to router because subnet "
          f"{sub['id']} is not owned by project making the request.")
    own = cloud.create_network(demo, {"name": "own"})
    own_sub = cloud.create_subnet(demo, {"network_id": own["id"], "cidr": "10.60.0.0/24"})
    info = cloud.l3.add_router_interface(demo, router["id"], {"subnet_id": own_sub["id"]})
    assert info["project_id"] == demo.project_id
    assert cloud.get_ports(demo, {"device_id": [router["id"]]})[0]["id"] == info["port_id"]


def test_changing_the_gateway_address_keeps_the_port(cloud: Cloud, admin: Context,
                                                      lab: dict[str, Any],
                                                      driver: RecordingDriver) -> None:
    rid, ext = lab["router"]["id"], lab["ext"]["id"]
    cloud.l3.update_router(admin, rid, {"external_gateway_info": {"network_id": ext}})
    gw = cloud.get_ports(admin, {"device_owner": ["network:router_gateway"]})[0]
    router = cloud.l3.update_router(admin, rid, {"external_gateway_info": {
        "network_id": ext, "external_fixed_ips": [{"ip_address": "10.0.2.212"}]}})
    assert router["external_gateway_info"]["external_fixed_ips"][0]["ip_address"] == "10.0.2.212"
    again = cloud.get_ports(admin, {"device_owner": ["network:router_gateway"]})
    assert [p["id"] for p in again] == [gw["id"]]
    assert again[0]["fixed_ips"][0]["ip_address"] == "10.0.2.212"
    assert driver.names()[-2:] == ["update_port", "update_router"]
