"""Keystone's admin API and token flavours, as `openstack project/user/role` and Tempest's
dynamic credentials use them; a reader reads and cannot write."""

from __future__ import annotations

from typing import Any

from api_helpers import Client, snapshot

K = "/identity/v3"
N = "/networking/v2.0"


def _login(c: Client, auth: dict[str, Any]) -> Any:
    r = c.post(f"{K}/auth/tokens", {"auth": auth}, token=False)
    if r.status == 201:
        c.token = r.headers["x-subject-token"]
    return r


def _password(user: dict[str, Any], project: str | None = None) -> dict[str, Any]:
    auth: dict[str, Any] = {"identity": {"methods": ["password"], "password": {"user": user}}}
    if project is not None:
        auth["scope"] = {"project": {"id": project}}
    return auth


def _roles(client: Client) -> dict[str, str]:
    return {r["name"]: r["id"] for r in client.get(f"{K}/roles").body["roles"]}


def test_tempest_dynamic_credentials_flow(client: Client, make_client) -> None:
    dom = client.get(f"{K}/domains?name=Default").body["domains"]
    assert [d["id"] for d in dom] == ["default"]
    p = client.post(f"{K}/projects", {"project": {"name": "t1", "description": "x",
                                                  "domain_id": "default"}})
    assert p.status == 201, p.body
    pid = p.body["project"]["id"]
    u = client.post(f"{K}/users", {"user": {"name": "u1", "password": "pw",
                                            "project_id": pid, "email": "u1@x"}})
    assert u.status == 201 and "password" not in u.body["user"]
    uid = u.body["user"]["id"]
    roles = _roles(client)
    assert sorted(roles) == ["admin", "member", "reader"]
    grant = f"{K}/projects/{pid}/users/{uid}/roles/{roles['member']}"
    assert client.request("HEAD", grant).status == 404
    assert client.put(grant).status == 204
    assert client.request("HEAD", grant).status == 204
    # password auth by user id, scoped to the new project; its default SG already exists
    user = make_client()
    r = _login(user, _password({"id": uid, "password": "pw"}, pid))
    assert r.status == 201, r.body
    assert {x["name"] for x in r.body["token"]["roles"]} == {"member", "reader"}
    sgs = user.get(f"{N}/security-groups").body["security_groups"]
    assert [s["name"] for s in sgs] == ["default"]
    assert user.post(f"{N}/networks", {"network": {"name": "n"}}).status == 201
    got = client.get(f"{K}/role_assignments?user.id={uid}").body["role_assignments"]
    assert [(a["role"]["id"], a["scope"]["project"]["id"]) for a in got] == [
        (roles["member"], pid)]
    assert [x["id"] for x in client.get(f"{K}/users/{uid}/projects").body["projects"]] == [pid]
    # revoking the only role: that user cannot log in to the project any more
    assert client.delete(grant).status == 204
    assert _login(make_client(), _password({"id": uid, "password": "pw"}, pid)).status == 401
    assert client.delete(f"{K}/users/{uid}").status == 204
    assert client.delete(f"{K}/projects/{pid}").status == 204
    assert client.get(f"{K}/projects/{pid}").status == 404


def test_unscoped_token_and_rescoping(client: Client, make_client) -> None:
    c = make_client()
    r = _login(c, _password({"name": "demo", "password": "secret",
                             "domain": {"name": "Default"}}))
    assert r.status == 201, r.body
    assert "project" not in r.body["token"] and "catalog" not in r.body["token"]
    # a service refuses an unscoped token; Keystone lists the user's projects for it
    assert c.get(f"{N}/networks").status == 401
    assert c.get(f"{K}/auth/catalog").status == 403
    projects = c.get(f"{K}/auth/projects").body["projects"]
    assert [p["name"] for p in projects] == ["demo"]
    r = _login(c, {"identity": {"methods": ["token"], "token": {"id": c.token}},
                   "scope": {"project": {"id": projects[0]["id"]}}})
    assert r.status == 201 and r.body["token"]["project"]["name"] == "demo"
    assert c.get(f"{N}/networks").status == 200
    assert c.get(f"{K}/auth/catalog").status == 200
    # rescoping to a project the user has no role on is refused
    admin_project = client.get(f"{K}/projects?name=admin").body["projects"][0]["id"]
    assert _login(c, {"identity": {"methods": ["token"], "token": {"id": c.token}},
                      "scope": {"project": {"id": admin_project}}}).status == 401


def test_a_reader_reads_and_cannot_write(client: Client, make_client, cloud) -> None:
    demo_project = client.get(f"{K}/projects?name=demo").body["projects"][0]["id"]
    uid = client.post(f"{K}/users", {"user": {"name": "r1", "password": "pw"}}
                      ).body["user"]["id"]
    assert client.put(f"{K}/projects/{demo_project}/users/{uid}/roles/"
                      f"{_roles(client)['reader']}").status == 204
    reader = make_client()
    r = _login(reader, _password({"id": uid, "password": "pw"}, demo_project))
    assert [x["name"] for x in r.body["token"]["roles"]] == ["reader"]
    assert reader.get(f"{N}/networks").status == 200
    before = snapshot(cloud)
    r = reader.post(f"{N}/networks", {"network": {"name": "n"}})
    assert r.status == 403 and r.body["NeutronError"]["message"] == (
        "rule:create_network is disallowed by policy")
    r = reader.post("/compute/v2.1/servers", {"server": {"name": "v"}})
    assert r.status == 403 and "os_compute_api:servers:create" in r.body["forbidden"]["message"]
    assert snapshot(cloud) == before


def test_admin_api_errors_change_nothing(client: Client, demo: Client, cloud) -> None:
    client.post(f"{K}/projects", {"project": {"name": "dup"}})
    before = cloud.store.snapshot()
    r = client.post(f"{K}/projects", {"project": {"name": "dup"}})
    assert r.status == 409 and "two projects with the same name" in r.body["error"]["message"]
    assert client.post(f"{K}/users", {"user": {"name": "demo"}}).status == 409
    assert client.post(f"{K}/projects", {"project": {}}).status == 400
    assert client.post(f"{K}/users", {"user": {"name": "x", "enabled": "yes"}}).status == 400
    assert client.put(f"{K}/projects/nope/users/nope/roles/nope").status == 404
    r = demo.post(f"{K}/projects", {"project": {"name": "mine"}})
    assert r.status == 403 and "identity:create_project" in r.body["error"]["message"]
    assert demo.get(f"{K}/roles").status == 403
    assert cloud.store.snapshot() == before
