from __future__ import annotations

from typing import Any

from api_helpers import Client, snapshot

N = "/networking/v2.0"


def _net(client: Client, name: str, **attrs: Any) -> dict[str, Any]:
    r = client.post(f"{N}/networks", {"network": {"name": name, **attrs}})
    assert r.status == 201, r.body
    return r.body["network"]


def test_version_discovery_and_resources(client: Client) -> None:
    r = client.get("/networking", token=False)
    assert r.status == 200
    assert r.body["versions"][0]["links"][0]["href"] == "http://lab.test:5000/networking/v2.0/"
    r = client.get(N)
    assert {x["collection"] for x in r.body["resources"]} >= {"networks", "security_groups"}


def test_extensions_never_advertise_multihoming(client: Client) -> None:
    aliases = {e["alias"] for e in client.get(f"{N}/extensions").body["extensions"]}
    assert {"router", "external-net", "provider", "security-group"} <= aliases
    assert "external-gateway-multihoming" not in aliases
    r = client.get(f"{N}/extensions/external-gateway-multihoming")
    assert r.status == 404 and r.body["NeutronError"]["type"] == "HTTPNotFound"
    assert client.get(f"{N}/extensions/router").body["extension"]["alias"] == "router"


def test_create_converts_string_segment_and_wraps(client: Client, cloud) -> None:
    net = _net(client, "n1", **{"provider:network_type": "geneve",
                                "provider:segmentation_id": "123", "admin_state_up": True})
    assert net["provider:segmentation_id"] == 123
    r = client.get(f"{N}/networks/{net['id']}")
    assert r.status == 200 and r.body["network"]["name"] == "n1"
    assert r.headers["content-type"] == "application/json"


def test_filters_name_device_id_bool_and_fields(client: Client) -> None:
    a = _net(client, "n1")
    _net(client, "n2", **{"router:external": True})
    _net(client, "n1")
    names = client.get(f"{N}/networks?name=n1").body["networks"]
    assert len(names) == 2 and {n["name"] for n in names} == {"n1"}
    ext = client.get(f"{N}/networks?router:external=True").body["networks"]
    assert [n["name"] for n in ext] == ["n2"]
    both = client.get(f"{N}/networks?name=n1&name=n2&unknown_attr=x").body["networks"]
    assert len(both) == 3
    r = client.get(f"{N}/networks?fields=id&fields=name&id={a['id']}")
    assert r.body["networks"] == [{"id": a["id"], "name": "n1"}]
    client.post(f"{N}/subnets", {"subnet": {"network_id": a["id"], "cidr": "10.1.0.0/24",
                                            "ip_version": 4}})
    port = client.post(f"{N}/ports", {"port": {"network_id": a["id"], "device_id": "dev-1"}})
    assert port.status == 201
    ip = port.body["port"]["fixed_ips"][0]["ip_address"]
    assert [p["id"] for p in client.get(f"{N}/ports?device_id=dev-1").body["ports"]] == [
        port.body["port"]["id"]]
    assert client.get(f"{N}/ports?device_id=other").body["ports"] == []
    assert len(client.get(f"{N}/ports?fixed_ips=ip_address={ip}").body["ports"]) == 1
    assert client.get(f"{N}/ports?fixed_ips=ip_address=1.1.1.1").body["ports"] == []


def test_names_tried_as_ids_are_404(client: Client) -> None:
    for coll, typ in (("networks", "NetworkNotFound"), ("subnets", "SubnetNotFound"),
                      ("routers", "RouterNotFound"), ("floatingips", "FloatingIPNotFound"),
                      ("ports", "PortNotFound"), ("security-groups", "SecurityGroupNotFound")):
        r = client.get(f"{N}/{coll}/n1")
        assert r.status == 404
        assert r.body["NeutronError"]["type"] == typ
        assert r.body["NeutronError"]["detail"] == ""


def test_bad_bodies_are_400_and_change_nothing(client: Client, cloud, driver) -> None:
    before = snapshot(cloud)
    cases = [
        (b"{", "Malformed request body"),
        (b"", "Malformed request body"),
        (b"\xff\xfe", "Malformed request body"),
        (b"[]", "Unable to find 'network' in request body"),
        (b'{"net": {}}', "Unable to find 'network' in request body"),
        (b'{"network": 5}', "Invalid input for network"),
        (b'{"network": {"name": 5}}', "Invalid input for name. Reason: '5' is not a valid "
                                      "string."),
        (b'{"network": {"bogus": 1}}', "Unrecognized attribute(s) 'bogus'"),
        (b'{"network": {"provider:segmentation_id": "12x"}}', "is not an integer"),
        (b'{"network": {"admin_state_up": "maybe"}}', "cannot be converted to boolean"),
        (b'{"network": {"provider:network_type": "ethernet"}}', "Invalid input for provider"),
        (b'{"network": {}, "x": 1}', "Unrecognized attribute(s) 'x'"),
    ]
    for raw, message in cases:
        r = client.post(f"{N}/networks", raw=raw)
        assert r.status == 400, (raw, r.body)
        assert message in r.body["NeutronError"]["message"], (raw, r.body)
    subnet_cases = [
        ({"network_id": "x", "ip_version": 4},
         "a subnetpool must be specified in the absence of a cidr"),
        ({"network_id": "x", "ip_version": 5, "cidr": "10.0.0.0/24"}, "ip_version"),
        ({"network_id": "x", "ip_version": 4, "cidr": "10.0.0.0/33"}, "not a valid IP subnet"),
        ({"network_id": "x", "ip_version": 4, "cidr": "10.0.0.0/24", "gateway_ip": "x"},
         "not a valid IP address"),
        ({"network_id": "x", "ip_version": 4, "cidr": "10.0.0.0/24",
          "allocation_pools": [{"start": "10.0.0.5"}]}, "Expected keys"),
        ({"network_id": "x", "ip_version": 4, "cidr": "10.0.0.0/24", "dns_nameservers": "x"},
         "is not a list"),
    ]
    for body, message in subnet_cases:
        r = client.post(f"{N}/subnets", {"subnet": body})
        assert r.status == 400 and message in r.body["NeutronError"]["message"], (body, r.body)
    r = client.put(f"{N}/subnets/whatever", {"subnet": {"cidr": "10.0.0.0/24"}})
    assert r.status == 400
    assert r.body["NeutronError"]["message"] == "Cannot update read-only attribute cidr"
    assert snapshot(cloud) == before
    assert driver.calls == []


def test_update_and_delete(client: Client) -> None:
    net = _net(client, "n1")
    r = client.put(f"{N}/networks/{net['id']}", {"network": {"name": "renamed"}})
    assert r.status == 200 and r.body["network"]["name"] == "renamed"
    r = client.delete(f"{N}/networks/{net['id']}")
    assert r.status == 204 and r.raw == b""
    assert client.get(f"{N}/networks/{net['id']}").status == 404
    assert client.delete(f"{N}/networks/{net['id']}").status == 404


def test_router_interface_bare_bodies(client: Client) -> None:
    net = _net(client, "n1")
    sub = client.post(f"{N}/subnets", {"subnet": {
        "network_id": net["id"], "cidr": "172.16.100.0/24", "ip_version": 4}}).body["subnet"]
    router = client.post(f"{N}/routers", {"router": {"name": "r"}}).body["router"]
    rid = router["id"]
    r = client.put(f"{N}/routers/{rid}/add_router_interface", {"subnet_id": sub["id"]})
    assert r.status == 200 and r.body["subnet_id"] == sub["id"] and r.body["port_id"]
    r = client.put(f"{N}/routers/{rid}/add_router_interface", {"subnet_id": sub["id"]})
    assert r.status == 400 and "already has a port" in r.body["NeutronError"]["message"]
    other = _net(client, "n2")
    sub2 = client.post(f"{N}/subnets", {"subnet": {
        "network_id": other["id"], "cidr": "172.16.0.0/16", "ip_version": 4}}).body["subnet"]
    r = client.put(f"{N}/routers/{rid}/add_router_interface", {"subnet_id": sub2["id"]})
    assert r.status == 400 and "overlaps" in r.body["NeutronError"]["message"]
    for body, msg in (({}, "Either subnet_id or port_id"), ([], "Either subnet_id"),
                      ({"subnet_id": 1}, "not a valid string"),
                      ({"subnet_id": "a", "port_id": "b"}, "Cannot specify both"),
                      ({"router": {}}, "Unrecognized attribute")):
        r = client.put(f"{N}/routers/{rid}/add_router_interface", body)
        assert r.status == 400 and msg in r.body["NeutronError"]["message"], body
    r = client.put(f"{N}/routers/{rid}/remove_router_interface", {"subnet_id": sub["id"]})
    assert r.status == 200
    r = client.put(f"{N}/routers/{rid}/remove_router_interface", {"subnet_id": sub["id"]})
    assert r.status == 404
    assert client.put(f"{N}/routers/nope/add_router_interface",
                      {"subnet_id": sub["id"]}).status == 404


def test_external_gateway_update(client: Client) -> None:
    ext = _net(client, "ext", **{"router:external": True})
    client.post(f"{N}/subnets", {"subnet": {"network_id": ext["id"], "cidr": "10.0.2.0/24",
                                            "ip_version": "4", "enable_dhcp": False}})
    rid = client.post(f"{N}/routers", {"router": {"name": "r"}}).body["router"]["id"]
    r = client.put(f"{N}/routers/{rid}", {"router": {
        "external_gateway_info": {"network_id": ext["id"]}}})
    assert r.status == 200
    gw = r.body["router"]["external_gateway_info"]
    assert gw["network_id"] == ext["id"] and gw["external_fixed_ips"]
    r = client.put(f"{N}/routers/{rid}", {"router": {"external_gateway_info": {"x": 1}}})
    assert r.status == 400


def test_security_group_rules(client: Client) -> None:
    sg = client.post(f"{N}/security-groups", {"security_group": {
        "name": "allow-icmp-ssh", "description": "allow-icmp-ssh"}})
    assert sg.status == 201
    assert {r["direction"] for r in sg.body["security_group"]["security_group_rules"]} == {
        "egress"}
    sid = sg.body["security_group"]["id"]
    r = client.post(f"{N}/security-group-rules", {"security_group_rule": {
        "security_group_id": sid, "direction": "ingress", "ethertype": "IPv4",
        "protocol": "tcp", "port_range_min": 22, "port_range_max": "22",
        "remote_ip_prefix": "0.0.0.0/0"}})
    assert r.status == 201
    assert r.body["security_group_rule"]["port_range_max"] == 22
    r = client.post(f"{N}/security-group-rules", {"security_group_rule": {
        "security_group_id": sid, "direction": "ingress", "protocol": "carrier-pigeon"}})
    assert r.status == 400
    assert r.body["NeutronError"]["type"] == "SecurityGroupRuleInvalidProtocol"
    r = client.post(f"{N}/security-group-rules", {"security_group_rule": {
        "security_group_id": sid, "direction": "sideways"}})
    assert r.status == 400
    got = client.get(f"{N}/security-groups?name=allow-icmp-ssh").body["security_groups"]
    assert len(got[0]["security_group_rules"]) == 3


def test_policy_errors_come_back_as_neutron_errors(client: Client, demo: Client) -> None:
    r = demo.post(f"{N}/networks", {"network": {"name": "p", "provider:network_type": "flat",
                                                "provider:physical_network": "extnet0"}})
    assert r.status == 403
    assert r.body["NeutronError"]["type"] == "PolicyNotAuthorized"
    assert demo.get(f"{N}/networks").body["networks"] == []
