"""The control API's `node` verb on the real backend: real daemons killed and started
again, real links set down and up (`ip link set` in the node's namespace)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ovnlab.backends.ovn.chassis import ChassisRun
from ovnlab.backends.ovn.layout import Layout
from ovnlab.backends.ovn.netns import Netns
from ovnlab.backends.ovn.procs import Record
from ovnlab.backends.ovn.programs import Programs
from ovnlab.errors import BadRequest, NotFound
from ovnlab.fabric import Daemon


@dataclass(frozen=True, slots=True)
class Nodes:
    programs: Programs
    netns: Netns
    record: Record
    layout: Layout
    chassis: Mapping[str, ChassisRun]
    servers_on: Callable[[str], list[str]]  # chassis -> the names of its servers

    def act(self, action: str, name: str, arg: str = "") -> None:
        """stop (SIGKILL the chassis's ovs-vswitchd and ovn-controller, its NICs and its
        servers' down: powered off), start (links up, killed daemons started again),
        kill DAEMON, link-down/up IFACE."""
        if action in ("link-down", "link-up"):
            self.link(name, arg, action == "link-up")
            return
        ch = self.chassis.get(name)
        if ch is None:
            raise BadRequest(f"{name!r} is not a chassis (chassis: {', '.join(self.chassis)})")
        if action == "kill":
            try:
                ch.kill(Daemon(arg).value)
            except ValueError:
                raise BadRequest(f"unknown daemon {arg!r} (daemons: "
                                 f"{', '.join(d.value for d in Daemon)})") from None
        elif action == "stop":
            for daemon in (Daemon.OVN_CONTROLLER, Daemon.OVS_VSWITCHD):
                ch.kill(daemon.value)
            self._power(name, up=False)
        elif action == "start":
            self._power(name, up=True)
            for daemon in (Daemon.OVS_VSWITCHD, Daemon.OVN_CONTROLLER):
                if not ch.running(daemon.value):
                    ch.start_daemon(self.programs, self.netns, self.record, daemon.value)
        else:
            raise BadRequest(f"unknown node action {action!r} "
                             "(stop, start, kill, link-down, link-up)")

    def state(self, node: str) -> dict[str, Any]:
        if node not in self.chassis:
            return {"node": node, "links": self.links(node)}
        ch = self.chassis[node]
        return {"node": node, "daemons": {d.value: ch.running(d.value) for d in Daemon},
                "links": self.links(node)}

    def links(self, node: str) -> dict[str, bool]:
        """The node's NICs (not lo, not OVS's own taps) and whether each is up."""
        out = self.netns.exec(self.layout.ns(node), [self.programs["ip"], "-br", "link"])
        links: dict[str, bool] = {}
        for line in out.splitlines():
            name, state, *_ = line.split()
            name = name.split("@")[0]
            if name.startswith("eth"):
                links[name] = state != "DOWN"
        return dict(sorted(links.items()))

    def link(self, node: str, iface: str, up: bool) -> None:
        if iface not in self.links(node):
            raise NotFound(f"{node} has no interface {iface!r} "
                           f"(interfaces: {', '.join(self.links(node))})")
        self.netns.exec(self.layout.ns(node), [self.programs["ip"], "link", "set", "dev",
                                               iface, "up" if up else "down"])

    def _power(self, chassis: str, up: bool) -> None:
        for iface in self.links(chassis):
            self.link(chassis, iface, up)
        for server in self.servers_on(chassis):
            self.link(server, "eth0", up)
