"""Neutron's default policy, the parts the lab needs.

Project isolation: a project sees its own resources, plus shared and external networks
and the subnets of shared ones (not of external ones: `get_subnet` is admin_or_owner or
shared); anything else does not exist for it (404, as Neutron hides it). An
attribute reserved to admins in a request is `PolicyNotAuthorized` (403); attributes only
admins may read are removed from what others get back.
"""

from __future__ import annotations

from typing import Any

from ovnlab.cloud import exceptions as exc
from ovnlab.cloud.context import Context

# create_<resource>:<attr> / update_<resource>:<attr> rules that are `rule:admin_only`.
ADMIN_ONLY_WRITE: dict[str, tuple[str, ...]] = {
    "network": ("shared", "router:external", "provider:network_type",
                "provider:physical_network", "provider:segmentation_id", "is_default"),
    "port": ("binding:host_id", "binding:profile"),
    "router": ("distributed", "ha", "external_gateway_info:enable_snat",
               "external_gateway_info:external_fixed_ips"),
    "floatingip": ("floating_ip_address",),
    "subnetpool": ("shared", "is_default"),
}

# get_<resource>:<attr> rules that are `rule:admin_only`.
ADMIN_ONLY_READ: dict[str, tuple[str, ...]] = {
    "network": ("provider:network_type", "provider:physical_network",
                "provider:segmentation_id"),
    "port": ("binding:host_id", "binding:profile", "binding:vif_type", "binding:vif_details"),
    "router": ("distributed", "ha"),
}


def _attr_present(body: dict[str, Any], attr: str) -> bool:
    head, _, sub = attr.partition(":")
    if sub and head == "external_gateway_info":
        info = body.get(head)
        return isinstance(info, dict) and sub in info
    return attr in body


def check_write(ctx: Context, action: str, resource: str, body: dict[str, Any]) -> None:
    """`create_network` with `provider:network_type` by a non-admin → PolicyNotAuthorized."""
    if ctx.is_admin:
        return
    denied = [a for a in ADMIN_ONLY_WRITE.get(resource, ()) if _attr_present(body, a)]
    if denied:
        raise exc.policy(f"{action}_{resource}", *(f"{action}_{resource}:{a}" for a in denied))


def check_project(ctx: Context, body: dict[str, Any]) -> str:
    """The owning project of a new resource: the caller's, or any for an admin."""
    for key in ("project_id", "tenant_id"):
        if body.get(key) is not None and not isinstance(body[key], str):
            raise exc.invalid_attr(key, f"'{body[key]}' is not a valid string")
    wanted = {body[k] for k in ("project_id", "tenant_id") if body.get(k) is not None}
    if len(wanted) > 1:
        raise exc.BadRequest("'project_id' and 'tenant_id' do not match",
                             type="HTTPBadRequest")
    project = wanted.pop() if wanted else ctx.project_id
    if project != ctx.project_id and not ctx.is_admin:
        raise exc.BadRequest(
            "Specifying 'project_id' or 'tenant_id' other than the authenticated project in "
            "request requires admin privileges", type="HTTPBadRequest")
    return str(project)


def owns(ctx: Context, doc: dict[str, Any]) -> bool:
    return ctx.is_admin or doc.get("project_id") == ctx.project_id


def network_visible(ctx: Context, net: dict[str, Any]) -> bool:
    return owns(ctx, net) or bool(net.get("shared")) or bool(net.get("router:external"))


def strip(ctx: Context, resource: str, doc: dict[str, Any]) -> dict[str, Any]:
    if ctx.is_admin:
        return doc
    for attr in ADMIN_ONLY_READ.get(resource, ()):
        doc.pop(attr, None)
    return doc
