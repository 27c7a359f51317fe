"""Nova's deprecated os-security-groups proxies over Neutron (microversions up to 2.35)."""

from __future__ import annotations

from api_helpers import Client, snapshot

C = "/compute/v2.1"
N = "/networking/v2.0"


def test_groups_and_rules_through_nova_are_neutrons(demo: Client) -> None:
    r = demo.post(f"{C}/os-security-groups", {"security_group": {"name": "web",
                                                                 "description": "w"}})
    assert r.status == 200, r.body
    sg = r.body["security_group"]
    assert (sg["name"], sg["description"], sg["rules"]) == ("web", "w", [])  # egress hidden
    r = demo.post(f"{C}/os-security-group-rules", {"security_group_rule": {
        "parent_group_id": sg["id"], "ip_protocol": "tcp", "from_port": 22, "to_port": 22,
        "cidr": "10.0.0.0/8"}})
    assert r.status == 200, r.body
    rule = r.body["security_group_rule"]
    assert (rule["ip_protocol"], rule["from_port"], rule["to_port"], rule["ip_range"]) == (
        "tcp", 22, 22, {"cidr": "10.0.0.0/8"})
    neutron = demo.get(f"{N}/security-group-rules/{rule['id']}").body["security_group_rule"]
    assert (neutron["direction"], neutron["port_range_min"], neutron["remote_ip_prefix"]) == (
        "ingress", 22, "10.0.0.0/8")
    icmp = demo.post(f"{C}/os-security-group-rules", {"security_group_rule": {
        "parent_group_id": sg["id"], "ip_protocol": "icmp", "from_port": -1,
        "to_port": -1, "group_id": sg["id"]}}).body["security_group_rule"]
    assert (icmp["from_port"], icmp["group"]["name"], icmp["ip_range"]) == (-1, "web", {})
    shown = demo.get(f"{C}/os-security-groups/{sg['id']}").body["security_group"]
    assert {r["id"] for r in shown["rules"]} == {rule["id"], icmp["id"]}
    r = demo.put(f"{C}/os-security-groups/{sg['id']}", {"security_group": {
        "name": "web2", "description": "x"}})
    assert r.status == 200 and r.body["security_group"]["name"] == "web2"
    assert demo.delete(f"{C}/os-security-group-rules/{rule['id']}").status == 202
    assert demo.delete(f"{C}/os-security-groups/{sg['id']}").status == 202
    assert demo.get(f"{N}/security-groups/{sg['id']}").status == 404
    # gone from 2.36 on
    r = demo.get(f"{C}/os-security-groups",
                 headers={"OpenStack-API-Version": "compute 2.36"})
    assert r.status == 404


def test_proxy_errors_are_novas_and_change_nothing(demo: Client, cloud) -> None:
    sg = demo.post(f"{C}/os-security-groups", {"security_group": {
        "name": "a", "description": "a"}}).body["security_group"]
    demo.post(f"{C}/os-security-group-rules", {"security_group_rule": {
        "parent_group_id": sg["id"], "ip_protocol": "tcp", "from_port": 22, "to_port": 22}})
    default = [g for g in demo.get(f"{C}/os-security-groups").body["security_groups"]
               if g["name"] == "default"][0]
    before = snapshot(cloud)
    for body in ({"name": "", "description": "x"}, {"name": " ", "description": "x"},
                 {"name": "x" * 256, "description": "x"}):
        assert demo.post(f"{C}/os-security-groups", {"security_group": body}).status == 400
    rules = (({"parent_group_id": "nope", "ip_protocol": "tcp", "from_port": 22,
               "to_port": 22}, 400),
             ({"parent_group_id": sg["id"], "ip_protocol": "tcp", "from_port": 22,
               "to_port": 22}, 400),  # duplicate
             ({"parent_group_id": sg["id"], "ip_protocol": "gre", "from_port": 1,
               "to_port": 2}, 400),
             ({"parent_group_id": sg["id"], "ip_protocol": "tcp", "from_port": 0,
               "to_port": 2}, 400),
             ({"parent_group_id": sg["id"], "ip_protocol": "tcp", "from_port": 30,
               "to_port": 20}, 400),
             ({"parent_group_id": "6e3c7a9e-0c43-4b0a-9d3f-1f0f2b1c0d99",
               "ip_protocol": "tcp", "from_port": 22, "to_port": 22}, 404))
    for rule, status in rules:
        r = demo.post(f"{C}/os-security-group-rules", {"security_group_rule": rule})
        assert r.status == status and set(r.body) == {
            "badRequest" if status == 400 else "itemNotFound"}, (rule, r.body)
    r = demo.delete(f"{C}/os-security-groups/{default['id']}")
    assert r.status == 400 and "default security group" in r.body["badRequest"]["message"]
    assert demo.put(f"{C}/os-security-groups/not-a-uuid", {"security_group": {
        "name": "a", "description": "b"}}).status == 400
    assert demo.get(f"{C}/os-security-groups/6e3c7a9e-0c43-4b0a-9d3f-1f0f2b1c0d99"
                    ).status == 404
    assert snapshot(cloud) == before


def _external(client: Client) -> str:
    net = client.post(f"{N}/networks", {"network": {
        "name": "public", "router:external": True}}).body["network"]["id"]
    client.post(f"{N}/subnets", {"subnet": {"network_id": net, "cidr": "10.0.2.0/24",
                                            "ip_version": 4, "enable_dhcp": False}})
    return str(net)


def test_floating_ips_through_nova(client: Client, demo: Client, cloud) -> None:
    ext = _external(client)
    net = demo.post(f"{N}/networks", {"network": {"name": "n1"}}).body["network"]["id"]
    sub = demo.post(f"{N}/subnets", {"subnet": {"network_id": net, "cidr": "172.16.1.0/24",
                                                "ip_version": 4}}).body["subnet"]["id"]
    rid = demo.post(f"{N}/routers", {"router": {"name": "r", "external_gateway_info": {
        "network_id": ext}}}).body["router"]["id"]
    demo.put(f"{N}/routers/{rid}/add_router_interface", {"subnet_id": sub})
    image = demo.get("/image/v2/images").body["images"][0]["id"]
    sid = demo.post(f"{C}/servers", {"server": {"name": "vm", "imageRef": image,
                                                "flavorRef": "42",
                                                "networks": [{"uuid": net}]}}
                    ).body["server"]["id"]
    r = demo.post(f"{C}/os-floating-ips", {"pool": "public"})
    assert r.status == 200, r.body
    fip = r.body["floating_ip"]
    assert (fip["pool"], fip["fixed_ip"], fip["instance_id"]) == ("public", None, None)
    act = f"{C}/servers/{sid}/action"
    assert demo.post(act, {"addFloatingIp": {"address": fip["ip"]}}).status == 202
    shown = demo.get(f"{C}/os-floating-ips/{fip['id']}").body["floating_ip"]
    assert shown["instance_id"] == sid and shown["fixed_ip"].startswith("172.16.1.")
    neutron = demo.get(f"{N}/floatingips/{fip['id']}").body["floatingip"]
    assert neutron["fixed_ip_address"] == shown["fixed_ip"]
    before = snapshot(cloud)
    assert demo.post(act, {"addFloatingIp": {"address": "10.9.9.9"}}).status == 404
    assert demo.post(act, {"addFloatingIp": {}}).status == 400
    assert demo.post(f"{C}/os-floating-ips", {"pool": "nope"}).status == 404
    assert demo.get(f"{C}/os-floating-ips/nope").status == 404
    assert snapshot(cloud) == before
    assert demo.post(act, {"removeFloatingIp": {"address": fip["ip"]}}).status == 202
    assert demo.post(act, {"removeFloatingIp": {"address": fip["ip"]}}).status == 409
    assert demo.delete(f"{C}/os-floating-ips/{fip['id']}").status == 202
    assert demo.get(f"{N}/floatingips/{fip['id']}").status == 404
