"""ovn-trace: the real ovn-trace 22.03 vs ovnlab's, for the brief's packets (VM to the
internet, an external host to the FIP, east-west, hairpin, another VM's FIP, ARP for the
router's IPs; tests/tools/ovn_trace_packets.py) on several Northbound states:

- the tool alone: both on the SAME Southbound (the lab's, exported and served by a real
  ovsdb-server), byte for byte, `--all`;
- the whole pipeline: real ovn-northd + real ovn-trace on the lab's exported Northbound vs
  ovnlab's northd + ovn-trace, `--minimal` (what is visible outside), equal once the
  tunnel keys (allocated in each northd's order) are erased; the differences left are
  named in TRACE_ALLOWED with the lflow allow-list entry that explains them, and each
  must still show (so the list shrinks as northd catches up).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from corpus import NAMED
from ovn22 import ovn22_dir, require_real
from real_ovn import Central, run

from ovnlab.lab import Lab

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))  # the packets
from ovn22_real import real_southbound  # noqa: E402
from ovn_trace_packets import TracePacket, diff, lab_ids, packets  # noqa: E402

pytestmark = pytest.mark.differential


def _two_subnets(dvr: bool) -> Lab:
    """The seed after the article, plus a second tenant subnet with a VM and its FIP."""
    lab = next(s for s in NAMED if s.name == ("seed-dvr-on" if dvr else "seed-dvr-off")).build()
    os = lab.openstack
    os.network_create("n2", provider_network_type="geneve")
    os.subnet_create("n2subnet", network="n2", subnet_range="172.16.200.0/24")
    os.router_add_subnet("r", "n2subnet")
    os.server_create("vm_2", network="n2", host="compute2")
    os.server_add_floating_ip("vm_2", os.floating_ip_create("ext_n2")["floating_ip_address"])
    return lab


_NAMED = {s.name: s.build for s in NAMED}
STATES: dict[str, Callable[[], Lab]] = {
    "seed-two-subnets-dvr-on": lambda: _two_subnets(True),
    "seed-two-subnets-dvr-off": lambda: _two_subnets(False),
    **{name: _NAMED[name] for name in ("gw-only", "cloud-2nets-gw-fips",
                                        "cloud-2nets-gw-fips-dvr-off")},
}

# packet → the lflow allow-list entry (tests/differential/allowed.py) that explains it
TRACE_ALLOWED: dict[str, str] = {}
_FORMATS = ("--all", "--summary", "--detailed")
_KEYS = re.compile(r"\breg1([45])=0x[0-9a-f]+")


def _ours(lab: Lab) -> Callable[[list[str]], str]:
    def trace(args: list[str]) -> str:
        res = lab.exec("network", ["ovn-trace", *args])
        assert res.rc == 0, res.stderr
        return res.stdout

    return trace


@pytest.mark.parametrize("state", list(STATES))
def test_same_southbound(state: str, tmp_path: Path) -> None:
    require_real()
    lab = STATES[state]()
    for node in ("vm_1", "vm0"):  # MAC_Bindings for get_arp, when the state has the VM
        if node in lab.node_names():
            lab.exec(node, "ping -c 1 8.8.8.8")
    ids = lab_ids(lab)
    (tmp_path / "sb.db").write_bytes(lab.export("sb"))
    with real_southbound(ovn22_dir(), tmp_path, tmp_path / "sb.db") as sb:
        assert diff(lambda a: sb.ovn_trace(a).stdout, _ours(lab), packets(ids)) == {}


@pytest.mark.parametrize("state", list(STATES))
def test_same_path_as_real_northd_and_ovn_trace(state: str, central: Central) -> None:
    lab = STATES[state]()
    central.load_nb(lab.export("nb"))
    # what is visible outside, without the table walk
    cases = [TracePacket(c.name, ("--minimal", *(a for a in c.args if a not in _FORMATS)))
             for c in packets(lab_ids(lab))]

    def real(args: list[str]) -> str:
        return _KEYS.sub(r"reg1\1=KEY", run(central.bin / "ovn-trace",
                                            f"--db=unix:{central.sock('sb')}", *args))

    def ours(args: list[str]) -> str:
        return _KEYS.sub(r"reg1\1=KEY", _ours(lab)(args))

    got = diff(real, ours, cases)
    unexplained = {k: v for k, v in got.items() if k not in TRACE_ALLOWED}
    assert unexplained == {}
    assert set(got) == set(TRACE_ALLOWED), "an allowed difference is gone: shrink TRACE_ALLOWED"
