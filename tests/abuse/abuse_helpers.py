"""The abuse suite's world: a whole lab (cloud, ML2/OVN driver, NB, northd, controllers,
fabric) behind the REST API, with an admin and a demo project that each own one of every
resource, and a snapshot of everything a request could change.

(A uniquely named module: helper modules of several test directories share sys.path.)
"""

from __future__ import annotations

import io
import json
import threading
from dataclasses import dataclass
from typing import Any

from ovnlab import api, topology
from ovnlab.lab import Lab

N = "/networking/v2.0"
C = "/compute/v2.1"
TOPOLOGY = topology.load("seed")


@dataclass
class Reply:
    status: int
    raw: bytes
    headers: dict[str, str]

    @property
    def body(self) -> Any:
        return json.loads(self.raw) if self.raw else None


class Client:
    """Calls the WSGI app in-process with raw bytes, any headers, any token."""

    def __init__(self, app: api.App, token: str | None = None) -> None:
        self.app = app
        self.token = token

    def request(self, method: str, path: str, raw: bytes = b"",
                headers: dict[str, str] | None = None) -> Reply:
        path, _, query = path.partition("?")
        environ: dict[str, Any] = {
            "REQUEST_METHOD": method, "PATH_INFO": path.encode().decode("latin-1"),
            "QUERY_STRING": query, "CONTENT_LENGTH": str(len(raw)),
            "wsgi.input": io.BytesIO(raw), "wsgi.url_scheme": "http",
            "HTTP_HOST": "lab.test:5000", "CONTENT_TYPE": "application/json"}
        if self.token:
            environ["HTTP_X_AUTH_TOKEN"] = self.token
        for k, v in (headers or {}).items():
            environ["HTTP_" + k.upper().replace("-", "_")] = v
        got: dict[str, Any] = {}

        def start_response(status: str, hdrs: list[tuple[str, str]]) -> None:
            got.update(status=int(status.split()[0]), headers={k.lower(): v for k, v in hdrs})

        out = b"".join(self.app(environ, start_response))
        return Reply(got["status"], out, got["headers"])

    def call(self, method: str, path: str, body: Any = None) -> Reply:
        return self.request(method, path, b"" if body is None else json.dumps(body).encode())

    def ok(self, method: str, path: str, body: Any = None) -> Any:
        r = self.call(method, path, body)
        assert r.status < 300, (method, path, r.raw)
        return r.body


def login(app: api.App, user: str) -> Client:
    c = Client(app)
    r = c.call("POST", "/identity/v3/auth/tokens", {"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": user, "password": "secret", "domain": {"name": "Default"}}}},
        "scope": {"project": {"name": user, "domain": {"name": "Default"}}}}})
    assert r.status == 201, r.raw
    c.token = r.headers["x-subject-token"]
    return c


@dataclass
class Project:
    """One project's resources (ids) and its client."""

    client: Client
    network: str
    subnet: str
    port: str
    router: str
    server: str
    server_port: str
    floatingip: str
    security_group: str
    security_group_rule: str


@dataclass
class World:
    lab: Lab
    app: api.App
    admin: Project
    demo: Project
    ext_network: str
    ext_subnet: str
    image: str


def _project(c: Client, ext: str, image: str, cidr: str, name: str) -> Project:
    net = c.ok("POST", f"{N}/networks", {"network": {"name": f"{name}-net"}})["network"]["id"]
    sub = c.ok("POST", f"{N}/subnets", {"subnet": {"network_id": net, "cidr": cidr,
                                                   "ip_version": 4}})["subnet"]["id"]
    router = c.ok("POST", f"{N}/routers", {"router": {
        "name": f"{name}-r", "external_gateway_info": {"network_id": ext}}})["router"]["id"]
    c.ok("PUT", f"{N}/routers/{router}/add_router_interface", {"subnet_id": sub})
    sg = c.ok("POST", f"{N}/security-groups", {"security_group": {
        "name": f"{name}-sg"}})["security_group"]["id"]
    rule = c.ok("POST", f"{N}/security-group-rules", {"security_group_rule": {
        "security_group_id": sg, "direction": "ingress", "protocol": "icmp",
        "ethertype": "IPv4"}})["security_group_rule"]["id"]
    server = c.ok("POST", f"{C}/servers", {"server": {
        "name": f"{name}-vm", "imageRef": image, "flavorRef": "42",
        "networks": [{"uuid": net}]}})["server"]["id"]
    server_port = c.ok("GET", f"{N}/ports?device_id={server}")["ports"][0]["id"]
    port = c.ok("POST", f"{N}/ports", {"port": {"network_id": net, "name": f"{name}-p"}})[
        "port"]["id"]
    fip = c.ok("POST", f"{N}/floatingips", {"floatingip": {
        "floating_network_id": ext, "port_id": server_port}})["floatingip"]["id"]
    return Project(c, net, sub, port, router, server, server_port, fip, sg, rule)


def build_world() -> World:
    lab = Lab(TOPOLOGY)
    app = api.make_app(lab.locked_cloud(threading.Lock()))
    admin = login(app, "admin")
    ext = admin.ok("POST", f"{N}/networks", {"network": {
        "name": "ext", "router:external": True, "provider:network_type": "flat",
        "provider:physical_network": "extnet0"}})["network"]["id"]
    ext_sub = admin.ok("POST", f"{N}/subnets", {"subnet": {
        "network_id": ext, "cidr": "10.0.2.0/24", "ip_version": 4, "enable_dhcp": False,
        "allocation_pools": [{"start": "10.0.2.100", "end": "10.0.2.200"}]}})["subnet"]["id"]
    image = admin.ok("GET", "/image/v2/images")["images"][0]["id"]
    return World(lab, app, _project(admin, ext, image, "172.16.100.0/24", "admin"),
                 _project(login(app, "demo"), ext, image, "192.168.5.0/24", "demo"),
                 ext, ext_sub, image)


def state(world: World) -> Any:
    """Everything a request could change: the cloud's documents, every NB row, and which
    VIFs are plugged where."""
    lab = world.lab
    nb = {table: {row.uuid: {col: row[col] for col in row} for row in lab.nb.rows(table)}
          for table in lab.nb.tables}
    vifs = {}
    for node in ("compute1", "compute2"):
        res = lab.exec(node, ["ovs-vsctl", "list-ports", "br-int"])
        vifs[node] = sorted(p for p in res.stdout.split() if p.startswith("tap"))
    return {"store": lab.cloud.store.snapshot(), "nb": nb, "vifs": vifs}
