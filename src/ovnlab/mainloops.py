"""The daemons' main loops as the lab's converger (`incproc.converge`) sees them: each
says whether it has work (`pending`) and runs one iteration (`run`). northd and the ML2/OVN
driver expose both themselves; ovn-controller's loop and ovs-vswitchd's BFD sync are
wrapped here, since what wakes them is the fabric (VIFs plugged, links, BFD sessions)."""

from __future__ import annotations

from collections.abc import Callable

from ovnlab.controller import Controller
from ovnlab.fabric import Chassis, Fabric
from ovnlab.fabric.metadata import agent_view as metadata_agent_view
from ovnlab.ovsdb import Database


class ChassisLoop:
    """ovn-controller's main loop on one chassis, as the converger sees it: it has work
    when the lab woke it (its vswitch may have changed: VIFs plugged, links, BFD) or when
    its controller has SB changes queued that cannot wait for an observer
    (controller/deferral.py); a killed ovn-controller has none. After each run
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
        self.controller.run_urgent()
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


class MetadataAgents:
    """Every chassis's ovn-metadata-agent following the Southbound (a namespace where a
    network's VMs are bound, its veth in br-int); only with `[ovn] ovn_metadata_enabled`,
    as Neutron deploys them. It has work when the SB moved since it last looked; a
    namespace plugged or unplugged wakes the controllers (their br-int changed)."""

    def __init__(self, fabric: Fabric, sb: Database, loops: list[ChassisLoop],
                 enabled: bool) -> None:
        self.fabric = fabric
        self.sb = sb
        self.loops = loops
        self.enabled = enabled
        self._seen = -1

    @property
    def pending(self) -> bool:
        return self.enabled and self.sb.seqno != self._seen

    def run(self) -> None:
        self._seen = self.sb.seqno
        if self.fabric.sync_metadata(metadata_agent_view(self.sb)):
            for loop in self.loops:
                loop.wake()
