"""Controller-side actions (controller/pinctrl.c, OVN 22.03): packet-ins for `arp {}`,
`put_arp`, `icmp4 {}` / `icmp4_error {}` / `tcp_reset {}` / `reject {}` (composed in
controller/icmp.py), and the periodic GARPs for NAT addresses of
port bindings resident on this chassis.

A packet-in carries the OVN userdata (opcode + nested OpenFlow 1.5 actions); the nested
actions are applied here to the generated packet and the register snapshot, and every
`resubmit(,N)` becomes a `PacketOut(..., table=N, regs=...)` (OVN's packet-out).
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ovnlab.controller import dhcp_reply, icmp
from ovnlab.controller.actions import OFTABLE_REMOTE_OUTPUT
from ovnlab.controller.ofctrl import PacketOut
from ovnlab.controller.userdata import OPCODE, parse_userdata
from ovnlab.flows.actions import Action, Move, Pop, Push, Resubmit, SetField, SubField
from ovnlab.flows.actions import Controller as ControllerAction
from ovnlab.flows.fields import FIELDS
from ovnlab.flows.oxm import field_of_header
from ovnlab.packet import (
    ARP_REQUEST,
    BROADCAST,
    ETH_ARP,
    Packet,
    ip,
    ip_str,
    mac,
    mac_str,
)

if TYPE_CHECKING:
    from ovnlab.controller.controller import Controller

OFTABLE_LOG_INGRESS_PIPELINE = 8
GARP_MAX_TIMEOUT = 16.0  # seconds (garp_rarp_max_timeout default)
BUFFER_QUEUE_DEPTH = 4  # packets kept per next hop while its MAC is resolved (pinctrl.c)
BUFFER_MAP_TIMEOUT = 10.0  # seconds a next hop's held packets wait for its MAC

# Packet header fields the nested actions may read or write.
_PKT_FIELD = {"eth_src": "eth_src", "eth_dst": "eth_dst", "eth_type": "eth_type",
              "arp_op": "arp_op", "arp_spa": "arp_spa", "arp_tpa": "arp_tpa",
              "arp_sha": "arp_sha", "arp_tha": "arp_tha", "ip_src": "ip_src",
              "ip_dst": "ip_dst", "nw_ttl": "ip_ttl", "nw_proto": "ip_proto",
              "icmp_type": "icmp_type", "icmp_code": "icmp_code", "tcp_src": "tp_src",
              "tcp_dst": "tp_dst", "udp_src": "tp_src", "udp_dst": "tp_dst"}


class _Machine:
    """Executes the nested actions on (packet, registers) like the switch would."""

    def __init__(self, packet: Packet, regs: Mapping[str, int]) -> None:
        self.packet = packet
        self.regs: dict[str, int] = {k: int(v) for k, v in regs.items()}
        self.stack: list[int] = []

    def _read_whole(self, name: str) -> int:
        if name in _PKT_FIELD:
            return int(getattr(self.packet, _PKT_FIELD[name]))
        if name.startswith("xxreg"):
            k = int(name[5:])
            return sum(self.regs.get(f"reg{4 * k + j}", 0) << (32 * (3 - j)) for j in range(4))
        if name.startswith("xreg"):
            k = int(name[4:])
            return sum(self.regs.get(f"reg{2 * k + j}", 0) << (32 * (1 - j)) for j in range(2))
        return self.regs.get(name, 0)

    def _write_whole(self, name: str, value: int) -> None:
        if name in _PKT_FIELD:
            self.packet = self.packet.with_(**{_PKT_FIELD[name]: value})
        elif name.startswith("xxreg"):
            k = int(name[5:])
            for j in range(4):
                self.regs[f"reg{4 * k + j}"] = (value >> (32 * (3 - j))) & 0xFFFFFFFF
        elif name.startswith("xreg"):
            k = int(name[4:])
            for j in range(2):
                self.regs[f"reg{2 * k + j}"] = (value >> (32 * (1 - j))) & 0xFFFFFFFF
        else:
            self.regs[name] = value

    def read(self, s: SubField) -> int:
        return (self._read_whole(s.field) >> s.ofs) & ((1 << s.nbits) - 1)

    def write(self, s: SubField, value: int) -> None:
        self._write_masked(s.field, value << s.ofs, ((1 << s.nbits) - 1) << s.ofs)

    def _write_masked(self, name: str, value: int, mask: int) -> None:
        old = self._read_whole(name)
        self._write_whole(name, (old & ~mask) | (value & mask))

    def run(self, acts: list[Action], emit: Any) -> None:
        for a in acts:
            if isinstance(a, SetField):
                full = (1 << FIELDS[a.field].width) - 1
                self._write_masked(a.field, a.value, full if a.mask is None else a.mask)
            elif isinstance(a, Move):
                self.write(a.dst, self.read(a.src))
            elif isinstance(a, Push):
                self.stack.append(self.read(a.src))
            elif isinstance(a, Pop):
                if self.stack:
                    self.write(a.dst, self.stack.pop())
            elif isinstance(a, Resubmit) and a.table is not None:
                emit(self.packet, dict(self.regs), a.table)
            elif isinstance(a, ControllerAction):
                self._ovn_field(a.userdata)

    def _ovn_field(self, userdata: bytes) -> None:
        """pinctrl_handle_put_icmp_frag_mtu: the held ICMP error gets the next hop's MTU
        (the second word's low 16 bits, where ovnlab keeps it: icmp_seq)."""
        if len(userdata) >= 10 and struct.unpack_from("!I", userdata)[0] == \
                OPCODE["PUT_ICMP4_FRAG_MTU"]:
            self.packet = self.packet.with_(icmp_seq=struct.unpack_from("!H", userdata, 8)[0])


def _regs_of(event: Any) -> dict[str, int]:
    raw = getattr(event, "regs", None) or {}
    # the datapath's PacketIn carries reg0..reg15 as a tuple; tests may pass a mapping
    regs = dict(raw) if isinstance(raw, Mapping) else {f"reg{i}": v for i, v in enumerate(raw)}
    md = getattr(event, "metadata", None)
    if isinstance(md, int):
        regs.setdefault("metadata", md)
    elif isinstance(md, Mapping):
        regs.update(md)
    return {k: int(v) for k, v in regs.items() if isinstance(v, int)}


def packet_in(ctl: Controller, event: Any) -> list[PacketOut]:
    raw = bytes(getattr(event, "userdata", b""))
    if len(raw) >= 8 and struct.unpack_from("!I", raw)[0] == OPCODE["PUT_DHCP_OPTS"]:
        return _put_dhcp_opts(event, raw[8:])  # its userdata is not OpenFlow actions
    try:
        opcode, nested = parse_userdata(raw)
    except ValueError:
        return []
    pkt: Packet = event.packet
    regs = _regs_of(event)
    outs: list[PacketOut] = []

    def emit(p: Packet, r: dict[str, int], table: int) -> None:
        # set_actions_and_enqueue_msg: every packet-out comes in on OFPP_CONTROLLER, so a
        # reply may leave by the port the packet came in on (reject's)
        outs.append(PacketOut(packet=p, in_port="CONTROLLER", table=table, regs=r))

    if opcode == "ARP":
        if not pkt.is_ip:
            return []
        arp = Packet(eth_src=pkt.eth_src, eth_dst=pkt.eth_dst, eth_type=ETH_ARP,
                     vlan_tci=pkt.vlan_tci, arp_op=ARP_REQUEST, arp_sha=pkt.eth_src,
                     arp_spa=pkt.ip_src, arp_tha=0, arp_tpa=pkt.ip_dst)
        _Machine(arp, regs).run(nested, emit)
        for out in outs:  # pinctrl_handle_buffered_packets: keep the packet for the reply
            _buffer(ctl, (regs.get("metadata", 0), out.packet.arp_tpa), pkt, regs)
    elif opcode in _COMPOSERS:
        reply = _COMPOSERS[opcode](pkt)
        if reply is None:
            return []
        _Machine(reply, regs).run(nested, emit)
    elif opcode == "PUT_ARP":
        put_mac_binding(ctl, regs.get("metadata", 0), regs.get("reg14", 0),
                        ip_str(regs.get("reg0", 0)), mac_str(pkt.eth_src))
    if opcode in ("ARP", "PUT_ARP") and run_buffered(ctl) and ctl.on_ready is not None:
        # the main loop runs run_buffered_binding after these too: the binding may be there
        # already (learnt from the host's own ARP request just before its first packet,
        # or confirmed by a reply that changes no row)
        ctl.on_ready()
    return outs


def _put_dhcp_opts(event: Any, data: bytes) -> list[PacketOut]:
    """pinctrl_handle_put_dhcp_opts: the reply replaces the packet, the result bit says
    whether there is one, and the paused pipeline resumes after the action (northd
    follows put_dhcp_opts with `next;`, so at the next table)."""
    action = dhcp_reply.PutDhcpOpts.parse(data)
    name = field_of_header(action.result_header) if action is not None else None
    if action is None or name is None or name not in FIELDS:
        return []
    regs = _regs_of(event)
    answer = dhcp_reply.reply(event.packet, action)
    machine = _Machine(answer or event.packet, regs)
    machine.write(SubField(name, action.result_ofs, 1), int(answer is not None))
    return [PacketOut(packet=machine.packet, in_port="CONTROLLER",
                      table=int(getattr(event, "table", 0)) + 1, regs=machine.regs)]


# ACTION_OPCODE_* whose packet-in pinctrl answers with a packet it composes (pinctrl.c's
# process_packet_in): icmp4 sets the UDP code, icmp4_error does not; reject loops back.
_COMPOSERS: dict[str, Callable[[Packet], Packet | None]] = {
    "ICMP": lambda p: icmp.icmp4(p, set_icmp_code=True, loopback=False),
    "ICMP4_ERROR": lambda p: icmp.icmp4(p, set_icmp_code=False, loopback=False),
    "TCP_RESET": lambda p: icmp.tcp_reset(p, loopback=False),
    "REJECT": icmp.reject,
}


@dataclass
class HeldPackets:
    """pinctrl's `buffered_packets` for one next hop: at most BUFFER_QUEUE_DEPTH packets
    (with the registers to resume with), and when the last one came."""

    packets: list[tuple[Packet, dict[str, int]]]
    since: float


def _buffer(ctl: Controller, key: tuple[int, int], pkt: Packet, regs: dict[str, int]) -> None:
    held = ctl.buffered.get(key)
    if held is None:
        held = ctl.buffered[key] = HeldPackets([], ctl.clock())
    held.since = ctl.clock()  # pinctrl_handle_buffered_packets refreshes the timestamp
    held.packets.append((pkt, dict(regs)))
    del held.packets[:-BUFFER_QUEUE_DEPTH]  # the oldest go first, as in OVN's ring


def run_buffered(ctl: Controller) -> bool:
    """run_buffered_binding + buffered_packets_map_gc, on every loop: each next hop that
    has a MAC_Binding in the SB (new or old, learnt here or on any chassis) gets its held
    packets back with the MAC as eth.dst, resumed where `arp` took them, at the output
    stage (OFTABLE_REMOTE_OUTPUT); what waited BUFFER_MAP_TIMEOUT in vain is dropped.
    True if any packet was released."""
    if not ctl.buffered:
        return False
    dp_keys = {d.uuid: d["tunnel_key"] for d in ctl.sb.rows("Datapath_Binding")}
    macs: dict[tuple[int, int], str] = {}
    for row in ctl.sb.rows("MAC_Binding"):
        try:
            macs[(dp_keys.get(row["datapath"], -1), ip(row["ip"]))] = row["mac"]
        except ValueError:
            continue  # an IPv6 binding: the lab holds IPv4 packets only
    released = False
    now = ctl.clock()
    for key in list(ctl.buffered):
        held = ctl.buffered[key]
        found = macs.get(key)
        if found is not None:
            del ctl.buffered[key]
            for p, r in held.packets:
                ctl.ready.append(PacketOut(packet=p.with_(eth_dst=mac(found)),
                                           in_port="CONTROLLER", table=OFTABLE_REMOTE_OUTPUT,
                                           regs=r))
                released = True
        elif now > held.since + BUFFER_MAP_TIMEOUT:
            del ctl.buffered[key]
    return released


def put_mac_binding(ctl: Controller, dp_key: int, port_key: int, ip_text: str,
                    mac_text: str) -> None:
    """pinctrl_handle_put_mac_binding + run_put_mac_binding: insert or update the row."""
    sb = ctl.sb
    dp = next((d for d in sb.rows("Datapath_Binding") if d["tunnel_key"] == dp_key), None)
    if dp is None:
        return
    pb = next((p for p in sb.rows("Port_Binding")
               if p["datapath"] == dp.uuid and p["tunnel_key"] == port_key), None)
    if pb is None:
        return
    lport = pb["logical_port"]
    with sb.transaction() as txn:
        for row in sb.rows("MAC_Binding"):
            if row["logical_port"] == lport and row["ip"] == ip_text:
                if row["mac"] != mac_text:
                    txn.update("MAC_Binding", row.uuid, mac=mac_text)
                return
        txn.insert("MAC_Binding", logical_port=lport, ip=ip_text, mac=mac_text,
                   datapath=dp.uuid)


# ------------------------------------------------------------------ GARPs

_RESIDENT = re.compile(r'is_chassis_resident\("([^"]*)"\)')


def announcing_port(entry: str) -> str | None:
    """The logical port a `nat_addresses` entry is announced where it resides (its
    `is_chassis_resident("...")`), if it names one."""
    m = _RESIDENT.search(entry)
    return m.group(1) if m else None


@dataclass
class _Garp:
    mac: int
    ip: int
    dp_key: int
    port_key: int
    announce: float
    backoff: float = 1.0


@dataclass
class GarpState:
    entries: dict[str, _Garp] = field(default_factory=dict)
    # nat_addresses' answer and what it read: this chassis's row, the runtime state and
    # the special ports' bindings (each an immutable object until its row changes)
    chassis: str = ""
    read: tuple[Any, ...] = ()
    wanted: dict[str, tuple[int, int, int, int]] = field(default_factory=dict)

    def wanted_now(self, ctl: Controller) -> dict[str, tuple[int, int, int, int]]:
        """nat_addresses, worked out again only when something it reads moved."""
        rows = ctl.sb.tables["Port_Binding"]
        chassis = ctl.runtime.chassis_uuid()
        read = (ctl.runtime.state, *(rows.get(p.uuid) for p in ctl.special_ports()))
        if chassis != self.chassis or len(read) != len(self.read) or any(
                a is not b for a, b in zip(read, self.read, strict=True)):
            self.chassis, self.read, self.wanted = chassis, read, nat_addresses(ctl)
        return self.wanted


def nat_addresses(ctl: Controller) -> dict[str, tuple[int, int, int, int]]:
    """`<lport>-<ip>` → (mac, ip, dp key, port key) for NAT addresses to announce here
    (get_nat_addresses_and_keys / consider_nat_address)."""
    st = ctl.runtime.state
    out: dict[str, tuple[int, int, int, int]] = {}
    rows = ctl.sb.tables["Port_Binding"]
    for port in ctl.special_ports():  # patch and l3gateway ports are among these few
        pb = rows.get(port.uuid)
        if pb is None or pb["type"] not in ("patch", "l3gateway") \
                or pb["datapath"] not in st.local_dps:
            continue
        if pb["type"] == "l3gateway" and pb["chassis"] != ctl.runtime.chassis_uuid():
            continue
        entries = list(pb["nat_addresses"]) or (
            [pb["options"]["nat-addresses"]] if "nat-addresses" in pb["options"] else [])
        for entry in entries:
            m = _RESIDENT.search(entry)
            lport = m.group(1) if m else None
            if lport is None and pb["type"] == "patch":
                continue
            if lport is not None and lport not in st.resident:
                continue
            words = entry[:m.start()].split() if m else entry.split()
            if not words:
                continue
            try:
                macv = mac(words[0])
                for w in words[1:]:
                    if "." in w:
                        out[f"{pb['logical_port']}-{w}"] = (
                            macv, ip(w.split("/")[0]), st.dp_keys.get(pb["datapath"], 0),
                            pb["tunnel_key"])
            except ValueError:
                continue
    return out


def periodic(ctl: Controller, now: float) -> list[PacketOut]:
    """send_garp_rarp_run: announcements at +0 s, +1, +3, +7, +15 then stop; and the
    held packets' run (released or timed out)."""
    if run_buffered(ctl) and ctl.on_ready is not None:
        ctl.on_ready()

    if ctl.garp is None:
        ctl.garp = GarpState()
    state: GarpState = ctl.garp
    wanted = state.wanted_now(ctl)
    for key in list(state.entries):
        if key not in wanted:
            del state.entries[key]
    for key, (macv, ipv, dpk, pk) in wanted.items():
        cur = state.entries.get(key)
        if cur is None:
            state.entries[key] = _Garp(macv, ipv, dpk, pk, now)
        else:
            cur.dp_key, cur.port_key = dpk, pk
    outs: list[PacketOut] = []
    for key in sorted(state.entries):
        g = state.entries[key]
        if now + 1e-9 < g.announce:
            continue
        pkt = Packet(eth_src=g.mac, eth_dst=BROADCAST, eth_type=ETH_ARP, arp_op=ARP_REQUEST,
                     arp_sha=g.mac, arp_spa=g.ip, arp_tha=0, arp_tpa=g.ip)
        outs.append(PacketOut(packet=pkt, in_port="CONTROLLER",
                              table=OFTABLE_LOG_INGRESS_PIPELINE,
                              regs={"metadata": g.dp_key, "reg14": g.port_key}))
        if g.backoff < GARP_MAX_TIMEOUT:
            g.announce = now + g.backoff
        else:
            g.announce = float("inf")
        g.backoff = min(GARP_MAX_TIMEOUT, g.backoff * 2)
    return outs

