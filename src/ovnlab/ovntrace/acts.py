"""Logical-flow actions as ovn-trace sees them (lib/actions.c parse_* and format_*):
parsed into small immutable nodes that the engine executes and that print as
`ovnacts_format()` prints them (`next;`, `reg0 = 10.0.2.2;`, `arp { ...; output; };`).

The tokens and fields are the controller's (`ovnlab.controller.lexer`, `expr.parse_field`);
the controller compiles actions straight to OpenFlow, ovn-trace needs them as a tree.
Actions ovn-trace does not simulate (DHCP, DNS, events, meters...) are kept as `Opaque`:
printed, with no effect on the packet.
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass

from ovnlab.controller import expr as ex
from ovnlab.controller.lexer import Const, Cursor, SyntaxError_
from ovnlab.controller.symtab import SYMTAB

LOG_PIPELINE_LEN = 29  # lib/ovn-util.h: logical tables per pipeline


@dataclass(frozen=True, slots=True)
class Next:
    table: int
    ingress: bool
    src_table: int
    src_ingress: bool

    def text(self) -> str:
        if self.ingress != self.src_ingress:
            return f"next(pipeline={'ingress' if self.ingress else 'egress'}, table={self.table});"
        if self.table != self.src_table + 1:
            return f"next({self.table});"
        return "next;"


@dataclass(frozen=True, slots=True)
class Output:
    def text(self) -> str:
        return "output;"


@dataclass(frozen=True, slots=True)
class Load:
    dst: ex.FieldRef
    value: Const

    def text(self) -> str:
        return f"{self.dst.text()} = {format_const(self.value)};"


@dataclass(frozen=True, slots=True)
class Move:
    dst: ex.FieldRef
    src: ex.FieldRef

    def text(self) -> str:
        return f"{self.dst.text()} = {self.src.text()};"


@dataclass(frozen=True, slots=True)
class Exchange:
    a: ex.FieldRef
    b: ex.FieldRef

    def text(self) -> str:
        return f"{self.a.text()} <-> {self.b.text()};"


@dataclass(frozen=True, slots=True)
class DecTtl:
    def text(self) -> str:
        return "ip.ttl--;"


@dataclass(frozen=True, slots=True)
class CtNext:
    table: int

    def text(self) -> str:
        return "ct_next;"


@dataclass(frozen=True, slots=True)
class CtNat:
    """ct_dnat / ct_snat (and their _in_czone forms), with or without an address."""

    snat: bool
    in_czone: bool
    table: int
    addr: ipaddress.IPv4Address | ipaddress.IPv6Address | None = None
    port_lo: int = 0
    port_hi: int = 0

    @property
    def name(self) -> str:
        return f"ct_{'s' if self.snat else 'd'}nat{'_in_czone' if self.in_czone else ''}"

    def text(self) -> str:
        if self.addr is None:
            return f"{self.name};"
        ports = ""
        if self.port_lo:
            ports = f",{self.port_lo}" + (f"-{self.port_hi}" if self.port_hi else "")
        return f"{self.name}({self.addr}{ports});"


@dataclass(frozen=True, slots=True)
class CtLb:
    mark: bool
    table: int
    backends: tuple[tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, int], ...] = ()
    raw: str = ""  # the argument text, printed back

    def text(self) -> str:
        name = "ct_lb_mark" if self.mark else "ct_lb"
        return f"{name}({self.raw});" if self.raw else f"{name};"


@dataclass(frozen=True, slots=True)
class CtCommitNat:
    table: int

    def text(self) -> str:
        return "ct_commit_nat;"


@dataclass(frozen=True, slots=True)
class CtClear:
    def text(self) -> str:
        return "ct_clear;"


@dataclass(frozen=True, slots=True)
class Nested:
    """clone, arp, icmp4, icmp4_error, icmp6, icmp6_error, nd_na, nd_na_router, nd_ns,
    tcp_reset, sctp_abort, reject, ct_commit { }: a name and the actions inside."""

    name: str
    body: tuple[Action, ...]

    def text(self) -> str:
        inner = " ".join(a.text() for a in self.body) if self.body else "drop;"
        return f"{self.name} {{ {inner} }};"


@dataclass(frozen=True, slots=True)
class GetArp:
    """get_arp / get_nd: eth.dst from the MAC_Binding of (port, ip)."""

    nd: bool
    port: ex.FieldRef
    ip: ex.FieldRef

    def text(self) -> str:
        return f"{'get_nd' if self.nd else 'get_arp'}({self.port.text()}, {self.ip.text()});"


@dataclass(frozen=True, slots=True)
class LookupArp:
    """dst = lookup_arp(port, ip, mac) / lookup_arp_ip(port, ip) (and the _nd forms)."""

    nd: bool
    dst: ex.FieldRef
    port: ex.FieldRef
    ip: ex.FieldRef
    mac: ex.FieldRef | None

    def text(self) -> str:
        fn = ("lookup_nd" if self.nd else "lookup_arp") + ("" if self.mac else "_ip")
        args = [self.port.text(), self.ip.text()] + ([self.mac.text()] if self.mac else [])
        return f"{self.dst.text()} = {fn}({', '.join(args)});"


@dataclass(frozen=True, slots=True)
class Opaque:
    """An action ovn-trace prints but does not simulate (put_arp, handle_svc_check...)."""

    source: str

    def text(self) -> str:
        return f"{self.source};"


Action = (Next | Output | Load | Move | Exchange | DecTtl | CtNext | CtNat | CtLb | CtCommitNat
          | CtClear | Nested | GetArp | LookupArp | Opaque)

_NESTED_PREREQ = {"clone": None, "arp": "ip4", "icmp4": "ip4", "icmp4_error": "ip4",
                  "icmp6": "ip6", "icmp6_error": "ip6", "nd_na": "nd_ns",
                  "nd_na_router": "nd_ns", "nd_ns": "ip6", "tcp_reset": "tcp",
                  "sctp_abort": "sctp", "reject": None, "ct_commit": "ip"}
_NO_ARG_OPAQUE = {"handle_dhcpv6_reply", "ct_snat_to_vip", "igmp", "mld"}
_CALL_OPAQUE = {"put_arp", "put_nd", "put_fdb", "handle_svc_check", "trigger_event", "log",
                "set_meter", "set_queue", "fwd_group", "bind_vport", "bfd_msg"}
_RESULT_OPAQUE = {"put_dhcp_opts", "put_dhcpv6_opts", "put_nd_ra_opts", "dns_lookup",
                  "chk_lb_hairpin", "chk_lb_hairpin_reply", "check_pkt_larger", "get_fdb",
                  "lookup_fdb", "select"}


@dataclass
class _Parser:
    cur: Cursor
    ingress: bool
    table: int
    prereqs: list[str]

    # ------------------------------------------------------------ actions
    def actions(self, closing: str | None) -> tuple[Action, ...]:
        out: list[Action] = []
        while True:
            if closing is None and self.cur.at_end():
                return tuple(out)
            if closing is not None and self.cur.match(closing):
                return tuple(out)
            action = self.action()
            if action is not None:
                out.append(action)
            if not self.cur.match(";"):
                self.cur.error("expecting `;'")

    def action(self) -> Action | None:
        cur = self.cur
        tok = cur.tok
        if tok.kind != "id":
            cur.error("expecting action")
        word = tok.text
        nxt = cur.peek()
        if word in SYMTAB and nxt.kind == "punct" and nxt.text in ("=", "<->", "[", "--"):
            return self.assignment()
        cur.next()
        if word == "drop":
            return None
        if word == "next":
            return self.next_()
        if word == "output":
            return Output()
        if word == "ct_next":
            self.prereqs.append("ip")
            return CtNext(self.table + 1)
        if word in ("ct_dnat", "ct_snat", "ct_dnat_in_czone", "ct_snat_in_czone"):
            return self.ct_nat(word)
        if word in ("ct_lb", "ct_lb_mark"):
            self.prereqs.append("ip")
            raw = self.balanced_args() if cur.tok.text == "(" else ""
            return CtLb(word == "ct_lb_mark", self.table + 1, _backends(raw), raw)
        if word == "ct_commit_nat":
            self.prereqs.append("ip")
            return CtCommitNat(self.table + 1)
        if word == "ct_clear":
            return CtClear()
        if word == "ct_commit" and cur.tok.text == "(":
            self.prereqs.append("ip")
            return Opaque(f"ct_commit{self.balanced_args(keep_parens=True)}")
        if word in _NESTED_PREREQ:
            prereq = _NESTED_PREREQ[word]
            if prereq:
                self.prereqs.append(prereq)
            if word == "ct_commit" and cur.tok.text != "{":
                return Opaque("ct_commit")
            cur.expect("{")
            outer, self.prereqs = self.prereqs, []  # what the inner actions need stays inside
            body = self.actions("}")
            self.prereqs = outer
            return Nested(word, body)
        if word in ("get_arp", "get_nd"):
            cur.expect("(")
            port = self.field()
            cur.expect(",")
            ip = self.field()
            cur.expect(")")
            return GetArp(word == "get_nd", port, ip)
        if word in _CALL_OPAQUE:
            return Opaque(f"{word}{self.balanced_args(keep_parens=True)}")
        if word in _NO_ARG_OPAQUE:
            return Opaque(word)
        raise SyntaxError_(f"Syntax error at `{word}' expecting action.")

    def next_(self) -> Next:
        cur = self.cur
        table, ingress = self.table + 1, self.ingress
        if cur.match("("):
            if cur.tok.kind == "const":
                table = ex._int(cur)
            else:
                while True:
                    key = cur.next().text
                    cur.expect("=")
                    val = cur.next()
                    if key == "pipeline":
                        ingress = val.text == "ingress"
                    elif key == "table" and val.const is not None:
                        table = val.const.value
                    if not cur.match(","):
                        break
            cur.expect(")")
        if table >= LOG_PIPELINE_LEN:
            raise SyntaxError_(f"\"next\" argument must be in range 0 to "
                               f"{LOG_PIPELINE_LEN - 1}.")
        return Next(table, ingress, self.table, self.ingress)

    def ct_nat(self, word: str) -> CtNat:
        cur = self.cur
        self.prereqs.append("ip")
        snat, in_czone = word.startswith("ct_snat"), word.endswith("_in_czone")
        if not cur.match("("):
            return CtNat(snat, in_czone, self.table + 1)
        t = cur.next()
        if t.const is None or t.const.fmt not in ("ipv4", "ipv6"):
            raise SyntaxError_(f"Syntax error at `{t.text}' expecting IPv4 or IPv6 address.")
        addr: ipaddress.IPv4Address | ipaddress.IPv6Address = (
            ipaddress.IPv4Address(t.const.value) if t.const.fmt == "ipv4"
            else ipaddress.IPv6Address(t.const.value))
        lo = hi = 0
        if cur.match(","):
            lo = ex._int(cur)
            if cur.match("-"):
                hi = ex._int(cur)
        cur.expect(")")
        return CtNat(snat, in_czone, self.table + 1, addr, lo, hi)

    def assignment(self) -> Action:
        cur = self.cur
        dst = self.field(rw=True)
        if cur.match("--"):
            if dst.symbol.name != "ip.ttl":
                raise SyntaxError_("Syntax error at `--' expecting `='.")
            self.prereqs.append("ip")
            return DecTtl()
        if cur.match("<->"):
            return Exchange(dst, self.field(rw=True))
        cur.expect("=")
        tok = cur.tok
        if tok.kind == "id" and tok.text in ("lookup_arp", "lookup_arp_ip", "lookup_nd",
                                             "lookup_nd_ip"):
            cur.next()
            cur.expect("(")
            port = self.field()
            cur.expect(",")
            ip = self.field()
            mac = None
            if not tok.text.endswith("_ip"):
                cur.expect(",")
                mac = self.field()
            cur.expect(")")
            return LookupArp("nd" in tok.text, dst, port, ip, mac)
        if tok.kind == "id" and tok.text in _RESULT_OPAQUE:
            cur.next()
            args = self.balanced_args(keep_parens=True) if cur.tok.text == "(" else ""
            return Opaque(f"{dst.text()} = {tok.text}{args}")
        if tok.kind == "id":
            src = self.field()
            if src.symbol.string != dst.symbol.string:
                kind = "string" if src.symbol.string else "integer"
                raise SyntaxError_(f"Can't assign {kind} field ({src.symbol.name}) to "
                                   f"{'string' if dst.symbol.string else 'integer'} field "
                                   f"({dst.symbol.name}).")
            return Move(dst, src)
        c = cur.next().const
        if c is None:
            raise SyntaxError_(f"Syntax error at `{tok.text}' expecting constant.")
        if dst.symbol.string != c.is_string:
            kind = "string" if dst.symbol.string else "integer"
            raise SyntaxError_(f"{dst.symbol.name} requires {kind} value.")
        return Load(dst, c)

    def field(self, rw: bool = False) -> ex.FieldRef:
        ref = ex.parse_field(self.cur)
        if rw and not ref.symbol.rw:
            raise SyntaxError_(f"Field {ref.symbol.name} is not modifiable.")
        if ref.symbol.prereq:
            self.prereqs.append(ref.symbol.prereq)
        return ref

    def balanced_args(self, keep_parens: bool = False) -> str:
        """The text of a parenthesised argument list, tokens re-joined as OVN prints."""
        cur = self.cur
        start = cur.tok.pos
        cur.expect("(")
        depth = 1
        while depth:
            t = cur.next()
            if t.kind == "end":
                cur.error("expecting `)'")
            if t.kind == "punct" and t.text == "(":
                depth += 1
            elif t.kind == "punct" and t.text == ")":
                depth -= 1
        end = cur.toks[cur.i - 1].pos + 1
        text = " ".join(cur.text[start:end].split())
        return text if keep_parens else text[1:-1]


def _backends(raw: str) -> tuple[tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, int],
                                 ...]:
    """`backends=10.0.0.1:80,10.0.0.2:80; hash_fields=...` → ((addr, port), ...)."""
    text = raw.split(";")[0].strip()
    if text.startswith("backends="):
        text = text[len("backends="):]
    out = []
    for item in filter(None, (x.strip() for x in text.split(","))):
        host, _, port = item.rpartition(":") if item.count(":") == 1 or item.startswith("[") \
            else (item, "", "")
        try:
            out.append((ipaddress.ip_address(host.strip("[]")), int(port or 0)))
        except ValueError:
            continue
    return tuple(out)


def parse(text: str, ingress: bool, table: int) -> tuple[tuple[Action, ...], list[str]]:
    """A flow's actions, and the match prerequisites they imply (e.g. `ct_next` → ip)."""
    p = _Parser(Cursor(text), ingress, table, [])
    return p.actions(None), p.prereqs


def format_const(c: Const) -> str:
    """expr_constant_format(): a constant in the form it was written."""
    if c.is_string:
        return json.dumps(c.string)
    value = _format_value(c.value, c.fmt)
    if c.mask is None:
        return value
    width = {"ipv4": 32, "ipv6": 128}.get(c.fmt)
    if width is not None:
        inv = ~c.mask & ((1 << width) - 1)
        if inv & (inv + 1) == 0:
            return f"{value}/{width - inv.bit_length()}"
    return f"{value}/{_format_value(c.mask, c.fmt)}"


def _format_value(v: int, fmt: str) -> str:
    if fmt == "ipv4":
        return str(ipaddress.IPv4Address(v))
    if fmt == "ipv6":
        return str(ipaddress.IPv6Address(v))
    if fmt == "mac":
        raw = f"{v:012x}"
        return ":".join(raw[i:i + 2] for i in range(0, 12, 2))
    if fmt == "hex":
        return f"{v:#x}"
    return str(v)


def format_actions(actions: tuple[Action, ...]) -> str:
    return " ".join(a.text() for a in actions) if actions else "drop;"
