"""Whatever text the API accepted can be read back by every later reader: listings of
every project, the operator tools, Neutron's resync, and a restart of the lab."""

from __future__ import annotations

import threading
from pathlib import Path

from abuse_helpers import TOPOLOGY, C, Client, N, login, state
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ovnlab import api
from ovnlab.lab import Lab

NASTY = ["\x00", "a\nb\r\nc", "\x1b[31mred", "\u202eevil", "\U0001f600", "'\"`$(rm)",
         "%s%n", "\\", " ", "\ufeff", "x" * 255, "\u0000\u0001\u007f\u0085\u2028"]
TOOLS = (["ovn-nbctl", "show"], ["ovn-nbctl", "ls-list"], ["ovn-nbctl", "lr-list"],
         ["ovn-nbctl", "list", "Logical_Switch_Port"], ["ovn-nbctl", "list", "ACL"],
         ["ovn-sbctl", "show"], ["ovn-sbctl", "list", "Port_Binding"])
# any Unicode text (no lone surrogates: the API refuses those)
text = st.text(st.characters(codec="utf-8"), min_size=1, max_size=40)


def _create(demo: Client, name: str, i: int, image: str) -> None:
    net = demo.ok("POST", f"{N}/networks", {"network": {"name": name, "description": name,
                                                        "tags": [name]}})["network"]["id"]
    demo.ok("POST", f"{N}/subnets", {"subnet": {"network_id": net, "name": name,
                                                "cidr": f"10.{i}.0.0/24", "ip_version": 4}})
    demo.ok("POST", f"{N}/ports", {"port": {"network_id": net, "name": name,
                                            "description": name}})
    demo.ok("POST", f"{N}/routers", {"router": {"name": name, "description": name}})
    sg = demo.ok("POST", f"{N}/security-groups", {"security_group": {
        "name": name, "description": name}})["security_group"]["id"]
    demo.ok("POST", f"{N}/security-group-rules", {"security_group_rule": {
        "security_group_id": sg, "direction": "ingress", "description": name}})
    r = demo.call("POST", f"{C}/servers", {"server": {
        "name": name, "imageRef": image, "flavorRef": "42", "networks": [{"uuid": net}],
        "metadata": {"k": name[:255]}}})
    # Nova takes printable names only (its valid_name_regex)
    assert r.status == 202 or (r.status == 400 and r.body["badRequest"]["message"].startswith(
        "An invalid 'name' value was provided.")), r.raw


def _readable(lab: Lab, admin: Client, demo: Client) -> None:
    for c in (admin, demo):
        for coll in ("networks", "subnets", "ports", "routers", "security-groups",
                     "security-group-rules"):
            assert c.call("GET", f"{N}/{coll}").status == 200
        assert c.call("GET", f"{C}/servers/detail").status == 200
    for argv in TOOLS:
        res = lab.exec("network", argv)
        assert res.rc == 0, (argv, res.stderr)
        res.stdout.encode("utf-8")  # printable on a UTF-8 terminal
    for node in ("compute1", "compute2"):
        assert lab.exec(node, ["ovs-vsctl", "show"]).rc == 0


def test_stored_names_break_no_reader_resync_or_restart(tmp_path: Path) -> None:
    lab = Lab(TOPOLOGY, tmp_path / "cloud.db")
    app = api.make_app(lab.locked_cloud(threading.Lock()))
    admin, demo = login(app, "admin"), login(app, "demo")
    image = admin.ok("GET", "/image/v2/images")["images"][0]["id"]
    counter = iter(range(1, 250))

    @settings(max_examples=6, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(st.lists(text, min_size=1, max_size=3))
    def create(names: list[str]) -> None:
        for name in names:
            _create(demo, name, next(counter), image)

    for name in NASTY:
        _create(demo, name, next(counter), image)
    create()
    _readable(lab, admin, demo)
    # Neutron's resync reads every stored value back into the NB (the first one also
    # refreshes `neutron:revision_number`s that adding subnets and port status changes
    # bumped in Neutron only); a second one finds nothing to do
    world_like = type("W", (), {"lab": lab})
    lab.cloud.sync_driver()
    before = state(world_like)  # type: ignore[arg-type]
    lab.cloud.sync_driver()
    assert state(world_like) == before  # type: ignore[arg-type]
    _readable(lab, admin, demo)
    lab.close()
    restarted = Lab(TOPOLOGY, tmp_path / "cloud.db")  # `ovnlab down; ovnlab up`
    app = api.make_app(restarted.locked_cloud(threading.Lock()))
    _readable(restarted, login(app, "admin"), login(app, "demo"))
    restarted.close()
