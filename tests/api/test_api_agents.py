"""`GET /v2.0/agents` against a whole lab: ML2/OVN's agents, one per SB chassis."""

from __future__ import annotations

import threading

from api_helpers import Client

from ovnlab import api
from ovnlab.lab import Lab

N = "/networking/v2.0"


def test_agents_follow_the_chassis() -> None:
    lab = Lab.build("seed")
    app = api.make_app(lab.locked_cloud(threading.Lock()))
    admin, demo = Client(app), Client(app)
    assert admin.login().status == 201 and demo.login("demo", "demo").status == 201
    agents = admin.get(f"{N}/agents").body["agents"]
    by_host = {a["host"]: a for a in agents}
    assert sorted(by_host) == ["compute1", "compute2", "network"]
    net = by_host["network"]
    assert net["id"] == lab.topology.node("network").system_id
    assert (net["agent_type"], net["binary"], net["alive"]) == (
        "OVN Controller agent", "ovn-controller", True)
    assert net["configurations"] == {"chassis_name": net["id"], "bridge-mappings": "extnet0:br-ex"}
    # flagging the chassis as a gateway (as an operator does on the node) changes its type
    lab.exec("network", ["ovs-vsctl", "set", "open", ".",
                         "external_ids:ovn-cms-options=enable-chassis-as-gw"])
    lab.converge()
    gw = admin.get(f"{N}/agents/{net['id']}").body["agent"]
    assert gw["agent_type"] == "OVN Controller Gateway agent"
    assert [a["agent_type"] for a in admin.get(
        f"{N}/agents?agent_type=OVN+Controller+Gateway+agent").body["agents"]] == [
        "OVN Controller Gateway agent"]
    # get_agent is admin_only: a project lists nothing and is told nothing exists
    assert demo.get(f"{N}/agents").body["agents"] == []
    r = demo.get(f"{N}/agents/{net['id']}")
    assert r.status == 404 and r.body["NeutronError"]["type"] == "AgentNotFound"
    assert admin.get(f"{N}/agents/nope").status == 404
