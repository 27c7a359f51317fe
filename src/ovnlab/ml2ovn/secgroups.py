"""Security groups: Port_Group `pg_<id>` with one ACL per rule, and `neutron_pg_drop`
(ovn_client.py `create_security_group`, `_create_neutron_pg_drop`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ovnlab.ml2ovn import acl as acls
from ovnlab.ml2ovn import names as n
from ovnlab.ml2ovn.base import DriverBase
from ovnlab.ml2ovn.view import Kind, Resource


class SecurityGroupDriver(DriverBase):
    """Security groups and their rules as Port_Group ACLs."""

    def _ensure_drop_port_group(self) -> None:
        """`_create_neutron_pg_drop` (done at neutron-server start)."""
        pg = self.api.pg_add(n.DROP_PORT_GROUP, external_ids={})
        for cols in acls.drop_acls():
            self.api.pg_acl_add(pg, **cols)

    def create_security_group(self, sg: Resource) -> None:
        """`OVNClient.create_security_group`: Port_Group `pg_<id>` + one ACL per rule."""
        with self.transaction():
            pg = self.api.pg_add(n.port_group_name(sg["id"]), external_ids={n.SG_ID: sg["id"]})
            for rule in sg.get("security_group_rules") or []:
                self.api.pg_acl_add(pg, **acls.rule_acl(pg["name"], rule, _stateful(sg)))

    def update_security_group(self, sg: Resource, original: Resource | None = None) -> None:
        with self.transaction():
            if self.api.by_name("Port_Group", n.port_group_name(sg["id"])) is None:
                self.create_security_group(sg)

    def delete_security_group(self, sg: Resource) -> None:
        with self.transaction():
            self.api.pg_del(n.port_group_name(sg["id"]))

    def create_security_group_rule(self, rule: Resource) -> None:
        with self.transaction():
            sg = self.plugin.get(Kind.SECURITY_GROUPS, rule["security_group_id"]) or {}
            pg = self.api.must("Port_Group", n.port_group_name(rule["security_group_id"]))
            self.api.pg_acl_add(pg, **acls.rule_acl(pg["name"], rule, _stateful(sg)))

    def delete_security_group_rule(self, rule: Resource) -> None:
        """`pg_acl_del` by (direction, priority, match), as Neutron deletes it."""
        with self.transaction():
            sg = self.plugin.get(Kind.SECURITY_GROUPS, rule["security_group_id"]) or {}
            pg = self.api.by_name("Port_Group", n.port_group_name(rule["security_group_id"]))
            if pg is not None:
                want = acls.rule_acl(pg["name"], rule, _stateful(sg))
                for acl in self.api.children(pg, "acls"):
                    if (acl["direction"], acl["priority"], acl["match"]) == \
                            (want["direction"], want["priority"], want["match"]):
                        self.api.delete("ACL", acl.uuid)


def _stateful(sg: Mapping[str, Any]) -> bool:
    return bool(sg.get("stateful", True))
