"""Network namespaces, veth pairs and Linux bridges through `ip` (iproute2). Every
namespace is recorded before it is made (`procs.Record`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ovnlab.backends.ovn.procs import Record, run

NETNS_ETC = Path("/etc/netns")  # `ip netns exec NS` bind-mounts /etc/netns/NS/* over /etc/*


class Netns:
    def __init__(self, record: Record, ip: str = "ip") -> None:
        self.record = record
        self.ip = ip

    def add(self, ns: str, hosts: str = "") -> None:
        """A fresh namespace with lo up and IPv6 off (as lab.sh: no DAD/RS noise in the
        captures); `hosts` becomes its /etc/hosts."""
        self.record.namespace(ns)
        run([self.ip, "netns", "add", ns])
        self.exec(ns, [self.ip, "link", "set", "lo", "up"])
        self.exec(ns, ["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1",
                       "net.ipv6.conf.default.disable_ipv6=1"])
        if hosts:
            # no DNS server in the lab: names come from hosts, and a lookup of any other
            # name fails at once (nameserver 127.0.0.1, nothing listening) rather than
            # waiting for the machine's resolver
            for name, text in (("hosts", hosts), ("resolv.conf", "nameserver 127.0.0.1\n")):
                path = NETNS_ETC / ns / name
                self.record.etc(path)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text)

    def delete(self, ns: str) -> None:
        run([self.ip, "netns", "del", ns], check=False)
        self.record.forget_namespace(ns)

    def exists(self, ns: str) -> bool:
        return Path("/run/netns", ns).exists()

    def exec(self, ns: str, argv: Sequence[str], check: bool = True) -> str:
        return run([self.ip, "netns", "exec", ns, *argv], check=check).stdout

    def veth(self, ns_a: str, name_a: str, ns_b: str, name_b: str, mac_a: str = "") -> None:
        """A veth pair, one end in each namespace, both up, TX checksumming off (a
        userspace datapath does not fill in the checksums a veth leaves to offload)."""
        run([self.ip, "link", "add", name_a, "netns", ns_a, *(["address", mac_a] if mac_a else []),
             "type", "veth", "peer", "name", name_b, "netns", ns_b])
        for ns, name in ((ns_a, name_a), (ns_b, name_b)):
            self.exec(ns, ["ethtool", "-K", name, "tx", "off"], check=False)
            self.exec(ns, [self.ip, "link", "set", name, "up"])

    def bridge(self, ns: str, name: str) -> None:
        """A plain L2 segment: a Linux bridge, no STP, forwarding at once."""
        self.exec(ns, [self.ip, "link", "add", name, "type", "bridge", "stp_state", "0",
                       "forward_delay", "0"])
        self.exec(ns, [self.ip, "link", "set", name, "up"])

    def enslave(self, ns: str, iface: str, bridge: str) -> None:
        self.exec(ns, [self.ip, "link", "set", iface, "master", bridge, "up"])
