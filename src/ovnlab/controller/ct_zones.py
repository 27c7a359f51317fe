"""Conntrack zones (ovn-controller.c en_ct_zones / update_ct_zones, OVN 22.03)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from ovnlab.ovsdb import Database


def ct_zone_users(local_dps: Iterable[str], lports: Iterable[str],
                  sb: Database) -> tuple[set[str], dict[str, int]]:
    """Who needs a zone: each local lport, and a DNAT and an SNAT zone per local datapath
    (switches too, as OVN 22.03 does); and the zones datapaths request (`snat-ct-zone`)."""
    users = set(lports)
    requested: dict[str, int] = {}
    for dp in local_dps:
        users |= {f"{dp}_dnat", f"{dp}_snat"}
        row = sb.tables["Datapath_Binding"].get(dp)
        req = row["external_ids"].get("snat-ct-zone") if row is not None else None
        if req is not None and req.isdigit():
            requested[f"{dp}_snat"] = int(req)
    return users, requested


def update_ct_zones(zones: dict[str, int], users: set[str], requested: dict[str, int]) -> None:
    """`snat-ct-zone` requests are honoured; zones stay put while their user exists and
    new users get the lowest free ids."""
    for u in list(zones):
        if u not in users:
            del zones[u]
    for u, zone in requested.items():
        for other, z in list(zones.items()):
            if z == zone and other != u:
                del zones[other]
        zones[u] = zone
    used = set(zones.values())
    nxt = 1
    for u in sorted(users - set(zones)):
        while nxt in used:
            nxt += 1
        zones[u] = nxt
        used.add(nxt)


class CtZones:
    """en_ct_zones: the zones of the local lports and datapaths, kept stable."""

    def __init__(self, sb: Database, users: Callable[[], tuple[Iterable[str], Iterable[str]]]
                 ) -> None:
        self.sb = sb
        self._users = users  # (local datapaths, local lports) of the runtime data
        self.zones: dict[str, int] = {}

    def recompute(self) -> bool:
        before = dict(self.zones)
        local_dps, lports = self._users()
        update_ct_zones(self.zones, *ct_zone_users(local_dps, lports, self.sb))
        return self.zones != before
