"""Any flow built through the fast path prints to text that parses back to the same flow."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ovnlab.flows import (
    Clone,
    Controller,
    Ct,
    CtClear,
    DecTtl,
    Flow,
    Load,
    Mod,
    Move,
    Nat,
    Output,
    Resubmit,
    SubField,
    format_flow,
    make_flow,
    parse_flow,
)

U32 = st.integers(min_value=0, max_value=2**32 - 1)
PORT = st.integers(min_value=1, max_value=0xFEFF)
TABLE = st.integers(min_value=0, max_value=254)


def masked(width: int) -> st.SearchStrategy[int | tuple[int, int]]:
    full = (1 << width) - 1
    value = st.integers(min_value=0, max_value=full)
    return st.one_of(value, st.tuples(value, st.integers(min_value=1, max_value=full)).map(
        lambda vm: (vm[0] & vm[1], vm[1])))


def prefix() -> st.SearchStrategy[tuple[int, int]]:
    return st.tuples(U32, st.integers(min_value=1, max_value=32)).map(
        lambda vp: (vp[0] & ((0xFFFFFFFF << (32 - vp[1])) & 0xFFFFFFFF),
                    (0xFFFFFFFF << (32 - vp[1])) & 0xFFFFFFFF))


@st.composite
def matches(draw: st.DrawFn) -> tuple[dict[str, int | tuple[int, int]], str]:
    proto = draw(st.sampled_from(["", "ip", "tcp", "udp", "icmp", "arp"]))
    m: dict[str, int | tuple[int, int]] = {proto: 1} if proto else {}
    generic = {
        "metadata": masked(64), "pkt_mark": masked(32), "ct_mark": masked(32),
        "ct_zone": st.integers(min_value=0, max_value=0xFFFF), "in_port": PORT,
        "dl_src": masked(48), "dl_dst": masked(48), "tun_id": masked(64),
        "conj_id": U32, "ct_state": masked(8),
        **{f"reg{i}": masked(32) for i in range(0, 16, 3)},
    }
    for name in draw(st.lists(st.sampled_from(sorted(generic)), unique=True, max_size=5)):
        m[name] = draw(generic[name])
    if proto in ("ip", "tcp", "udp", "icmp"):
        if draw(st.booleans()):
            m["nw_dst"] = draw(prefix())
        if draw(st.booleans()):
            m["nw_ttl"] = draw(st.integers(min_value=0, max_value=255))
    if proto in ("tcp", "udp"):
        m["tp_dst"] = draw(st.integers(min_value=0, max_value=0xFFFF))
    if proto == "icmp":
        m["icmp_type"] = draw(st.integers(min_value=0, max_value=255))
    if proto == "arp":
        m["arp_tpa"] = draw(prefix())
        m["arp_op"] = draw(st.integers(min_value=1, max_value=2))
    return m, proto


@st.composite
def subfields(draw: st.DrawFn, nbits: int) -> SubField:
    reg = draw(st.sampled_from([f"reg{i}" for i in range(16)]))
    ofs = draw(st.integers(min_value=0, max_value=32 - nbits))
    return SubField(reg, ofs, nbits)


@st.composite
def actions(draw: st.DrawFn, proto: str) -> list[object]:
    out: list[object] = []
    for _ in range(draw(st.integers(min_value=0, max_value=4))):
        kind = draw(st.sampled_from(["out", "resub", "load", "move", "mod", "ctl", "clone",
                                     "ct_clear", "dec_ttl", "ct"]))
        if kind == "out":
            out.append(Output(draw(PORT)))
        elif kind == "resub":
            out.append(Resubmit(None, draw(TABLE)))
        elif kind == "load":
            n = draw(st.integers(min_value=1, max_value=32))
            sf = draw(subfields(n))
            out.append(Load(sf, draw(st.integers(min_value=0, max_value=(1 << n) - 1))))
        elif kind == "move":
            n = draw(st.integers(min_value=1, max_value=32))
            out.append(Move(draw(subfields(n)), draw(subfields(n))))
        elif kind == "mod":
            out.append(Mod("dl_src", draw(st.integers(min_value=0, max_value=2**48 - 1))))
        elif kind == "ctl":
            out.append(Controller(userdata=draw(st.binary(min_size=1, max_size=8)),
                                  pause=draw(st.booleans())))
        elif kind == "clone":
            out.append(Clone((Output(draw(PORT)), Resubmit(None, draw(TABLE)))))
        elif kind == "ct_clear":
            out.append(CtClear())
        elif kind == "dec_ttl":
            out.append(DecTtl())
        elif proto in ("ip", "tcp", "udp", "icmp"):
            nat = draw(st.sampled_from([None, "src", "dst"]))
            acts = (Nat(nat, draw(st.integers(min_value=1, max_value=2**32 - 1))),) if nat else ()
            out.append(Ct(commit=bool(nat) or draw(st.booleans()), table=draw(TABLE),
                          zone_src=SubField("reg11", 0, 16), actions=acts))
    return out


@settings(max_examples=300, deadline=None)
@given(matches(), st.data(), TABLE, st.integers(min_value=0, max_value=65535),
       st.integers(min_value=0, max_value=2**64 - 1))
def test_fast_path_flows_round_trip_through_text(m: tuple[dict[str, int | tuple[int, int]],
                                                         str], data: st.DataObject, table: int,
                                                 priority: int, cookie: int) -> None:
    match, proto = m
    acts = data.draw(actions(proto))
    flow = make_flow(table, priority, match, acts, cookie)  # type: ignore[arg-type]
    text = format_flow(flow)
    again = parse_flow(text)
    assert again == flow, text
    assert isinstance(again, Flow)
