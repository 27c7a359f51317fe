"""Datapath speed: classifier lookups per second per table size, and packets per second
through a 20-table OVN-like pipeline with conntrack.

- `lookup`: one table holding 100, 1k, 10k, 100k flows of OVN's match shapes (metadata +
  reg14/reg15 + eth/ip addresses, prefixes, ARP); lookups of keys that hit and miss.
- `pipeline`: a packet crossing 20 tables (each with ~500 non-matching neighbours), two ct
  actions (one commit with SNAT) and an output, with and without tracing.
Run: `python -m benchmarks.bench_datapath` (JSON on stdout).
"""

from __future__ import annotations

import json
import random
import time
from typing import Any

from ovnlab.datapath import Bridge
from ovnlab.datapath.bridge import FlowTable
from ovnlab.datapath.classifier import Entry
from ovnlab.datapath.compile import compile_actions
from ovnlab.datapath.key import packet_to_key
from ovnlab.flows import Flow, Resubmit, make_flow, parse_flow
from ovnlab.flows.fields import SLOT
from ovnlab.packet import PROTO_ICMP, Packet, ip

SIZES = (100, 1_000, 10_000, 100_000)


def ovn_like_flows(n: int, rng: random.Random, table: int = 0) -> list[Flow]:
    """Match shapes northd/ovn-controller produce, spread over n/20 datapaths."""
    flows: list[Flow] = []
    n_dp = max(1, n // 20)
    seen: set[tuple[int, Any]] = set()
    while len(flows) < n:
        dp = rng.randrange(1, n_dp + 1)
        shape = rng.randrange(5)
        match: dict[str, int | tuple[int, int]]
        addr = ip("10.0.0.0") + rng.randrange(1 << 16)
        mac = 0xFA163E000000 + rng.randrange(1 << 24)
        port = rng.randrange(1, 200)
        if shape == 0:
            prio, match = 100, {"ip": 1, "reg14": port, "metadata": dp, "nw_dst": addr}
        elif shape == 1:
            prio, match = 50, {"reg15": port, "metadata": dp, "dl_dst": mac}
        elif shape == 2:
            plen = rng.choice((16, 24, 32))
            mask = (0xFFFFFFFF << (32 - plen)) & 0xFFFFFFFF
            prio, match = 70 + plen, {"ip": 1, "metadata": dp, "nw_dst": (addr & mask, mask)}
        elif shape == 3:
            prio, match = 50, {"reg14": port, "metadata": dp, "dl_src": mac}
        else:
            prio, match = 90, {"arp": 1, "metadata": dp, "arp_tpa": addr, "arp_op": 1}
        ident = (prio, tuple(sorted((k, v if isinstance(v, int) else v[0])
                                    for k, v in match.items())))
        if ident in seen:
            continue
        seen.add(ident)
        flows.append(make_flow(table, prio, match, [Resubmit(None, table + 1)]))
    flows.append(make_flow(table, 0, {}, []))
    return flows


def _keys(flows: list[Flow], rng: random.Random, n: int) -> list[list[int]]:
    keys = []
    for _ in range(n):
        f = rng.choice(flows)
        m = f.match_dict()
        pkt = Packet(eth_src=m.get("dl_src", (rng.randrange(1 << 48), 0))[0],
                     eth_dst=m.get("dl_dst", (rng.randrange(1 << 48), 0))[0],
                     eth_type=m.get("dl_type", (0x0800, 0))[0],
                     ip_dst=m.get("nw_dst", (rng.randrange(1 << 32), 0))[0],
                     arp_tpa=m.get("arp_tpa", (0, 0))[0], arp_op=1, ip_proto=PROTO_ICMP)
        key = packet_to_key(pkt, 1)
        for name in ("metadata", "reg14", "reg15"):
            if name in m:
                key[SLOT[name]] = m[name][0]
            elif rng.random() < 0.5:
                key[SLOT[name]] = rng.randrange(1, 200)
        keys.append(key)
    return keys


def bench_lookup(size: int, seed: int = 1) -> dict[str, float]:
    rng = random.Random(seed)
    flows = ovn_like_flows(size, rng)
    table = FlowTable(0)
    t0 = time.perf_counter()
    for f in flows:
        table.insert(Entry(f, compile_actions(f.actions), 0.0))
    insert_s = time.perf_counter() - t0
    keys = _keys(flows, rng, 20_000)
    t0 = time.perf_counter()
    hits = 0
    for key in keys:
        if table.lookup(key) is not None:
            hits += 1
    elapsed = time.perf_counter() - t0
    return {"flows": len(flows), "subtables": table.main.n_subtables,
            "lookups_per_s": round(len(keys) / elapsed), "us_per_lookup":
            round(elapsed / len(keys) * 1e6, 2), "inserts_per_s": round(len(flows) / insert_s)}


def pipeline_bridge(n_tables: int = 20, neighbours: int = 500, seed: int = 2) -> Bridge:
    rng = random.Random(seed)
    br = Bridge("br-int")
    br.add_port("vm1")
    br.add_port("patch-br-int-to-provnet", type="patch")
    br.add_flow("table=0,priority=100,in_port=1,actions=load:0x3->OXM_OF_METADATA[],"
                "load:0x1->NXM_NX_REG14[],load:0x5->NXM_NX_REG11[],resubmit(,1)")
    for t in range(1, n_tables):
        br.add_flows(ovn_like_flows(neighbours, rng, t))
        nxt = t + 1
        if t == 5:
            text = f"table={t},priority=200,ip,metadata=0x3,actions=ct(table={nxt}," \
                   "zone=NXM_NX_REG11[0..15])"
        elif t == 10:
            text = f"table={t},priority=200,ip,metadata=0x3,nw_src=172.16.100.10,actions=" \
                   "mod_dl_src:fa:16:3e:9f:84:ff,ct(commit,table=11,zone=NXM_NX_REG11[0..15]," \
                   "nat(src=10.0.2.216))"
        elif t == n_tables - 1:
            text = f"table={t},priority=200,metadata=0x3,actions=dec_ttl,output:2"
        else:
            text = f"table={t},priority=200,metadata=0x3,reg14=0x1,actions=" \
                   f"load:{t:#x}->NXM_NX_REG13[],resubmit(,{nxt})"
        br.add_flow(parse_flow(text))
    return br


def bench_pipeline(n_packets: int = 3000, trace: bool = False) -> dict[str, float]:
    br = pipeline_bridge()
    packets = [Packet(eth_src=0xFA163E111110, eth_dst=0xFA163E000101, ip_src=ip("172.16.100.10"),
                      ip_dst=ip("8.8.8.8"), ip_proto=PROTO_ICMP, icmp_type=8, icmp_id=i & 0xFFFF,
                      icmp_seq=1) for i in range(n_packets)]
    out = 0
    t0 = time.perf_counter()
    for p in packets:
        out += len(br.process(p, "vm1", trace=trace).outputs)
    elapsed = time.perf_counter() - t0
    assert out == n_packets, out
    return {"tables": 20, "flows": br.n_flows, "packets_per_s": round(n_packets / elapsed),
            "us_per_packet": round(elapsed / n_packets * 1e6, 1),
            "conntrack_entries": len(br.conntrack)}


def machine_speed() -> float:
    """ns per `dict.get` in a Python loop: puts the other numbers in context."""
    d = {i: i for i in range(1024)}
    t0 = time.perf_counter()
    for i in range(200_000):
        d.get(i & 1023)
    return round((time.perf_counter() - t0) / 200_000 * 1e9, 1)


def run() -> dict[str, Any]:
    lookups = {str(n): bench_lookup(n) for n in SIZES}
    small, big = lookups[str(SIZES[0])], lookups[str(SIZES[-1])]
    return {
        "lookup": lookups,
        # 1000x more flows; a linear classifier would be ~1000x slower.
        "lookup_cost_ratio_100k_vs_100": round(big["us_per_lookup"] / small["us_per_lookup"],
                                               2),
        "pipeline": bench_pipeline(),
        "pipeline_traced": bench_pipeline(1000, trace=True),
        "python_dict_get_loop_ns": machine_speed(),
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
