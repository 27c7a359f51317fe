"""Keystone's application credentials through the REST API: created from a scoped token,
the secret shown once, authentication by id or by name and user with only the delegated
roles, expiry, and who may see or delete them."""

from __future__ import annotations

from typing import Any

from api_helpers import Client

K = "/identity/v3"


def _auth(c: Client, cred: dict[str, Any]) -> Any:
    return c.request("POST", f"{K}/auth/tokens", {"auth": {"identity": {
        "methods": ["application_credential"], "application_credential": cred}}}, token=False)


def _me(c: Client) -> str:
    r = c.request("GET", f"{K}/auth/tokens", headers={"X-Subject-Token": c.token or ""})
    return str(r.body["token"]["user"]["id"])


def test_create_authenticate_and_delete(client: Client, make_client: Any) -> None:
    uid = _me(client)
    r = client.post(f"{K}/users/{uid}/application_credentials", {"application_credential": {
        "name": "ci", "roles": [{"name": "reader"}]}})
    assert r.status == 201, r.body
    cred = r.body["application_credential"]
    secret = cred["secret"]
    assert [x["name"] for x in cred["roles"]] == ["reader"]
    shown = client.get(f"{K}/users/{uid}/application_credentials/{cred['id']}").body[
        "application_credential"]
    assert "secret" not in shown and shown["name"] == "ci"
    anon = make_client()
    r = _auth(anon, {"id": cred["id"], "secret": secret})
    assert r.status == 201
    token = r.body["token"]
    assert token["methods"] == ["application_credential"]
    assert [x["name"] for x in token["roles"]] == ["reader"]  # only what was delegated
    assert token["project"]["id"] == cred["project_id"]
    assert token["application_credential"] == {"id": cred["id"], "name": "ci",
                                               "restricted": True}
    # a reader's token cannot write
    anon.token = r.headers["x-subject-token"]
    assert anon.post("/networking/v2.0/networks", {"network": {"name": "x"}}).status == 403
    r = _auth(make_client(), {"name": "ci", "secret": secret, "user": {"id": uid}})
    assert r.status == 201
    assert _auth(make_client(), {"id": cred["id"], "secret": "wrong"}).status == 401
    listed = client.get(f"{K}/users/{uid}/application_credentials?name=ci").body
    assert [c["id"] for c in listed["application_credentials"]] == [cred["id"]]
    assert client.delete(f"{K}/users/{uid}/application_credentials/{cred['id']}").status == 204
    assert _auth(make_client(), {"id": cred["id"], "secret": secret}).status == 401


def test_expiry_roles_and_ownership(client: Client, demo: Client, make_client: Any
                                    ) -> None:
    uid, demo_uid = _me(client), _me(demo)
    coll = f"{K}/users/{uid}/application_credentials"
    for name, expiry, status in (("short", "2020-01-01T00:00:00", 401),
                                 ("long", "2099-01-01T00:00:00Z", 201)):
        r = client.post(coll, {"application_credential": {
            "name": name, "secret": "s3cret", "expires_at": expiry}})
        assert r.status == 201
        assert r.body["application_credential"]["expires_at"].startswith(expiry[:19])
        assert _auth(make_client(), {"id": r.body["application_credential"]["id"],
                                     "secret": "s3cret"}).status == status
    assert client.post(coll, {"application_credential": {"name": "short"}}).status == 409
    # demo cannot delegate a role it does not have, nor touch the admin's credentials
    demo_coll = f"{K}/users/{demo_uid}/application_credentials"
    assert demo.post(demo_coll, {"application_credential": {
        "name": "x", "roles": [{"name": "admin"}]}}).status == 404
    assert demo.get(coll).status == 403
    assert demo.post(coll, {"application_credential": {"name": "x"}}).status == 403
    assert [c["name"] for c in client.get(coll).body["application_credentials"]] == [
        "short", "long"]
    for body in ({"application_credential": {}}, {"name": "x"},
                 {"application_credential": {"name": "x", "bogus": 1}}):
        assert client.post(coll, body).status == 400, body
    assert len(client.get(coll).body["application_credentials"]) == 2
