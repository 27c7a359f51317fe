"""Generated requests against every route: never a 5xx, and a 4xx changes nothing (neither
the cloud's store nor the driver)."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlencode

from api_helpers import TOPOLOGY, Client, RecordingDriver, snapshot
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from ovnlab import api
from ovnlab.api import attrs
from ovnlab.api.network import RESOURCES
from ovnlab.cloud import Cloud

KEYS = sorted({k for r in RESOURCES for k in r.attrs} | {
    "server", "name", "imageRef", "flavorRef", "networks", "uuid", "fixed_ip", "port",
    "security_groups", "availability_zone", "min_count", "max_count", "auth", "identity",
    "methods", "password", "user", "scope", "project", "domain", "subnet_id", "port_id",
    "addSecurityGroup", "removeSecurityGroup", "start", "end", "destination", "nexthop",
    "ip_address", "network_id", "enable_snat", "external_fixed_ips",
    *(r.member for r in RESOURCES)})
SPECIAL = ["", " ", "n1", "cirros", "m1.nano", "42", "10.0.2.0/24", "172.16.100.10",
           "fa:16:3e:00:00:01", "true", "False", "None", "in:a,b", "..", "%2F", "\x00",
           "é", "\u2603", "9" * 40, "-1", "0x10", "NaN", "::1", "nova:compute1", "ingress",
           "IPv4", "tcp", "auto", "geneve", "flat", "extnet0", "default", "admin", "secret"]

scalars = (st.none() | st.booleans() | st.integers(-(2**70), 2**70)
           | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=12)
           | st.sampled_from(SPECIAL))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
    st.sampled_from(KEYS) | st.text(max_size=6), inner, max_size=4), max_leaves=10)


def _world() -> tuple[api.App, Cloud, RecordingDriver, Client, list[str]]:
    """A small lab with one of each resource, so generated ids sometimes exist."""
    driver = RecordingDriver()
    cloud = Cloud(None, TOPOLOGY, driver)
    app = api.make_app(cloud)
    c = Client(app)
    c.login()
    n = "/networking/v2.0"
    ext = c.post(f"{n}/networks", {"network": {"name": "ext", "router:external": True,
                                               "provider:network_type": "flat",
                                               "provider:physical_network": "extnet0"}})
    ext_id = ext.body["network"]["id"]
    c.post(f"{n}/subnets", {"subnet": {"network_id": ext_id, "cidr": "10.0.2.0/24",
                                       "ip_version": 4, "enable_dhcp": False}})
    net = c.post(f"{n}/networks", {"network": {"name": "n1"}}).body["network"]["id"]
    sub = c.post(f"{n}/subnets", {"subnet": {"network_id": net, "cidr": "172.16.100.0/24",
                                             "ip_version": 4}}).body["subnet"]["id"]
    rid = c.post(f"{n}/routers", {"router": {"name": "r", "external_gateway_info": {
        "network_id": ext_id}}}).body["router"]["id"]
    c.put(f"{n}/routers/{rid}/add_router_interface", {"subnet_id": sub})
    image = c.get("/image/v2/images").body["images"][0]["id"]
    server = c.post("/compute/v2.1/servers", {"server": {
        "name": "vm_1", "imageRef": image, "flavorRef": "42", "networks": [{"uuid": net}]}})
    fip = c.post(f"{n}/floatingips", {"floatingip": {"floating_network_id": ext_id}})
    sg = c.post(f"{n}/security-groups", {"security_group": {"name": "sg"}})
    tagged = [f"networks={ext_id}", f"networks={net}", f"subnets={sub}", f"routers={rid}",
              f"images={image}", f"servers={server.body['server']['id']}",
              f"floatingips={fip.body['floatingip']['id']}",
              f"security-groups={sg.body['security_group']['id']}", "flavors=42"]
    tagged += [f"ports={p['id']}" for p in c.get(f"{n}/ports").body["ports"]]
    return app, cloud, driver, c, tagged


def _fill(template: str, data: st.DataObject, ids: list[str]) -> str:
    """Path parameters: often an id of the right collection, else any id or any text."""
    parts = re.split(r"\{\w+\}", template)
    out = parts[0]
    for part in parts[1:]:
        coll = out.rstrip("/").rsplit("/", 1)[-1]
        own = [i.split("=", 1)[1] for i in ids if i.startswith(coll + "=")]
        plain = [i.split("=", 1)[-1] for i in ids]
        out += data.draw(st.sampled_from(own or plain) | st.sampled_from(plain) | st.text(
            st.characters(blacklist_characters="/", blacklist_categories=("Cs",)),
            min_size=1, max_size=20)) + part
    return out


def _plausible(kind: attrs.Kind, ids: list[str]) -> st.SearchStrategy[Any]:
    """Mostly valid values of an attribute's type (so creates and updates also succeed)."""
    strategy: st.SearchStrategy[Any]
    if isinstance(kind, attrs.Str):
        strategy = st.sampled_from([*ids, *ids, "n1", "r", "vm_1", "", "x" * 300])
    elif isinstance(kind, attrs.Bool):
        strategy = st.booleans()
    elif isinstance(kind, attrs.Int):
        strategy = st.integers(kind.minimum or 0, min(kind.maximum or 5000, 5000))
    elif isinstance(kind, attrs.Enum):
        strategy = st.sampled_from(kind.values)
    elif isinstance(kind, attrs.IP):
        strategy = st.sampled_from(["172.16.100.20", "10.0.2.215", "10.0.2.2", "::1", "1.2.3.4"])
    elif isinstance(kind, attrs.CIDR):
        strategy = st.sampled_from(["10.5.0.0/24", "172.16.100.0/24", "10.0.2.0/24",
                                    "0.0.0.0/0", "fd00::/64", "10.6.0.7/24"])
    elif isinstance(kind, attrs.MAC):
        strategy = st.sampled_from(["fa:16:3e:11:22:33", "ff:ff:ff:ff:ff:ff"])
    elif isinstance(kind, attrs.Protocol):
        strategy = st.sampled_from(["icmp", "tcp", "udp", 6, 300, "carrier", None])
    elif isinstance(kind, attrs.ListOf):
        strategy = st.lists(_plausible(kind.item, ids), max_size=2)
    elif isinstance(kind, attrs.Obj):
        if kind.extra:
            strategy = st.dictionaries(st.text(max_size=5), scalars, max_size=2)
        else:
            strategy = st.fixed_dictionaries(
                {k: _plausible(kind.fields[k], ids) for k in kind.required},
                optional={k: _plausible(v, ids) for k, v in kind.fields.items()
                          if k not in kind.required})
    else:
        strategy = values
    if kind.nullable:
        strategy = strategy | st.none()
    return strategy | values if isinstance(kind, attrs.Obj) else strategy


def _resource_body(res: attrs.Resource, method: str, ids: list[str]) -> st.SearchStrategy[Any]:
    allowed = {k: a for k, a in res.attrs.items() if (a.post if method == "POST" else a.put)}
    required = {k: _plausible(a.kind, ids) for k, a in allowed.items()
                if a.required and method == "POST"}
    optional = {k: _plausible(a.kind, ids) for k, a in allowed.items() if k not in required}
    few = st.lists(st.sampled_from(sorted(optional)), max_size=3, unique=True).flatmap(
        lambda keys: st.fixed_dictionaries({k: optional[k] for k in keys}))
    member = st.tuples(st.fixed_dictionaries(required), few).map(lambda t: {**t[0], **t[1]})
    return st.fixed_dictionaries({res.member: member})


def _server_body(ids: list[str]) -> st.SearchStrategy[Any]:
    nic = st.fixed_dictionaries({"uuid": st.sampled_from(ids)}, optional={
        "fixed_ip": st.sampled_from(["172.16.100.30", "10.0.2.215", "1.1.1.1"])})
    return st.fixed_dictionaries({"server": st.fixed_dictionaries(
        {"name": st.sampled_from(["vm_1", "vm_2", ""]), "flavorRef": st.sampled_from(
            ["42", "m1.nano", "nope"]), "imageRef": st.sampled_from(ids)},
        optional={"networks": st.lists(nic, max_size=2) | st.sampled_from(["auto", "none"]),
                  "security_groups": st.lists(st.fixed_dictionaries(
                      {"name": st.sampled_from(["default", "sg", "nope"])}), max_size=2),
                  "availability_zone": st.sampled_from(["nova", "nova:compute2", "x"])})})


def _body(template: str, method: str, data: st.DataObject, ids: list[str]) -> bytes:
    res = next((r for r in RESOURCES if template.split("/")[3:4] == [r.collection]), None)
    biased = values | st.sampled_from(ids)
    generic: list[st.SearchStrategy[Any]] = [
        values, st.dictionaries(st.sampled_from(KEYS), biased, max_size=6)]
    shaped: list[st.SearchStrategy[Any]] = []
    if res is not None and template.count("/") <= 4:
        shaped.append(_resource_body(res, method, ids))
    if template.endswith("_router_interface"):
        shaped.append(st.fixed_dictionaries({}, optional={
            "subnet_id": st.sampled_from(ids), "port_id": st.sampled_from(ids)}))
    if template.endswith("/servers"):
        shaped.append(_server_body(ids))
    if template.endswith("/action"):
        shaped += [st.fixed_dictionaries({a: st.fixed_dictionaries({"name": st.sampled_from(
            ["default", "sg", "nope", *ids])})}) for a in ("addSecurityGroup",
                                                           "removeSecurityGroup")]
    roll = data.draw(st.integers(0, 9))
    if roll == 0:
        return data.draw(st.binary(max_size=30))
    pool = shaped if shaped and roll >= 4 else generic
    return json.dumps(data.draw(st.sampled_from(pool).flatmap(lambda s: s))).encode()


@settings(max_examples=int(__import__("os").environ.get("API_FUZZ_EXAMPLES", "100")), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.data())
def test_generated_requests_never_5xx_and_4xx_change_nothing(data: st.DataObject) -> None:
    app, cloud, driver, client, tagged = _world()
    ids = [i.split("=", 1)[1] for i in tagged]
    for _ in range(data.draw(st.integers(1, 6))):
        route = data.draw(st.sampled_from(app.router.routes))
        path = _fill(route.template, data, tagged)
        query = data.draw(st.lists(st.tuples(st.sampled_from(KEYS + ["fields", "id", "limit"]),
                                             st.sampled_from(SPECIAL + ids) | st.text(
                                                 max_size=8)), max_size=3))
        method = data.draw(st.sampled_from([route.method] * 5 + ["PATCH"]))
        body = _body(route.template, method, data, ids) if method in ("POST", "PUT") else b""
        headers = data.draw(st.sampled_from([{}, {}, {}, {"OpenStack-API-Version": "compute 2.88"},
                                             {"X-OpenStack-Nova-API-Version": "9.9"},
                                             {"X-Auth-Token": "bogus"}]))
        before, calls = snapshot(cloud), len(driver.calls)
        reply = client.request(method, f"{path}?{urlencode(query)}" if query else path,
                               raw=body, headers=headers)
        event(f"{method} {reply.status}")
        assert reply.status < 500, (method, path, query, body, reply.raw)
        assert reply.headers.get("content-type", "application/json") == "application/json"
        if reply.status >= 400:
            assert snapshot(cloud) == before, (method, path, body, reply.raw)
            assert len(driver.calls) == calls
            if method != "HEAD":
                assert isinstance(reply.body, dict) and len(reply.body) >= 1
    cloud.close()
