"""The web view's HTTP side, without a browser: assets, sessions, the CSRF header, and the
API's answers to bad input (the CLI's own messages)."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from web_helpers import TOKEN, Served, serve_web

from ovnlab.lab import Lab


class Browser:
    """urllib with a cookie jar, sending what the page sends."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.cookie = ""

    def request(self, path: str, body: Any = None, *, page_header: bool = True,
                method: str | None = None) -> tuple[int, dict[str, str], bytes]:
        headers = {"Content-Type": "application/json"}
        if page_header:
            headers["X-Ovnlab-Web"] = "1"
        if self.cookie:
            headers["Cookie"] = self.cookie
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, headers=headers,
                                     method=method or ("POST" if data is not None else "GET"))
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                status, got, raw = resp.status, dict(resp.headers), resp.read()
        except urllib.error.HTTPError as exc:
            status, got, raw = exc.code, dict(exc.headers), exc.read()
        if "Set-Cookie" in got:
            self.cookie = got["Set-Cookie"].split(";")[0]
        return status, got, raw

    def api(self, verb: str, body: Any = None) -> tuple[int, Any]:
        status, _, raw = self.request(f"/web/api/{verb}", body)
        return status, json.loads(raw)


@pytest.fixture(scope="module")
def lab_served() -> Iterator[Served]:
    lab = Lab.build("seed")
    server, served = serve_web(lab)
    try:
        yield served
    finally:
        server.close()
        lab.close()


@pytest.fixture
def web(lab_served: Served) -> Browser:
    client = Browser(lab_served.base)
    status, _ = client.api("login", {"token": TOKEN})
    assert status == 200
    return client


def test_the_page_and_its_assets_are_served_from_the_package(lab_served: Served) -> None:
    client = Browser(lab_served.base)
    status, headers, body = client.request("/web/")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    for src in ("/web/static/vendor/cytoscape.min.js", "/web/static/vendor/cytoscape-fcose.js",
                "/web/static/app.js"):
        assert f'src="{src}"'.encode() in body
        status, headers, script = client.request(src)
        assert status == 200 and "javascript" in headers["Content-Type"] and script
    assert b"http://" not in body and b"https://" not in body  # nothing from a CDN
    status, _, _ = client.request("/web/static/../app.py")
    assert status == 404
    status, headers, _ = client.request("/web")
    assert status == 200  # urllib followed the redirect to /web/


def test_the_api_needs_a_session(lab_served: Served) -> None:
    client = Browser(lab_served.base)
    assert client.api("version") == (401, {"error": "log in to the web view (open the link "
                                                    "`ovnlab web` prints)"})
    status, reply = client.api("login", {"token": "not-it"})
    assert status == 401 and "token is not this lab's" in reply["error"]
    status, headers, _ = client.request("/web/api/login", {"token": TOKEN}, page_header=False)
    assert status == 400 and not client.cookie  # a cross-site form cannot send the header
    status, headers, _ = client.request("/web/api/login", {"token": TOKEN})
    assert status == 200
    cookie = headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/web" in cookie
    assert client.api("version")[0] == 200
    assert client.api("logout", {})[0] == 200
    assert client.api("version")[0] == 401


def test_keystone_logins(lab_served: Served) -> None:
    client = Browser(lab_served.base)
    status, reply = client.api("login", {"username": "admin", "password": "wrong"})
    assert status == 401 and reply["error"] == "The request you have made requires authentication."
    status, reply = client.api("login", {"username": "demo", "password": "secret",
                                         "project": "demo"})
    assert status == 403 and "'demo' is not an admin" in reply["error"]
    assert client.api("login", {"username": "admin"}) == (400, {"error": "missing password"})
    assert client.api("login", {"username": "admin", "password": "secret"})[0] == 200
    assert client.api("version")[0] == 200


def test_off_loopback_the_token_is_refused() -> None:
    lab = Lab.build("seed")
    server, served = serve_web(lab, token_allowed=False)
    try:
        client = Browser(served.base)
        status, reply = client.api("login", {"token": TOKEN})
        assert status == 403 and "Keystone credentials only" in reply["error"]
        assert client.api("version") == (401, {"error": "log in to the web view"})
    finally:
        server.close()
        lab.close()


def test_bad_input_gets_the_cli_message(web: Browser, lab_served: Served) -> None:
    nodes = ", ".join(lab_served.lab.node_names())
    assert web.api("exec", {"node": "nosuch", "argv": ["ovs-ofctl", "show", "br-int"]}) == (
        404, {"error": f"no node 'nosuch' in this lab (nodes: {nodes})"})
    status, reply = web.api("exec", {"node": "compute1", "argv": ["ping", "8.8.8.8"]})
    assert status == 400 and reply["error"].startswith("ping: the web view runs ovs-ofctl")
    status, reply = web.api("exec", {"node": "compute1", "argv": ["tcpdump", "-w", "x"]})
    assert status == 400 and "reads no files" in reply["error"]
    status, reply = web.api("exec", {"node": "compute1",
                                     "argv": ["ovs-ofctl", "dump-flows", "br-int", "table=x"]})
    assert status == 200 and reply["rc"] != 0 and reply["stderr"].startswith("ovs-ofctl: ")
    assert web.api("trace", {"src": "vm_nope", "dst": "8.8.8.8"})[0] == 404
    assert web.api("trace", {"src": "network", "dst": "8.8.8.8", "proto": "sctp"}) == (
        400, {"error": "unknown protocol 'sctp' (expected icmp, tcp, udp)"})
    assert web.api("config", {"key": "ovn.enable_distributed_floating_ip", "value": "maybe"}) \
        == (400, {"error": "ovn.enable_distributed_floating_ip: expected true or false, "
                           "got 'maybe'"})
    assert web.api("nosuch")[0] == 404
    status, _, _ = web.request("/web/api/trace", method="POST")
    assert status == 400  # no body: src is missing
    assert web.api("version")[0] == 200  # and the view goes on


def test_the_version_moves_with_the_lab(web: Browser, lab_served: Served) -> None:
    _, before = web.api("version")
    status, reply = web.api("config", {"key": "ovn.enable_distributed_floating_ip",
                                       "value": "false"})
    try:
        assert status == 200 and reply["version"] != before["version"]
        assert web.api("version")[1]["version"] == reply["version"]
        _, topo = web.api("topology")
        assert topo["config"]["enable_distributed_floating_ip"] is False
    finally:
        web.api("config", {"key": "ovn.enable_distributed_floating_ip", "value": "true"})
    with lab_served.lock:
        lab_served.lab.openstack.network_create("webnet")
    _, after = web.api("version")
    assert after["version"] not in (before["version"], reply["version"])
    _, topo = web.api("topology")
    assert any(e["data"]["label"].startswith("webnet ") for e in topo["elements"])


def test_pcap_download(web: Browser, lab_served: Served) -> None:
    with lab_served.lock:
        assert lab_served.lab.exec("compute1", "ping -c 1 192.168.50.1").rc == 0
    status, headers, data = web.request("/web/api/pcap?node=compute1&iface=eth1&filter=icmp")
    assert status == 200 and headers["Content-Type"] == "application/vnd.tcpdump.pcap"
    assert 'filename="compute1-eth1.pcap"' in headers["Content-Disposition"]
    assert data[:4] == b"\xd4\xc3\xb2\xa1" and len(data) > 24 + 2 * 16  # request and reply
    status, _, raw = web.request("/web/api/pcap?node=compute1&iface=eth1&filter=icmp+and+(")
    assert status == 400
    assert json.loads(raw)["error"].startswith("tcpdump: can't parse filter expression")


def _capture(web: Browser, **query: Any) -> tuple[int, Any]:
    return web.api("capture?" + urllib.parse.urlencode(query))


def test_a_live_capture_shows_what_crossed_since_its_mark(web: Browser,
                                                           lab_served: Served) -> None:
    where = {"node": "compute1", "iface": "eth1"}
    status, started = _capture(web, **where, filter="icmp")
    assert status == 200 and started["lines"] == []  # a start shows nothing from before
    assert "listening on eth1, link-type EN10MB (Ethernet)" in started["header"]
    assert started["command"] == "tcpdump -n -e -i eth1 icmp"
    with lab_served.lock:
        assert lab_served.lab.exec("compute1", "ping -c 2 192.168.50.1").rc == 0
    mark = started["mark"]
    _, icmp = _capture(web, **where, filter="icmp", since=mark)
    assert len([ln for ln in icmp["lines"] if "ICMP echo request" in ln]) == 2
    assert len([ln for ln in icmp["lines"] if "ICMP echo reply" in ln]) == 2
    assert all("ICMP" in ln for ln in icmp["lines"]) and icmp["mark"] >= mark + 4
    assert icmp["lost"] == 0
    # the filter is applied: only the requests go to 192.168.50.1
    _, requests = _capture(web, **where, filter="icmp and dst host 192.168.50.1", since=mark)
    assert requests["lines"] == [ln for ln in icmp["lines"] if "echo request" in ln]
    # the lines are tcpdump's own: what `tcpdump --history` prints for those frames
    with lab_served.lock:
        history = lab_served.lab.exec("compute1", "tcpdump --history -n -e -i eth1 icmp")
    assert history.stdout.splitlines()[-4:] == icmp["lines"]
    _, after = _capture(web, **where, filter="icmp", since=icmp["mark"])
    assert after["lines"] == [] and after["mark"] == icmp["mark"]  # nothing new yet


def test_a_live_capture_refuses_bad_input_with_tcpdump_s_message(web: Browser) -> None:
    status, reply = _capture(web, node="compute1", iface="eth1", filter="icmp and (", since=0)
    assert status == 400
    assert reply["error"] == "tcpdump: can't parse filter expression: syntax error"
    assert _capture(web, node="compute1", iface="eth9", filter="") == (
        400, {"error": "tcpdump: eth9: No such device exists\n(No such device exists)"})
    assert _capture(web, node="nosuch", iface="eth1")[0] == 404
    assert _capture(web, node="compute1", iface="eth1", since="-1") == (
        400, {"error": "since: a frame mark is 0 or more, got '-1'"})
    assert _capture(web, node="compute1", iface="any")[0] == 400


def test_a_router_with_two_subnets_on_one_network_is_one_edge(web: Browser,
                                                              lab_served: Served) -> None:
    with lab_served.lock:
        os = lab_served.lab.openstack
        net = os.network_create("twonet")
        os.subnet_create("two-a", network="twonet", subnet_range="192.168.10.0/24")
        os.subnet_create("two-b", network="twonet", subnet_range="192.168.11.0/24")
        router = os.router_create("tworouter")
        os.router_add_subnet("tworouter", "two-a")
        os.router_add_subnet("tworouter", "two-b")
    _, topo = web.api("topology")
    ids = [e["data"]["id"] for e in topo["elements"]]
    assert len(ids) == len(set(ids))
    edges = [e["data"] for e in topo["elements"] if e["group"] == "edges"
             and e["data"]["source"] == f"router:{router['id']}"
             and e["data"]["target"] == f"net:{net['id']}"]
    assert [sorted(e["label"].split(", ")) for e in edges] == [["192.168.10.1", "192.168.11.1"]]
