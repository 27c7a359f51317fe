"""Normalising `ovn-sbctl lflow-list` and `ovs-ofctl dump-flows` output from the real
programs and from ovnlab so that only what is arbitrary is erased, and comparing them
against the allow-list (allowed.py): a flow on one side only must be allowed, and every
allow-list entry must still match something."""

from __future__ import annotations

import csv
import difflib
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from allowed import ALLOWED, Allowed, Side

# `Datapath: "neutron-..." aka "n1" (uuid)  Pipeline: ingress`
_DATAPATH = re.compile(r'^Datapath: (?P<name>"[^"]*"(?: aka "[^"]*")?) \([0-9a-f-]+\)\s+'
                       r"Pipeline: (?P<pipeline>\w+)$")
# `  table=3 (lr_in_ip_input     ), priority=90   , match=(...), action=(...)`
_LFLOW = re.compile(r"^\s+table=(?P<table>\d+)\s*\((?P<stage>\w+)\s*\), "
                    r"priority=(?P<priority>\d+)\s*, match=\((?P<match>.*)\), "
                    r"action=\((?P<action>.*)\)$")
# a `{a, b, c}` set (no `;` inside, so not an action block)
_SET = re.compile(r"\{([^{};]*,[^{};]*)\}")


def sort_sets(text: str) -> str:
    """The elements inside every `{...}` set in sorted order (northd prints them in hash
    order)."""
    return _SET.sub(lambda m: "{" + ", ".join(sorted(e.strip() for e in m.group(1).split(",")))
                    + "}", text)


def lflows(text: str) -> list[tuple[str, str]]:
    """`ovn-sbctl lflow-list` as (group, flow) pairs: group = datapath, pipeline, table
    and stage; flow = priority, match and action with sets sorted; datapath UUIDs gone."""
    out: list[tuple[str, str]] = []
    dp = ("", "")
    for line in text.splitlines():
        if m := _DATAPATH.match(line):
            dp = (m["name"], m["pipeline"])
            continue
        m = _LFLOW.match(line)
        if m is None:
            if line.strip():
                raise ValueError(f"unparsed lflow-list line: {line!r}")
            continue
        group = f"{dp[0]} {dp[1]} table={m['table']} ({m['stage']})"
        out.append((group, f"priority={m['priority']}, match=({sort_sets(m['match'])}), "
                           f"action=({sort_sets(m['action'])})"))
    return out


# `ovn-sbctl --format=csv --data=bare --no-headings --columns=...` of the stored rows
ROW_COLUMNS = "logical_dp_group,pipeline,table_id,priority,match,actions,external_ids"
GROUP_COLUMNS = "_uuid,datapaths"
_STAGE = re.compile(r"\bstage-name=(\w+)")


def lflow_rows(flows_csv: str, groups_csv: str) -> list[tuple[str, str]]:
    """The Logical_Flow rows as stored, as (group, flow) pairs: group = "Logical_Flow
    rows", pipeline, table and stage; flow = how many datapaths the row is for (1, or
    its Logical_DP_Group's size), priority, match and action with sets sorted."""
    sizes = {uuid: len(dps.split()) for uuid, dps in csv.reader(groups_csv.splitlines())}
    out: list[tuple[str, str]] = []
    for dp_group, pipeline, table, priority, match, actions, ext in csv.reader(
            flows_csv.splitlines()):
        stage = m.group(1) if (m := _STAGE.search(ext)) else "?"
        out.append((f"Logical_Flow rows {pipeline} table={table} ({stage})",
                    f"datapaths={sizes[dp_group] if dp_group else 1}, priority={priority}, "
                    f"match=({sort_sets(match)}), action=({sort_sets(actions)})"))
    return out


_STATS = re.compile(r"\b(cookie|duration|n_packets|n_bytes|idle_age|hard_age)=[^,]*, ")
_TABLE = re.compile(r"\btable=(\d+), ")
# `--names` port names: real ovs-ofctl quotes them and knows only their first 15 characters
# (OpenFlow's port name field), ovnlab prints them whole and bare
_PORT = re.compile(r'(in_port=|output:)"?([^",\s)]+)"?')
# a run of outputs (a multicast group's remote chassis, in each controller's hash order)
_OUTPUTS = re.compile(r"output:[^,\s]+(?:,output:[^,\s]+)+")


def _sorted_outputs(m: re.Match[str]) -> str:
    return ",".join(sorted(m.group(0).split(",")))


_ZONE_LOAD = re.compile(r"load:(0x[0-9a-f]+)->NXM_NX_REG1([123])\[\]")
_ZONE_KIND = {"1": "dnat", "2": "snat", "3": "ct"}
_LOAD = re.compile(r"load:(0x[0-9a-f]+)->(OXM_OF_METADATA|NXM_NX_REG14|NXM_NX_REG15)\[\]")


def ofctl_flows(text: str) -> list[tuple[str, str]]:
    """`ovs-ofctl --names dump-flows br-int` as (group, flow) pairs: group = the table;
    cookies, counters and ages erased, ports named (OpenFlow port numbers are arbitrary),
    runs of outputs and of local deliveries sorted (hash order), and conntrack zone
    numbers, which each ovn-controller allocates in its own order,
    named by what they are for (zone_owners)."""
    flows: list[tuple[str, str]] = []
    for line in text.splitlines():
        if not line.startswith(" "):
            continue  # the `NXST_FLOW reply` header
        flow = _STATS.sub("", line.strip())
        m = _TABLE.search(flow)
        table = m.group(1) if m else "0"
        flow = _PORT.sub(lambda p: p.group(1) + p.group(2)[:15], _TABLE.sub("", flow))
        flows.append((f"table={table}", _OUTPUTS.sub(_sorted_outputs, flow)))
    owners = zone_owners(f for _, f in flows)
    return [(g, _sorted_deliveries(_ZONE_LOAD.sub(
        lambda z: f"load:<zone {owners.get(z.group(1), z.group(1))}>"
                  f"->NXM_NX_REG1{z.group(2)}[]", f))) for g, f in flows]


# one local delivery of a multicast group: (the port's zone,) the port, resubmit; or the
# zone alone of a member delivered with the remote ones (a localport, a patch port)
_DELIVERY = (r"(?:(?:load:[^,]+->NXM_NX_REG13\[\],)?load:0x[0-9a-f]+->NXM_NX_REG15\[\],"
             r"resubmit\(,\d+\)|load:[^,]+->NXM_NX_REG13\[\])")
_DELIVERIES = re.compile(rf"{_DELIVERY}(?:,{_DELIVERY})+")


def _sorted_deliveries(flow: str) -> str:
    """A multicast group's local deliveries in sorted order (each controller walks the
    group's ports in its own hash order)."""
    return _DELIVERIES.sub(
        lambda m: ",".join(sorted(re.findall(_DELIVERY, m.group(0)))), flow)


def zone_owners(flows: Iterable[str]) -> dict[str, str]:
    """Zone number -> what it is for: the DNAT or SNAT zone of a datapath, or the
    conntrack zone of a logical port. Each zone load is read in its context: the datapath
    is the metadata the same actions load next (entering a datapath), else the one the
    flow matches; the port, the reg14/reg15 loaded next, else the reg15 matched. A zone
    seen in several contexts takes the least name, the same on both sides."""
    owners: dict[str, str] = {}
    for flow in flows:
        match, _, actions = flow.partition(" actions=")
        for z in _ZONE_LOAD.finditer(actions):
            later = {r: v for v, r in reversed(_LOAD.findall(actions[z.end():]))}
            dp = later.get("OXM_OF_METADATA") or _field(match, "metadata")
            port = (later.get("NXM_NX_REG14") or later.get("NXM_NX_REG15")
                    or _field(match, "reg15"))
            kind = _ZONE_KIND[z.group(2)]
            owner = f"{kind} {dp}" + (f"/{port}" if kind == "ct" else "")
            owners[z.group(1)] = min(owners.get(z.group(1), owner), owner)
    return owners


def _field(match: str, name: str) -> str:
    m = re.search(rf"\b{name}=(0x[0-9a-f]+)", match)
    return m.group(1) if m else "?"


@dataclass
class Comparison:
    """real vs ovnlab for one state: flows on one side only, split into allowed ones
    (with the entry that allows each) and the rest."""

    what: str
    real: list[tuple[str, str]]
    ours: list[tuple[str, str]]
    used: set[str] = field(default_factory=set)
    unexplained: list[tuple[Side, str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        real, ours = Counter(self.real), Counter(self.ours)
        for side, only in ((Side.REAL, real - ours), (Side.OVNLAB, ours - real)):
            for (group, flow), _ in only.items():
                entries = allowing(side, group, flow)
                if not entries:
                    self.unexplained.append((side, group, flow))
                self.used |= {e.name for e in entries}

    def report(self) -> str:
        """A unified diff, per group, of the groups holding an unexplained difference."""
        groups = sorted({g for _, g, _ in self.unexplained})
        lines = [f"{self.what}: {len(self.unexplained)} flows differ beyond the allow-list:"]
        lines += [f"  {side.value}: {group} {flow}" for side, group, flow in self.unexplained]
        lines.append("their groups, whole (- real OVN 22.03, + ovnlab):")
        for group in groups:
            real = sorted(f for g, f in self.real if g == group)
            ours = sorted(f for g, f in self.ours if g == group)
            lines += difflib.unified_diff(real, ours, f"real {group}", f"ovnlab {group}",
                                          n=1, lineterm="")
        return "\n".join(lines)


def allowing(side: Side, group: str, flow: str) -> list[Allowed]:
    """Every entry that allows this flow (each counts as used)."""
    return [entry for entry in ALLOWED if entry.matches(side, group, flow)]


def stale(used: Iterable[str], kinds: set[str]) -> list[Allowed]:
    """Allow-list entries of these kinds (lflow, openflow) that matched nothing (entries
    that hang on an arbitrary choice need not match every time)."""
    seen = set(used)
    return [e for e in ALLOWED if e.kind in kinds and e.name not in seen and not e.arbitrary]


@dataclass
class Tracker:
    """What this session compared: states per family and allow-list entries used."""

    states: dict[str, set[str]] = field(default_factory=dict)
    used: set[str] = field(default_factory=set)

    def saw(self, family: str, state: str, used: set[str]) -> None:
        self.states.setdefault(family, set()).add(state)
        self.used |= used
