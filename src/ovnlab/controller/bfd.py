"""bfd.c (OVN 22.03): which chassis this one runs BFD with (bfd_calculate_chassis), BFD
enabled on their tunnels (bfd_run), and which peers count as up (the active tunnels)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ovnlab.controller.ha_chassis import ha_groups
from ovnlab.ovsdb import Database


class Liveness:
    """Which chassis count as up here: `set_alive`'s overrides, and, when the switch runs
    the BFD sessions, their forwarding state, read once per iteration (`refresh`)."""

    def __init__(self, me: str, vswitch: Any) -> None:
        self.me = me
        self.vswitch = vswitch
        self.overrides: dict[str, bool] = {}
        self.live: dict[str, bool] = {}  # this iteration's liveness (overrides + BFD)
        self._active: set[str] | None = None

    @property
    def bfd_driven(self) -> bool:
        return bool(getattr(self.vswitch, "runs_bfd", False))

    def read(self, br_int: Any) -> dict[str, bool]:
        """What the overrides and the tunnels' BFD sessions say now (reads only)."""
        live = dict(self.overrides)
        if self.bfd_driven:
            for port in br_int.ports.values():
                ch = (getattr(port, "external_ids", None) or {}).get("ovn-chassis-id")
                if ch and port.bfd.get("enable") == "true":
                    live[ch] = (self.overrides.get(ch, True)
                                and port.bfd_status.get("forwarding") == "true")
        return live

    def update(self, live: dict[str, bool]) -> None:
        """This iteration's view; the active tunnels are worked out again when asked."""
        self.live = live
        self._active = None

    def forget_active(self) -> None:
        self._active = None  # the SB may have moved since

    def is_alive(self, chassis: str) -> bool:
        """Whether `chassis` counts as up here: with BFD running on the tunnels, a peer
        is up while its tunnel's session forwards (bfd_calculate_active_tunnels)."""
        if chassis == self.me or not self.bfd_driven:
            return self.overrides.get(chassis, True)
        return self.live.get(chassis, False)

    def active_tunnels(self, peers: Iterable[str]) -> set[str]:
        """bfd_calculate_active_tunnels: the BFD peers whose session forwards (here: not
        declared dead), once per iteration."""
        if self._active is None:
            self._active = {ch for ch in peers if self.is_alive(ch)}
        return self._active


PEER_TABLES = ("HA_Chassis_Group", "HA_Chassis", "Chassis")  # what bfd_peers reads


def bfd_peers(me: str, sb: Database) -> set[str]:
    """bfd_calculate_chassis: for each HA chassis group of two or more, a member runs BFD
    to the other members and to the group's ref_chassis; a ref chassis to the members."""
    peers: set[str] = set()
    for group in ha_groups(sb):
        if len(group.members) < 2:
            continue
        if me in group.members:
            peers |= set(group.members) | group.ref_chassis
        elif me in group.ref_chassis:
            peers |= set(group.members)
    peers.discard(me)
    return peers


def sync_bfd(port: Any, enabled: bool, alive: bool, driven: bool) -> None:
    """bfd_run: BFD on the tunnel iff its chassis is a BFD peer. When the switch runs
    the sessions (`driven`) their status is theirs; otherwise (a controller without
    a fabric) the status is this controller's belief about the peer, which the
    datapath's bundle() follows (a tunnel without BFD forwards unless its peer is
    declared dead)."""
    bfd, status = getattr(port, "bfd", None), getattr(port, "bfd_status", None)
    if not isinstance(bfd, dict) or not isinstance(status, dict):
        return
    want = {"enable": "true", "check_tnl_key": "true"} if enabled else {}
    if bfd != want:
        bfd.clear()
        bfd.update(want)
    if driven:
        return
    state = "up" if alive else "down"
    if not enabled:
        status.clear()
        if not alive:
            status["forwarding"] = "false"
        return
    flaps = int(status.get("flap_count", "0"))
    if status.get("forwarding") != ("true" if alive else "false"):
        flaps += 1 if alive or status else 0
    status.update(diagnostic="No Diagnostic" if alive else "Control Detection Time Expired",
                  flap_count=str(flaps), forwarding="true" if alive else "false",
                  remote_diagnostic="No Diagnostic", remote_state=state, state=state)


def sync_bfd_all(br_int: Any, peers: set[str], liveness: Liveness) -> None:
    """bfd_run over the tunnel ports, once the state of this iteration is known."""
    for port in br_int.ports.values():
        ch = (getattr(port, "external_ids", None) or {}).get("ovn-chassis-id")
        if ch:
            sync_bfd(port, ch in peers, liveness.is_alive(ch), liveness.bfd_driven)
