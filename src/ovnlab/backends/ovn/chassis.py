"""One chassis: its namespace's own ovsdb-server, ovs-vswitchd (userspace datapath,
`datapath_type=netdev`, so no kernel module) and ovn-controller, configured from the
topology as a deployment tool would (system-id, ovn-encap-ip, ovn-bridge-mappings,
ovn-cms-options).

The Geneve endpoint address lives on an OVS netdev bridge `br-phy` holding `eth1` (the
userspace datapath routes tunnel packets through its own bridges); `br-phy` keeps its own
MAC, so the namespace's kernel never takes the Geneve frames for itself (lab.sh's note).
"""

from __future__ import annotations

import json
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from ovnlab.backends.ovn.central import Central
from ovnlab.backends.ovn.netns import Netns
from ovnlab.backends.ovn.procs import Record, pid_of, run
from ovnlab.backends.ovn.programs import Programs
from ovnlab.topology import NodeSpec

UNDERLAY_PREFIX = 24  # the tunnel_ip's subnet on the underlay segment
UNDERLAY_NIC = "eth1"
TUNNEL_BRIDGE = "br-phy"
# OVS's BFD sends at most every second while a session is not up (bfd.c bfd_min_tx),
# with up to 25% jitter; a live pair down at both ends hears each other within that.
BFD_DOWN_QUIET = 2.5


@dataclass(frozen=True, slots=True)
class ChassisRun:
    spec: NodeSpec
    ns: str
    rundir: Path
    nics: dict[str, str]  # physnet -> NIC (eth0 first) in the namespace

    def env(self) -> dict[str, str]:
        """What ovs-vsctl, ovs-ofctl, ovs-appctl and `ovn-appctl -t ovn-controller` read."""
        return {"OVS_RUNDIR": str(self.rundir), "OVN_RUNDIR": str(self.rundir),
                "OVS_DBDIR": str(self.rundir)}

    @property
    def db(self) -> str:
        return f"unix:{self.rundir / 'db.sock'}"

    def pidfiles(self) -> list[Path]:
        return [self.rundir / f"{d}.pid" for d in ("ovn-controller", "ovs-vswitchd", "ovsdb-server")]

    def vsctl(self, programs: Programs, netns: Netns, *args: str) -> str:
        return netns.exec(self.ns, [programs["ovs-vsctl"], f"--db={self.db}", *args])

    def bfd_sessions(self, programs: Programs, netns: Netns) -> dict[str, str]:
        """The BFD state (`bfd_status:state`) of each tunnel that ovn-controller enabled
        BFD on, by the chassis at its far end (`ovn-chassis-id`), as this chassis's own
        vswitchd sees it."""
        out = self.vsctl(programs, netns, "--format=json",
                         "--columns=name,external_ids", "list", "Port", "--",
                         "--columns=name,bfd,bfd_status,options", "list", "Interface")
        ports_json, ifaces_json = out.splitlines()[:2]
        peer = {name: dict(ids[1]).get("ovn-chassis-id", "").split("@")[0]
                for name, ids in json.loads(ports_json)["data"]}
        return {peer[name]: dict(status[1]).get("state", "down")
                for name, bfd, status, options in json.loads(ifaces_json)["data"]
                if "remote_ip" in dict(options[1]) and dict(bfd[1]).get("enable") == "true"
                and peer.get(name)}

    def start(self, programs: Programs, netns: Netns, record: Record, central: Central) -> None:
        d = self.rundir
        d.mkdir(parents=True, exist_ok=True)
        conf = d / "conf.db"
        conf.unlink(missing_ok=True)  # configured afresh from the topology at each start
        run([programs["ovsdb-tool"], "create", str(conf), str(programs.vswitch_schema)])
        env = [f"{k}={v}" for k, v in self.env().items()]
        record.pidfile(d / "ovsdb-server.pid")
        netns.exec(self.ns, ["env", *env, programs["ovsdb-server"], "--detach", "--no-chdir",
                             f"--pidfile={d / 'ovsdb-server.pid'}",
                             f"--log-file={d / 'ovsdb-server.log'}",
                             f"--remote=punix:{d / 'db.sock'}", "-vconsole:off", str(conf)])
        spec = self.spec
        self.vsctl(programs, netns, "--no-wait", "init", "--", "set", "open_vswitch", ".",
                   f"external_ids:system-id={spec.system_id}",
                   f"external_ids:hostname={spec.hostname}")
        self._spawn(programs, netns, record, "ovs-vswitchd")
        self._bridges(programs, netns, central)
        self._spawn(programs, netns, record, "ovn-controller")

    def start_daemon(self, programs: Programs, netns: Netns, record: Record, name: str) -> None:
        """Start ovs-vswitchd or ovn-controller again (a restarted ovs-vswitchd makes its
        bridges again from the chassis's db; br-phy's tap then needs its address back)."""
        self._spawn(programs, netns, record, name)
        if name == "ovs-vswitchd" and self.running("ovs-vswitchd"):
            self._tunnel_address(netns)

    def _spawn(self, programs: Programs, netns: Netns, record: Record, name: str) -> None:
        """The daemon in the namespace, against the chassis's own db."""
        d = self.rundir
        env = [f"{k}={v}" for k, v in self.env().items()]
        record.pidfile(d / f"{name}.pid")
        netns.exec(self.ns, ["env", *env, programs[name], self.db, "--detach", "--no-chdir",
                             f"--pidfile={d / f'{name}.pid'}", f"--log-file={d / f'{name}.log'}",
                             "-vconsole:off"])

    def running(self, name: str) -> bool:
        return pid_of(self.rundir / f"{name}.pid") is not None

    def kill(self, name: str) -> None:
        """`kill -9` the daemon (its pidfile stays, as after a crash)."""
        pid = pid_of(self.rundir / f"{name}.pid")
        if pid is not None:
            os.kill(pid, signal.SIGKILL)
            for _ in range(100):
                if pid_of(self.rundir / f"{name}.pid") is None:
                    break
                time.sleep(0.02)

    def _tunnel_address(self, netns: Netns) -> None:
        """br-phy (the netdev bridge's tap, made by ovs-vswitchd) holds the tunnel address."""
        for _ in range(100):  # the tap appears once ovs-vswitchd has read its bridges
            if netns.exec(self.ns, ["ip", "link", "show", TUNNEL_BRIDGE], check=False):
                break
            time.sleep(0.02)
        netns.exec(self.ns, ["ip", "addr", "replace", f"{self.spec.tunnel_ip}/{UNDERLAY_PREFIX}",
                             "dev", TUNNEL_BRIDGE], check=False)
        netns.exec(self.ns, ["ip", "link", "set", TUNNEL_BRIDGE, "up"], check=False)

    def _bridges(self, programs: Programs, netns: Netns, central: Central) -> None:
        spec = self.spec
        vs = self.vsctl
        vs(programs, netns, "add-br", TUNNEL_BRIDGE, "--", "set", "bridge", TUNNEL_BRIDGE,
           "datapath_type=netdev", "--", "add-port", TUNNEL_BRIDGE, UNDERLAY_NIC)
        self._tunnel_address(netns)
        for physnet, bridge in spec.ovn_bridge_mappings:
            vs(programs, netns, "--may-exist", "add-br", bridge, "--", "set", "bridge", bridge,
               "datapath_type=netdev", "--", "add-port", bridge, self.nics[physnet])
        vs(programs, netns, "add-br", "br-int", "--", "set", "bridge", "br-int",
           "datapath_type=netdev", "fail_mode=secure", "other_config:disable-in-band=true")
        mappings = ",".join(f"{p}:{b}" for p, b in spec.ovn_bridge_mappings)
        settings = [
            f"external_ids:ovn-remote={central.sb_remote}", "external_ids:ovn-encap-type=geneve",
            f"external_ids:ovn-encap-ip={spec.tunnel_ip}", "external_ids:ovn-bridge=br-int",
            "external_ids:ovn-bridge-datapath-type=netdev",
        ]
        if mappings:
            settings.append(f'external_ids:ovn-bridge-mappings="{mappings}"')
        if spec.ovn_cms_options:
            settings.append(f'external_ids:ovn-cms-options="{",".join(spec.ovn_cms_options)}"')
        vs(programs, netns, "set", "open_vswitch", ".", *settings)

    def plug(self, programs: Programs, netns: Netns, tap: str, port_id: str, mac: str,
             server_id: str) -> None:
        """What os-vif does for an OVS VIF: the tap on br-int with Neutron's port id."""
        self.vsctl(programs, netns, "--may-exist", "add-port", "br-int", tap, "--", "set",
                   "interface", tap, f"external_ids:iface-id={port_id}",
                   f'external_ids:attached-mac="{mac}"', "external_ids:iface-status=active",
                   f"external_ids:vm-uuid={server_id}")

    def unplug(self, programs: Programs, netns: Netns, tap: str) -> None:
        self.vsctl(programs, netns, "--if-exists", "del-port", "br-int", tap)



def active_tunnels(sessions: dict[str, str]) -> set[str]:
    """bfd_calculate_active_tunnels: the far ends of the sessions that are up. Each
    chassis decides from these whether it holds a gateway, whatever the Southbound
    binding says."""
    return {peer for peer, state in sessions.items() if state == "up"}


def bfd_settled(views: dict[str, dict[str, str]], quiet_for: float) -> bool:
    """Between the chassis of `views` (each one's sessions by far end), every BFD session
    is in the same final state at both ends: up at both, down at both and quiet for
    longer than a down session's transmit interval (a pair that is down at both ends
    only because neither has heard the other yet moves on within it), or not enabled at
    either. Until then some chassis is about to see another come or go, and change its
    mind about which gateway it holds."""
    for me, sessions in views.items():
        for peer, state in sessions.items():
            if peer not in views:
                continue
            if views[peer].get(me) != state or state not in ("up", "down"):
                return False
            if state == "down" and quiet_for < BFD_DOWN_QUIET:
                return False
    return True
