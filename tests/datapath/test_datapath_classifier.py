"""The indexed classifier agrees with a linear scan; insertion order does not matter."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ovnlab.datapath.classifier import Classifier, Entry, flow_rank, matches
from ovnlab.flows import Flow, make_flow
from ovnlab.flows.fields import N_SLOTS, SLOT

FIELDS = ("reg14", "reg15", "metadata", "nw_dst", "nw_src", "in_port")
SMALL = st.integers(min_value=0, max_value=7)


@st.composite
def flows(draw: st.DrawFn) -> Flow:
    items: dict[str, int | tuple[int, int]] = {"ip": 1}
    for name in draw(st.lists(st.sampled_from(FIELDS), unique=True, max_size=4)):
        value = draw(SMALL)
        if name != "in_port" and draw(st.booleans()):
            mask = draw(st.sampled_from([0x1, 0x3, 0x6, 0x7]))
            items[name] = (value & mask, mask)
        else:
            items[name] = value
    return make_flow(0, draw(st.integers(min_value=0, max_value=5)), items, [])


@st.composite
def keys(draw: st.DrawFn) -> list[int]:
    key = [0] * N_SLOTS
    key[SLOT["dl_type"]] = 0x0800
    for name in FIELDS:
        key[SLOT[name]] = draw(SMALL)
    return key


def linear(flow_list: list[Flow], key: list[int]) -> Flow | None:
    best = None
    for f in flow_list:
        if matches(f, key) and (best is None or flow_rank(f) > flow_rank(best)):
            best = f
    return best


def build(flow_list: list[Flow]) -> Classifier:
    c = Classifier()
    seen = set()
    for f in flow_list:
        if (f.priority, f.match) not in seen:
            seen.add((f.priority, f.match))
            c.insert(Entry(f, (), 0.0))
    return c


def dedupe(flow_list: list[Flow]) -> list[Flow]:
    out, seen = [], set()
    for f in flow_list:
        if (f.priority, f.match) not in seen:
            seen.add((f.priority, f.match))
            out.append(f)
    return out


@settings(max_examples=150, deadline=None)
@given(st.lists(flows(), max_size=40), st.lists(keys(), min_size=1, max_size=10))
def test_indexed_lookup_equals_linear_scan(flow_list: list[Flow], key_list: list[list[int]]) -> None:
    flow_list = dedupe(flow_list)
    c = build(flow_list)
    for key in key_list:
        got = c.lookup(key)
        assert (got.flow if got else None) == linear(flow_list, key)


@settings(max_examples=100, deadline=None)
@given(st.lists(flows(), max_size=30), st.randoms(use_true_random=False),
       st.lists(keys(), min_size=1, max_size=8))
def test_insertion_order_does_not_matter(flow_list: list[Flow], rnd: object,
                                         key_list: list[list[int]]) -> None:
    flow_list = dedupe(flow_list)
    shuffled = flow_list[:]
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    a, b = build(flow_list), build(shuffled)
    for key in key_list:
        ea, eb = a.lookup(key), b.lookup(key)
        assert (ea.flow if ea else None) == (eb.flow if eb else None)


@settings(max_examples=60, deadline=None)
@given(st.lists(flows(), min_size=1, max_size=30), st.data())
def test_removal_keeps_agreement(flow_list: list[Flow], data: st.DataObject) -> None:
    flow_list = dedupe(flow_list)
    c = Classifier()
    entries = [Entry(f, (), 0.0) for f in flow_list]
    for e in entries:
        c.insert(e)
    gone = data.draw(st.lists(st.sampled_from(entries), unique_by=id))
    for e in gone:
        c.remove(e)
    left = [e.flow for e in entries if e not in gone]
    assert len(c) == len(left)
    for key in data.draw(st.lists(keys(), min_size=1, max_size=5)):
        got = c.lookup(key)
        assert (got.flow if got else None) == linear(left, key)


def test_highest_priority_wins_and_masks_apply() -> None:
    c = Classifier()
    low = make_flow(0, 10, {"ip": 1, "nw_dst": (0x0A000000, 0xFF000000)}, [])
    high = make_flow(0, 20, {"ip": 1, "nw_dst": 0x0A000001}, [])
    for f in (low, high):
        c.insert(Entry(f, (), 0.0))
    key = [0] * N_SLOTS
    key[SLOT["dl_type"]] = 0x0800
    key[SLOT["nw_dst"]] = 0x0A000001
    assert c.lookup(key).flow is high  # type: ignore[union-attr]
    key[SLOT["nw_dst"]] = 0x0A000002
    assert c.lookup(key).flow is low  # type: ignore[union-attr]
    key[SLOT["nw_dst"]] = 0x0B000002
    assert c.lookup(key) is None
    assert c.n_subtables == 2
