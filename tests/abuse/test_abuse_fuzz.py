"""Hostile requests per endpoint against the whole lab: random and malformed bodies (lone
surrogates, NaN/Infinity, deep nesting, wrong types, binary), ids of either project or
none, odd query strings and headers, as demo, as admin or with no valid token. Never a
5xx, and after every 4xx nothing changed: not the cloud's documents, not one NB row, no
VIF plugged or unplugged."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from abuse_helpers import C, Client, N, World, build_world, state
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from ovnlab.api.network import RESOURCES

EXAMPLES = int(os.environ.get("ABUSE_EXAMPLES", "150"))

# endpoint -> (path templates with their verbs)
R = f"{N}/routers/{{router}}"
K = "/identity/v3"
ENDPOINTS: dict[str, list[tuple[str, tuple[str, ...]]]] = {
    "networks": [(f"{N}/networks", ("GET", "POST")),
                 (f"{N}/networks/{{network}}", ("GET", "PUT", "DELETE"))],
    "subnets": [(f"{N}/subnets", ("GET", "POST")),
                (f"{N}/subnets/{{subnet}}", ("GET", "PUT", "DELETE"))],
    "ports": [(f"{N}/ports", ("GET", "POST")),
              (f"{N}/ports/{{port}}", ("GET", "PUT", "DELETE"))],
    "routers": [(f"{N}/routers", ("GET", "POST")), (R, ("GET", "PUT", "DELETE")),
                (f"{R}/add_router_interface", ("PUT",)),
                (f"{R}/remove_router_interface", ("PUT",))],
    "floatingips": [(f"{N}/floatingips", ("GET", "POST")),
                    (f"{N}/floatingips/{{floatingip}}", ("GET", "PUT", "DELETE"))],
    "security-groups": [(f"{N}/security-groups", ("GET", "POST")),
                        (f"{N}/security-groups/{{security_group}}", ("GET", "PUT", "DELETE")),
                        (f"{N}/security-group-rules", ("GET", "POST")),
                        (f"{N}/security-group-rules/{{security_group_rule}}",
                         ("GET", "DELETE"))],
    "servers": [(f"{C}/servers", ("GET", "POST")), (f"{C}/servers/detail", ("GET",)),
                (f"{C}/servers/{{server}}", ("GET", "PUT", "DELETE")),
                (f"{C}/servers/{{server}}/ips", ("GET",)),
                (f"{C}/servers/{{server}}/metadata", ("GET", "POST", "PUT")),
                (f"{C}/servers/{{server}}/metadata/{{tag}}", ("GET", "PUT", "DELETE")),
                (f"{C}/servers/{{server}}/action", ("POST",)),
                (f"{C}/servers/{{server}}/os-interface", ("GET", "POST")),
                (f"{C}/servers/{{server}}/os-interface/{{port}}", ("DELETE",)),
                (f"{C}/servers/{{server}}/os-instance-actions", ("GET",)),
                (f"{C}/servers/{{server}}/os-instance-actions/{{tag}}", ("GET",)),
                (f"{C}/servers/{{server}}/os-server-password", ("GET", "DELETE"))],
    "subnetpools": [(f"{N}/subnetpools", ("GET", "POST")),
                    (f"{N}/subnetpools/{{subnetpool}}", ("GET", "PUT", "DELETE"))],
    "neutron-quotas": [(f"{N}/quotas", ("GET",)),
                       (f"{N}/quotas/{{project}}", ("GET", "PUT", "DELETE")),
                       (f"{N}/quotas/{{project}}/default", ("GET",)),
                       (f"{N}/quotas/{{project}}/details", ("GET",))],
    "os-keypairs": [(f"{C}/os-keypairs", ("GET", "POST")),
                    (f"{C}/os-keypairs/{{tag}}", ("GET", "DELETE"))],
    "os-server-groups": [(f"{C}/os-server-groups", ("GET", "POST")),
                         (f"{C}/os-server-groups/{{server}}", ("GET", "DELETE"))],
    "os-quota-sets": [(f"{C}/os-quota-sets/{{project}}", ("GET", "PUT", "DELETE")),
                      (f"{C}/os-quota-sets/{{project}}/detail", ("GET",)),
                      (f"{C}/os-quota-sets/{{project}}/defaults", ("GET",))],
    "tokens": [("/identity/v3/auth/tokens", ("GET", "HEAD", "DELETE", "POST"))],
    "agents": [(f"{N}/agents", ("GET",)), (f"{N}/agents/{{agent}}", ("GET",))],
    "os-security-groups": [(f"{C}/os-security-groups", ("GET", "POST")),
                           (f"{C}/os-security-groups/{{security_group}}",
                            ("GET", "PUT", "DELETE")),
                           (f"{C}/os-security-group-rules", ("POST",)),
                           (f"{C}/os-security-group-rules/{{security_group_rule}}",
                            ("DELETE",)),
                           (f"{C}/servers/{{server}}/os-security-groups", ("GET",))],
    "os-floating-ips": [(f"{C}/os-floating-ips", ("GET", "POST")),
                        (f"{C}/os-floating-ips/{{floatingip}}", ("GET", "DELETE"))],
    "tags": [(f"{N}/{coll}/{{{kind}}}/tags{tail}", ("GET", "PUT", "DELETE"))
             for coll, kind in (("networks", "network"), ("ports", "port"),
                                ("routers", "router"), ("security-groups", "security_group"))
             for tail in ("", "/{tag}")],
    "identity": [(f"{K}/domains", ("GET",)), (f"{K}/domains/{{domain}}", ("GET",)),
                 (f"{K}/projects", ("GET", "POST")),
                 (f"{K}/projects/{{project}}", ("GET", "PATCH", "DELETE")),
                 (f"{K}/projects/{{project}}/users/{{user}}/roles", ("GET",)),
                 (f"{K}/projects/{{project}}/users/{{user}}/roles/{{role}}",
                  ("GET", "HEAD", "PUT", "DELETE")),
                 (f"{K}/users", ("GET", "POST")),
                 (f"{K}/users/{{user}}", ("GET", "PATCH", "DELETE")),
                 (f"{K}/users/{{user}}/projects", ("GET",)), (f"{K}/roles", ("GET",)),
                 (f"{K}/roles/{{role}}", ("GET",)), (f"{K}/role_assignments", ("GET",)),
                 (f"{K}/auth/catalog", ("GET",)), (f"{K}/auth/projects", ("GET",))],
    "application-credentials": [
        (f"{K}/users/{{user}}/application_credentials", ("GET", "POST")),
        (f"{K}/users/{{user}}/application_credentials/{{tag}}", ("GET", "DELETE"))],
}
ATTRS = sorted({a for r in RESOURCES for a in r.attrs} | {
    "subnet_id", "port_id", "name", "imageRef", "flavorRef", "networks", "uuid", "port",
    "fixed_ip", "metadata", "addSecurityGroup", "removeSecurityGroup", "addFloatingIp",
    "removeFloatingIp", "interfaceAttachment", "net_id", "address", "auth", "identity",
    "methods", "password", "user", "scope", "project", "domain", "ip_address"})
MEMBERS = [r.member for r in RESOURCES] + ["server", "interfaceAttachment", "auth"]


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    w = build_world()
    yield w
    w.lab.close()


def _ids(w: World) -> dict[str, list[str]]:
    """Each placeholder's candidates: the demo's, the admin's, the shared ones."""
    out: dict[str, list[str]] = {}
    for kind in ("network", "subnet", "port", "router", "server", "floatingip",
                 "security_group", "security_group_rule"):
        out[kind] = [getattr(w.demo, kind), getattr(w.admin, kind)]
    out["network"].append(w.ext_network)
    out["subnet"].append(w.ext_subnet)
    out["port"] += [w.demo.server_port, w.admin.server_port]
    out["agent"] = [n.system_id for n in w.lab.topology.nodes]
    out["project"] = [p["id"] for p in w.lab.cloud.identity.get_projects()]
    out["user"] = [u["id"] for u in w.lab.cloud.identity.get_users()]
    out["role"] = [r["id"] for r in w.lab.cloud.identity.get_roles()]
    out["domain"] = ["default"]
    out["tag"] = ["red", "x" * 300]
    out["subnetpool"] = [w.demo.subnet]  # no pool in the world: an id of another kind
    return out


# Hostile leaves: lone surrogates and control characters in text, NaN/Infinity floats
# (json.dumps writes them as the bare constants), huge and negative numbers.
hostile_text = st.text(st.characters(codec=None, categories=None), max_size=8) | st.sampled_from(
    ["\ud800", "a\udfffb", "\x00", "\u202e", "..", "%2F", "x" * 300, "", " ", "-1",
     "10.0.2.0/24", "ff:ff:ff:ff:ff:ff", "not-an-ip", "compute:nova", "nova:compute1"])
OVERFLOW = "\u2063overflow"  # written as the number 1e999 (Python reads it as infinity)
scalars = (st.none() | st.booleans() | st.integers(-(2**70), 2**70)
           | st.floats(allow_nan=True, allow_infinity=True) | hostile_text
           | st.just(OVERFLOW))


def _values(ids: list[str]) -> st.SearchStrategy[Any]:
    leaf = scalars | st.sampled_from(ids)
    return st.recursive(leaf, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(ATTRS) | hostile_text, inner, max_size=4), max_leaves=10)


def _valid(template: str, w: World) -> dict[str, Any] | None:
    """A body the endpoint would accept from demo, for hostile attributes to be added to:
    the hostile values then reach the model, the store and the NB, not just the parser."""
    d = w.demo
    member = {"networks": ("network", {"name": "x"}),
              "subnets": ("subnet", {"network_id": d.network, "cidr": "10.77.0.0/24",
                                     "ip_version": 4}),
              "ports": ("port", {"network_id": d.network}),
              "routers": ("router", {"name": "x"}),
              "floatingips": ("floatingip", {"floating_network_id": w.ext_network}),
              "security-groups": ("security_group", {"name": "x"}),
              "subnetpools": ("subnetpool", {"name": "x", "prefixes": ["10.78.0.0/16"]}),
              "security-group-rules": ("security_group_rule", {
                  "security_group_id": d.security_group, "direction": "ingress"})}
    parts = template.split("/")
    if template.startswith(N) and len(parts) in (4, 5) and parts[3] in member:
        name, base = member[parts[3]]
        return {name: dict(base) if len(parts) == 4 else {}}
    if template.endswith("_router_interface"):
        return {"subnet_id": d.subnet}
    if template == f"{C}/servers":
        return {"server": {"name": "x", "imageRef": w.image, "flavorRef": "42",
                           "networks": [{"uuid": d.network}]}}
    if template.endswith("/action"):
        return {"addSecurityGroup": {"name": "default"}}
    if template.endswith("/os-interface"):
        return {"interfaceAttachment": {"net_id": d.network}}
    return None


SERVER_ATTRS = ["name", "metadata", "description", "networks", "security_groups",
                "availability_zone", "tags", "key_name", "min_count", "imageRef"]


def _own_attrs(template: str) -> list[str]:
    """The attributes the endpoint's resource has (the hostile values then pass the
    "Unrecognized attribute" check and reach the model)."""
    if template.startswith(f"{C}/servers"):
        return SERVER_ATTRS
    parts = template.split("/")
    res = next((r for r in RESOURCES if parts[3:4] == [r.collection]), None)
    return sorted(res.attrs) if res is not None else []


def _body(data: st.DataObject, ids: list[str], template: str, w: World) -> bytes:
    kind = data.draw(st.integers(0, 9))
    if kind == 0:
        return data.draw(st.binary(max_size=40))
    if kind == 1:
        return data.draw(st.sampled_from([
            b"[" * 100_000, b'{"network": ' * 30_000, b"1e999999", b"-0", b"{", b"",
            b'{"a": 1, "a": 2}', b"\xef\xbb\xbf{}", b'"\\ud800"', b"NaN", b"[Infinity]",
            b"\xff\xfe{\x00}\x00"]))
    values = _values(ids)
    valid = _valid(template, w)
    body: Any
    if valid is not None and kind >= 5:
        # the endpoint's own body with a few of its attributes made hostile
        body = valid
        inner = next(iter(body.values())) if len(body) == 1 and isinstance(
            next(iter(body.values())), dict) else body
        keys = _own_attrs(template) or ATTRS
        for key in data.draw(st.lists(st.sampled_from(keys), min_size=1, max_size=3)):
            inner[key] = data.draw(values | st.lists(st.dictionaries(
                hostile_text | st.sampled_from(ATTRS), values, max_size=3), max_size=2))
    elif kind >= 3:
        body = data.draw(st.fixed_dictionaries({data.draw(st.sampled_from(MEMBERS)):
                                                st.dictionaries(st.sampled_from(ATTRS),
                                                                values, max_size=5)}))
    else:
        body = data.draw(values)
    return json.dumps(body).replace(json.dumps(OVERFLOW), "1e999").encode()


def _path(template: str, data: st.DataObject, ids: dict[str, list[str]]) -> str:
    out = template
    for kind, candidates in ids.items():
        token = "{" + kind + "}"
        if token in out:
            garbage = hostile_text.filter(lambda t: t not in ("", ".", "..")).map(
                lambda t: quote(t.encode("utf-8", "surrogatepass"), safe=""))
            out = out.replace(token, data.draw(st.sampled_from(candidates) | garbage))
    return out


def _query(data: st.DataObject, flat: list[str]) -> str:
    pairs = data.draw(st.lists(st.tuples(
        st.sampled_from([*ATTRS, "fields", "limit", "marker", "sort_key", "sort_dir",
                         "all_tenants", "id", "tags", "not-tags"]),
        st.sampled_from(flat) | hostile_text), max_size=3))
    raw = "&".join(f"{quote(k)}={quote(v.encode('utf-8', 'surrogatepass'))}" for k, v in pairs)
    return data.draw(st.sampled_from([raw, raw, "%ff%fe=%ud800", "a=b=c&&=&fields"]))


def _headers(data: st.DataObject, world: World, flat: list[str]) -> dict[str, str]:
    return data.draw(st.sampled_from([
        {}, {}, {"OpenStack-API-Version": "compute 2.999"},
        {"X-OpenStack-Nova-API-Version": "latest"}, {"OpenStack-API-Version": "compute -1"},
        {"X-Subject-Token": world.admin.client.token or ""},
        {"X-Subject-Token": "0" * 32}, {"X-Subject-Token": flat[0]},
        {"Content-Type": "text/plain"}]))


@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
def test_hostile_requests_never_5xx_and_4xx_change_nothing(world: World, endpoint: str) -> None:
    ids = _ids(world)
    flat = [i for v in ids.values() for i in v]
    anonymous = Client(world.app, "bogus")

    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(st.data())
    def run(data: st.DataObject) -> None:
        template, verbs = data.draw(st.sampled_from(ENDPOINTS[endpoint]))
        method = data.draw(st.sampled_from([*verbs, *verbs, "PATCH", "POST", "PUT"]))
        path = _path(template, data, ids)
        query = _query(data, flat)
        body = _body(data, flat, template, world) if method in ("POST", "PUT") or data.draw(
            st.integers(0, 4)) == 0 else b""
        who = data.draw(st.sampled_from(["demo"] * 6 + ["admin"] * 2 + ["anonymous"]))
        client = {"demo": world.demo.client, "admin": world.admin.client,
                  "anonymous": anonymous}[who]
        headers = _headers(data, world, flat)
        if endpoint == "tokens" and who == "admin":
            headers.pop("X-Subject-Token", None)  # the admin may revoke: keep the world's
        before = state(world)
        reply = client.request(method, f"{path}?{query}" if query else path, body, headers)
        event(f"{who} {method} {reply.status}")
        where = (who, method, path, query, body[:200], headers, reply.raw[:300])
        assert reply.status < 500, where
        if reply.status >= 400:
            assert state(world) == before, where
            if method != "HEAD":
                assert isinstance(reply.body, dict) and reply.body, where

    run()


# The parser refuses lone surrogates and NaN/Infinity wherever they are (tested above):
# these are the values that get through it.
LEAVES: list[Any] = [OVERFLOW, 2**70, "x" * 5000, "\x00\x1b[31m", [[[[[[[[1]]]]]]]]]
SHAPES = [lambda v: v, lambda v: [v],
          lambda v: [{"ip_address": v, "opt_name": "x", "opt_value": v, "k": v}]]


def test_every_attribute_with_every_hostile_value(world: World) -> None:
    """The deterministic complement of the sampling above: each endpoint's valid body with
    one attribute at a time set to each hostile value, bare or nested in a list, a dict or
    a list of dicts (free-form attributes such as extra_dhcp_opts take them through to the
    store). Never a 5xx; a 4xx changes nothing."""
    d = world.demo
    members = {"networks": d.network, "subnets": d.subnet, "ports": d.port,
               "routers": d.router, "floatingips": d.floatingip,
               "security-groups": d.security_group}
    targets: list[tuple[str, str, Any]] = []
    for template in sorted({t for routes in ENDPOINTS.values() for t, _ in routes}):
        valid = _valid(template, world)
        if valid is None or "{" in template.rsplit("/", 1)[-1]:
            continue
        path = template.replace("{router}", d.router).replace("{server}", d.server)
        targets.append(("PUT" if template.endswith("_interface") else "POST", path, valid))
    for coll, rid in members.items():  # updates of demo's own resources
        member = next(r.member for r in RESOURCES if r.collection == coll)
        targets.append(("PUT", f"{N}/{coll}/{rid}", {member: {}}))
    sent = 0
    for method, path, valid in targets:
        keys = _own_attrs(path) or sorted(next(iter(valid.values())) if isinstance(
            next(iter(valid.values())), dict) else valid)
        for key in keys:
            for leaf in LEAVES:
                for shape in SHAPES:
                    body = json.loads(json.dumps(valid))
                    inner = next(iter(body.values()))
                    (inner if isinstance(inner, dict) and len(body) == 1 else body)[key] = (
                        shape(leaf))
                    raw = json.dumps(body).replace(json.dumps(OVERFLOW), "1e999").encode()
                    before = state(world)
                    reply = d.client.request(method, path, raw)
                    sent += 1
                    where = (method, path, raw[:200], reply.raw[:300])
                    assert reply.status < 500, where
                    if reply.status >= 400:
                        assert state(world) == before, where
                    else:
                        _undo(d.client, method, path, reply)
    assert sent > 2000


def _undo(client: Client, method: str, path: str, reply: Any) -> None:
    """Take back what a request that succeeded made, so the world stays the same size."""
    body = reply.body or {}
    if method == "POST" and path.endswith("/os-interface"):
        port = body["interfaceAttachment"]["port_id"]
        assert client.request("DELETE", f"{path}/{port}").status == 202
    elif method == "POST" and len(body) == 1 and isinstance(next(iter(body.values())), dict):
        created = next(iter(body.values()))["id"]
        assert client.request("DELETE", f"{path}/{created}").status in (202, 204)
    elif path.endswith("/add_router_interface"):
        sub = {"subnet_id": body["subnet_id"]}
        assert client.request("PUT", path.replace("add_", "remove_"),
                              json.dumps(sub).encode()).status == 200
