"""The text of an annotated expression, as expr_format() prints it after expr_annotate()
(ovn/lib/expr.c): what ovn-trace shows in "Constraints are ambiguous: ...".  Predicates are
expanded, each comparison is followed by its prerequisites, subfields are written on their
root field in hexadecimal (`reg0[3] == 1` → `xxreg0[99]`, `tcp.dst == 80` →
`tcp.dst == 0x50 && ip.proto == 0x6 && (eth.type == 0x800 || eth.type == 0x86dd)`)."""

from __future__ import annotations

import json
from functools import cache

from ovnlab.controller import expr as ex
from ovnlab.controller.lexer import Const
from ovnlab.controller.symtab import SYMTAB, Symbol
from ovnlab.flows.fields import FIELDS

Tree = str | tuple[str, tuple["Tree", ...]]
_NEG = {"==": "!=", "!=": "==", "<": ">=", ">=": "<", ">": "<=", "<=": ">"}


@cache
def _root(mf: str) -> Symbol | None:
    """The symbol that is the whole meta-flow field (the top of OVN's subfield chain)."""
    for sym in SYMTAB.values():
        if sym.mf == mf and not sym.is_predicate and not sym.string and sym.ofs == 0 \
                and sym.nbits == FIELDS[mf].width:
            return sym
    return None


def _combine(op: str, subs: list[Tree]) -> Tree:
    flat: list[Tree] = []
    for s in subs:
        flat.extend(s[1] if isinstance(s, tuple) and s[0] == op else (s,))
    return flat[0] if len(flat) == 1 else (op, tuple(flat))


def _leaf(ref: ex.FieldRef, relop: str, c: Const) -> str:
    sym = ref.symbol
    if sym.string:
        return f"{sym.name} {relop} {json.dumps(c.string)}"
    root = _root(sym.mf)
    name, width = (root.name, root.nbits) if root else (sym.name, sym.nbits)
    base = sym.ofs + ref.ofs if root else ref.ofs
    mask = ((1 << ref.nbits) - 1 if c.mask is None else c.mask) << base
    value = c.value << base
    if not mask:
        return f"{name} {relop} 0"
    ofs = (mask & -mask).bit_length() - 1
    n = 0
    while mask >> (ofs + n) & 1:
        n += 1
    if n == 1 and relop in ("==", "!="):
        positive = bool(value >> ofs & 1) != (relop == "!=")
        return ("" if positive else "!") + name + (f"[{ofs}]" if width > 1 else "")
    sub = "" if n == width else f"[{ofs}]" if n == 1 else f"[{ofs}..{ofs + n - 1}]"
    bits = (value >> ofs) & ((1 << n) - 1)
    return f"{name}{sub} {relop} {f'{bits:#x}' if bits else '0'}"


def _annotate(node: ex.Node, ctx: ex.Context, negate: bool) -> Tree:
    if isinstance(node, ex.BoolLit):
        return "1" if node.value != negate else "0"
    if isinstance(node, ex.Not):
        return _annotate(node.sub, ctx, not negate)
    if isinstance(node, ex.AndOr):
        op = node.op if not negate else ("||" if node.op == "&&" else "&&")
        return _combine(op, [_annotate(s, ctx, negate) for s in node.subs])
    if isinstance(node, ex.Resident):
        return f"{'!' if negate else ''}is_chassis_resident({json.dumps(node.port)})"
    if isinstance(node, ex.Pred):
        return _annotate(ex.parse_match(SYMTAB[node.name].predicate), ctx, negate)
    relop = _NEG[node.relop] if negate else node.relop
    sym = node.ref.symbol
    values = ex._expand_sets(node.values, sym, ctx)
    body = _combine("&&" if relop == "!=" else "||",
                    [_leaf(node.ref, relop, c) for c in values]) if values else "0"
    if not sym.prereq:
        return body
    return _combine("&&", [body, _annotate(ex.parse_match(sym.prereq), ctx, False)])


def _format(tree: Tree) -> str:
    if isinstance(tree, str):
        return tree
    op, subs = tree
    return f" {op} ".join(f"({_format(s)})" if isinstance(s, tuple) else s for s in subs)


def annotated(text: str, ctx: ex.Context) -> str:
    """`text` parsed and annotated, printed as OVN prints an annotated expression."""
    return _format(_annotate(ex.parse_match(text), ctx, False))
