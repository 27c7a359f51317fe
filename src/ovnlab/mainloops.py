"""The daemons' main loops as the lab's converger (`incproc.converge`) sees them: each
says whether it has work (`pending`) and runs one iteration (`run`). northd and the ML2/OVN
driver expose both themselves; ovn-controller's loop and ovs-vswitchd's BFD sync are
wrapped here, since what wakes them is the fabric (VIFs plugged, links, BFD sessions)."""

from __future__ import annotations

from collections.abc import Callable

from ovnlab.controller import Controller
from ovnlab.fabric import Chassis, Fabric


class ChassisLoop:
    """ovn-controller's main loop on one chassis, as the converger sees it: it has work
    when the lab woke it (its vswitch may have changed: VIFs plugged, links, BFD) or when
    its controller has SB changes queued; a killed ovn-controller has none. After each run
    ovs-vswitchd re-reads the tunnels' `bfd:enable` (`after`)."""

    def __init__(self, chassis: Chassis, controller: Controller,
                 after: Callable[[], None]) -> None:
        self.chassis = chassis
        self.controller = controller
        self.after = after
        self.woken = True

    def wake(self) -> None:
        self.woken = True

    @property
    def pending(self) -> bool:
        if not self.chassis.controller_up:
            return False
        return self.woken or self.controller.pending

    def run(self) -> None:
        self.woken = False
        self.controller.run()
        self.after()


class BfdSync:
    """Every ovs-vswitchd reconfiguring its BFD sessions from OVSDB after ovn-controllers
    ran; a session that changed wakes the controllers (tunnel liveness is their input)."""

    def __init__(self, fabric: Fabric) -> None:
        self.fabric = fabric
        self.loops: list[ChassisLoop] = []
        self.pending = True

    def wake(self) -> None:
        self.pending = True

    def run(self) -> None:
        self.pending = False
        if self.fabric.sync_bfd():
            for loop in self.loops:
                loop.wake()
