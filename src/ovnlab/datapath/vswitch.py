"""One node's Open vSwitch: its bridges, the `Open_vSwitch` row's external_ids, and the
single conntrack that ovs-vswitchd shares between its bridges."""

from __future__ import annotations

from collections.abc import Callable

from ovnlab.datapath.bridge import Bridge
from ovnlab.datapath.conntrack import Conntrack
from ovnlab.datapath.port import PORT_TYPES
from ovnlab.errors import Conflict, NotFound


class Vswitch:
    def __init__(self, hostname: str, *, clock: Callable[[], float] | None = None) -> None:
        self.hostname = hostname
        self._clock: Callable[[], float] = clock or (lambda: 0.0)
        self.conntrack = Conntrack(self.now)
        self.bridges: dict[str, Bridge] = {}
        self.external_ids: dict[str, str] = {"hostname": hostname}
        self.ovs_version = "3.1.0"
        # Open_vSwitch:iface_types, the interface types this switch can create
        self.iface_types = tuple(sorted(t for t in PORT_TYPES if t))
        # True once BFD sessions run on this switch's tunnels (the fabric's BfdRunner):
        # Interface.bfd_status is theirs, no longer ovn-controller's belief.
        self.runs_bfd = False
        self.bfd_show: Callable[[str | None], str] | None = None  # `ovs-appctl bfd/show`
        # what brings the OpenFlow controller's flows in before a bridge's table is read
        # or run (the fabric's chassis sets it: controller/deferral.py)
        self.before_read: Callable[[], None] = lambda: None

    def now(self) -> float:
        return self._clock()

    def _before_read(self) -> None:
        self.before_read()

    def set_clock(self, clock: Callable[[], float]) -> None:
        """Use the lab's virtual clock for flow ages, MAC aging and conntrack timeouts."""
        self._clock = clock

    def add_bridge(self, name: str, fail_mode: str | None = None) -> Bridge:
        if name in self.bridges:
            raise Conflict(f"cannot create a bridge named {name} because a bridge named "
                           f"{name} already exists")
        bridge = Bridge(name, fail_mode=fail_mode, conntrack=self.conntrack, clock=self.now,
                        before_read=self._before_read)
        self.bridges[name] = bridge
        return bridge

    def del_bridge(self, name: str) -> None:
        if self.bridges.pop(name, None) is None:
            raise NotFound(f"no bridge named {name}")

    def bridge(self, name: str) -> Bridge:
        try:
            return self.bridges[name]
        except KeyError:
            raise NotFound(f"no bridge named {name}") from None

    def bridge_of_port(self, port: str) -> Bridge | None:
        for bridge in self.bridges.values():
            if port in bridge.ports:
                return bridge
        return None
