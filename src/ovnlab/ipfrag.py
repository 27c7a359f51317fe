"""IPv4 fragmentation and reassembly, shared by the hosts' IP stacks (Linux's
ip_fragment / ip_defrag) and Open vSwitch's conntrack (which reassembles before ct() and
fragments again on output, to the largest fragment it received: the kernel datapath's
`mru`).

A fragment is a Packet with `ip_mf` / `ip_frag_off` set whose payload is its piece of the
datagram's L4 bytes; the first one also carries the L4 header fields, as OVS's flow key
does (nw_frag=first), the later ones none (nw_frag=later).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ovnlab.packet import ETH_IP, Packet, ip_total_length

IP_HEADER = 20
IPFRAG_TIME = 30.0  # net.ipv4.ipfrag_time (and nf_conntrack's defrag): an incomplete datagram goes


def fragment(packet: Packet, mtu: int) -> list[Packet]:
    """`packet` cut to fit `mtu` (RFC 791 as Linux does it: every fragment but the last
    carries a multiple of 8 bytes, as many as fit); a packet that fits is returned alone.
    A fragment is fragmented again from its own offset."""
    if ip_total_length(packet) <= mtu or packet.eth_type != ETH_IP:
        return [packet]
    data = packet.payload if packet.is_fragment else packet.l4_bytes()
    step = (mtu - IP_HEADER) // 8 * 8
    if step <= 0:
        return []
    header = {"icmp_type": packet.icmp_type, "icmp_code": packet.icmp_code,
              "icmp_id": packet.icmp_id, "icmp_seq": packet.icmp_seq, "tp_src": packet.tp_src,
              "tp_dst": packet.tp_dst, "tcp_flags": packet.tcp_flags,
              "tcp_seq": packet.tcp_seq, "tcp_ack": packet.tcp_ack}
    no_header = dict.fromkeys(header, 0)
    out = []
    for start in range(0, len(data), step):
        offset = packet.ip_frag_off + start
        last = start + step >= len(data)
        changes: dict[str, object] = {
            "payload": data[start:start + step], "ip_df": False, "ip_frag_off": offset,
            "ip_mf": packet.ip_mf or not last, "ip_frag": 3 if offset else 1,
            **(header if offset == 0 else no_header)}
        out.append(packet.with_(**changes))
    return out


Key = tuple[int, int, int, int, int]  # (context, src, dst, proto, id): context = ct zone


@dataclass(slots=True)
class _Datagram:
    first_seen: float
    pieces: dict[int, Packet] = field(default_factory=dict)  # by offset
    mru: int = 0  # the largest fragment, IP total length


class Reassembler:
    """The fragments of datagrams in progress; `add` returns the whole datagram (and the
    largest fragment's length) once its last hole is filled."""

    def __init__(self, timeout: float = IPFRAG_TIME) -> None:
        self.timeout = timeout
        self._lists: dict[Key, _Datagram] = {}

    def __len__(self) -> int:
        return len(self._lists)

    def add(self, piece: Packet, now: float, context: int = 0) -> tuple[Packet, int] | None:
        self._expire(now)
        key = (context, piece.ip_src, piece.ip_dst, piece.ip_proto, piece.ip_id)
        dgram = self._lists.get(key)
        if dgram is None:
            dgram = self._lists[key] = _Datagram(now)
        dgram.pieces[piece.ip_frag_off] = piece
        dgram.mru = max(dgram.mru, ip_total_length(piece))
        whole = _join(dgram.pieces)
        if whole is None:
            return None
        del self._lists[key]
        return whole, dgram.mru

    def _expire(self, now: float) -> None:
        for key in [k for k, d in self._lists.items() if now - d.first_seen > self.timeout]:
            del self._lists[key]


def _join(pieces: dict[int, Packet]) -> Packet | None:
    """The datagram, if the pieces cover it from 0 to a last fragment without holes."""
    data = b""
    first: Packet | None = None
    for offset in sorted(pieces):
        piece = pieces[offset]
        if offset != len(data):
            return None
        if offset == 0:
            first = piece
        data += piece.payload
        if not piece.ip_mf:
            break
    else:
        return None
    if first is None:  # pragma: no cover - offset 0 is where the walk starts
        return None
    return first.with_l4(data)
