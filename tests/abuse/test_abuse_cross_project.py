"""The cross-project matrix: every resource type and every verb, as the non-admin `demo`
project against the admin project's resources (and what only an admin may do). Each
request gets Neutron's/Nova's/Keystone's answer (404 for what the project cannot see, 403
for what policy forbids, 400 where Nova reports a missing network or port) and changes
nothing: not the cloud, not the NB, no VIF plugged or unplugged; and listings show demo
nothing of the admin's that is not shared."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from abuse_helpers import C, N, Project, World, build_world, state

COLLECTIONS = {"network": "networks", "subnet": "subnets", "port": "ports",
               "router": "routers", "floatingip": "floatingips",
               "security_group": "security-groups", "security_group_rule":
               "security-group-rules"}


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    w = build_world()
    yield w
    w.lab.close()


def _matrix(a: Project, d: Project, w: World) -> list[tuple[str, str, Any, int]]:
    """(method, path, body, status) of every request demo must not get through."""
    out: list[tuple[str, str, Any, int]] = []
    for kind, coll in COLLECTIONS.items():
        rid = getattr(a, kind)
        out += [("GET", f"{N}/{coll}/{rid}", None, 404),
                ("PUT", f"{N}/{coll}/{rid}", {kind: {"description": "mine"}}, 404),
                ("DELETE", f"{N}/{coll}/{rid}", None, 404)]
    out = [r for r in out if not (r[1].startswith(f"{N}/security-group-rules/")
                                  and r[0] == "PUT")]  # rules have no update
    r = f"{N}/routers"
    pid = {p["name"]: p["id"] for p in w.lab.cloud.identity.get_projects()}
    out += [
        # the admin's router with demo's subnet or port, demo's router with the admin's
        ("PUT", f"{r}/{a.router}/add_router_interface", {"subnet_id": d.subnet}, 404),
        ("PUT", f"{r}/{a.router}/remove_router_interface", {"subnet_id": a.subnet}, 404),
        ("PUT", f"{r}/{d.router}/add_router_interface", {"subnet_id": a.subnet}, 404),
        ("PUT", f"{r}/{d.router}/add_router_interface", {"port_id": a.port}, 404),
        ("PUT", f"{r}/{d.router}/remove_router_interface", {"subnet_id": a.subnet}, 404),
        ("PUT", f"{r}/{a.router}", {"router": {"external_gateway_info": None}}, 404),
        # demo's resources pointed at the admin's
        ("POST", f"{N}/subnets", {"subnet": {"network_id": a.network, "cidr": "10.9.0.0/24",
                                             "ip_version": 4}}, 404),
        ("POST", f"{N}/ports", {"port": {"network_id": a.network}}, 404),
        ("POST", f"{N}/ports", {"port": {"network_id": d.network,
                                         "security_groups": [a.security_group]}}, 404),
        ("PUT", f"{N}/ports/{d.port}", {"port": {"security_groups": [a.security_group]}},
         404),
        ("PUT", f"{N}/ports/{d.port}", {"port": {"fixed_ips": [{"subnet_id": a.subnet}]}},
         400),
        ("POST", f"{N}/floatingips", {"floatingip": {"floating_network_id": w.ext_network,
                                                     "port_id": a.port}}, 404),
        ("PUT", f"{N}/floatingips/{d.floatingip}", {"floatingip": {"port_id": a.port}}, 404),
        ("POST", f"{N}/security-group-rules", {"security_group_rule": {
            "security_group_id": a.security_group, "direction": "ingress"}}, 404),
        ("POST", f"{N}/security-group-rules", {"security_group_rule": {
            "security_group_id": d.security_group, "direction": "ingress",
            "remote_group_id": a.security_group}}, 404),
        # what only an admin may do
        ("POST", f"{N}/networks", {"network": {"name": "x", "shared": True}}, 403),
        ("POST", f"{N}/networks", {"network": {"name": "x", "router:external": True}}, 403),
        ("POST", f"{N}/networks", {"network": {"name": "x",
                                               "provider:network_type": "geneve"}}, 403),
        ("POST", f"{N}/ports", {"port": {"network_id": d.network,
                                         "binding:host_id": "compute1"}}, 403),
        ("PUT", f"{N}/ports/{d.port}", {"port": {"binding:host_id": "compute1"}}, 403),
        ("POST", f"{N}/networks", {"network": {"name": "x", "project_id": "admin"}}, 400),
        ("PUT", f"{r}/{d.router}", {"router": {"distributed": True}}, 403),
        # Nova
        ("GET", f"{C}/servers/{a.server}", None, 404),
        ("DELETE", f"{C}/servers/{a.server}", None, 404),
        ("POST", f"{C}/servers/{a.server}/action", {"addSecurityGroup": {"name": "default"}},
         404),
        ("POST", f"{C}/servers/{a.server}/action",
         {"removeSecurityGroup": {"name": "default"}}, 404),
        ("POST", f"{C}/servers/{d.server}/action",
         {"addSecurityGroup": {"name": a.security_group}}, 404),
        ("POST", f"{C}/servers", {"server": {"name": "x", "imageRef": w.image,
                                             "flavorRef": "42",
                                             "networks": [{"uuid": a.network}]}}, 400),
        ("POST", f"{C}/servers", {"server": {"name": "x", "imageRef": w.image,
                                             "flavorRef": "42",
                                             "networks": [{"port": a.port}]}}, 400),
        ("POST", f"{C}/servers", {"server": {"name": "x", "imageRef": w.image,
                                             "flavorRef": "42", "availability_zone":
                                             "nova:compute1",
                                             "networks": [{"uuid": d.network}]}}, 403),
        ("GET", f"{C}/servers/{a.server}/os-interface", None, 404),
        ("POST", f"{C}/servers/{a.server}/os-interface",
         {"interfaceAttachment": {"port_id": d.port}}, 404),
        ("DELETE", f"{C}/servers/{a.server}/os-interface/{a.server_port}", None, 404),
        ("POST", f"{C}/servers/{d.server}/os-interface",
         {"interfaceAttachment": {"port_id": a.port}}, 404),
        ("POST", f"{C}/servers/{d.server}/os-interface",
         {"interfaceAttachment": {"net_id": a.network}}, 404),
        ("DELETE", f"{C}/servers/{d.server}/os-interface/{a.server_port}", None, 404),
        ("POST", f"{C}/servers/{a.server}/action", {"os-stop": None}, 404),
        ("POST", f"{C}/servers/{a.server}/action", {"reboot": {"type": "HARD"}}, 404),
        ("POST", f"{C}/servers/{a.server}/action", {"lock": None}, 404),
        ("POST", f"{C}/servers/{a.server}/action", {"rebuild": {"imageRef": w.image}}, 404),
        ("POST", f"{C}/servers/{a.server}/action", {"forceDelete": None}, 404),
        ("GET", f"{C}/servers/{a.server}/os-instance-actions", None, 404),
        ("GET", f"{C}/servers/{a.server}/os-server-password", None, 404),
        ("DELETE", f"{C}/servers/{a.server}/os-server-password", None, 404),
        ("POST", f"{C}/servers", {"server": {"name": "x", "imageRef": w.image,
                                             "flavorRef": "42", "key_name": "none",
                                             "networks": [{"uuid": d.network}]}}, 400),
        ("PUT", f"{C}/os-quota-sets/{pid['demo']}", {"quota_set": {"instances": 1}}, 403),
        ("GET", f"{C}/os-quota-sets/{pid['admin']}", None, 403),
        ("PUT", f"{N}/quotas/{pid['demo']}", {"quota": {"network": 1}}, 403),
        ("GET", f"{N}/quotas/{pid['admin']}", None, 403),
        ("GET", f"{N}/quotas", None, 403),
        ("POST", f"{N}/subnetpools", {"subnetpool": {"name": "x", "prefixes": ["10.9.0.0/16"],
                                                     "shared": True}}, 403),
        ("GET", f"{C}/servers?all_tenants=1", None, 403),
        ("GET", f"{C}/servers/detail?all_tenants", None, 403),
        # Keystone: another user's token
        ("GET", "/identity/v3/auth/tokens", None, 403),
        ("DELETE", "/identity/v3/auth/tokens", None, 403),
        ("GET", "/identity/v3/projects", None, 403),
    ]
    return out


def test_demo_cannot_reach_the_admins_resources(world: World) -> None:
    a, d = world.admin, world.demo
    admin_token = {"X-Subject-Token": a.client.token or ""}
    wrong = []
    for method, path, body, status in _matrix(a, d, world):
        before = state(world)
        raw = b"" if body is None else json.dumps(body).encode()
        reply = d.client.request(method, path, raw,
                                 admin_token if "auth/tokens" in path else None)
        if reply.status != status:
            wrong.append((method, path, body, status, reply.status, reply.raw[:200]))
        assert state(world) == before, (method, path, body, reply.raw)
    assert not wrong, "\n".join(map(str, wrong))


def test_listings_show_demo_nothing_of_the_admins(world: World) -> None:
    a, d = world.admin, world.demo
    # an external network is listed to every project, its subnets are not (get_subnet is
    # admin_or_owner or shared)
    shared = {world.ext_network}
    admin_ids = {getattr(a, k) for k in COLLECTIONS} | {a.server_port}
    admin_project = a.client.ok("GET", f"{N}/networks/{a.network}")["network"]["project_id"]
    seen: set[str] = set()
    for coll in COLLECTIONS.values():
        seen |= {r["id"] for r in d.client.ok("GET", f"{N}/{coll}")[coll.replace("-", "_")]}
        # filters cannot widen it either
        for q in (f"project_id={admin_project}", f"tenant_id={admin_project}", "all_tenants=1",
                  f"id={a.network}", f"device_id={a.server}", f"router_id={a.router}"):
            body = d.client.ok("GET", f"{N}/{coll}?{q}")
            seen |= {r["id"] for r in body[coll.replace("-", "_")]}
    for q in ("", "?name=admin", f"?project_id={admin_project}", "?all_tenants=0"):
        seen |= {s["id"] for s in d.client.ok("GET", f"{C}/servers/detail{q}")["servers"]}
    assert seen & (admin_ids | {world.ext_subnet}) == set()
    assert shared - seen == set()
    # the admin's router gateway, interfaces and FIP ports are not demo's either
    ports = d.client.ok("GET", f"{N}/ports")["ports"]
    assert {p["project_id"] for p in ports} == {d.client.ok(
        "GET", f"{N}/networks/{d.network}")["network"]["project_id"]}
