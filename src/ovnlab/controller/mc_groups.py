"""The multicast groups' physical flows (physical.c consider_mc_group), kept per member:
each member port's part is worked out once and again only when its binding changes, so
a VM joining or leaving a network's `_MC_flood` redoes one part and the group's two
flows, not a walk over every member of the network (22.03 walks them all)."""

from __future__ import annotations

from collections.abc import Mapping

from ovnlab.controller import physical as ph
from ovnlab.controller.physical import PortInfo
from ovnlab.flows import Flow
from ovnlab.ovsdb import Row


class _Group:
    """One group's members and their parts: those with actions by UUID, and the
    remote chassis with the members on each."""

    __slots__ = ("info", "members", "acting", "on_chassis", "_built")

    def __init__(self, row: Row, dp_key: int) -> None:
        self.info = ph.McGroup(row.uuid, row["datapath"], dp_key, row["tunnel_key"])
        self.members: dict[str, ph.McMember] = {}  # port binding uuid → its part
        self.acting: dict[str, ph.McMember] = {}  # the parts with actions
        self.on_chassis: dict[str, set[str]] = {}  # remote chassis → its members
        self._built: tuple[object, list[Flow]] | None = None  # (what flows read, flows)

    def put(self, pb: str, part: ph.McMember | None) -> bool:
        """A member's part (None: no longer a member); False if it was that already."""
        if self.members.get(pb) == part and (part is not None or pb not in self.members):
            return False
        old = self.members.pop(pb, None)
        if old is not None:
            self.acting.pop(pb, None)
            if old.chassis is not None:
                here = self.on_chassis[old.chassis]
                here.discard(pb)
                if not here:
                    del self.on_chassis[old.chassis]
        if part is None:
            return True
        self.members[pb] = part
        if part.local or part.remote:
            self.acting[pb] = part
        if part.chassis is not None:
            self.on_chassis.setdefault(part.chassis, set()).add(pb)
        return True

    def flows(self, ctx: ph.PhysCtx) -> list[Flow]:
        """The group's flows; built again only when the parts with actions or the
        remote chassis's order moved (a VM booting on a chassis the group already
        reaches changes nothing on the others)."""
        parts = tuple(self.acting[u] for u in sorted(self.acting))
        # sset_add() order: each chassis where the UUID-ordered walk first meets it
        chassis = tuple(sorted(self.on_chassis, key=lambda c: min(self.on_chassis[c])))
        if self._built is None or self._built[0] != (parts, chassis):
            self._built = ((parts, chassis), ph.mc_flows(ctx, self.info, parts, chassis))
        return self._built[1]


class McGroups:
    """Every Multicast_Group's members and parts, and the groups of each port binding."""

    def __init__(self) -> None:
        self._groups: dict[str, _Group] = {}
        self.of_port: dict[str, set[str]] = {}  # port binding uuid → its groups

    def clear(self) -> None:
        self._groups, self.of_port = {}, {}

    def set_group(self, ctx: ph.PhysCtx, row: Row, dp_key: int,
                  names: Mapping[str, str]) -> None:
        """A group (re)built from its row, every member's part worked out again."""
        self.drop_group(row.uuid)
        g = self._groups[row.uuid] = _Group(row, dp_key)
        for pb in row["ports"]:
            self._add(g, pb, ctx, names)

    def update_members(self, ctx: ph.PhysCtx, row: Row, names: Mapping[str, str]) -> bool:
        """A group whose row changed only in its ports: the parts of the ports that came
        or went. False: not so (build it with set_group)."""
        g = self._groups.get(row.uuid)
        if g is None or (row["datapath"], row["tunnel_key"]) != (g.info.dp_uuid, g.info.key):
            return False
        now = set(row["ports"])
        for pb in [u for u in g.members if u not in now]:
            g.put(pb, None)
            self._unindex(pb, row.uuid)
        for pb in now.difference(g.members):
            self._add(g, pb, ctx, names)
        return True

    def update_port(self, ctx: ph.PhysCtx, pb: str, names: Mapping[str, str]) -> set[str]:
        """One member's binding changed: its part again in each of its groups; the groups
        where it moved, returned."""
        moved = set()
        for uuid in self.of_port.get(pb, ()):
            g = self._groups[uuid]
            if g.put(pb, _part(ctx, g, pb, names)):
                moved.add(uuid)
        return moved

    def flows(self, ctx: ph.PhysCtx, uuid: str) -> list[Flow]:
        return self._groups[uuid].flows(ctx)

    def drop_group(self, uuid: str) -> None:
        g = self._groups.pop(uuid, None)
        for pb in g.members if g is not None else ():
            self._unindex(pb, uuid)

    def _add(self, g: _Group, pb: str, ctx: ph.PhysCtx, names: Mapping[str, str]) -> None:
        g.put(pb, _part(ctx, g, pb, names))
        self.of_port.setdefault(pb, set()).add(g.info.uuid)

    def _unindex(self, pb: str, group: str) -> None:
        groups = self.of_port.get(pb)
        if groups is not None:
            groups.discard(group)
            if not groups:
                del self.of_port[pb]


def _part(ctx: ph.PhysCtx, g: _Group, pb: str, names: Mapping[str, str]) -> ph.McMember:
    name = names.get(pb)
    p: PortInfo | None = ctx.ports.get(name) if name is not None else None
    return ph.mc_member(ctx, g.info.dp_uuid, p)
