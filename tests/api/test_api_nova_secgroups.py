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
