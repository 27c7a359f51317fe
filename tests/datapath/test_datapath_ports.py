"""A bridge's port generation moves at every change to its ports, by whatever path, and
only then: ovn-controller reads the VIFs and the tunnels' BFD state again only when it
moved (controller.Controller._ovs_view)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ovnlab.datapath.port import Port
from ovnlab.datapath.vswitch import Vswitch
from ovnlab.tools import ovs_vsctl


def _switch() -> tuple[Vswitch, Port]:
    vs = Vswitch("h")
    br = vs.add_bridge("br-int")
    return vs, br.add_port("tap1", external_ids={"iface-id": "p1"})


CHANGES: dict[str, Callable[[Vswitch, Port], Any]] = {
    "add-port": lambda vs, _p: vs.bridges["br-int"].add_port("tap2"),
    "del-port": lambda vs, _p: vs.bridges["br-int"].del_port("tap1"),
    "external-id": lambda _vs, p: p.external_ids.__setitem__("iface-id", "p2"),
    "external-id-removed": lambda _vs, p: p.external_ids.pop("iface-id"),
    "bfd-enabled": lambda _vs, p: p.bfd.update({"enable": "true"}),
    "bfd-status": lambda _vs, p: p.bfd_status.setdefault("forwarding", "true"),
    "column-replaced": lambda _vs, p: setattr(p, "options", {"remote_ip": "1.2.3.4"}),
    "replaced-then-changed": lambda _vs, p: (setattr(p, "bfd", {}),
                                             p.bfd.__setitem__("enable", "true")),
    "type": lambda _vs, p: setattr(p, "type", "internal"),
    "ovs-vsctl": lambda vs, _p: ovs_vsctl.run(
        vs, ["set", "interface", "tap1", "external_ids:iface-id=p9"]),
}


@pytest.mark.parametrize("change", CHANGES, ids=list(CHANGES))
def test_every_change_moves_the_generation(change: str) -> None:
    vs, port = _switch()
    br = vs.bridges["br-int"]
    before = br.port_generation
    CHANGES[change](vs, port)
    assert br.port_generation > before


def test_setting_what_is_already_there_does_not() -> None:
    vs, port = _switch()
    br = vs.bridges["br-int"]
    before = br.port_generation
    port.external_ids["iface-id"] = "p1"
    port.bfd_status.clear()
    assert ovs_vsctl.run(vs, ["set", "interface", "tap1", "external_ids:iface-id=p1"]).rc == 0
    assert br.port_generation == before


def test_a_deleted_port_no_longer_moves_it() -> None:
    vs, port = _switch()
    br = vs.bridges["br-int"]
    br.del_port("tap1")
    before = br.port_generation
    port.external_ids["iface-id"] = "p2"
    assert br.port_generation == before
