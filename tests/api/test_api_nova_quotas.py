"""Nova's quota sets (metadata_items and key_pairs enforced), the server password a guest
never posted, and the changes-since / changes-before list filters, through the REST API."""

from __future__ import annotations

from api_helpers import Client, snapshot

from ovnlab.cloud import Cloud

C = "/compute/v2.1"
N = "/networking/v2.0"


def _project(c: Client, name: str) -> str:
    return str(next(p["id"] for p in c.get("/identity/v3/projects").body["projects"]
                    if p["name"] == name))


def _server(c: Client, **extra: object) -> object:
    net = c.post(f"{N}/networks", {"network": {"name": "n"}}).body["network"]["id"]
    c.post(f"{N}/subnets", {"subnet": {"network_id": net, "cidr": "10.6.0.0/24",
                                       "ip_version": 4}})
    image = c.get("/image/v2/images").body["images"][0]["id"]
    return c.post(f"{C}/servers", {"server": {"name": "s", "imageRef": image,
                                              "flavorRef": "42", "networks": [{"uuid": net}],
                                              **extra}})


def test_quota_sets_show_and_an_admin_sets_them(client: Client, demo: Client) -> None:
    demo_project = _project(client, "demo")
    shown = demo.get(f"{C}/os-quota-sets/{demo_project}").body["quota_set"]
    assert (shown["id"], shown["metadata_items"], shown["instances"]) == (demo_project, 128, 10)
    assert "floating_ips" in shown  # the network proxies' limits, until 2.36
    newer = demo.get(f"{C}/os-quota-sets/{demo_project}",
                     headers={"OpenStack-API-Version": "compute 2.57"}).body["quota_set"]
    assert "floating_ips" not in newer and "injected_files" not in newer
    assert demo.get(f"{C}/os-quota-sets/{_project(client, 'admin')}").status == 403
    assert demo.put(f"{C}/os-quota-sets/{demo_project}",
                    {"quota_set": {"metadata_items": 1}}).status == 403
    r = client.put(f"{C}/os-quota-sets/{demo_project}", {"quota_set": {"metadata_items": 1}})
    assert r.status == 200 and r.body["quota_set"]["metadata_items"] == 1
    assert client.put(f"{C}/os-quota-sets/{demo_project}",
                      {"quota_set": {"metadata_items": -2}}).status == 400
    detail = demo.get(f"{C}/os-quota-sets/{demo_project}/detail").body["quota_set"]
    assert detail["metadata_items"] == {"limit": 1, "in_use": 0, "reserved": 0}
    assert client.delete(f"{C}/os-quota-sets/{demo_project}").status == 202
    assert demo.get(f"{C}/os-quota-sets/{demo_project}").body["quota_set"][
        "metadata_items"] == 128


def test_metadata_beyond_the_quota_is_refused(client: Client, cloud: Cloud) -> None:
    sid = _server(client).body["server"]["id"]
    client.put(f"{C}/os-quota-sets/{_project(client, 'admin')}",
               {"quota_set": {"metadata_items": 2}})
    before = snapshot(cloud), client.get(f"{C}/servers/{sid}/metadata").body
    three = {"metadata": {"a": "1", "b": "2", "c": "3"}}
    for r in (client.put(f"{C}/servers/{sid}/metadata", three),
              client.post(f"{C}/servers/{sid}/metadata", three)):
        assert r.status == 403
        assert r.body["forbidden"]["message"] == "Maximum number of metadata items exceeds 2"
    assert (snapshot(cloud), client.get(f"{C}/servers/{sid}/metadata").body) == before
    assert _server(client, metadata={"a": "1", "b": "2", "c": "3"}).status == 403
    assert client.put(f"{C}/servers/{sid}/metadata",
                      {"metadata": {"a": "1", "b": "2"}}).status == 200


def test_key_pairs_beyond_the_quota_are_refused(client: Client) -> None:
    client.put(f"{C}/os-quota-sets/{_project(client, 'admin')}",
               {"quota_set": {"key_pairs": 1}})
    assert client.post(f"{C}/os-keypairs", {"keypair": {"name": "one"}}).status == 200
    r = client.post(f"{C}/os-keypairs", {"keypair": {"name": "two"}})
    assert r.status == 403 and r.body["forbidden"]["message"] == (
        "Quota exceeded, too many key pairs.")


def test_server_password_is_empty_and_clearable(client: Client, demo: Client) -> None:
    sid = _server(client).body["server"]["id"]
    assert client.get(f"{C}/servers/{sid}/os-server-password").body == {"password": ""}
    assert client.delete(f"{C}/servers/{sid}/os-server-password").status == 204
    assert demo.get(f"{C}/servers/{sid}/os-server-password").status == 404


def test_changes_since_and_before(client: Client) -> None:
    sid = _server(client).body["server"]["id"]
    updated = client.get(f"{C}/servers/{sid}").body["server"]["updated"]
    since = client.get(f"{C}/servers?changes-since={updated}").body["servers"]
    assert [s["id"] for s in since] == [sid]
    assert client.get(f"{C}/servers?changes-since=2051-01-01T12:34:00Z").body["servers"] == []
    r = client.get(f"{C}/servers?changes-since=2011/01/01")
    assert r.status == 400
    before = client.get(f"{C}/servers?changes-before=2011-01-01T00:00:00Z",
                        headers={"OpenStack-API-Version": "compute 2.66"}).body["servers"]
    assert before == []
