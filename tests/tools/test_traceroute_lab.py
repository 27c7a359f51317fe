"""`traceroute` through `ovnlab exec`, compared with the real OVN 22.03 lab.

Real lab (/work/shared/ovn-22.03/lab.sh, vm1 with the FIP; exthost given forwarding and a
default route so that it stands in for extgw), `traceroute -n -w 1 -q 1 -m 3 8.8.8.8`:
    traceroute to 8.8.8.8 (8.8.8.8), 3 hops max, 60 byte packets
     1  172.16.100.1  1.784 ms
     2  10.0.2.2  0.844 ms
     3  *
the same hops 1 and 2 with -I and -T (hop 3 is silent there: nothing stands behind
exthost; here 8.8.8.8 answers). Without -n, `traceroute -w 1 -q 2 -m 3 -I 8.8.8.8`:
     1  172.16.100.1 (172.16.100.1)  0.831 ms  1.053 ms
Debian's traceroute 2.1.2 for the errors.
"""

from __future__ import annotations

import re

import pytest

from ovnlab.fabric import Fabric
from ovnlab.lab import Lab
from ovnlab.scenario import run_article

HOP = re.compile(r"^ ?(\d+)  (\S+)  \d+\.\d{3} ms")


@pytest.fixture(scope="module")
def lab() -> Lab:
    lab = Lab.build("seed")
    run_article(lab.openstack)
    return lab


def _hops(stdout: str) -> list[str]:
    return [m.group(2) for m in map(HOP.match, stdout.splitlines()[1:]) if m]


@pytest.mark.parametrize("method", ["", "-I ", "-T ", "-U "])
def test_hops_from_vm_1_through_the_fip(lab: Lab, method: str) -> None:
    r = lab.exec("vm_1", f"traceroute {method}-n -w 1 -q 1 -m 4 8.8.8.8")
    assert r.rc == 0, r.stderr
    assert r.stdout.splitlines()[0] == \
        "traceroute to 8.8.8.8 (8.8.8.8), 4 hops max, 60 byte packets"
    assert _hops(r.stdout) == ["172.16.100.1", "10.0.2.2", "8.8.8.8"]


def test_three_queries_per_hop_and_names(lab: Lab) -> None:
    r = lab.exec("vm_1", "traceroute -I -m 3 8.8.8.8")
    lines = r.stdout.splitlines()
    assert re.fullmatch(r" 1  172\.16\.100\.1 \(172\.16\.100\.1\)(  \d+\.\d{3} ms){3}", lines[1])
    assert re.fullmatch(r" 3  dns\.google \(8\.8\.8\.8\)(  \d+\.\d{3} ms){3}", lines[3])
    assert len(lines) == 4  # the destination answered: no fourth hop


def test_udp_probes_cross_the_router_and_come_back_un_natted(lab: Lab) -> None:
    lab.exec("vm_1", "traceroute -n -q 1 -f 2 -m 2 8.8.8.8")
    out = lab.exec("vm_1", "tcpdump -n -v -i eth0 --history icmp[0] == 11").stdout
    assert "    10.0.2.2 > 172.16.100.10: ICMP time exceeded in-transit, length 68" in out
    assert re.search(r"    172\.16\.100\.10\.\d+ > 8\.8\.8\.8\.33435: UDP, length 32", out)


def _world() -> Fabric:
    f = Fabric()
    f.add_segment("extnet0")
    f.add_external_router("extgw", "extnet0", "10.0.2.2", "02:00:0a:00:02:02", "10.0.2.0/24")
    f.add_internet_host("google-dns", "8.8.8.8", "dns.google")
    f.add_external_host("exthost", "extnet0", "10.0.2.100", "02:00:0a:00:02:64", "10.0.2.2",
                        "10.0.2.0/24")
    return f


def test_silent_hops_print_stars_after_the_wait() -> None:
    from ovnlab.tools import traceroute

    f = _world()
    f.node("google-dns").stack.taps.append(lambda p: True)  # type: ignore[attr-defined]
    start = f.now
    r = traceroute.run(f, "exthost", ["-n", "-m", "3", "-w", "2", "8.8.8.8"])
    lines = r.stdout.splitlines()
    assert HOP.match(lines[1]) and lines[1].startswith(" 1  10.0.2.2  ")
    assert lines[2:] == [" 2  * * *", " 3  * * *"]
    assert f.now - start == pytest.approx(2.0, abs=0.01)  # all in flight at once, MAX 2 s


def test_unresolved_neighbour_is_host_unreachable_from_ourselves() -> None:
    from ovnlab.tools import traceroute

    r = traceroute.run(_world(), "exthost", ["-n", "-q", "2", "10.0.2.55"])
    assert re.fullmatch(r" 1  10\.0\.2\.100  \d+\.\d{3} ms !H  \d+\.\d{3} ms !H",
                        r.stdout.splitlines()[1])
    assert len(r.stdout.splitlines()) == 2


@pytest.mark.parametrize(("argv", "message"), [
    ("-Z 8.8.8.8", "Bad option `-Z' (argc 1)"),
    ("-q 11 8.8.8.8", "no more than 10 probes per hop"),
    ("-m 256 8.8.8.8", "max hops cannot be more than 255"),
    ("-f 5 -m 3 8.8.8.8", "first hop out of range"),
    ("-w abc 8.8.8.8", "Cannot handle `-w' option with arg `abc' (argc 2)"),
    ("-m", "Option `-m' (argc 1) requires an argument: `-m max_ttl'"),
    ("-n 8.8.8.8 70000", "too big packetlen 70000 specified"),
    ("nosuch.invalid", "nosuch.invalid: Name or service not known\nCannot handle \"host\" "
                       "cmdline arg `nosuch.invalid' on position 1 (argc 1)"),
])
def test_errors_as_debian_traceroute(lab: Lab, argv: str, message: str) -> None:
    r = lab.exec("vm_1", f"traceroute {argv}")
    assert (r.rc, r.stdout, r.stderr) == (2, "", message + "\n")


def test_no_route_fails_after_the_header() -> None:
    """Debian's traceroute in a namespace without routes prints its header (no newline)
    on stdout, `connect: Network is unreachable` on stderr, and exits 1."""
    from ovnlab.tools import traceroute

    f = _world()
    f.node("exthost").stack.routes.clear()  # type: ignore[attr-defined]
    r = traceroute.run(f, "exthost", ["-n", "8.8.8.8"])
    assert (r.rc, r.stdout, r.stderr) == (
        1, "traceroute to 8.8.8.8 (8.8.8.8), 30 hops max, 60 byte packets",
        "connect: Network is unreachable\n")


def test_a_cancelled_traceroute_takes_its_turns_and_leaves_no_tap() -> None:
    from ovnlab.tools import traceroute
    from ovnlab.turns import Interrupted, Slicer

    f = _world()
    f.node("google-dns").stack.taps.append(lambda p: True)  # type: ignore[attr-defined]
    slicer, seen = Slicer(), [0]

    def checkpoint() -> None:
        seen[0] += 1
        if seen[0] == 3:
            slicer.cancel()
        slicer()

    taps = list(f.node("exthost").stack.taps)  # type: ignore[attr-defined]
    with pytest.raises(Interrupted):
        traceroute.run(f, "exthost", ["-n", "8.8.8.8"], checkpoint)
    assert f.node("exthost").stack.taps == taps  # type: ignore[attr-defined]
