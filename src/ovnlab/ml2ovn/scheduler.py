"""Gateway chassis scheduling for router gateway ports (neutron/scheduler/l3_ovn_scheduler.py
and `OVNClient.get_candidates_for_scheduling`), reading chassis from the SB `Chassis` table.

Candidates follow the rule of the seed's era (Neutron <= Zed): chassis with the external
network's physnet in `ovn-bridge-mappings` and `enable-chassis-as-gw` in `ovn-cms-options`;
if none is flagged, every chassis with the mapping; failing that, the flagged chassis
(`cms_bmaps or bmaps or cms`). At most MAX_GW_CHASSIS; the first chassis gets the highest
priority. Neutron builds the candidate list from a set, so ties are in arbitrary order; here
they keep the order the chassis registered in the SB, which makes runs reproducible.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ovnlab.ml2ovn import names
from ovnlab.ovsdb import Database, Row


@dataclass(frozen=True, slots=True)
class ChassisInfo:
    name: str  # system-id
    hostname: str
    physnets: tuple[str, ...]
    is_gateway: bool


def chassis_info(row: Row) -> ChassisInfo:
    def opt(key: str) -> str:
        return str(row["other_config"].get(key) or row["external_ids"].get(key) or "")

    physnets = tuple(m.split(":", 1)[0].strip() for m in opt("ovn-bridge-mappings").split(",") if ":" in m)
    cms = [o.strip() for o in opt("ovn-cms-options").split(",")]
    return ChassisInfo(row["name"], row["hostname"], physnets, names.CMS_OPT_CHASSIS_AS_GW in cms)


def all_chassis(sb: Database) -> list[ChassisInfo]:
    return [chassis_info(r) for r in sb.rows("Chassis")]


def candidates(chassis: Iterable[ChassisInfo], physnet: str | None) -> list[str]:
    """`get_candidates_for_scheduling` (pre-2024 rule, see module docstring)."""
    chassis = list(chassis)
    cms = [c.name for c in chassis if c.is_gateway]
    cms_bmaps = [c.name for c in chassis if physnet and physnet in c.physnets and c.is_gateway]
    bmaps = [c.name for c in chassis if physnet and physnet in c.physnets and not c.is_gateway]
    return cms_bmaps or bmaps or cms


def is_invalid(name: str, chassis: Mapping[str, ChassisInfo], physnet: str | None) -> bool:
    """`utils.is_gateway_chassis_invalid` (without availability zones)."""
    info = chassis.get(name)
    if info is None:
        return True
    if physnet and physnet not in info.physnets:
        return True
    gw = [c for c in chassis.values() if c.is_gateway]
    return bool(gw) and not info.is_gateway


def gateway_bindings(nb: Database, cands: list[str]) -> dict[str, list[tuple[str, int]]]:
    """`get_all_chassis_gateway_bindings`: candidate -> [(lrp name, priority)] it hosts."""
    bindings: dict[str, list[tuple[str, int]]] = {c: [] for c in cands}
    gwcs = nb.tables["Gateway_Chassis"]
    for lrp in nb.rows("Logical_Router_Port"):
        if not lrp["name"].startswith("lrp-"):
            continue
        for uuid in lrp["gateway_chassis"]:
            gwc = gwcs.get(uuid)
            if gwc is not None and gwc["chassis_name"] in bindings:
                bindings[gwc["chassis_name"]].append((lrp["name"], gwc["priority"]))
    return bindings


class Scheduler:
    """`OVNGatewayLeastLoadedScheduler` / `OVNGatewayChanceScheduler` (seeded)."""

    def __init__(self, kind: str = "leastloaded", seed: int = 0) -> None:
        if kind not in ("leastloaded", "chance"):
            raise ValueError(f"unknown ovn_l3_scheduler {kind!r}")
        self.kind = kind
        self._rng = random.Random(f"ovn_l3_scheduler:{seed}")

    def select(self, nb: Database, cands: list[str], existing: list[str] | None = None) -> list[str]:
        """`_schedule_gateway`: existing chassis first, then up to MAX_GW_CHASSIS in total."""
        existing = list(existing or [])
        new = [c for c in cands if c not in existing]
        if existing and (not new or len(existing) >= names.MAX_GW_CHASSIS):
            return existing[: names.MAX_GW_CHASSIS]
        if not new:
            return []
        count = names.MAX_GW_CHASSIS - len(existing)
        return existing + self._order(nb, new)[:count]

    def _order(self, nb: Database, cands: list[str]) -> list[str]:
        if self.kind == "chance":
            shuffled = list(cands)
            self._rng.shuffle(shuffled)
            return shuffled
        bindings = gateway_bindings(nb, cands)

        def load(name: str) -> list[tuple[int, int]]:
            per_prio: dict[int, int] = {}
            for _lrp, prio in bindings[name]:
                per_prio[prio] = per_prio.get(prio, 0) + 1
            return sorted(per_prio.items(), reverse=True)

        return sorted(cands, key=load)
