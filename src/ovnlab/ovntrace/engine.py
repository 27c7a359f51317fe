"""Tracing a microflow through the logical pipelines (trace__(), trace_actions() and the
execute_*() functions of ovn-trace.c), into a tree of nodes that `render` prints."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from ovnlab.controller import expr as ex
from ovnlab.controller.symtab import CT_BITS, MLF_ALLOW_LOOPBACK_BIT
from ovnlab.flows.fields import ETH_TYPE_ARP, ETH_TYPE_IP, ETH_TYPE_IPV6, FIELDS, Field
from ovnlab.ovntrace import acts
from ovnlab.ovntrace.db import Datapath, LFlow, McGroup, Port, TraceDb
from ovnlab.ovntrace.node import Node, NodeType
from ovnlab.ovntrace.uflow import Uflow, evaluate, is_register

CS_TRACKED = 1 << CT_BITS["trk"]
CS_ESTABLISHED = 1 << CT_BITS["est"]
CS_SRC_NAT = 1 << CT_BITS["snat"]
CS_DST_NAT = 1 << CT_BITS["dnat"]
_CT_NAMES = tuple(CT_BITS)
INPORT, OUTPORT, FLAGS = "reg14", "reg15", "reg10"
# Nested tables before a trace stops (a patch-port loop: the real tool recurses until it
# crashes); each costs 4 Python frames, so this stays under the interpreter's limit.
MAX_DEPTH = 150


def format_ct_state(state: int) -> str:
    return "|".join(n for i, n in enumerate(_CT_NAMES) if state & (1 << i)) or "0"


def parse_ct_state(text: str) -> int:
    """parse_ct_state() with CS_TRACKED by default: `new`, `est,rpl`, `est rpl`."""
    state = CS_TRACKED
    for flag in filter(None, text.replace(",", " ").split()):
        if flag not in CT_BITS:
            raise ValueError(f"{flag}: unknown connection tracking state flag")
        state |= 1 << CT_BITS[flag]
    return state


@dataclass
class Tracer:
    db: TraceDb
    ct_states: list[int] = field(default_factory=list)
    ct_index: int = 0
    lb_dst: tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, int] | None = None
    depth: int = 0

    def next_ct_state(self) -> tuple[int, str]:
        if self.ct_index < len(self.ct_states):
            self.ct_index += 1
            return self.ct_states[self.ct_index - 1], ""
        return CS_ESTABLISHED | CS_TRACKED, " /* default (use --ct to customize) */"

    # ------------------------------------------------------------ tables
    def lookup(self, dp: Datapath, uflow: Uflow, table: int, ingress: bool) -> LFlow | None:
        for f in self.db.flows.get(dp.uuid, ()):
            if f.ingress == ingress and f.table_id == table and evaluate(f.match, uflow):
                return f
        return None

    def stage_name(self, dp: Datapath, table: int, ingress: bool) -> str | None:
        for f in self.db.flows.get(dp.uuid, ()):
            if f.ingress == ingress and f.table_id == table:
                return f.stage_name
        return None

    def trace(self, dp: Datapath, uflow: Uflow, table: int, ingress: bool, sup: Node) -> None:
        """trace__(): the first matching flow of the table, then its actions."""
        if self.depth > MAX_DEPTH:
            sup.add(NodeType.ERROR, "*** trace too deep (a loop?)")
            return
        while True:
            f = self.lookup(dp, uflow, table, ingress)
            if f is None or not f.omittable:
                break
            table += 1
        text = f"{table:2d}. "
        if f is not None:
            if f.stage_name and f.source:
                text += f"{f.stage_name} ({f.source}): "
            elif f.stage_name:
                text += f"{f.stage_name}: "
            elif f.source:
                text += f"({f.source}): "
            text += f"{f.match_s}, priority {f.priority}, uuid {f.uuid[:8]}"
        else:
            stage = self.stage_name(dp, table, ingress)
            text += f"{stage + ': ' if stage else ''}no match (implicit drop)"
        node = sup.add(NodeType.TABLE, text)
        if f is not None:
            self.depth += 1
            self.actions(f.actions, dp, uflow, table, ingress, node)
            self.depth -= 1

    def actions(self, actions: tuple[acts.Action, ...], dp: Datapath, uflow: Uflow,
                table: int, ingress: bool, sup: Node) -> None:
        """trace_actions(): each action is listed, then executed."""
        if not actions:
            sup.add(NodeType.ACTION, "drop;")
            return
        for a in actions:
            sup.add(NodeType.ACTION, self.db.friendly(a.text()))
            self.execute(a, dp, uflow, table, ingress, sup)

    def execute(self, a: acts.Action, dp: Datapath, uflow: Uflow, table: int, ingress: bool,
                sup: Node) -> None:
        if isinstance(a, acts.Output):
            self.output(dp, uflow, ingress, sup)
        elif isinstance(a, acts.Next):
            self.next_(a, dp, uflow, ingress, sup)
        elif isinstance(a, acts.Load):
            self.load(a, dp, uflow, sup)
        elif isinstance(a, acts.Move):
            _summarize_move(a.src, a.dst, uflow, sup)
            uflow.write(a.dst, uflow.read(a.src))
        elif isinstance(a, acts.Exchange):
            _summarize_move(a.b, a.a, uflow, sup)
            _summarize_move(a.a, a.b, uflow, sup)
            va, vb = uflow.read(a.a), uflow.read(a.b)
            uflow.write(a.a, vb)
            uflow.write(a.b, va)
        elif isinstance(a, acts.DecTtl):
            _dec_ttl(uflow, sup)
        elif isinstance(a, acts.CtNext):
            self.ct_next(a, dp, uflow, ingress, sup)
        elif isinstance(a, acts.CtNat):
            self.ct_nat(a, dp, uflow, ingress, sup)
        elif isinstance(a, acts.CtLb):
            self.ct_lb(a, dp, uflow, ingress, sup)
        elif isinstance(a, acts.CtCommitNat):
            self.ct_commit_nat(a, dp, uflow, ingress, sup)
        elif isinstance(a, acts.CtClear):
            for slot in ("ct_state", "ct_zone", "ct_mark", "ct_label"):
                uflow.slots.pop(slot, None)
        elif isinstance(a, acts.Nested):
            self.nested(a, dp, uflow, table, ingress, sup)
        elif isinstance(a, acts.GetArp):
            self.get_arp(a, dp, uflow, sup)
        elif isinstance(a, acts.LookupArp):
            self.lookup_arp(a, dp, uflow, sup)

    # ------------------------------------------------------------ execute_*
    def load(self, a: acts.Load, dp: Datapath, uflow: Uflow, sup: Node) -> None:
        mf = FIELDS[a.dst.symbol.mf]
        if not is_register(mf):
            sup.add(NodeType.MODIFY, self.db.friendly(a.text()).rstrip(";"))
        if a.dst.symbol.string:
            value = self.db.lookup_port(dp, a.value.string) or 0
        else:
            value = a.value.value
        if a.value.mask is not None and not a.dst.symbol.string:
            old = uflow.read(a.dst)
            value = (old & ~a.value.mask) | (value & a.value.mask)
        uflow.write(a.dst, value)

    def next_(self, a: acts.Next, dp: Datapath, uflow: Uflow, ingress: bool,
              sup: Node) -> None:
        if a.ingress != ingress:
            key = uflow.field(INPORT if a.ingress else OUTPORT)
            sup = sup.add(NodeType.PIPELINE, '{}(dp="{}", {}="{}")'.format(
                "ingress" if a.ingress else "egress", dp.friendly,
                "inport" if a.ingress else "outport", self.db.port_key_to_name(dp, key)))
        self.trace(dp, uflow, a.table, a.ingress, sup)

    def output(self, dp: Datapath, uflow: Uflow, ingress: bool, sup: Node) -> None:
        """execute_output(): ingress → egress; egress → the peer's ingress or out."""
        key = uflow.field(OUTPORT)
        if not key:
            sup.add(NodeType.ERROR, "*** output to null logical port")
            return
        port = self.db.port_by_key(dp, key)
        group = self.db.mcgroup_by_key(dp, key)
        out_name = port.friendly if port else group.name if group else "(unnamed)"
        if port is None and group is None:
            sup.add(NodeType.ERROR, f"*** unknown port or multicast group {key}")
        if not ingress:
            self._output_from_egress(port, out_name, uflow, sup)
            return
        egress = uflow.copy()
        for i in range(16):
            if f"reg{i}" not in (INPORT, OUTPORT):
                egress.slots.pop(f"reg{i}", None)
        in_key = uflow.field(INPORT)
        in_name = self.db.port_key_to_name(dp, in_key)
        loopback = bool(uflow.field(FLAGS) >> MLF_ALLOW_LOOPBACK_BIT & 1)
        if group is not None:
            self._output_mcgroup(dp, group, egress, in_key, in_name, loopback, sup)
            return
        if port is not None and port.type == "chassisredirect":
            dist = self.db.ports.get(port.distributed_port) if port.distributed_port else None
            if dist is None:
                sup.add(NodeType.ERROR, f'*** output to type "{port.type}" port "{out_name}" '
                                        "with no or invalid distributed port")
                return
            sup.add(NodeType.OUTPUT, f'/* Replacing type "{port.type}" outport '
                                     f'"{port.friendly}" with distributed port '
                                     f'"{dist.friendly}". */')
            port, out_name = dist, dist.friendly
            egress.put(OUTPORT, dist.tunnel_key)
        if (port is not None and port.tunnel_key != in_key) or loopback:
            node = sup.add(NodeType.PIPELINE, f'egress(dp="{dp.friendly}", inport="{in_name}", '
                                              f'outport="{out_name}")')
            self.trace(dp, egress, 0, False, node)
        else:
            sup.add(NodeType.OUTPUT, "/* omitting output because inport == outport && "
                                     "!flags.loopback */")

    def _output_from_egress(self, port: Port | None, out_name: str, uflow: Uflow,
                            sup: Node) -> None:
        """Output at the end of an egress pipeline: into the patch peer's ingress, or out."""
        sup.add(NodeType.OUTPUT, f'/* output to "{out_name}", type '
                                 f'"{port.type if port else ""}" */')
        peer = self.db.ports.get(port.peer) if port and port.peer else None
        if peer is not None:
            peer_dp = self.db.datapaths[peer.dp]
            node = sup.add(NodeType.PIPELINE, f'ingress(dp="{peer_dp.friendly}", '
                                              f'inport="{peer.friendly}")')
            new = uflow.copy()
            new.put(INPORT, peer.tunnel_key)
            new.put(OUTPORT, 0)
            self.trace(peer_dp, new, 0, True, node)
        else:
            sup.add(NodeType.MODIFY, f'output("{out_name}")')

    def _output_mcgroup(self, dp: Datapath, group: McGroup, egress: Uflow, in_key: int,
                        in_name: str, loopback: bool, sup: Node) -> None:
        """Output to a multicast group: each member's egress pipeline (the inport's only
        with flags.loopback)."""
        mc = sup.add(NodeType.PIPELINE, f'multicast(dp="{dp.friendly}", '
                                        f'mcgroup="{group.name}")')
        for name in group.ports:
            p = self.db.ports[name]
            node = mc.add(NodeType.PIPELINE, f'egress(dp="{dp.friendly}", '
                                             f'inport="{in_name}", outport="{p.friendly}")')
            if p.tunnel_key != in_key or loopback:
                node.always_indent = True
                egress.put(OUTPORT, p.tunnel_key)
                # one packet for all members, as in the real tool: what a member's
                # egress pipeline changes, the next member sees
                self.trace(dp, egress, 0, False, node)
            else:
                node.add(NodeType.OUTPUT, "/* omitting output because inport == outport "
                                          "&& !flags.loopback */")

    def ct_next(self, a: acts.CtNext, dp: Datapath, uflow: Uflow, ingress: bool,
                sup: Node) -> None:
        state, comment = self.next_ct_state()
        node = sup.add(NodeType.TRANSFORMATION, f"ct_next(ct_state={format_ct_state(state)}"
                                                f"{comment})")
        ct_flow = uflow.copy()
        ct_flow.slots["ct_state"] = state
        self.trace(dp, ct_flow, a.table, ingress, node)

    def ct_nat(self, a: acts.CtNat, dp: Datapath, uflow: Uflow, ingress: bool,
               sup: Node) -> None:
        if a.snat and dp.has_local_l3gateway and a.addr is None:
            return  # "ct_snat;" has no visible effect in a gateway router
        direction = "src" if a.snat else "dst"
        ct_flow = uflow.copy()
        text = f"ct_{direction[0]}nat{'in_czone' if a.in_czone else ''}"
        if a.addr is not None:
            family = "ip4" if a.addr.version == 4 else "ip6"
            text += f"({family}.{direction}={a.addr})"
            slot = ("nw_" if a.addr.version == 4 else "ipv6_") + direction
            ct_flow.slots[slot] = int(a.addr)
            ct_flow.slots["ct_state"] = ct_flow.slots.get("ct_state", 0) | (
                CS_SRC_NAT if a.snat else CS_DST_NAT)
        else:
            text += f" /* assuming no un-{direction[0]}nat entry, so no change */"
        text += self._track(ct_flow)
        node = sup.add(NodeType.TRANSFORMATION, text)
        self.trace(dp, ct_flow, a.table, ingress, node)

    def _track(self, ct_flow: Uflow) -> str:
        """ct(nat) implies ct(): an untracked packet takes the next --ct state."""
        if ct_flow.slots.get("ct_state", 0) & CS_TRACKED:
            return ""
        state, comment = self.next_ct_state()
        ct_flow.slots["ct_state"] = ct_flow.slots.get("ct_state", 0) | state
        return comment

    def ct_commit_nat(self, a: acts.CtCommitNat, dp: Datapath, uflow: Uflow, ingress: bool,
                      sup: Node) -> None:
        ct_flow = uflow.copy()
        text = "ct_commit_nat /* assuming no un-nat entry, so no change */"
        text += self._track(ct_flow)
        node = sup.add(NodeType.TRANSFORMATION, text)
        self.trace(dp, ct_flow, a.table, ingress, node)

    def ct_lb(self, a: acts.CtLb, dp: Datapath, uflow: Uflow, ingress: bool,
              sup: Node) -> None:
        ct_flow = uflow.copy()
        comment = ""
        version = {ETH_TYPE_IP: 4, ETH_TYPE_IPV6: 6}.get(uflow.dl_type)
        if version is not None:
            dst = None
            if a.backends:
                same = [b for b in a.backends if b[0].version == version]
                dst = next((b for b in same if self.lb_dst and b[0] == self.lb_dst[0]), None)
                if dst is None and same:
                    dst = same[0]  # the real tool picks at random; ovnlab the first
                if dst is None:
                    sup.add(NodeType.ERROR, "*** no load balancing destination (use --lb-dst)")
            elif self.lb_dst is not None and self.lb_dst[0].version == version:
                dst = self.lb_dst
            if dst is not None:
                ct_flow.slots["nw_dst" if version == 4 else "ipv6_dst"] = int(dst[0])
                if dst[1]:
                    ct_flow.slots["tp_dst"] = dst[1]
                ct_flow.slots["ct_state"] = ct_flow.slots.get("ct_state", 0) | CS_DST_NAT
            state, comment = self.next_ct_state()
            ct_flow.slots["ct_state"] = ct_flow.slots.get("ct_state", 0) | state
        node = sup.add(NodeType.TRANSFORMATION,
                       f"{'ct_lb_mark' if a.mark else 'ct_lb'}{comment}")
        self.trace(dp, ct_flow, a.table, ingress, node)

    def nested(self, a: acts.Nested, dp: Datapath, uflow: Uflow, table: int, ingress: bool,
               sup: Node) -> None:
        if a.name == "ct_commit":
            return  # committing changes nothing the trace can see
        if a.name == "reject":
            if uflow.nw_proto == 6:
                a = acts.Nested("tcp_reset", a.body)
            elif uflow.nw_proto == 132:
                a = acts.Nested("sctp_abort", a.body)
            else:
                a = acts.Nested("icmp4" if uflow.dl_type == ETH_TYPE_IP else "icmp6", a.body)
            loopback = True
        else:
            loopback = False
        new = _transform(a.name, uflow, loopback)
        if new is None:
            return
        name = {"nd_na_router": "nd_na", "icmp4_error": "icmp4",
                "icmp6_error": "icmp6"}.get(a.name, a.name)
        node = sup.add(NodeType.TRANSFORMATION, name)
        self.actions(a.body, dp, new, table, ingress, node)

    def get_arp(self, a: acts.GetArp, dp: Datapath, uflow: Uflow, sup: Node) -> None:
        port_key = uflow.read(a.port)
        mac = self.db.mac_binding(dp, port_key, _ip_of(uflow.read(a.ip), a.ip.nbits))
        uflow.put("eth_dst", mac or 0)
        if mac is not None:
            sup.add(NodeType.ACTION, f"/* MAC binding to {_mac(mac)}. */")
        else:
            sup.add(NodeType.ACTION, "/* No MAC binding. */")
        sup.add(NodeType.MODIFY, f"eth.dst = {_mac(mac or 0)}")

    def lookup_arp(self, a: acts.LookupArp, dp: Datapath, uflow: Uflow, sup: Node) -> None:
        port_key = uflow.read(a.port)
        mac = self.db.mac_binding(dp, port_key, _ip_of(uflow.read(a.ip), a.ip.nbits))
        found = mac is not None and (a.mac is None or uflow.read(a.mac) == mac)
        if found and a.mac is not None:
            # The real tool prints eth.dst here, not the binding's MAC.
            sup.add(NodeType.ACTION, f"/* MAC binding to {_mac(uflow.field('eth_dst'))} "
                                     "found. */")
        elif found:
            sup.add(NodeType.ACTION, "/* MAC binding found. */")
        else:
            sup.add(NodeType.ACTION, "/* lookup failed - No MAC binding. */")
        uflow.write(a.dst, 1 if found else 0)


# ------------------------------------------------------------------ helpers


def _mac(v: int) -> str:
    raw = f"{v:012x}"
    return ":".join(raw[i:i + 2] for i in range(0, 12, 2))


def _ip_of(value: int, nbits: int) -> ipaddress.IPv6Address:
    if nbits == 32:
        return ipaddress.IPv6Address(f"::ffff:{ipaddress.IPv4Address(value)}")
    return ipaddress.IPv6Address(value)


def _format_field_value(mf: Field, value: int) -> str:
    """mf_format() of a whole field: MACs, IP addresses, else decimal."""
    if mf.width == 48:
        return _mac(value)
    if mf.name in ("ip_src", "ip_dst", "arp_spa", "arp_tpa"):
        return str(ipaddress.IPv4Address(value))
    if mf.width == 128 and not mf.name.startswith(("xxreg", "ct_label")):
        return str(ipaddress.IPv6Address(value))
    if is_register(mf) or mf.name in ("ct_mark", "ct_label", "pkt_mark", "metadata"):
        return f"{value:#x}"
    return str(value)


def _summarize_move(src: ex.FieldRef, dst: ex.FieldRef, uflow: Uflow, sup: Node) -> None:
    dst_mf = FIELDS[dst.symbol.mf]
    if is_register(dst_mf):
        return
    src_mf = FIELDS[src.symbol.mf]
    ofs = src.symbol.ofs + src.ofs
    if ofs == 0 and src.nbits >= src_mf.width:
        value = _format_field_value(src_mf, uflow.get(src_mf))
    else:  # ds_put_hex() of the subvalue
        raw = uflow.read(src)
        value = f"{raw:#x}" if raw else "0"
    sup.add(NodeType.MODIFY, f"{dst.text()} = {value}")


def _dec_ttl(uflow: Uflow, sup: Node) -> None:
    if not uflow.is_ip():
        sup.add(NodeType.ERROR, "*** TTL decrement of non-IP packet")
        return
    ttl = uflow.slots.get("nw_ttl", 0)
    if not ttl:
        sup.add(NodeType.ERROR, "*** TTL underflow")
        return
    uflow.slots["nw_ttl"] = ttl - 1
    sup.add(NodeType.MODIFY, "ip.ttl--")


def _swap(s: dict[str, int], new: dict[str, int], a: str, b: str, loopback: bool) -> None:
    if loopback:
        new[a], new[b] = s.get(b, 0), s.get(a, 0)


def _transform(name: str, uflow: Uflow, loopback: bool) -> Uflow | None:
    """The packet a nested action builds (execute_arp, execute_icmp4, execute_nd_na...)."""
    s = uflow.slots
    new = uflow.copy()
    n = new.slots
    if name == "clone":
        return new
    if name == "arp":
        for slot in ("nw_frag", "nw_tos", "nw_ttl", "tcp_flags"):
            n[slot] = 0
        n["dl_type"] = ETH_TYPE_ARP
        # struct flow keeps an ARP's op and addresses where IPv4 keeps proto and addresses
        n["arp_op"] = 1
        n["arp_spa"], n["arp_tpa"] = n.pop("nw_src", 0), n.pop("nw_dst", 0)
        n.pop("nw_proto", None)
        n["arp_sha"] = s.get("dl_src", 0)
        n["arp_tha"] = 0
        return new
    if name in ("nd_na", "nd_na_router"):
        n["dl_src"], n["dl_dst"] = s.get("dl_dst", 0), s.get("dl_src", 0)
        n["ipv6_dst"], n["ipv6_src"] = s.get("ipv6_src", 0), s.get("nd_target", 0)
        n["icmp_type"] = 136
        n["nd_sll"], n["nd_tll"] = 0, s.get("dl_dst", 0)
        return new
    if name == "nd_ns":
        target = s.get("ipv6_dst", 0)
        solicited = (0xFF02 << 112) | (1 << 32) | (0xFF << 24) | (target & 0xFFFFFF)
        n["dl_dst"] = 0x333300000000 | (solicited & 0xFFFFFFFF)
        n["icmp_type"] = 135
        n["nd_sll"], n["nd_tll"] = 0, s.get("dl_dst", 0)
        return new
    ip6 = uflow.dl_type == ETH_TYPE_IPV6
    src_slot, dst_slot = ("ipv6_src", "ipv6_dst") if ip6 else ("nw_src", "nw_dst")
    _swap(s, n, "dl_src", "dl_dst", loopback)
    _swap(s, n, src_slot, dst_slot, loopback)
    n["nw_ttl"] = 255
    if name in ("icmp4", "icmp4_error", "icmp6", "icmp6_error"):
        unreach = 1 if name.startswith("icmp6") else 3
        if loopback and s.get("icmp_type") == unreach:
            return None  # avoid recirculation
        n["nw_proto"] = 58 if name.startswith("icmp6") else 1
        n.pop("tp_src", None)  # the ICMP type and code take the ports' place
        n.pop("tp_dst", None)
        n["icmp_type"] = unreach
        n["icmp_code"] = 4 if name.startswith("icmp6") else 1
        return new
    if name == "tcp_reset":
        if loopback and s.get("tcp_flags") == 0x004:
            return None
        n["nw_proto"] = 6
        n["tcp_flags"] = 0x004
        return new
    if name == "sctp_abort":
        n["nw_proto"] = 132
        return new
    return new
