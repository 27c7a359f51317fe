"""Neutron's quotas through the REST API: unlimited by default, an admin's limit enforced
at create (OverQuota, 409, nothing created, bulk counted whole), usage in `details`, and
the policy on who may read and set them."""

from __future__ import annotations

from api_helpers import Client, snapshot

from ovnlab.cloud import Cloud

N = "/networking/v2.0"


def _project(c: Client, name: str) -> str:
    return str(next(p["id"] for p in c.get("/identity/v3/projects").body["projects"]
                    if p["name"] == name))


def test_defaults_are_unlimited_and_an_admin_sets_limits(client: Client, demo: Client) -> None:
    demo_project = _project(client, "demo")
    assert demo.get(f"{N}/quotas/{demo_project}").body["quota"]["network"] == -1
    assert demo.get(f"{N}/quotas/{demo_project}/default").body["quota"]["port"] == -1
    r = client.put(f"{N}/quotas/{demo_project}", {"quota": {"network": 2, "router": "1"}})
    assert r.status == 200
    assert (r.body["quota"]["network"], r.body["quota"]["router"]) == (2, 1)
    listed = client.get(f"{N}/quotas").body["quotas"]
    assert [(q["project_id"], q["network"]) for q in listed] == [(demo_project, 2)]
    assert demo.post(f"{N}/networks", {"network": {"name": "a"}}).status == 201
    details = demo.get(f"{N}/quotas/{demo_project}/details").body["quota"]
    assert details["network"] == {"limit": 2, "used": 1, "reserved": 0}
    r = client.put(f"{N}/quotas/{demo_project}", {"quota": {"network": 0,
                                                             "check_limit": True}})
    assert r.status == 409 and r.body["NeutronError"]["type"] == "InvalidQuotaValue"
    assert client.put(f"{N}/quotas/{demo_project}", {"quota": {"network": 0,
                                                               "check_limit": False}}
                      ).status == 200
    assert client.delete(f"{N}/quotas/{demo_project}").status == 204
    assert client.get(f"{N}/quotas").body["quotas"] == []


def test_over_quota_is_409_and_creates_nothing(client: Client, demo: Client,
                                               cloud: Cloud) -> None:
    demo_project = _project(client, "demo")
    client.put(f"{N}/quotas/{demo_project}", {"quota": {"network": 1}})
    assert demo.post(f"{N}/networks", {"network": {"name": "a"}}).status == 201
    before = snapshot(cloud)
    r = demo.post(f"{N}/networks", {"network": {"name": "b"}})
    assert r.status == 409
    assert r.body["NeutronError"] == {"type": "OverQuota", "detail": "", "message":
                                      "Quota exceeded for resources: ['network']."}
    assert snapshot(cloud) == before
    client.put(f"{N}/quotas/{demo_project}", {"quota": {"network": 2}})
    before = snapshot(cloud)
    r = demo.post(f"{N}/networks", {"networks": [{"name": "b"}, {"name": "c"}]})
    assert r.status == 409  # a bulk create is counted whole
    assert snapshot(cloud) == before
    # the admin's own project is not limited by demo's quota
    assert client.post(f"{N}/networks", {"network": {"name": "admins"}}).status == 201


def test_quota_policy_and_validation(client: Client, demo: Client, cloud: Cloud) -> None:
    demo_project, admin_project = _project(client, "demo"), _project(client, "admin")
    before = snapshot(cloud), client.get(f"{N}/quotas").body
    for reply, status in (
            (demo.get(f"{N}/quotas/{admin_project}"), 403),
            (demo.get(f"{N}/quotas"), 403),
            (demo.put(f"{N}/quotas/{demo_project}", {"quota": {"network": 9}}), 403),
            (demo.delete(f"{N}/quotas/{demo_project}"), 403),
            (client.put(f"{N}/quotas/{demo_project}", {"quota": {"network": -2}}), 400),
            (client.put(f"{N}/quotas/{demo_project}", {"quota": {"network": "x"}}), 400),
            (client.put(f"{N}/quotas/{demo_project}", {"quota": {"volumes": 1}}), 400),
            (client.put(f"{N}/quotas/{demo_project}", {"quota": {}}), 400)):
        assert reply.status == status, reply.body
    assert (snapshot(cloud), client.get(f"{N}/quotas").body) == before
