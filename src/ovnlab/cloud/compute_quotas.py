"""Nova's quota sets (`os-quota-sets`, nova/quota.py's defaults): per project, shown, set
and reverted by an admin. What ovnlab enforces: `metadata_items` (a server's metadata) and
`key_pairs` (per user); instances, cores and ram are shown but not counted (the lab's
compute nodes are not sized, see docs/differences.md)."""

from __future__ import annotations

from ovnlab.cloud.base import CloudBase, Doc
from ovnlab.cloud.context import Context
from ovnlab.cloud.store import Store
from ovnlab.errors import BadRequest, Forbidden

KIND = "nova_quota"
# nova.conf [quota] defaults
DEFAULTS: dict[str, int] = {
    "instances": 10, "cores": 20, "ram": 51200, "metadata_items": 128, "key_pairs": 100,
    "server_groups": 10, "server_group_members": 10, "injected_files": 5,
    "injected_file_content_bytes": 10240, "injected_file_path_bytes": 255,
    "floating_ips": 10, "fixed_ips": -1, "security_groups": 10, "security_group_rules": 20,
}


def limit(store: Store, project_id: str, resource: str) -> int:
    """The project's limit for `resource` (-1: unlimited)."""
    doc = store.get(KIND, project_id) or {}
    return int(doc.get(resource, DEFAULTS[resource]))


def check_metadata(store: Store, project_id: str, metadata: dict[str, str]) -> None:
    """_check_metadata_properties_quota: more items than allowed is MetadataLimitExceeded,
    which the API answers with a 403."""
    allowed = limit(store, project_id, "metadata_items")
    if allowed >= 0 and len(metadata) > allowed:
        raise Forbidden(f"Maximum number of metadata items exceeds {allowed}",
                        type="MetadataLimitExceeded")


class ComputeQuotaService:
    """Nova's quota sets (`cloud.compute_quotas`), a service of its own over the cloud's core."""

    def __init__(self, core: CloudBase) -> None:
        self._core = core

    def get_compute_quotas(self, ctx: Context, project_id: str) -> Doc:
        """The project's limits; another project's are an admin's to read."""
        if project_id != ctx.project_id and not ctx.is_admin:
            raise Forbidden("Policy doesn't allow os_compute_api:os-quota-sets:show to be "
                            "performed.", type="PolicyNotAuthorized")
        return {k: limit(self._core.store, project_id, k) for k in DEFAULTS}

    def get_compute_quota_usage(self, ctx: Context, project_id: str) -> dict[str, int]:
        """What counts against each limit (`detail`): servers, key pairs and groups."""
        servers = self._core.store.find("server", project_id=project_id)
        return {"instances": len(servers), "server_groups": len(
            self._core.store.find("server_group", project_id=project_id)),
            "key_pairs": len(self._core.store.find("keypair", user_id=ctx.user_id))}

    def update_compute_quotas(self, ctx: Context, project_id: str,
                              changes: dict[str, int]) -> Doc:
        if not ctx.is_admin:
            raise Forbidden("Policy doesn't allow os_compute_api:os-quota-sets:update to be "
                            "performed.", type="PolicyNotAuthorized")
        unknown = sorted(set(changes) - set(DEFAULTS))
        if unknown:
            raise BadRequest(f"Additional properties are not allowed "
                             f"({', '.join(map(repr, unknown))} were unexpected)",
                             type="ValidationError")
        for key, value in changes.items():
            if isinstance(value, bool) or not isinstance(value, int) or value < -1:
                raise BadRequest(f"Invalid input for field/attribute {key}. Value: {value}. "
                                 f"{value!r} is less than the minimum of -1",
                                 type="ValidationError")
        with self._core._txn():
            doc = self._core.store.get(KIND, project_id) or {}
            doc.update(changes)
            self._core.store.put(KIND, project_id, doc)
        return self.get_compute_quotas(ctx, project_id)

    def delete_compute_quotas(self, ctx: Context, project_id: str) -> None:
        """Back to the defaults."""
        if not ctx.is_admin:
            raise Forbidden("Policy doesn't allow os_compute_api:os-quota-sets:delete to be "
                            "performed.", type="PolicyNotAuthorized")
        with self._core._txn():
            self._core.store.delete(KIND, project_id)
