"""What ovn-trace reads from the Southbound (read_db() in ovn-trace.c): datapaths, ports,
multicast groups, address sets, port groups, logical flows and MAC_Bindings, with the
"friendly" names it prints (`neutron-7f7206` for `neutron-7f7206ca-ced4-...`)."""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import re
from dataclasses import dataclass, field

from ovnlab.controller import expr as ex
from ovnlab.controller.lexer import SyntaxError_
from ovnlab.ovntrace import acts
from ovnlab.ovsdb import Database, Row

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                   r"[0-9a-fA-F]{12}$")
_PARTIAL_UUID = re.compile(r"[0-9a-fA-F-]+$")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
UUID_LEN = 36


def shorten_uuid(s: str) -> str:
    """A name ending in a UUID keeps only the UUID's first 6 characters."""
    if len(s) >= UUID_LEN and _UUID.match(s, len(s) - UUID_LEN):
        return s[:len(s) - (UUID_LEN - 6)]
    return s


def _partial_uuid_len(name: str) -> int:
    """uuid_is_partial_string(): hex digits of a UUID prefix, 0 if `name` is not one."""
    if not name or len(name) > UUID_LEN or not _PARTIAL_UUID.match(name):
        return 0
    template = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"
    for c, t in zip(name, template, strict=False):
        if (t == "-") != (c == "-"):
            return 0
    return sum(1 for c in name if c != "-")


def _uuid_prefix(uuid: str, name: str) -> bool:
    return _partial_uuid_len(name) >= 4 and uuid.lower().startswith(name.lower())


@dataclass(frozen=True, slots=True)
class Datapath:
    uuid: str
    nb_uuid: str
    name: str
    name2: str | None
    friendly: str
    tunnel_key: int
    has_local_l3gateway: bool


@dataclass(frozen=True, slots=True)
class Port:
    uuid: str
    name: str
    name2: str | None
    friendly: str
    type: str
    tunnel_key: int
    dp: str  # datapath UUID
    peer: str | None = None  # patch / l3gateway ports
    distributed_port: str | None = None  # chassisredirect ports


@dataclass(frozen=True, slots=True)
class McGroup:
    dp: str
    name: str
    tunnel_key: int
    ports: tuple[str, ...]  # port names, sorted as ovn-trace sorts them


@dataclass(frozen=True, slots=True)
class LFlow:
    uuid: str
    ingress: bool
    table_id: int
    stage_name: str | None
    source: str | None
    priority: int
    match_s: str  # the match text, with friendly port names
    match: ex.Expr  # annotated for its datapath, action prerequisites included
    actions: tuple[acts.Action, ...]

    @property
    def omittable(self) -> bool:
        """may_omit_stage(): `1` → `next;` stages are skipped silently."""
        a = self.actions
        return (self.match == ex.TRUE and len(a) == 1 and isinstance(a[0], acts.Next)
                and a[0].table == self.table_id + 1 and a[0].ingress == self.ingress)


@dataclass
class TraceDb:
    friendly_names: bool = True
    datapaths: dict[str, Datapath] = field(default_factory=dict)
    ports: dict[str, Port] = field(default_factory=dict)
    mcgroups: dict[str, list[McGroup]] = field(default_factory=dict)
    flows: dict[str, list[LFlow]] = field(default_factory=dict)
    mac_bindings: dict[tuple[str, int, ipaddress.IPv6Address], int] = field(default_factory=dict)
    address_sets: dict[str, tuple[str, ...]] = field(default_factory=dict)
    port_groups: dict[str, tuple[str, ...]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    # ------------------------------------------------------------ lookups
    def datapath_by_name(self, name: str) -> Datapath | None:
        """ovntrace_datapath_find_by_name(): name or name2, else a unique UUID prefix."""
        for dp in self.datapaths.values():
            if name in (dp.name, dp.name2):
                return dp
        found = [dp for dp in self.datapaths.values()
                 if _uuid_prefix(dp.uuid, name) or _uuid_prefix(dp.nb_uuid, name)]
        if len(found) > 1:
            self.warnings.append(f'name "{name}" matches multiple datapaths')
            return None
        return found[0] if found else None

    def port_by_name(self, name: str) -> Port | None:
        """ovntrace_port_lookup_by_name(): the logical port, its name2, or a UUID prefix."""
        port = self.ports.get(name)
        if port is not None:
            return port
        match: Port | None = None
        for p in self.ports.values():
            if p.name2 == name:
                if match is not None:
                    self.warnings.append(f'name "{name}" matches multiple ports')
                    return None
                match = p
        if _partial_uuid_len(name) >= 4:
            for p in self.ports.values():
                if _uuid_prefix(p.uuid, name) or (_UUID.match(p.name)
                                                   and _uuid_prefix(p.name, name)):
                    if match is not None and match is not p:
                        self.warnings.append(f'name "{name}" matches multiple ports')
                        return None
                    match = p
        return match

    def port_by_key(self, dp: Datapath, key: int) -> Port | None:
        for p in self.ports.values():
            if p.dp == dp.uuid and p.tunnel_key == key:
                return p
        return None

    def port_key_to_name(self, dp: Datapath, key: int) -> str:
        port = self.port_by_key(dp, key)
        return port.friendly if port else "" if not key else "(unnamed)"

    def mcgroup_by_key(self, dp: Datapath, key: int) -> McGroup | None:
        return next((g for g in self.mcgroups.get(dp.uuid, ()) if g.tunnel_key == key), None)

    def mcgroup_by_name(self, dp: Datapath, name: str) -> McGroup | None:
        return next((g for g in self.mcgroups.get(dp.uuid, ()) if g.name == name), None)

    def lookup_port(self, dp: Datapath, name: str, warn: bool = False) -> int | None:
        """ovntrace_lookup_port(): a port or multicast group name → its key in `dp`."""
        if name in ("", "none"):
            return 0
        port = self.port_by_name(name)
        if port is not None:
            return port.tunnel_key if port.dp == dp.uuid else None
        group = self.mcgroup_by_name(dp, name)
        if group is not None:
            return group.tunnel_key
        if warn:
            self.warnings.append(f"{name}: unknown logical port")
        return None

    def context(self, dp: Datapath, microflow: bool = False) -> ex.Context:
        """What expression annotation needs; ovn-trace holds every known port resident.
        In a microflow an unknown port is warned about and leaves the field zero
        (constrain_match() skips it)."""

        def lookup(name: str) -> int | None:
            key = self.lookup_port(dp, name, warn=microflow)
            return 0 if key is None and microflow else key

        return ex.Context(
            lookup_port=lookup,
            is_chassis_resident=lambda name: name == "" or name in self.ports,
            address_sets=self.address_sets, port_groups=self.port_groups_of(dp))

    def port_groups_of(self, dp: Datapath) -> dict[str, tuple[str, ...]]:
        """22.03's northd writes a port group per datapath, `<tunnel key>_<name>`; the
        plain name is looked up too (get_sb_port_group_name() and its fallback)."""
        prefix = f"{dp.tunnel_key}_"
        groups = dict(self.port_groups)
        for name, ports in self.port_groups.items():
            if name.startswith(prefix):
                groups[name[len(prefix):]] = ports
        return groups

    def mac_binding(self, dp: Datapath, port_key: int, ip: ipaddress.IPv6Address) -> int | None:
        return self.mac_bindings.get((dp.uuid, port_key, ip))

    def friendly(self, text: str) -> str:
        """ovntrace_make_names_friendly(): quoted port names become their friendly names."""
        if not self.friendly_names or '"' not in text:
            return text
        out: list[str] = []
        pos = 0
        for m in _STRING.finditer(text):
            name = json.loads(m.group(0)) if "\\" in m.group(0) else m.group(0)[1:-1]
            port = self.ports.get(name)
            if port is not None:
                out.append(text[pos:m.start()])
                out.append(json.dumps(port.friendly))
                pos = m.end()
        out.append(text[pos:])
        return "".join(out)


# ------------------------------------------------------------------ reading the SB


def read(sb: Database, friendly_names: bool = True) -> TraceDb:
    db = TraceDb(friendly_names)
    _read_datapaths(sb, db)
    _read_ports(sb, db)
    _read_mcgroups(sb, db)
    db.address_sets = {r["name"]: tuple(r["addresses"]) for r in sb.rows("Address_Set")}
    db.port_groups = {r["name"]: tuple(r["ports"]) for r in sb.rows("Port_Group")}
    _read_flows(sb, db)
    _read_mac_bindings(sb, db)
    return db


def _read_datapaths(sb: Database, db: TraceDb) -> None:
    l3gw = {r["datapath"] for r in sb.rows("Port_Binding") if r["type"] == "l3gateway"}
    for row in sb.rows("Datapath_Binding"):
        ids = row["external_ids"]
        nb_uuid = ids.get("logical-switch") or ids.get("logical-router") or row.uuid
        name = ids.get("name") or nb_uuid
        name2 = ids.get("name2")
        friendly = shorten_uuid(name2 or name) if db.friendly_names else nb_uuid
        db.datapaths[row.uuid] = Datapath(row.uuid, nb_uuid, name, name2, friendly,
                                          row["tunnel_key"], row.uuid in l3gw)


def _read_ports(sb: Database, db: TraceDb) -> None:
    rows = sb.rows("Port_Binding")
    names = {r["logical_port"] for r in rows}
    for row in rows:
        name = row["logical_port"]
        if row["datapath"] not in db.datapaths:
            db.warnings.append(f"logical port {name} missing datapath")
            continue
        if name in db.ports:
            db.warnings.append(f"duplicate logical port name {name}")
            continue
        name2 = row["external_ids"].get("name")
        friendly = shorten_uuid(name2 or name) if db.friendly_names else name
        peer = row["options"].get("peer") if row["type"] in ("patch", "l3gateway") else None
        distributed = row["options"].get("distributed-port") \
            if row["type"] == "chassisredirect" else None
        db.ports[name] = Port(row.uuid, name, name2, friendly, row["type"], row["tunnel_key"],
                              row["datapath"], peer if peer in names else None, distributed)
    for name, port in list(db.ports.items()):
        d = port.distributed_port
        if d is not None and (d not in db.ports or db.ports[d].dp != port.dp):
            db.ports[name] = dataclasses.replace(port, distributed_port=None)


def _read_mcgroups(sb: Database, db: TraceDb) -> None:
    by_uuid = {r.uuid: r for r in sb.rows("Port_Binding")}
    for row in sb.rows("Multicast_Group"):
        if row["datapath"] not in db.datapaths:
            db.warnings.append(f"logical multicast group {row['name']} missing datapath")
            continue
        members: list[str] = []
        for ref in row["ports"]:
            pb = by_uuid.get(ref)
            port = db.ports.get(pb["logical_port"]) if pb is not None else None
            if port is None or port.dp != row["datapath"]:
                continue
            members.append(port.name)
        db.mcgroups.setdefault(row["datapath"], []).append(
            McGroup(row["datapath"], row["name"], row["tunnel_key"], tuple(sorted(members))))


def _read_flows(sb: Database, db: TraceDb) -> None:
    groups = {r.uuid: r["datapaths"] for r in sb.rows("Logical_DP_Group")}
    for row in sb.rows("Logical_Flow"):
        members = [row["logical_datapath"]] if row["logical_datapath"] else []
        if row["logical_dp_group"]:
            members.extend(groups.get(row["logical_dp_group"], ()))
        if not members:
            db.warnings.append("logical flow missing datapath")
        for dp_uuid in members:
            dp = db.datapaths.get(dp_uuid)
            if dp is None:
                db.warnings.append("logical flow missing datapath")
                continue
            flow = _parse_flow(row, dp, db)
            if flow is not None:
                db.flows.setdefault(dp_uuid, []).append(flow)
    # The real tool sorts (stably) rows read from the IDL's hash map, whose buckets are
    # the UUID's first 32 bits masked by the table's size: flows of one table and
    # priority that overlap are tried in that order.
    mask = _hmap_mask(len(sb.rows("Logical_Flow")))
    for flows in db.flows.values():
        flows.sort(key=lambda f: (not f.ingress, f.table_id, -f.priority,
                                  int(f.uuid[:8], 16) & mask))


def _hmap_mask(n: int) -> int:
    """The bucket mask of an OVS hmap after n insertions (hmap_expand's calc_mask())."""
    mask = 0
    for i in range(1, n + 1):
        if i // 2 > mask:
            mask = i // 2
            for shift in (1, 2, 4, 8, 16, 32):
                mask |= mask >> shift
            mask |= (mask & 1) << 1
    return mask


def _parse_flow(row: Row, dp: Datapath, db: TraceDb) -> LFlow | None:
    """parse_lflow_for_datapath(): a flow that does not parse is left out, with a warning."""
    ingress = row["pipeline"] == "ingress"
    try:
        node = ex.parse_match(row["match"])
    except SyntaxError_ as exc:
        db.warnings.append(f"{row['match']}: parsing expression failed ({exc.message})")
        return None
    try:
        actions, prereqs = acts.parse(row["actions"], ingress, row["table_id"])
    except SyntaxError_ as exc:
        db.warnings.append(f"{row['actions']}: parsing actions failed ({exc.message})")
        return None
    try:
        match = ex._and((ex.annotate(node, db.context(dp)), *(
            ex.annotate(ex.parse_match(p), ex.Context()) for p in prereqs)))
    except SyntaxError_ as exc:
        db.warnings.append(f"match annotation failed ({exc.message})")
        return None
    ids = row["external_ids"]
    return LFlow(row.uuid, ingress, row["table_id"], ids.get("stage-name"), ids.get("source"),
                 row["priority"], db.friendly(row["match"]), match, actions)


def _read_mac_bindings(sb: Database, db: TraceDb) -> None:
    for row in sb.rows("MAC_Binding"):
        port = db.ports.get(row["logical_port"])
        if port is None:
            db.warnings.append(f"missing port {row['logical_port']}")
            continue
        if port.dp != row["datapath"]:
            db.warnings.append(f"port {row['logical_port']} is in wrong datapath")
            continue
        ip = mapped_ip(row["ip"])
        if ip is None:
            db.warnings.append(f"{row['ip']}: bad IP address")
            continue
        try:
            mac = int(row["mac"].replace(":", ""), 16)
        except ValueError:
            db.warnings.append(f"{row['mac']}: bad Ethernet address")
            continue
        db.mac_bindings[(port.dp, port.tunnel_key, ip)] = mac


def mapped_ip(text: str) -> ipaddress.IPv6Address | None:
    """An IPv4 address as its IPv4-mapped IPv6 form, as ovn-trace keys MAC bindings."""
    try:
        addr = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv4Address):
        return ipaddress.IPv6Address(f"::ffff:{addr}")
    return addr

