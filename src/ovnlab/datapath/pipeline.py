"""Executing a bridge's tables on one packet (OVS's "translation"), with its trace.

`Xlate` is the per-packet context: the key being rewritten, what came out (outputs,
packet-ins), the conntrack recirculations still to run, and the trace steps when asked.
Recursion is bounded: resubmit depth 64 and 4096 resubmits per packet, as in OVS, and a
limit on recirculations; crossing one raises `ResubmitLoopError`.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ovnlab.datapath import key as K
from ovnlab.datapath.compile import MAX_DEPTH, MAX_RESUBMITS, CtSpec, Program
from ovnlab.datapath.conntrack import CtResult
from ovnlab.errors import OvnlabError
from ovnlab.flows.actions import Action, Controller, Resubmit
from ovnlab.flows.fields import CS_INVALID, CS_TRACKED, lookup_field
from ovnlab.flows.model import Flow
from ovnlab.ipfrag import fragment
from ovnlab.packet import ETH_IP, PROTO_ICMP, PROTO_TCP, PROTO_UDP, Packet, ip_total_length

if TYPE_CHECKING:
    from ovnlab.datapath.bridge import Bridge, Port

MAX_RECIRCS = 64


class DatapathError(OvnlabError):
    """A packet the datapath cannot translate (OVS logs these as translation errors)."""


class ResubmitLoopError(DatapathError):
    pass


@dataclass(frozen=True, slots=True)
class Output:
    port: str
    packet: Packet
    tunnel: K.TunnelMetadata | None = None
    # a fragment of a datagram ct() reassembled, cut to this size: a device whose MTU is
    # smaller drops it (the kernel datapath's do_output drops what it cannot fragment to fit)
    mru: int = 0


@dataclass(frozen=True, slots=True)
class PacketIn:
    """A `controller(...)` action's packet for the node's ovn-controller."""

    userdata: bytes
    packet: Packet
    table: int
    regs: tuple[int, ...]
    metadata: int
    in_port: str
    cookie: int
    reason: str
    pause: bool
    key: tuple[int, ...]
    bridge: str = ""

    def field(self, name: str) -> int:
        """Any field of the snapshot by name (`reg14`, `xxreg0`, `tun_id`, `ct_state`...)."""
        f = lookup_field(name)
        if f is None:
            raise KeyError(name)
        value = 0
        for slot, ofs, _n in f.segments:
            value |= self.key[slot] << ofs
        return value


@dataclass(frozen=True, slots=True)
class TraceStep:
    """One thing the pipeline did. `kind`: table, miss, action, ct, output, drop,
    controller, recirc, note. `key` is a snapshot of the flow key at table steps."""

    kind: str
    depth: int
    table: int | None = None
    flow: Flow | None = None
    detail: str = ""
    key: tuple[int, ...] | None = None


RawStep = tuple[str, int, "int | None", "Flow | None", "str | Action", "tuple[int, ...] | None",
                int]


class Xlate:
    __slots__ = ("bridge", "packet", "size", "table", "depth", "resubmits", "outputs",
                 "packet_ins", "recircs", "steps", "stack", "now", "indent",
                 "dp_actions", "committed", "n_recircs", "cookie", "start", "lookups", "mru")

    def __init__(self, bridge: Bridge, packet: Packet, size: int, trace: bool,
                 now: float, start: K.Key) -> None:
        self.bridge = bridge
        self.lookups = bridge.lookups
        self.start = start
        self.packet = packet
        self.size = size
        self.table = 0
        self.depth = 0
        self.resubmits = 0
        self.outputs: list[Output] = []
        self.packet_ins: list[PacketIn] = []
        self.recircs: deque[tuple[int, K.Key]] = deque()
        # Raw step tuples (kind, depth, table, flow, detail, key, indent); TraceStep objects
        # are built only when a trace is read, which keeps tracing cheap.
        self.steps: list[RawStep] | None = [] if trace else None
        self.stack: list[int] = []
        self.now = now
        self.indent = 0
        self.dp_actions: list[str] = []
        self.committed: list[int] | None = None
        self.n_recircs = 0
        self.cookie = 0
        self.mru = 0  # the largest fragment of a datagram ct() reassembled (0: none)

    # ------------------------------------------------------------ tables
    def run_table(self, key: K.Key, table_id: int) -> None:
        lookup = self.lookups.get(table_id)
        entry = lookup(key) if lookup is not None else None
        if entry is None:
            if self.steps is not None:
                self.steps.append(("miss", self.depth, table_id, None, "No match.",
                                   tuple(key), self.indent))
            return
        entry.n_packets += 1
        entry.n_bytes += self.size
        entry.used = self.now
        prev_table, prev_cookie = self.table, self.cookie
        self.table = table_id
        self.cookie = entry.flow.cookie
        if self.steps is None:
            for op in entry.program:
                if op(self, key):
                    break
        else:
            self.steps.append(("table", self.depth, table_id, entry.flow, "", tuple(key),
                               self.indent))
            self._traced(key, entry.flow.actions, entry.program)
        self.table = prev_table
        self.cookie = prev_cookie

    def _traced(self, key: K.Key, actions: tuple[Action, ...], program: Program) -> None:
        """Runs a traced action list. As in ofproto/trace, a resubmit that is not the last
        action nests what it runs one level deeper; tail resubmits stay flat."""
        assert self.steps is not None
        last = len(actions) - 1
        for i, (action, op) in enumerate(zip(actions, program, strict=True)):
            self.steps.append(("action", self.depth, self.table, None, action, None,
                               self.indent))
            nest = i != last and isinstance(action, Resubmit)
            self.indent += nest
            stop = op(self, key)
            self.indent -= nest
            if stop:
                break

    def resubmit(self, key: K.Key, port: int | None, table: int | None) -> None:
        if self.depth >= MAX_DEPTH or self.resubmits >= MAX_RESUBMITS:
            self.limit_exceeded(table)
        target = self.table if table is None else table
        # As OVS's xlate_recursively: only a resubmit to the same or an earlier table
        # deepens; OVN's `next;` chains across ~100 tables rely on that.
        deepens = int(target <= self.table)
        self.resubmits += 1
        self.depth += deepens
        if port is None:
            self.run_table(key, target)
        else:
            old_in = key[K.IN_PORT]
            key[K.IN_PORT] = port
            self.run_table(key, target)
            key[K.IN_PORT] = old_in
        self.depth -= deepens

    def limit_exceeded(self, table: int | None) -> None:
        if self.depth >= MAX_DEPTH:
            raise ResubmitLoopError(
                f"{self.bridge.name}: over max translation depth {MAX_DEPTH} "
                f"(resubmit to table {table if table is not None else self.table})")
        raise ResubmitLoopError(f"{self.bridge.name}: over {MAX_RESUBMITS} resubmit actions")

    def clone(self, key: K.Key, program: Program, actions: tuple[Action, ...]) -> None:
        saved = key[:]
        saved_stack = self.stack[:]
        self.indent += 1
        try:
            if self.steps is None:
                for op in program:
                    if op(self, key):
                        break
            else:
                self._traced(key, actions, program)
        finally:
            self.indent -= 1
            key[:] = saved
            self.stack = saved_stack

    # ------------------------------------------------------------ outputs
    def output(self, key: K.Key, ofport: int, allow_in_port: bool) -> None:
        if ofport == key[K.IN_PORT] and not allow_in_port:
            self._note("skipping output to input port")
            return
        port = self.bridge.ports_by_ofport.get(ofport)
        if port is None:
            self._note(f"output to nonexistent port {ofport}")
            return
        self._emit(key, port)

    def bundle(self, key: K.Key, members: tuple[int, ...], algorithm: str) -> None:
        """bundle_execute: active_backup outputs to the first member that may be enabled;
        hrw to the enabled member of highest hash (eth_src-based here); none, a drop."""
        live = [m for m in members
                if (p := self.bridge.ports_by_ofport.get(m)) is not None and p.may_enable]
        if not live:
            self._note("bundle: no member is enabled, dropping")
            return
        if algorithm == "hrw":
            live.sort(key=lambda m: hash((key[K.DL_SRC], m)), reverse=True)
        self.output(key, live[0], False)

    def _emit(self, key: K.Key, port: Port) -> None:
        packet = K.key_to_packet(key, self.packet, self.start)
        tunnel = _tunnel_out(key, port) if port.type == "geneve" else None
        if self.mru and ip_total_length(packet) > self.mru:
            # the kernel datapath's do_output: a datagram ct() reassembled leaves in
            # fragments of the largest size it came in (a port whose MTU is smaller drops them)
            for piece in fragment(packet, self.mru):
                self.outputs.append(Output(port.name, piece, tunnel, self.mru))
        else:
            self.outputs.append(Output(port.name, packet, tunnel))
        if self.steps is not None:
            self._commit_headers(key)
            self.dp_actions.append(str(port.ofport))
            self.steps.append(("output", self.depth, self.table, None, port.name, None,
                               self.indent))

    def flood(self, key: K.Key) -> None:
        in_port = key[K.IN_PORT]
        for port in self.bridge.ports_sorted():
            if port.ofport != in_port:
                self._emit(key, port)

    def normal(self, key: K.Key) -> None:
        """A MAC-learning switch: learn the source, forward to the known port or flood."""
        in_port = key[K.IN_PORT]
        src, dst = key[K.DL_SRC], key[K.DL_DST]
        macs = self.bridge.mac_table
        if not src >> 40 & 1:
            macs[src] = (in_port, self.now)
        if not dst >> 40 & 1:
            known = macs.get(dst)
            if known is not None and self.now - known[1] <= self.bridge.mac_aging:
                if known[0] != in_port:
                    port = self.bridge.ports_by_ofport.get(known[0])
                    if port is not None:
                        self._note(f"forwarding to learned port {port.name}")
                        self._emit(key, port)
                        return
                self._note("learned port is input port, dropping")
                return
        self._note("no learned MAC for destination, flooding")
        self.flood(key)

    def packet_in(self, key: K.Key, ctl: Controller) -> bool:
        """A packet-in; with `pause` the translation stops here (the controller resumes
        it, as a continuation), so the actions after it do not run."""
        in_port = self.bridge.ports_by_ofport.get(key[K.IN_PORT])
        regs = tuple(key[K.REG0:K.REG0 + 16])
        self.packet_ins.append(PacketIn(
            ctl.userdata, K.key_to_packet(key, self.packet, self.start), self.table, regs,
            key[K.METADATA], in_port.name if in_port else str(key[K.IN_PORT]),
            self.cookie, ctl.reason, ctl.pause, tuple(key), self.bridge.name))
        if self.steps is not None:
            self.dp_actions.append("userspace(controller)")
            self.steps.append(("controller", self.depth, self.table, None, ctl.format(), None,
                               self.indent))
        return ctl.pause

    def ttl_expired(self, key: K.Key, ids: tuple[int, ...] | None) -> None:
        if ids is not None:
            self.packet_in(key, Controller(reason="invalid_ttl"))
        self._note("TTL expired, dropping")

    # ------------------------------------------------------------ conntrack
    def ct(self, key: K.Key, spec: CtSpec) -> None:
        zone = spec.zone_reader(key) if spec.zone_reader is not None else spec.action.zone
        commit = spec.action.commit
        mark = label = None
        if commit and spec.exec_program:
            scratch = key[:]
            for op in spec.exec_program:
                op(self, scratch)
            if spec.mark_mask:
                mark = (scratch[K.CT_MARK], spec.mark_mask)
            if spec.label_mask:
                label = (scratch[K.CT_LABEL], spec.label_mask)
        if key[K.NW_FRAG] and key[K.DL_TYPE] == ETH_IP and not self._defragment(key, zone):
            return
        if key[K.DL_TYPE] != ETH_IP:
            result = CtResult(CS_TRACKED | CS_INVALID, zone)
        else:
            result = self.bridge.conntrack.execute(
                zone=zone, proto=key[K.NW_PROTO], src=key[K.NW_SRC], dst=key[K.NW_DST],
                sport=key[K.TP_SRC], dport=key[K.TP_DST], icmp_type=key[K.ICMP_TYPE],
                icmp_id=key[K.ICMP_ID], tcp_flags=key[K.TCP_FLAGS],
                payload=self.packet.payload, commit=commit, nat=spec.nat, mark=mark,
                label=label, force=spec.action.force)
        if result.payload is not None:  # a related ICMP error's quoted datagram, un-NATed
            self.packet = self.packet.with_(payload=result.payload)
        if self.steps is not None:
            self._commit_headers(key)
            self.dp_actions.append(_dp_ct(spec, zone))
        table = spec.action.table
        if table is None:
            _apply_nat(key, result)
            key[K.CT_STATE] = key[K.CT_ZONE] = key[K.CT_MARK] = key[K.CT_LABEL] = 0
            self._note("Sets the packet to an untracked state, and clears all the conntrack "
                       "fields.")
            return
        fork = key[:]
        _apply_nat(fork, result)
        fork[K.CT_STATE] = result.state
        fork[K.CT_ZONE] = result.zone
        fork[K.CT_MARK] = result.mark
        fork[K.CT_LABEL] = result.label
        self.n_recircs += 1
        if self.n_recircs > MAX_RECIRCS:
            raise ResubmitLoopError(f"{self.bridge.name}: over {MAX_RECIRCS} recirculations")
        self.recircs.append((table, fork))
        if self.steps is not None:
            self.dp_actions.append(f"recirc({self.n_recircs:#x})")
            self.steps.append((
                "ct", self.depth, self.table, None,
                f"A clone of the packet is forked to recirculate. The forked pipeline will "
                f"be resumed at table {table}.", tuple(fork), self.indent))

    def _defragment(self, key: K.Key, zone: int) -> bool:
        """ipf: a fragment reaching ct() is held until its datagram is whole (False: the
        translation of this one ends here); the fragment that completes it goes on as the
        whole datagram, its L4 fields in the key."""
        piece = K.key_to_packet(key, self.packet, self.start)
        done = self.bridge.ipf.add(piece, self.now, zone)
        if done is None:
            self._note("ct: fragment held for reassembly")
            return False
        whole, mru = done
        fresh = K.packet_to_key(whole, key[K.IN_PORT])
        for slot in K.L4_SLOTS:
            key[slot] = fresh[slot]
        self.packet, self.start = whole, fresh
        self.mru = max(self.mru, mru)
        self.size = K.packet_length(whole)
        self._note(f"ct: reassembled a {ip_total_length(whole)}-byte datagram (mru {mru})")
        return True

    # ------------------------------------------------------------ trace helpers
    def _note(self, text: str) -> None:
        if self.steps is not None:
            self.steps.append(("note", self.depth, self.table, None, text, None,
                               self.indent))

    def _commit_headers(self, key: K.Key) -> None:
        """Datapath `set(...)` actions for headers changed since the last commit."""
        base = self.committed or K.packet_to_key(self.packet, key[K.IN_PORT])
        eth = [(n, key[s]) for s, n in ((K.DL_SRC, "src"), (K.DL_DST, "dst"))
               if key[s] != base[s]]
        if eth:
            self.dp_actions.append("set(eth(" + ",".join(
                f"{n}={_mac(v)}" for n, v in eth) + "))")
        if key[K.DL_TYPE] == ETH_IP:
            ip4 = [(n, key[s]) for s, n in ((K.NW_SRC, "src"), (K.NW_DST, "dst"),
                                            (K.NW_TTL, "ttl")) if key[s] != base[s]]
            if ip4:
                self.dp_actions.append("set(ipv4(" + ",".join(
                    f"{n}={v if n == 'ttl' else _ip(v)}" for n, v in ip4) + "))")
        self.committed = key[:]


def _apply_nat(key: K.Key, result: CtResult) -> None:
    if result.nw_src is not None:
        key[K.NW_SRC] = result.nw_src
    if result.nw_dst is not None:
        key[K.NW_DST] = result.nw_dst
    proto = key[K.NW_PROTO]
    if proto == PROTO_ICMP:
        if result.tp_src is not None:
            key[K.ICMP_ID] = result.tp_src
    elif proto in (PROTO_TCP, PROTO_UDP):
        if result.tp_src is not None:
            key[K.TP_SRC] = result.tp_src
        if result.tp_dst is not None:
            key[K.TP_DST] = result.tp_dst


def _tunnel_out(key: K.Key, port: Port) -> K.TunnelMetadata:
    opts = port.options
    tun_id = key[K.TUN_ID] if opts.get("key", "0") == "flow" else int(opts.get("key", "0"), 0)
    remote = opts.get("remote_ip", "flow")
    tun_dst = key[K.TUN_DST] if remote == "flow" or key[K.TUN_DST] else _ip_int(remote)
    local = opts.get("local_ip", "")
    tun_src = key[K.TUN_SRC] or (_ip_int(local) if local and local != "flow" else 0)
    return K.TunnelMetadata(tun_id, tun_src, tun_dst, key[K.TUN_METADATA0])


def _ip_int(text: str) -> int:
    a, b, c, d = (int(x) for x in text.split("."))
    return a << 24 | b << 16 | c << 8 | d


def _ip(v: int) -> str:
    return f"{v >> 24 & 255}.{v >> 16 & 255}.{v >> 8 & 255}.{v & 255}"


def _mac(v: int) -> str:
    raw = f"{v:012x}"
    return ":".join(raw[i:i + 2] for i in range(0, 12, 2))


def _dp_ct(spec: CtSpec, zone: int) -> str:
    parts = []
    if spec.action.commit:
        parts.append("commit")
    parts.append(f"zone={zone}")
    if spec.nat is not None:
        parts.append(spec.nat.format())
    return "ct(" + ",".join(parts) + ")"

