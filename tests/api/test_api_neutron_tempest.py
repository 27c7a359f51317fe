"""Neutron behaviours Tempest's tempest.api.network checks, through the REST API."""

from __future__ import annotations

from typing import Any

from api_helpers import Client, snapshot

N = "/networking/v2.0"


def _ext_net(client: Client) -> tuple[dict[str, Any], dict[str, Any]]:
    net = client.post(f"{N}/networks", {"network": {"name": "ext",
                                                    "router:external": True}}).body["network"]
    sub = client.post(f"{N}/subnets", {"subnet": {
        "network_id": net["id"], "cidr": "10.0.2.0/24", "ip_version": 4,
        "enable_dhcp": False}}).body["subnet"]
    return net, sub


def test_empty_external_gateway_info_clears_the_gateway(client: Client) -> None:
    ext, _ = _ext_net(client)
    rid = client.post(f"{N}/routers", {"router": {"name": "r", "external_gateway_info": {
        "network_id": ext["id"]}}}).body["router"]["id"]
    gw_ports = client.get(f"{N}/ports?device_id={rid}").body["ports"]
    assert [p["device_owner"] for p in gw_ports] == ["network:router_gateway"]
    r = client.put(f"{N}/routers/{rid}", {"router": {"external_gateway_info": {}}})
    assert r.status == 200, r.body
    assert r.body["router"]["external_gateway_info"] is None
    assert client.get(f"{N}/ports?device_id={rid}").body["ports"] == []
    # {} on create is "no gateway", as Neutron's dict_or_nodata reads it
    r = client.post(f"{N}/routers", {"router": {"name": "r2", "external_gateway_info": {}}})
    assert r.status == 201 and r.body["router"]["external_gateway_info"] is None
    # a non-empty dict still needs its network_id
    r = client.put(f"{N}/routers/{rid}", {"router": {"external_gateway_info": {
        "enable_snat": False}}})
    assert r.status == 400


def test_external_subnets_hidden_from_other_projects(client: Client, demo: Client) -> None:
    ext, sub = _ext_net(client)
    assert [n["id"] for n in demo.get(f"{N}/networks").body["networks"]] == [ext["id"]]
    assert demo.get(f"{N}/subnets?network_id={ext['id']}").body["subnets"] == []
    assert demo.get(f"{N}/subnets/{sub['id']}").status == 404
    client.put(f"{N}/networks/{ext['id']}", {"network": {"shared": True}})
    assert [s["id"] for s in demo.get(f"{N}/subnets").body["subnets"]] == [sub["id"]]


def test_deleting_external_network_deletes_its_unassociated_fips(client: Client) -> None:
    ext, _ = _ext_net(client)
    fip = client.post(f"{N}/floatingips", {"floatingip": {
        "floating_network_id": ext["id"]}}).body["floatingip"]
    assert client.delete(f"{N}/networks/{ext['id']}").status == 204
    assert client.get(f"{N}/floatingips/{fip['id']}").status == 404
    assert client.get(f"{N}/ports").body["ports"] == []


def test_deleting_external_network_with_associated_fip_is_refused(client: Client,
                                                                   cloud) -> None:
    ext, _ = _ext_net(client)
    net = client.post(f"{N}/networks", {"network": {"name": "n1"}}).body["network"]
    sub = client.post(f"{N}/subnets", {"subnet": {"network_id": net["id"],
                                                  "cidr": "172.16.100.0/24",
                                                  "ip_version": 4}}).body["subnet"]
    rid = client.post(f"{N}/routers", {"router": {"name": "r", "external_gateway_info": {
        "network_id": ext["id"]}}}).body["router"]["id"]
    client.put(f"{N}/routers/{rid}/add_router_interface", {"subnet_id": sub["id"]})
    port = client.post(f"{N}/ports", {"port": {"network_id": net["id"]}}).body["port"]
    client.post(f"{N}/floatingips", {"floatingip": {"floating_network_id": ext["id"],
                                                    "port_id": port["id"]}})
    client.post(f"{N}/floatingips", {"floatingip": {"floating_network_id": ext["id"]}})
    before = snapshot(cloud)
    r = client.delete(f"{N}/networks/{ext['id']}")
    assert r.status == 409 and r.body["NeutronError"]["type"] == "NetworkInUse"
    assert snapshot(cloud) == before


def test_security_group_rule_port_errors_word_as_neutron(client: Client, cloud) -> None:
    sid = client.post(f"{N}/security-groups", {"security_group": {
        "name": "sg"}}).body["security_group"]["id"]
    before = snapshot(cloud)
    for pmin, pmax, text in ((-16, 80, "Invalid value for port -16"),
                             (80, 79, "port_range_min must be <= port_range_max"),
                             (80, 65536, "Invalid value for port 65536"),
                             (None, 6, "port_range_min must be <= port_range_max"),
                             ("x", 6, "Invalid value for port x")):
        r = client.post(f"{N}/security-group-rules", {"security_group_rule": {
            "security_group_id": sid, "direction": "ingress", "protocol": "tcp",
            "port_range_min": pmin, "port_range_max": pmax}})
        assert r.status == 400 and text in r.body["NeutronError"]["message"], (pmin, pmax)
    for pmin, pmax, text in ((1, 256, "Invalid value for ICMP code (port_range_max) 256"),
                             (-1, 25, "Invalid value for port -1"),
                             (None, 6, "ICMP type (port-range-min) is missing"),
                             (300, 1, "Invalid value for ICMP type (port_range_min) 300")):
        r = client.post(f"{N}/security-group-rules", {"security_group_rule": {
            "security_group_id": sid, "direction": "ingress", "protocol": "icmp",
            "port_range_min": pmin, "port_range_max": pmax}})
        assert r.status == 400 and text in r.body["NeutronError"]["message"], (pmin, pmax)
    assert snapshot(cloud) == before


def test_bulk_create_networks_subnets_ports(client: Client) -> None:
    r = client.post(f"{N}/networks", {"networks": [{"name": "a"}, {"name": "b"}]})
    assert r.status == 201, r.body
    a, b = r.body["networks"]
    assert (a["name"], b["name"]) == ("a", "b") and a["id"] != b["id"]
    r = client.post(f"{N}/subnets", {"subnets": [
        {"network_id": a["id"], "cidr": "10.1.0.0/24", "ip_version": 4},
        {"network_id": b["id"], "cidr": "10.2.0.0/24", "ip_version": 4}]})
    assert r.status == 201 and [s["cidr"] for s in r.body["subnets"]] == ["10.1.0.0/24",
                                                                           "10.2.0.0/24"]
    r = client.post(f"{N}/ports", {"ports": [{"network_id": a["id"]},
                                             {"network_id": b["id"]}]})
    assert r.status == 201 and len(r.body["ports"]) == 2


def test_bulk_create_is_all_or_nothing(client: Client, cloud) -> None:
    # the second item fails in the model (overlapping CIDR), after the first was created
    net = client.post(f"{N}/networks", {"network": {"name": "a"}}).body["network"]
    before = snapshot(cloud)
    r = client.post(f"{N}/subnets", {"subnets": [
        {"network_id": net["id"], "cidr": "10.1.0.0/24", "ip_version": 4},
        {"network_id": net["id"], "cidr": "10.1.0.0/25", "ip_version": 4}]})
    assert r.status == 400 and snapshot(cloud) == before
    # the second item fails validation: nothing is attempted
    r = client.post(f"{N}/networks", {"networks": [{"name": "x"}, {"name": 5}]})
    assert r.status == 400 and snapshot(cloud) == before
    for bad in ({"networks": []}, {"networks": {"name": "x"}}, {"networks": [], "x": 1}):
        r = client.post(f"{N}/networks", bad)
        assert r.status == 400 and snapshot(cloud) == before, bad
    assert client.post(f"{N}/networks", {"networks": []}).body["NeutronError"]["message"] == (
        "Resources required")


def test_sorting_and_pagination(client: Client) -> None:
    for name in ("c", "a", "b", "d", "e"):
        client.post(f"{N}/networks", {"network": {"name": name}})
    names = [n["name"] for n in client.get(
        f"{N}/networks?sort_key=name&sort_dir=desc").body["networks"]]
    assert names == ["e", "d", "c", "b", "a"]
    r = client.get(f"{N}/networks?sort_key=name&sort_dir=asc&limit=2")
    assert [n["name"] for n in r.body["networks"]] == ["a", "b"]
    links = {link["rel"]: link["href"] for link in r.body["networks_links"]}
    assert set(links) == {"next", "previous"}
    seen = []
    href = f"{N}/networks?sort_key=name&sort_dir=asc&limit=2"
    while href:
        body = client.get(href).body
        seen += [n["name"] for n in body["networks"]]
        nxt = [lk["href"] for lk in body["networks_links"] if lk["rel"] == "next"]
        href = nxt[0].split("lab.test:5000", 1)[1] if nxt else ""
    assert seen == ["a", "b", "c", "d", "e"]
    # backwards from the last page
    last = client.get(f"{N}/networks?sort_key=name&sort_dir=asc&limit=2&marker="
                      f"{client.get(N + '/networks?name=d').body['networks'][0]['id']}")
    assert [n["name"] for n in last.body["networks"]] == ["e"]
    prev = [lk["href"] for lk in last.body["networks_links"] if lk["rel"] == "previous"][0]
    back = client.get(prev.split("lab.test:5000", 1)[1]).body["networks"]
    assert [n["name"] for n in back] == ["c", "d"]


def test_bad_sorting_and_paging_are_400(client: Client) -> None:
    for query, text in (("sort_key=nope", "nope is invalid attribute for sort_key"),
                        ("sort_key=name&sort_dir=up", "up is invalid value for sort_dir"),
                        ("sort_dir=asc", "The number of sort_keys and sort_dirs must be same"),
                        ("limit=-2", "Limit must be an integer 0 or greater and not '-2'"),
                        ("limit=x", "Limit must be an integer")):
        r = client.get(f"{N}/networks?{query}")
        assert r.status == 400 and text in r.body["NeutronError"]["message"], query


def test_null_routes_clear_the_extra_routes(client: Client) -> None:
    net = client.post(f"{N}/networks", {"network": {"name": "n"}}).body["network"]
    sub = client.post(f"{N}/subnets", {"subnet": {"network_id": net["id"],
                                                  "cidr": "10.9.0.0/24",
                                                  "ip_version": 4}}).body["subnet"]
    rid = client.post(f"{N}/routers", {"router": {"name": "r"}}).body["router"]["id"]
    client.put(f"{N}/routers/{rid}/add_router_interface", {"subnet_id": sub["id"]})
    routes = [{"destination": "10.10.0.0/24", "nexthop": "10.9.0.5"}]
    r = client.put(f"{N}/routers/{rid}", {"router": {"routes": routes}})
    assert r.status == 200 and r.body["router"]["routes"] == routes
    r = client.put(f"{N}/routers/{rid}", {"router": {"routes": None}})
    assert r.status == 200 and r.body["router"]["routes"] == []


def test_tags_replace_add_remove_and_filter(client: Client, demo: Client, cloud) -> None:
    a = client.post(f"{N}/networks", {"network": {"name": "a"}}).body["network"]["id"]
    b = client.post(f"{N}/networks", {"network": {"name": "b"}}).body["network"]["id"]
    r = client.put(f"{N}/networks/{a}/tags", {"tags": ["red", "blue"]})
    assert r.status == 200 and r.body == {"tags": ["red", "blue"]}
    assert client.put(f"{N}/networks/{b}/tags/red").status == 201
    assert client.get(f"{N}/networks/{b}/tags/red").status == 204
    r = client.get(f"{N}/networks/{b}/tags/green")
    assert r.status == 404 and r.body["NeutronError"]["message"] == (
        f"Tag green could not be found for network {b}.")
    assert client.get(f"{N}/networks/{a}").body["network"]["tags"] == ["red", "blue"]

    def names(q: str) -> list[str]:
        return sorted(n["name"] for n in client.get(f"{N}/networks?{q}").body["networks"])
    assert names("tags=red,blue") == ["a"]
    assert names("tags-any=blue,red") == ["a", "b"]
    assert names("not-tags=red,blue") == ["b"]
    assert names("not-tags-any=blue") == ["b"]
    assert client.delete(f"{N}/networks/{a}/tags/blue").status == 204
    assert client.get(f"{N}/networks/{a}/tags").body == {"tags": ["red"]}
    assert client.delete(f"{N}/networks/{a}/tags").status == 204
    assert client.get(f"{N}/networks/{a}/tags").body == {"tags": []}
    before = snapshot(cloud)
    for body in ({"tags": ["x", "x"]}, {"tag": []}, {"tags": "x"}, {"tags": ["x" * 256]}):
        r = client.put(f"{N}/networks/{b}/tags", body)
        assert r.status == 400 and r.body["NeutronError"]["type"] == "InvalidInput", body
    # another project: the network is not there for it
    assert demo.put(f"{N}/networks/{b}/tags/mine").status == 404
    assert snapshot(cloud) == before
