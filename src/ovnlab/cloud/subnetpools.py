"""Neutron's subnet pools (the `subnet_allocation` extension): a project's (or a shared)
set of prefixes that subnets take their CIDR from, by prefix length or by asking for a CIDR
inside it (neutron/ipam/subnet_alloc.py, neutron/db/db_base_plugin_v2.py). Pools are
Neutron's alone: nothing of them reaches the OVN NB (a subnet from a pool is an ordinary
subnet there)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any

from ovnlab.cloud import exceptions as exc
from ovnlab.cloud import ipam, policy
from ovnlab.cloud.base import CloudBase, Doc, Filters
from ovnlab.cloud.context import Context
from ovnlab.cloud.store import Store
from ovnlab.errors import BadRequest, NotFound, OvnlabError

KIND = "subnetpool"
# ip_version -> (max prefixlen, default min_prefixlen): SubnetPoolHelper._PREFIX_VERSION_INFO
_BOUNDS = {4: (32, 8), 6: (128, 64)}
CREATE = {"name", "description", "prefixes", "default_prefixlen", "min_prefixlen",
          "max_prefixlen", "default_quota", "shared", "is_default", "address_scope_id",
          "tenant_id", "project_id", "tags"}
UPDATE = {"name", "description", "prefixes", "default_prefixlen", "min_prefixlen",
          "max_prefixlen", "default_quota", "is_default", "address_scope_id"}


class SubnetAllocationError(OvnlabError):
    """neutron_lib's SubnetAllocationError is a bare NeutronException: Neutron's API
    answers it with a 500, and so does ovnlab."""


def not_found(pool_id: object) -> NotFound:
    return NotFound(f"Subnet pool {pool_id} could not be found.", type="SubnetPoolNotFound")


def _bounds_error(kind: str, value: int, base: str, base_value: int) -> BadRequest:
    return BadRequest(f"Illegal prefix bounds: {kind}={value}, {base}={base_value}.",
                      type="IllegalSubnetPoolPrefixBounds")


def compact(prefixes: Iterable[ipam.IPNetwork]) -> list[ipam.IPNetwork]:
    """The prefix list with overlaps and neighbours merged (IPSet.compact)."""
    nets: list[Any] = list(prefixes)  # one IP version: collapse_addresses wants that typed
    return list(ipaddress.collapse_addresses(nets))


def _prefixes(raw: Any) -> tuple[int, list[ipam.IPNetwork]]:
    if not isinstance(raw, list) or not raw:
        raise BadRequest("Empty subnet pool prefix list.", type="EmptySubnetPoolPrefixList")
    nets = [ipam.parse_cidr(p) for p in raw]
    if len({n.version for n in nets}) > 1:
        raise BadRequest("Cannot mix IPv4 and IPv6 prefixes in a subnet pool.",
                         type="PrefixVersionMismatch")
    return nets[0].version, compact(nets)


def _prefixlen(b: Doc, attr: str, default: int) -> int:
    value = b.get(attr, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
        raise exc.invalid_attr(attr, f"'{value}' is not an integer")
    return int(value)


def read_bounds(b: Doc, version: int, current: Doc | None = None) -> dict[str, int]:
    """min/max/default prefixlen with SubnetPoolReader's defaults and checks."""
    max_bits, default_min = _BOUNDS[version]
    old = current or {}
    lo = _prefixlen(b, "min_prefixlen", old.get("min_prefixlen", default_min))
    hi = _prefixlen(b, "max_prefixlen", old.get("max_prefixlen", max_bits))
    default = _prefixlen(b, "default_prefixlen", old.get("default_prefixlen", lo))
    if lo > hi:
        raise _bounds_error("min_prefixlen", lo, "max_prefixlen", hi)
    if hi > max_bits:
        raise _bounds_error("max_prefixlen", hi, "ip_version_max", max_bits)
    if default < lo:
        raise _bounds_error("default_prefixlen", default, "min_prefixlen", lo)
    if default > hi:
        raise _bounds_error("default_prefixlen", default, "max_prefixlen", hi)
    return {"min_prefixlen": lo, "max_prefixlen": hi, "default_prefixlen": default}


def available(pool: Doc, allocated: Iterable[str]) -> list[ipam.IPNetwork]:
    """The pool's prefixes minus its subnets' CIDRs, smallest blocks first
    (SubnetAllocator._get_available_prefix_list)."""
    free = [ipaddress.ip_network(p) for p in pool["prefixes"]]
    for cidr in map(ipaddress.ip_network, allocated):
        rest: list[ipam.IPNetwork] = []
        for block in free:
            if block.version == cidr.version and block.overlaps(cidr):
                if cidr.supernet_of(block):  # type: ignore[arg-type]
                    continue
                rest.extend(block.address_exclude(cidr))  # type: ignore[arg-type]
            else:
                rest.append(block)
        free = rest
    return sorted(compact(free), key=lambda n: (-n.prefixlen, int(n.network_address)))


def allocate(pool: Doc, allocated: Iterable[str], prefixlen: int | None,
             cidr: ipam.IPNetwork | None) -> ipam.IPNetwork:
    """SubnetAllocator.allocate_subnet: the first block of `prefixlen` (default: the pool's
    default_prefixlen) in the free space, or exactly `cidr` if it is all free."""
    size = cidr.prefixlen if cidr is not None else (
        pool["default_prefixlen"] if prefixlen is None else prefixlen)
    if size > pool["max_prefixlen"]:
        raise BadRequest(f"Unable to allocate subnet with prefix length {size}, maximum "
                         f"allowed prefix is {pool['max_prefixlen']}.",
                         type="MaxPrefixSubnetAllocationError")
    if size < pool["min_prefixlen"]:
        raise BadRequest(f"Unable to allocate subnet with prefix length {size}, minimum "
                         f"allowed prefix is {pool['min_prefixlen']}.",
                         type="MinPrefixSubnetAllocationError")
    free = available(pool, allocated)
    if cidr is not None:
        if any(cidr.subnet_of(block) for block in free if block.version == cidr.version):  # type: ignore[arg-type]
            return cidr
        raise SubnetAllocationError("Failed to allocate subnet: Cannot allocate requested "
                                    "subnet from the available set of prefixes.",
                                    type="SubnetAllocationError")
    for block in free:
        if size >= block.prefixlen:
            return ipaddress.ip_network(f"{block.network_address}/{size}")
    raise SubnetAllocationError(f"Failed to allocate subnet: Insufficient prefix space to "
                                f"allocate subnet size /{size}.", type="SubnetAllocationError")


def visible(ctx: Context, pool: Doc) -> bool:
    return policy.owns(ctx, pool) or bool(pool.get("shared"))


def pool_for_subnet(store: Store, ctx: Context, b: Doc) -> Doc | None:
    """The pool a subnet request names (`subnetpool_id`, or the default pool of its IP
    version with `use_default_subnetpool`), as _get_subnetpool_id finds it; None for none."""
    pool_id = b.get("subnetpool_id")
    if pool_id and b.get("use_default_subnetpool"):
        raise exc.bad_request("subnets", "subnetpool_id and use_default_subnetpool cannot "
                              "both be specified")
    if pool_id:
        pool = store.get(KIND, pool_id) if isinstance(pool_id, str) else None
        if pool is None or not visible(ctx, pool):
            raise not_found(pool_id)
        return pool
    if not b.get("use_default_subnetpool"):
        return None
    version = b.get("ip_version")
    if version is None:
        raise exc.bad_request("subnets", "ip_version must be specified in the absence of "
                              "cidr and subnetpool_id")
    for pool in store.find(KIND, is_default=True):
        if pool["ip_version"] == int(version):
            return pool
    raise exc.bad_request("subnets", f"No default subnetpool found for IPv{version}")


def subnet_cidr(store: Store, pool: Doc, b: Doc) -> ipam.IPNetwork:
    """The CIDR a subnet request gets from `pool`."""
    cidr = ipam.parse_cidr(b["cidr"]) if b.get("cidr") is not None else None
    if cidr is not None and b.get("prefixlen") is not None:
        raise exc.bad_request("subnets", "cidr and prefixlen must not be supplied together")
    version = b.get("ip_version")
    if version is not None and int(version) != pool["ip_version"]:
        raise exc.bad_request("subnets", f"Cannot allocate IPv{version} subnet from "
                              f"IPv{pool['ip_version']} subnet pool")
    prefixlen = None if b.get("prefixlen") is None else _prefixlen(b, "prefixlen", 0)
    return allocate(pool, store.pluck("subnet", "cidr", subnetpool_id=pool["id"]),
                    prefixlen, cidr)


class SubnetPoolService:
    """Neutron's subnet pools (`cloud.subnetpools`), a service of its own over the cloud's core (subnets allocate from a pool through this module's functions)."""

    def __init__(self, core: CloudBase) -> None:
        self._core = core

    def _subnetpool_doc(self, ctx: Context, id: object) -> Doc:
        pool = self._core._doc(KIND, id)
        if pool is None or not visible(ctx, pool):
            raise not_found(id)
        return pool

    def create_subnetpool(self, ctx: Context, body: object) -> Doc:
        b = self._core._body(body, KIND)
        self._core._allowed(b, CREATE)
        policy.check_write(ctx, "create", KIND, b)
        with self._core._txn():
            project = policy.check_project(ctx, b)
            if "prefixes" not in b:
                raise exc.required("prefixes")
            version, prefixes = _prefixes(b["prefixes"])
            pool: Doc = {
                "id": self._core.ids.uuid(), "name": self._core._str(b, "name"),
                "description": self._core._str(b, "description"), "project_id": project,
                "tenant_id": project, "ip_version": version,
                "prefixes": [str(p) for p in prefixes], **read_bounds(b, version),
                "default_quota": b.get("default_quota"),
                "shared": self._core._bool(b, "shared", False),
                "is_default": self._core._bool(b, "is_default", False),
                "address_scope_id": b.get("address_scope_id"),
                "tags": list(b.get("tags") or []),
            }
            self._check_default(pool)
            self._core._save(KIND, self._core._stamp(pool))
        return self._core._view(ctx, KIND, pool)

    def _check_default(self, pool: Doc) -> None:
        """One default pool per IP version (_validate_default_subnetpool)."""
        if not pool["is_default"]:
            return
        for other in self._core.store.find(KIND, is_default=True):
            if other["id"] != pool["id"] and other["ip_version"] == pool["ip_version"]:
                raise exc.invalid_input("A default subnetpool for this IP family has already "
                                        "been set. Only one default may exist per IP family")

    def get_subnetpool(self, ctx: Context, id: str, fields: list[str] | None = None) -> Doc:
        return self._core._view(ctx, KIND, self._subnetpool_doc(ctx, id), fields)

    def get_subnetpools(self, ctx: Context, filters: Filters | None = None,
                        fields: list[str] | None = None) -> list[Doc]:
        return [self._core._view(ctx, KIND, p, fields) for p in self._core.store.all(KIND)
                if visible(ctx, p) and self._core._matches(p, filters)]

    def update_subnetpool(self, ctx: Context, id: str, body: object) -> Doc:
        b = self._core._body(body, KIND)
        self._core._allowed(b, UPDATE)
        policy.check_write(ctx, "update", KIND, b)
        with self._core._txn():
            pool = self._subnetpool_doc(ctx, id)
            if not policy.owns(ctx, pool):
                raise exc.policy("update_subnetpool")
            if "prefixes" in b:
                version, prefixes = _prefixes(b["prefixes"])
                old = {ipaddress.ip_network(p) for p in pool["prefixes"]}
                if version != pool["ip_version"] or not all(
                        any(o.subnet_of(n) for n in prefixes)  # type: ignore[arg-type]
                        for o in old):
                    raise BadRequest("Illegal subnetpool prefix update: Existing prefixes "
                                     "must be a subset of the new prefixes.",
                                     type="IllegalSubnetPoolPrefixUpdate")
                pool["prefixes"] = [str(p) for p in prefixes]
            pool.update(read_bounds(b, pool["ip_version"], pool))
            for attr in ("name", "description"):
                if attr in b:
                    pool[attr] = self._core._str(b, attr)
            if "is_default" in b:
                pool["is_default"] = self._core._bool(b, "is_default", False)
                self._check_default(pool)
            for attr in ("default_quota", "address_scope_id"):
                if attr in b:
                    pool[attr] = b[attr]
            self._core._save(KIND, self._core._touch(pool))
        return self._core._view(ctx, KIND, pool)

    def delete_subnetpool(self, ctx: Context, id: str) -> None:
        with self._core._txn():
            pool = self._subnetpool_doc(ctx, id)
            if not policy.owns(ctx, pool):
                raise exc.policy("delete_subnetpool")
            if self._core.store.find("subnet", subnetpool_id=id):
                raise BadRequest("Unable to delete subnet pool: Subnet pool has existing "
                                 "allocations.", type="SubnetPoolDeleteError")
            self._core.store.delete(KIND, id)
