"""Every Neutron collection the API advertises is served by its plugin methods (the typed
`network_crud` table): listed, shown, and 404 for an unknown id in Neutron's error form."""

from __future__ import annotations

from api_helpers import Client

N = "/networking/v2.0"


def test_every_advertised_collection_lists_and_shows(client: Client) -> None:
    resources = client.get(N).body["resources"]
    assert len(resources) >= 7
    for res in resources:
        path = res["links"][0]["href"].split("/v2.0/", 1)[1]
        listing = client.get(f"{N}/{path}")
        assert listing.status == 200, (path, listing.body)
        assert isinstance(listing.body[res["collection"]], list)
        missing = client.get(f"{N}/{path}/no-such-id")
        assert missing.status == 404, (path, missing.body)
        assert missing.body["NeutronError"]["type"].endswith("NotFound")


def test_a_created_resource_is_shown_updated_and_deleted(client: Client) -> None:
    r = client.post(f"{N}/security-groups", {"security_group": {"name": "web"}})
    assert r.status == 201
    sg = r.body["security_group"]
    assert client.get(f"{N}/security-groups/{sg['id']}").body["security_group"]["name"] == "web"
    r = client.put(f"{N}/security-groups/{sg['id']}", {"security_group": {"name": "www"}})
    assert r.status == 200 and r.body["security_group"]["name"] == "www"
    assert client.delete(f"{N}/security-groups/{sg['id']}").status == 204
    assert client.get(f"{N}/security-groups/{sg['id']}").status == 404
