"""Fixtures for the API tests: a small in-memory stand-in for `ovnlab.cloud.Cloud` (same
method names and error types) until/unless the real one is used, plus WSGI helpers."""

from __future__ import annotations

import io
import ipaddress
import itertools
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from ovnlab import api
from ovnlab.errors import BadRequest, Conflict, Forbidden, NotFound, Unauthorized
from ovnlab.topology import Project, User

PROJECTS = (Project("admin", (User("admin", "secret", True),)),
            Project("demo", (User("demo", "secret", False),)))


@dataclass(frozen=True, slots=True)
class Context:
    user_id: str
    project_id: str
    is_admin: bool


class FakeCloud:
    """Just enough Neutron/Nova semantics to exercise every API path."""

    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self.projects = {p.name: self._id() for p in PROJECTS}
        self.users = {u.name: (u.password, p.name, u.admin, self._id())
                      for p in PROJECTS for u in p.users}
        self.store: dict[str, dict[str, dict[str, Any]]] = {
            k: {} for k in ("network", "subnet", "port", "router", "floatingip",
                            "security_group", "security_group_rule", "server")}
        self.image = {"id": str(uuid.UUID(int=0xC1)), "name": "cirros", "size": 21430272}
        self.flavor = {"id": "42", "name": "m1.nano", "ram": 128, "disk": 1, "vcpus": 1}
        self.hypervisors = [{"id": str(uuid.UUID(int=0x100 + i)), "hypervisor_hostname": h,
                             "host_ip": f"192.168.50.{11 + i}"}
                            for i, h in enumerate(("compute1", "compute2"))]
        self.calls: list[str] = []

    def _id(self) -> str:
        return str(uuid.UUID(int=next(self._ids)))

    # identity
    def authenticate(self, user: str, password: str, project: str) -> Context:
        entry = self.users.get(user)
        if entry is None or entry[0] != password or entry[1] != project:
            raise Unauthorized("The request you have made requires authentication.")
        return Context(entry[3], self.projects[project], entry[2])

    def get_projects(self) -> list[dict[str, Any]]:
        return [{"id": i, "name": n} for n, i in self.projects.items()]

    # generic helpers
    def _visible(self, ctx: Context, kind: str, item: dict[str, Any]) -> bool:
        return (ctx.is_admin or item.get("project_id") == ctx.project_id
                or (kind == "network" and (item.get("shared") or item.get("router:external"))))

    def _get(self, ctx: Context, kind: str, id_: str) -> dict[str, Any]:
        item = self.store[kind].get(id_)
        if item is None or not self._visible(ctx, kind, item):
            name = {"network": "Network", "subnet": "Subnet", "port": "Port", "router": "Router",
                    "floatingip": "Floating IP", "security_group": "Security group",
                    "security_group_rule": "Security group rule"}.get(kind)
            if kind == "server":
                raise NotFound(f"Instance {id_} could not be found.")
            typ = "".join(w.capitalize() for w in kind.split("_")) + "NotFound"
            raise NotFound(f"{name} {id_} could not be found.", type=typ)
        return item

    def _own(self, ctx: Context, item: dict[str, Any]) -> None:
        if not ctx.is_admin and item.get("project_id") != ctx.project_id:
            raise NotFound("not found")

    def _new(self, ctx: Context, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        data = dict(body[kind])
        pid = data.pop("project_id", None) or data.pop("tenant_id", None) or ctx.project_id
        item = {"id": self._id(), "name": "", "project_id": pid, "tenant_id": pid, **data}
        self.store[kind][item["id"]] = item
        return item

    def _list(self, ctx: Context, kind: str) -> list[dict[str, Any]]:
        return [dict(i) for i in self.store[kind].values() if self._visible(ctx, kind, i)]

    # networks
    def create_network(self, ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
        net = body["network"]
        if not ctx.is_admin and any(k.startswith("provider:") or k == "router:external"
                                    for k in net):
            raise Forbidden("(rule:create_network and rule:create_network:provider:network_type)"
                            " is disallowed by policy", type="PolicyNotAuthorized")
        item = self._new(ctx, "network", body)
        item.setdefault("router:external", False)
        item.update(subnets=[], status="ACTIVE", admin_state_up=True, shared=False)
        return dict(item)

    def get_network(self, ctx: Context, id_: str, fields: Any = None) -> dict[str, Any]:
        return dict(self._get(ctx, "network", id_))

    def get_networks(self, ctx: Context, filters: Any = None, fields: Any = None) -> list[Any]:
        return self._list(ctx, "network")

    def update_network(self, ctx: Context, id_: str, body: dict[str, Any]) -> dict[str, Any]:
        item = self._get(ctx, "network", id_)
        self._own(ctx, item)
        item.update(body["network"])
        return dict(item)

    def delete_network(self, ctx: Context, id_: str) -> None:
        item = self._get(ctx, "network", id_)
        self._own(ctx, item)
        if item["subnets"]:
            raise Conflict(f"Unable to complete operation on network {id_}. There are one or "
                           "more ports still in use on the network.", type="NetworkInUse")
        del self.store["network"][id_]

    # subnets
    def create_subnet(self, ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
        net = self._get(ctx, "network", body["subnet"]["network_id"])
        cidr = ipaddress.ip_network(body["subnet"]["cidr"], strict=False)
        item = self._new(ctx, "subnet", body)
        item.setdefault("gateway_ip", str(cidr[1]))
        item.setdefault("allocation_pools", [{"start": str(cidr[2]), "end": str(cidr[-2])}])
        item.setdefault("enable_dhcp", True)
        item.setdefault("dns_nameservers", [])
        item.setdefault("host_routes", [])
        net["subnets"].append(item["id"])
        return dict(item)

    def get_subnet(self, ctx: Context, id_: str, fields: Any = None) -> dict[str, Any]:
        return dict(self._get(ctx, "subnet", id_))

    def get_subnets(self, ctx: Context, filters: Any = None, fields: Any = None) -> list[Any]:
        return self._list(ctx, "subnet")

    def update_subnet(self, ctx: Context, id_: str, body: dict[str, Any]) -> dict[str, Any]:
        item = self._get(ctx, "subnet", id_)
        item.update(body["subnet"])
        return dict(item)

    def delete_subnet(self, ctx: Context, id_: str) -> None:
        item = self._get(ctx, "subnet", id_)
        del self.store["subnet"][id_]
        self.store["network"][item["network_id"]]["subnets"].remove(id_)

    # ports
    def _alloc(self, subnet: dict[str, Any], wanted: str | None) -> str:
        used = {f["ip_address"] for p in self.store["port"].values() for f in p["fixed_ips"]}
        if wanted:
            if wanted in used:
                raise Conflict(f"IP address {wanted} already allocated in subnet "
                               f"{subnet['id']}", type="IpAddressAlreadyAllocated")
            return wanted
        pool = subnet["allocation_pools"][0]
        start, end = (int(ipaddress.ip_address(pool[k])) for k in ("start", "end"))
        for n in range(start, end + 1):
            if str(ipaddress.ip_address(n)) not in used:
                return str(ipaddress.ip_address(n))
        raise Conflict("No more IP addresses available", type="IpAddressGenerationFailure")

    def create_port(self, ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
        data = dict(body["port"])
        net = self._get(ctx, "network", data["network_id"])
        fixed = data.pop("fixed_ips", None)
        if fixed is None:
            fixed = [{"subnet_id": net["subnets"][0]}] if net["subnets"] else []
        ips = []
        for f in fixed:
            sid = f.get("subnet_id") or net["subnets"][0]
            ips.append({"subnet_id": sid,
                        "ip_address": self._alloc(self.store["subnet"][sid],
                                                  f.get("ip_address"))})
        item = self._new(ctx, "port", {"port": data})
        item.update(fixed_ips=ips, mac_address=f"fa:16:3e:00:00:{len(self.store['port']):02x}",
                    status="DOWN", device_id=data.get("device_id", ""),
                    device_owner=data.get("device_owner", ""),
                    security_groups=data.get("security_groups", []))
        return dict(item)

    def get_port(self, ctx: Context, id_: str, fields: Any = None) -> dict[str, Any]:
        return dict(self._get(ctx, "port", id_))

    def get_ports(self, ctx: Context, filters: Any = None, fields: Any = None) -> list[Any]:
        return self._list(ctx, "port")

    def update_port(self, ctx: Context, id_: str, body: dict[str, Any]) -> dict[str, Any]:
        item = self._get(ctx, "port", id_)
        item.update(body["port"])
        return dict(item)

    def delete_port(self, ctx: Context, id_: str) -> None:
        self._get(ctx, "port", id_)
        del self.store["port"][id_]

    # routers
    def create_router(self, ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
        item = self._new(ctx, "router", body)
        item.setdefault("external_gateway_info", None)
        item.update(status="ACTIVE", routes=[])
        return dict(item)

    def get_router(self, ctx: Context, id_: str, fields: Any = None) -> dict[str, Any]:
        return dict(self._get(ctx, "router", id_))

    def get_routers(self, ctx: Context, filters: Any = None, fields: Any = None) -> list[Any]:
        return self._list(ctx, "router")

    def update_router(self, ctx: Context, id_: str, body: dict[str, Any]) -> dict[str, Any]:
        item = self._get(ctx, "router", id_)
        data = dict(body["router"])
        gw = data.pop("external_gateway_info", None)
        if gw:
            net = self._get(ctx, "network", gw["network_id"])
            port = self.create_port(ctx, {"port": {
                "network_id": net["id"], "device_id": id_,
                "device_owner": "network:router_gateway"}})
            item["external_gateway_info"] = {
                "network_id": net["id"], "enable_snat": True,
                "external_fixed_ips": port["fixed_ips"]}
        item.update(data)
        return dict(item)

    def delete_router(self, ctx: Context, id_: str) -> None:
        self._get(ctx, "router", id_)
        del self.store["router"][id_]

    def add_router_interface(self, ctx: Context, router_id: str,
                             body: dict[str, Any]) -> dict[str, Any]:
        router = self._get(ctx, "router", router_id)
        self._own(ctx, router)
        subnet = self._get(ctx, "subnet", body["subnet_id"])
        for p in self.store["port"].values():
            if p["device_id"] == router_id:
                for f in p["fixed_ips"]:
                    other = self.store["subnet"][f["subnet_id"]]
                    if ipaddress.ip_network(other["cidr"]).overlaps(
                            ipaddress.ip_network(subnet["cidr"])):
                        raise BadRequest(
                            f"Bad router request: Cidr {subnet['cidr']} of subnet "
                            f"{subnet['id']} overlaps with cidr {other['cidr']} of subnet "
                            f"{other['id']}.", type="BadRequest")
        port = self.create_port(ctx, {"port": {
            "network_id": subnet["network_id"], "device_id": router_id,
            "device_owner": "network:router_interface",
            "fixed_ips": [{"subnet_id": subnet["id"], "ip_address": subnet["gateway_ip"]}]}})
        return {"id": router_id, "subnet_id": subnet["id"], "subnet_ids": [subnet["id"]],
                "port_id": port["id"], "network_id": subnet["network_id"],
                "project_id": router["project_id"], "tenant_id": router["project_id"]}

    def remove_router_interface(self, ctx: Context, router_id: str,
                                body: dict[str, Any]) -> dict[str, Any]:
        self._get(ctx, "router", router_id)
        for p in list(self.store["port"].values()):
            if p["device_id"] == router_id and any(
                    f["subnet_id"] == body.get("subnet_id") for f in p["fixed_ips"]):
                del self.store["port"][p["id"]]
                return {"id": router_id, "subnet_id": body["subnet_id"], "port_id": p["id"]}
        raise NotFound(f"Router {router_id} does not have an interface with id "
                       f"{body.get('subnet_id') or body.get('port_id')}",
                       type="RouterInterfaceNotFoundForSubnet")

    # floating ips
    def create_floatingip(self, ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
        net = self._get(ctx, "network", body["floatingip"]["floating_network_id"])
        port = self.create_port(ctx, {"port": {"network_id": net["id"],
                                               "device_owner": "network:floatingip"}})
        item = self._new(ctx, "floatingip", body)
        item.update(floating_ip_address=port["fixed_ips"][0]["ip_address"], port_id=None,
                    fixed_ip_address=None, router_id=None, status="DOWN")
        port["device_id"] = item["id"]
        self.store["port"][port["id"]]["device_id"] = item["id"]
        return dict(item)

    def get_floatingip(self, ctx: Context, id_: str, fields: Any = None) -> dict[str, Any]:
        return dict(self._get(ctx, "floatingip", id_))

    def get_floatingips(self, ctx: Context, filters: Any = None, fields: Any = None) -> list[Any]:
        return self._list(ctx, "floatingip")

    def update_floatingip(self, ctx: Context, id_: str, body: dict[str, Any]) -> dict[str, Any]:
        fip = self._get(ctx, "floatingip", id_)
        port_id = body["floatingip"].get("port_id")
        if port_id is None:
            fip.update(port_id=None, fixed_ip_address=None, router_id=None, status="DOWN")
            return dict(fip)
        port = self._get(ctx, "port", port_id)
        sid = port["fixed_ips"][0]["subnet_id"]
        for r in self.store["router"].values():
            gw = r.get("external_gateway_info") or {}
            has_if = any(p["device_id"] == r["id"] and p["fixed_ips"][0]["subnet_id"] == sid
                         for p in self.store["port"].values())
            if has_if and gw.get("network_id") == fip["floating_network_id"]:
                fip.update(port_id=port_id, router_id=r["id"], status="ACTIVE",
                           fixed_ip_address=port["fixed_ips"][0]["ip_address"])
                return dict(fip)
        raise NotFound(f"External network {fip['floating_network_id']} is not reachable from "
                       f"subnet {sid}.  Therefore, cannot associate Port {port_id} with a "
                       "Floating IP.", type="ExternalGatewayForFloatingIPNotFound")

    def delete_floatingip(self, ctx: Context, id_: str) -> None:
        self._get(ctx, "floatingip", id_)
        del self.store["floatingip"][id_]

    # security groups
    def create_security_group(self, ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
        item = self._new(ctx, "security_group", body)
        item["security_group_rules"] = []
        return dict(item)

    def get_security_group(self, ctx: Context, id_: str, fields: Any = None) -> dict[str, Any]:
        return dict(self._get(ctx, "security_group", id_))

    def get_security_groups(self, ctx: Context, filters: Any = None,
                            fields: Any = None) -> list[Any]:
        return self._list(ctx, "security_group")

    def update_security_group(self, ctx: Context, id_: str,
                              body: dict[str, Any]) -> dict[str, Any]:
        item = self._get(ctx, "security_group", id_)
        item.update(body["security_group"])
        return dict(item)

    def delete_security_group(self, ctx: Context, id_: str) -> None:
        self._get(ctx, "security_group", id_)
        del self.store["security_group"][id_]

    def create_security_group_rule(self, ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
        sg = self._get(ctx, "security_group", body["security_group_rule"]["security_group_id"])
        item = self._new(ctx, "security_group_rule", body)
        sg["security_group_rules"].append(dict(item))
        return dict(item)

    def get_security_group_rule(self, ctx: Context, id_: str,
                                fields: Any = None) -> dict[str, Any]:
        return dict(self._get(ctx, "security_group_rule", id_))

    def get_security_group_rules(self, ctx: Context, filters: Any = None,
                                 fields: Any = None) -> list[Any]:
        return self._list(ctx, "security_group_rule")

    def update_security_group_rule(self, ctx: Context, id_: str,
                                   body: dict[str, Any]) -> dict[str, Any]:
        item = self._get(ctx, "security_group_rule", id_)
        item.update(body["security_group_rule"])
        return dict(item)

    def delete_security_group_rule(self, ctx: Context, id_: str) -> None:
        self._get(ctx, "security_group_rule", id_)
        del self.store["security_group_rule"][id_]

    # nova
    def create_server(self, ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
        s = body["server"]
        if s["flavorRef"] not in (self.flavor["id"], self.flavor["name"]):
            raise NotFound(f"Flavor {s['flavorRef']} could not be found.", type="FlavorNotFound")
        sid = self._id()
        addresses: dict[str, list[dict[str, Any]]] = {}
        for n in s["networks"] if isinstance(s["networks"], list) else []:
            net = self._get(ctx, "network", n["uuid"])
            fixed = [{"ip_address": n["fixed_ip"]}] if n.get("fixed_ip") else None
            port = self.create_port(ctx, {"port": {
                "network_id": net["id"], "device_id": sid, "device_owner": "compute:nova",
                **({"fixed_ips": fixed} if fixed else {})}})
            addresses.setdefault(net["name"], []).append(
                {"addr": port["fixed_ips"][0]["ip_address"], "version": 4,
                 "OS-EXT-IPS:type": "fixed", "OS-EXT-IPS-MAC:mac_addr": port["mac_address"]})
        item = {"id": sid, "name": s["name"], "status": "ACTIVE", "project_id": ctx.project_id,
                "user_id": ctx.user_id, "image": s.get("imageRef", ""),
                "flavor": {"id": self.flavor["id"]}, "addresses": addresses,
                "security_groups": [{"name": "default"}],
                "OS-EXT-SRV-ATTR:host": "compute1"}
        self.store["server"][sid] = item
        return dict(item)

    def get_server(self, ctx: Context, id_: str) -> dict[str, Any]:
        return dict(self._get(ctx, "server", id_))

    def get_servers(self, ctx: Context, filters: Any = None) -> list[dict[str, Any]]:
        return self._list(ctx, "server")

    def delete_server(self, ctx: Context, id_: str) -> None:
        self._get(ctx, "server", id_)
        del self.store["server"][id_]

    def _find_sg(self, ctx: Context, server_id: str, name_or_id: str) -> dict[str, Any]:
        for sg in self.store["security_group"].values():
            if name_or_id in (sg["id"], sg["name"]) and self._visible(ctx, "security_group", sg):
                return sg
        raise NotFound(f"Security group {name_or_id} not found for project "
                       f"{ctx.project_id}.", type="SecurityGroupNotFoundForProject")

    def server_add_security_group(self, ctx: Context, server_id: str, name_or_id: str) -> None:
        sg = self._find_sg(ctx, server_id, name_or_id)
        self._get(ctx, "server", server_id)["security_groups"].append({"name": sg["name"]})

    def server_remove_security_group(self, ctx: Context, server_id: str,
                                     name_or_id: str) -> None:
        sg = self._find_sg(ctx, server_id, name_or_id)
        groups = self._get(ctx, "server", server_id)["security_groups"]
        groups[:] = [g for g in groups if g["name"] != sg["name"]]

    def get_flavors(self, ctx: Context) -> list[dict[str, Any]]:
        return [dict(self.flavor)]

    def get_images(self, ctx: Context) -> list[dict[str, Any]]:
        return [dict(self.image)]

    def get_hypervisors(self, ctx: Context) -> list[dict[str, Any]]:
        return [dict(h) for h in self.hypervisors]


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    raw: bytes

    @property
    def body(self) -> Any:
        return json.loads(self.raw) if self.raw else None


class Client:
    """Calls the WSGI app in-process."""

    def __init__(self, app: api.App) -> None:
        self.app = app
        self.token: str | None = None

    def request(self, method: str, path: str, body: Any = None, *, raw: bytes | None = None,
                headers: dict[str, str] | None = None, token: bool = True) -> Reply:
        path, _, query = path.partition("?")
        data = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
        environ: dict[str, Any] = {
            "REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": query,
            "CONTENT_LENGTH": str(len(data)), "wsgi.input": io.BytesIO(data),
            "wsgi.url_scheme": "http", "HTTP_HOST": "lab.test:5000",
            "CONTENT_TYPE": "application/json",
        }
        if token and self.token:
            environ["HTTP_X_AUTH_TOKEN"] = self.token
        for k, v in (headers or {}).items():
            environ["HTTP_" + k.upper().replace("-", "_")] = v
        captured: dict[str, Any] = {}

        def start_response(status: str, hdrs: list[tuple[str, str]]) -> None:
            captured["status"] = int(status.split()[0])
            captured["headers"] = {k.lower(): v for k, v in hdrs}

        out = b"".join(self.app(environ, start_response))
        return Reply(captured["status"], captured["headers"], out)

    def login(self, user: str = "admin", project: str = "admin",
              password: str = "secret") -> Reply:
        r = self.request("POST", "/identity/v3/auth/tokens", auth_body(user, password, project),
                         token=False)
        if r.status == 201:
            self.token = r.headers["x-subject-token"]
        return r

    def get(self, path: str, **kw: Any) -> Reply:
        return self.request("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> Reply:
        return self.request("POST", path, body, **kw)

    def put(self, path: str, body: Any = None, **kw: Any) -> Reply:
        return self.request("PUT", path, body, **kw)

    def delete(self, path: str, **kw: Any) -> Reply:
        return self.request("DELETE", path, **kw)


def auth_body(user: str, password: str, project: str) -> dict[str, Any]:
    return {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": user, "password": password, "domain": {"name": "Default"}}}},
        "scope": {"project": {"name": project, "domain": {"name": "Default"}}}}}


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def cloud() -> FakeCloud:
    return FakeCloud()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def app(cloud: FakeCloud, clock: Clock) -> api.App:
    return api.make_app(cloud, clock=clock)


@pytest.fixture
def client(app: api.App) -> Client:
    c = Client(app)
    assert c.login().status == 201
    return c


@pytest.fixture
def demo(app: api.App) -> Client:
    c = Client(app)
    assert c.login("demo", "demo").status == 201
    return c


@pytest.fixture
def make_client(app: api.App) -> Callable[[], Client]:
    return lambda: Client(app)


@pytest.fixture
def served(app: api.App) -> Iterator[api.ApiServer]:
    server = api.serve(app, "127.0.0.1", 0, background=True)
    yield server
    server.close()
