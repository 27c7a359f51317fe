"""Nova's deprecated security group proxies (microversions 2.1 to 2.35): os-security-groups,
os-security-group-rules and GET /servers/{id}/os-security-groups, answered from Neutron as
nova/network/security_group_api.py does (ingress rules only; Neutron's errors as Nova
words them)."""

from __future__ import annotations

import uuid
from typing import Any

from ovnlab.cloud.services import NovaNetworking as Cloud
from ovnlab.errors import BadRequest, Conflict, NotFound, OvnlabError

from .http import Request, Response, Router
from .microversions import microversion, version_headers
from .microversions import nova_writer as _writer

LAST_VERSION = (2, 35)  # from 2.36 on the proxies answer 404
PROTOCOLS = ("tcp", "udp", "icmp")


def _version(req: Request) -> tuple[int, int]:
    version = microversion(req)
    if version > LAST_VERSION:
        raise NotFound("The resource could not be found.")
    return version


def _sg_id(value: str) -> str:
    """`validate_id`: Neutron security group ids are UUIDs."""
    try:
        uuid.UUID(value)
    except ValueError:
        raise BadRequest("Security group id should be uuid") from None
    return value


def _property(value: Any, what: str) -> str:
    """`_validate_security_group_property`: a non-blank string of at most 255 characters."""
    if not isinstance(value, str):
        raise BadRequest(f"Security group {what} is not a string or unicode")
    if not value.strip():
        raise BadRequest(f"Security group {what} cannot be empty.")
    if len(value) > 255:
        raise BadRequest(f"Security group {what} should not be greater than 255 characters.")
    return value


def rule_view(rule: dict[str, Any], groups: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """`_format_security_group_rule` over `_convert_to_nova_security_group_rule_format`."""
    protocol = rule["protocol"]
    lo, hi = rule["port_range_min"], rule["port_range_max"]
    if protocol and lo is None and hi is None:
        lo, hi = (1, 65535) if str(protocol).upper() in ("TCP", "UDP") else (-1, -1)
    out: dict[str, Any] = {"id": rule["id"], "parent_group_id": rule["security_group_id"],
                           "ip_protocol": protocol, "from_port": lo, "to_port": hi,
                           "group": {}, "ip_range": {}}
    remote = rule["remote_group_id"]
    if remote:
        group = groups.get(remote, {})
        out["group"] = {"name": group.get("name"), "tenant_id": group.get("project_id")}
    else:
        out["ip_range"] = {"cidr": rule["remote_ip_prefix"] or "0.0.0.0/0"}
    return out


def group_view(sg: dict[str, Any], groups: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {"id": sg["id"], "name": sg["name"], "description": sg["description"],
            "tenant_id": sg["project_id"],
            "rules": [rule_view(r, groups) for r in sg["security_group_rules"]
                      if r["direction"] == "ingress"]}


def _port(value: Any, what: str, protocol: str) -> int:
    try:
        port = int(value)
    except (TypeError, ValueError):
        raise BadRequest(f"{what} is not an integer") from None
    low, high = (-1, 255) if protocol == "icmp" else (1, 65535)
    if not low <= port <= high:
        raise BadRequest(f"Invalid port range {value}. Valid {protocol} ports should be "
                         f"between {low}-{high}")
    return port


def neutron_rule(body: Any) -> dict[str, Any]:
    """`_rule_args_to_dict` + `_make_neutron_security_group_rule`: the Neutron rule a Nova
    rule request stands for."""
    rule = body.get("security_group_rule") if isinstance(body, dict) else None
    if not isinstance(rule, dict):
        raise BadRequest("Malformed request body")
    parent = rule.get("parent_group_id")
    if not isinstance(parent, str):
        raise BadRequest("Security group id should be uuid")
    protocol = rule.get("ip_protocol")
    out: dict[str, Any] = {"security_group_id": _sg_id(parent), "direction": "ingress",
                           "ethertype": "IPv4"}
    if protocol is not None:
        if not isinstance(protocol, str) or protocol.lower() not in PROTOCOLS:
            raise BadRequest(f"Invalid IP protocol {protocol}.")
        protocol = protocol.lower()
        lo = _port(rule.get("from_port"), "from_port", protocol)
        hi = _port(rule.get("to_port"), "to_port", protocol)
        if protocol != "icmp" and lo > hi:
            raise BadRequest(f"Invalid port range {lo}:{hi}. Former value cannot be greater "
                             "than the later")
        out["protocol"] = protocol
        if protocol == "icmp":
            out["port_range_min"] = None if lo == -1 else lo
            out["port_range_max"] = None if hi == -1 else hi
        else:
            out["port_range_min"], out["port_range_max"] = lo, hi
    group_id = rule.get("group_id")
    if group_id:
        out["remote_group_id"] = _sg_id(str(group_id))
    else:
        cidr = rule.get("cidr") or "0.0.0.0/0"
        out["remote_ip_prefix"] = cidr
        if ":" in str(cidr):
            out["ethertype"] = "IPv6"
    return out


def _as_nova(e: OvnlabError) -> OvnlabError:
    """Nova's neutron driver turns Neutron's 409s for security groups into 400s."""
    if isinstance(e, Conflict):
        return BadRequest(e.message)
    return e


class SecurityGroupProxy:
    def __init__(self, cloud: Cloud) -> None:
        self.cloud = cloud

    def register(self, router: Router, v21: str) -> None:
        router.add("GET", v21 + "/os-security-groups", self.list)
        router.add("POST", v21 + "/os-security-groups", self.create)
        router.add("GET", v21 + "/os-security-groups/{id}", self.show)
        router.add("PUT", v21 + "/os-security-groups/{id}", self.update)
        router.add("DELETE", v21 + "/os-security-groups/{id}", self.delete)
        router.add("POST", v21 + "/os-security-group-rules", self.create_rule)
        router.add("DELETE", v21 + "/os-security-group-rules/{id}", self.delete_rule)
        router.add("GET", v21 + "/servers/{id}/os-security-groups", self.server_groups)

    def _groups(self, req: Request) -> dict[str, dict[str, Any]]:
        return {g["id"]: g for g in self.cloud.security_groups.get_security_groups(req.context)}

    def _group(self, req: Request, sg_id: str) -> dict[str, Any]:
        try:
            return dict(self.cloud.security_groups.get_security_group(req.context, _sg_id(sg_id)))
        except NotFound:
            raise NotFound(f"Security group {sg_id} not found.") from None

    def _respond(self, req: Request, status: int, body: Any) -> Response:
        return Response(status, body, version_headers(_version(req)))

    def list(self, req: Request) -> Response:
        _version(req)
        groups = self._groups(req)
        return self._respond(req, 200, {"security_groups": [
            group_view(g, groups) for g in groups.values()]})

    def show(self, req: Request) -> Response:
        _version(req)
        sg = self._group(req, req.params["id"])
        return self._respond(req, 200, {"security_group": group_view(sg, self._groups(req))})

    def _body(self, req: Request) -> tuple[str, str]:
        body = req.json()
        sg = body.get("security_group") if isinstance(body, dict) else None
        if not isinstance(sg, dict):
            raise BadRequest("Malformed request body")
        return _property(sg.get("name"), "name"), _property(sg.get("description"),
                                                            "description")

    def create(self, req: Request) -> Response:
        _version(req)
        _writer(req, "os-security-groups:create")
        name, description = self._body(req)
        try:
            sg = self.cloud.security_groups.create_security_group(req.context, {"security_group": {
                "name": name, "description": description}})
        except OvnlabError as e:
            raise _as_nova(e) from None
        return self._respond(req, 200, {"security_group": group_view(sg, self._groups(req))})

    def update(self, req: Request) -> Response:
        _version(req)
        _writer(req, "os-security-groups:update")
        sg_id = _sg_id(req.params["id"])
        name, description = self._body(req)
        self._group(req, sg_id)
        try:
            sg = self.cloud.security_groups.update_security_group(req.context, sg_id, {"security_group": {
                "name": name, "description": description}})
        except OvnlabError as e:
            raise _as_nova(e) from None
        return self._respond(req, 200, {"security_group": group_view(sg, self._groups(req))})

    def delete(self, req: Request) -> Response:
        _version(req)
        _writer(req, "os-security-groups:delete")
        sg_id = self._group(req, req.params["id"])["id"]
        try:
            self.cloud.security_groups.delete_security_group(req.context, sg_id)
        except OvnlabError as e:
            raise _as_nova(e) from None
        return self._respond(req, 202, None)

    def create_rule(self, req: Request) -> Response:
        _version(req)
        _writer(req, "os-security-group-rules:create")
        rule = neutron_rule(req.json())
        self._group(req, rule["security_group_id"])
        if rule.get("remote_group_id"):
            self._group(req, rule["remote_group_id"])
        try:
            created = self.cloud.security_groups.create_security_group_rule(
                req.context, {"security_group_rule": rule})
        except OvnlabError as e:
            raise _as_nova(e) from None
        return self._respond(req, 200, {"security_group_rule": rule_view(
            created, self._groups(req))})

    def delete_rule(self, req: Request) -> Response:
        _version(req)
        _writer(req, "os-security-group-rules:delete")
        rule_id = req.params["id"]
        try:
            uuid.UUID(rule_id)
            self.cloud.security_groups.delete_security_group_rule(req.context, rule_id)
        except (ValueError, NotFound):
            raise NotFound(f"Security group rule {rule_id} not found.") from None
        return self._respond(req, 202, None)

    def server_groups(self, req: Request) -> Response:
        _version(req)
        server = self.cloud.nova.get_server(req.context, req.params["id"])
        groups = self._groups(req)
        names = {g["name"] for g in server["security_groups"]}
        return self._respond(req, 200, {"security_groups": [
            group_view(g, groups) for g in groups.values() if g["name"] in names]})

