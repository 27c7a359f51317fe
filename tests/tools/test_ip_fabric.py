"""`ip addr|link|route|neigh` on emulated hosts, in iproute2's format."""

from __future__ import annotations

from ovnlab.fabric import Fabric
from ovnlab.tools import ip, ping


def world() -> Fabric:
    f = Fabric()
    f.add_segment("extnet0")
    f.add_external_router("extgw", "extnet0", "10.0.2.2", "02:00:0a:00:02:02", "10.0.2.0/24")
    f.add_internet_host("google-dns", "8.8.8.8", "dns.google")
    f.add_external_host("exthost", "extnet0", "10.0.2.100", "02:00:0a:00:02:64", "10.0.2.2",
                        "10.0.2.0/24")
    return f


def test_ip_addr() -> None:
    r = ip.run(world(), "exthost", ["addr"])
    assert r.rc == 0
    assert r.stdout == (
        "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000\n"
        "    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n"
        "    inet 127.0.0.1/8 scope host lo\n"
        "       valid_lft forever preferred_lft forever\n"
        "2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc fq_codel state UP group default qlen 1000\n"
        "    link/ether 02:00:0a:00:02:64 brd ff:ff:ff:ff:ff:ff\n"
        "    inet 10.0.2.100/24 brd 10.0.2.255 scope global eth0\n"
        "       valid_lft forever preferred_lft forever\n")


def test_ip_addr_show_dev_and_brief() -> None:
    f = world()
    r = ip.run(f, "extgw", ["a", "show", "dev", "eth1"])
    assert r.stdout.startswith("3: eth1: ")
    assert "    inet 100.64.0.1/32 scope global eth1\n" in r.stdout
    r = ip.run(f, "extgw", ["-br", "addr"])
    assert r.stdout.splitlines()[1] == f"{'eth0':<16} {'UP':<14} 10.0.2.2/24 "
    r = ip.run(f, "extgw", ["addr", "show", "eth9"])
    assert (r.rc, r.stderr) == (1, 'Device "eth9" does not exist.\n')


def test_ip_route() -> None:
    f = world()
    assert ip.run(f, "exthost", ["route"]).stdout == (
        "default via 10.0.2.2 dev eth0 \n"
        "10.0.2.0/24 dev eth0 proto kernel scope link src 10.0.2.100 \n")
    assert ip.run(f, "google-dns", ["r"]).stdout == (
        "default via 100.64.0.1 dev eth0 \n"
        "100.64.0.1 dev eth0 scope link \n")
    r = ip.run(f, "exthost", ["route", "get", "8.8.8.8"])
    assert r.stdout == "8.8.8.8 via 10.0.2.2 dev eth0 src 10.0.2.100 uid 0 \n    cache \n"


def test_ip_neigh_follows_arp() -> None:
    f = world()
    assert ip.run(f, "exthost", ["neigh"]).stdout == ""
    ping.run(f, "exthost", ["-c", "1", "8.8.8.8"])
    ping.run(f, "exthost", ["-c", "1", "10.0.2.77"])
    assert ip.run(f, "exthost", ["neigh"]).stdout == (
        "10.0.2.2 dev eth0 lladdr 02:00:0a:00:02:02 REACHABLE\n"
        "10.0.2.77 dev eth0 FAILED\n")
    f.run(60)
    assert "10.0.2.2 dev eth0 lladdr 02:00:0a:00:02:02 STALE" in ip.run(f, "exthost", ["n"]).stdout


def test_ip_errors() -> None:
    r = ip.run(world(), "exthost", ["frob"])
    assert (r.rc, r.stderr) == (255, 'Object "frob" is unknown, try "ip help".\n')
    r = ip.run(world(), "exthost", ["route", "get", "nonsense"])
    assert r.rc == 1


def test_ip_on_a_chassis_shows_ovs_devices_and_the_tunnel_ip() -> None:
    from ovnlab import topology

    class Vswitch:
        def __init__(self) -> None:
            self.bridges: dict[str, object] = {}
            self.external_ids: dict[str, str] = {}

        def add_bridge(self, name: str, fail_mode: str | None = None) -> object:
            class Bridge:
                ports: dict[str, object] = {}

                def add_port(self, *a: object, **k: object) -> None:
                    self.ports = {**self.ports, str(a[0]): type("P", (), {"type": "system"})()}

            self.bridges[name] = Bridge()
            return self.bridges[name]

    topo = topology.load("seed")
    f = Fabric.build(topo, {n.hostname: Vswitch() for n in topo.nodes}, {})
    out = ip.run(f, "compute1", ["addr"]).stdout
    assert "2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc fq_codel master ovs-system state UP" in out
    assert "    inet 192.168.50.11/24 brd 192.168.50.255 scope global eth1\n" in out
    assert "4: ovs-system: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN" in out
    assert "5: br-int: " in out and "6: br-ex: " in out
    assert ip.run(f, "compute1", ["route"]).stdout == \
        "192.168.50.0/24 dev eth1 proto kernel scope link src 192.168.50.11 \n"
