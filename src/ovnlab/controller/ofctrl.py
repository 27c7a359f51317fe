"""ofctrl (controller/ofctrl.c, OVN 22.03): the desired br-int table, kept per producing
unit (an lflow on a datapath, a port binding, a multicast group...), and the installed
table it is diffed against: the first put installs everything, later ones only the flows
whose key (table, priority, match) changed (ofctrl_put).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import Any

from ovnlab.controller.chassis import BR_INT
from ovnlab.controller.lflow import OFFlow
from ovnlab.controller.ofpacts import Conjunction
from ovnlab.flows import Flow, FlowError, parse_actions, parse_flow, parse_match
from ovnlab.flows.parse import check_actions
from ovnlab.packet import Packet

FlowKey = tuple[int, int, Any]  # (table, priority, match): one installed flow per key
# OFFlow (without its cookie) → the engine's Flow, or why the engine refused it; its
# match and its actions alone → parsed. Pure functions of their keys, so shared by all
# chassis, which share most matches and actions even where whole flows differ (the
# number of a tunnel port, a conntrack zone).
_FLOW_CACHE: dict[tuple[Any, ...], Flow | str] = {}
_MATCH_CACHE: dict[Any, tuple[Any, dict[str, tuple[int, int]]]] = {}
_ACTIONS_CACHE: dict[tuple[Any, ...], tuple[tuple[Any, ...], tuple[str, ...]]] = {}
_CACHE_LIMIT = 200_000


def engine_flow(f: OFFlow) -> Flow | str:
    """`f` as the flow engine's Flow, exactly what `parse_flow(f.ofctl())` gives, or why
    the engine refuses it (an action it lacks)."""
    try:
        match = _MATCH_CACHE.get(f.match)
        if match is None:
            parsed = parse_match(f.match_text())
            match = _MATCH_CACHE[f.match] = (parsed, {n: (v, m) for n, v, m in parsed})
        actions = _ACTIONS_CACHE.get(f.actions)
        if actions is None:
            set_fields: list[str] = []
            actions = _ACTIONS_CACHE[f.actions] = (
                parse_actions(f.actions_text(), set_fields=set_fields), tuple(set_fields))
        check_actions(match[1], *actions)
    except (FlowError, ValueError) as err:
        return str(err)
    return Flow(f.table, f.priority, f.cookie, match[0], actions[0])


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
        # unit → the flows it wants; flow key → the contributions of every unit there
        self.units: dict[Hashable, dict[OFFlow, None]] = {}
        self._contrib: dict[FlowKey, list[OFFlow]] = {}
        self._dirty_keys: set[FlowKey] = set()
        self._installed: dict[FlowKey, OFFlow] | None = None
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

    def set_unit(self, unit: Hashable, flows: Iterable[OFFlow]) -> None:
        """Replace what one unit contributes to the desired table, noting the keys touched."""
        old = self.units.pop(unit, None)
        if old:
            for f in old:
                self._withdraw(f)
        new = dict.fromkeys(flows)
        if new:
            self.units[unit] = new
            for f in new:
                self._contribute(f)

    def patch_unit(self, unit: Hashable, removed: set[OFFlow], added: set[OFFlow]) -> None:
        flows = self.units.setdefault(unit, {})
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

    def _contribute(self, f: OFFlow) -> None:
        k = (f.table, f.priority, f.match)
        self._contrib.setdefault(k, []).append(f)
        self._dirty_keys.add(k)

    def _withdraw(self, f: OFFlow) -> None:
        """Take back one contribution equal to `f` (equal flows are interchangeable)."""
        k = (f.table, f.priority, f.match)
        lst = self._contrib.get(k)
        if lst is not None:
            for i, g in enumerate(lst):
                if g is f or g == f:
                    del lst[i]
                    break
            if not lst:
                del self._contrib[k]
        self._dirty_keys.add(k)

    def _effective(self, key: FlowKey) -> OFFlow | None:
        """The one flow installed for a key: conjunction flows from several lflows merge
        (ofctrl_add_or_append_flow); otherwise the lowest cookie wins, deterministically."""
        lst = self._contrib.get(key)
        if not lst:
            return None
        if len(lst) == 1:
            return lst[0]
        plain = [f for f in lst if not (f.actions and all(type(a) is Conjunction
                                                          for a in f.actions))]
        if plain:
            return min(plain, key=lambda f: (f.cookie, f.actions_text()))
        acts = sorted({a for f in lst for a in f.actions},
                      key=lambda a: (a.id, a.clause))  # type: ignore[union-attr]
        return OFFlow(lst[0].table, lst[0].priority, lst[0].match, tuple(acts), 0)

    def flows(self) -> list[OFFlow]:
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
            desired = {(f.table, f.priority, f.match): f for f in self.flows()}
            br.replace_flows(self.to_engine(desired.values()))
            self._installed = desired
            self._dirty_keys.clear()
            return
        added: list[OFFlow] = []
        removed: list[OFFlow] = []
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
        for f in removed:
            for obj in self.to_engine([f]):
                br.del_flows(obj, strict=True)
        for obj in self.to_engine(added):
            br.add_flow(obj)

    def to_engine(self, flows: Iterable[OFFlow], texts: Iterable[str] = ()) -> list[Flow]:
        out: list[Flow] = []
        for f in flows:
            # Keyed without the cookie: a replaced lflow often yields the same flows under a
            # new cookie. Shared by every chassis: most flows are the same on all of them.
            key = (f.table, f.priority, f.match, f.actions)
            obj = _FLOW_CACHE.get(key)
            if obj is None:
                if len(_FLOW_CACHE) > _CACHE_LIMIT:
                    for cache in (_FLOW_CACHE, _MATCH_CACHE, _ACTIONS_CACHE):
                        cache.clear()
                obj = _FLOW_CACHE[key] = engine_flow(f)
            if isinstance(obj, str):
                self.install_errors[f.ofctl()] = obj
                continue
            if obj.cookie != f.cookie:
                obj = dataclasses.replace(obj, cookie=f.cookie)
            out.append(obj)
        out.extend(parse_flow(t) for t in texts)
        return out
