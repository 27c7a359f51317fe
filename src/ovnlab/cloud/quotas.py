"""Neutron's quotas (the `quotas` and `quota_details` extensions, neutron/extensions/
quotasv2.py, neutron/quota): per-project limits an admin sets, shown with their usage, and
checked when the API creates a resource (OverQuota, 409), as Neutron's API layer does.

ovnlab's neutron.conf leaves every `[quotas] quota_*` at -1 (unlimited), so a cloud of
thousands of floating IPs in one project (the benchmarks) fits; a limit an admin sets is
enforced from the next request on."""

from __future__ import annotations

from ovnlab.cloud import exceptions as exc
from ovnlab.cloud.base import CloudBase, Doc
from ovnlab.cloud.context import Context
from ovnlab.errors import BadRequest, Conflict

KIND = "neutron_quota"
# resource -> the store kind it counts
RESOURCES: dict[str, str] = {
    "network": "network", "subnet": "subnet", "port": "port", "router": "router",
    "floatingip": "floatingip", "security_group": "security_group",
    "security_group_rule": "security_group_rule", "subnetpool": "subnetpool",
}
DEFAULT = -1


def over_quota(resources: list[str]) -> Conflict:
    return Conflict(f"Quota exceeded for resources: {resources}.", type="OverQuota")


def _limit_value(resource: str, value: object) -> int:
    """convert_to_int and the -1 lower bound of the quota attribute map."""
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise exc.invalid_attr(resource, f"'{value}' is not an integer")
    if value < -1:
        raise exc.invalid_attr(resource, f"'{value}' is too small - must be at least '-1'")
    return value


class NetworkQuotaService:
    """Neutron's quotas (`cloud.quotas`), a service of its own over the cloud's core."""

    def __init__(self, core: CloudBase) -> None:
        self._core = core

    def _limits(self, project_id: str) -> dict[str, int]:
        set_ = self._core.store.get(KIND, project_id) or {}
        return {r: int(set_.get(r, DEFAULT)) for r in RESOURCES}

    def _used(self, project_id: str) -> dict[str, int]:
        return {r: len(self._core.store.pluck(kind, "id", project_id=project_id))
                for r, kind in RESOURCES.items()}

    def _quota_reader(self, ctx: Context, project_id: str) -> None:
        if project_id != ctx.project_id and not ctx.is_admin:
            raise exc.policy("get_quota")

    def get_quotas(self, ctx: Context) -> list[Doc]:
        """The projects whose limits differ from the defaults (an admin's list)."""
        if not ctx.is_admin:
            raise exc.policy("get_quota")
        return [{**self._limits(d["project_id"]), "project_id": d["project_id"],
                 "tenant_id": d["project_id"]} for d in self._core.store.all(KIND)]

    def get_quota(self, ctx: Context, project_id: str) -> dict[str, int]:
        self._quota_reader(ctx, project_id)
        return self._limits(project_id)

    def get_quota_default(self, ctx: Context, project_id: str) -> dict[str, int]:
        self._quota_reader(ctx, project_id)
        return dict.fromkeys(RESOURCES, DEFAULT)

    def get_quota_details(self, ctx: Context, project_id: str) -> dict[str, Doc]:
        self._quota_reader(ctx, project_id)
        used = self._used(project_id)
        return {r: {"limit": lim, "used": used[r], "reserved": 0}
                for r, lim in self._limits(project_id).items()}

    def update_quota(self, ctx: Context, project_id: str, body: object) -> dict[str, int]:
        if not ctx.is_admin:
            raise exc.policy("update_quota")
        b = self._core._body(body, "quota")
        self._core._allowed(b, {*RESOURCES, "check_limit"})
        check = self._core._bool(b, "check_limit", False)
        b.pop("check_limit", None)
        if not b:
            raise BadRequest("Resource body required for quota", type="HTTPBadRequest")
        changes = {r: _limit_value(r, v) for r, v in b.items()}
        if check:  # quota-check-limit: no limit below what the project already uses
            used = self._used(project_id)
            unders = sorted(r for r, lim in changes.items() if 0 <= lim < used[r])
            if unders:
                raise Conflict("Change would make usage less than 0 for the following "
                               f"resources: {unders}.", type="InvalidQuotaValue")
        with self._core._txn():
            doc = self._core.store.get(KIND, project_id) or {"project_id": project_id}
            doc.update(changes)
            self._core.store.put(KIND, project_id, doc)
        return self._limits(project_id)

    def delete_quota(self, ctx: Context, project_id: str) -> None:
        """Back to the defaults."""
        if not ctx.is_admin:
            raise exc.policy("delete_quota")
        with self._core._txn():
            self._core.store.delete(KIND, project_id)

    def check_quota(self, project_id: str, resource: str, count: int = 1) -> None:
        """Before the API creates `count` of `resource` for the project."""
        if resource not in RESOURCES:
            return
        limit = self._limits(project_id)[resource]
        if limit < 0:
            return
        used = len(self._core.store.pluck(RESOURCES[resource], "id", project_id=project_id))
        if used + count > limit:
            raise over_quota([resource])
