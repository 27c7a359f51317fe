"""Nova's `os-quota-sets` (nova/api/openstack/compute/quota_sets.py): show (and `detail`,
`defaults`), an admin's update and revert; the network-proxy limits leave the view at
2.36, the injected-file ones at 2.57."""

from __future__ import annotations

from typing import Any

from ovnlab.cloud.compute_quotas import DEFAULTS
from ovnlab.cloud.services import ComputeQuotas as Cloud
from ovnlab.errors import BadRequest

from .http import Request, Response, Router
from .microversions import Version, microversion, version_headers

_NETWORK = ("fixed_ips", "floating_ips", "security_group_rules", "security_groups")
_FILES = ("injected_files", "injected_file_content_bytes", "injected_file_path_bytes")


def shown(version: Version) -> list[str]:
    gone = (_NETWORK if version >= (2, 36) else ()) + (_FILES if version >= (2, 57) else ())
    return [k for k in DEFAULTS if k not in gone]


class QuotaSets:
    def __init__(self, cloud: Cloud) -> None:
        self.cloud = cloud

    def register(self, router: Router, v21: str) -> None:
        base = v21 + "/os-quota-sets/{project_id}"
        router.add("GET", base, self.show)
        router.add("GET", base + "/detail", self.detail)
        router.add("GET", base + "/defaults", self.defaults)
        router.add("PUT", base, self.update)
        router.add("DELETE", base, self.delete)

    def _body(self, req: Request, limits: dict[str, Any], *, with_id: bool = True
              ) -> Response:
        version = microversion(req)
        body = {k: limits[k] for k in shown(version)}
        if with_id:
            body = {"id": req.params["project_id"], **body}
        return Response(200, {"quota_set": body}, version_headers(version))

    def show(self, req: Request) -> Response:
        return self._body(req, self.cloud.get_compute_quotas(req.context,
                                                             req.params["project_id"]))

    def detail(self, req: Request) -> Response:
        project = req.params["project_id"]
        limits = self.cloud.get_compute_quotas(req.context, project)
        used = self.cloud.get_compute_quota_usage(req.context, project)
        return self._body(req, {k: {"limit": v, "in_use": used.get(k, 0), "reserved": 0}
                                for k, v in limits.items()})

    def defaults(self, req: Request) -> Response:
        return self._body(req, DEFAULTS)

    def update(self, req: Request) -> Response:
        version = microversion(req)
        body = req.json()
        quota = body.get("quota_set") if isinstance(body, dict) and len(body) == 1 else None
        if not isinstance(quota, dict):
            raise BadRequest(f"Invalid input for field/attribute quota_set. Value: {body}. "
                             "'quota_set' is a required property", type="ValidationError")
        changes = {k: v for k, v in quota.items() if k != "force"}
        unknown = sorted(k for k in changes if k not in shown(version))
        if unknown:
            raise BadRequest(f"Additional properties are not allowed "
                             f"({', '.join(map(repr, unknown))} were unexpected)",
                             type="ValidationError")
        limits = self.cloud.update_compute_quotas(req.context, req.params["project_id"],
                                                  changes)
        return self._body(req, limits, with_id=False)

    def delete(self, req: Request) -> Response:
        version = microversion(req)
        self.cloud.delete_compute_quotas(req.context, req.params["project_id"])
        return Response(202, None, version_headers(version))
