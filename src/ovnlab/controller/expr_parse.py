"""OVN match expressions parsed (ovn/lib/expr.c `expr_parse`, OVN 22.03): the syntax tree,
with negations pushed into comparisons. `expr` annotates and compiles it."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from ovnlab.controller.lexer import Const, Cursor, SyntaxError_
from ovnlab.controller.symtab import SYMTAB, Symbol

# ------------------------------------------------------------------ AST


@dataclass(frozen=True, slots=True)
class FieldRef:
    symbol: Symbol
    ofs: int  # bit offset within the symbol
    nbits: int

    @property
    def whole(self) -> bool:
        return self.ofs == 0 and self.nbits == self.symbol.nbits

    def text(self) -> str:
        if self.whole:
            return self.symbol.name
        if self.nbits == 1:
            return f"{self.symbol.name}[{self.ofs}]"
        return f"{self.symbol.name}[{self.ofs}..{self.ofs + self.nbits - 1}]"


@dataclass(frozen=True, slots=True)
class Cmp:
    ref: FieldRef
    relop: str
    values: tuple[Const, ...]  # a set {a, b} has several


@dataclass(frozen=True, slots=True)
class Pred:  # a predicate or a bare 1-bit field used as a boolean
    name: str


@dataclass(frozen=True, slots=True)
class Resident:
    port: str


@dataclass(frozen=True, slots=True)
class Not:
    sub: Node


@dataclass(frozen=True, slots=True)
class AndOr:
    op: str  # "&&" | "||"
    subs: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class BoolLit:
    value: bool


Node = Cmp | Pred | Resident | Not | AndOr | BoolLit

_RELOPS = ("==", "!=", "<", "<=", ">", ">=")
NEGATE = {"==": "!=", "!=": "==", "<": ">=", ">=": "<", ">": "<=", "<=": ">"}


def parse_field(cur: Cursor) -> FieldRef:
    tok = cur.tok
    if tok.kind != "id":
        cur.error("expecting field name")
    sym = SYMTAB.get(tok.text)
    if sym is None:
        raise SyntaxError_(f"Syntax error at `{tok.text}' expecting field name.") \
            if tok.text[:1] in "$@" else SyntaxError_(f"Syntax error at `{tok.text}' "
                                                        f"expecting field name.")
    cur.next()
    if sym.is_predicate:
        raise SyntaxError_(f"Predicate symbol {sym.name} used where lvalue required.")
    ofs, nbits = 0, sym.nbits
    if cur.match("["):
        lo = _int(cur)
        hi = lo
        if cur.match(".."):
            hi = _int(cur)
        cur.expect("]")
        if hi < lo or hi >= sym.nbits:
            raise SyntaxError_(f"Invalid bit range {lo} to {hi} for {sym.nbits}-bit field "
                               f"{sym.name}.")
        ofs, nbits = lo, hi - lo + 1
    return FieldRef(sym, ofs, nbits)


def _int(cur: Cursor) -> int:
    t = cur.next()
    if t.kind != "const" or t.const is None or t.const.is_string:
        raise SyntaxError_(f"Syntax error at `{t.text}' expecting integer.")
    return t.const.value


@lru_cache(maxsize=65536)
def parse_match(text: str) -> Node:
    """The AST of a match (immutable, so parses are shared)."""
    cur = Cursor(text)
    if cur.at_end():
        return BoolLit(True)
    node = _parse_or_and(cur)
    if not cur.at_end():
        cur.error("expecting end of input")
    return node


def _parse_or_and(cur: Cursor) -> Node:
    first = _parse_term(cur)
    if cur.tok.kind != "punct" or cur.tok.text not in ("&&", "||"):
        return first
    op = cur.tok.text
    subs = [first]
    while cur.match(op):
        subs.append(_parse_term(cur))
    if cur.tok.kind == "punct" and cur.tok.text in ("&&", "||"):
        raise SyntaxError_(f"Syntax error at `{cur.tok.text}' && and || must be parenthesized "
                           f"when used together.")
    return AndOr(op, tuple(subs))


def _parse_term(cur: Cursor) -> Node:
    if cur.match("!"):
        return Not(_parse_term(cur))
    if cur.match("("):
        node = _parse_or_and(cur)
        cur.expect(")")
        return node
    tok = cur.tok
    if tok.kind == "const" and tok.const is not None and not tok.const.is_string \
            and tok.const.value in (0, 1) and tok.const.mask is None:
        nxt = cur.peek()
        if not (nxt.kind == "punct" and nxt.text in _RELOPS):
            cur.next()
            return BoolLit(bool(tok.const.value))
    if tok.kind == "id" and tok.text == "is_chassis_resident":
        cur.next()
        cur.expect("(")
        t = cur.next()
        if t.kind != "const" or t.const is None or not t.const.is_string:
            raise SyntaxError_(f"Syntax error at `{t.text}' expecting string.")
        cur.expect(")")
        return Resident(t.const.string)
    if tok.kind != "id":
        cur.error("expecting field name")
    sym = SYMTAB.get(tok.text)
    if sym is None:
        raise SyntaxError_(f"Syntax error at `{tok.text}' expecting field name.")
    if sym.is_predicate:
        cur.next()
        return Pred(sym.name)
    ref = parse_field(cur)
    if cur.tok.kind == "punct" and cur.tok.text in _RELOPS:
        relop = cur.next().text
        return Cmp(ref, relop, _parse_values(cur))
    if ref.nbits != 1:
        raise SyntaxError_("Explicit `!= 0' is required for inequality test of multibit "
                           "field against 0.")
    return Cmp(ref, "==", (Const(1),))


def _parse_values(cur: Cursor) -> tuple[Const, ...]:
    if cur.match("{"):
        vals: list[Const] = []
        while not cur.match("}"):
            vals.extend(_parse_value(cur))
            cur.match(",")
        return tuple(vals)
    return tuple(_parse_value(cur))


def _parse_value(cur: Cursor) -> list[Const]:
    t = cur.next()
    if t.kind == "id" and t.text[:1] in "$@":
        return [Const(fmt="set", string=t.text)]
    if t.kind != "const" or t.const is None:
        raise SyntaxError_(f"Syntax error at `{t.text}' expecting constant.")
    return [t.const]
