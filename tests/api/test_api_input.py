"""Input a tenant could use to break the lab is refused with a 400 before anything is
written: lone surrogates, NaN/Infinity, nesting deeper than the parser, and the attribute
values neutron-lib refuses (MACs, allowed address pairs, tags)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from api_helpers import Client, RecordingDriver, snapshot

from ovnlab.cloud import Cloud

N = "/networking/v2.0"
C = "/compute/v2.1"


def _net(c: Client) -> str:
    net = c.post(f"{N}/networks", {"network": {"name": "n1"}}).body["network"]["id"]
    assert c.post(f"{N}/subnets", {"subnet": {"network_id": net, "cidr": "172.16.100.0/24",
                                              "ip_version": 4}}).status == 201
    return str(net)


def _refused(c: Client, cloud: Cloud, driver: RecordingDriver, method: str, path: str,
             raw: bytes) -> dict[str, Any]:
    before, calls = snapshot(cloud), list(driver.calls)
    r = c.request(method, path, raw=raw)
    assert r.status == 400, r.raw
    assert snapshot(cloud) == before and driver.calls == calls
    return dict(r.body)


def test_a_lone_surrogate_anywhere_in_a_body_is_a_400_that_writes_nothing(
        demo: Client, cloud: Cloud, driver: RecordingDriver) -> None:
    net = _net(demo)
    image = demo.get("/image/v2/images").body["images"][0]["id"]
    server = (b'{"server": {"name": "\\ud800", "imageRef": "%s", "flavorRef": "42", '
              b'"networks": [{"uuid": "%s"}]}}' % (image.encode(), net.encode()))
    body = _refused(demo, cloud, driver, "POST", f"{C}/servers", server)
    assert body == {"badRequest": {"code": 400, "message": (
        "Malformed request body: \\ud800 is a lone surrogate, not Unicode text")}}
    body = _refused(demo, cloud, driver, "POST", f"{N}/networks",
                    b'{"network": {"name": "ok\\udfff"}}')
    assert body["NeutronError"]["type"] == "HTTPBadRequest"
    # in a key, in a nested value, in an update
    _refused(demo, cloud, driver, "POST", f"{N}/networks", b'{"network": {"\\ud83d": 1}}')
    _refused(demo, cloud, driver, "PUT", f"{N}/networks/{net}",
             b'{"network": {"description": "x", "tags": ["\\udc00"]}}')
    # a surrogate *pair* is one valid character and is kept
    r = demo.request("POST", f"{N}/networks", raw=b'{"network": {"name": "\\ud83d\\ude00"}}')
    assert r.status == 201 and r.body["network"]["name"] == "\U0001f600"


@pytest.mark.parametrize("constant", [b"NaN", b"Infinity", b"-Infinity"])
def test_non_standard_json_constants_are_400(client: Client, cloud: Cloud,
                                             driver: RecordingDriver, constant: bytes) -> None:
    net = _net(client)
    image = client.get("/image/v2/images").body["images"][0]["id"]
    port = b'{"port": {"network_id": "%s", "extra_dhcp_opts": [{"opt_value": %s}]}}'
    body = _refused(client, cloud, driver, "POST", f"{N}/ports", port % (net.encode(), constant))
    assert body["NeutronError"]["message"].startswith("Malformed request body: ")
    server = (b'{"server": {"name": "vm", "imageRef": "%s", "flavorRef": "42", '
              b'"networks": [{"uuid": "%s"}], "metadata": {"k": %s}}}')
    _refused(client, cloud, driver, "POST", f"{C}/servers",
             server % (image.encode(), net.encode(), constant))


def test_numbers_too_large_for_a_float_are_400(client: Client, cloud: Cloud,
                                               driver: RecordingDriver) -> None:
    net = _net(client)
    for value in (b"1e999", b"-1e400", b"[1e309]"):
        body = _refused(client, cloud, driver, "POST", f"{N}/ports",
                        b'{"port": {"network_id": "%s", "extra_dhcp_opts": [{"opt_value": %s}]}}'
                        % (net.encode(), value))
        assert body["NeutronError"]["message"] == (
            f"Malformed request body: number {value.strip(b'[]').decode()} is out of range")
    r = client.request("POST", f"{N}/ports", raw=b'{"port": {"network_id": "%s", '
                       b'"binding:profile": {"big": 1e308}}}' % net.encode())
    assert r.status == 201 and r.body["port"]["binding:profile"] == {"big": 1e308}


def test_nesting_deeper_than_the_parser_is_a_malformed_body(client: Client, cloud: Cloud,
                                                            driver: RecordingDriver) -> None:
    for raw in (b"[" * 100_000, b'{"network": ' * 50_000):
        body = _refused(client, cloud, driver, "POST", f"{N}/networks", raw)
        assert body["NeutronError"] == {"type": "HTTPBadRequest", "detail": "",
                                        "message": "Malformed request body: nested too deeply"}
    _refused(client, cloud, driver, "POST", "/identity/v3/auth/tokens", b"[" * 100_000)


def test_macs_neutron_lib_refuses(client: Client, cloud: Cloud,
                                  driver: RecordingDriver) -> None:
    net = _net(client)
    for mac in ("ff:ff:ff:ff:ff:ff", "FF:FF:FF:FF:FF:FF", "00:00:00:00:00:00"):
        body = _refused(client, cloud, driver, "POST", f"{N}/ports",
                        b'{"port": {"network_id": "%s", "mac_address": "%s"}}'
                        % (net.encode(), mac.encode()))
        assert body["NeutronError"]["message"] == (
            f"Invalid input for mac_address. Reason: '{mac}' is not a valid MAC address.")


def test_allowed_address_pairs_are_validated_as_neutron_lib_does(
        client: Client, cloud: Cloud, driver: RecordingDriver) -> None:
    net = _net(client)
    port = client.post(f"{N}/ports", {"port": {"network_id": net}}).body["port"]["id"]
    cases = {
        '[{"ip_address": "not-an-ip"}]': "'not-an-ip' is not a valid IP address",
        '[{"ip_address": "10.0.0.0/33"}]': "'10.0.0.0/33' is not a valid IP subnet",
        '[{"mac_address": "fa:16:3e:00:00:01"}]': "AllowedAddressPair must contain ip_address",
        '[{"ip_address": "10.0.0.5"}, {"ip_address": "10.0.0.5"}]':
            "Request contains duplicate address pair: mac_address None ip_address 10.0.0.5.",
        '[{"ip_address": "10.0.0.5", "x": 1}]': "Unrecognized attribute(s) 'x'",
        '[{"ip_address": "10.0.0.5", "mac_address": "ff:ff:ff:ff:ff:ff"}]':
            "Invalid input for allowed_address_pairs. Reason: 'ff:ff:ff:ff:ff:ff' is not a "
            "valid MAC address.",
        "[" + ", ".join(f'{{"ip_address": "10.0.0.{i}"}}' for i in range(11)) + "]":
            "The number of allowed address pair exceeds the maximum 10.",
        '"10.0.0.5"': "Allowed address pairs must be a list.",
    }
    for pairs, message in cases.items():
        body = _refused(client, cloud, driver, "PUT", f"{N}/ports/{port}",
                        b'{"port": {"allowed_address_pairs": %s}}' % pairs.encode())
        assert body["NeutronError"]["message"] == message, pairs
    ok = [{"ip_address": "10.0.0.5"}, {"ip_address": "10.0.9.0/24",
                                        "mac_address": "fa:16:3e:00:00:09"}]
    r = client.put(f"{N}/ports/{port}", {"port": {"allowed_address_pairs": ok}})
    assert r.status == 200 and r.body["port"]["allowed_address_pairs"] == ok


def test_tags_are_unique_strings_of_at_most_255(client: Client, cloud: Cloud,
                                                driver: RecordingDriver) -> None:
    body = _refused(client, cloud, driver, "POST", f"{N}/networks",
                    b'{"network": {"name": "t", "tags": ["a", "b", "a"]}}')
    assert body["NeutronError"]["message"] == (
        "Invalid input for tags. Reason: Duplicate items in the list: 'a'.")
    _refused(client, cloud, driver, "POST", f"{N}/networks",
             b'{"network": {"name": "t", "tags": ["%s"]}}' % (b"x" * 256))
    # Neutron's tag extension sets no limit on their number (only the body size does)
    many = [f"t{i}" for i in range(3000)]
    r = client.post(f"{N}/networks", {"network": {"name": "t", "tags": many}})
    assert r.status == 201 and r.body["network"]["tags"] == many


def test_server_names_follow_novas_printable_name_format(demo: Client, cloud: Cloud,
                                                        driver: RecordingDriver) -> None:
    net = _net(demo)
    image = demo.get("/image/v2/images").body["images"][0]["id"]
    for name in ("\x1b[31mred", "a\nb", " lead", "trail\u00a0", "\u202eevil", "\x00",
                 "\U0001f600"):
        body = _refused(demo, cloud, driver, "POST", f"{C}/servers", json.dumps(
            {"server": {"name": name, "imageRef": image, "flavorRef": "42",
                        "networks": [{"uuid": net}]}}).encode())
        assert body["badRequest"]["message"] == (
            "An invalid 'name' value was provided. The name must be: printable characters. "
            "Can not start or end with whitespace."), name
    for name in ("vm 1", "\u00e9t\u00e9", "x" * 255):
        r = demo.post(f"{C}/servers", {"server": {"name": name, "imageRef": image,
                                                  "flavorRef": "42",
                                                  "networks": [{"uuid": net}]}})
        assert r.status == 202, r.raw


def test_server_metadata_follows_novas_schema(demo: Client, cloud: Cloud,
                                              driver: RecordingDriver) -> None:
    net = _net(demo)
    image = demo.get("/image/v2/images").body["images"][0]["id"]

    def boot(metadata: Any) -> bytes:
        return json.dumps({"server": {"name": "vm", "imageRef": image, "flavorRef": "42",
                                      "networks": [{"uuid": net}],
                                      "metadata": metadata}}).encode()

    for metadata, reason in (
            ({"k": {"nested": 1}}, "{'nested': 1} is not of type 'string'"),
            ({"k": 1}, "1 is not of type 'string'"),
            ({"k": "v" * 256}, "is too long"),
            ({"\u00e9": "v"}, "Additional properties are not allowed ('\u00e9' was unexpected)"),
            ({"": "v"}, "Additional properties are not allowed ('' was unexpected)"),
            (["k"], "['k'] is not of type 'object'")):
        body = _refused(demo, cloud, driver, "POST", f"{C}/servers", boot(metadata))
        message = body["badRequest"]["message"]
        assert message.startswith("Invalid input for field/attribute metadata.")
        assert reason in message, message
    r = demo.request("POST", f"{C}/servers", raw=boot({"role": "web", "a-b_c:d. e": "v" * 255}))
    assert r.status == 202


def test_a_request_failing_after_its_operation_committed_is_rolled_back_and_resynced(
        client: Client, cloud: Cloud, driver: RecordingDriver, monkeypatch) -> None:
    from ovnlab.errors import Conflict

    create = cloud.create_network

    def create_then_fail(*args: Any, **kwargs: Any) -> Any:
        create(*args, **kwargs)  # committed, NB write included
        raise Conflict("a later step failed")

    before = snapshot(cloud)
    monkeypatch.setattr(cloud, "create_network", create_then_fail)
    r = client.post(f"{N}/networks", {"network": {"name": "half"}})
    assert r.status == 409 and snapshot(cloud) == before
    assert driver.calls[-2:] == ["create_network", "sync"]  # the NB is put back
    monkeypatch.setattr(cloud, "create_network", create)
    calls = len(driver.calls)
    assert client.post(f"{N}/networks", {"network": {"name": "n"}}).status == 201
    assert client.post(f"{N}/networks", {"network": {"name": "n", "mtu": 1}}).status == 400
    assert "sync" not in driver.calls[calls:]  # a plain 4xx needs no resync
