"""ofctrl (controller/ofctrl.c, OVN 22.03): the desired br-int table, kept per producing
unit (an lflow on a datapath, a port binding, a multicast group...), and the installed
table it is diffed against: the first put installs everything, later ones only the flows
whose key (table, priority, match) changed (ofctrl_put). Flows are the flow model's
(`ovnlab.flows.Flow`), handed to the bridge as they are; one that ovs-vswitchd would
refuse (a field its match does not guarantee) goes to `install_errors` instead.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import Any

from ovnlab.controller.chassis import BR_INT
from ovnlab.flows import Conjunction, Flow, FlowError, format_actions
from ovnlab.flows.format import format_flow_mod, format_match
from ovnlab.flows.model import FlowKey, check_flow, flow_key
from ovnlab.packet import Packet


def dump_text(f: Flow) -> str:
    """ovn-controller's flow as a `dump-flows` line without cookie/duration/counters."""
    m = format_match(f.match, f.priority)
    return f"table={f.table}, {m + ' ' if m else ''}actions={format_actions(f.actions)}"


@dataclass(frozen=True, slots=True)
class PacketOut:
    """A packet the controller sends: resumed into `bridge` at `table` with `regs`
    (OVN's packet-out/resume), or sent straight out of port `output`."""

    packet: Packet
    in_port: str | None = "CONTROLLER"
    table: int | None = None
    regs: dict[str, int] | None = None
    output: str | None = None
    bridge: str = BR_INT
    tunnel: Any = None


class Ofctrl:
    """The desired flow table by unit, and what was installed on the bridge."""

    def __init__(self) -> None:
        # unit → the flows it wants: a tuple (most units never change in place; a tuple
        # is a fifth of a dict's size), a dict once patched; flow key → the
        # contributions of every unit there
        self.units: dict[Hashable, tuple[Flow, ...] | dict[Flow, None]] = {}
        # one flow where one unit contributes (nearly every key: no list), else a list
        self._contrib: dict[FlowKey, Flow | list[Flow]] = {}
        self._dirty_keys: set[FlowKey] = set()
        self._installed: dict[FlowKey, Flow] | None = None
        self.install_errors: dict[str, str] = {}  # flow text → why the engine refused it

    @property
    def installed(self) -> bool:
        return self._installed is not None

    def forget_installed(self) -> None:
        """ovs-vswitchd lost its flows: the next put installs the whole table."""
        self._installed = None

    def clear(self) -> None:
        for unit in list(self.units):
            self.set_unit(unit, [])

    def set_unit(self, unit: Hashable, flows: Iterable[Flow]) -> None:
        """Replace what one unit contributes to the desired table, noting the keys touched."""
        old = self.units.pop(unit, None)
        if old:
            for f in old:
                self._withdraw(f)
        new = tuple(dict.fromkeys(flows))
        if new:
            self.units[unit] = new
            for f in new:
                self._contribute(f)

    def patch_unit(self, unit: Hashable, removed: set[Flow], added: set[Flow]) -> None:
        flows = self.units.get(unit)
        if not isinstance(flows, dict):
            flows = self.units[unit] = dict.fromkeys(flows or ())
        for f in removed:
            if f in flows:
                del flows[f]
                self._withdraw(f)
        for f in added:
            if f not in flows:
                flows[f] = None
                self._contribute(f)
        if not flows:
            del self.units[unit]

    def _contribute(self, f: Flow) -> None:
        k = flow_key(f)
        cur = self._contrib.get(k)
        if cur is None:
            self._contrib[k] = f
        elif isinstance(cur, list):
            cur.append(f)
        else:
            self._contrib[k] = [cur, f]
        self._dirty_keys.add(k)

    def _withdraw(self, f: Flow) -> None:
        """Take back one contribution equal to `f` (equal flows are interchangeable)."""
        k = flow_key(f)
        cur = self._contrib.get(k)
        if isinstance(cur, list):
            for i, g in enumerate(cur):
                if g is f or g == f:
                    del cur[i]
                    break
            if len(cur) == 1:
                self._contrib[k] = cur[0]
        elif cur is not None and (cur is f or cur == f):
            del self._contrib[k]
        self._dirty_keys.add(k)

    def _effective(self, key: FlowKey) -> Flow | None:
        """The one flow installed for a key: conjunction flows from several lflows merge
        (ofctrl_add_or_append_flow); otherwise the lowest cookie wins, deterministically."""
        lst = self._contrib.get(key)
        if not isinstance(lst, list):
            return lst
        plain = [f for f in lst if not (f.actions and all(type(a) is Conjunction
                                                          for a in f.actions))]
        if plain:
            return min(plain, key=lambda f: (f.cookie, format_actions(f.actions)))
        acts = sorted({a for f in lst for a in f.actions},
                      key=lambda a: (a.id, a.clause))  # type: ignore[union-attr]
        return Flow(lst[0].table, lst[0].priority, 0, lst[0].match, tuple(acts))

    def flows(self) -> list[Flow]:
        """The desired table (what ovn-controller would install)."""
        out = []
        for k in self._contrib:
            f = self._effective(k)
            if f is not None:
                out.append(f)
        return out

    def put(self, br: Any) -> None:
        """Push the desired table to `br`: the first time all of it, then only the flows
        that differ from what was installed (ofctrl_put's diff)."""
        if not hasattr(br, "replace_flows"):
            return
        prev = self._installed
        if prev is None or not hasattr(br, "add_flow") or not hasattr(br, "del_flows"):
            desired = {flow_key(f): f for f in self.flows()}
            br.replace_flows(self._valid(desired.values()))
            self._installed = desired
            self._dirty_keys.clear()
            return
        added: list[Flow] = []
        removed: list[Flow] = []
        for k in self._dirty_keys:
            new = self._effective(k)
            old = prev.get(k)
            if new is None:
                if old is not None:
                    removed.append(old)
                    del prev[k]
            elif old is not new and old != new:
                added.append(new)
                prev[k] = new
        self._dirty_keys.clear()
        for f in self._valid(removed):
            br.del_flows(f, strict=True)
        for f in self._valid(added):
            br.add_flow(f)

    def _valid(self, flows: Iterable[Flow]) -> list[Flow]:
        """The flows the switch accepts; the others go to install_errors, as ovs-vswitchd
        answers OFPBAC_MATCH_INCONSISTENT (ofpacts_check_consistency)."""
        out: list[Flow] = []
        for f in flows:
            try:
                check_flow(f)
            except FlowError as err:
                self.install_errors[format_flow_mod(f)] = str(err)
                continue
            out.append(f)
        return out
