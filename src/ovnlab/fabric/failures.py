"""The failures an operator made (`ovnlab node stop|kill`, `ovnlab link down`), as data: what
a lab keeps across `ovnlab down` / `ovnlab up`, and puts back on the fabric when it starts.

    failures = Failures.of(fabric)          # what is down now
    Failures.from_dict(failures.to_dict())  # its JSON form, checked
    failures.apply(fabric)                  # the same things down again
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ovnlab.fabric.nodes import Chassis, Daemon


@dataclass(frozen=True, slots=True)
class Failures:
    stopped: tuple[str, ...] = ()  # chassis powered off (their VMs with them)
    killed: tuple[tuple[str, str], ...] = ()  # (chassis, daemon) on a chassis that is on
    links_down: tuple[tuple[str, str], ...] = ()  # (node, interface) on a node that is on

    def __bool__(self) -> bool:
        return bool(self.stopped or self.killed or self.links_down)

    @classmethod
    def of(cls, fabric: Any) -> Failures:
        """What is down on `fabric` now (a daemon still starting counts as running)."""
        stopped, killed, links = [], [], []
        for name, node in fabric.nodes.items():
            if not node.powered:
                if isinstance(node, Chassis):
                    stopped.append(name)
                continue
            if isinstance(node, Chassis):
                killed += [(name, d.value) for d in Daemon
                           if d not in node.running and d not in node.booting]
            links += [(name, i) for i, iface in node.interfaces.items() if not iface.up]
        return cls(tuple(stopped), tuple(killed), tuple(links))

    def apply(self, fabric: Any) -> None:
        """Down again what is named and still exists (a VM deleted since is gone)."""
        for name in self.stopped:
            if name in fabric.chassis_names():
                fabric.stop_node(name)
        for name, daemon in self.killed:
            if name in fabric.chassis_names():
                fabric.chassis(name).kill(Daemon(daemon))
        for name, iface in self.links_down:
            if fabric.has_node(name) and fabric.has_interface(name, iface):
                fabric.interface(name, iface).up = False

    def to_dict(self) -> dict[str, Any]:
        return {"stopped": list(self.stopped), "killed": [list(k) for k in self.killed],
                "links_down": [list(k) for k in self.links_down]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Failures:
        """ValueError: not what `to_dict` writes."""
        try:
            stopped = tuple(_name(n) for n in data.get("stopped", ()))
            killed = tuple(_pair(p) for p in data.get("killed", ()))
            for _node, daemon in killed:
                Daemon(daemon)
            links = tuple(_pair(p) for p in data.get("links_down", ()))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"not a list of node failures: {exc}") from None
        return cls(stopped, killed, links)


def _name(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a name")
    return value


def _pair(value: Any) -> tuple[str, str]:
    if not isinstance(value, list) or len(value) != 2:
        raise ValueError(f"{value!r} is not a [node, name] pair")
    return _name(value[0]), _name(value[1])
