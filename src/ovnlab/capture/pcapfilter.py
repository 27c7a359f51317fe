"""pcap-filter expressions (what `tcpdump EXPR` accepts) compiled into a predicate on Packet.

The grammar follows libpcap 1.10's: `and`/`or` share one precedence and associate to the
left, `not` binds tighter, a bare address after `and`/`or` inherits the qualifiers of the
term before it (`host a or b`, `tcp port 22 or 23`), `vlan` and `geneve` move every primitive
after them onto the encapsulated frame (so plain `icmp` never matches ICMP inside Geneve,
`geneve and icmp` does). Byte accessors (`tcp[13] & 2 != 0`, `icmp[icmptype] == icmp-echo`)
read the real frame; a read past its end rejects the packet, as BPF does.

Errors carry tcpdump's text (`FilterError.message`; tcpdump prints "tcpdump: " + it, exit 1).

Known differences from libpcap: IPv6, RARP, SCTP and DECnet are not modelled; a primitive
after `vlan`/`geneve` is false on a frame without that encapsulation (BPF reads whatever lies
at the shifted offset); libpcap's optimizer error "expression rejects all packets" is not
raised (such filters simply match nothing).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass

from ovnlab.capture import _services
from ovnlab.capture.filtergrammar import (
    ETHER_PROTO_BY_NAME,
    IP_PROTO_BY_NAME,
    QERR,
    And,
    Arith,
    FilterError,
    Id,
    Node,
    Not,
    Or,
    Other,
    Parser,
    Proto,
    Relation,
    tokenize,
)
from ovnlab.capture.format import frame_length
from ovnlab.capture.pcapmatch import (
    Predicate,
    _ether_match,
    _ethertype,
    _geneve_vni,
    _host_match,
    _is_geneve,
    _is_ip,
    _layered,
    _parse_mac,
    _port_match,
    _proto_check,
    _view,
)
from ovnlab.packet import (
    BROADCAST,
    PROTO_TCP,
    PROTO_UDP,
    Packet,
)

Forward = Callable[[str], "int | str | None"]  # hostname -> IPv4 (int or dotted), lab DNS
__all__ = ["Filter", "FilterError", "Forward", "compile_filter"]


class _Reject(Exception):
    """A load past the end of the frame: BPF rejects the packet outright."""


# --------------------------------------------------------------------- compiler
@dataclass(frozen=True, slots=True)
class Filter:
    """A compiled expression; call it on a Packet."""

    expression: str
    predicate: Predicate

    def __call__(self, packet: Packet, direction: str | None = None) -> bool:
        """`direction` ("in"/"out", the capturing node's view) feeds inbound/outbound."""
        token = _DIRECTION.set(direction)
        try:
            return self.predicate(packet)
        except _Reject:
            return False
        finally:
            _DIRECTION.reset(token)


# inbound/outbound read the direction of the frame being filtered (Linux live captures
# know it from the socket; a savefile does not)
_DIRECTION: ContextVar[str | None] = ContextVar("pcapfilter_direction", default=None)


def compile_filter(expression: str | list[str], resolve: Forward | None = None, *,
                   live: bool = True) -> Filter:
    """Compile tcpdump's EXPR (argv words are joined with spaces, as tcpdump does).

    `resolve` turns host names into addresses; `live=False` is reading a savefile (-r),
    where tcpdump refuses inbound/outbound."""
    text = " ".join(expression) if isinstance(expression, list) else expression
    tree = Parser(tokenize(text)).program()
    if tree is None:
        return Filter(text, lambda _packet: True)
    return Filter(text, _Compiler(resolve, live).node(tree))


class _Compiler:
    def __init__(self, resolve: Forward | None, live: bool = True) -> None:
        self.resolve = resolve
        self.live = live

    def node(self, node: Node) -> Predicate:
        if isinstance(node, And):
            left, right = self.node(node.left), self.node(node.right)
            return lambda p: left(p) and right(p)
        if isinstance(node, Or):
            left, right = self.node(node.left), self.node(node.right)
            return lambda p: left(p) or right(p)
        if isinstance(node, Not):
            inner = self.node(node.inner)
            return lambda p: not inner(p)
        if isinstance(node, Proto):
            return _layered(node.layer, _proto_check(node.name))
        if isinstance(node, Other):
            if node.what in ("less", "greater"):  # the whole frame's length, like `len`
                return self.other(node)
            return _layered(node.layer, self.other(node))
        if isinstance(node, Id):
            return _layered(node.layer, self.id_(node))
        if isinstance(node, Relation):
            return self.relation(node)
        raise AssertionError(node)

    # ------------------------------------------------------------ primitives
    def other(self, node: Other) -> Predicate:
        what, number = node.what, node.number
        if what in ("inbound", "outbound"):
            if not self.live:
                raise FilterError("inbound/outbound not supported on Ethernet when reading "
                                  "savefiles")
            wanted = "in" if what == "inbound" else "out"
            return lambda _p: _DIRECTION.get() == wanted
        if what == "vlan" and number is not None and number > 4095:
            raise FilterError(f"VLAN tag {number} greater than maximum 4095")
        if what == "less":
            limit = number or 0
            return lambda p: frame_length(p) <= limit
        if what == "greater":
            limit = number or 0
            return lambda p: frame_length(p) >= limit
        if what == "vlan":
            return lambda p: bool(p.vlan_tci) and (number is None
                                                   or p.vlan_tci & 0x0FFF == number)
        if what == "geneve":
            return lambda p: _is_geneve(p) and (number is None or _geneve_vni(p) == number)
        if node.proto in (None, "ether", "link"):
            if what == "broadcast":
                return lambda p: p.eth_dst == BROADCAST
            return lambda p: bool(p.eth_dst & (1 << 40))
        if node.proto == "ip":
            if what == "broadcast":  # tcpdump -r: netmask 0, so only all-zeros/all-ones
                return lambda p: _is_ip(p) and p.ip_dst in (0, 0xFFFFFFFF)
            return lambda p: _is_ip(p) and p.ip_dst >> 28 == 0xE
        raise FilterError("only link-layer/IP broadcast filters supported"
                          if what == "broadcast" else
                          "only link-layer/IP multicast filters supported")

    def id_(self, node: Id) -> Predicate:
        q, tok = node.qual, node.token
        if q == QERR:
            raise FilterError("syntax error in filter expression")
        addr = q.addr
        if tok.kind == "hid" and addr in ("port", "portrange", "proto"):
            raise FilterError(f"'{addr}' modifier applied to ip host")
        if addr == "gateway":
            if tok.kind != "id":
                raise FilterError("'gateway' requires a name")
            raise FilterError("'gateway' not supported in this configuration")
        if addr in ("port", "portrange"):
            return self.port(node)
        if addr == "proto":
            return self.proto_number(node)
        if tok.kind == "eid":
            if q.proto not in ("ether", "link") or addr not in (None, "host"):
                raise FilterError("ethernet address used in non-ether expression")
            return _ether_match(q.dir, _parse_mac(tok.text))
        if q.proto in ("ether", "link"):
            if tok.kind in ("hid", "num"):
                raise FilterError("illegal link layer address")
            raise FilterError(f"unknown ether host '{tok.text}'")
        network, mask = self.ipv4(node)
        return _host_match(q.proto, q.dir, network, mask)

    def ipv4(self, node: Id) -> tuple[int, int]:
        """(address, mask) of a host/net operand, with libpcap's promotions and checks."""
        q, tok = node.qual, node.token
        is_net = q.addr == "net"
        if tok.kind == "id":
            if is_net:
                raise FilterError(f"unknown network '{tok.text}'")
            address = self.resolve(tok.text) if self.resolve else None
            if address is None:
                raise FilterError(f"unknown host '{tok.text}'")
            return int(ipaddress.IPv4Address(address)), 0xFFFFFFFF  # int or dotted text
        if tok.kind == "num":
            value, bits = tok.value, 32
            if value > 0xFFFFFFFF:
                raise FilterError(f"invalid IPv4 address '{tok.text}'")
        else:
            parts = tok.text.split(".")
            if any(int(x) > 255 for x in parts):
                raise FilterError(f"invalid IPv4 address '{tok.text}'")
            value = 0
            for x in parts:
                value = (value << 8) | int(x)
            bits = 8 * len(parts)
        if node.mask_len is not None or node.mask is not None:
            value <<= 32 - bits
            if node.mask is not None:
                mask_parts = node.mask.text.split(".")
                if len(mask_parts) != 4 or any(int(x) > 255 for x in mask_parts):
                    raise FilterError(f"invalid IPv4 address '{node.mask.text}'")
                mask = int(ipaddress.IPv4Address(node.mask.text))
                shown = f"{tok.text} mask {node.mask.text}"
            else:
                length = node.mask_len or 0
                if length > 32:
                    raise FilterError("mask length must be <= 32")
                mask = (0xFFFFFFFF << (32 - length)) & 0xFFFFFFFF
                shown = f"{tok.text}/{length}"
            if value & ~mask:
                raise FilterError(f'non-network bits set in "{shown}"')
            if q.addr == "host":
                raise FilterError("Mask syntax for networks only")
            return value, mask
        mask = 0xFFFFFFFF
        if tok.kind == "num" and is_net:
            while value and not value & 0xFF000000:  # "net 10" is 10.0.0.0/8
                value, mask = value << 8, (mask << 8) & 0xFFFFFFFF
        else:
            value <<= 32 - bits
            mask = (mask << (32 - bits)) & 0xFFFFFFFF
        return value, mask

    def port(self, node: Id) -> Predicate:
        q, tok = node.qual, node.token
        if q.proto not in (None, "tcp", "udp", "sctp"):
            raise FilterError(f"illegal qualifier of '{q.addr}'")
        by_proto: dict[str, tuple[int, ...]] = {"tcp": (PROTO_TCP,), "udp": (PROTO_UDP,),
                                                "sctp": (132,)}
        protos = by_proto.get(q.proto or "", (PROTO_TCP, PROTO_UDP, 132))
        if q.addr == "portrange":
            if tok.kind == "num":
                low = high = tok.value
            else:
                low, high, protos = self._port_range(tok.text, q.proto, protos)
            for value in (low, high):
                if value > 65535:
                    raise FilterError(f"illegal port number {value} > 65535")
            low, high = min(low, high), max(low, high)
            return _port_match(protos, q.dir, lambda port: low <= port <= high)
        if tok.kind == "num":
            if tok.value > 65535:
                raise FilterError(f"illegal port number {tok.value} > 65535")
            number = tok.value
        else:
            number, protos = self._named_port(tok.text, q.proto, protos)
        return _port_match(protos, q.dir, lambda port: port == number)

    def _named_port(self, name: str, proto: str | None,
                    protos: tuple[int, ...]) -> tuple[int, tuple[int, ...]]:
        tcp, udp = _services.TCP_BY_NAME.get(name), _services.UDP_BY_NAME.get(name)
        if tcp is None and udp is None:
            raise FilterError(f"unknown port '{name}'")
        if proto == "udp" and udp is None:
            raise FilterError(f"port '{name}' is tcp")
        if proto == "tcp" and tcp is None:
            raise FilterError(f"port '{name}' is udp")
        if proto is None and (tcp is None or udp is None):
            # libpcap: a service known for one protocol only means that protocol only
            return (tcp, (PROTO_TCP,)) if tcp is not None else (udp or 0, (PROTO_UDP,))
        number = udp if proto == "udp" else tcp
        return number or 0, protos

    def _port_range(self, text: str, proto: str | None,
                    protos: tuple[int, ...]) -> tuple[int, int, tuple[int, ...]]:
        if "-" not in text:
            raise FilterError(f"unknown port in range '{text}'")
        numeric = re.match(r"^(\d+)-(\d+)", text)  # libpcap's sscanf("%d-%d")
        if numeric:
            return int(numeric.group(1)), int(numeric.group(2)), protos
        low_text, high_text = text.split("-", 1)
        values = []
        for part in (low_text, high_text):
            if part.isdigit():
                values.append(int(part))
            else:
                number, protos = self._named_port(part, proto, protos)
                values.append(number)
        return values[0], values[1], protos

    def proto_number(self, node: Id) -> Predicate:
        q, tok = node.qual, node.token
        if q.proto in ("ether", "link"):
            if tok.kind == "id":
                number = ETHER_PROTO_BY_NAME.get(tok.text)
                if number is None:
                    raise FilterError(f"unknown ether proto '{tok.text}'")
            else:
                number = tok.value
            return lambda p: _ethertype(p) == number
        if q.proto not in (None, "ip"):
            raise FilterError("illegal qualifier of 'proto'")
        if tok.kind == "id":
            value = IP_PROTO_BY_NAME.get(tok.text)
            if value is None:
                raise FilterError(f"unknown ip proto '{tok.text}'")
        else:
            value = tok.value
        return lambda p: _is_ip(p) and p.ip_proto == value

    # ------------------------------------------------------------ arithmetic
    def relation(self, node: Relation) -> Predicate:
        checks = [_layered(a.layer, _proto_check(a.proto)) for a in _loads(node.left)
                  + _loads(node.right)]
        left, right = _arith(node.left), _arith(node.right)
        compare = _COMPARE[node.op]
        return lambda p: all(c(p) for c in checks) and compare(left(p), right(p))


_COMPARE: dict[str, Callable[[int, int], bool]] = {
    "==": lambda a, b: a == b, "!=": lambda a, b: a != b, ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b, "<": lambda a, b: a < b, "<=": lambda a, b: a <= b,
}
_BINARY: dict[str, Callable[[int, int], int]] = {
    "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
    "&": lambda a, b: a & b, "|": lambda a, b: a | b, "^": lambda a, b: a ^ b,
    "<<": lambda a, b: a << b if b < 32 else 0, ">>": lambda a, b: a >> b if b < 32 else 0,
}


def _loads(node: Arith) -> list[Arith]:
    found = [node] if node.op == "load" else []
    for arg in node.args:
        found.extend(_loads(arg))
    return found


def _arith(node: Arith) -> Callable[[Packet], int]:
    if node.op == "num":
        value = node.value & 0xFFFFFFFF
        return lambda _p: value
    if node.op == "len":
        return lambda p: frame_length(p)
    if node.op == "neg":
        inner = _arith(node.args[0])
        return lambda p: -inner(p) & 0xFFFFFFFF
    if node.op == "load":
        offset = _arith(node.args[0])
        return _load(node.proto, node.size, offset, node.layer)
    if node.op in ("/", "%") and node.args[1].op == "num" and node.args[1].value == 0:
        raise FilterError("division by zero" if node.op == "/" else "modulus by zero")
    left, right = _arith(node.args[0]), _arith(node.args[1])
    if node.op in ("/", "%"):
        div = node.op == "/"

        def divide(p: Packet) -> int:
            b = right(p)
            if b == 0:
                raise _Reject
            a = left(p)
            return a // b if div else a % b
        return divide
    fn = _BINARY[node.op]
    return lambda p: fn(left(p), right(p)) & 0xFFFFFFFF


def _load(proto: str, size: int, offset: Callable[[Packet], int],
          layer: tuple[str, ...]) -> Callable[[Packet], int]:
    def load(outer: Packet) -> int:
        view = _view(outer, layer)
        if view is None:
            raise _Reject
        frame = view.to_bytes()
        base = _header_offset(view, proto)
        start = base + offset(outer)
        if start + size > len(frame):
            raise _Reject
        return int.from_bytes(frame[start:start + size], "big")
    return load


def _header_offset(p: Packet, proto: str) -> int:
    link = 18 if p.vlan_tci else 14
    if proto == "ether":
        return 0
    if proto in ("ip", "arp", "rarp", "ip6"):
        return link
    return link + 20  # tcp/udp/icmp...: Packet.to_bytes() writes 20-byte IPv4 headers
