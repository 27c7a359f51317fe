"""en_lflow's data: the logical flows of every owner, and the SB Logical_Flow rows they
became (northd.c build_lflows() + the lflow sync). Identical flows of several owners share
one SB row (ovn_lflow_add merges them); a row goes when its last owner drops it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ovnlab.northd.bindings import Bindings
from ovnlab.northd.env import Env
from ovnlab.northd.handlers import acl_switches
from ovnlab.northd.lflow import FlowSink, LFlow
from ovnlab.northd.owners import Owner, OwnerKind
from ovnlab.northd.router import gen_router, gen_router_port
from ovnlab.northd.router_nat import gen_nat
from ovnlab.northd.switch import gen_self_orig, gen_switch, gen_switch_port
from ovnlab.northd.switch_acl import gen_acl
from ovnlab.ovsdb import Database, Transaction

FlowKey = tuple[str, str, int, int, str, str]
_INLINE_SET = re.compile(r"\{[^{}]*\}")  # `{a, b, c}` in a match
_GENERATORS = {OwnerKind.LS: gen_switch, OwnerKind.LSP: gen_switch_port,
               OwnerKind.SELF_ORIG: gen_self_orig, OwnerKind.LR: gen_router,
               OwnerKind.LRP: gen_router_port, OwnerKind.NAT: gen_nat}


@dataclass
class RunStats:
    owners: int = 0
    lflows_added: int = 0
    lflows_deleted: int = 0
    lflows_rematched: int = 0
    full: bool = False

    def writes(self) -> tuple[int, int, int]:
        return (self.lflows_added, self.lflows_deleted, self.lflows_rematched)


@dataclass(frozen=True, slots=True)
class Provenance:
    """Why a Logical_Flow exists: its stage, the northd.c function ovnlab mirrors, the NB
    row that owns it (`owner_table`/`owner_uuid`, what an incremental run regenerates) and
    the NB row OVN would name as its stage-hint."""

    stage: str
    source: str
    owner_table: str
    owner_uuid: str
    hint_uuid: str | None


@dataclass
class _SbFlow:
    uuid: str
    refs: int
    owners: list[Owner] = field(default_factory=list)


def generate(env: Env, owner: Owner) -> list[LFlow]:
    """One owner's flows, from its generator."""
    kind, uuid = owner
    row = env.row(kind.table, uuid)
    if row is None:
        return []
    sink = FlowSink()
    if kind is OwnerKind.ACL:
        gen_acl(env, row, acl_switches(env, uuid), sink)
    else:
        _GENERATORS[kind](env, row, sink)
    return sink.flows


def all_owners(nb: Database) -> list[Owner]:
    """Every owner the NB holds, in the order a full run generates them."""
    owners: list[Owner] = [(OwnerKind.LS, r.uuid) for r in nb.rows("Logical_Switch")]
    for r in nb.rows("Logical_Switch_Port"):
        owners.append((OwnerKind.LSP, r.uuid))
        if r["type"] == "router":
            owners.append((OwnerKind.SELF_ORIG, r.uuid))
    owners += [(OwnerKind.ACL, r.uuid) for r in nb.rows("ACL")]
    owners += [(OwnerKind.LR, r.uuid) for r in nb.rows("Logical_Router")]
    owners += [(OwnerKind.LRP, r.uuid) for r in nb.rows("Logical_Router_Port")]
    owners += [(OwnerKind.NAT, r.uuid) for r in nb.rows("NAT")]
    return owners


class LflowTable:
    """Flows by owner, the SB rows they map to, and the owners with flows per datapath
    (for context-change fan-out)."""

    def __init__(self, sb: Database, bindings: Bindings) -> None:
        self.sb = sb
        self.bindings = bindings
        self.owner_flows: dict[Owner, list[LFlow]] = {}
        self.dp_owners: dict[str, set[Owner]] = {}
        self.sb_flows: dict[FlowKey, _SbFlow] = {}
        self._key_of_sb: dict[str, FlowKey] = {}
        self._adopted = self._adopt()

    def _adopt(self) -> dict[FlowKey, str]:
        """Logical_Flow rows a previous northd left in the SB, by flow identity; the first
        full run keeps the ones it still wants and deletes the rest."""
        nb_of_dp = {sb_dp: nb_dp for nb_dp, sb_dp in self.bindings.dp_of.items()}
        out: dict[FlowKey, str] = {}
        for f in self.sb.rows("Logical_Flow"):
            dp = nb_of_dp.get(f["logical_datapath"] or "")
            if dp is not None:
                out.setdefault((dp, f["pipeline"], f["table_id"], f["priority"], f["match"],
                                f["actions"]), f.uuid)
        return out

    def sync(self, txn: Transaction, env: Env, owners: list[Owner], stats: RunStats) -> None:
        """Regenerate `owners` and write the difference to the SB."""
        for owner in owners:
            stats.owners += 1
            new = generate(env, owner)
            old = self.owner_flows.get(owner, [])
            if old != new:
                self._replace(txn, owner, old, new, stats)

    def drop_unwanted(self, txn: Transaction, stats: RunStats) -> None:
        """After a full run: whatever a previous northd wrote and this one does not want."""
        keep = {s.uuid for s in self.sb_flows.values()}
        for f in list(self.sb.tables["Logical_Flow"].values()):
            if f.uuid not in keep:
                txn.delete("Logical_Flow", f.uuid)
                stats.lflows_deleted += 1
        self._adopted = {}

    def provenance(self, lflow_uuid: str) -> list[Provenance]:
        """The generators and NB rows behind one SB Logical_Flow (several when identical
        flows from different owners were merged, as ovn_lflow_add merges them)."""
        key = self._key_of_sb.get(lflow_uuid)
        sbf = self.sb_flows.get(key) if key is not None else None
        if sbf is None:
            return []
        out = []
        for kind, uuid in sbf.owners:
            for f in self.owner_flows.get((kind, uuid), ()):
                if f.key == key:
                    out.append(Provenance(f.stage.name, f.source, kind.table, uuid, f.hint))
                    break
        return out

    def snapshot(self) -> object:
        """What Engine.check() compares: every owner's flows and the SB rows' identities."""
        return ({o: tuple(fs) for o, fs in self.owner_flows.items()},
                {k: (s.uuid, s.refs) for k, s in self.sb_flows.items()})

    def _replace(self, txn: Transaction, owner: Owner, old: list[LFlow], new: list[LFlow],
                 stats: RunStats) -> None:
        new_keys = {f.key for f in new}
        old_keys = {f.key for f in old}
        gone = [f for f in old if f.key not in new_keys]
        came = [f for f in new if f.key not in old_keys]
        for was, now in _set_member_moves(gone, came):
            if self._rematch(txn, was, now, stats):
                gone.remove(was)
                came.remove(now)
        for f in gone:
            self._unref(txn, owner, f.key, stats)
        for f in came:
            self._ref(txn, owner, f, stats)
        # Keep the datapath → owners index for context-change fan-out.
        for f in old:
            s = self.dp_owners.get(f.datapath)
            if s is not None:
                s.discard(owner)
        if new:
            self.owner_flows[owner] = new
            for f in new:
                self.dp_owners.setdefault(f.datapath, set()).add(owner)
        else:
            self.owner_flows.pop(owner, None)

    def _rematch(self, txn: Transaction, was: LFlow, now: LFlow, stats: RunStats) -> bool:
        """A flow of this owner alone whose match only gained or lost members of its
        inline sets keeps its SB row: the match is rewritten in place, so ovn-controller
        can patch the flows of those members instead of compiling the whole set again
        (a deviation: 22.03 deletes the row and inserts another)."""
        sbf = self.sb_flows.get(was.key)
        if sbf is None or sbf.refs != 1 or now.key in self.sb_flows \
                or sbf.uuid not in self.sb.tables["Logical_Flow"]:
            return False
        txn.update("Logical_Flow", sbf.uuid, match=now.match)
        del self.sb_flows[was.key]
        self.sb_flows[now.key] = sbf
        self._key_of_sb[sbf.uuid] = now.key
        stats.lflows_rematched += 1
        return True

    def _unref(self, txn: Transaction, owner: Owner, key: FlowKey, stats: RunStats) -> None:
        sbf = self.sb_flows.get(key)
        if sbf is None:
            return
        sbf.refs -= 1
        if owner in sbf.owners:
            sbf.owners.remove(owner)
        if sbf.refs <= 0:
            del self.sb_flows[key]
            self._key_of_sb.pop(sbf.uuid, None)
            txn.delete("Logical_Flow", sbf.uuid)
            stats.lflows_deleted += 1

    def _ref(self, txn: Transaction, owner: Owner, f: LFlow, stats: RunStats) -> None:
        sbf = self.sb_flows.get(f.key)
        if sbf is not None:
            sbf.refs += 1
            sbf.owners.append(owner)
            return
        dp_sb = self.bindings.dp_of.get(f.datapath)
        if dp_sb is None:
            return
        adopted = self._adopted.pop(f.key, None)
        if adopted is not None and adopted in self.sb.tables["Logical_Flow"]:
            self._own(f.key, adopted, owner)
            return
        ids = {"stage-name": f.stage.name, "source": f.source}
        if f.hint:
            ids["stage-hint"] = f.hint[:8]
        row = txn.insert("Logical_Flow", logical_datapath=dp_sb,
                         pipeline=f.stage.pipeline.value, table_id=f.stage.table,
                         priority=f.priority, match=f.match, actions=f.actions,
                         tags={"in_out_port": f.io_port} if f.io_port else {},
                         external_ids=ids)
        self._own(f.key, row.uuid, owner)
        stats.lflows_added += 1

    def _own(self, key: FlowKey, uuid: str, owner: Owner) -> None:
        self.sb_flows[key] = _SbFlow(uuid, 1, [owner])
        self._key_of_sb[uuid] = key


def _set_member_moves(gone: list[LFlow], came: list[LFlow]) -> list[tuple[LFlow, LFlow]]:
    """Pairs (was, now) of an owner's flows that differ only inside inline `{...}` sets
    of their matches, each flow in one pair at most."""
    if not gone or not came:
        return []

    def shape(f: LFlow) -> tuple[object, ...] | None:
        if "{" not in f.match:
            return None
        return (f.datapath, f.stage, f.priority, f.actions, f.hint, f.source, f.io_port,
                _INLINE_SET.sub("{}", f.match))

    by_shape: dict[tuple[object, ...], list[LFlow]] = {}
    for f in gone:
        k = shape(f)
        if k is not None:
            by_shape.setdefault(k, []).append(f)
    pairs = []
    for f in came:
        k = shape(f)
        if k is not None and len(by_shape.get(k, ())) == 1:
            pairs.append((by_shape.pop(k)[0], f))
    return pairs
