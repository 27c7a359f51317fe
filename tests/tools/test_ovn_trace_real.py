"""ovnlab's ovn-trace against the REAL ovn-trace 22.03 on the SAME Southbound, byte for byte:

- the lab's own SB (`lab.export("sb")` served by a real ovsdb-server), for the seed lab
  with a second subnet and VM, DVR on and off, after pings that learned MAC_Bindings;
- the SB the real ovn-northd 22.03 writes for the seed's NB (populate-seed.sh), read back
  into ovnlab: the tool on flows ovnlab's northd did not write.

Skipped without ../shared/ovn-22.03 (or $OVN22_DIR); failed instead with OVNLAB_REQUIRE_REAL=1.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ovn22_real import ovn22_dir, real_northd, real_southbound
from ovn_trace_packets import Ids, TracePacket, Vm, diff, lab_ids, packets

from ovnlab.lab import Lab
from ovnlab.scenario import run_article
from ovnlab.tools import ovn_trace


@pytest.fixture(scope="module")
def ovn22() -> Path:
    return ovn22_dir()


@pytest.fixture(scope="module")
def lab() -> Lab:
    lab = Lab.build("seed")
    run_article(lab.openstack)
    os = lab.openstack
    os.network_create("n2", provider_network_type="geneve")
    os.subnet_create("n2subnet", network="n2", subnet_range="172.16.200.0/24")
    os.router_add_subnet("r", "n2subnet")
    os.server_create("vm_2", network="n2", host="compute2")
    os.server_add_floating_ip("vm_2", os.floating_ip_create("ext_n2")["floating_ip_address"])
    for node, dst in (("vm_1", "8.8.8.8"), ("vm_2", "8.8.8.8"), ("vm_1", "172.16.200.10")):
        lab.exec(node, f"ping -c 1 {dst}")  # MAC_Bindings for get_arp / lookup_arp
    return lab


def _compare_on_lab(lab: Lab, ovn22: Path, run: Path) -> dict[str, str]:
    db_file = run / "sb.db"
    db_file.write_bytes(lab.export("sb"))
    ids = lab_ids(lab)
    assert len(ids.vms) == 2 and all(vm.fip for vm in ids.vms)
    cases = packets(ids)
    with real_southbound(ovn22, run, db_file) as sb:
        def real(args: list[str]) -> str:
            res = sb.ovn_trace(args)
            assert res.returncode == 0, res.stderr
            return res.stdout

        def ours(args: list[str]) -> str:
            res = lab.exec("network", ["ovn-trace", *args])
            assert res.rc == 0, res.stderr
            return res.stdout

        return diff(real, ours, cases)


def test_same_trace_as_the_real_tool_on_the_labs_southbound(lab: Lab, ovn22: Path,
                                                            tmp_path: Path) -> None:
    assert _compare_on_lab(lab, ovn22, tmp_path) == {}


def test_same_trace_with_distributed_fips_off(lab: Lab, ovn22: Path, tmp_path: Path) -> None:
    lab.config_set("ovn.enable_distributed_floating_ip", "false")
    try:
        assert _compare_on_lab(lab, ovn22, tmp_path) == {}
    finally:
        lab.config_set("ovn.enable_distributed_floating_ip", "true")


# The seed's Northbound as populate-seed.sh writes it (names from that script).
SEED = Ids(
    vms=(Vm("2f58cde5-cfb3-41d8-a042-c4bc48f04fda", "fa:16:3e:a6:e3:4d", "172.16.100.10",
            "neutron-7f7206ca-ced4-4910-a8a8-21e5cd565b15", "172.16.100.1",
            "fa:16:3e:49:df:2c", "10.0.2.211"),),
    router="neutron-434ee75a-0c24-47bf-a8eb-f8c46d8c6eff",
    ext_switch="neutron-73c0ab78-8e9c-401c-bf5c-48cd4f38231d",
    localnet="provnet-73c0ab78-8e9c-401c-bf5c-48cd4f38231d",
    gw_ip="10.0.2.210", gw_mac="fa:16:3e:c3:09:0c")


def test_same_trace_as_the_real_tool_on_real_northds_southbound(ovn22: Path,
                                                                tmp_path: Path) -> None:
    with real_northd(ovn22, tmp_path / "ovn22", ovn22 / "populate-seed.sh") as sb:
        ours_db = sb.load()

        def real(args: list[str]) -> str:
            return sb.ovn_trace(args).stdout

        def ours(args: list[str]) -> str:
            return ovn_trace.run(ours_db, args).stdout

        cases = packets(SEED)
        bad_input = [("unknown datapath", ("nosuch", "ip4")),
                     ("no inport", ("ip4",)),
                     ("unknown port", ('inport == "zz" && ip4',)),
                     ("contradictory", (SEED.vms[0].network,
                                        f'inport == "{SEED.vms[0].port}" && ip4 && ip6')),
                     ("unknown port, datapath given", (SEED.vms[0].network,
                                                       'inport == "zz" && ip4')),
                     ("ambiguous", (SEED.vms[0].network,
                                    f'inport == "{SEED.vms[0].port}" && ip4.src == 10.0.0.1 && '
                                    "udp.dst != 53 && !ct.new && reg0[3] == 1 && "
                                    "ip4.dst == {1.1.1.1, 2.2.2.2}")),
                     ("masked and relational", (SEED.vms[0].network,
                                                f'inport == "{SEED.vms[0].port}" && '
                                                "ip4.src == 10.0.0.0/8 && tcp.dst < 1024"))]
        cases += [TracePacket(name, args) for name, args in bad_input]
        assert diff(real, ours, cases) == {}


# ------------------------------------------------------------------ random microflows

MACS = ("fa:16:3e:a6:e3:4d", "fa:16:3e:49:df:2c", "fa:16:3e:c3:09:0c", "fa:16:3e:fd:78:08",
        "ff:ff:ff:ff:ff:ff", "52:54:00:00:00:64", "01:00:5e:00:00:01")
IPS = ("172.16.100.10", "172.16.100.1", "172.16.100.99", "10.0.2.210", "10.0.2.211",
       "10.0.2.100", "10.0.2.2", "8.8.8.8", "224.0.0.1", "255.255.255.255", "0.0.0.0")
IPS6 = ("fe80::f816:3eff:fea6:e34d", "fe80::f816:3eff:fe49:df2c", "ff02::1", "ff02::1:ff49:df2c",
        "2001:db8::1")
CT = ("new", "est", "est,rpl", "rel", "inv", "new,rpl")


@st.composite
def microflows(draw: st.DrawFn) -> list[str]:
    inport = draw(st.sampled_from(("2f58cde5-cfb3-41d8-a042-c4bc48f04fda",
                                   "provnet-73c0ab78-8e9c-401c-bf5c-48cd4f38231d")))
    terms = [f'inport == "{inport}"', f"eth.src == {draw(st.sampled_from(MACS))}",
             f"eth.dst == {draw(st.sampled_from(MACS))}"]
    kind = draw(st.sampled_from(("icmp", "tcp", "udp", "arp", "ip4", "icmp6", "nd_ns")))
    src, dst = draw(st.sampled_from(IPS)), draw(st.sampled_from(IPS))
    if kind in ("icmp6", "nd_ns"):
        src6, dst6 = (draw(st.sampled_from(IPS6)) for _ in range(2))
        terms += [f"ip6.src == {src6}", f"ip6.dst == {dst6}",
                  f"ip.ttl == {255 if kind == 'nd_ns' else 64}",
                  f"icmp6.type == {135 if kind == 'nd_ns' else 128}", "icmp6.code == 0"]
        if kind == "nd_ns":
            terms.append(f"nd.target == {draw(st.sampled_from(IPS6))}")
    elif kind == "arp":
        terms += [f"arp.op == {draw(st.sampled_from((1, 2)))}", f"arp.spa == {src}",
                  f"arp.tpa == {dst}", f"arp.sha == {draw(st.sampled_from(MACS))}"]
    else:
        terms += ["ip4", f"ip4.src == {src}", f"ip4.dst == {dst}",
                  f"ip.ttl == {draw(st.sampled_from((0, 1, 2, 64, 255)))}"]
        if kind == "icmp":
            terms.append(f"icmp4.type == {draw(st.sampled_from((0, 3, 8, 11)))}")
        elif kind in ("tcp", "udp"):
            terms += [f"{kind}.src == {draw(st.integers(1, 65535))}",
                      f"{kind}.dst == {draw(st.sampled_from((22, 53, 67, 68, 80, 443)))}"]
    options = [f"--ct={c}" for c in draw(st.lists(st.sampled_from(CT), max_size=3))]
    options.append(draw(st.sampled_from(("--all", "--summary", "--minimal", "--detailed"))))
    if draw(st.booleans()):
        options.append("--no-friendly-names")
    return [*options, " && ".join(draw(st.permutations(terms)))]


Tracers = tuple[Callable[[list[str]], str], Callable[[list[str]], str]]


@pytest.fixture(scope="module", params=["real-northd-sb", "lab-sb"])
def both(request: pytest.FixtureRequest, ovn22: Path,
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tracers]:
    """(real, ovnlab) ovn-trace on one SB: real northd's for the seed, or the lab's."""
    run = tmp_path_factory.mktemp("ovn22")
    if request.param == "real-northd-sb":
        with real_northd(ovn22, run, ovn22 / "populate-seed.sh") as sb:
            ours_db = sb.load()
            yield (lambda args: sb.ovn_trace(args).stdout,
                   lambda args: ovn_trace.run(ours_db, args).stdout)
        return
    lab = request.getfixturevalue("lab")
    (run / "sb.db").write_bytes(lab.export("sb"))
    with real_southbound(ovn22, run, run / "sb.db") as served:
        yield (lambda args: served.ovn_trace(args).stdout,
               lambda args: lab.exec("network", ["ovn-trace", *args]).stdout)


@settings(max_examples=50, derandomize=True, database=None)
@given(args=microflows())
def test_random_microflows_trace_as_the_real_tool(both: Tracers, args: list[str]) -> None:
    real, ours = both
    assert diff(real, ours, [TracePacket("random", tuple(args))]) == {}
