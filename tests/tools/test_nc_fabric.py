"""`nc -z` against the emulated TCP listeners."""

from __future__ import annotations

import pytest

from ovnlab.fabric import Fabric
from ovnlab.tools import nc
from ovnlab.turns import Interrupted, Slicer


def world() -> Fabric:
    f = Fabric()
    f.add_segment("extnet0")
    f.add_external_router("extgw", "extnet0", "10.0.2.2", "02:00:0a:00:02:02", "10.0.2.0/24")
    f.add_internet_host("google-dns", "8.8.8.8", "dns.google")
    f.add_external_host("exthost", "extnet0", "10.0.2.100", "02:00:0a:00:02:64", "10.0.2.2",
                        "10.0.2.0/24")
    return f


def test_open_port_succeeds() -> None:
    r = nc.run(world(), "exthost", ["-zv", "10.0.2.2", "22"])
    assert (r.rc, r.stderr) == (0, "Connection to 10.0.2.2 22 port [tcp/ssh] succeeded!\n")
    r = nc.run(world(), "exthost", ["-z", "dns.google", "443"])
    assert (r.rc, r.stderr) == (0, "")
    r = nc.run(world(), "exthost", ["-vz", "dns.google", "443"])
    assert r.stderr == "Connection to dns.google (8.8.8.8) 443 port [tcp/https] succeeded!\n"


def test_closed_port_is_refused() -> None:
    r = nc.run(world(), "exthost", ["-z", "-v", "8.8.8.8", "25"])
    assert (r.rc, r.stderr) == (1, "nc: connect to 8.8.8.8 port 25 (tcp) failed: Connection refused\n")
    r = nc.run(world(), "exthost", ["-z", "8.8.8.8", "25"])
    assert (r.rc, r.stderr) == (1, "")  # quiet without -v
    r = nc.run(world(), "exthost", ["-zv", "dns.google", "24-25"])
    assert r.stderr.splitlines() == [
        "nc: connect to dns.google (8.8.8.8) port 24 (tcp) failed: Connection refused",
        "nc: connect to dns.google (8.8.8.8) port 25 (tcp) failed: Connection refused"]


def test_unreachable_and_silent_hosts() -> None:
    f = world()
    r = nc.run(f, "exthost", ["-zv", "-w", "5", "10.0.2.50", "22"])
    assert r.rc == 1  # ARP gives up after 3 s, before -w
    assert r.stderr == "nc: connect to 10.0.2.50 port 22 (tcp) failed: No route to host\n"
    f.node("google-dns").stack.taps.append(lambda p: True)  # type: ignore[attr-defined]
    start = f.now
    r = nc.run(f, "exthost", ["-zv", "-w", "2", "8.8.8.8", "22"])
    assert r.stderr == "nc: connect to 8.8.8.8 port 22 (tcp) timed out: Operation now in progress\n"
    assert f.now - start == pytest.approx(2.0)


def test_usage_errors() -> None:
    assert nc.run(world(), "exthost", ["-z", "10.0.2.2"]).rc == 1
    r = nc.run(world(), "exthost", ["-z", "nohost", "22"])
    assert r.rc == 1 and "Name or service not known" in r.stderr


def test_a_port_scan_stops_when_its_client_goes() -> None:
    f = world()
    slicer, calls = Slicer(), [0]

    def checkpoint() -> None:
        calls[0] += 1
        if calls[0] == 50:
            slicer.cancel()
        slicer()

    with pytest.raises(Interrupted):
        nc.run(f, "exthost", ["-z", "-w", "1", "8.8.8.8", "1-65535"], checkpoint)
    syns = [c for c in f.interface("exthost", "eth0").captures
            if c.direction == "out" and c.packet.ip_proto == 6]
    assert 0 < len(syns) < 50  # stopped within the checkpoints it was given
