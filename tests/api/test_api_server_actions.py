"""Nova's server actions through the REST API: the vm_state machine (reboot, os-stop,
os-start, rebuild), lock/unlock, forceDelete/restore, os-instance-actions; errors as Nova's
(404 before anything else, 409 InstanceInvalidState / InstanceIsLocked, 400 schema) that
change nothing. And on a whole lab: a stopped server's packets stop, start brings them back."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from api_helpers import TOPOLOGY, Client, snapshot

from ovnlab import api
from ovnlab.cloud import Cloud
from ovnlab.lab import Lab

C = "/compute/v2.1"
N = "/networking/v2.0"
MV = {"OpenStack-API-Version": "compute 2.96"}


def _image(c: Client) -> str:
    return str(c.get("/image/v2/images").body["images"][0]["id"])


def _active_server(client: Client, cloud: Cloud, name: str = "vm1") -> str:
    """A booted server whose port came up (what the lab's controller reports)."""
    net = client.post(f"{N}/networks", {"network": {"name": "n1"}}).body["network"]["id"]
    client.post(f"{N}/subnets", {"subnet": {"network_id": net, "cidr": "10.9.0.0/24",
                                            "ip_version": 4}})
    r = client.post(f"{C}/servers", {"server": {"name": name, "imageRef": _image(client),
                                                "flavorRef": "42",
                                                "networks": [{"uuid": net}]}})
    assert r.status == 202, r.body
    sid = str(r.body["server"]["id"])
    for port in client.get(f"{N}/ports?device_id={sid}").body["ports"]:
        cloud.update_port_status(port["id"], "ACTIVE")
    return sid


def _act(c: Client, sid: str, body: Any, **kw: Any) -> Any:
    return c.post(f"{C}/servers/{sid}/action", body, **kw)


def _show(c: Client, sid: str) -> dict[str, Any]:
    return dict(c.get(f"{C}/servers/{sid}", headers=MV).body["server"])


def _states(server: dict[str, Any]) -> tuple[Any, ...]:
    return (server["status"], server["OS-EXT-STS:vm_state"],
            server["OS-EXT-STS:power_state"], server["OS-EXT-STS:task_state"])


def test_stop_start_and_reboot_follow_novas_states(client: Client, cloud: Cloud) -> None:
    sid = _active_server(client, cloud)
    assert _states(_show(client, sid)) == ("ACTIVE", "active", 1, None)
    assert "progress" in _show(client, sid)
    assert _act(client, sid, {"os-stop": None}).status == 202
    stopped = _show(client, sid)
    assert _states(stopped) == ("SHUTOFF", "stopped", 4, None)
    assert "progress" not in stopped  # only ACTIVE/BUILD/... servers show it
    r = _act(client, sid, {"os-stop": None})
    assert r.status == 409
    assert r.body["conflictingRequest"]["message"] == (
        f"Cannot 'stop' instance {sid} while it is in vm_state stopped")
    r = _act(client, sid, {"reboot": {"type": "SOFT"}})
    assert r.status == 409 and "Cannot 'reboot'" in r.body["conflictingRequest"]["message"]
    assert _act(client, sid, {"reboot": {"type": "HARD"}}).status == 202  # powers it on
    assert _states(_show(client, sid)) == ("ACTIVE", "active", 1, None)
    r = _act(client, sid, {"os-start": {}})
    assert r.status == 409 and r.body["conflictingRequest"]["message"] == (
        f"Cannot 'start' instance {sid} while it is in vm_state active")
    assert _act(client, sid, {"os-stop": {}}).status == 202
    assert _act(client, sid, {"os-start": None}).status == 202
    assert _show(client, sid)["status"] == "ACTIVE"
    assert client.get(f"{C}/servers/detail?status=SHUTOFF").body["servers"] == []


def test_pause_and_suspend_follow_novas_states(client: Client, cloud: Cloud) -> None:
    sid = _active_server(client, cloud)
    admin = cloud.admin_context()
    assert _act(client, sid, {"pause": None}).status == 202
    assert _states(_show(client, sid)) == ("PAUSED", "paused", 3, None)
    assert [s["id"] for s, _ in cloud.get_vifs(admin)] == [sid]  # its taps stay
    for body, verb in (({"pause": None}, "pause"), ({"suspend": None}, "suspend"),
                       ({"os-stop": None}, "stop"), ({"resume": None}, "resume")):
        r = _act(client, sid, body)
        assert r.status == 409 and r.body["conflictingRequest"]["message"] == (
            f"Cannot '{verb}' instance {sid} while it is in vm_state paused"), body
    assert _act(client, sid, {"unpause": {}}).status == 202
    assert _act(client, sid, {"suspend": None}).status == 202
    assert _states(_show(client, sid)) == ("SUSPENDED", "suspended", 4, None)
    assert cloud.get_vifs(admin) == []  # saved to disk: its domain and taps are gone
    r = _act(client, sid, {"unpause": None})
    assert r.status == 409
    assert _act(client, sid, {"resume": None}).status == 202
    assert _show(client, sid)["status"] == "ACTIVE"
    assert _act(client, sid, {"pause": {"now": 1}}).status == 400


def test_a_stopped_server_has_no_vif_to_plug(client: Client, cloud: Cloud) -> None:
    sid = _active_server(client, cloud)
    admin = cloud.admin_context()
    assert [s["id"] for s, _ in cloud.get_vifs(admin)] == [sid]
    _act(client, sid, {"os-stop": None})
    assert cloud.get_vifs(admin) == []
    _act(client, sid, {"os-start": None})
    assert [s["id"] for s, _ in cloud.get_vifs(admin)] == [sid]


def test_rebuild_changes_the_image_and_keeps_the_ports(client: Client, cloud: Cloud) -> None:
    sid = _active_server(client, cloud)
    before = _show(client, sid)
    images = client.get("/image/v2/images").body["images"]
    new_image = images[-1]["id"]
    r = _act(client, sid, {"rebuild": {"imageRef": new_image, "name": "rebuilt",
                                       "metadata": {"k": "v"}, "adminPass": "pw",
                                       "OS-DCF:diskConfig": "AUTO"}}, headers=MV)
    assert r.status == 202, r.body
    assert r.body["server"]["adminPass"] == "pw"
    assert r.body["server"]["image"]["id"] == new_image
    after = _show(client, sid)
    assert (after["name"], after["metadata"], after["OS-DCF:diskConfig"]) == (
        "rebuilt", {"k": "v"}, "AUTO")
    assert after["addresses"] == before["addresses"]
    _act(client, sid, {"os-stop": None})
    assert _act(client, sid, {"rebuild": {"imageRef": new_image}}).status == 202
    assert _show(client, sid)["status"] == "SHUTOFF"  # a stopped server stays stopped
    for body, status in (({"rebuild": {"imageRef": "nope"}}, 400),
                         ({"rebuild": {"name": "x"}}, 400),
                         ({"rebuild": {"imageRef": new_image, "bogus": 1}}, 400)):
        state = snapshot(cloud), _show(client, sid)
        assert _act(client, sid, body).status == status, body
        assert (snapshot(cloud), _show(client, sid)) == state


def test_a_locked_server_refuses_the_owner_and_not_an_admin(
        client: Client, demo: Client, cloud: Cloud) -> None:
    sid = _active_server(demo, cloud)
    assert _act(demo, sid, {"lock": None}).status == 202
    shown = _show(demo, sid)
    assert (shown["locked"], shown["locked_reason"]) == (True, None)
    for body in ({"os-stop": None}, {"reboot": {"type": "HARD"}},
                 {"rebuild": {"imageRef": _image(demo)}}):
        r = _act(demo, sid, body)
        assert r.status == 409, body
        assert r.body["conflictingRequest"]["message"] == f"Instance {sid} is locked"
    assert demo.delete(f"{C}/servers/{sid}").status == 409
    assert _act(demo, sid, {"unlock": None}).status == 202
    assert _act(client, sid, {"lock": {"locked_reason": "maintenance"}},
                headers=MV).status == 202
    assert _show(demo, sid)["locked_reason"] == "maintenance"
    r = _act(demo, sid, {"unlock": None})
    assert r.status == 403  # an admin's lock is not the owner's to lift
    assert _act(client, sid, {"os-stop": None}).status == 202  # an admin is not refused
    assert _act(client, sid, {"unlock": None}).status == 202
    assert _act(demo, sid, {"os-start": None}).status == 202


def test_unknown_servers_are_404_and_bad_bodies_400(client: Client, cloud: Cloud) -> None:
    sid = _active_server(client, cloud)
    missing = "8a2ef1c0-0000-4000-8000-000000000000"
    before = snapshot(cloud)
    for body in ({"reboot": {"type": "HARD"}}, {"os-stop": None}, {"os-start": None},
                 {"rebuild": {"imageRef": _image(client)}}, {"lock": None},
                 {"forceDelete": None}, {"restore": None},
                 {"os-getConsoleOutput": {"length": 3}}):
        r = _act(client, missing, body)
        assert r.status == 404, body
        assert r.body["itemNotFound"]["message"] == f"Instance {missing} could not be found."
    for body in ({"reboot": {}}, {"reboot": {"type": "WARM"}}, {"reboot": None},
                 {"os-stop": {"now": True}}, {"lock": {"locked_reason": "x"}}):
        assert _act(client, sid, body).status == 400, body
    assert snapshot(cloud) == before
    r = _act(client, sid, {"restore": None})
    assert r.status == 409  # nothing is soft-deleted with reclaim_instance_interval = 0
    assert _act(client, sid, {"os-getConsoleOutput": {}}).status == 501
    assert _act(client, sid, {"forceDelete": None}).status == 202
    assert client.get(f"{C}/servers/{sid}").status == 404


def test_instance_actions_record_each_action_by_request_id(
        client: Client, demo: Client, cloud: Cloud) -> None:
    sid = _active_server(client, cloud)
    created = client.get(f"{C}/servers/{sid}/os-instance-actions").body["instanceActions"]
    assert [a["action"] for a in created] == ["create"]
    r = _act(client, sid, {"reboot": {"type": "SOFT"}})
    request_id = r.headers["x-compute-request-id"]
    listed = client.get(f"{C}/servers/{sid}/os-instance-actions").body["instanceActions"]
    assert [a["action"] for a in listed] == ["reboot", "create"]  # newest first
    shown = client.get(f"{C}/servers/{sid}/os-instance-actions/{request_id}").body[
        "instanceAction"]
    assert (shown["action"], shown["instance_uuid"], shown["request_id"]) == (
        "reboot", sid, request_id)
    assert [e["event"] for e in shown["events"]] == ["compute_reboot_instance"]
    assert client.get(f"{C}/servers/{sid}/os-instance-actions/req-nope").status == 404
    assert demo.get(f"{C}/servers/{sid}/os-instance-actions").status == 404
    assert client.delete(f"{C}/servers/{sid}").status == 204
    after = client.get(f"{C}/servers/{sid}/os-instance-actions",
                       headers={"OpenStack-API-Version": "compute 2.21"}).body
    assert sorted(a["action"] for a in after["instanceActions"]) == ["create", "delete",
                                                                      "reboot"]


@pytest.mark.slow
def test_stopped_paused_suspended_servers_stop_answering_until_brought_back() -> None:
    lab = Lab(TOPOLOGY)
    try:
        c = Client(api.make_app(lab.locked_cloud(threading.Lock())))
        assert c.login().status == 201
        net = c.post(f"{N}/networks", {"network": {"name": "n1"}}).body["network"]["id"]
        c.post(f"{N}/subnets", {"subnet": {"network_id": net, "cidr": "10.9.0.0/24",
                                           "ip_version": 4}})
        ids = {}
        for name in ("vm-a", "vm-b"):
            r = c.post(f"{C}/servers", {"server": {"name": name, "imageRef": _image(c),
                                                   "flavorRef": "42",
                                                   "networks": [{"uuid": net}]}})
            ids[name] = r.body["server"]["id"]
        b = _show(c, ids["vm-b"])
        ip = b["addresses"]["n1"][0]["addr"]
        assert b["status"] == "ACTIVE"
        assert lab.exec("vm-a", ["ping", "-c", "1", "-W", "1", ip]).rc == 0
        assert _act(c, ids["vm-b"], {"os-stop": None}).status == 202
        port = c.get(f"{N}/ports?device_id={ids['vm-b']}").body["ports"][0]
        assert port["status"] == "DOWN"  # its tap left br-int: ovn-controller released it
        assert lab.exec("vm-a", ["ping", "-c", "1", "-W", "1", ip]).rc != 0
        assert _act(c, ids["vm-b"], {"os-start": None}).status == 202
        assert c.get(f"{N}/ports/{port['id']}").body["port"]["status"] == "ACTIVE"
        assert lab.exec("vm-a", ["ping", "-c", "1", "-W", "1", ip]).rc == 0
        # paused: the port stays up, the guest answers nothing; unpaused it answers again
        assert _act(c, ids["vm-b"], {"pause": None}).status == 202
        assert c.get(f"{N}/ports/{port['id']}").body["port"]["status"] == "ACTIVE"
        assert lab.exec("vm-a", ["ping", "-c", "1", "-W", "1", ip]).rc != 0
        assert _act(c, ids["vm-b"], {"unpause": None}).status == 202
        assert lab.exec("vm-a", ["ping", "-c", "1", "-W", "1", ip]).rc == 0
        # suspended: like stopped, its port goes down until it is resumed
        assert _act(c, ids["vm-b"], {"suspend": None}).status == 202
        assert c.get(f"{N}/ports/{port['id']}").body["port"]["status"] == "DOWN"
        assert lab.exec("vm-a", ["ping", "-c", "1", "-W", "1", ip]).rc != 0
        assert _act(c, ids["vm-b"], {"resume": None}).status == 202
        assert lab.exec("vm-a", ["ping", "-c", "1", "-W", "1", ip]).rc == 0
    finally:
        lab.close()
