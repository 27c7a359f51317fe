"""Tokens of OVN's logical-flow language (ovn/lib/lex.c), shared by matches and actions."""

from __future__ import annotations

import ipaddress
import re
from typing import NamedTuple

from ovnlab.errors import OvnlabError


class SyntaxError_(OvnlabError):  # noqa: N801 - mirrors OVN's "Syntax error" wording
    """A logical-flow match/action that does not parse (OVN logs `Syntax error at ...`)."""


class Const(NamedTuple):
    """An integer constant (value, optional mask, its textual format) or a string."""

    value: int = 0
    mask: int | None = None
    fmt: str = "int"  # int | hex | ipv4 | ipv6 | mac | string
    string: str = ""

    @property
    def is_string(self) -> bool:
        return self.fmt == "string"


class Token(NamedTuple):
    kind: str  # id, const, punct, end
    text: str
    const: Const | None = None
    pos: int = 0


_ID = re.compile(r"[A-Za-z_$@][A-Za-z0-9_.]*")
_MAC = re.compile(r"[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}")
_IP4 = re.compile(r"\d{1,3}(\.\d{1,3}){3}")
_IP6 = re.compile(r"[0-9a-fA-F:]*:[0-9a-fA-F:.]*")
_HEX = re.compile(r"0[xX][0-9a-fA-F]+")
_DEC = re.compile(r"\d+")


def _scan_value(text: str, i: int) -> tuple[Const, int] | None:
    for rx, fmt in ((_MAC, "mac"), (_IP4, "ipv4")):
        m = rx.match(text, i)
        if m and not (m.end() < len(text) and (text[m.end()].isalnum())):
            s = m.group(0)
            if fmt == "mac":
                return Const(int(s.replace(":", ""), 16), None, "mac"), m.end()
            try:
                return Const(int(ipaddress.IPv4Address(s)), None, "ipv4"), m.end()
            except ValueError:
                raise SyntaxError_(f"Syntax error at `{s}' invalid IPv4 address.") from None
    m = _IP6.match(text, i)
    if m and m.group(0).count(":") >= 2:
        try:
            return Const(int(ipaddress.IPv6Address(m.group(0))), None, "ipv6"), m.end()
        except ValueError:
            pass
    m = _HEX.match(text, i)
    if m:
        return Const(int(m.group(0), 16), None, "hex"), m.end()
    m = _DEC.match(text, i)
    if m:
        return Const(int(m.group(0)), None, "int"), m.end()
    return None


def _with_mask(text: str, c: Const, i: int) -> tuple[Const, int]:
    """`10.0.0.0/8`, `0x10/0x10`, `ff:ff:..:../01:..`: a masked constant."""
    if i < len(text) and text[i] == "/":
        nxt = _scan_value(text, i + 1)
        if nxt is None:
            raise SyntaxError_(f"Syntax error at `{text[i:i + 10]}' expecting mask.")
        m, j = nxt
        width = {"ipv4": 32, "ipv6": 128, "mac": 48}.get(c.fmt)
        if width and m.fmt in ("int",) and m.value <= width:
            mask = ((1 << width) - 1) ^ ((1 << (width - m.value)) - 1)
        else:
            mask = m.value
        if c.value & ~mask:
            raise SyntaxError_(f"Syntax error at `{text[i - 1:j]}' Value contains unmasked 1-bits.")
        return Const(c.value, mask, c.fmt), j
    return c, i


_MASTER = re.compile(r"""\s*(?:
    (?P<comment>/\*.*?\*/|//[^\n]*)
  | (?P<string>"(?:[^"\\]|\\.)*")
  | (?P<mac>[0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){5})(?![0-9a-zA-Z:])
  | (?P<ip4>\d{1,3}(?:\.\d{1,3}){3})(?![0-9a-zA-Z.])
  | (?P<ip6>[0-9a-fA-F]*:[0-9a-fA-F]*:[0-9a-fA-F:.]*)
  | (?P<hex>0[xX][0-9a-fA-F]+)
  | (?P<dec>\d+)
  | (?P<id>[A-Za-z_$@][A-Za-z0-9_.]*)
  | (?P<punct><->|&&|\|\||==|!=|<=|>=|\.\.|--|->|[(){}\[\],;=!<>/:-])
  | (?P<ws>$))""", re.X | re.S)


def _const(kind: str, text: str) -> Const:
    if kind == "mac":
        return Const(int(text.replace(":", ""), 16), None, "mac")
    if kind == "ip4":
        a, b, c, d = (int(x) for x in text.split("."))
        if max(a, b, c, d) > 255:
            raise SyntaxError_(f"Syntax error at `{text}' invalid IPv4 address.")
        return Const((a << 24) | (b << 16) | (c << 8) | d, None, "ipv4")
    if kind == "ip6":
        try:
            return Const(int(ipaddress.IPv6Address(text)), None, "ipv6")
        except ValueError:
            raise SyntaxError_(f"Syntax error at `{text}' invalid IPv6 address.") from None
    if kind == "hex":
        return Const(int(text, 16), None, "hex")
    return Const(int(text), None, "int")


def tokenize(text: str) -> list[Token]:
    out: list[Token] = []
    i, n = 0, len(text)
    match = _MASTER.match
    append = out.append
    while i < n:
        m = match(text, i)
        if m is None:
            i = n - len(text[i:].lstrip())
            if text.startswith("/*", i):
                raise SyntaxError_(f"Syntax error at `{text[i:i + 10]}' unterminated comment.")
            if text[i] == '"':
                raise SyntaxError_(f"Syntax error at `{text[i:]}' unterminated string.")
            raise SyntaxError_(f"Syntax error at `{text[i:i + 10]}' unexpected character.")
        kind = m.lastgroup
        j = m.end()
        i = m.start(kind) if kind else j
        if kind == "ws" or kind == "comment":
            pass
        elif kind == "id":
            append(Token("id", m.group(kind), None, i))
        elif kind == "punct":
            append(Token("punct", m.group(kind), None, i))
        elif kind == "string":
            raw = m.group(kind)[1:-1]
            s = re.sub(r"\\(.)", r"\1", raw) if "\\" in raw else raw
            append(Token("const", s, Const(fmt="string", string=s), i))
        else:
            c = _const(kind or "", m.group(kind or 0))
            if j < n and text[j] == "/":
                c, j = _with_mask(text, c, j)
            append(Token("const", text[i:j], c, i))
        i = j
    append(Token("end", "", None, n))
    return out


class Cursor:
    """A token stream with OVN-style error messages."""

    __slots__ = ("text", "toks", "i", "tok")

    def __init__(self, text: str) -> None:
        self.text = text
        self.toks = tokenize(text)
        self.i = 0
        self.tok: Token = self.toks[0]

    def peek(self, k: int = 1) -> Token:
        return self.toks[min(self.i + k, len(self.toks) - 1)]

    def next(self) -> Token:
        t = self.tok
        if t.kind != "end":
            self.i += 1
            self.tok = self.toks[self.i]
        return t

    def match(self, punct: str) -> bool:
        t = self.tok
        if t.text == punct and t.kind == "punct":
            self.i += 1
            self.tok = self.toks[self.i]
            return True
        return False

    def match_id(self, word: str) -> bool:
        t = self.tok
        if t.text == word and t.kind == "id":
            self.i += 1
            self.tok = self.toks[self.i]
            return True
        return False

    def expect(self, punct: str) -> None:
        if not self.match(punct):
            self.error(f"expecting `{punct}'")

    def error(self, msg: str) -> None:
        t = self.tok
        at = t.text if t.kind != "end" else "end of input"
        raise SyntaxError_(f"Syntax error at `{at}' {msg}.")

    def at_end(self) -> bool:
        return self.tok.kind == "end"
