from __future__ import annotations

import json

from api_helpers import Client, Clock, auth_body

from ovnlab import api


def test_version_documents_need_no_token(make_client) -> None:
    c = make_client()
    for path in ("/identity/v3", "/v3", "/v3/"):
        r = c.get(path)
        assert r.status == 200
        assert r.body["version"]["id"].startswith("v3.")
        assert r.body["version"]["links"][0]["href"].endswith("/v3/")
    r = c.get("/identity")
    assert r.status == 300
    assert r.body["versions"]["values"][0]["status"] == "stable"


def test_password_token_has_catalog_and_subject_header(make_client) -> None:
    c: Client = make_client()
    r = c.login()
    assert r.status == 201
    assert len(r.headers["x-subject-token"]) == 32
    tok = r.body["token"]
    assert tok["project"]["name"] == "admin" and tok["user"]["name"] == "admin"
    assert {x["name"] for x in tok["roles"]} == {"admin", "member", "reader"}
    urls = {s["type"]: s["endpoints"][0]["url"] for s in tok["catalog"]}
    assert urls == {"identity": "http://lab.test:5000/identity/v3",
                    "network": "http://lab.test:5000/networking",
                    "compute": "http://lab.test:5000/compute/v2.1",
                    "image": "http://lab.test:5000/image"}
    assert all(s["endpoints"][0]["interface"] == "public" for s in tok["catalog"])


def test_configured_base_url_wins_over_host_header(cloud) -> None:
    c = Client(api.make_app(cloud, base_url="http://10.9.8.7:1234/"))
    tok = c.login().body["token"]
    assert tok["catalog"][0]["endpoints"][0]["url"] == "http://10.9.8.7:1234/identity/v3"


def test_project_scope_by_id_and_legacy_v3_path(cloud, make_client) -> None:
    c: Client = make_client()
    body = auth_body("demo", "secret", "demo")
    pid = next(p["id"] for p in cloud.identity.get_projects() if p["name"] == "demo")
    body["auth"]["scope"]["project"] = {"id": pid}
    r = c.post("/v3/auth/tokens", body, token=False)
    assert r.status == 201 and r.body["token"]["project"]["name"] == "demo"
    assert [x["name"] for x in r.body["token"]["roles"]] == ["reader", "member"]


def test_wrong_password_unknown_user_wrong_project_or_domain_are_401(make_client) -> None:
    c: Client = make_client()
    bad = [auth_body("admin", "nope", "admin"), auth_body("ghost", "secret", "admin"),
           auth_body("demo", "secret", "admin")]
    other_domain = auth_body("admin", "secret", "admin")
    other_domain["auth"]["identity"]["password"]["user"]["domain"] = {"name": "Other"}
    bad.append(other_domain)
    for body in bad:
        r = c.post("/v3/auth/tokens", body, token=False)
        assert r.status == 401
        assert r.body == {"error": {"code": 401, "title": "Unauthorized", "message":
                                    "The request you have made requires authentication."}}
        assert "x-subject-token" not in r.headers


def test_malformed_auth_bodies_are_400_not_500(make_client) -> None:
    c: Client = make_client()
    for raw in (b"", b"{", b"[]", b'{"auth": 1}', b'{"auth": {"identity": {"methods": '
                b'["password"], "password": {"user": {"name": 5, "password": "x"}}}}}'):
        r = c.post("/v3/auth/tokens", raw=raw, token=False)
        assert r.status == 400, raw
        assert r.body["error"]["code"] == 400


def test_every_service_call_needs_a_valid_token(client: Client) -> None:
    for path in ("/networking/v2.0/networks", "/compute/v2.1/servers/detail",
                 "/image/v2/images"):
        assert client.get(path).status == 200
        for headers in ({}, {"X-Auth-Token": "forged"}):
            r = client.get(path, token=False, headers=headers)
            assert r.status == 401
            assert r.body["error"]["title"] == "Unauthorized"


def test_token_expires_on_the_injected_clock(cloud) -> None:
    clock = Clock()
    c = Client(api.make_app(cloud, clock=clock, token_ttl=60))
    tok = c.login().body["token"]
    assert tok["expires_at"] == "2023-11-14T22:14:20.000000Z"
    assert c.get("/networking/v2.0/networks").status == 200
    clock.now += 61
    assert c.get("/networking/v2.0/networks").status == 401


def test_token_validation_and_revocation(client: Client) -> None:
    subject = {"X-Subject-Token": client.token or ""}
    r = client.get("/v3/auth/tokens", headers=subject)
    assert r.status == 200 and r.body["token"]["user"]["name"] == "admin"
    assert client.get("/v3/auth/tokens", headers={"X-Subject-Token": "x"}).status == 404
    assert client.delete("/v3/auth/tokens", headers=subject).status == 204
    assert client.get("/networking/v2.0/networks").status == 401


def test_unknown_paths_and_methods(client: Client) -> None:
    r = client.get("/nothing/here")
    assert r.status == 404
    r = client.request("PATCH", "/networking/v2.0/networks")
    assert r.status == 405 and r.body["NeutronError"]["type"] == "HTTPMethodNotAllowed"


def test_request_ids_and_timings_are_recorded(client: Client, app: api.App) -> None:
    r = client.get("/networking/v2.0/networks")
    assert r.headers["x-openstack-request-id"].startswith("req-")
    last = app.timings[-1]
    assert (last.method, last.route, last.status) == ("GET", "/networking/v2.0/networks", 200)
    assert 0 < last.seconds < 1
    stats = app.stats()["GET /networking/v2.0/networks"]
    assert stats["count"] == 1 and stats["max_ms"] == stats["mean_ms"] == last.seconds * 1e3


def test_a_bug_in_the_model_is_a_logged_500_in_the_service_format(client: Client, cloud,
                                                                 monkeypatch, caplog) -> None:
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(cloud, "get_networks", broken)
    r = client.get("/networking/v2.0/networks")
    assert r.status == 500
    assert r.body["NeutronError"]["type"] == "HTTPInternalServerError"
    assert "boom" not in r.raw.decode()
    assert "internal error on GET /networking/v2.0/networks" in caplog.text


def test_serve_binds_without_serving_until_started(app: api.App) -> None:
    import urllib.request

    server = api.serve(app, "127.0.0.1", 0)
    try:
        assert server.port > 0 and server.url == f"http://127.0.0.1:{server.port}"
        server.start()
        with urllib.request.urlopen(server.url + "/compute/v2.1", timeout=10) as resp:
            body = json.loads(resp.read())
        assert body["version"]["links"][0]["href"] == f"{server.url}/compute/v2.1/"
    finally:
        server.close()


def test_projects_and_users_are_readable_by_admins(client: Client, make_client) -> None:
    projects = client.get("/identity/v3/projects").body
    assert [p["name"] for p in projects["projects"]] == ["admin", "demo"]
    assert projects["links"]["next"] is None
    demo_id = client.get("/v3/projects?name=demo").body["projects"][0]["id"]
    shown = client.get(f"/v3/projects/{demo_id}").body["project"]
    assert shown["name"] == "demo" and shown["links"]["self"].endswith(f"/v3/projects/{demo_id}")
    r = client.get("/v3/projects/demo")
    assert r.status == 404 and r.body["error"]["message"] == "Could not find project: demo."
    assert [u["name"] for u in client.get("/v3/users").body["users"]] == ["admin", "demo"]
    demo: Client = make_client()
    tok = demo.login("demo", "demo").body["token"]
    r = demo.get("/v3/projects")
    assert r.status == 403 and "identity:list_projects" in r.body["error"]["message"]
    assert demo.get(f"/v3/projects/{tok['project']['id']}").status == 200
    assert demo.get(f"/v3/users/{tok['user']['id']}").body["user"]["name"] == "demo"
    assert demo.get("/v3/users").status == 403


def test_only_the_tokens_user_or_an_admin_may_validate_or_revoke_it(client: Client,
                                                                     demo: Client,
                                                                     make_client) -> None:
    """Keystone's identity:validate_token / check_token / revoke_token: admin or
    token_subject; an unknown token is a 404 to anyone."""
    admin_token = {"X-Subject-Token": client.token or ""}
    for method in ("GET", "HEAD", "DELETE"):
        r = demo.request(method, "/identity/v3/auth/tokens", headers=admin_token)
        assert r.status == 403, method
    action = {"GET": "validate_token", "DELETE": "revoke_token"}
    for method, name in action.items():
        r = demo.request(method, "/identity/v3/auth/tokens", headers=admin_token)
        assert r.body["error"]["message"] == ("You are not authorized to perform the requested "
                                              f"action: identity:{name}.")
    assert client.get("/networking/v2.0/networks").status == 200  # still valid
    assert demo.get("/identity/v3/auth/tokens",
                    headers={"X-Subject-Token": "0" * 32}).status == 404
    # the same user's other token: allowed (token_subject is the user, not the token)
    other = make_client()
    assert other.login("demo", "demo").status == 201
    subject = {"X-Subject-Token": other.token or ""}
    assert demo.get("/identity/v3/auth/tokens", headers=subject).status == 200
    # an admin may validate and revoke anyone's
    assert client.get("/identity/v3/auth/tokens", headers=subject).status == 200
    assert client.delete("/identity/v3/auth/tokens", headers=subject).status == 204
    assert other.get("/networking/v2.0/networks").status == 401
    assert demo.get("/networking/v2.0/networks").status == 200
