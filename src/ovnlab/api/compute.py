"""Nova v2.1 (microversions up to MAX_VERSION; servers shown as the requested microversion
shows them): servers, the security group actions, flavors and hypervisors."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from typing import Any

from ovnlab.cloud.server_states import Action
from ovnlab.cloud.services import NovaNetworking as Cloud
from ovnlab.errors import BadRequest, Forbidden, NotFound, OvnlabError

from .compute_actions import ServerActions
from .compute_fips import FloatingIPProxy
from .compute_hypervisors import Hypervisors
from .compute_interfaces import ServerInterfaces
from .compute_keypairs import Keypairs
from .compute_metadata import ServerMetadata
from .compute_quotas import QuotaSets
from .compute_schema import _bad, _validate_metadata, _validate_name, _validate_string
from .compute_secgroups import SecurityGroupProxy
from .compute_server_schema import _access_ip, validate_server_create, validate_server_update
from .compute_servergroups import ServerGroups
from .http import Request, Response, Router, json_response
from .microversions import (
    MAX_VERSION,
    MIN_VERSION,
    _v,
    microversion,
    server_at,
    update_view,
    version_headers,
)
from .microversions import nova_writer as _writer

UPDATED = "2013-07-23T11:33:21Z"


_FAULT_NAMES = {400: "badRequest", 401: "unauthorized", 403: "forbidden", 404: "itemNotFound",
                405: "badMethod", 409: "conflictingRequest", 413: "overLimit",
                415: "badMediaType", 429: "overLimit", 501: "notImplemented",
                503: "serviceUnavailable"}


def nova_error(e: OvnlabError) -> dict[str, Any]:
    return {_FAULT_NAMES.get(e.status, "computeFault"): {"code": e.status, "message": e.message}}


def _date_time(raw: str, key: str) -> datetime:
    """A query's ISO 8601 date-time (naive ones are UTC, as Nova's parse_isotime reads
    them); anything else is the schema's 400."""
    try:
        when = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise _bad(f"Invalid input for query parameters {key}. Value: {raw}. '{raw}' is not "
                   "a 'date-time'") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _limit(raw: str | None) -> int | None:
    if raw is None:
        return None
    if not re.fullmatch(r"\d{1,9}", raw):
        raise BadRequest("limit param must be an integer" if not re.fullmatch(r"-\d+", raw)
                         else "limit param must be positive")
    return int(raw)


def _ip_matches(server: dict[str, Any], pattern: str) -> bool:
    """Nova's `ip` filter: a regular expression over the server's fixed IPv4 addresses."""
    addrs = [a["addr"] for entries in server.get("addresses", {}).values() for a in entries
             if a.get("OS-EXT-IPS:type", "fixed") == "fixed" and a.get("version") == 4]
    try:
        rx = re.compile(pattern)
    except re.error:
        return any(pattern in a for a in addrs)
    return any(rx.search(a) for a in addrs)


def _all_tenants(req: Request) -> bool:
    """nova.api.openstack.common.is_all_tenants: present and not a false value."""
    value = req.q1("all_tenants")
    if value is None:
        return False
    lowered = value.strip().lower()
    if lowered in ("0", "f", "false", "n", "no", "off"):
        return False
    if lowered in ("", "1", "t", "true", "y", "yes", "on"):
        return True
    raise BadRequest(f"Invalid input received: Unrecognized value '{value}', acceptable "
                     "values are: '0', '1', 'f', 'false', 'n', 'no', 'off', 'on', 't', "
                     "'true', 'y', 'yes'")


class Nova:
    def __init__(self, cloud: Cloud) -> None:
        self.cloud = cloud
        self.fips = FloatingIPProxy(cloud)
        self.actions = ServerActions(cloud, self._server_view, (
            lambda v: _validate_name(_validate_string(v, "name", min_len=1)), _access_ip,
            _validate_metadata))

    def register(self, router: Router, prefix: str) -> None:
        v21 = prefix + "/v2.1"
        router.add("GET", prefix, self.versions, auth=False)
        router.add("GET", prefix + "/", self.versions, auth=False)
        router.add("GET", v21, self.version, auth=False)
        router.add("GET", v21 + "/", self.version, auth=False)
        router.add("GET", v21 + "/servers", self.list_servers)
        router.add("GET", v21 + "/servers/detail", self.list_servers_detail)
        router.add("POST", v21 + "/servers", self.create_server)
        router.add("GET", v21 + "/servers/{id}", self.show_server)
        router.add("DELETE", v21 + "/servers/{id}", self.delete_server)
        router.add("PUT", v21 + "/servers/{id}", self.update_server)
        router.add("GET", v21 + "/servers/{id}/ips", self.server_ips)
        router.add("GET", v21 + "/servers/{id}/ips/{network}", self.server_ips)
        ServerMetadata(self.cloud).register(router, v21)
        router.add("POST", v21 + "/servers/{id}/action", self.server_action)
        ServerInterfaces(self.cloud).register(router, v21)
        self.actions.register(router, v21)
        Keypairs(self.cloud.keypairs).register(router, v21)
        ServerGroups(self.cloud.server_groups).register(router, v21)
        QuotaSets(self.cloud.compute_quotas).register(router, v21)
        SecurityGroupProxy(self.cloud).register(router, v21)
        self.fips.register(router, v21)
        router.add("GET", v21 + "/flavors", self.list_flavors)
        router.add("GET", v21 + "/flavors/detail", self.list_flavors_detail)
        router.add("GET", v21 + "/flavors/{id}", self.show_flavor)
        Hypervisors(self.cloud).register(router, v21)

    # -- discovery
    def _version_doc(self, req: Request) -> dict[str, Any]:
        return {"id": "v2.1", "status": "CURRENT", "version": _v(MAX_VERSION),
                "min_version": _v(MIN_VERSION), "updated": UPDATED,
                "links": [{"rel": "self", "href": f"{req.base_url}/compute/v2.1/"}],
                "media-types": [{"base": "application/json",
                                 "type": "application/vnd.openstack.compute+json;version=2.1"}]}

    def versions(self, req: Request) -> Response:
        return json_response(200, {"versions": [self._version_doc(req)]})

    def version(self, req: Request) -> Response:
        return json_response(200, {"version": self._version_doc(req)})

    # -- views
    def _link(self, req: Request, coll: str, id_: str) -> list[dict[str, str]]:
        return [{"rel": "self", "href": f"{req.base_url}/compute/v2.1/{coll}/{id_}"},
                {"rel": "bookmark", "href": f"{req.base_url}/compute/{coll}/{id_}"}]

    def _flavor_view(self, req: Request, f: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": str(f["id"]), "name": f.get("name", str(f["id"])), "ram": f.get("ram", 0),
            "disk": f.get("disk", 0), "vcpus": f.get("vcpus", 1), "swap": f.get("swap", 0),
            "OS-FLV-EXT-DATA:ephemeral": f.get("OS-FLV-EXT-DATA:ephemeral",
                                               f.get("ephemeral", 0)),
            "OS-FLV-DISABLED:disabled": f.get("OS-FLV-DISABLED:disabled", False),
            "os-flavor-access:is_public": f.get("os-flavor-access:is_public",
                                                f.get("is_public", True)),
            "rxtx_factor": f.get("rxtx_factor", 1.0),
            "description": f.get("description"),
            "extra_specs": f.get("extra_specs", {}),
        }
        out["links"] = self._link(req, "flavors", out["id"])
        return out

    def _flavors(self, req: Request) -> list[dict[str, Any]]:
        return [self._flavor_view(req, f) for f in self.cloud.nova.get_flavors(req.context)]

    def _embedded_flavor(self, req: Request, flavor: Any) -> dict[str, Any]:
        """mv >= 2.47 embeds the flavor; accept an id or {id} from the model too."""
        if isinstance(flavor, dict) and "original_name" in flavor:
            return flavor
        fid = flavor.get("id") if isinstance(flavor, dict) else flavor
        found = next((f for f in self.cloud.nova.get_flavors(req.context)
                      if str(f.get("id")) == str(fid) or f.get("name") == fid), None)
        src = found or (flavor if isinstance(flavor, dict) else {"id": fid})
        return {"vcpus": src.get("vcpus", 1), "ram": src.get("ram", 0),
                "disk": src.get("disk", 0), "ephemeral": src.get("ephemeral", 0),
                "swap": src.get("swap", 0), "original_name": src.get("name", str(fid)),
                "extra_specs": src.get("extra_specs", {})}

    def _server_view(self, req: Request, s: dict[str, Any]) -> dict[str, Any]:
        out = dict(s)
        sid = str(out["id"])
        image = out.get("image")
        if isinstance(image, str) and image:
            image = {"id": image}
        if isinstance(image, dict):
            image = {"id": image["id"], "links": [
                {"rel": "bookmark", "href": f"{req.base_url}/compute/images/{image['id']}"}]}
        else:
            image = ""
        out["image"] = image
        out["flavor"] = self._embedded_flavor(req, out.get("flavor"))
        defaults: dict[str, Any] = {
            "status": "ACTIVE", "addresses": {}, "metadata": {}, "security_groups": [],
            "tenant_id": out.get("project_id"), "user_id": None, "hostId": "",
            "key_name": None, "locked": False, "locked_reason": None, "tags": [],
            "description": None, "accessIPv4": "", "accessIPv6": "",
            "config_drive": "", "created": None, "updated": None,
            "OS-DCF:diskConfig": "MANUAL", "OS-EXT-AZ:availability_zone": "nova",
            "OS-EXT-STS:vm_state": "active", "OS-EXT-STS:task_state": None,
            "OS-EXT-STS:power_state": 1, "OS-SRV-USG:launched_at": None,
            "OS-SRV-USG:terminated_at": None, "os-extended-volumes:volumes_attached": [],
            "trusted_image_certificates": None, "server_groups": [],
            "pinned_availability_zone": None,
        }
        for k, v in defaults.items():
            out.setdefault(k, v)
        out.pop("project_id", None)
        if not out.get("security_groups"):  # Nova leaves the key out for a server in none
            out.pop("security_groups", None)
        out["links"] = self._link(req, "servers", sid)
        return server_at(out, microversion(req),
                         is_admin=bool(getattr(req.context, "is_admin", False)),
                         flavor_ref=self._flavor_ref(req, s.get("flavor")))

    def _flavor_ref(self, req: Request, flavor: Any) -> dict[str, Any]:
        """The pre-2.47 server flavor: its id and bookmark link."""
        name = flavor.get("original_name") if isinstance(flavor, dict) else None
        fid = flavor.get("id") if isinstance(flavor, dict) else flavor
        found = next((f for f in self.cloud.nova.get_flavors(req.context)
                      if (name is not None and f.get("name") == name)
                      or (fid is not None and str(f.get("id")) == str(fid))), None)
        ref = str(found["id"]) if found else str(fid or "")
        return {"id": ref, "links": [
            {"rel": "bookmark", "href": f"{req.base_url}/compute/flavors/{ref}"}]}

    def _respond(self, req: Request, status: int, body: Any) -> Response:
        return Response(status, body, version_headers(microversion(req)))

    # -- servers
    def _servers(self, req: Request, detail: bool = False) -> list[dict[str, Any]]:
        if _all_tenants(req) and not getattr(req.context, "is_admin", False):
            rule = "detail" if detail else "index"
            raise Forbidden(f"Policy doesn't allow os_compute_api:servers:{rule}:get_all_tenants "
                            "to be performed.", type="PolicyNotAuthorized")
        servers = self.cloud.nova.get_servers(req.context, None)
        pattern = req.q1("name")
        if pattern:
            try:
                rx = re.compile(pattern)
                servers = [s for s in servers if rx.search(str(s.get("name", "")))]
            except re.error:
                servers = [s for s in servers if pattern in str(s.get("name", ""))]
        for key in ("status", "host"):
            want = req.q1(key)
            if want:
                field = "status" if key == "status" else "OS-EXT-SRV-ATTR:host"
                servers = [s for s in servers if str(s.get(field, "")).upper() == want.upper()]
        since, before = req.q1("changes-since"), req.q1("changes-before")
        if since is not None:  # updated at or after it
            when = _date_time(since, "changes-since")
            servers = [s for s in servers if _date_time(s["updated"], "updated") >= when]
        if before is not None and microversion(req) >= (2, 66):  # at or before it
            when = _date_time(before, "changes-before")
            servers = [s for s in servers if _date_time(s["updated"], "updated") <= when]
        flavor, image, ip = req.q1("flavor"), req.q1("image"), req.q1("ip")
        if flavor:
            servers = [s for s in servers if self._flavor_ref(req, s.get("flavor"))["id"] == flavor]
        if image:
            servers = [s for s in servers if (s.get("image") or {}).get("id") == image]
        if ip:
            servers = [s for s in servers if _ip_matches(s, ip)]
        return servers

    def _page(self, req: Request, servers: list[dict[str, Any]], path: str
              ) -> dict[str, Any]:
        """Nova's `limit` and `marker` (common.get_limit_and_marker) and servers_links."""
        limit, marker = _limit(req.q1("limit")), req.q1("marker")
        if marker is not None:
            ids = [s["id"] for s in servers]
            if marker not in ids:
                raise BadRequest(f"marker [{marker}] not found")
            servers = servers[ids.index(marker) + 1:]
        chosen = servers if limit is None else servers[:limit]
        body: dict[str, Any] = {"servers": chosen}
        if limit and len(chosen) == limit and len(servers) > limit:
            body["servers_links"] = [{"rel": "next", "href": f"{req.base_url}/compute/v2.1/"
                                      f"{path}?limit={limit}&marker={chosen[-1]['id']}"}]
        return body

    def list_servers(self, req: Request) -> Response:
        body = self._page(req, self._servers(req), "servers")
        body["servers"] = [{"id": s["id"], "name": s.get("name"),
                            "links": self._link(req, "servers", s["id"])}
                           for s in body["servers"]]
        return self._respond(req, 200, body)

    def list_servers_detail(self, req: Request) -> Response:
        body = self._page(req, self._servers(req, detail=True), "servers/detail")
        body["servers"] = [self._server_view(req, s) for s in body["servers"]]
        return self._respond(req, 200, body)

    def show_server(self, req: Request) -> Response:
        microversion(req)
        server = self.cloud.nova.get_server(req.context, req.params["id"])
        return self._respond(req, 200, {"server": self._server_view(req, server)})

    def create_server(self, req: Request) -> Response:
        microversion(req)
        _writer(req, "servers:create")
        server = validate_server_create(req.json())
        az = server.get("availability_zone", "")
        if ":" in az and not getattr(req.context, "is_admin", False):
            raise Forbidden("Policy doesn't allow os_compute_api:servers:create:forced_host "
                            "to be performed.")
        try:
            reservation, servers = self.cloud.nova.create_servers(
                req.context, {"server": server}, server["max_count"])
        except NotFound as e:
            # Nova reports an unknown network, flavor or image in the request as a 400.
            raise BadRequest(e.message, type=e.type) from None
        for one in servers:
            self.cloud.nova.record_instance_action(req.context, one["id"], Action.CREATE,
                                              req.request_id)
        if server.get("return_reservation_id"):
            return self._respond(req, 202, {"reservation_id": reservation})
        created = servers[0]
        sid = str(created["id"])
        admin_pass = (server.get("adminPass") or created.get("adminPass")
                      or hashlib.sha256(sid.encode()).hexdigest()[:12])
        groups = created.get("security_groups") or [
            {"name": g["name"]} for g in server.get("security_groups", [])] or [
            {"name": "default"}]
        body = {"server": {"id": sid, "links": self._link(req, "servers", sid),
                           "OS-DCF:diskConfig": server.get("OS-DCF:diskConfig", "MANUAL"),
                           "adminPass": admin_pass,
                           "security_groups": groups}}
        return Response(202, body, version_headers(microversion(req))
                        + (("Location", f"{req.base_url}/compute/v2.1/servers/{sid}"),))

    def update_server(self, req: Request) -> Response:
        version = microversion(req)
        _writer(req, "servers:update")
        changes = validate_server_update(req.json(), version)
        server = self.cloud.nova.update_server(req.context, req.params["id"], changes)
        return self._respond(req, 200, {"server": update_view(self._server_view(req, server))})

    def server_ips(self, req: Request) -> Response:
        addresses = self.cloud.nova.get_server(req.context, req.params["id"])["addresses"]
        network = req.params.get("network")
        if network is None:
            return self._respond(req, 200, {"addresses": addresses})
        if network not in addresses:
            raise NotFound("Instance is not a member of specified network")
        return self._respond(req, 200, {network: addresses[network]})

    def delete_server(self, req: Request) -> Response:
        version = microversion(req)
        _writer(req, "servers:delete")
        self.cloud.nova.delete_server(req.context, req.params["id"])
        self.cloud.nova.record_instance_action(req.context, req.params["id"], Action.DELETE,
                                          req.request_id)
        return Response(204, None, version_headers(version))

    def server_action(self, req: Request) -> Response:
        version = microversion(req)
        _writer(req, "servers:action")
        body = req.json()
        if not isinstance(body, dict) or len(body) != 1:
            raise BadRequest("Malformed request body")
        (action, arg), = body.items()
        if action in ("addFloatingIp", "removeFloatingIp"):
            self.cloud.nova.get_server(req.context, req.params["id"])  # 404 first
            handler = self.fips.add if action == "addFloatingIp" else self.fips.remove
            return handler(req, req.params["id"], arg)
        if self.actions.handles(action):
            return self.actions.run(req, req.params["id"], action, arg)
        if action not in ("addSecurityGroup", "removeSecurityGroup"):
            raise BadRequest(f"There is no such action: {action}")
        if not isinstance(arg, dict) or not isinstance(arg.get("name"), str) or not arg["name"]:
            raise BadRequest(f"Invalid input for field/attribute {action}. Value: {arg}. "
                             "'name' is a required property")
        server_id = req.params["id"]
        self.cloud.nova.get_server(req.context, server_id)  # 404 for an unknown server first
        if action == "addSecurityGroup":
            self.cloud.nova.server_add_security_group(req.context, server_id, arg["name"])
        else:
            self.cloud.nova.server_remove_security_group(req.context, server_id, arg["name"])
        return Response(202, None, version_headers(version))

    # -- flavors
    def list_flavors(self, req: Request) -> Response:
        body = [{"id": f["id"], "name": f["name"], "description": f["description"],
                 "links": f["links"]} for f in self._flavors(req)]
        return self._respond(req, 200, {"flavors": body})

    def list_flavors_detail(self, req: Request) -> Response:
        return self._respond(req, 200, {"flavors": self._flavors(req)})

    def show_flavor(self, req: Request) -> Response:
        fid = req.params["id"]
        for f in self._flavors(req):
            if f["id"] == fid:
                return self._respond(req, 200, {"flavor": f})
        raise NotFound(f"Flavor {fid} could not be found.", type="FlavorNotFound")
