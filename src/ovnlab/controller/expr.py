"""OVN match expressions → OpenFlow matches (ovn/lib/expr.c, OVN 22.03).

Pipeline, as in expr.c: parse (negations pushed into comparisons), annotate (expand
predicates, add field prerequisites, resolve `$address_set`/`@port_group`, evaluate
`is_chassis_resident`, resolve port names to tunnel keys), simplify (`!=` → disjunction
of single-bit matches, `<`/`>` → masked matches), normalize to OR(AND(clause)) where a
clause is a comparison or a disjunction over one field, then to OpenFlow matches:
disjunctions become several flows; an AND with two or more disjunctive clauses becomes
a conjunctive match (`conjunction(id,k/n)` flows plus one `conj_id=` flow).
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from ovnlab.controller.expr_parse import (  # the parsed tree, annotated here
    NEGATE,
    AndOr,
    BoolLit,
    Cmp,
    FieldRef,
    Node,
    Not,
    Pred,
    Resident,
    _int,
    parse_field,
    parse_match,
)
from ovnlab.controller.lexer import Const, SyntaxError_
from ovnlab.controller.symtab import SYMTAB, Symbol
from ovnlab.flows.fields import FIELDS
from ovnlab.flows.fields import field as of_field
from ovnlab.flows.match import Conflict, MatchBuilder

__all__ = ["FALSE", "TRUE", "And", "AndOr", "BoolLit", "Cmp", "Context", "Eq", "Expr",
           "ExprMatch", "FieldRef", "Node", "Not", "Or", "Pred", "Resident", "_int",
           "annotate", "compile_match", "parse_address", "parse_field", "parse_match",
           "to_matches"]

# ------------------------------------------------------------------ annotation


@dataclass(frozen=True, slots=True)
class Eq:
    """`mf & mask == value` over the whole meta-flow field (OVN's annotated cmp)."""

    mf: str
    value: int
    mask: int


@dataclass(frozen=True, slots=True)
class And:
    subs: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Or:
    subs: tuple[Expr, ...]


Expr = Eq | And | Or | BoolLit

TRUE = BoolLit(True)
FALSE = BoolLit(False)
_CROSS = frozenset(s.mf for s in SYMTAB.values() if s.must_crossproduct and s.mf)


@dataclass
class Context:
    """What annotation needs from the outside world (lflow.c's callbacks)."""

    lookup_port: Callable[[str], int | None] = lambda name: None
    is_chassis_resident: Callable[[str], bool] = lambda name: False
    address_sets: Mapping[str, Sequence[str]] = field(default_factory=dict)
    port_groups: Mapping[str, Sequence[str]] = field(default_factory=dict)
    refs: set[str] = field(default_factory=set)  # "$as"/"@pg"/"port" names used


def annotate(node: Node, ctx: Context, negate: bool = False, depth: int = 0) -> Expr:
    if depth > 32:
        raise SyntaxError_("Recursive expansion of symbol.")
    if isinstance(node, BoolLit):
        return BoolLit(node.value != negate)
    if isinstance(node, Not):
        return annotate(node.sub, ctx, not negate, depth)
    if isinstance(node, AndOr):
        subs = tuple(annotate(s, ctx, negate, depth) for s in node.subs)
        conj = (node.op == "&&") != negate
        return _and(subs) if conj else _or(subs)
    if isinstance(node, Resident):
        ctx.refs.add(f"resident:{node.port}")
        return BoolLit(ctx.is_chassis_resident(node.port) != negate)
    if isinstance(node, Pred):
        return _expansion(SYMTAB[node.name].predicate, negate)
    return _annotate_cmp(node, ctx, negate, depth)


@lru_cache(maxsize=1024)
def _expansion(text: str, negate: bool) -> Expr:
    """A predicate or prerequisite, annotated once (they name no ports and no chassis)."""
    return annotate(parse_match(text), Context(), negate, 1)


def _annotate_cmp(node: Cmp, ctx: Context, negate: bool, depth: int) -> Expr:
    relop = NEGATE[node.relop] if negate else node.relop
    ref = node.ref
    sym = ref.symbol
    consts = _expand_sets(node.values, sym, ctx)
    mf = of_field(sym.mf)
    base = sym.ofs + ref.ofs
    width = ref.nbits
    full = (1 << width) - 1
    terms: list[Expr] = []
    for c in consts:
        if sym.string:
            if not c.is_string:
                raise SyntaxError_(f"{sym.name} requires string value.")
            if relop not in ("==", "!="):
                raise SyntaxError_("Only == and != operators may be used to compare a "
                                   "field against a string value.")
            key = ctx.lookup_port(c.string)
            ctx.refs.add(c.string)
            if key is None:
                terms.append(FALSE if relop == "==" else TRUE)
                continue
            value, mask = key, full
        else:
            if c.is_string:
                raise SyntaxError_(f"{sym.name} requires integer value.")
            value = c.value
            mask = full if c.mask is None else c.mask
            if value > full or mask > full:
                raise SyntaxError_(f"{value:#x} exceeds {width}-bit field {ref.text()}.")
        terms.append(_relational(mf.name, base, width, relop, value, mask))
    if relop == "!=":
        cmp: Expr = _and(tuple(terms))
    else:
        cmp = _or(tuple(terms))
    prereq = _expansion(sym.prereq, False) if sym.prereq else TRUE
    return _and((cmp, prereq))


def _expand_sets(values: tuple[Const, ...], sym: Symbol, ctx: Context) -> list[Const]:
    out: list[Const] = []
    for c in values:
        if c.fmt != "set":
            out.append(c)
            continue
        name = c.string
        ctx.refs.add(name)
        if name.startswith("$"):
            if sym.string:
                raise SyntaxError_(f"Address set {name} used with string field {sym.name}.")
            for addr in ctx.address_sets.get(name[1:], ()):
                out.append(parse_address(addr))
        else:
            if not sym.string:
                raise SyntaxError_(f"Port group {name} used with integer field {sym.name}.")
            for port in ctx.port_groups.get(name[1:], ()):
                out.append(Const(fmt="string", string=port))
    return out


@functools.lru_cache(maxsize=65536)  # address sets are re-expanded on every recompile
def parse_address(text: str) -> Const:
    if "/" in text or "." in text or (":" in text and text.count(":") != 5):
        net = ipaddress.ip_network(text, strict=False)
        width = net.max_prefixlen
        mask = ((1 << width) - 1) ^ ((1 << (width - net.prefixlen)) - 1)
        return Const(int(net.network_address), None if net.prefixlen == width else mask,
                     "ipv4" if width == 32 else "ipv6")
    if text.count(":") == 5:
        return Const(int(text.replace(":", ""), 16), None, "mac")
    return Const(int(text, 0))


def _relational(mf: str, base: int, width: int, relop: str, value: int, mask: int) -> Expr:
    """One comparison of mf[base..base+width) as equality terms (expr_simplify)."""

    def eq(v: int, m: int) -> Expr:
        if m == 0:
            return TRUE
        return Eq(mf, v << base, m << base)

    if relop == "==":
        return eq(value & mask, mask)
    if relop == "!=":
        bits = [i for i in range(width) if mask >> i & 1]
        if not bits:
            return FALSE
        return _or(tuple(eq((~value >> i & 1) << i, 1 << i) for i in bits))
    if mask != (1 << width) - 1:
        raise SyntaxError_("Only == and != operators may be used with masked constants.")
    lt = relop in ("<", "<=")
    inclusive = relop in ("<=", ">=")
    if value == (mask if lt else 0):
        # "tcp.dst <= 65535", "tcp.dst >= 0" are true; "< 65535", "> 0" mean "!=".
        return TRUE if inclusive else _relational(mf, base, width, "!=", value, mask)
    # expr_simplify_relational: e.g. x < v  ==  OR over 1-bits z of v of
    # (x[z] == 0 and x[z+1..] == v[z+1..]).
    start, end = 0, width
    terms: list[Expr] = []
    if inclusive:
        terms.append(eq(value, mask))
    for z in range(start, end):
        if ((value >> z) & 1) != (1 if lt else 0):
            continue
        v = value ^ (1 << z)
        v &= ~((1 << z) - 1)
        m = mask & ~((1 << z) - 1)
        terms.append(eq(v, m))
    if not terms:
        return FALSE
    return _or(tuple(terms))


def _and(subs: tuple[Expr, ...]) -> Expr:
    flat: list[Expr] = []
    for s in subs:
        if isinstance(s, BoolLit):
            if not s.value:
                return FALSE
            continue
        flat.extend(s.subs if isinstance(s, And) else (s,))
    if not flat:
        return TRUE
    return flat[0] if len(flat) == 1 else And(tuple(flat))


def _or(subs: tuple[Expr, ...]) -> Expr:
    flat: list[Expr] = []
    for s in subs:
        if isinstance(s, BoolLit):
            if s.value:
                return TRUE
            continue
        flat.extend(s.subs if isinstance(s, Or) else (s,))
    if not flat:
        return FALSE
    return flat[0] if len(flat) == 1 else Or(tuple(flat))


# ------------------------------------------------------------------ normalize


@dataclass
class _Term:
    fixed: MatchBuilder
    clauses: list[list[Eq]]


def _unique_mf(e: Or) -> str | None:
    mfs = set()
    for s in e.subs:
        if not isinstance(s, Eq):
            return None
        mfs.add(s.mf)
    if len(mfs) != 1:
        return None
    mf = next(iter(mfs))
    return None if mf in _CROSS else mf


def _constrain(m: MatchBuilder, e: Eq) -> bool:
    try:
        m.set_field(FIELDS[e.mf], e.value, e.mask)
        return True
    except Conflict:
        return False


def _dnf(e: Expr, limit: int) -> list[_Term]:
    if isinstance(e, BoolLit):
        return [_Term(MatchBuilder(), [])] if e.value else []
    if isinstance(e, Eq):
        m = MatchBuilder()
        _constrain(m, e)
        return [_Term(m, [])]
    if isinstance(e, Or):
        out: list[_Term] = []
        for s in e.subs:
            out.extend(_dnf(s, limit))
        return out
    terms = [_Term(MatchBuilder(), [])]
    for s in e.subs:
        if isinstance(s, Eq):
            terms = [t for t in terms if _constrain(t.fixed, s)]
        elif isinstance(s, Or) and _unique_mf(s):
            for t in terms:
                t.clauses.append([x for x in s.subs if isinstance(x, Eq)])
        else:
            sub = _dnf(s, limit)
            new: list[_Term] = []
            for t in terms:
                for u in sub:
                    m = t.fixed.copy()
                    try:
                        for slot, (v, mk) in u.fixed.slots.items():
                            m.set(slot, v, mk)
                    except Conflict:
                        continue
                    new.append(_Term(m, [list(c) for c in t.clauses + u.clauses]))
            terms = new
            if len(terms) > limit:
                raise SyntaxError_(f"expression expands to more than {limit} flows")
        if not terms:
            return []
    return terms


def _reduce(t: _Term) -> _Term | None:
    """Drop clause members that contradict the fixed part; fold 1-member clauses."""
    changed = True
    while changed:
        changed = False
        kept: list[list[Eq]] = []
        for clause in t.clauses:
            ok = [e for e in clause if _constrain(t.fixed.copy(), e)]
            if not ok:
                return None
            if len(ok) == 1:
                _constrain(t.fixed, ok[0])
                changed = True
            else:
                kept.append(ok)
        t.clauses = kept
    return t


@dataclass(frozen=True, slots=True)
class ExprMatch:
    """One OpenFlow match of a logical flow; `conj` lists (conj_id, clause, n_clauses) when
    the flow is part of a conjunctive match (its actions are then `conjunction(...)`)."""

    match: MatchBuilder
    conj: tuple[tuple[int, int, int], ...] = ()


def to_matches(e: Expr, limit: int = 100000) -> tuple[list[ExprMatch], int]:
    """Normalized matches and the number of conjunction ids used (ids are 1..n; the caller
    adds its offset).  `conj_id` matches carry a `conj_id` slot."""
    out: dict[MatchBuilder, ExprMatch] = {}
    n_conjs = 0

    def plain(m: MatchBuilder) -> None:
        # A plain flow subsumes a conjunctive clause flow with the same match: the packets
        # it covers get the actions anyway.
        out[m] = ExprMatch(m)

    for raw in _dnf(e, limit):
        t = _reduce(raw)
        if t is None:
            continue
        if not t.clauses:
            plain(t.fixed)
        elif len(t.clauses) == 1:
            for member in t.clauses[0]:
                m = t.fixed.copy()
                if _constrain(m, member):
                    plain(m)
        else:
            n_conjs += 1
            n = len(t.clauses)
            for k, clause in enumerate(t.clauses):
                for member in clause:
                    m = t.fixed.copy()
                    if not _constrain(m, member):
                        continue
                    prev = out.get(m)
                    entry = (n_conjs, k + 1, n)
                    if prev is None:
                        out[m] = ExprMatch(m, (entry,))
                    elif prev.conj and entry not in prev.conj:
                        out[m] = ExprMatch(m, prev.conj + (entry,))
            cm = MatchBuilder({"conj_id": (n_conjs, 0xFFFFFFFF)})
            out[cm] = ExprMatch(cm)
    return list(out.values()), n_conjs


def compile_match(text: str, ctx: Context, prereqs: Expr = TRUE) -> tuple[list[ExprMatch], int]:
    """Parse, annotate and normalize one logical-flow match (plus action prerequisites)."""
    e = annotate(parse_match(text), ctx)
    return to_matches(_and((e, prereqs)))
