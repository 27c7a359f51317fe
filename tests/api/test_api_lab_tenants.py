"""A tenant against the whole lab through the REST API: nothing a tenant sends can brick the
lab (tools, later requests, a restart) or reach into another project's servers."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from api_helpers import TOPOLOGY, Client

from ovnlab import api
from ovnlab.lab import Lab

N = "/networking/v2.0"
C = "/compute/v2.1"


def _clients(lab: Lab) -> tuple[Client, Client]:
    app = api.make_app(lab.locked_cloud(threading.Lock()))
    admin, demo = Client(app), Client(app)
    assert admin.login().status == 201 and demo.login("demo", "demo").status == 201
    return admin, demo


def _network(c: Client, cidr: str) -> str:
    net = c.post(f"{N}/networks", {"network": {"name": f"net-{cidr}"}}).body["network"]["id"]
    assert c.post(f"{N}/subnets", {"subnet": {"network_id": net, "cidr": cidr,
                                              "ip_version": 4}}).status == 201
    return str(net)


def _boot(c: Client, name: Any, net: str) -> Any:
    image = c.get("/image/v2/images").body["images"][0]["id"]
    return c.post(f"{C}/servers", {"server": {"name": name, "imageRef": image, "flavorRef": "42",
                                              "networks": [{"uuid": net}]}})


def _taps(lab: Lab) -> dict[str, list[str]]:
    out = {}
    for node in ("compute1", "compute2"):
        res = lab.exec(node, ["ovs-vsctl", "list-ports", "br-int"])
        assert res.rc == 0, res.stderr
        out[node] = [p for p in res.stdout.split() if p.startswith("tap")]
    return out


@pytest.mark.slow
def test_a_surrogate_name_is_refused_and_the_lab_keeps_working_and_restarts(
        tmp_path: Path) -> None:
    lab = Lab(TOPOLOGY, tmp_path / "cloud.db")
    admin, demo = _clients(lab)
    net = _network(demo, "192.168.5.0/24")
    image = demo.get("/image/v2/images").body["images"][0]["id"]
    raw = (b'{"server": {"name": "\\ud800", "imageRef": "%s", "flavorRef": "42", '
           b'"networks": [{"uuid": "%s"}]}}' % (image.encode(), net.encode()))
    assert demo.request("POST", f"{C}/servers", raw=raw).status == 400
    assert demo.request("POST", f"{N}/networks",
                        raw=b'{"network": {"name": "\\ud800"}}').status == 400
    assert admin.get(f"{C}/servers").body["servers"] == []
    assert _boot(demo, "vm-ok", net).status == 202
    assert admin.get(f"{N}/networks").status == 200
    for argv in (["ovn-nbctl", "ls-list"], ["ovn-nbctl", "show"], ["ovn-sbctl", "show"]):
        assert lab.exec("network", argv).rc == 0
    lab.close()
    restarted = Lab(TOPOLOGY, tmp_path / "cloud.db")  # what `ovnlab down; ovnlab up` does
    assert [s["name"] for s in restarted.cloud.nova.get_servers(restarted.admin)] == ["vm-ok"]
    assert sum(map(len, _taps(restarted).values())) == 1
    restarted.close()


@pytest.mark.slow
def test_a_port_whose_device_id_names_another_projects_server_plugs_nothing() -> None:
    lab = Lab(TOPOLOGY)
    admin, demo = _clients(lab)
    admin_net = _network(admin, "10.10.0.0/24")
    vm = _boot(admin, "admin-vm", admin_net).body["server"]["id"]
    before = admin.get(f"{C}/servers/{vm}").body["server"]
    taps = _taps(lab)
    demo_net = _network(demo, "192.168.5.0/24")
    r = demo.post(f"{N}/ports", {"port": {"network_id": demo_net, "device_id": vm,
                                          "device_owner": "compute:nova"}})
    assert r.status == 201  # Neutron takes any device_id, as on a real cloud
    port = r.body["port"]
    # ...but only Nova plugs a port into a server, from its own record of interfaces
    assert _taps(lab) == taps
    after = admin.get(f"{C}/servers/{vm}").body["server"]
    assert after["addresses"] == before["addresses"] and after["status"] == "ACTIVE"
    shown = admin.get(f"{N}/ports/{port['id']}").body["port"]
    assert shown["status"] == "DOWN" and shown["binding:host_id"] == ""
    # the same through an update of an existing port
    other = demo.post(f"{N}/ports", {"port": {"network_id": demo_net}}).body["port"]["id"]
    assert demo.put(f"{N}/ports/{other}", {"port": {"device_id": vm, "device_owner":
                                                    "compute:nova"}}).status == 200
    assert _taps(lab) == taps
    # deleting the admin's server takes its own interface only
    assert admin.delete(f"{C}/servers/{vm}").status == 204
    assert {p["id"] for p in demo.get(f"{N}/ports").body["ports"]} >= {port["id"], other}
    assert sum(map(len, _taps(lab).values())) == 0
    lab.close()


@pytest.mark.slow
def test_a_request_that_fails_after_its_commit_is_undone_everywhere(monkeypatch) -> None:
    """A 5xx while the lab converges after the operation committed (here: plugging the
    VIF fails) leaves no server, no port, no NB row and no tap behind."""
    lab = Lab(TOPOLOGY)
    admin, demo = _clients(lab)
    net = _network(demo, "192.168.5.0/24")
    nb_before = lab.exec("network", ["ovn-nbctl", "show"]).stdout
    ports_before = demo.get(f"{N}/ports").body["ports"]

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the hypervisor fell over")

    with monkeypatch.context() as m:
        m.setattr(lab.fabric, "sync_vms", broken)
        r = _boot(demo, "vm", net)
    assert r.status == 500 and r.body["computeFault"]["code"] == 500
    assert admin.get(f"{C}/servers").body["servers"] == []
    assert demo.get(f"{N}/ports").body["ports"] == ports_before
    assert lab.exec("network", ["ovn-nbctl", "show"]).stdout == nb_before
    assert _taps(lab) == {"compute1": [], "compute2": []}
    assert _boot(demo, "vm", net).status == 202  # and the lab carries on
    assert sum(map(len, _taps(lab).values())) == 1
    lab.close()


@pytest.mark.slow
def test_interface_attach_and_detach_plug_and_unplug_through_novas_record() -> None:
    lab = Lab(TOPOLOGY)
    admin, demo = _clients(lab)
    net = _network(admin, "10.10.0.0/24")
    vm = _boot(admin, "vm", net).body["server"]["id"]
    base = f"{C}/servers/{vm}/os-interface"
    first = admin.get(base).body["interfaceAttachments"]
    assert len(first) == 1 and first[0]["net_id"] == net and first[0]["port_state"] == "ACTIVE"
    # a port given to Nova (server add port): bound, plugged; detached: unbound, kept
    port = admin.post(f"{N}/ports", {"port": {"network_id": net}}).body["port"]["id"]
    r = admin.post(base, {"interfaceAttachment": {"port_id": port}})
    assert r.status == 200 and r.body["interfaceAttachment"]["port_id"] == port
    assert sum(map(len, _taps(lab).values())) == 2
    assert admin.get(f"{N}/ports/{port}").body["port"]["device_id"] == vm
    assert admin.get(f"{base}/{port}").body["interfaceAttachment"]["port_state"] == "ACTIVE"
    assert admin.post(base, {"interfaceAttachment": {"port_id": port}}).status == 409
    assert admin.delete(f"{base}/{port}").status == 202
    assert sum(map(len, _taps(lab).values())) == 1
    kept = admin.get(f"{N}/ports/{port}").body["port"]
    assert kept["device_id"] == "" and kept["binding:host_id"] == ""
    # a port Nova creates (server add network): deleted on detach
    r = admin.post(base, {"interfaceAttachment": {"net_id": net,
                                                  "fixed_ips": [{"ip_address": "10.10.0.50"}]}})
    assert r.status == 200, r.raw
    created = r.body["interfaceAttachment"]["port_id"]
    assert r.body["interfaceAttachment"]["fixed_ips"][0]["ip_address"] == "10.10.0.50"
    assert sum(map(len, _taps(lab).values())) == 2
    assert admin.delete(f"{base}/{created}").status == 202
    assert admin.get(f"{N}/ports/{created}").status == 404
    # Nova's errors
    assert admin.post(base, {"interfaceAttachment": {"port_id": port, "net_id": net}}
                      ).body["badRequest"]["message"] == "Must not input both network_id and port_id"
    assert admin.post(base, {"interfaceAttachment": {"fixed_ips": [{"ip_address": "1.1.1.1"}]}}
                      ).status == 400
    assert admin.post(base, {"interfaceAttachment": {"port_id": "nope"}}).status == 404
    assert admin.post(base, {"interfaceAttachment": {"net_id": "nope"}}).status == 404
    assert admin.delete(f"{base}/{port}").body["itemNotFound"]["message"] == (
        f"Port {port} is not attached")
    # another project can neither attach to the server nor attach its port elsewhere
    demo_net = _network(demo, "192.168.5.0/24")
    demo_port = demo.post(f"{N}/ports", {"port": {"network_id": demo_net}}).body["port"]["id"]
    taps = _taps(lab)
    assert demo.post(base, {"interfaceAttachment": {"port_id": demo_port}}).status == 404
    assert demo.get(base).status == 404
    assert demo.delete(f"{base}/{first[0]['port_id']}").status == 404
    demo_vm = _boot(demo, "dvm", demo_net).body["server"]["id"]
    assert demo.post(f"{C}/servers/{demo_vm}/os-interface",
                     {"interfaceAttachment": {"port_id": port}}).status == 404
    assert demo.post(f"{C}/servers/{demo_vm}/os-interface",
                     {"interfaceAttachment": {"net_id": net}}).status == 404
    assert sum(map(len, _taps(lab).values())) == sum(map(len, taps.values())) + 1
    lab.close()
