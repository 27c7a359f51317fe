"""HA_Chassis_Group.ref_chassis, the chassis the gateway's members run BFD to: ovnlab's
northd against the real 22.03 northd, the same cloud built on both backends, read with
`ovn-sbctl` on each (a VM booted on compute2 adds it, its deletion takes it away)."""

from __future__ import annotations

import os
from typing import Any

import pytest
from ovn22 import require_real
from scenario_backends import lab_for

from ovnlab.scenario import run_article
from ovnlab.topology import Backend


def _ref_hostnames(lab: Any) -> list[list[str]]:
    """Each gateway's HA_Chassis_Group's ref_chassis, by hostname, as `ovn-sbctl` says."""
    def sbctl(*args: str) -> str:
        return str(lab.exec("network", ["ovn-sbctl", "--bare", *args]).stdout)

    groups = []
    for refs in sbctl("--columns=ref_chassis", "list", "HA_Chassis_Group").split("\n\n"):
        names = [sbctl("--columns=hostname", "list", "Chassis", u).strip()
                 for u in refs.split()]
        groups.append(sorted(names))
    return sorted(groups)


def _steps(lab: Any) -> list[list[list[str]]]:
    run_article(lab.openstack)
    seen = [_ref_hostnames(lab)]
    lab.openstack.server_create("vm_2", network="n1", host="compute2")
    seen.append(_ref_hostnames(lab))
    lab.openstack.server_delete("vm_2")
    seen.append(_ref_hostnames(lab))
    return seen


def test_ref_chassis_follow_the_claims_as_the_real_northd_writes_them() -> None:
    if os.geteuid() != 0:
        pytest.skip("the real backend needs root (network namespaces)")
    require_real()
    with lab_for(Backend.OVN.value) as real:
        expected = _steps(real)
    with lab_for(Backend.EMULATED.value) as ours:
        assert _steps(ours) == expected
    assert expected[0] != expected[1]  # vm_2's claim on compute2 showed, on both sides
