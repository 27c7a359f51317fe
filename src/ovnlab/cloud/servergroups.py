"""Nova's server groups (`os-server-groups`, nova/objects/instance_group.py) and what the
scheduler does with a `group` hint (ServerGroupAffinityFilter / AntiAffinityFilter, the
soft weighers): an affinity group's servers share their host, an anti-affinity group's
never do (at most `max_server_per_host` with 2.64's rule); the soft policies only prefer.
A server that no host can take goes to ERROR with NoValidHost, as Nova's conductor leaves
it. Membership is the server's `server_group`: deleting the server leaves the group."""

from __future__ import annotations

from enum import StrEnum

from ovnlab.cloud import catalog, policy
from ovnlab.cloud.base import CloudBase, Doc
from ovnlab.cloud.context import Context
from ovnlab.errors import BadRequest, NotFound

KIND = "server_group"


class Policy(StrEnum):
    AFFINITY = "affinity"
    ANTI_AFFINITY = "anti-affinity"
    SOFT_AFFINITY = "soft-affinity"
    SOFT_ANTI_AFFINITY = "soft-anti-affinity"


def not_found(group_id: object) -> NotFound:
    return NotFound(f"Instance group {group_id} could not be found.",
                    type="InstanceGroupNotFound")


class ServerGroupService:
    """Nova's server groups (`cloud.server_groups`), a service of its own over the cloud's core; Nova's scheduler asks it which hosts a request's hints leave."""

    def __init__(self, core: CloudBase) -> None:
        self._core = core

    def _group_doc(self, ctx: Context, group_id: object) -> Doc:
        group = self._core._doc(KIND, group_id)
        if group is None or not policy.owns(ctx, group):
            raise not_found(group_id)
        return group

    def _members(self, group_id: str) -> list[Doc]:
        return self._core.store.find("server", server_group=group_id)

    def _group_view(self, group: Doc) -> Doc:
        return {**group, "members": [s["id"] for s in self._members(group["id"])]}

    def create_server_group(self, ctx: Context, name: str, group_policy: Policy,
                            rules: dict[str, int] | None = None) -> Doc:
        if rules and group_policy is not Policy.ANTI_AFFINITY:
            raise BadRequest("Only anti-affinity policy supports rules.",
                             type="ValidationError")
        with self._core._txn():
            group: Doc = {"id": self._core.ids.uuid(), "name": name, "policy": group_policy.value,
                          "rules": dict(rules or {}), "project_id": ctx.project_id,
                          "user_id": ctx.user_id, "created_at": self._core._now()}
            self._core._save(KIND, group)
        return self._group_view(group)

    def get_server_groups(self, ctx: Context, all_projects: bool = False) -> list[Doc]:
        """The caller's project's groups (an admin's `all_projects`: everyone's)."""
        return [self._group_view(g) for g in self._core.store.all(KIND)
                if g["project_id"] == ctx.project_id or (all_projects and ctx.is_admin)]

    def get_server_group(self, ctx: Context, group_id: str) -> Doc:
        return self._group_view(self._group_doc(ctx, group_id))

    def delete_server_group(self, ctx: Context, group_id: str) -> None:
        with self._core._txn():
            self._group_doc(ctx, group_id)
            for server in self._members(group_id):
                server["server_group"] = None
                self._core._save("server", server)
            self._core.store.delete(KIND, group_id)

    # ------------------------------------------------------------ the scheduler's filters
    def hosts_for_hints(self, ctx: Context, hints: Doc) -> set[str] | None:
        """The hosts a request's `group` scheduler hint leaves (None: any): Nova's
        ServerGroupAffinityFilter / AntiAffinityFilter and the soft weighers."""
        group_id = hints.get("group")
        if group_id is None:
            return None
        group = self._core._doc(KIND, group_id)
        if group is None or group["project_id"] != ctx.project_id:
            raise BadRequest(f"Instance group {group_id} could not be found.",
                             type="InstanceGroupNotFound")
        nodes = [n.hostname for n in catalog.compute_nodes(self._core.topology)]
        used: dict[str, int] = {}
        for member in self._members(group["id"]):
            if member["host"]:
                used[member["host"]] = used.get(member["host"], 0) + 1
        rule = Policy(group["policy"])
        if rule is Policy.AFFINITY:
            return set(used) if used else set(nodes)
        if rule is Policy.ANTI_AFFINITY:
            most = int(group["rules"].get("max_server_per_host", 1))
            return {h for h in nodes if used.get(h, 0) < most}
        # soft policies weigh, never filter: prefer the hosts the policy likes
        liked = ({h for h in nodes if h in used} if rule is Policy.SOFT_AFFINITY
                 else {h for h in nodes if h not in used})
        return liked or set(nodes)
