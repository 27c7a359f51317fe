"""pcap-filter syntax: libpcap 1.10's lexer and grammar, producing an AST for pcapfilter.

Parsing only; names, numbers and qualifiers get their meaning (and their errors, such as
"unknown host") when pcapfilter compiles the tree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ovnlab.packet import ETH_ARP, ETH_IP, ETH_IPV6


class FilterError(ValueError):
    """An expression tcpdump rejects; `message` is what follows "tcpdump: "."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _syntax() -> FilterError:
    return FilterError("can't parse filter expression: syntax error")


# --------------------------------------------------------------------- lexer
PROTOCOLS = {"ether", "link", "ip", "arp", "rarp", "ip6", "tcp", "udp", "icmp", "igmp", "sctp",
             "icmp6", "vrrp", "pim", "ah", "esp"}
DIRECTIONS = {"src", "dst"}
ADDRESSES = {"host", "net", "port", "portrange", "gateway"}
KEYWORDS = PROTOCOLS | DIRECTIONS | ADDRESSES | {
    "and", "or", "not", "proto", "mask", "broadcast", "multicast", "less", "greater", "len",
    "vlan", "geneve", "inbound", "outbound", "protochain", "mpls", "pppoed", "pppoes"}
NAMED_NUMBERS = {
    "icmptype": 0, "icmpcode": 1, "icmp-echoreply": 0, "icmp-unreach": 3,
    "icmp-sourcequench": 4, "icmp-redirect": 5, "icmp-echo": 8, "icmp-routeradvert": 9,
    "icmp-routersolicit": 10, "icmp-timxceed": 11, "icmp-paramprob": 12, "icmp-tstamp": 13,
    "icmp-tstampreply": 14, "icmp-ireq": 15, "icmp-ireqreply": 16, "icmp-maskreq": 17,
    "icmp-maskreply": 18, "tcpflags": 13, "tcp-fin": 0x01, "tcp-syn": 0x02, "tcp-rst": 0x04,
    "tcp-push": 0x08, "tcp-ack": 0x10, "tcp-urg": 0x20, "tcp-ece": 0x40, "tcp-cwr": 0x80,
}
IP_PROTO_BY_NAME = {"icmp": 1, "igmp": 2, "tcp": 6, "udp": 17, "gre": 47, "esp": 50, "ah": 51,
                    "ospf": 89, "pim": 103, "vrrp": 112, "sctp": 132}
ETHER_PROTO_BY_NAME = {"ip": ETH_IP, "arp": ETH_ARP, "rarp": 0x8035, "ip6": ETH_IPV6}

_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<op>&&|\|\||==|!=|>=|<=|<<|>>|[()!\[\]:&|+\-*/%^<>=])
  | (?P<word>\\?[A-Za-z0-9_][-A-Za-z0-9_.:]*)
""", re.VERBOSE)
_MAC = re.compile(r"^[0-9A-Fa-f]{1,2}([:.-])[0-9A-Fa-f]{1,2}(\1[0-9A-Fa-f]{1,2}){4}$"
                  r"|^[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}$")
_HID = re.compile(r"^\d+(\.\d+){1,3}$")
_NUM = re.compile(r"^(0[xX][0-9A-Fa-f]+|\d+)$")


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # "op", "kw", "num", "hid", "eid", "id", "end"
    text: str
    value: int = 0


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise _syntax()
        pos = m.end()
        if m.lastgroup == "ws":
            continue
        word = m.group()
        if m.lastgroup == "word" and ":" in word and not _MAC.match(word):
            if word.count(":") > 1:  # libpcap's lexer stops after the last colon
                raise FilterError(f"bogus ethernet address {word[:word.rindex(':') + 1]}")
            word = word[:word.index(":")]  # `tcp[2:2]`: a number, then the ":" operator
            pos = m.start() + len(word)
        if m.lastgroup == "op":
            tokens.append(Token("op", word))
        elif word.startswith("\\"):
            tokens.append(Token("id", word[1:]))
        elif word in KEYWORDS:
            tokens.append(Token("kw", word))
        elif word in NAMED_NUMBERS:
            tokens.append(Token("num", word, NAMED_NUMBERS[word]))
        elif _NUM.match(word):
            try:
                value = int(word, 8) if _octal(word) else int(word, 0)
            except ValueError:
                raise FilterError(f"number {word} contains non-octal digit") from None
            tokens.append(Token("num", word, value))
        elif _HID.match(word):
            tokens.append(Token("hid", word))
        elif _MAC.match(word):
            tokens.append(Token("eid", word))
        else:
            tokens.append(Token("id", word))
    tokens.append(Token("end", ""))
    return tokens


def _octal(word: str) -> bool:
    return len(word) > 1 and word[0] == "0" and word[1] not in "xX"


# --------------------------------------------------------------------- AST
@dataclass(frozen=True, slots=True)
class Qual:
    proto: str | None = None  # pname or None (default)
    dir: str | None = None    # "src", "dst", "src or dst", "src and dst" or None
    addr: str | None = None   # host/net/port/portrange/proto/gateway or None (default)


QERR = Qual(proto="<error>")  # libpcap's qerr: a bare id after this is an error


@dataclass(frozen=True, slots=True)
class Node:
    pass


@dataclass(frozen=True, slots=True)
class And(Node):
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Or(Node):
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Not(Node):
    inner: Node


@dataclass(frozen=True, slots=True)
class Id(Node):
    """An address / number / name with the qualifiers that apply to it."""

    token: Token
    qual: Qual
    layer: tuple[str, ...]
    mask_len: int | None = None  # HID/len
    mask: Token | None = None    # HID mask HID


@dataclass(frozen=True, slots=True)
class Proto(Node):
    name: str
    layer: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Other(Node):
    """broadcast, multicast, less, greater, vlan, geneve."""

    what: str
    proto: str | None
    number: int | None
    layer: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Arith:
    op: str  # "num", "len", "load", "neg", or a binary operator
    value: int = 0
    proto: str = ""
    size: int = 1
    args: tuple[Arith, ...] = ()
    layer: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Relation(Node):
    op: str
    left: Arith
    right: Arith


# --------------------------------------------------------------------- parser
_BINARY_LEVELS = (("|",), ("^",), ("&",), ("<<", ">>"), ("+", "-"), ("*", "/", "%"))
_RELOPS = {">", ">=", "<", "<=", "=", "==", "!="}


class Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.pos = 0
        self.layer: tuple[str, ...] = ()  # vlan/geneve seen so far, in parse order

    # ------------------------------------------------------------ helpers
    @property
    def tok(self) -> Token:
        return self.tokens[self.pos]

    def peek(self, n: int = 1) -> Token:
        return self.tokens[min(self.pos + n, len(self.tokens) - 1)]

    def is_(self, kind: str, *texts: str) -> bool:
        return self.tok.kind == kind and (not texts or self.tok.text in texts)

    def take(self) -> Token:
        tok = self.tok
        self.pos += 1
        return tok

    def expect_op(self, text: str) -> None:
        if not self.is_("op", text):
            raise _syntax()
        self.pos += 1

    def at_and(self) -> bool:
        return self.is_("kw", "and") or self.is_("op", "&&")

    def at_or(self) -> bool:
        return self.is_("kw", "or") or self.is_("op", "||")

    def at_not(self) -> bool:
        return self.is_("kw", "not") or self.is_("op", "!")

    # ------------------------------------------------------------ grammar
    def program(self) -> Node | None:
        if self.is_("end"):
            return None
        node, _ = self.expr(QERR)
        if not self.is_("end"):
            raise _syntax()
        return node

    def expr(self, q0: Qual) -> tuple[Node, Qual]:
        node, q = self.term(q0)
        while self.at_and() or self.at_or():
            combine: type[And] | type[Or] = And if self.at_and() else Or
            self.pos += 1
            rhs, q = self.id_or_term(q)
            node = combine(node, rhs)
        return node, q

    def id_or_term(self, q: Qual) -> tuple[Node, Qual]:
        start, layer = self.pos, self.layer
        if self.starts_id():
            try:
                node = self.id_(q)
                if self.is_("end") or self.at_and() or self.at_or() or self.is_("op", ")"):
                    return node, q
            except FilterError as err:
                if err.message != _syntax().message:
                    raise
            self.pos, self.layer = start, layer
        return self.term(q)

    def starts_id(self) -> bool:
        return (self.tok.kind in ("id", "hid", "num", "eid") or self.is_("op", "(")
                or self.at_not())

    def term(self, q0: Qual) -> tuple[Node, Qual]:
        if self.at_not():
            self.pos += 1
            node, q = self.term(q0)
            return Not(node), q
        return self.rterm(q0)

    def rterm(self, q0: Qual) -> tuple[Node, Qual]:
        tok = self.tok
        if self.is_("op", "("):
            start, layer = self.pos, self.layer
            try:
                self.pos += 1
                node, _ = self.expr(q0)
                self.expect_op(")")
                if not self.at_relop_or_arith():
                    return node, q0
            except FilterError as err:
                if err.message != _syntax().message:
                    raise
            self.pos, self.layer = start, layer
            return self.relation(), QERR
        if tok.kind == "kw":
            word = tok.text
            nxt = self.peek()
            if word in PROTOCOLS:
                if nxt.kind == "op" and nxt.text == "[":
                    return self.relation(), QERR
                if nxt.kind == "kw" and nxt.text in DIRECTIONS | ADDRESSES | {"proto"}:
                    return self.head_id()
                if nxt.kind == "kw" and nxt.text in ("broadcast", "multicast"):
                    self.pos += 2
                    return Other(nxt.text, word, None, self.layer), QERR
                self.pos += 1
                if word in ("ether", "link"):
                    raise FilterError("link layer applied in wrong context")
                return Proto(word, self.layer), QERR
            if word in DIRECTIONS | ADDRESSES or word == "proto":
                return self.head_id()
            if word in ("broadcast", "multicast"):
                self.pos += 1
                return Other(word, None, None, self.layer), QERR
            if word in ("less", "greater"):
                self.pos += 1
                if not self.is_("num"):
                    raise _syntax()
                return Other(word, None, self.take().value, self.layer), QERR
            if word in ("vlan", "geneve"):
                self.pos += 1
                number = self.take().value if self.is_("num") else None
                node = Other(word, None, number, self.layer)
                self.layer = self.layer + (word,)
                return node, QERR
            if word == "len":
                return self.relation(), QERR
            if word in ("inbound", "outbound"):
                self.pos += 1
                return Other(word, None, None, ()), QERR
            raise _syntax()
        if tok.kind == "num" or self.is_("op", "-"):
            return self.relation(), QERR
        raise _syntax()

    def at_relop_or_arith(self) -> bool:
        return self.tok.kind == "op" and self.tok.text not in ("(", ")", "!", "&&", "||")

    def head_id(self) -> tuple[Node, Qual]:
        proto = dir_ = addr = None
        if self.is_("kw") and self.tok.text in PROTOCOLS:
            proto = self.take().text
        if self.is_("kw") and self.tok.text in DIRECTIONS:
            dir_ = self.take().text
            nxt = self.peek()
            if (self.at_and() or self.at_or()) and nxt.kind == "kw" and nxt.text in DIRECTIONS:
                joiner = "and" if self.at_and() else "or"
                self.pos += 2
                dir_ = f"src {joiner} dst"
        if self.is_("kw") and (self.tok.text in ADDRESSES or self.tok.text == "proto"):
            if dir_ is not None and self.tok.text == "proto":
                raise _syntax()
            addr = self.take().text
        if proto is None and dir_ is None and addr is None:
            raise _syntax()
        q = Qual(proto, dir_, addr)
        return self.id_(q), q

    def id_(self, q: Qual) -> Node:
        if self.at_not():
            self.pos += 1
            return Not(self.id_(q))
        if self.is_("op", "("):
            self.pos += 1
            node = self.id_(q)
            while self.at_and() or self.at_or():
                combine: type[And] | type[Or] = And if self.at_and() else Or
                self.pos += 1
                node = combine(node, self.id_(q))
            self.expect_op(")")
            return node
        tok = self.tok
        if tok.kind == "hid":
            self.pos += 1
            if self.is_("op", "/"):
                self.pos += 1
                if not self.is_("num"):
                    raise _syntax()
                return Id(tok, q, self.layer, mask_len=self.take().value)
            if self.is_("kw", "mask"):
                self.pos += 1
                if not self.is_("hid"):
                    raise _syntax()
                return Id(tok, q, self.layer, mask=self.take())
            return Id(tok, q, self.layer)
        if tok.kind == "num" and self.peek().kind == "op" and self.peek().text == "/":
            self.pos += 2
            if not self.is_("num"):
                raise _syntax()
            return Id(tok, q, self.layer, mask_len=self.take().value)
        if tok.kind in ("id", "num", "eid"):
            self.pos += 1
            return Id(tok, q, self.layer)
        raise _syntax()

    # ------------------------------------------------------------ arithmetic
    def relation(self) -> Relation:
        left = self.arith(0)
        if not (self.tok.kind == "op" and self.tok.text in _RELOPS):
            raise _syntax()
        op = self.take().text
        return Relation("==" if op == "=" else op, left, self.arith(0))

    def arith(self, level: int) -> Arith:
        if level == len(_BINARY_LEVELS):
            return self.unary()
        node = self.arith(level + 1)
        while self.tok.kind == "op" and self.tok.text in _BINARY_LEVELS[level]:
            op = self.take().text
            node = Arith(op, args=(node, self.arith(level + 1)))
        return node

    def unary(self) -> Arith:
        if self.is_("op", "-"):
            self.pos += 1
            return Arith("neg", args=(self.unary(),))
        if self.is_("op", "("):
            self.pos += 1
            node = self.arith(0)
            self.expect_op(")")
            return node
        if self.is_("num"):
            return Arith("num", value=self.take().value)
        if self.is_("kw", "len"):
            self.pos += 1
            return Arith("len")
        if self.is_("kw") and self.tok.text in PROTOCOLS and self.peek().text == "[":
            proto = self.take().text
            self.pos += 1
            offset = self.arith(0)
            size = 1
            if self.is_("op", ":"):
                self.pos += 1
                if not self.is_("num"):
                    raise _syntax()
                size = self.take().value
                if size not in (1, 2, 4):
                    raise FilterError("data size must be 1, 2, or 4")
            self.expect_op("]")
            return Arith("load", proto="ether" if proto == "link" else proto, size=size,
                         args=(offset,), layer=self.layer)
        raise _syntax()
