from __future__ import annotations

from typing import Any

from api_helpers import Client, snapshot

C = "/compute/v2.1"

N = "/networking/v2.0"
MV = {"OpenStack-API-Version": "compute 2.96", "X-OpenStack-Nova-API-Version": "2.96"}


def _image(cloud: Any) -> str:
    return str(cloud.nova.get_images(cloud.admin_context(), {"name": ["cirros"]})[0]["id"])


def _project(cloud: Any, name: str) -> str:
    return str(next(p["id"] for p in cloud.identity.get_projects() if p["name"] == name))


def _network(client: Client) -> str:
    nid = client.post(f"{N}/networks", {"network": {"name": "n1"}}).body["network"]["id"]
    client.post(f"{N}/subnets", {"subnet": {"network_id": nid, "cidr": "172.16.100.0/24",
                                            "ip_version": 4}})
    return str(nid)


def _create(client: Client, cloud: Any, name: str = "vm_1", nid: str | None = None,
            **extra: Any) -> Any:
    nid = nid or _network(client)
    body = {"server": {"name": name, "imageRef": _image(cloud), "flavorRef": "42",
                       "min_count": 1, "max_count": 1,
                       "networks": [{"uuid": nid, "fixed_ip": "172.16.100.10"}],
                       "block_device_mapping_v2": [{"uuid": _image(cloud), "boot_index": 0,
                                                    "source_type": "image",
                                                    "destination_type": "local",
                                                    "delete_on_termination": True}],
                       **extra}}
    return client.post(f"{C}/servers", body, headers=MV)


def test_version_document_with_and_without_slash(make_client) -> None:
    c = make_client()
    for path in (C, C + "/"):
        r = c.get(path)
        assert r.status == 200
        v = r.body["version"]
        assert (v["min_version"], v["version"]) == ("2.1", "2.96")
        assert v["links"][0] == {"rel": "self", "href": "http://lab.test:5000/compute/v2.1/"}
    assert c.get("/compute").body["versions"][0]["id"] == "v2.1"


def test_microversion_negotiation(client: Client) -> None:
    r = client.get(f"{C}/flavors/detail?is_public=None", headers={
        "OpenStack-API-Version": "compute 2.61"})
    assert r.status == 200 and r.headers["openstack-api-version"] == "compute 2.61"
    r = client.get(f"{C}/flavors/detail", headers={"X-OpenStack-Nova-API-Version": "latest"})
    assert r.headers["x-openstack-nova-api-version"] == "2.96"
    r = client.get(f"{C}/flavors/detail", headers={"OpenStack-API-Version": "compute 3.0"})
    assert r.status == 406 and "maximum is 2.96" in r.body["computeFault"]["message"]
    r = client.get(f"{C}/flavors/detail", headers={"OpenStack-API-Version": "compute two"})
    assert r.status == 400 and "invalid format" in r.body["badRequest"]["message"]


def test_server_create_show_list_delete(client: Client, cloud) -> None:
    r = _create(client, cloud)
    assert r.status == 202, r.body
    s = r.body["server"]
    assert set(s) == {"id", "links", "adminPass", "OS-DCF:diskConfig", "security_groups"}
    sid = s["id"]
    port = client.get(f"{N}/ports?device_id={sid}").body["ports"][0]
    assert port["fixed_ips"][0]["ip_address"] == "172.16.100.10"
    assert port["device_owner"] == "compute:nova"
    shown = client.get(f"{C}/servers/{sid}", headers=MV).body["server"]
    assert shown["flavor"]["original_name"] == "m1.nano"
    assert shown["image"]["id"] == _image(cloud) and shown["image"]["links"]
    assert shown["addresses"]["n1"][0]["addr"] == "172.16.100.10"
    assert shown["tenant_id"] == _project(cloud, "admin")
    assert shown["OS-EXT-SRV-ATTR:host"] in ("compute1", "compute2")
    listed = client.get(f"{C}/servers/detail?name=vm_1&deleted=False", headers=MV)
    assert [x["id"] for x in listed.body["servers"]] == [sid]
    assert client.get(f"{C}/servers/detail?name=^vm_[0-9]$").body["servers"][0]["id"] == sid
    assert client.get(f"{C}/servers/detail?name=vm_2").body["servers"] == []
    assert client.get(f"{C}/servers/detail?name=(").status == 200
    assert client.get(f"{C}/servers").body["servers"][0]["name"] == "vm_1"
    r = client.get(f"{C}/servers/vm_1")
    assert r.status == 404
    assert r.body == {"itemNotFound": {"code": 404,
                                       "message": "Instance vm_1 could not be found."}}
    assert client.delete(f"{C}/servers/{sid}").status == 204
    assert client.get(f"{C}/servers/{sid}").status == 404


def test_non_admin_sees_no_host_and_cannot_force_host(demo: Client, client: Client,
                                                       cloud) -> None:
    nid = _network(demo)
    before = snapshot(cloud)
    r = _create(demo, cloud, nid=nid, availability_zone="nova:compute2")
    assert r.status == 403
    assert "forced_host" in r.body["forbidden"]["message"]
    assert snapshot(cloud) == before
    r = _create(client, cloud, name="vm_9", availability_zone="nova:compute2")
    assert r.status == 202
    host = client.get(f"{C}/servers/{r.body['server']['id']}").body["server"]
    assert host["OS-EXT-SRV-ATTR:host"] == "compute2"
    sid = _create(demo, cloud, name="vm_2", nid=nid).body["server"]["id"]
    shown = demo.get(f"{C}/servers/{sid}").body["server"]
    assert not any(k.startswith("OS-EXT-SRV-ATTR:") for k in shown)


def test_server_create_validation(client: Client, cloud) -> None:
    nid = _network(client)
    before = snapshot(cloud)
    good = {"name": "v", "imageRef": _image(cloud), "flavorRef": "42",
            "networks": [{"uuid": nid}]}
    cases = [
        ({"name": "v"}, "'flavorRef' is a required property"),
        ({**good, "name": ""}, "is too short"),
        ({**good, "name": 7}, "is not of type 'string'"),
        ({**good, "networks": "everything"}, "is not one of"),
        ({**good, "networks": [{"net": nid}]}, "networks"),
        ({**good, "security_groups": "default"}, "security_groups"),
        ({**good, "min_count": 3, "max_count": 2}, "min_count must be <= max_count"),
        ({**good, "max_count": 2, "networks": [{"uuid": nid, "fixed_ip": "172.16.100.9"}]},
         "max_count cannot be greater than 1 if an fixed_ip is specified"),
        ({**good, "surprise": 1}, "Additional properties are not allowed"),
        ({**good, "flavorRef": "m1.huge"}, "Invalid flavorRef provided."),
        ({**good, "imageRef": ""}, "Block Device Mapping is Invalid"),
        ({**good, "imageRef": "ubuntu"}, "Image ubuntu could not be found."),
        ({**good, "availability_zone": "elsewhere"}, "availability zone is not available"),
        ({**good, "networks": [{"uuid": nid, "fixed_ip": "10.9.9.9"}]}, "10.9.9.9"),
        ({**good, "networks": [{"uuid": "nope"}]}, "Network nope could not be found."),
    ]
    for body, message in cases:
        r = client.post(f"{C}/servers", {"server": body})
        assert r.status == 400, (body, r.body)
        assert message in r.body["badRequest"]["message"], (body, r.body)
        assert r.body["badRequest"]["code"] == 400
    assert client.post(f"{C}/servers", raw=b"nope").status == 400
    assert snapshot(cloud) == before


def test_security_group_actions(client: Client, cloud) -> None:
    sid = _create(client, cloud).body["server"]["id"]
    client.post(f"{N}/security-groups", {"security_group": {"name": "allow-icmp-ssh"}})
    r = client.post(f"{C}/servers/{sid}/action", {"addSecurityGroup": {"name":
                                                                       "allow-icmp-ssh"}})
    assert r.status == 202 and r.raw == b""
    groups = client.get(f"{C}/servers/{sid}").body["server"]["security_groups"]
    assert {"name": "allow-icmp-ssh"} in groups
    r = client.post(f"{C}/servers/{sid}/action", {"addSecurityGroup": {"name": "X"}})
    assert r.status == 404
    assert r.body == {"itemNotFound": {"code": 404, "message": "Security group X not found "
                                       f"for project {_project(cloud, 'admin')}."}}
    r = client.post(f"{C}/servers/{sid}/action", {"removeSecurityGroup": {"name":
                                                                          "allow-icmp-ssh"}})
    assert r.status == 202
    for body in ({"reboot": {"type": "WARM"}}, {"addSecurityGroup": {}}, [], {"a": 1, "b": 2}):
        r = client.post(f"{C}/servers/{sid}/action", body)
        assert r.status == 400 and "badRequest" in r.body, body
    r = client.post(f"{C}/servers/vm_1/action", {"addSecurityGroup": {"name": "default"}})
    assert r.status == 404


def test_flavors_and_hypervisors(client: Client, demo: Client) -> None:
    flavors = client.get(f"{C}/flavors/detail?is_public=None").body["flavors"]
    assert ("42", "m1.nano") in [(f["id"], f["name"]) for f in flavors]
    assert flavors[0]["os-flavor-access:is_public"] is True
    assert client.get(f"{C}/flavors/42").body["flavor"]["ram"] == 128
    assert client.get(f"{C}/flavors").body["flavors"][0]["links"][0]["href"].startswith(
        "http://lab.test:5000/compute/v2.1/flavors/")
    r = client.get(f"{C}/flavors/m1.nano")
    assert r.status == 404 and "itemNotFound" in r.body
    hyp = client.get(f"{C}/os-hypervisors/detail", headers={
        "OpenStack-API-Version": "compute 2.88"}).body["hypervisors"]
    assert [h["hypervisor_hostname"] for h in hyp] == ["compute1", "compute2"]
    assert all(len(h["id"]) == 36 and h["state"] == "up" for h in hyp)
    assert "vcpus" not in hyp[0]
    assert client.get(f"{C}/os-hypervisors/{hyp[0]['id']}").status == 200
    r = demo.get(f"{C}/os-hypervisors/detail")
    assert r.status == 403 and "forbidden" in r.body


def test_glance_discovery_list_filters_and_show(client: Client, cloud) -> None:
    r = client.get("/image", token=False)
    assert r.status == 300
    assert r.body["versions"][0]["links"][0]["href"] == "http://lab.test:5000/image/v2/"
    iid = _image(cloud)
    r = client.get("/image/v2/images?name=cirros")
    assert r.status == 200
    assert set(r.body) == {"images", "schema", "first"}
    img = r.body["images"][0]
    assert (img["id"], img["name"], img["status"]) == (iid, "cirros", "active")
    assert client.get("/image/v2/images?name=ubuntu").body["images"] == []
    assert len(client.get(f"/image/v2/images?id=in:{iid},other").body["images"]) == 1
    assert client.get("/image/v2/images?id=in:a,b").body["images"] == []
    assert client.get(f"/image/v2/images/{iid}").body["name"] == "cirros"
    r = client.get("/image/v2/images/cirros")
    assert r.status == 404 and "No image found" in r.body["message"]


def test_availability_zones(client: Client, demo: Client) -> None:
    zones = client.get(f"{C}/os-availability-zone").body["availabilityZoneInfo"]
    assert zones == [{"zoneName": "nova", "zoneState": {"available": True}, "hosts": None}]
    detail = client.get(f"{C}/os-availability-zone/detail").body["availabilityZoneInfo"]
    assert sorted(detail[0]["hosts"]) == ["compute1", "compute2"]
    assert demo.get(f"{C}/os-availability-zone/detail").status == 403


def test_all_tenants_is_admin_only(demo: Client, client: Client) -> None:
    """Nova's servers:index/detail:get_all_tenants policy; is_all_tenants' parsing."""
    for path, rule in (("servers?all_tenants=1", "index"), ("servers/detail?all_tenants=", "detail"),
                       ("servers?all_tenants=True", "index")):
        r = demo.get(f"/compute/v2.1/{path}")
        assert r.status == 403 and r.body["forbidden"]["message"] == (
            f"Policy doesn't allow os_compute_api:servers:{rule}:get_all_tenants to be "
            "performed."), path
    assert demo.get("/compute/v2.1/servers?all_tenants=0").status == 200
    assert client.get("/compute/v2.1/servers/detail?all_tenants=1").status == 200
    r = demo.get("/compute/v2.1/servers?all_tenants=maybe")
    assert r.status == 400 and "Unrecognized value 'maybe'" in r.body["badRequest"]["message"]
