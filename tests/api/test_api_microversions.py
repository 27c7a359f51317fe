"""A server is shown as the requested Nova microversion shows it: each field from the
microversion that introduced it, the flavor as {id, links} before 2.47."""

from __future__ import annotations

from api_helpers import Client

C = "/compute/v2.1"
N = "/networking/v2.0"

BASE = {"id", "name", "status", "tenant_id", "user_id", "metadata", "hostId", "image",
        "flavor", "created", "updated", "addresses", "accessIPv4", "accessIPv6", "links",
        "OS-DCF:diskConfig", "progress", "key_name", "config_drive",
        "OS-EXT-AZ:availability_zone", "OS-EXT-STS:vm_state", "OS-EXT-STS:task_state",
        "OS-EXT-STS:power_state", "OS-SRV-USG:launched_at", "OS-SRV-USG:terminated_at",
        "os-extended-volumes:volumes_attached", "security_groups"}


def _server(client: Client) -> str:
    net = client.post(f"{N}/networks", {"network": {"name": "n1"}}).body["network"]["id"]
    client.post(f"{N}/subnets", {"subnet": {"network_id": net, "cidr": "172.16.100.0/24",
                                            "ip_version": 4}})
    image = client.get("/image/v2/images").body["images"][0]["id"]
    r = client.post(f"{C}/servers", {"server": {"name": "vm", "imageRef": image,
                                                "flavorRef": "42",
                                                "networks": [{"uuid": net}]}})
    assert r.status == 202, r.body
    return str(r.body["server"]["id"])


def _show(c: Client, sid: str, version: str) -> dict:
    r = c.get(f"{C}/servers/{sid}", headers={"OpenStack-API-Version": f"compute {version}"})
    assert r.status == 200 and r.headers["openstack-api-version"] == f"compute {version}"
    return r.body["server"]


def test_fields_follow_the_microversion(demo: Client) -> None:
    sid = _server(demo)
    s = _show(demo, sid, "2.1")
    assert set(s) == BASE
    assert set(s["flavor"]) == {"id", "links"} and s["flavor"]["id"] == "42"
    assert set(_show(demo, sid, "2.9")) == BASE | {"locked"}
    assert set(_show(demo, sid, "2.26")) == BASE | {"locked", "description", "tags"}
    assert "original_name" in _show(demo, sid, "2.47")["flavor"]
    assert set(_show(demo, sid, "2.73")) == BASE | {
        "locked", "description", "tags", "trusted_image_certificates", "server_groups",
        "locked_reason"}
    newest = _show(demo, sid, "2.96")
    assert set(newest) == BASE | {
        "locked", "description", "tags", "trusted_image_certificates", "server_groups",
        "locked_reason", "OS-EXT-SRV-ATTR:hostname", "pinned_availability_zone"}
    # no microversion header is 2.1; detail listings follow the same rules
    assert set(demo.get(f"{C}/servers/{sid}").body["server"]) == BASE
    listed = demo.get(f"{C}/servers/detail",
                      headers={"OpenStack-API-Version": "compute 2.19"}).body["servers"]
    assert set(listed[0]) == BASE | {"locked", "description"}


def test_admin_sees_extended_attributes_from_2_3(client: Client) -> None:
    sid = _server(client)
    old = _show(client, sid, "2.1")
    assert {k for k in old if k.startswith("OS-EXT-SRV-ATTR:")} == {
        "OS-EXT-SRV-ATTR:host", "OS-EXT-SRV-ATTR:hypervisor_hostname",
        "OS-EXT-SRV-ATTR:instance_name"}
    assert "OS-EXT-SRV-ATTR:root_device_name" in _show(client, sid, "2.3")
    assert "host_status" not in _show(client, sid, "2.15")
    assert "host_status" in _show(client, sid, "2.16")


def test_update_server_ips_and_metadata(demo: Client) -> None:
    sid = _server(demo)
    r = demo.put(f"{C}/servers/{sid}", {"server": {"name": "renamed",
                                                   "accessIPv4": "1.1.1.1"}})
    assert r.status == 200, r.body
    assert (r.body["server"]["name"], r.body["server"]["accessIPv4"]) == ("renamed", "1.1.1.1")
    # the update view leaves out the extended attributes, status, AZ and groups
    assert not [k for k in r.body["server"] if k.startswith(("OS-EXT", "OS-SRV"))]
    assert "security_groups" not in r.body["server"]
    r = demo.put(f"{C}/servers/{sid}", {"server": {"accessIPv6": "0:0:0:0:0:babe:220.12.22.2"}})
    assert r.body["server"]["accessIPv6"] == "::babe:dc0c:1602"
    assert r.headers["x-compute-request-id"] == r.headers["x-openstack-request-id"]
    r = demo.put(f"{C}/servers/{sid}", {"server": {"accessIPv6": "1.1.1.1"}})
    assert r.status == 400 and "is not a 'ipv6'" in r.body["badRequest"]["message"]
    # description needs 2.19
    assert demo.put(f"{C}/servers/{sid}", {"server": {"description": "d"}}).status == 400
    r = demo.put(f"{C}/servers/{sid}", {"server": {"description": "d"}},
                 headers={"OpenStack-API-Version": "compute 2.19"})
    assert r.status == 200 and r.body["server"]["description"] == "d"
    assert demo.get(f"{C}/servers/{sid}/ips").body["addresses"]["n1"][0]["version"] == 4
    assert list(demo.get(f"{C}/servers/{sid}/ips/n1").body) == ["n1"]
    assert demo.get(f"{C}/servers/{sid}/ips/nope").status == 404
    meta = f"{C}/servers/{sid}/metadata"
    assert demo.put(meta, {"metadata": {"a": "1", "b": "2"}}).body == {
        "metadata": {"a": "1", "b": "2"}}
    assert demo.post(meta, {"metadata": {"c": "3"}}).body["metadata"] == {
        "a": "1", "b": "2", "c": "3"}
    assert demo.put(f"{meta}/a", {"meta": {"a": "9"}}).body == {"meta": {"a": "9"}}
    assert demo.get(f"{meta}/a").body == {"meta": {"a": "9"}}
    assert demo.put(f"{meta}/a", {"meta": {"b": "9"}}).status == 400
    assert demo.delete(f"{meta}/b").status == 204
    assert demo.get(f"{meta}/b").status == 404
    assert demo.get(meta).body == {"metadata": {"a": "9", "c": "3"}}


def test_a_server_in_no_security_group_has_no_security_groups_key(demo: Client) -> None:
    sid = _server(demo)
    assert _show(demo, sid, "2.1")["security_groups"] == [{"name": "default"}]
    r = demo.post(f"{C}/servers/{sid}/action", {"removeSecurityGroup": {"name": "default"}})
    assert r.status == 202
    assert "security_groups" not in _show(demo, sid, "2.1")


def test_access_addresses_on_create(demo: Client, cloud) -> None:
    net = demo.post(f"{N}/networks", {"network": {"name": "n1"}}).body["network"]["id"]
    demo.post(f"{N}/subnets", {"subnet": {"network_id": net, "cidr": "172.16.100.0/24",
                                          "ip_version": 4}})
    image = demo.get("/image/v2/images").body["images"][0]["id"]
    body = {"name": "vm", "imageRef": image, "flavorRef": "42", "networks": [{"uuid": net}]}
    for bad in ({"accessIPv4": "1.1.1.1.1"}, {"accessIPv6": "notv6"},
                {"accessIPv6": "1.1.1.1"}):
        r = demo.post(f"{C}/servers", {"server": {**body, **bad}})
        assert r.status == 400 and "accessIPv" in r.body["badRequest"]["message"], bad
    r = demo.post(f"{C}/servers", {"server": {**body, "accessIPv4": "1.1.1.1",
                                              "accessIPv6": "0:0:0:0:0:babe:220.12.22.2"}})
    s = demo.get(f"{C}/servers/{r.body['server']['id']}").body["server"]
    assert (s["accessIPv4"], s["accessIPv6"]) == ("1.1.1.1", "::babe:dc0c:1602")


def test_server_list_filters_and_paging(demo: Client) -> None:
    first = _server(demo)
    net = demo.get(f"{N}/networks?name=n1").body["networks"][0]["id"]
    image = demo.get("/image/v2/images").body["images"][0]["id"]
    ids = [first] + [demo.post(f"{C}/servers", {"server": {
        "name": f"vm{i}", "imageRef": image, "flavorRef": "42",
        "networks": [{"uuid": net}]}}).body["server"]["id"] for i in range(2)]

    def listed(q: str) -> list[str]:
        return [s["id"] for s in demo.get(f"{C}/servers/detail?{q}").body["servers"]]
    assert listed("flavor=42") == ids and listed("flavor=1") == []
    assert listed(f"image={image}") == ids
    addr = demo.get(f"{C}/servers/{ids[1]}").body["server"]["addresses"]["n1"][0]["addr"]
    assert listed(f"ip={addr.replace('.', '[.]')}$") == [ids[1]]
    assert listed("limit=0") == []
    body = demo.get(f"{C}/servers?limit=2").body
    assert [s["id"] for s in body["servers"]] == ids[:2]
    assert body["servers_links"][0]["href"].endswith(f"limit=2&marker={ids[1]}")
    assert listed(f"marker={ids[1]}") == ids[2:]
    for q in ("limit=-1", "limit=x", "marker=nope"):
        assert demo.get(f"{C}/servers?{q}").status == 400, q
