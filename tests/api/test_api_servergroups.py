"""Nova's server groups and multi-create through the REST API: the policies the scheduler
applies (affinity shares a host, anti-affinity never does, NoValidHost leaves the server in
ERROR without ports), the microversion-shaped group, and one reservation for min/max_count."""

from __future__ import annotations

from typing import Any

from api_helpers import Client, snapshot

from ovnlab.cloud import Cloud

C = "/compute/v2.1"
N = "/networking/v2.0"
V264 = {"OpenStack-API-Version": "compute 2.64"}
ADMIN_MV = {"OpenStack-API-Version": "compute 2.71"}


def _net(c: Client) -> str:
    net = c.post(f"{N}/networks", {"network": {"name": "n"}}).body["network"]["id"]
    c.post(f"{N}/subnets", {"subnet": {"network_id": net, "cidr": "10.8.0.0/24",
                                       "ip_version": 4}})
    return str(net)


def _boot(c: Client, net: str, name: str, group: str | None = None, **extra: Any) -> Any:
    image = c.get("/image/v2/images").body["images"][0]["id"]
    body: dict[str, Any] = {"server": {"name": name, "imageRef": image, "flavorRef": "42",
                                       "networks": [{"uuid": net}], **extra}}
    if group:
        body["os:scheduler_hints"] = {"group": group}
    return c.post(f"{C}/servers", body)


def _host(c: Client, sid: str) -> str:
    return str(c.get(f"{C}/servers/{sid}").body["server"]["OS-EXT-SRV-ATTR:host"])


def _group(c: Client, policy: str) -> dict[str, Any]:
    r = c.post(f"{C}/os-server-groups", {"server_group": {"name": policy,
                                                           "policies": [policy]}})
    assert r.status == 200, r.body
    return dict(r.body["server_group"])


def test_group_views_follow_the_microversion(client: Client) -> None:
    old = _group(client, "affinity")
    assert old == {"id": old["id"], "name": "affinity", "policies": ["affinity"],
                   "members": [], "metadata": {}}
    r = client.post(f"{C}/os-server-groups", {"server_group": {
        "name": "spread", "policy": "anti-affinity", "rules": {"max_server_per_host": 2}}},
        headers=V264)
    new = r.body["server_group"]
    assert (new["policy"], new["rules"], "policies" in new) == (
        "anti-affinity", {"max_server_per_host": 2}, False)
    listed = client.get(f"{C}/os-server-groups").body["server_groups"]
    assert [g["id"] for g in listed] == [old["id"], new["id"]]
    assert client.get(f"{C}/os-server-groups/{old['id']}").body["server_group"] == old
    assert client.delete(f"{C}/os-server-groups/{old['id']}").status == 204
    r = client.get(f"{C}/os-server-groups/{old['id']}")
    assert r.status == 404
    assert r.body["itemNotFound"]["message"] == f"Instance group {old['id']} could not be found."


def test_affinity_and_anti_affinity_place_servers(client: Client) -> None:
    net = _net(client)
    together, apart = _group(client, "affinity"), _group(client, "anti-affinity")
    a1 = _boot(client, net, "a1", together["id"]).body["server"]["id"]
    a2 = _boot(client, net, "a2", together["id"]).body["server"]["id"]
    assert _host(client, a1) == _host(client, a2)
    b1 = _boot(client, net, "b1", apart["id"]).body["server"]["id"]
    b2 = _boot(client, net, "b2", apart["id"]).body["server"]["id"]
    assert _host(client, b1) != _host(client, b2)
    members = client.get(f"{C}/os-server-groups/{apart['id']}").body["server_group"]["members"]
    assert sorted(members) == sorted([b1, b2])
    shown = client.get(f"{C}/servers/{b1}", headers=ADMIN_MV).body["server"]
    assert shown["server_groups"] == [apart["id"]]
    # two compute nodes, both taken: the third is NoValidHost, in ERROR with no port
    b3 = _boot(client, net, "b3", apart["id"])
    assert b3.status == 202
    failed = client.get(f"{C}/servers/{b3.body['server']['id']}").body["server"]
    assert failed["status"] == "ERROR"
    assert failed["fault"]["message"].startswith("No valid host was found.")
    assert client.get(f"{N}/ports?device_id={failed['id']}").body["ports"] == []
    assert client.delete(f"{C}/servers/{b1}").status == 204
    members = client.get(f"{C}/os-server-groups/{apart['id']}").body["server_group"]["members"]
    assert b1 not in members


def test_bad_groups_and_hints_change_nothing(client: Client, demo: Client,
                                             cloud: Cloud) -> None:
    net = _net(client)
    group = _group(client, "affinity")
    before = snapshot(cloud), client.get(f"{C}/os-server-groups").body
    for body, headers in (({"server_group": {"name": "x", "policies": ["soft-affinity"]}},
                           {}),  # 2.15+
                          ({"server_group": {"name": "x", "policies": ["affinity",
                                                                       "anti-affinity"]}}, {}),
                          ({"server_group": {"name": "x", "policy": "affinity"}}, {}),
                          ({"server_group": {"name": "x", "policy": "affinity",
                                             "rules": {"max_server_per_host": 2}}}, V264),
                          ({"server_group": {"name": " x", "policies": ["affinity"]}}, {}),
                          ({"server_group": {"policies": ["affinity"]}}, {})):
        r = client.post(f"{C}/os-server-groups", body, headers=headers)
        assert r.status == 400, body
    assert _boot(client, net, "s", "not-a-uuid").status == 400
    assert _boot(client, net, "s", "8a2ef1c0-0000-4000-8000-000000000000").status == 400
    assert demo.get(f"{C}/os-server-groups/{group['id']}").status == 404
    assert (snapshot(cloud), client.get(f"{C}/os-server-groups").body) == before


def test_multi_create_shares_a_reservation(client: Client) -> None:
    net = _net(client)
    r = _boot(client, net, "many", min_count=2, max_count=3)
    assert r.status == 202 and "reservation_id" not in r.body
    servers = client.get(f"{C}/servers/detail", headers=ADMIN_MV).body["servers"]
    assert sorted(s["name"] for s in servers) == ["many-1", "many-2", "many-3"]
    assert len({s["OS-EXT-SRV-ATTR:reservation_id"] for s in servers}) == 1
    assert sorted(s["OS-EXT-SRV-ATTR:launch_index"] for s in servers) == [0, 1, 2]
    assert r.body["server"]["id"] == next(s["id"] for s in servers if s["name"] == "many-1")
    r = _boot(client, net, "two", min_count=2, return_reservation_id=True)
    assert r.status == 202
    rid = r.body["reservation_id"]
    assert rid.startswith("r-") and set(r.body) == {"reservation_id"}
    named = [s for s in client.get(f"{C}/servers/detail", headers=ADMIN_MV).body["servers"]
             if s["OS-EXT-SRV-ATTR:reservation_id"] == rid]
    assert sorted(s["name"] for s in named) == ["two-1", "two-2"]
    one = _boot(client, net, "single", max_count=1).body["server"]["id"]
    assert client.get(f"{C}/servers/{one}").body["server"]["name"] == "single"
