"""The Chassis rows: what real ovn-controller 22.03 writes of its settings
(chassis_build_other_config, into other_config and external_ids alike) vs ovnlab's, on
the seed's chassis, read with each side's `ovn-sbctl`."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from real_ovn import Central, RealChassis, Underlay, close_all

from ovnlab.lab import Lab

pytestmark = pytest.mark.differential

# what the switch says of itself: the real one runs br-int on the dummy datapath
SWITCH_KEYS = frozenset(("datapath-type", "iface-types"))
REGISTER_S = 30.0  # for the real chassis to write their rows


def _configs(sbctl: Callable[..., str]) -> dict[str, tuple[dict[str, str], dict[str, str]]]:
    """hostname → (other_config, external_ids), from `ovn-sbctl list Chassis`."""
    out = sbctl("--columns=hostname,other_config,external_ids", "list", "Chassis")
    rows = {}
    for block in out.strip().split("\n\n"):
        cols = dict(re.findall(r"^(\w+)\s*: (.*)$", block, re.M))
        rows[cols["hostname"].strip('"')] = (_map(cols["other_config"]),
                                             _map(cols["external_ids"]))
    return rows


def _map(text: str) -> dict[str, str]:
    pairs = re.findall(r'([\w-]+)=("(?:[^"\\]|\\.)*"|[^,}]*)', text.strip("{}"))
    return {k: v.strip('"') for k, v in pairs}


def _registered(central: Central, hosts: set[str],
                ) -> dict[str, tuple[dict[str, str], dict[str, str]]]:
    """The real Chassis rows once every chassis has written its own (`--wait=hv` waits
    only for the chassis already there)."""
    deadline = time.monotonic() + REGISTER_S
    while True:
        central.wait_hv()
        rows = _configs(central.sbctl) if central.sbctl("list", "Chassis").strip() else {}
        if set(rows) == hosts or time.monotonic() > deadline:
            return rows
        time.sleep(0.2)


def test_chassis_rows_carry_what_the_real_controller_writes(
        central: Central, underlay: Underlay, real_dir: Path) -> None:
    lab = Lab.build("seed")
    central.load_nb(lab.export("nb"))
    chassis: list[RealChassis] = []
    try:
        for node in lab.topology.nodes:
            chassis.append(RealChassis(
                central, underlay, real_dir / f"rows-{node.hostname}", node.system_id,
                node.hostname, node.tunnel_ip, node.bridge_mappings,
                ",".join(node.ovn_cms_options)))
        real = _registered(central, {n.hostname for n in lab.topology.nodes})
    finally:
        close_all(chassis)
    ours = _configs(lambda *args: lab.exec("network", ["ovn-sbctl", *args]).stdout)
    assert set(ours) == set(real) == {n.hostname for n in lab.topology.nodes}
    for host, (real_other, real_ext) in real.items():
        other, ext = ours[host]
        assert real_ext == real_other and ext == other, host  # one map, written twice
        assert set(other) == set(real_other), host
        assert {k: v for k, v in other.items() if k not in SWITCH_KEYS} == \
            {k: v for k, v in real_other.items() if k not in SWITCH_KEYS}, host
        switch = lab.controllers[host].vswitch
        assert other["iface-types"] == ",".join(switch.iface_types)
        assert other["datapath-type"] == ""  # br-int on the system datapath
