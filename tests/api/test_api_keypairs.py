"""Nova's os-keypairs through the REST API: generate and import per user, the fingerprint
nova.crypto computes, microversion-shaped answers, a server's key_name, and Nova's errors
(which change nothing)."""

from __future__ import annotations

import base64
import hashlib

from api_helpers import Client
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

C = "/compute/v2.1"
V22 = {"OpenStack-API-Version": "compute 2.2"}
V292 = {"OpenStack-API-Version": "compute 2.92"}


def _ed25519() -> str:
    key = ed25519.Ed25519PrivateKey.generate().public_key()
    return key.public_bytes(serialization.Encoding.OpenSSH,
                            serialization.PublicFormat.OpenSSH).decode()


def _md5(public_key: str) -> str:
    digest = hashlib.md5(base64.b64decode(public_key.split()[1])).hexdigest()
    return ":".join(digest[i:i + 2] for i in range(0, 32, 2))


def test_generated_key_pair_is_usable_and_shown_once(client: Client) -> None:
    r = client.post(f"{C}/os-keypairs", {"keypair": {"name": "gen"}})
    assert r.status == 200  # 2.1; 201 from 2.2
    kp = r.body["keypair"]
    private = serialization.load_pem_private_key(kp["private_key"].encode(), None)
    ours = private.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                             serialization.PublicFormat.OpenSSH).decode()
    assert kp["public_key"].startswith(ours)
    assert kp["fingerprint"] == _md5(kp["public_key"])
    shown = client.get(f"{C}/os-keypairs/gen").body["keypair"]
    assert "private_key" not in shown
    assert (shown["name"], shown["fingerprint"], shown["deleted"]) == ("gen", kp["fingerprint"],
                                                                      False)
    assert client.delete(f"{C}/os-keypairs/gen").status == 202
    assert client.get(f"{C}/os-keypairs/gen").status == 404


def test_import_is_per_user_and_shaped_by_microversion(client: Client, demo: Client) -> None:
    public = _ed25519()
    r = demo.post(f"{C}/os-keypairs", {"keypair": {"name": "k1", "public_key": public}},
                  headers=V22)
    assert r.status == 201
    assert r.body["keypair"] == {"name": "k1", "public_key": public, "type": "ssh",
                                 "fingerprint": _md5(public),
                                 "user_id": r.body["keypair"]["user_id"]}
    listed = demo.get(f"{C}/os-keypairs", headers=V22).body["keypairs"]
    assert listed == [{"keypair": {"name": "k1", "public_key": public,
                                   "fingerprint": _md5(public), "type": "ssh"}}]
    assert client.get(f"{C}/os-keypairs").body["keypairs"] == []  # the admin's own: none
    r = client.post(f"{C}/os-keypairs", {"keypair": {"name": "k1", "public_key": public}})
    assert r.status == 200  # the same name for another user is fine
    r = demo.post(f"{C}/os-keypairs", {"keypair": {"name": "k1", "public_key": public}})
    assert r.status == 409
    assert r.body["conflictingRequest"]["message"] == "Key pair 'k1' already exists."
    assert demo.delete(f"{C}/os-keypairs/k1", headers=V22).status == 204


def test_bad_key_pairs_are_refused_and_change_nothing(client: Client) -> None:
    for body, headers in (({"keypair": {"name": "bad/name"}}, None),
                          ({"keypair": {"name": ""}}, None),
                          ({"keypair": {"name": "a", "public_key": "ssh-rsa not-base64!"}},
                           None),
                          ({"keypair": {"name": "a", "type": "ssh"}}, None),  # 2.2+ only
                          ({"keypair": {"name": "a"}}, V292),  # no generation from 2.92
                          ({"keypair": {}}, None), ({"name": "a"}, None)):
        r = client.post(f"{C}/os-keypairs", body, headers=headers or {})
        assert r.status == 400, body
    assert client.get(f"{C}/os-keypairs").body["keypairs"] == []
    r = client.delete(f"{C}/os-keypairs/nope")
    assert r.status == 404 and "Keypair nope not found for user" in r.body[
        "itemNotFound"]["message"]


def test_a_server_boots_with_its_users_key_pair_only(client: Client, demo: Client) -> None:
    image = client.get("/image/v2/images").body["images"][0]["id"]
    net = client.post("/networking/v2.0/networks", {"network": {"name": "n"}}).body[
        "network"]["id"]
    client.post("/networking/v2.0/subnets", {"subnet": {"network_id": net, "ip_version": 4,
                                                        "cidr": "10.7.0.0/24"}})
    demo.post(f"{C}/os-keypairs", {"keypair": {"name": "theirs", "public_key": _ed25519()}})
    server = {"name": "s", "imageRef": image, "flavorRef": "42", "networks": [{"uuid": net}]}
    r = client.post(f"{C}/servers", {"server": {**server, "key_name": "theirs"}})
    assert r.status == 400
    assert client.get(f"{C}/servers").body["servers"] == []
    client.post(f"{C}/os-keypairs", {"keypair": {"name": "mine", "public_key": _ed25519()}})
    sid = client.post(f"{C}/servers", {"server": {**server, "key_name": "mine"}}).body[
        "server"]["id"]
    assert client.get(f"{C}/servers/{sid}").body["server"]["key_name"] == "mine"
