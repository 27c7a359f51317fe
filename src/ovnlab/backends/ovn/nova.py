"""nova-compute's part on the real backend: each server's port plugged on its host (a
namespace per server, its eth0 a veth whose peer `tap<port id>` os-vif puts on the
chassis's br-int with the port's iface-id), deleted ones unplugged; then, once OVN has
the new ports' flows (Nova starts a guest after its vif-plugged event), the new servers
boot and ask for their address by DHCP (guest.py), as on the emulated backend, then
listen on TCP 22 (their sshd)."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ovnlab.backends.ovn import hosts as hosts_mod
from ovnlab.backends.ovn.chassis import ChassisRun
from ovnlab.backends.ovn.guest import Guest
from ovnlab.backends.ovn.layout import Layout
from ovnlab.backends.ovn.netns import Netns
from ovnlab.backends.ovn.procs import Record, pid_of, stop
from ovnlab.backends.ovn.programs import Programs
from ovnlab.topology import Topology

CONSOLE = "console.log"  # in the server's run directory: what its udhcpc printed at boot
SSHD_PID = "sshd.pid"


class Compute:
    """The servers plugged on the lab's chassis, by port id."""

    def __init__(self, topology: Topology, layout: Layout, netns: Netns, programs: Programs,
                 record: Record, chassis: Mapping[str, ChassisRun]) -> None:
        self.topology = topology
        self.layout = layout
        self.netns = netns
        self.programs = programs
        self.record = record
        self.chassis = chassis
        self._sshd: dict[str, subprocess.Popen[bytes]] = {}  # server name -> its listener
        self.guest = Guest(programs["busybox"], (programs["ip"], "netns", "exec"), layout.base)
        self.servers: dict[str, tuple[str, hosts_mod.Server]] = {}  # port id -> (host, server)

    def start(self) -> None:
        self.guest.install()

    def by_name(self) -> dict[str, tuple[str, hosts_mod.Server]]:
        """server name -> (its host, its port as its namespace sees it)."""
        return {s.name: (h, s) for h, s in self.servers.values()}

    def plug(self, cloud: Any, admin: Any) -> list[str]:
        """Each server's port plugged on its host, deleted ones unplugged; the newly
        plugged port ids."""
        wanted: dict[str, tuple[str, hosts_mod.Server]] = {}
        for server, port in cloud.get_vifs(admin):
            host = server.get("OS-EXT-SRV-ATTR:host")
            if host in self.chassis and port.get("fixed_ips"):
                wanted[port["id"]] = (host, _server(cloud, admin, server, port))
        for port_id in [p for p in self.servers if p not in wanted]:
            self._unplug(port_id)
        new = [p for p in wanted if p not in self.servers]
        hosts = hosts_mod.hosts_file(self.topology)
        for port_id in new:
            host, srv = wanted[port_id]
            ch = self.chassis[host]
            hosts_mod.plug_server(self.netns, self.layout, ch.ns, srv, hosts)
            ch.plug(self.programs, self.netns, srv.tap, port_id, srv.mac, srv.name)
            self.servers[port_id] = (host, srv)
        return new

    def _unplug(self, port_id: str) -> None:
        host, srv = self.servers.pop(port_id)
        self.chassis[host].unplug(self.programs, self.netns, srv.tap)
        if not any(s.name == srv.name for _h, s in self.servers.values()):
            stop([self._sshd_pidfile(srv.name)])
            self._reap()
            self.netns.delete(self.layout.ns(srv.name))

    def names(self, port_ids: list[str]) -> list[str]:
        """The servers of `port_ids`."""
        return sorted({self.servers[p][1].name for p in port_ids if p in self.servers})

    def boot(self, names: list[str], env: Mapping[str, str]) -> None:
        """The servers `names` boot: udhcpc on eth0, all at once, each one's output kept
        as its console log; then their sshd."""
        consoles = self.guest.boot({n: self.layout.ns(n) for n in names}, env)
        for name, text in consoles.items():
            path = self.console_path(name)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            self._start_sshd(name)

    def _start_sshd(self, name: str) -> None:
        pidfile = self._sshd_pidfile(name)
        if pid_of(pidfile) is not None:
            return  # still listening (its host was powered off and on)
        self.record.pidfile(pidfile)
        proc = subprocess.Popen([self.programs["ip"], "netns", "exec", self.layout.ns(name),
                                 *self.guest.sshd(pidfile)],  # `ip netns exec` execs it
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
        pidfile.write_text(f"{proc.pid}\n")
        self._sshd[name] = proc

    def _sshd_pidfile(self, name: str) -> Path:
        return self.layout.rundir(name) / SSHD_PID

    def _reap(self) -> None:
        """Collect the listeners that were stopped (`procs.stop` signals, not waits)."""
        for name, proc in list(self._sshd.items()):
            if proc.poll() is not None:
                del self._sshd[name]

    def close(self) -> None:
        """After the lab's record stopped every listener: reap them."""
        for proc in self._sshd.values():
            proc.wait(timeout=10)
        self._sshd.clear()

    def console_path(self, name: str) -> Path:
        return self.layout.rundir(name) / CONSOLE


def _server(cloud: Any, admin: Any, server: dict[str, Any], port: dict[str, Any]
            ) -> hosts_mod.Server:
    network = cloud.get_network(admin, port["network_id"])
    return hosts_mod.Server(str(server["name"]), port["id"], port["mac_address"],
                            str(port["fixed_ips"][0]["ip_address"]),
                            int(network.get("mtu") or 1500))
