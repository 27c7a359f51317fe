"""Neutron's extra_dhcp_opt on ports, through the REST API of a whole lab, as ML2/OVN puts
it into the NB: a DHCP_Options row of the port's own (the subnet's options plus the mapped
extra ones) that its LSP points at; merged updates; dhcp_disabled; the OVN driver's refusal
of options it does not support (which changes nothing)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from api_helpers import TOPOLOGY, Client

from ovnlab import api
from ovnlab.lab import Lab

N = "/networking/v2.0"
PXE = [{"opt_name": "bootfile-name", "opt_value": "pxelinux.0"},
       {"opt_name": "tftp-server", "opt_value": "123.123.123.123"},
       {"opt_name": "server-ip-address", "opt_value": "123.123.123.45"}]


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    lab = Lab(TOPOLOGY)
    yield lab
    lab.close()


@pytest.fixture(scope="module")
def c(lab: Lab) -> Client:
    client = Client(api.make_app(lab.locked_cloud(threading.Lock())))
    assert client.login().status == 201
    return client


@pytest.fixture(scope="module")
def net(c: Client) -> str:
    nid = c.post(f"{N}/networks", {"network": {"name": "pxe"}}).body["network"]["id"]
    c.post(f"{N}/subnets", {"subnet": {"network_id": nid, "cidr": "10.5.0.0/24",
                                       "ip_version": 4}})
    return str(nid)


def _nbctl(lab: Lab, *args: str) -> str:
    res = lab.exec("network", ["ovn-nbctl", *args])
    assert res.rc == 0, res.stderr
    return res.stdout.strip()


def _dhcp_options(lab: Lab, port_id: str) -> dict[str, str]:
    ref = _nbctl(lab, "lsp-get-dhcpv4-options", port_id).split()
    if not ref:
        return {}
    lines = _nbctl(lab, "dhcp-options-get-options", ref[0]).splitlines()
    return dict(line.split("=", 1) for line in lines)


def _opts(port: dict[str, Any]) -> list[tuple[str, str, int]]:
    return sorted((o["opt_name"], o["opt_value"], o["ip_version"])
                  for o in port["extra_dhcp_opts"])


def test_extension_and_the_ports_own_dhcp_options_row(c: Client, lab: Lab, net: str) -> None:
    assert "extra_dhcp_opt" in [e["alias"] for e in c.get(f"{N}/extensions").body[
        "extensions"]]
    plain = c.post(f"{N}/ports", {"port": {"network_id": net}}).body["port"]
    r = c.post(f"{N}/ports", {"port": {"network_id": net, "extra_dhcp_opts": PXE}})
    assert r.status == 201, r.body
    port = r.body["port"]
    assert _opts(port) == sorted((o["opt_name"], o["opt_value"], 4) for o in PXE)
    subnet_opts, port_opts = _dhcp_options(lab, plain["id"]), _dhcp_options(lab, port["id"])
    assert "bootfile_name" not in subnet_opts
    assert port_opts == {**subnet_opts, "bootfile_name": '"pxelinux.0"',
                         "tftp_server": '"123.123.123.123"',
                         "tftp_server_address": "123.123.123.45"}
    rows = _nbctl(lab, "dhcp-options-list").split()
    assert len(rows) == 2  # the subnet's and this port's

    # an update merges: one value changed, one removed by null, one added
    r = c.put(f"{N}/ports/{port['id']}", {"port": {"extra_dhcp_opts": [
        {"opt_name": "bootfile-name", "opt_value": "ipxe.efi"},
        {"opt_name": "tftp-server", "opt_value": None},
        {"opt_name": "domain-name", "opt_value": "lab.test"}]}})
    assert r.status == 200, r.body
    assert _opts(r.body["port"]) == [("bootfile-name", "ipxe.efi", 4),
                                     ("domain-name", "lab.test", 4),
                                     ("server-ip-address", "123.123.123.45", 4)]
    port_opts = _dhcp_options(lab, port["id"])
    assert (port_opts["bootfile_name"], port_opts["domain_name"]) == ('"ipxe.efi"',
                                                                     '"lab.test"')
    assert "tftp_server" not in port_opts

    # dhcp_disabled: no DHCP for the port at all; deleting the port drops its row
    c.put(f"{N}/ports/{port['id']}", {"port": {"extra_dhcp_opts": [
        {"opt_name": "dhcp_disabled", "opt_value": "true"}]}})
    assert _dhcp_options(lab, port["id"]) == {}
    assert len(_nbctl(lab, "dhcp-options-list").split()) == 1
    c.put(f"{N}/ports/{port['id']}", {"port": {"extra_dhcp_opts": PXE}})
    assert _dhcp_options(lab, port["id"]) == {}  # merged: dhcp_disabled is still there
    c.put(f"{N}/ports/{port['id']}", {"port": {"extra_dhcp_opts": [
        {"opt_name": "dhcp_disabled", "opt_value": None}]}})
    assert len(_nbctl(lab, "dhcp-options-list").split()) == 2
    assert c.delete(f"{N}/ports/{port['id']}").status == 204
    assert len(_nbctl(lab, "dhcp-options-list").split()) == 1


def test_bad_and_unsupported_options_change_nothing(c: Client, lab: Lab, net: str) -> None:
    before = _nbctl(lab, "dhcp-options-list"), c.get(f"{N}/ports").body
    for opts, message in (
            ([{"opt_name": "no-such-option", "opt_value": "1"}],
             "are not supported by OVN"),
            ([{"opt_name": "bootfile-name"}], "Expected keys"),
            ([{"opt_name": "", "opt_value": "x"}], "is not a valid opt_name"),
            ([{"opt_name": "mtu", "opt_value": "1400", "ip_version": 5}], "is not in [4, 6]"),
            ([{"opt_name": "mtu", "opt_value": "1400", "color": "red"}],
             "Unexpected keys supplied: color"),
            ("mtu=1400", "is not a list")):
        r = c.post(f"{N}/ports", {"port": {"network_id": net, "extra_dhcp_opts": opts}})
        assert r.status == 400, (opts, r.body)
        assert message in r.body["NeutronError"]["message"], (opts, r.body)
    assert (_nbctl(lab, "dhcp-options-list"), c.get(f"{N}/ports").body) == before
