"""Neutron's subnet pools (subnet_allocation) through the REST API: CRUD, tags, subnets
allocated by prefix length or by CIDR from a pool, and Neutron's errors, which change
nothing."""

from __future__ import annotations

from typing import Any

from api_helpers import Client, snapshot

from ovnlab.cloud import Cloud

N = "/networking/v2.0"


def _pool(c: Client, **body: Any) -> Any:
    return c.post(f"{N}/subnetpools", {"subnetpool": {"name": "p", **body}})


def _net(c: Client, name: str = "n") -> str:
    return str(c.post(f"{N}/networks", {"network": {"name": name}}).body["network"]["id"])


def _subnet(c: Client, net: str, **body: Any) -> Any:
    return c.post(f"{N}/subnets", {"subnet": {"network_id": net, "ip_version": 4, **body}})


def test_extension_is_advertised(client: Client) -> None:
    aliases = [e["alias"] for e in client.get(f"{N}/extensions").body["extensions"]]
    assert "subnet_allocation" in aliases


def test_create_show_update_delete(client: Client) -> None:
    r = _pool(client, prefixes=["10.10.0.0/16", "10.11.0.0/16", "10.10.4.0/24"])
    assert r.status == 201, r.body
    pool = r.body["subnetpool"]
    # overlapping and adjacent prefixes are compacted, as IPSet.compact() does
    assert pool["prefixes"] == ["10.10.0.0/15"]
    assert (pool["ip_version"], pool["min_prefixlen"], pool["max_prefixlen"],
            pool["default_prefixlen"]) == (4, 8, 32, 8)
    assert (pool["shared"], pool["is_default"], pool["default_quota"]) == (False, False, None)
    pid = pool["id"]
    assert client.get(f"{N}/subnetpools/{pid}").body["subnetpool"]["name"] == "p"
    r = client.put(f"{N}/subnetpools/{pid}", {"subnetpool": {
        "name": "q", "prefixes": ["10.10.0.0/15", "192.168.0.0/16"], "default_prefixlen": 24}})
    assert r.status == 200, r.body
    assert r.body["subnetpool"]["prefixes"] == ["10.10.0.0/15", "192.168.0.0/16"]
    assert r.body["subnetpool"]["default_prefixlen"] == 24
    assert [p["name"] for p in client.get(f"{N}/subnetpools").body["subnetpools"]] == ["q"]
    assert client.put(f"{N}/subnetpools/{pid}/tags/blue").status == 201
    assert client.get(f"{N}/subnetpools?tags=blue").body["subnetpools"][0]["id"] == pid
    assert client.delete(f"{N}/subnetpools/{pid}").status == 204
    r = client.get(f"{N}/subnetpools/{pid}")
    assert r.status == 404
    assert r.body["NeutronError"]["message"] == f"Subnet pool {pid} could not be found."


def test_subnets_take_their_cidr_from_the_pool(client: Client) -> None:
    pool = _pool(client, prefixes=["10.20.0.0/22"], default_prefixlen=24,
                 max_prefixlen=28).body["subnetpool"]
    net = _net(client)
    first = _subnet(client, net, subnetpool_id=pool["id"])
    assert first.status == 201, first.body
    s1 = first.body["subnet"]
    assert (s1["cidr"], s1["subnetpool_id"], s1["gateway_ip"]) == (
        "10.20.0.0/24", pool["id"], "10.20.0.1")
    s2 = _subnet(client, _net(client, "n2"), subnetpool_id=pool["id"], prefixlen=26).body["subnet"]
    assert s2["cidr"] == "10.20.1.0/26"  # the smallest free block that fits comes first
    s3 = _subnet(client, _net(client, "n3"), subnetpool_id=pool["id"],
                 cidr="10.20.2.0/24").body["subnet"]
    assert s3["cidr"] == "10.20.2.0/24"
    r = _subnet(client, _net(client, "n4"), subnetpool_id=pool["id"], cidr="10.20.2.0/25")
    assert r.status == 500  # Neutron answers SubnetAllocationError with a 500
    assert r.body["NeutronError"]["type"] == "SubnetAllocationError"
    r = client.delete(f"{N}/subnetpools/{pool['id']}")
    assert r.status == 400
    assert r.body["NeutronError"]["message"] == (
        "Unable to delete subnet pool: Subnet pool has existing allocations.")
    for sid in (s1["id"], s2["id"], s3["id"]):
        assert client.delete(f"{N}/subnets/{sid}").status == 204
    assert client.delete(f"{N}/subnetpools/{pool['id']}").status == 204


def test_the_default_pool_serves_use_default_subnetpool(client: Client, demo: Client) -> None:
    net = _net(demo)
    r = _subnet(demo, net, use_default_subnetpool=True)
    assert r.status == 400
    assert r.body["NeutronError"]["message"] == (
        "Bad subnets request: No default subnetpool found for IPv4.")
    assert _pool(demo, prefixes=["10.30.0.0/16"], is_default=True).status == 403
    pool = _pool(client, prefixes=["10.30.0.0/16"], is_default=True, shared=True,
                 default_prefixlen=24).body["subnetpool"]
    s = _subnet(demo, net, use_default_subnetpool=True).body["subnet"]
    assert (s["cidr"], s["subnetpool_id"]) == ("10.30.0.0/24", pool["id"])
    assert demo.put(f"{N}/subnetpools/{pool['id']}", {"subnetpool": {"name": "x"}}).status == 403


def test_bad_requests_change_nothing(client: Client, demo: Client, cloud: Cloud) -> None:
    pool = _pool(client, prefixes=["10.40.0.0/16"], default_prefixlen=24).body["subnetpool"]
    net, demo_net = _net(client), _net(demo, "d")
    before = snapshot(cloud), client.get(f"{N}/subnetpools").body
    cases = [
        (_pool(client, prefixes=[]), 400, "Empty subnet pool prefix list."),
        (_pool(client, prefixes=["10.0.0.0/8", "fd00::/8"]), 400,
         "Cannot mix IPv4 and IPv6 prefixes in a subnet pool."),
        (_pool(client, prefixes=["10.0.0.0/8"], min_prefixlen=24, max_prefixlen=16), 400,
         "Illegal prefix bounds: min_prefixlen=24, max_prefixlen=16."),
        (_pool(client, prefixes=["10.0.0.0/8"], max_prefixlen=33), 400,
         "Illegal prefix bounds: max_prefixlen=33, ip_version_max=32."),
        (_pool(client, name="x"), 400,
         "Failed to parse request. Required attribute 'prefixes' not specified"),
        (client.put(f"{N}/subnetpools/{pool['id']}",
                    {"subnetpool": {"prefixes": ["10.41.0.0/16"]}}), 400,
         "Illegal subnetpool prefix update: Existing prefixes must be a subset of the new "
         "prefixes."),
        (_subnet(client, net), 400,
         "Bad subnets request: a subnetpool must be specified in the absence of a cidr."),
        (_subnet(client, net, subnetpool_id=pool["id"], prefixlen=4), 400,
         "Unable to allocate subnet with prefix length 4, minimum allowed prefix is 8."),
        (_subnet(client, net, subnetpool_id=pool["id"], prefixlen=8), 500,
         "Failed to allocate subnet: Insufficient prefix space to allocate subnet size /8."),
        (_subnet(client, net, subnetpool_id=pool["id"], cidr="10.40.1.0/24", prefixlen=24),
         400, "Bad subnets request: cidr and prefixlen must not be supplied together."),
        (_subnet(client, net, subnetpool_id="nope"), 404,
         "Subnet pool nope could not be found."),
        (_subnet(demo, demo_net, subnetpool_id=pool["id"]), 404,
         f"Subnet pool {pool['id']} could not be found."),
        (demo.get(f"{N}/subnetpools/{pool['id']}"), 404,
         f"Subnet pool {pool['id']} could not be found."),
    ]
    for reply, status, message in cases:
        assert reply.status == status, reply.body
        assert reply.body["NeutronError"]["message"] == message
    assert (snapshot(cloud), client.get(f"{N}/subnetpools").body) == before
