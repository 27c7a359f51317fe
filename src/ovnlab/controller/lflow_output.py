"""en_lflow_output (controller/lflow.c, OVN 22.03): the logical flows of the local
datapaths compiled to OpenFlow for this chassis, kept per (lflow, datapath) with what each
result depends on (port names, address sets, port groups, residency), so an SB change
recompiles only the lflows it touches; address sets that only gain or lose addresses are
patched in place (lflow_handle_addr_set_update).
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from ovnlab.controller.binding import RuntimeData, RuntimeState
from ovnlab.controller.lflow import Compiled, LflowEnv, related_only
from ovnlab.controller.lflow_cache import SharedCompiles
from ovnlab.controller.ofctrl import Ofctrl
from ovnlab.controller.set_patch import (
    INLINE_SET,
    SetDelta,
    member_flows,
    one_set_moved,
    port_group_moves,
)
from ovnlab.flows import Flow
from ovnlab.flows.format import format_flow_mod
from ovnlab.ovsdb import Change, Database, Row, moved_only

_PG_DP_PREFIX = re.compile(r"^\d+_")  # northd 22.03 names a datapath's group <key>_<name>
LflowKey = tuple[str, str]  # (lflow uuid, datapath uuid)


class LflowOutput:
    """The compiled logical flows, their dependencies, and the indexes they read."""

    def __init__(self, sb: Database, rt: RuntimeData, ofctrl: Ofctrl,
                 stats: dict[str, float], compiles: SharedCompiles) -> None:
        self.sb = sb
        self.compiles = compiles
        self.rt = rt
        self.ofctrl = ofctrl
        self.stats = stats
        self.errors: dict[str, str] = {}  # lflow uuid → why it was skipped
        self._lflows: dict[LflowKey, Compiled] = {}  # (lflow, dp) → flows
        self._refs: dict[str, set[LflowKey]] = {}
        # lflow → its keys (a tuple: nearly always one datapath, and a set costs 4× more)
        self._by_lflow: dict[str, tuple[LflowKey, ...]] = {}
        self._envs: dict[str, LflowEnv] = {}
        self._env_state: RuntimeState | None = None  # what _envs were made from
        self._handled = False  # handle() ran in this engine run
        self._as_index: dict[str, tuple[str, ...]] = {}
        self._as_delta: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}
        # a datapath's port group whose ports bound here only came or went (it and the
        # lflows' name for it, the ports before and after), patched like an address set
        self._pg_delta: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {}
        # (lflow, datapath) → the flows its placeholders alone compile to, while it stands
        self._as_base: dict[LflowKey, tuple[tuple[str, tuple[str, ...], str], set[Flow]]] = {}
        self._pg_local: dict[str, tuple[str, ...]] = {}  # SB Port_Group → its ports bound here
        self.mc_index: dict[tuple[str, str], int] = {}
        self._mc_rows: dict[str, tuple[str, str]] = {}

    # ------------------------------------------------------------ engine node
    def recompute(self) -> bool:
        """en_lflow_output's run: every logical flow of the local datapaths."""
        st = self.rt.state
        names: set[str] = set()
        self.index_groups([], st, st, names, full=True)
        self._envs = {}  # they hold the indexes just replaced
        self.process([], set(), st, st, names, full=True)
        return True

    def snapshot(self) -> list[str]:
        """This node's flows, as text (Engine.check's picture of it)."""
        units = self.ofctrl.units
        return sorted(format_flow_mod(f) for key in self._lflows for f in units.get(key, ()))

    def clear_tracked(self) -> None:
        self._handled = False

    def handle(self, changes: list[Change]) -> bool:
        """The change handler of every input but the datapaths: the runtime data moved
        (local datapaths, residency, local VIFs) and the SB's Logical_Flow, Address_Set,
        Port_Group, Multicast_Group and Port_Binding changes, all in one pass the first
        time it is called in an engine run (its inputs have all run by then), so an lflow
        touched several ways compiles once; address sets are patched where they can be."""
        if self._handled:
            return False
        self._handled = True
        st, old = self.rt.state, self.rt.before
        names = {f"resident:{n}" for n in st.resident ^ old.resident}
        # A VIF appearing or leaving changes which switch-port flows are "related" here.
        names |= set(st.vif_ofports.keys() ^ old.vif_ofports.keys())
        changed_lport_names(changes, names)
        self.index_groups(changes, st, old, names, full=False)
        self.process(changes, {c.table for c in changes}, st, old, names, full=False)
        return True

    def clear(self) -> None:
        self._lflows.clear()
        self._as_base.clear()
        self._refs.clear()
        self._by_lflow.clear()

    def index_groups(self, changes: list[Change], st: RuntimeState, old: RuntimeState,
                     names: set[str], full: bool) -> None:
        """Address sets, multicast groups and port groups by name. A port group is seen
        only through its ports bound here (port_groups_cs_local, filtered by the related
        lports, as ovn-controller 22.03 does): a remote port joining a group changes no
        logical flow here."""
        self._index_sets(changes, names, full)
        self._index_port_groups(changes, st, old, names, full)

    def _index_sets(self, changes: list[Change], names: set[str], full: bool) -> None:
        """Address sets and multicast groups by name; an address set that only gained or
        lost addresses is remembered as a delta, to be patched in place."""
        as_before: dict[str, tuple[str, ...] | None] = {}
        if full:
            self._as_index = {r["name"]: tuple(r["addresses"])
                              for r in self.sb.rows("Address_Set")}
            self.mc_index = {(r["datapath"], r["name"]): int(r["tunnel_key"])
                              for r in self.sb.rows("Multicast_Group")}
            self._mc_rows = {r.uuid: (r["datapath"], r["name"])
                             for r in self.sb.rows("Multicast_Group")}
        else:
            for c in changes:
                if c.table == "Address_Set":
                    for r in (c.old, c.new):
                        if r is not None and r["name"] not in as_before:
                            as_before[r["name"]] = self._as_index.get(r["name"])
                    if c.old is not None:
                        self._as_index.pop(c.old["name"], None)
                    row = self.sb.tables["Address_Set"].get(c.uuid)
                    if row is not None:
                        self._as_index[row["name"]] = tuple(row["addresses"])
                elif c.table == "Multicast_Group":
                    # Logical flows see a group only through its key (`outport =
                    # "_MC_flood"`); its members matter to the physical flows alone.
                    if c.old is None or c.new is None or any(
                            c.old[k] != c.new[k] for k in ("name", "tunnel_key", "datapath")):
                        names.update(r["name"] for r in (c.old, c.new) if r is not None)
                    gone = self._mc_rows.pop(c.uuid, None)
                    if gone is not None:
                        self.mc_index.pop(gone, None)
                    row = self.sb.tables["Multicast_Group"].get(c.uuid)
                    if row is not None:
                        self._mc_rows[c.uuid] = (row["datapath"], row["name"])
                        self.mc_index[(row["datapath"], row["name"])] = int(row["tunnel_key"])
        for name, before in as_before.items():
            after = self._as_index.get(name)
            if before is not None and after is not None and before != after:
                self._as_delta[name] = (before, after)  # tried incrementally first
            elif before != after:
                names.add("$" + name)

    def _index_port_groups(self, changes: list[Change], st: RuntimeState, old: RuntimeState,
                           names: set[str], full: bool) -> None:
        local = st.vif_ofports.keys()
        everything = full or local != old.vif_ofports.keys()
        if not everything and not any(c.table == "Port_Group" for c in changes):
            return
        groups = {r["name"]: r for r in self.sb.rows("Port_Group")}
        if everything:
            stale = set(groups) | set(self._pg_local)
        else:
            stale = {r["name"] for c in changes if c.table == "Port_Group"
                     for r in (c.old, c.new) if r is not None}
        for name in stale:
            row = groups.get(name)
            members = None if row is None else tuple(n for n in row["ports"] if n in local)
            before = self._pg_local.get(name)
            if members == before:
                continue
            if members is None:
                del self._pg_local[name]
            else:
                self._pg_local[name] = members
            short = _PG_DP_PREFIX.sub("", name)
            if not full and short != name and short not in self._pg_local:
                # only the lflows of this group's datapath see it move
                self._pg_delta[name] = (short, before or (), members or ())
                continue
            # A datapath's group created or deleted with no port here expands as before
            # (to nothing), unless the name falls back to a plain group of that name.
            if (members or ()) != (before or ()) or (short != name and short in self._pg_local):
                names.add("@" + name)
                names.add("@" + short)

    def process(self, changes: list[Change], tables: set[str], st: RuntimeState,
                old: RuntimeState, names: set[str], full: bool) -> None:
        """Recompile what `changes` touched (or everything: `full`, a datapath change)."""
        if full or "Datapath_Binding" in tables or "Logical_DP_Group" in tables \
                or st.dp_snat_zone != old.dp_snat_zone or st.dp_switch != old.dp_switch:
            self.stats["full_recomputes"] += 1
            self._as_delta.clear()
            self._pg_delta.clear()
            for key in list(self._lflows):
                self._drop(key)
            for lf in self.sb.rows("Logical_Flow"):
                self._compile_row(lf)
            return
        dps_added = st.local_dps - old.local_dps
        dps_removed = old.local_dps - st.local_dps
        if dps_removed:
            for key in list(self._lflows):
                if key[1] in dps_removed:
                    self._drop(key)
        for c in changes:
            if c.table == "Logical_Flow":
                self.compiles.forget_stale(c.uuid)
        redo: set[str] = {c.uuid for c in changes if c.table == "Logical_Flow"
                          and not self._patch_inline_set(c)}
        for n in names:
            for key in self._refs.get(n, ()):
                redo.add(key[0])
            redo |= self.compiles.index.tagged(n)  # flows of a port that may be related now
        if dps_added:
            for lf in self.sb.rows("Logical_Flow"):
                if set(self._lflow_dps(lf)) & dps_added:
                    redo.add(lf.uuid)
        lflows = self.sb.tables["Logical_Flow"]
        for name, (short, before, after) in self._pg_delta.items():
            dp_key = int(name.split("_", 1)[0])
            for key in list(self._refs.get("@" + short, ())):
                if st.dp_keys.get(key[1]) == dp_key and key[0] not in redo \
                        and not self._patch_port_group(key, short, before, after):
                    redo.add(key[0])  # (on another datapath, @short is another group)
        self._pg_delta.clear()
        for name, (before, after) in self._as_delta.items():
            delta = SetDelta.of(name, before, after)
            for key in list(self._refs.get("$" + name, ())):
                if key[0] not in redo and not self._patch_address_set(key, delta):
                    redo.add(key[0])
        self._as_delta.clear()
        for uuid in redo:
            for key in list(self._by_lflow.get(uuid, ())):
                self._drop(key)
            row = lflows.get(uuid)
            if row is not None:
                self._compile_row(row)

    def _lflow_dps(self, lf: Row) -> list[str]:
        if lf["logical_datapath"]:
            return [lf["logical_datapath"]]
        if lf["logical_dp_group"]:
            grp = self.sb.tables["Logical_DP_Group"].get(lf["logical_dp_group"])
            return list(grp["datapaths"]) if grp else []
        return []

    def _drop(self, key: tuple[str, str]) -> None:
        self._as_base.pop(key, None)
        comp = self._lflows.pop(key, None)
        if comp is None:
            return
        self.ofctrl.set_unit(key, [])
        keys = self._by_lflow.get(key[0])
        if keys is not None:
            rest = tuple(k for k in keys if k != key)
            if rest:
                self._by_lflow[key[0]] = rest
            else:
                del self._by_lflow[key[0]]
        for ref in comp.refs:
            s = self._refs.get(ref)
            if s is not None:
                s.discard(key)
                if not s:
                    del self._refs[ref]

    def _compile_row(self, lf: Row) -> None:
        st = self.rt.state
        tagged = lf["tags"].get("in_out_port") if lf["tags"] else None
        for dp in self._lflow_dps(lf):
            if dp not in st.local_dps:
                continue
            env = self._env(dp)
            if tagged and env.is_switch and not self._related(dp, tagged):
                # A flow for a port of another chassis (tags:in_out_port): nothing here,
                # until that port's binding moves (SbIndex.tagged finds it then).
                continue
            self.stats["lflows_compiled"] += 1
            comp = related_only(self.compiles.compile(lf, env), env)
            if comp.error:
                self.errors[lf.uuid] = comp.error
            else:
                self.errors.pop(lf.uuid, None)
            key = (lf.uuid, dp)
            self._lflows[key] = comp
            self.ofctrl.set_unit(key, comp.flows)
            self._add_key(key)
            for ref in comp.refs:
                self._refs.setdefault(ref, set()).add(key)

    def _add_key(self, key: LflowKey) -> None:
        keys = self._by_lflow.get(key[0], ())
        if key not in keys:
            self._by_lflow[key[0]] = (*keys, key)

    def _patch_inline_set(self, c: Change) -> bool:
        """A Logical_Flow whose match northd rewrote in place, only the members of one
        inline `{...}` set moving: patched like an address set, through a template that
        names that set. False: recompile it."""
        if c.op != "update" or c.old is None or c.new is None \
                or not moved_only(c.old, c.new, ("match",)):
            return False
        keys = list(self._by_lflow.get(c.uuid, ()))
        moved = one_set_moved(c.old["match"], c.new["match"])
        if not keys or moved is None:
            return False
        template, before, after = moved
        delta = SetDelta.of(INLINE_SET, before, after)
        if not all(self._patch_set(key, template, delta, "inline_set_patches")
                   for key in keys):
            # Some datapaths may have been patched: recompile them all from the new row.
            return False
        return True

    def _patch_address_set(self, key: LflowKey, delta: SetDelta | None) -> bool:
        lf = self.sb.tables["Logical_Flow"].get(key[0])
        comp = self._lflows.get(key)
        if delta is None or lf is None or comp is None:
            return False
        token = "$" + delta.name
        if {r for r in comp.refs if r.startswith("$")} != {token} or len(
                re.findall(re.escape(token) + r"(?![\w.-])", lf["match"])) != 1:
            return False  # other sets, or this one twice: the flows cross-multiply
        return self._patch_set(key, lf["match"], delta, "address_set_patches")

    def _patch_set(self, key: LflowKey, match: str, delta: SetDelta | None,
                   stat: str) -> bool:
        """Add and remove just the flows of the members `delta` names (set_patch), the
        set being named once in `match`, as `$<delta.name>`, with no other address set.
        False: not applicable, recompile the lflow."""
        lf = self.sb.tables["Logical_Flow"].get(key[0])
        comp = self._lflows.get(key)
        if delta is None or lf is None or comp is None or comp.error:
            return False
        env = self._env(key[1])

        def flows(addresses: tuple[str, ...]) -> set[Flow] | None:
            sub = dataclasses.replace(env, address_sets={delta.name: addresses})
            out = related_only(self.compiles.compile(lf, sub, template=match), sub)
            return None if out.error else set(out.flows)

        shape = (delta.name, delta.placeholders, match)
        cached = self._as_base.get(key)
        if cached is not None and cached[0] == shape:
            base: set[Flow] | None = cached[1]
        else:
            base = flows(delta.placeholders)
            if base is not None:
                self._as_base[key] = (shape, base)
        if base is None:
            return False
        unit = self.ofctrl.units.get(key, {})
        if not base and not unit:
            return True  # nothing in this shape has flows here (no port of @pg is local)
        moved = member_flows(base, delta)
        if moved is None:  # compiled with the members, the placeholders' flows taken out
            removed = flows(delta.removed + delta.placeholders) if delta.removed else base
            added = flows(delta.added + delta.placeholders) if delta.added else base
            if removed is None or added is None:
                return False
            moved = (removed - base, added - base)
        gone, new = moved
        if any(f not in unit for f in gone):
            return False
        self.stats[stat] += 1
        self.ofctrl.patch_unit(key, gone, new)
        return True

    def _patch_port_group(self, key: LflowKey, short: str, before: tuple[str, ...],
                          after: tuple[str, ...]) -> bool:
        """A port group whose local ports came or went: just the flows of those ports
        (set_patch.port_group_moves). False: recompile the lflow."""
        lf = self.sb.tables["Logical_Flow"].get(key[0])
        comp = self._lflows.get(key)
        if lf is None or comp is None or comp.error:
            return False
        moved = port_group_moves(self.compiles, lf, self._env(key[1]), comp.refs, short,
                                 before, after)
        unit = self.ofctrl.units.get(key, {})
        if moved is None or any(f not in unit for f in moved[0]):
            return False
        self.stats["port_group_patches"] += 1
        self.ofctrl.patch_unit(key, *moved)
        return True

    def _related(self, dp: str, port: str) -> bool:
        p = self.rt.state.ports.get(port)
        if p is None or p.dp_uuid != dp:
            return True  # unknown here: compile it and let the lookup decide
        env = self._env(dp)
        return env.related_port_keys is None or p.key in env.related_port_keys

    def _env(self, dp: str) -> LflowEnv:
        if self._env_state is not self.rt.state:  # built from another runtime state
            self._envs, self._env_state = {}, self.rt.state
        env = self._envs.get(dp)
        if env is None:
            env = self._envs[dp] = self._make_env(dp)
        return env

    def _make_env(self, dp: str) -> LflowEnv:
        st = self.rt.state
        ports = st.ports
        mcs = self.mc_index

        def lookup(name: str) -> int | None:
            if name == "none":  # lflow.c lookup_port_cb: the "no output port yet" key
                return 0
            p = ports.get(name)
            if p is not None and p.dp_uuid == dp:
                return p.key
            return mcs.get((dp, name))

        related = frozenset(
            [ports[n].key for n in st.vif_ofports if ports[n].dp_uuid == dp]
            + [p.key for p in self.rt.special.values() if p.dp_uuid == dp and p.type in (
                "patch", "localnet", "l2gateway", "l3gateway",
                "chassisredirect", "virtual")])  # a localport: where plugged (vif_ofports)
        return LflowEnv(
            dp_key=st.dp_keys.get(dp, 0), is_switch=st.dp_switch.get(dp, True),
            lookup_port=lookup, is_chassis_resident=lambda n: n in st.resident,
            address_sets=self._as_index,
            port_groups=_PortGroups(self._pg_local, st.dp_keys.get(dp, 0)),
            related_port_keys=related,
            common_nat_zone="reg12" if st.dp_snat_zone.get(dp) else "reg11")

class _PortGroups(dict):
    """SB Port_Group by name.  OVN 22.03's northd writes one group per datapath,
    `<datapath tunnel key>_<name>`; plain names are accepted too."""

    def __init__(self, index: dict[str, tuple[str, ...]], dp_key: int) -> None:
        super().__init__()
        self._index = index
        self._dp_key = dp_key

    def get(self, name: str, default: Any = ()) -> Any:
        found = self._index.get(f"{self._dp_key}_{name}")
        if found is None:
            found = self._index.get(name)
        return default if found is None else found


def changed_lport_names(changes: list[Change], names: set[str]) -> set[str]:
    """Ports whose binding changed, by name (old and new), returned; added to `names`:
    those whose lookups logical flows see moved (name, key or datapath)."""
    pb_names: set[str] = set()
    for c in changes:
        if c.table != "Port_Binding":
            continue
        for r in (c.old, c.new):
            if r is not None:
                pb_names.add(r["logical_port"])
        # Only what port-name lookups see matters to logical flows (residency is
        # tracked separately).
        if c.old is None or c.new is None or any(
                c.old[k] != c.new[k] for k in ("logical_port", "tunnel_key", "datapath")):
            names.update(r["logical_port"] for r in (c.old, c.new) if r is not None)
    return pb_names
