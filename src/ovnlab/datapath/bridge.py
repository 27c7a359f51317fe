"""An Open vSwitch bridge: ports, flow tables with OpenFlow flow-mod semantics, counters,
and `process()` to run a packet through the tables."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from ovnlab.datapath import key as K
from ovnlab.datapath.classifier import Classifier, Entry
from ovnlab.datapath.compile import Program, program_for
from ovnlab.datapath.conntrack import Conntrack
from ovnlab.datapath.pipeline import Output, PacketIn, Xlate
from ovnlab.datapath.port import PORT_TYPES, Port, nothing
from ovnlab.datapath.trace import Trace, TracePass
from ovnlab.errors import Conflict, NotFound
from ovnlab.flows.actions import Action, Conjunction, Note, OutputReg
from ovnlab.flows.actions import Output as OutputAction
from ovnlab.flows.fields import OFPP_CONTROLLER, OFPP_LOCAL, lookup_field
from ovnlab.flows.format import format_flow
from ovnlab.flows.model import Flow, FlowKey, FlowStats, Match, flow_key
from ovnlab.flows.parse import parse_flow, parse_flow_full
from ovnlab.ipfrag import Reassembler
from ovnlab.packet import Packet

OFP_MAX_PORT_NAME_LEN = 16  # ofp10_phy_port.name, NUL included


@dataclass(frozen=True, slots=True)
class ProcessResult:
    outputs: tuple[Output, ...]
    packet_ins: tuple[PacketIn, ...]
    trace: Trace | None


def _is_conjunctive(flow: Flow) -> bool:
    actions = flow.actions
    return bool(actions) and type(actions[0]) in (Conjunction, Note) \
        and all(isinstance(a, Conjunction | Note) for a in actions) \
        and any(isinstance(a, Conjunction) for a in actions)


class FlowTable:
    """One OpenFlow table: a classifier for ordinary flows, one for conjunctive flows."""

    __slots__ = ("id", "main", "conj", "by_match", "lookup", "timed")

    def __init__(self, table_id: int) -> None:
        self.id = table_id
        self.main = Classifier()
        self.conj = Classifier()
        self.by_match: dict[FlowKey, Entry] = {}  # (this table, priority, match)
        # Tables without conjunctive flows look up the main classifier directly.
        self.lookup: Callable[[K.Key], Entry | None] = self.main.lookup
        self.timed: set[Entry] = set()  # entries with an idle or hard timeout

    def __len__(self) -> int:
        return len(self.by_match)

    def insert(self, entry: Entry) -> None:
        (self.conj if _is_conjunctive(entry.flow) else self.main).insert(entry)
        self.by_match[flow_key(entry.flow)] = entry
        if entry.flow.idle_timeout or entry.flow.hard_timeout:
            self.timed.add(entry)
        self._pick_lookup()

    def remove(self, entry: Entry) -> None:
        (self.conj if _is_conjunctive(entry.flow) else self.main).remove(entry)
        del self.by_match[flow_key(entry.flow)]
        self.timed.discard(entry)
        self._pick_lookup()

    def _pick_lookup(self) -> None:
        self.lookup = self.main.lookup if not len(self.conj) else self._lookup_conj

    def _lookup_conj(self, key: K.Key) -> Entry | None:
        return self._conjunctive(key, self.main.lookup(key))

    def _conjunctive(self, key: K.Key, best: Entry | None) -> Entry | None:
        """OVS conjunctive match: `conj_id=N` matches when every clause of N matched."""
        floor = best.rank if best is not None else -1
        hits = self.conj.lookup_all(key, floor)
        if not hits:
            return best
        by_prio: dict[int, dict[int, set[int]]] = {}
        needed: dict[int, int] = {}
        for e in hits:
            for a in e.flow.actions:
                if isinstance(a, Conjunction):
                    by_prio.setdefault(e.flow.priority, {}).setdefault(a.id, set()).add(
                        a.clause)
                    needed[a.id] = a.n_clauses
        for prio in sorted(by_prio, reverse=True):
            for conj_id in sorted(by_prio[prio]):
                if len(by_prio[prio][conj_id]) == needed[conj_id]:
                    key[K.CONJ_ID] = conj_id
                    found = self.main.lookup(key)
                    key[K.CONJ_ID] = 0
                    if found is not None and found.flow.get("conj_id") is not None:
                        return found
        return best


RESERVED_PORTS = {"CONTROLLER": OFPP_CONTROLLER, "LOCAL": OFPP_LOCAL}


class Bridge:
    def __init__(self, name: str, *, fail_mode: str | None = None,
                 conntrack: Conntrack | None = None,
                 clock: Callable[[], float] | None = None,
                 before_read: Callable[[], None] | None = None) -> None:
        self.name = name
        # brings the OpenFlow controller's flows in before the table is read or run
        # (a controller may leave its work until then: controller/deferral.py)
        self.before_read: Callable[[], None] = before_read or nothing
        self.fail_mode = fail_mode
        self.clock: Callable[[], float] = clock or (lambda: 0.0)
        self.conntrack = conntrack if conntrack is not None else Conntrack(lambda: self.clock())
        self.ipf = Reassembler()  # fragments held by ct() until their datagram is whole
        self.ports: dict[str, Port] = {}
        self.ports_by_ofport: dict[int, Port] = {}
        self.tables: dict[int, FlowTable] = {}
        self.lookups: dict[int, Callable[[K.Key], Entry | None]] = {}
        self.mac_table: dict[int, tuple[int, float]] = {}
        self.mac_aging = 300.0
        self.external_ids: dict[str, str] = {}
        self._sorted_ports: list[Port] | None = None
        # moves at every change to a port (added, removed, any column): what reads the
        # ports often (ovn-controller's VIF and BFD view) reads them again only then
        self.port_generation = 0
        self._timed_flows = False  # set once a flow with a timeout is installed
        self.add_port(name, type="internal", ofport=OFPP_LOCAL)

    def __repr__(self) -> str:
        return f"Bridge({self.name!r}, ports={len(self.ports)}, flows={self.n_flows})"

    # ------------------------------------------------------------ ports
    def add_port(self, name: str, type: str = "", options: Mapping[str, str] | None = None,
                 external_ids: Mapping[str, str] | None = None,
                 ofport: int | None = None) -> Port:
        if name in self.ports:
            raise Conflict(f"cannot create a port named {name} because a port named {name} "
                           f"already exists on bridge {self.name}")
        if type not in PORT_TYPES:
            raise Conflict(f"{name}: unknown interface type {type!r}")
        if ofport is None:
            ofport = 1
            while ofport in self.ports_by_ofport:
                ofport += 1
        elif ofport in self.ports_by_ofport:
            raise Conflict(f"{name}: ofport {ofport} is already in use")
        port = Port(name, ofport, type, dict(options or {}), dict(external_ids or {}),
                    changed=self._port_changed)
        self.ports[name] = port
        self.ports_by_ofport[ofport] = port
        self._port_changed()
        return port

    def _port_changed(self) -> None:
        self._sorted_ports = None
        self.port_generation += 1

    def del_port(self, name: str) -> None:
        port = self.ports.pop(name, None)
        if port is None:
            raise NotFound(f"no port named {name}")
        del self.ports_by_ofport[port.ofport]
        port.changed = nothing
        self._port_changed()
        self.mac_table = {m: v for m, v in self.mac_table.items() if v[0] != port.ofport}

    def ports_sorted(self) -> list[Port]:
        if self._sorted_ports is None:
            self._sorted_ports = sorted(self.ports.values(), key=lambda p: p.ofport)
        return self._sorted_ports

    @property
    def port_map(self) -> dict[str, int]:
        """Names a flow may use for ports: the full names, and the names as the OpenFlow
        port description truncates them (what `--names` prints)."""
        short = {p.name[:OFP_MAX_PORT_NAME_LEN - 1]: p.ofport for p in self.ports.values()}
        return {**short, **{p.name: p.ofport for p in self.ports.values()}}

    def ofport(self, name_or_number: str | int) -> int:
        if isinstance(name_or_number, int):
            return name_or_number
        port = self.ports.get(name_or_number)
        if port is not None:
            return port.ofport
        if name_or_number.isdigit():
            return int(name_or_number)
        if name_or_number in RESERVED_PORTS:  # a controller's packet-out: in_port=CONTROLLER
            return RESERVED_PORTS[name_or_number]
        raise NotFound(f"{name_or_number}: unknown port on bridge {self.name}")

    # ------------------------------------------------------------ flows
    @property
    def n_flows(self) -> int:
        """The flows installed now (what the controller has deferred is not counted)."""
        return sum(len(t) for t in self.tables.values())

    def _table(self, table_id: int) -> FlowTable:
        t = self.tables.get(table_id)
        if t is None:
            t = self.tables[table_id] = FlowTable(table_id)
        return t

    def _sync_lookups(self) -> None:
        self.lookups = {tid: t.lookup for tid, t in self.tables.items() if len(t)}

    def _as_flow(self, flow: Flow | str) -> Flow:
        return parse_flow(flow, port_map=self.port_map) if isinstance(flow, str) else flow

    def _note_timeouts(self, flow: Flow) -> None:
        if flow.idle_timeout or flow.hard_timeout:
            self._timed_flows = True

    def _program(self, actions: tuple[Action, ...]) -> Program:
        """Compiled actions, shared by flows with identical actions (most of OVN's), in
        this bridge and every other."""
        return program_for(actions)

    def add_flow(self, flow: Flow | str) -> None:
        """OpenFlow ADD: replaces a flow with the same table, priority and match, keeping
        its counters (as OVS does without `reset_counts`)."""
        f = self._as_flow(flow)
        self._note_timeouts(f)
        table = self._table(f.table)
        now = self.clock()
        old = table.by_match.get((f.table, f.priority, f.match))
        entry = Entry(f, self._program(f.actions), now)
        if old is not None:
            table.remove(old)
            entry.n_packets, entry.n_bytes = old.n_packets, old.n_bytes
            entry.created, entry.used = old.created, old.used
        table.insert(entry)
        self.lookups[f.table] = table.lookup

    def add_flows(self, flows: Iterable[Flow | str]) -> None:
        for f in flows:
            self.add_flow(f)

    def replace_flows(self, flows: Iterable[Flow]) -> tuple[int, int]:
        """Makes the tables hold exactly `flows` (ovs-ofctl replace-flows / a controller's
        full recompute); unchanged flows keep their counters. Returns (added, removed)."""
        wanted: dict[FlowKey, Flow] = {}
        for f in flows:
            wanted[flow_key(f)] = f
            self._note_timeouts(f)
        removed = 0
        for table in list(self.tables.values()):
            for key, entry in list(table.by_match.items()):
                if wanted.get(key) != entry.flow:
                    table.remove(entry)
                    removed += 1
        added = 0
        for key, f in wanted.items():
            cur = self.tables.get(f.table)
            if cur is None or key not in cur.by_match:
                self._table(f.table).insert(Entry(f, self._program(f.actions), self.clock()))
                added += 1
        self._sync_lookups()
        return added, removed

    def _selected(self, match: Match | None, *, table: int | None, priority: int | None,
                  strict: bool, cookie: int | None, cookie_mask: int,
                  out_port: int | None) -> list[tuple[FlowTable, Entry]]:
        out = []
        tables = [self.tables[table]] if table is not None and table in self.tables else (
            [] if table is not None else list(self.tables.values()))
        for t in tables:
            if strict:
                if match is None:
                    continue
                e = t.by_match.get((t.id, priority if priority is not None else 32768, match))
                candidates = [e] if e is not None else []
            else:
                candidates = [e for e in t.by_match.values()
                              if match is None or _covers(match, e.flow)]
            for e in candidates:
                if cookie is not None and cookie_mask and (
                        e.flow.cookie & cookie_mask) != (cookie & cookie_mask):
                    continue
                if out_port is not None and not _outputs_to(e.flow, out_port):
                    continue
                out.append((t, e))
        return out

    def del_flows(self, flow: Flow | str | None = None, *, strict: bool = False,
                  cookie_mask: int | None = None, out_port: int | None = None) -> int:
        """OpenFlow DELETE (non-strict: every flow at least as specific as the filter;
        strict: same priority and match). A text filter may say `table=`, `cookie=V/M`."""
        table: int | None = None
        match: Match | None = None
        priority = None
        cookie = None
        if isinstance(flow, str):
            parsed = parse_flow_full(flow, port_map=self.port_map)
            if "table=" in flow:
                table = parsed.flow.table
            match, priority = parsed.flow.match, parsed.flow.priority
            if parsed.cookie_mask is not None:
                cookie, cookie_mask = parsed.flow.cookie, parsed.cookie_mask
            out_port = parsed.out_port if parsed.out_port is not None else out_port
        elif flow is not None:
            table, match, priority = flow.table, flow.match, flow.priority
            if cookie_mask:
                cookie = flow.cookie
        chosen = self._selected(match, table=table, priority=priority, strict=strict,
                                cookie=cookie, cookie_mask=cookie_mask or 0, out_port=out_port)
        for t, e in chosen:
            t.remove(e)
        self._sync_lookups()
        return len(chosen)

    def mod_flows(self, flow: Flow | str, *, strict: bool = False,
                  cookie_mask: int | None = None) -> int:
        """OpenFlow MODIFY: new actions for the selected flows, counters kept. With no flow
        selected, OVS adds the flow; so does this."""
        f = self._as_flow(flow)
        cookie = f.cookie if cookie_mask else None
        chosen = self._selected(f.match, table=f.table, priority=f.priority, strict=strict,
                                cookie=cookie, cookie_mask=cookie_mask or 0, out_port=None)
        if not chosen and not cookie_mask:
            self.add_flow(f)
            return 1
        now = self.clock()
        for t, e in chosen:
            new = Flow(e.flow.table, e.flow.priority, e.flow.cookie if cookie_mask else f.cookie,
                       e.flow.match, f.actions, e.flow.idle_timeout, e.flow.hard_timeout,
                       e.flow.importance)
            t.remove(e)
            ne = Entry(new, self._program(new.actions), now)
            ne.n_packets, ne.n_bytes, ne.created, ne.used = (e.n_packets, e.n_bytes,
                                                            e.created, e.used)
            t.insert(ne)
        self._sync_lookups()
        return len(chosen)

    def expire(self) -> int:
        """Removes flows whose idle or hard timeout has passed on the clock."""
        now = self.clock()
        gone = 0
        for t in self.tables.values():
            for e in list(t.timed):
                f = e.flow
                if (f.hard_timeout and now - e.modified >= f.hard_timeout) or (
                        f.idle_timeout and now - e.used >= f.idle_timeout):
                    t.remove(e)
                    gone += 1
        if gone:
            self._sync_lookups()
        return gone

    def _has_timeouts(self) -> bool:
        return any(t.timed for t in self.tables.values())

    def entries(self, table: int | None = None) -> list[Entry]:
        """Installed entries in dump order: by table, then priority (highest first)."""
        self.before_read()
        if self._timed_flows:
            self.expire()
        tables = sorted(self.tables) if table is None else [table]
        out: list[Entry] = []
        for tid in tables:
            t = self.tables.get(tid)
            if t is not None:
                out.extend(sorted(t.by_match.values(),
                                  key=lambda e: (-e.flow.priority, e.rank)))
        return out

    def flows(self, table: int | None = None) -> list[Flow]:
        return [e.flow for e in self.entries(table)]

    def stats(self, entry: Entry) -> FlowStats:
        now = self.clock()
        return FlowStats(now - entry.created, entry.n_packets, entry.n_bytes,
                         int(now - entry.used), int(now - entry.modified))

    def dump_flows(self, flow_filter: str | None = None, *, stats: bool = True,
                   names: bool = False) -> list[str]:
        """`ovs-ofctl dump-flows BRIDGE [FILTER]` lines (each with its leading space)."""
        table = None
        match: Match | None = None
        cookie = None
        cookie_mask = 0
        out_port = None
        if flow_filter:
            parsed = parse_flow_full(flow_filter, port_map=self.port_map)
            if "table=" in flow_filter:
                table = parsed.flow.table
            match = parsed.flow.match or None
            if parsed.cookie_mask is not None:
                cookie, cookie_mask = parsed.flow.cookie, parsed.cookie_mask
            out_port = parsed.out_port
        namer = self._namer if names else None
        lines = []
        for e in self.entries(table):
            if match is not None and not _covers(match, e.flow):
                continue
            if cookie is not None and (e.flow.cookie & cookie_mask) != (cookie & cookie_mask):
                continue
            if out_port is not None and not _outputs_to(e.flow, out_port):
                continue
            lines.append(" " + format_flow(e.flow, self.stats(e) if stats else None,
                                           namer=namer))
        return lines

    def _namer(self, ofport: int) -> str:
        """ofputil_format_port with ovs-ofctl's port map: the name the switch reports in
        its OpenFlow 1.0 port description (at most 15 characters), unless two ports share
        it; quoted unless a letter followed by letters and digits (namemap_put_name)."""
        port = self.ports_by_ofport.get(ofport)
        if port is None:
            return str(ofport)
        name = port.name[:OFP_MAX_PORT_NAME_LEN - 1]
        if sum(p.name[:OFP_MAX_PORT_NAME_LEN - 1] == name for p in self.ports.values()) > 1:
            return str(ofport)
        if name[:1].isascii() and name[:1].isalpha() and name.isascii() and name.isalnum():
            return name
        return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'

    # ------------------------------------------------------------ packets
    def process(self, packet: Packet, in_port: str | int, *, table: int = 0,
                regs: Mapping[str, int] | Sequence[int] | None = None,
                tunnel: K.TunnelMetadata | None = None, trace: bool = True) -> ProcessResult:
        """Runs `packet` arriving on `in_port` from `table` (then any ct recirculations)."""
        self.before_read()
        ofport = self.ofport(in_port)
        if self._timed_flows and self._has_timeouts():
            self.expire()
        now = self.clock()
        key = K.packet_to_key(packet, ofport, tunnel)
        if regs is not None:
            _apply_regs(key, regs)
        x = Xlate(self, packet, K.packet_length(packet), trace, now, key[:])
        passes: list[TracePass] = []
        start = tuple(key)
        x.run_table(key, table)
        if trace:
            passes.append(self._pass(x, None, table, start, key))
        while x.recircs:
            t, k = x.recircs.popleft()
            start = tuple(k)
            n = len(passes)
            if trace:
                x.steps, x.dp_actions, x.committed = [], [], k[:]
            x.run_table(k, t)
            if trace:
                passes.append(self._pass(x, n, t, start, k))
        tr = Trace(self.name, tuple(passes)) if trace else None
        return ProcessResult(tuple(x.outputs), tuple(x.packet_ins), tr)

    def _pass(self, x: Xlate, recirc: int | None, table: int, start: tuple[int, ...],
              key: K.Key) -> TracePass:
        return TracePass(recirc, table, start, tuple(x.steps or ()), tuple(key),
                         tuple(x.dp_actions))


def _apply_regs(key: K.Key, regs: Mapping[str, int] | Sequence[int]) -> None:
    if isinstance(regs, Mapping):
        for name, value in regs.items():
            f = lookup_field(name)
            if f is None:
                raise NotFound(f"unknown field {name}")
            for slot, ofs, nbits in f.segments:
                key[slot] = (value >> ofs) & ((1 << nbits) - 1)
    else:
        for i, value in enumerate(regs):
            key[K.REG0 + i] = value


def _covers(filt: Match, flow: Flow) -> bool:
    """Non-strict selection: `flow` is at least as specific as the filter."""
    items = {n: (v, m) for n, v, m in flow.match}
    for name, value, mask in filt:
        have = items.get(name)
        if have is None or have[1] & mask != mask or have[0] & mask != value:
            return False
    return True


def _outputs_to(flow: Flow, port: int) -> bool:
    return any(isinstance(a, OutputAction) and a.port == port for a in flow.actions) or any(
        isinstance(a, OutputReg) for a in flow.actions)
