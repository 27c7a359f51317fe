"""Keystone's part: projects and users come from the topology; ids are derived from names
(32 hex digits, as Keystone's) so they are the same in every lab built from the topology."""

from __future__ import annotations

from typing import Any

from ovnlab.cloud.context import Context
from ovnlab.cloud.ids import stable_hex
from ovnlab.errors import NotFound, Unauthorized
from ovnlab.topology import Topology

DOMAIN = "default"


def project_id(name: str) -> str:
    return stable_hex("project", name)


def user_id(name: str) -> str:
    return stable_hex("user", name)


def projects(topology: Topology) -> list[dict[str, Any]]:
    return [{"id": project_id(p.name), "name": p.name, "domain_id": DOMAIN,
             "description": "", "enabled": True, "is_domain": False, "parent_id": DOMAIN,
             "tags": [], "options": {}} for p in topology.projects]


def users(topology: Topology) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for p in topology.projects:
        for u in p.users:
            seen.setdefault(u.name, {"id": user_id(u.name), "name": u.name,
                                     "domain_id": DOMAIN, "enabled": True,
                                     "default_project_id": project_id(p.name)})
    return list(seen.values())


def authenticate(topology: Topology, user: str, password: str, project: str) -> Context:
    """A password login scoped to a project (by name or id), like POST /v3/auth/tokens."""
    for p in topology.projects:
        if project not in (p.name, project_id(p.name)):
            continue
        for u in p.users:
            if u.name == user and u.password == password:
                return Context(user_id(u.name), project_id(p.name), u.admin, u.name, p.name)
    raise Unauthorized("The request you have made requires authentication.",
                       type="Unauthorized")


def project_name(topology: Topology, pid: str) -> str:
    for p in topology.projects:
        if project_id(p.name) == pid:
            return p.name
    raise NotFound(f"Could not find project: {pid}.", type="ProjectNotFound")
