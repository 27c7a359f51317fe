from __future__ import annotations

from typing import Any

from cloud_helpers import RecordingDriver, fails

from ovnlab.cloud import Cloud, Context

NET_KEYS = {"id", "name", "project_id", "tenant_id", "admin_state_up", "mtu", "status",
            "subnets", "shared", "router:external", "availability_zone_hints",
            "availability_zones", "ipv4_address_scope", "ipv6_address_scope", "description",
            "port_security_enabled", "is_default", "l2_adjacency", "qos_policy_id",
            "dns_domain", "tags", "created_at", "updated_at", "revision_number",
            "provider:network_type", "provider:physical_network", "provider:segmentation_id"}


def test_geneve_network_from_the_client(cloud: Cloud, admin: Context) -> None:
    net = cloud.create_network(admin, {"network": {"name": "n1", "admin_state_up": True,
                                                   "provider:network_type": "geneve",
                                                   "provider:segmentation_id": "123"}})
    assert set(net) == NET_KEYS
    assert net["provider:segmentation_id"] == 123
    assert net["mtu"] == 1442 and net["status"] == "ACTIVE" and net["subnets"] == []
    assert net["router:external"] is False and net["shared"] is False
    assert net["project_id"] == net["tenant_id"] == admin.project_id
    assert net["revision_number"] == 1


def test_flat_external_network(cloud: Cloud, admin: Context) -> None:
    net = cloud.create_network(admin, {"name": "ext", "provider:network_type": "flat",
                                       "provider:physical_network": "extnet0",
                                       "router:external": True})
    assert net["mtu"] == 1500
    assert (net["provider:physical_network"], net["provider:segmentation_id"]) == ("extnet0", None)
    assert net["router:external"] is True


def test_tenant_networks_get_the_lowest_free_vni(cloud: Cloud, admin: Context,
                                                 demo: Context) -> None:
    cloud.create_network(admin, {"name": "a", "provider:network_type": "geneve",
                                 "provider:segmentation_id": 1})
    b = cloud.create_network(demo, {"name": "b"})
    c = cloud.create_network(demo, {"name": "c"})
    assert "provider:network_type" not in b  # demo does not see provider attributes
    assert "provider:segmentation_id" not in c
    vnis = [cloud.get_network(admin, n["id"])["provider:segmentation_id"] for n in (b, c)]
    assert vnis == [2, 3]
    assert cloud.get_network(admin, c["id"])["provider:network_type"] == "geneve"


def test_vlan_network(cloud: Cloud, admin: Context) -> None:
    net = cloud.create_network(admin, {"name": "v", "provider:network_type": "vlan",
                                       "provider:physical_network": "extnet0",
                                       "provider:segmentation_id": 100})
    assert (net["mtu"], net["provider:segmentation_id"]) == (1500, 100)
    fails(cloud, lambda: cloud.create_network(admin, {
        "name": "v2", "provider:network_type": "vlan", "provider:physical_network": "extnet0",
        "provider:segmentation_id": 100}), 409, "VlanIdInUse",
        "Unable to create the network. The VLAN 100 on physical network extnet0 is in use.")
    fails(cloud, lambda: cloud.create_network(admin, {
        "name": "v3", "provider:network_type": "vlan", "provider:physical_network": "extnet0",
        "provider:segmentation_id": 4095}), 400, "InvalidInput",
        "Invalid input for operation: segmentation_id out of range (1 through 4094).")


def test_network_validation_errors(cloud: Cloud, admin: Context, demo: Context) -> None:
    cloud.create_network(admin, {"name": "n1", "provider:network_type": "geneve",
                                 "provider:segmentation_id": 123})
    cloud.create_network(admin, {"name": "ext", "provider:network_type": "flat",
                                 "provider:physical_network": "extnet0"})
    cases: list[tuple[dict[str, Any], int, str, str]] = [
        ({"provider:network_type": "geneve", "provider:segmentation_id": 123}, 409,
         "TunnelIdInUse", "Unable to create the network. The tunnel ID 123 is in use."),
        ({"provider:network_type": "flat", "provider:physical_network": "extnet0"}, 409,
         "FlatNetworkInUse",
         "Unable to create the flat network. Physical network extnet0 is in use."),
        ({"provider:network_type": "flat", "provider:physical_network": "physnet9"}, 400,
         "InvalidInput", "Invalid input for operation: physical_network 'physnet9' unknown for "
         "flat provider network."),
        ({"provider:network_type": "flat"}, 400, "InvalidInput",
         "Invalid input for operation: physical_network required for flat provider network."),
        ({"provider:network_type": "geneve", "provider:physical_network": "extnet0"}, 400,
         "InvalidInput", "Invalid input for operation: provider:physical_network specified for "
         "geneve network."),
        ({"provider:network_type": "gre"}, 400, "InvalidInput",
         "Invalid input for operation: network_type value 'gre' not supported."),
        ({"provider:network_type": "geneve", "provider:segmentation_id": "abc"}, 400,
         "HTTPBadRequest", "Invalid input for provider:segmentation_id. Reason: 'abc' is not an "
         "integer."),
        ({"bogus": 1}, 400, "HTTPBadRequest", "Unrecognized attribute(s) 'bogus'"),
        ({"mtu": 9000}, 400, "InvalidInput",
         "Invalid input for operation: Requested MTU is too big, maximum is 1442."),
    ]
    for body, status, type_, message in cases:
        fails(cloud, lambda b=body: cloud.create_network(admin, {"name": "x", **b}),  # type: ignore[misc]
              status, type_, message)
    fails(cloud, lambda: cloud.create_network(demo, {"name": "x", "router:external": True}),
          403, "PolicyNotAuthorized",
          "(rule:create_network and rule:create_network:router:external) is disallowed by policy")
    fails(cloud, lambda: cloud.create_network(demo, {"name": "x", "project_id": admin.project_id}),
          400, "HTTPBadRequest")


def test_project_isolation(cloud: Cloud, admin: Context, demo: Context) -> None:
    private = cloud.create_network(admin, {"name": "private"})
    shared = cloud.create_network(admin, {"name": "shared", "shared": True})
    ext = cloud.create_network(admin, {"name": "ext", "router:external": True,
                                       "provider:network_type": "flat",
                                       "provider:physical_network": "extnet0"})
    own = cloud.create_network(demo, {"name": "mine"})
    names = {n["name"] for n in cloud.get_networks(demo)}
    assert names == {"shared", "ext", "mine"}
    assert {n["name"] for n in cloud.get_networks(admin)} == {"private", "shared", "ext", "mine"}
    fails(cloud, lambda: cloud.get_network(demo, private["id"]), 404, "NetworkNotFound",
          f"Network {private['id']} could not be found.")
    fails(cloud, lambda: cloud.delete_network(demo, private["id"]), 404, "NetworkNotFound")
    fails(cloud, lambda: cloud.update_network(demo, shared["id"], {"name": "x"}), 403,
          "PolicyNotAuthorized", "rule:update_network is disallowed by policy")
    fails(cloud, lambda: cloud.create_subnet(demo, {"network_id": ext["id"],
                                                    "cidr": "10.0.2.0/24"}),
          404, "HTTPNotFound")
    cloud.delete_network(demo, own["id"])
    assert cloud.get_networks(demo, {"name": ["mine"]}) == []


def test_filters_and_fields(cloud: Cloud, admin: Context) -> None:
    cloud.create_network(admin, {"name": "a"})
    cloud.create_network(admin, {"name": "b", "router:external": True,
                                 "provider:network_type": "flat",
                                 "provider:physical_network": "extnet0"})
    assert [n["name"] for n in cloud.get_networks(admin, {"router:external": ["True"]})] == ["b"]
    assert [n["name"] for n in cloud.get_networks(admin, {"name": "a"})] == ["a"]
    assert cloud.get_networks(admin, fields=["id", "name"])[0].keys() == {"id", "name"}


def test_subnet_defaults(cloud: Cloud, admin: Context, driver: RecordingDriver) -> None:
    net = cloud.create_network(admin, {"name": "n1"})
    sub = cloud.create_subnet(admin, {"subnet": {"name": "s", "network_id": net["id"],
                                                 "cidr": "172.16.100.0/24", "ip_version": 4}})
    assert sub["gateway_ip"] == "172.16.100.1"
    assert sub["allocation_pools"] == [{"start": "172.16.100.2", "end": "172.16.100.254"}]
    assert sub["enable_dhcp"] is True and sub["ip_version"] == 4
    assert sub["host_routes"] == [] and sub["dns_nameservers"] == []
    assert cloud.get_network(admin, net["id"])["subnets"] == [sub["id"]]
    assert cloud.get_ports(admin) == []  # no DHCP port
    assert driver.last("create_subnet")[0]["id"] == sub["id"]
    ext = cloud.create_subnet(admin, {"network_id": net["id"], "cidr": "10.0.2.0/24",
                                      "enable_dhcp": False, "gateway_ip": "10.0.2.2",
                                      "allocation_pools": [{"start": "10.0.2.210",
                                                            "end": "10.0.2.220"}],
                                      "dns_nameservers": ["8.8.8.8"]})
    assert ext["allocation_pools"] == [{"start": "10.0.2.210", "end": "10.0.2.220"}]
    assert ext["dns_nameservers"] == ["8.8.8.8"]
    nogw = cloud.create_subnet(admin, {"network_id": net["id"], "cidr": "192.168.0.0/29",
                                       "gateway_ip": None})
    assert nogw["gateway_ip"] is None
    assert nogw["allocation_pools"] == [{"start": "192.168.0.1", "end": "192.168.0.6"}]


def test_subnet_validation_errors(cloud: Cloud, admin: Context) -> None:
    net = cloud.create_network(admin, {"name": "n1"})
    first = cloud.create_subnet(admin, {"network_id": net["id"], "cidr": "172.16.100.0/24"})
    nid = net["id"]
    cases: list[tuple[dict[str, Any], int, str, str]] = [
        ({"cidr": "172.16.100.0/25"}, 400, "InvalidInput",
         f"Invalid input for operation: Requested subnet with cidr: 172.16.100.0/25 for network: "
         f"{nid} overlaps with another subnet."),
        ({"cidr": "10.1.0.5/24"}, 400, "HTTPBadRequest",
         "Invalid input for cidr. Reason: '10.1.0.5/24' isn't a recognized IP subnet cidr, "
         "'10.1.0.0/24' is recommended."),
        ({"cidr": "not-a-cidr"}, 400, "HTTPBadRequest",
         "Invalid input for cidr. Reason: 'not-a-cidr' is not a valid IP subnet."),
        ({"cidr": "10.1.0.0/24", "gateway_ip": "10.1.0.255"}, 400, "InvalidInput",
         "Invalid input for operation: Gateway is not valid on subnet."),
        ({"cidr": "10.1.0.0/24", "gateway_ip": "10.1.0.300"}, 400, "HTTPBadRequest",
         "Invalid input for gateway_ip. Reason: '10.1.0.300' is not a valid IP address."),
        ({"cidr": "10.1.0.0/24", "allocation_pools": [{"start": "10.1.0.10",
                                                       "end": "10.1.1.10"}]}, 400,
         "OutOfBoundsAllocationPool",
         "The allocation pool 10.1.0.10-10.1.1.10 spans beyond the subnet cidr 10.1.0.0/24."),
        ({"cidr": "10.1.0.0/24", "gateway_ip": "10.1.0.5",
          "allocation_pools": [{"start": "10.1.0.2", "end": "10.1.0.9"}]}, 409,
         "GatewayConflictWithAllocationPools",
         "Gateway ip 10.1.0.5 conflicts with allocation pool 10.1.0.2-10.1.0.9."),
        ({"cidr": "10.1.0.0/24", "ip_version": 6}, 400, "InvalidInput",
         "Invalid input for operation: cidr '10.1.0.0/24' does not match the ip_version '6'."),
        ({"cidr": "10.1.0.0/31"}, 400, "InvalidInput", "Invalid input for operation: Subnet has "
         "a prefix length that is incompatible with DHCP service enabled."),
    ]
    for body, status, type_, message in cases:
        fails(cloud, lambda b=body: cloud.create_subnet(admin, {"network_id": nid, **b}),  # type: ignore[misc]
              status, type_, message)
    fails(cloud, lambda: cloud.create_subnet(admin, {"network_id": "nope", "cidr": "10.9.0.0/24"}),
          404, "NetworkNotFound", "Network nope could not be found.")
    fails(cloud, lambda: cloud.update_subnet(admin, first["id"], {"cidr": "10.0.0.0/24"}),
          400, "HTTPBadRequest", "Cannot update read-only attribute cidr")


def test_off_subnet_gateway_is_accepted_as_neutron_does(cloud: Cloud, admin: Context) -> None:
    net = cloud.create_network(admin, {"name": "n1"})
    sub = cloud.create_subnet(admin, {"network_id": net["id"], "cidr": "10.1.0.0/24",
                                      "gateway_ip": "192.168.7.1"})
    assert sub["allocation_pools"] == [{"start": "10.1.0.1", "end": "10.1.0.254"}]


def test_in_use_deletes(cloud: Cloud, admin: Context) -> None:
    net = cloud.create_network(admin, {"name": "n1"})
    sub = cloud.create_subnet(admin, {"network_id": net["id"], "cidr": "10.1.0.0/24"})
    port = cloud.create_port(admin, {"network_id": net["id"]})
    fails(cloud, lambda: cloud.delete_network(admin, net["id"]), 409, "NetworkInUse",
          f"Unable to complete operation on network {net['id']}. There are one or more ports "
          "still in use on the network.")
    fails(cloud, lambda: cloud.delete_subnet(admin, sub["id"]), 409, "SubnetInUse",
          f"Unable to complete operation on subnet {sub['id']}: One or more ports have an IP "
          "allocation from this subnet.")
    cloud.delete_port(admin, port["id"])
    cloud.delete_network(admin, net["id"])  # its subnets go with it
    assert cloud.get_subnets(admin) == [] and cloud.get_networks(admin) == []


def test_update_network(cloud: Cloud, admin: Context, driver: RecordingDriver) -> None:
    net = cloud.create_network(admin, {"name": "n1"})
    updated = cloud.update_network(admin, net["id"], {"network": {"name": "n2", "mtu": 1400}})
    assert (updated["name"], updated["mtu"], updated["revision_number"]) == ("n2", 1400, 2)
    new, old = driver.last("update_network")
    assert (new["name"], old["name"]) == ("n2", "n1")
    fails(cloud, lambda: cloud.update_network(admin, net["id"],
                                              {"provider:segmentation_id": 99}),
          400, "InvalidInput")
