"""Security groups and rules (neutron/db/securitygroups_db.py semantics).

Every project gets its `default` group the first time it uses the networking API, with
Neutron's four default rules; a new group starts with the two egress rules.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from ovnlab.cloud import exceptions as exc
from ovnlab.cloud import policy
from ovnlab.cloud.base import CloudBase, Doc, Filters
from ovnlab.cloud.context import Context
from ovnlab.errors import BadRequest, Conflict

SG_CREATE = {"name", "description", "tenant_id", "project_id", "stateful", "tags"}
SG_UPDATE = {"name", "description", "stateful"}
RULE_CREATE = {"security_group_id", "direction", "ethertype", "protocol", "port_range_min",
               "port_range_max", "remote_ip_prefix", "remote_group_id",
               "remote_address_group_id", "description", "tenant_id", "project_id"}
PROTOCOLS = {"ah": 51, "dccp": 33, "egp": 8, "esp": 50, "gre": 47, "hopopt": 0, "icmp": 1,
             "igmp": 2, "ip": 0, "ipip": 4, "ipv6-encap": 41, "ipv6-frag": 44,
             "ipv6-icmp": 58, "icmpv6": 58, "ipv6-nonxt": 59, "ipv6-opts": 60,
             "ipv6-route": 43, "ospf": 89, "pgm": 113, "rsvp": 46, "sctp": 132, "tcp": 6,
             "udp": 17, "udplite": 136, "vrrp": 112}
PORT_PROTOCOLS = {6, 17, 33, 132, 136}
ICMP_PROTOCOLS = {1, 58}
DEFAULT_SG = "default"


class SecurityGroupService:
    """Neutron's security groups and their rules (`cloud.security_groups`), a service of
    its own over the cloud's core; networks, ports, servers and new projects ask it for a
    project's default group (`ensure_default_sg`)."""

    def __init__(self, core: CloudBase) -> None:
        self._core = core

    # ------------------------------------------------------------ default group
    def ensure_default_sg(self, project_id: str) -> Doc | None:
        if not project_id:
            return None
        found = self._core.store.find_one("security_group", project_id=project_id, name=DEFAULT_SG)
        if found:
            return found
        sg = self._new_sg(project_id, DEFAULT_SG, "Default security group")
        for ethertype in ("IPv4", "IPv6"):
            self._new_rule(sg, "egress", ethertype)
        for ethertype in ("IPv4", "IPv6"):
            self._new_rule(sg, "ingress", ethertype, remote_group_id=sg["id"])
        self._core.driver.create_security_group(self.sg_dict(sg))
        return sg

    def _new_sg(self, project_id: str, name: str, description: str,
                stateful: bool = True) -> Doc:
        sg = self._core._stamp({"id": self._core.ids.uuid(), "name": name, "description": description,
                          "project_id": project_id, "tenant_id": project_id,
                          "stateful": stateful, "shared": False, "tags": []})
        return self._core._save("security_group", sg)

    def _new_rule(self, sg: Doc, direction: str, ethertype: str, **attrs: Any) -> Doc:
        rule = {"id": self._core.ids.uuid(), "security_group_id": sg["id"],
                "project_id": sg["project_id"], "tenant_id": sg["project_id"],
                "direction": direction, "ethertype": ethertype, "protocol": None,
                "port_range_min": None, "port_range_max": None, "remote_ip_prefix": None,
                "remote_group_id": None, "remote_address_group_id": None,
                "normalized_cidr": None, "description": "",
                "belongs_to_default_sg": sg["name"] == DEFAULT_SG}
        rule.update(attrs)
        return self._core._save("security_group_rule", self._core._stamp(rule))

    def sg_dict(self, sg: Doc) -> Doc:
        """The group in API form: its rules embedded."""
        return {**sg, "security_group_rules": self._core.store.find("security_group_rule",
                                                               security_group_id=sg["id"])}

    def _sg_doc(self, ctx: Context, sg_id: object) -> Doc:
        sg = self._core._doc("security_group", sg_id)
        if sg is None or not policy.owns(ctx, sg):
            raise exc.not_found("security_group", str(sg_id))
        return sg

    # ------------------------------------------------------------ groups
    def create_security_group(self, ctx: Context, body: object) -> Doc:
        b = self._core._body(body, "security_group")
        self._core._allowed(b, SG_CREATE)
        with self._core._txn():
            project = policy.check_project(ctx, b)
            default = self.ensure_default_sg(project)
            name = self._core._str(b, "name")
            if name == DEFAULT_SG and default is not None:
                raise Conflict("Default security group already exists.",
                               type="SecurityGroupDefaultAlreadyExists")
            sg = self._new_sg(project, name, self._core._str(b, "description"),
                              self._core._bool(b, "stateful", True))
            for ethertype in ("IPv4", "IPv6"):
                self._new_rule(sg, "egress", ethertype)
            full = self.sg_dict(sg)
            self._core.driver.create_security_group(full)
        return self._core._view(ctx, "security_group", full)

    def get_security_group(self, ctx: Context, id: str,
                           fields: list[str] | None = None) -> Doc:
        with self._core._txn():
            self.ensure_default_sg(ctx.project_id)
            sg = self._sg_doc(ctx, id)
        return self._core._view(ctx, "security_group", self.sg_dict(sg), fields)

    def get_security_groups(self, ctx: Context, filters: Filters | None = None,
                            fields: list[str] | None = None) -> list[Doc]:
        with self._core._txn():
            self.ensure_default_sg(ctx.project_id)
        groups = [self.sg_dict(sg) for sg in self._core.store.all("security_group")
                  if policy.owns(ctx, sg)]
        return [self._core._view(ctx, "security_group", g, fields) for g in groups
                if self._core._matches(g, filters)]

    def update_security_group(self, ctx: Context, id: str, body: object) -> Doc:
        b = self._core._body(body, "security_group")
        self._core._allowed(b, SG_UPDATE)
        with self._core._txn():
            sg = self._sg_doc(ctx, id)
            original = self.sg_dict(sg)
            if sg["name"] == DEFAULT_SG and b.get("name", DEFAULT_SG) != DEFAULT_SG:
                raise Conflict("Updating default security group not allowed.",
                               type="SecurityGroupCannotUpdateDefault")
            if b.get("name") == DEFAULT_SG and sg["name"] != DEFAULT_SG:
                raise Conflict("Default security group already exists.",
                               type="SecurityGroupDefaultAlreadyExists")
            for attr in ("name", "description"):
                if attr in b:
                    sg[attr] = self._core._str(b, attr)
            if "stateful" in b:
                sg["stateful"] = self._core._bool(b, "stateful", True)
            self._core._save("security_group", self._core._touch(sg))
            full = self.sg_dict(sg)
            self._core.driver.update_security_group(full, original)
        return self._core._view(ctx, "security_group", full)

    def delete_security_group(self, ctx: Context, id: str) -> None:
        with self._core._txn():
            sg = self._sg_doc(ctx, id)
            if sg["name"] == DEFAULT_SG and not ctx.is_admin:
                raise Conflict("Insufficient rights for removing default security group.",
                               type="SecurityGroupCannotRemoveDefault")
            if any(id in p.get("security_groups", []) for p in self._core.store.all("port")):
                raise Conflict(f"Security Group {id} in use.", type="SecurityGroupInUse")
            full = self.sg_dict(sg)
            for rule in full["security_group_rules"]:
                self._core.store.delete("security_group_rule", rule["id"])
            # Rules of other groups that name this one as their remote group go with it.
            for rule in self._core.store.find("security_group_rule", remote_group_id=id):
                self._core.store.delete("security_group_rule", rule["id"])
                self._core.driver.delete_security_group_rule(rule)
            self._core.store.delete("security_group", id)
            self._core.driver.delete_security_group(full)

    # ------------------------------------------------------------ rules
    def create_security_group_rule(self, ctx: Context, body: object) -> Doc:
        b = self._core._body(body, "security_group_rule")
        self._core._allowed(b, RULE_CREATE)
        with self._core._txn():
            policy.check_project(ctx, b)
            if not b.get("security_group_id"):
                raise exc.required("security_group_id")
            self.ensure_default_sg(ctx.project_id)
            sg = self._sg_doc(ctx, b["security_group_id"])
            attrs = self._rule_attrs(ctx, b)
            duplicate = self._duplicate_rule(sg["id"], attrs)
            if duplicate:
                raise Conflict(f"Security group rule already exists. Rule id is {duplicate}.",
                               type="SecurityGroupRuleExists")
            rule = self._new_rule(sg, attrs.pop("direction"), attrs.pop("ethertype"), **attrs)
            self._core._save("security_group", self._core._touch(sg))
            self._core.driver.create_security_group_rule(rule)
        return self._core._view(ctx, "security_group_rule", rule)

    def get_security_group_rule(self, ctx: Context, id: str,
                                fields: list[str] | None = None) -> Doc:
        rule = self._core._doc("security_group_rule", id)
        if rule is None or not policy.owns(ctx, rule):
            raise exc.not_found("security_group_rule", id)
        return self._core._view(ctx, "security_group_rule", rule, fields)

    def get_security_group_rules(self, ctx: Context, filters: Filters | None = None,
                                 fields: list[str] | None = None) -> list[Doc]:
        return [self._core._view(ctx, "security_group_rule", r, fields)
                for r in self._core.store.all("security_group_rule")
                if policy.owns(ctx, r) and self._core._matches(r, filters)]

    def delete_security_group_rule(self, ctx: Context, id: str) -> None:
        with self._core._txn():
            rule = self._core._doc("security_group_rule", id)
            if rule is None or not policy.owns(ctx, rule):
                raise exc.not_found("security_group_rule", id)
            self._core.store.delete("security_group_rule", id)
            sg = self._core._doc("security_group", rule["security_group_id"])
            if sg is not None:
                self._core._save("security_group", self._core._touch(sg))
            self._core.driver.delete_security_group_rule(rule)

    def _rule_attrs(self, ctx: Context, b: Doc) -> dict[str, Any]:
        direction = b.get("direction")
        if direction not in ("ingress", "egress"):
            raise exc.invalid_attr("direction", f"'{direction}' is not in ['ingress', 'egress']")
        ethertype = b.get("ethertype", "IPv4")
        ethertype = {"ipv4": "IPv4", "ipv6": "IPv6"}.get(str(ethertype).lower(), ethertype)
        if ethertype not in ("IPv4", "IPv6"):
            raise exc.invalid_attr("ethertype", f"'{ethertype}' is not in ['IPv4', 'IPv6']")
        protocol, number = _protocol(b.get("protocol"))
        pmin, pmax = _port(b, "port_range_min"), _port(b, "port_range_max")
        if (pmin is not None or pmax is not None) and number is None:
            raise BadRequest("Must also specify protocol if port range is given.",
                             type="SecurityGroupProtocolRequiredWithPorts")
        if number in PORT_PROTOCOLS and (pmin is not None or pmax is not None):
            if pmin is None or pmax is None or pmin > pmax or pmin < 1 or pmax > 65535:
                raise BadRequest("For TCP/UDP protocols, port_range_min must be <= "
                                 "port_range_max", type="SecurityGroupInvalidPortRange")
        if number in ICMP_PROTOCOLS:
            # _validate_port_range: "Invalid value for ICMP %(field)s (%(attr)s) %(value)s"
            for field, attr, value in (("type", "port_range_min", pmin),
                                       ("code", "port_range_max", pmax)):
                if value is not None and not 0 <= value <= 255:
                    raise BadRequest(f"Invalid value for ICMP {field} ({attr}) {value}. It must "
                                     "be 0 to 255.", type="SecurityGroupInvalidIcmpValue")
            if pmin is None and pmax is not None:
                raise BadRequest(f"ICMP code (port-range-max) {pmax} is provided but ICMP type "
                                 "(port-range-min) is missing.",
                                 type="SecurityGroupMissingIcmpType")
        prefix, remote_group = b.get("remote_ip_prefix"), b.get("remote_group_id")
        if prefix is not None and remote_group is not None:
            raise BadRequest("Only remote_ip_prefix or remote_group_id may be provided.",
                             type="SecurityGroupRemoteGroupAndRemoteIpPrefix")
        normalized = None
        if prefix is not None:
            try:
                net = ipaddress.ip_network(str(prefix), strict=False)
            except ValueError:
                raise exc.invalid_attr("remote_ip_prefix",
                                       f"'{prefix}' is not a valid IP subnet") from None
            if f"IPv{net.version}" != ethertype:
                raise BadRequest(f"Conflicting value ethertype {ethertype} for CIDR {prefix}",
                                 type="SecurityGroupRuleParameterConflict")
            normalized = str(net)
        if remote_group is not None:
            self._sg_doc(ctx, remote_group)
        return {"direction": direction, "ethertype": ethertype, "protocol": protocol,
                "port_range_min": pmin, "port_range_max": pmax, "remote_ip_prefix": prefix,
                "remote_group_id": remote_group, "normalized_cidr": normalized,
                "remote_address_group_id": None,
                "description": self._core._str(b, "description")}

    def _duplicate_rule(self, sg_id: str, attrs: dict[str, Any]) -> str | None:
        def key(r: Doc) -> tuple[Any, ...]:
            return (r["direction"], r["ethertype"], _protocol(r["protocol"])[1],
                    r["port_range_min"], r["port_range_max"], r["normalized_cidr"],
                    r["remote_group_id"])

        for rule in self._core.store.find("security_group_rule", security_group_id=sg_id):
            if key(rule) == key(attrs):
                return str(rule["id"])
        return None


def _protocol(value: object) -> tuple[str | None, int | None]:
    """The protocol as given (lowercased) and its number; `any`/None means every protocol."""
    if value is None or value == "" or str(value).lower() == "any":
        return None, None
    text = str(value).lower()
    if text in PROTOCOLS:
        return text, PROTOCOLS[text]
    if text.isdigit() and 0 <= int(text) <= 255:
        return text, int(text)
    names = sorted(set(PROTOCOLS) - {"icmpv6"}) + ["any"]
    raise BadRequest(f"Security group rule protocol {value} not supported. Only protocol values "
                     f"[{', '.join(repr(n) for n in names)}] and integer representations "
                     "[0 to 255] are supported.", type="SecurityGroupRuleInvalidProtocol")


def _port(b: Doc, attr: str) -> int | None:
    return port_value(b.get(attr))


def port_value(value: Any) -> int | None:
    """Neutron's `convert_validate_port_value`: None, or a port number 0-65535 given as an
    int or a string of one; anything else is SecurityGroupInvalidPortValue."""
    if value is None:
        return None
    try:
        number = int(value) if not isinstance(value, (bool, float)) else -1
    except (TypeError, ValueError):
        number = -1
    if not 0 <= number <= 65535:
        raise BadRequest(f"Invalid value for port {value}", type="SecurityGroupInvalidPortValue")
    return number
