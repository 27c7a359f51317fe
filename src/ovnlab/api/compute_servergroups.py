"""Nova's `os-server-groups` (nova/api/openstack/compute/server_groups.py and its schemas):
`policies` (a list of one) up to 2.63, `policy` and `rules` from 2.64, the soft policies
from 2.15, `project_id`/`user_id` from 2.13."""

from __future__ import annotations

from typing import Any

from ovnlab.cloud.servergroups import Policy
from ovnlab.cloud.services import ServerGroups as Cloud
from ovnlab.errors import BadRequest

from .http import Request, Response, Router
from .microversions import Version, microversion, version_headers
from .microversions import nova_writer as _writer

SOFT: Version = (2, 15)
OWNERS: Version = (2, 13)
SINGLE_POLICY: Version = (2, 64)


def _bad(message: str) -> BadRequest:
    return BadRequest(message, type="ValidationError")


def _policies(version: Version) -> list[str]:
    hard = [Policy.ANTI_AFFINITY.value, Policy.AFFINITY.value]
    return hard + ([Policy.SOFT_ANTI_AFFINITY.value, Policy.SOFT_AFFINITY.value]
                   if version >= SOFT else [])


def validate_create(body: Any, version: Version) -> tuple[str, Policy, dict[str, int]]:
    group = body.get("server_group") if isinstance(body, dict) and len(body) == 1 else None
    if not isinstance(group, dict):
        raise _bad(f"Invalid input for field/attribute server_group. Value: {body}. "
                   "'server_group' is a required property")
    field = "policy" if version >= SINGLE_POLICY else "policies"
    allowed = {"name", field} | ({"rules"} if version >= SINGLE_POLICY else set())
    extra = sorted(k for k in group if k not in allowed)
    if extra:
        raise _bad(f"Additional properties are not allowed ({', '.join(map(repr, extra))} "
                   f"{'was' if len(extra) == 1 else 'were'} unexpected)")
    for key in ("name", field):
        if key not in group:
            raise _bad(f"Invalid input for field/attribute server_group. Value: {group}. "
                       f"'{key}' is a required property")
    name = group["name"]
    if not isinstance(name, str) or not 1 <= len(name) <= 255 or name != name.strip():
        raise _bad(f"Invalid input for field/attribute name. Value: {name}. {name!r} is not "
                   "a valid name")
    raw = group[field]
    if field == "policies":
        if not isinstance(raw, list) or len(raw) != 1:
            raise _bad(f"Invalid input for field/attribute policies. Value: {raw}. {raw!r} "
                       "is not a list of exactly one policy")
        raw = raw[0]
    if raw not in _policies(version):
        raise _bad(f"Invalid input for field/attribute {field}. Value: {raw}. {raw!r} is not "
                   f"one of {_policies(version)}")
    rules = group.get("rules", {})
    if not isinstance(rules, dict) or any(k != "max_server_per_host" for k in rules) or any(
            isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in rules.values()):
        raise _bad(f"Invalid input for field/attribute rules. Value: {rules}.")
    return name, Policy(raw), rules


class ServerGroups:
    def __init__(self, cloud: Cloud) -> None:
        self.cloud = cloud

    def register(self, router: Router, v21: str) -> None:
        router.add("GET", v21 + "/os-server-groups", self.list)
        router.add("POST", v21 + "/os-server-groups", self.create)
        router.add("GET", v21 + "/os-server-groups/{id}", self.show)
        router.add("DELETE", v21 + "/os-server-groups/{id}", self.delete)

    @staticmethod
    def view(group: dict[str, Any], version: Version) -> dict[str, Any]:
        out: dict[str, Any] = {"id": group["id"], "name": group["name"]}
        if version >= SINGLE_POLICY:
            out.update(policy=group["policy"], rules=group["rules"])
        else:
            out.update(policies=[group["policy"]], metadata={})
        out["members"] = list(group["members"])
        if version >= OWNERS:
            out.update(project_id=group["project_id"], user_id=group["user_id"])
        return out

    def create(self, req: Request) -> Response:
        version = microversion(req)
        _writer(req, "os-server-groups:create")
        name, group_policy, rules = validate_create(req.json(), version)
        group = self.cloud.create_server_group(req.context, name, group_policy, rules)
        return Response(200, {"server_group": self.view(group, version)},
                        version_headers(version))

    def list(self, req: Request) -> Response:
        version = microversion(req)
        everyone = (req.q1("all_projects") or "").lower() in ("1", "true", "yes", "on")
        groups = self.cloud.get_server_groups(req.context, all_projects=everyone)
        offset, limit = _int(req.q1("offset"), "offset"), _int(req.q1("limit"), "limit")
        groups = groups[offset or 0:][:limit] if limit is not None else groups[offset or 0:]
        return Response(200, {"server_groups": [self.view(g, version) for g in groups]},
                        version_headers(version))

    def show(self, req: Request) -> Response:
        version = microversion(req)
        group = self.cloud.get_server_group(req.context, req.params["id"])
        return Response(200, {"server_group": self.view(group, version)},
                        version_headers(version))

    def delete(self, req: Request) -> Response:
        version = microversion(req)
        _writer(req, "os-server-groups:delete")
        self.cloud.delete_server_group(req.context, req.params["id"])
        return Response(204, None, version_headers(version))


def _int(raw: str | None, name: str) -> int | None:
    if raw is None:
        return None
    if not raw.isdigit():
        raise _bad(f"Invalid input for query parameters {name}. Value: {raw}. '{raw}' does "
                   "not match '^[0-9]*$'")
    return int(raw)
