"""Topologies are data: a YAML file or a built-in name, validated strictly.

Unknown keys and inconsistent specs raise `TopologyError` naming the key path,
in the spirit of Faucet's `_check_unknown_conf`.
"""

from __future__ import annotations

import enum
import ipaddress
import re
import uuid
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from ovnlab.errors import TopologyError

BUILTIN = ("seed", "gw-only")
ROLES = ("network", "compute")
SCHEDULERS = ("leastloaded", "chance")
MAX_FILE_BYTES = 1 << 20  # a topology is a few KB; anything near this is not one
_KIND_NAMES = {str: "a string", bool: "true or false", dict: "a mapping", list: "a list"}
_MAC = re.compile(r"^([0-9a-f]{2}:){5}[0-9a-f]{2}$")


class Backend(enum.Enum):
    """What runs the lab's OVN and Open vSwitch: ovnlab's emulation in-process, or the real
    programs in network namespaces (`ovnlab.backends.ovn`)."""

    EMULATED = "emulated"
    OVN = "ovn"


@dataclass(frozen=True, slots=True)
class OvnConfig:
    """Neutron's `[ovn]` section of ml2_conf.ini (the parts ovnlab models)."""

    enable_distributed_floating_ip: bool = False
    ovn_l3_scheduler: str = "leastloaded"
    ovn_metadata_enabled: bool = False  # a metadata port per network, served on each chassis
    ovn_emit_need_to_frag: bool = False  # the gateway port's options:gateway_mtu


@dataclass(frozen=True, slots=True)
class NeutronConfig:
    ovn: OvnConfig = field(default_factory=OvnConfig)


@dataclass(frozen=True, slots=True)
class NodeSpec:
    hostname: str
    role: str
    system_id: str
    tunnel_ip: str
    ovn_bridge_mappings: tuple[tuple[str, str], ...] = ()
    ovn_cms_options: tuple[str, ...] = ()

    @property
    def bridge_mappings(self) -> dict[str, str]:
        return dict(self.ovn_bridge_mappings)

    @property
    def is_gateway_flagged(self) -> bool:
        return "enable-chassis-as-gw" in self.ovn_cms_options

    def ovs_external_ids(self) -> dict[str, str]:
        """The Open_vSwitch row's external_ids a deployment tool sets on this node
        (`ovs-vsctl set open . external_ids:system-id=...`) and ovn-controller reads."""
        return {"system-id": self.system_id, "hostname": self.hostname,
                "ovn-encap-type": "geneve", "ovn-encap-ip": self.tunnel_ip,
                "ovn-bridge-mappings": ",".join(f"{p}:{b}" for p, b in self.ovn_bridge_mappings),
                "ovn-cms-options": ",".join(self.ovn_cms_options)}


@dataclass(frozen=True, slots=True)
class PhysicalNetwork:
    name: str
    cidr: str


@dataclass(frozen=True, slots=True)
class ExternalRouter:
    name: str
    physical_network: str
    ip: str
    mac: str


@dataclass(frozen=True, slots=True)
class InternetHost:
    name: str
    ip: str
    reverse_name: str = ""


@dataclass(frozen=True, slots=True)
class ExternalHost:
    name: str
    physical_network: str
    ip: str
    mac: str
    gateway: str


@dataclass(frozen=True, slots=True)
class User:
    name: str
    password: str
    admin: bool = False


@dataclass(frozen=True, slots=True)
class Project:
    name: str
    users: tuple[User, ...] = ()


@dataclass(frozen=True, slots=True)
class Topology:
    name: str
    nodes: tuple[NodeSpec, ...]
    neutron: NeutronConfig = field(default_factory=NeutronConfig)
    physical_networks: tuple[PhysicalNetwork, ...] = ()
    external_routers: tuple[ExternalRouter, ...] = ()
    internet_hosts: tuple[InternetHost, ...] = ()
    external_hosts: tuple[ExternalHost, ...] = ()
    projects: tuple[Project, ...] = ()
    backend: Backend = Backend.EMULATED
    ovn_bin: str = ""  # the real backend's ovn-* programs (empty: from $PATH)

    def node(self, name: str) -> NodeSpec:
        """A node by hostname or chassis system-id."""
        for n in self.nodes:
            if name in (n.hostname, n.system_id):
                return n
        raise KeyError(name)

    @property
    def compute_nodes(self) -> tuple[NodeSpec, ...]:
        return tuple(n for n in self.nodes if n.role == "compute")

    def with_ovn(self, **changes: Any) -> Topology:
        ovn = replace(self.neutron.ovn, **changes)
        return replace(self, neutron=replace(self.neutron, ovn=ovn))


# ---------------------------------------------------------------- loading


def load(name_or_path: str, overrides: list[str] | tuple[str, ...] = ()) -> Topology:
    """A built-in topology by name, or a YAML file; `overrides` are `section.key=value`."""
    raw = load_raw(name_or_path)
    for item in overrides:
        apply_override(raw, item)
    return from_dict(raw)


def load_raw(name_or_path: str, _including: tuple[str, ...] = ()) -> dict[str, Any]:
    """The topology's mapping, its `base:` chain merged in (a cycle is an error)."""
    if name_or_path in BUILTIN:
        key = name_or_path
        text = resources.files("ovnlab.topologies").joinpath(f"{name_or_path}.yaml").read_text()
    else:
        path = Path(name_or_path)
        if not path.is_file():
            raise TopologyError(
                f"unknown topology {name_or_path!r}: not a built-in ({', '.join(BUILTIN)}) nor a file"
            )
        key = str(path.resolve())
        if path.stat().st_size > MAX_FILE_BYTES:
            raise TopologyError(f"{name_or_path}: larger than {MAX_FILE_BYTES} bytes; "
                                "not a topology")
        text = path.read_text()
    chain = (*_including, key)
    if key in _including:
        raise TopologyError("base: cycle: " + " -> ".join(chain))
    raw = parse(text, name_or_path)
    base = raw.pop("base", None)
    if base is not None:
        if not isinstance(base, str):
            raise TopologyError(f"{name_or_path}: base: expected a topology name or file")
        raw = _merge_base(load_raw(base, chain), raw)
    return raw


class _NoAliasLoader(yaml.SafeLoader):
    """YAML without aliases: `*name` may expand a small file into a huge structure (a
    'billion laughs'), and a topology never needs one. Refused while composing, before
    any Python object is built."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise TopologyError(f"line {event.start_mark.line + 1}: YAML aliases "
                                f"(*{event.anchor}) are not allowed in a topology")
        return super().compose_node(parent, index)


def parse(text: str, where: str) -> dict[str, Any]:
    """A topology file's mapping, safely: no tags, no aliases, bounded size."""
    if len(text) > MAX_FILE_BYTES:
        raise TopologyError(f"{where}: larger than {MAX_FILE_BYTES} bytes; not a topology")
    try:
        raw = yaml.load(text, Loader=_NoAliasLoader)  # noqa: S506 - a SafeLoader
    except TopologyError as exc:
        raise TopologyError(f"{where}: {exc.message}") from None
    except yaml.YAMLError as exc:
        raise TopologyError(f"{where}: invalid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise TopologyError(f"{where}: a topology is a mapping")
    return raw


def _merge_base(base: dict[str, Any], child: dict[str, Any]) -> dict[str, Any]:
    """`base:` inheritance: nodes merge by hostname, other keys replace."""
    merged = dict(base)
    for key, value in child.items():
        if key == "nodes" and isinstance(value, list):
            nodes = {_hostname(n): dict(n) for n in _list(base, "nodes")}
            for node in value:
                nodes.setdefault(_hostname(node), {}).update(node)
            merged["nodes"] = list(nodes.values())
        elif key == "neutron" and isinstance(value, dict):
            neutron = dict(base.get("neutron") or {})
            for section, keys in value.items():
                old, new = neutron.get(section) or {}, keys or {}
                if not isinstance(old, dict) or not isinstance(new, dict):
                    raise TopologyError(f"neutron.{section}: expected a mapping of options")
                neutron[section] = {**old, **new}
            merged["neutron"] = neutron
        else:
            merged[key] = value
    return merged


def _hostname(node: Any) -> str:
    """A node's key when `base:` merges nodes."""
    if not isinstance(node, dict) or not isinstance(node.get("hostname"), str):
        raise TopologyError("nodes: every node needs a hostname (a string)")
    return node["hostname"]


def apply_override(raw: dict[str, Any], item: str) -> None:
    """`--set ovn.enable_distributed_floating_ip=false` (Neutron config sections)."""
    key, sep, value = item.partition("=")
    section, dot, option = key.partition(".")
    if not sep or not dot or not option:
        raise TopologyError(f"--set {item!r}: expected section.key=value")
    try:
        parsed = yaml.load(value, Loader=_NoAliasLoader)  # noqa: S506 - a SafeLoader
    except (yaml.YAMLError, TopologyError) as exc:
        raise TopologyError(f"--set {item!r}: not a YAML value: {exc}") from None
    raw.setdefault("neutron", {}).setdefault(section, {})[option] = parsed


def from_dict(raw: dict[str, Any]) -> Topology:
    _keys(raw, "", {"name", "neutron", "nodes", "physical_networks", "external_routers",
                    "internet_hosts", "external_hosts", "projects", "backend", "ovn_bin"},
          required={"nodes"})
    neutron = _neutron(raw.get("neutron") or {})
    nodes = tuple(_node(n, f"nodes[{i}]") for i, n in enumerate(_list(raw, "nodes")))
    physnets = tuple(
        PhysicalNetwork(**_fields(p, f"physical_networks[{i}]", ("name", "cidr")))
        for i, p in enumerate(_list(raw, "physical_networks"))
    )
    routers = tuple(
        ExternalRouter(**_fields(r, f"external_routers[{i}]", ("name", "physical_network", "ip", "mac")))
        for i, r in enumerate(_list(raw, "external_routers"))
    )
    inet = tuple(
        InternetHost(**_fields(h, f"internet_hosts[{i}]", ("name", "ip"), ("reverse_name",)))
        for i, h in enumerate(_list(raw, "internet_hosts"))
    )
    ext = tuple(
        ExternalHost(**_fields(h, f"external_hosts[{i}]",
                               ("name", "physical_network", "ip", "mac", "gateway")))
        for i, h in enumerate(_list(raw, "external_hosts"))
    )
    projects = tuple(_project(p, f"projects[{i}]") for i, p in enumerate(_list(raw, "projects")))
    name = raw.get("name", "custom")
    if not isinstance(name, str):
        raise TopologyError(f"name: expected a string, got {name!r}")
    topo = Topology(
        name=name, nodes=nodes, neutron=neutron,
        physical_networks=physnets, external_routers=routers, internet_hosts=inet,
        external_hosts=ext, projects=projects or _default_projects(),
        backend=_backend(raw.get("backend", Backend.EMULATED.value)),
        ovn_bin=_ovn_bin(raw.get("ovn_bin")),
    )
    _check_consistency(topo)
    return topo


def _backend(value: Any) -> Backend:
    try:
        return Backend(value)
    except ValueError:
        raise TopologyError(f"backend: expected one of "
                            f"{', '.join(b.value for b in Backend)}, got {value!r}") from None


def _ovn_bin(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise TopologyError(f"ovn_bin: expected a directory (a string), got {value!r}")
    return value


def _default_projects() -> tuple[Project, ...]:
    return (
        Project("admin", (User("admin", "secret", admin=True),)),
        Project("demo", (User("demo", "secret"),)),
    )


def _neutron(raw: Any) -> NeutronConfig:
    if not isinstance(raw, dict):
        raise TopologyError("neutron: expected a mapping of config sections")
    _keys(raw, "neutron.", {"ovn"})
    ovn = raw.get("ovn") or {}
    flags = ("enable_distributed_floating_ip", "ovn_metadata_enabled", "ovn_emit_need_to_frag")
    _keys(ovn, "neutron.ovn.", {*flags, "ovn_l3_scheduler"})
    values = {key: ovn.get(key, False) for key in flags}
    for key, value in values.items():
        if not isinstance(value, bool):
            raise TopologyError(f"neutron.ovn.{key}: expected true or false")
    sched = ovn.get("ovn_l3_scheduler", "leastloaded")
    if sched not in SCHEDULERS:
        raise TopologyError(f"neutron.ovn.ovn_l3_scheduler: expected one of {', '.join(SCHEDULERS)}")
    return NeutronConfig(OvnConfig(ovn_l3_scheduler=sched, **values))


def _node(raw: Any, where: str) -> NodeSpec:
    f = _fields(raw, where, ("hostname", "role", "system_id", "tunnel_ip"),
                ("ovn_bridge_mappings", "ovn_cms_options"),
                {"ovn_bridge_mappings": (str, dict), "ovn_cms_options": (str, list)})
    if f["role"] not in ROLES:
        raise TopologyError(f"{where}.role: expected one of {', '.join(ROLES)}")
    try:
        uuid.UUID(str(f["system_id"]))
    except ValueError as exc:
        raise TopologyError(f"{where}.system_id: not a UUID: {f['system_id']!r}") from exc
    _ip(f["tunnel_ip"], f"{where}.tunnel_ip")
    mappings = f.get("ovn_bridge_mappings") or {}
    if isinstance(mappings, str):  # the ovs-vsctl form "extnet0:br-ex,other:br-x"
        pairs = [m.split(":", 1) for m in mappings.split(",") if m]
        if any(len(p) != 2 for p in pairs):
            raise TopologyError(f"{where}.ovn_bridge_mappings: expected physnet:bridge,... "
                                f"got {mappings!r}")
        mappings = dict(pairs)
    if not all(isinstance(x, str) for kv in mappings.items() for x in kv):
        raise TopologyError(f"{where}.ovn_bridge_mappings: expected physnet: bridge pairs")
    cms = f.get("ovn_cms_options") or []
    if isinstance(cms, str):
        cms = [c for c in cms.split(",") if c]
    if not all(isinstance(c, str) for c in cms):
        raise TopologyError(f"{where}.ovn_cms_options: expected a list of strings")
    return NodeSpec(
        hostname=str(f["hostname"]), role=f["role"], system_id=str(f["system_id"]),
        tunnel_ip=str(f["tunnel_ip"]),
        ovn_bridge_mappings=tuple((str(k), str(v)) for k, v in mappings.items()),
        ovn_cms_options=tuple(str(c) for c in cms),
    )


def _project(raw: Any, where: str) -> Project:
    f = _fields(raw, where, ("name",), ("users",), {"users": (list,)})
    users = []
    for i, u in enumerate(f.get("users") or []):
        uf = _fields(u, f"{where}.users[{i}]", ("name", "password"), ("admin",),
                     {"admin": (bool,)})
        users.append(User(str(uf["name"]), str(uf["password"]), bool(uf.get("admin", False))))
    return Project(str(f["name"]), tuple(users))


def _check_consistency(topo: Topology) -> None:
    if not topo.nodes:
        raise TopologyError("nodes: a lab needs at least one node")
    for attr in ("hostname", "system_id", "tunnel_ip"):
        seen: set[str] = set()
        for i, n in enumerate(topo.nodes):
            value = getattr(n, attr)
            if value in seen:
                raise TopologyError(f"nodes[{i}].{attr}: duplicate {value!r}")
            seen.add(value)
    physnets = {p.name: p for p in topo.physical_networks}
    for p in topo.physical_networks:
        try:
            ipaddress.ip_network(p.cidr)
        except ValueError as exc:
            raise TopologyError(f"physical_networks.{p.name}.cidr: {exc}") from exc
    for i, n in enumerate(topo.nodes):
        for physnet, _bridge in n.ovn_bridge_mappings:
            if physnet not in physnets:
                raise TopologyError(
                    f"nodes[{i}].ovn_bridge_mappings: unknown physical network {physnet!r}"
                )
    attached: list[tuple[str, ExternalRouter | ExternalHost]] = [
        *((f"external_routers[{i}]", r) for i, r in enumerate(topo.external_routers)),
        *((f"external_hosts[{i}]", h) for i, h in enumerate(topo.external_hosts)),
    ]
    for where, item in attached:
        if item.physical_network not in physnets:
            raise TopologyError(f"{where}.physical_network: unknown {item.physical_network!r}")
        cidr = physnets[item.physical_network].cidr
        if _ip(item.ip, f"{where}.ip") not in ipaddress.ip_network(cidr):
            raise TopologyError(f"{where}.ip: {item.ip} is outside {cidr}")
        if not _MAC.match(item.mac.lower()):
            raise TopologyError(f"{where}.mac: not a MAC address: {item.mac!r}")
    for i, h in enumerate(topo.internet_hosts):
        _ip(h.ip, f"internet_hosts[{i}].ip")
    _check_projects(topo.projects)
    names = [n.hostname for n in topo.nodes] + [r.name for r in topo.external_routers] + [
        h.name for h in topo.internet_hosts] + [h.name for h in topo.external_hosts]
    dupes = {x for x in names if names.count(x) > 1}
    if dupes:
        raise TopologyError(f"names: duplicate node name {sorted(dupes)[0]!r}")


def _check_projects(projects: tuple[Project, ...]) -> None:
    """Keystone's view: unique project and user names, and an admin (keystone-manage
    bootstrap always makes one; ovnlab's own Neutron/Nova steps run as it)."""
    for kind, names in (("project", [p.name for p in projects]),
                        ("user", [u.name for p in projects for u in p.users])):
        dupes = sorted({x for x in names if names.count(x) > 1})
        if dupes:
            raise TopologyError(f"projects: duplicate {kind} name {dupes[0]!r}")
    if not any(u.admin for p in projects for u in p.users):
        raise TopologyError("projects: no user has `admin: true`; a lab needs an admin user")


# ---------------------------------------------------------------- helpers


def _keys(raw: Any, where: str, allowed: set[str], required: set[str] = frozenset()) -> None:  # type: ignore[assignment]
    if not isinstance(raw, dict):
        raise TopologyError(f"{where.rstrip('.') or 'topology'}: expected a mapping")
    for key in raw:
        if key not in allowed:
            raise TopologyError(f"{where}{key}: unknown key")
    for key in required:
        if key not in raw:
            raise TopologyError(f"{where}{key}: required key is missing")


def _fields(raw: Any, where: str, required: tuple[str, ...], optional: tuple[str, ...] = (),
            kinds: dict[str, tuple[type, ...]] | None = None) -> dict[str, Any]:
    """The mapping's fields, checked: keys known, required ones present, each a string
    unless `kinds` allows others (None stands for an omitted optional value)."""
    _keys(raw, f"{where}.", set(required) | set(optional), set(required))
    for key, value in raw.items():
        allowed = (kinds or {}).get(key, (str,))
        if value is None and key in optional:
            continue
        if not isinstance(value, allowed) or (bool not in allowed and isinstance(value, bool)):
            names = " or ".join(_KIND_NAMES[k] for k in allowed)
            raise TopologyError(f"{where}.{key}: expected {names}, got {value!r}")
    return dict(raw)


def _list(raw: dict[str, Any], key: str) -> list[Any]:
    value = raw.get(key) or []
    if not isinstance(value, list):
        raise TopologyError(f"{key}: expected a list")
    return value


def _ip(value: Any, where: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    try:
        return ipaddress.ip_address(str(value))
    except ValueError as exc:
        raise TopologyError(f"{where}: not an IP address: {value!r}") from exc
