"""The real OVN 22.03 namespace lab (../shared/ovn-22.03/lab.sh) driven from Python for the
probe comparison: brought up under its own run directory and namespace prefix (so it
never collides with another user of lab.sh), a second VM added on comp2 and a third on
comp1, probes run in its namespaces while tcpdump listens on every chassis's provider NIC,
and brought down (every daemon by its pidfile, every namespace with the prefix)."""

from __future__ import annotations

import os
import shlex
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from ovn22 import require_real

T = TypeVar("T")
CHASSIS = {"netnode": "network", "comp1": "compute1", "comp2": "compute2"}  # real -> ovnlab
# per process: two runs of the comparison at once (two checkouts) must not share namespaces,
# or one's `down` deletes the other's
PREFIX = f"pk{os.getpid()}-"
REMOTE = "198.51.100.10"  # the lab's "internet" host, on its external router (exthost)
VM2 = ("vm2port", "fa:16:3e:00:00:20", "172.16.100.20")
VM3 = ("vm3port", "fa:16:3e:00:00:30", "172.16.100.30")
P1 = "pg_3455bda8_f6b0_468f_92b6_7609b68ded8e"  # the default security group
P2 = "pg_4c742fec_c060_4090_9c85_59ca5c4880fc"  # allow-icmp-ssh, vm1's second group


def _vm_script(name: str, vm: tuple[str, str, str], chassis: str) -> str:
    """A VM of n1 on `chassis` as Neutron and Nova make it: the LSP with addresses,
    port_security and requested-chassis, a namespace on a veth into that chassis's br-int."""
    port, mac, ip = vm
    return f"""
N1=neutron-7f7206ca-ced4-4910-a8a8-21e5cd565b15
nbctl lsp-add $N1 {port} -- lsp-set-addresses {port} "{mac} {ip}" \\
    -- lsp-set-port-security {port} "{mac} {ip}" \\
    -- lsp-set-options {port} requested-chassis={chassis}
ip netns add ${{P}}{name}
ns {name} ip link set lo up
ip link add eth0 netns ${{P}}{name} address {mac} type veth peer name {name}-p netns ${{P}}{chassis}
ns {name} ethtool -K eth0 tx off >/dev/null 2>&1
ns {chassis} ethtool -K {name}-p tx off >/dev/null 2>&1
ns {name} ip link set eth0 mtu 1400 up
ns {name} ip addr add {ip}/24 dev eth0
ns {name} ip route add default via 172.16.100.1
ns {chassis} ip link set {name}-p up
vsctl {chassis} add-port br-int {name}-p -- set interface {name}-p external_ids:iface-id={port}
nbctl --timeout=60 wait-until Logical_Switch_Port {port} up=true
"""


# vm2: on comp2, in the default security group only, without a FIP; vm3: on comp1 beside
# vm1, in vm1's groups (default + allow-icmp-ssh); the FIP probes give them their FIPs
_EXTRA_VMS = _vm_script("vm2", VM2, "comp2") + _vm_script("vm3", VM3, "comp1") + f"""
nbctl pg-set-ports {P1} $VM_PORT {VM2[0]} {VM3[0]}
nbctl pg-set-ports {P2} $VM_PORT {VM3[0]}
nbctl pg-set-ports neutron_pg_drop $VM_PORT {VM2[0]} {VM3[0]}
# populate-seed.sh stores server_mac with its colons escaped: the reply flow would not compile
nbctl set DHCP_Options $(nbctl --bare --columns=_uuid list DHCP_Options) \\
    options:server_mac=\\"fa:16:3e:20:37:65\\"
nbctl --wait=hv sync
"""


class RealLab:
    def __init__(self, run: Path) -> None:
        self.ovn22 = require_real()
        self.run = run
        self.lab_sh = self.ovn22 / "lab.sh"

    def bash(self, script: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """`script` with lab.sh's helpers (nbctl, sbctl, ns, vsctl...) defined."""
        prelude = (f"export OVN22_RUN={shlex.quote(str(self.run))}; "
                   f"source {shlex.quote(str(self.lab_sh))}; P={PREFIX}; ")
        return subprocess.run(["bash", "-c", prelude + script], capture_output=True,
                              text=True, timeout=timeout, check=False)

    def up(self) -> None:
        out = self.bash("cmd_up", timeout=180)
        if out.returncode != 0:
            self.down()
            raise RuntimeError(f"lab.sh up failed: {out.stdout}\n{out.stderr}")
        vms = self.bash(_EXTRA_VMS)
        if vms.returncode != 0:
            self.down()
            raise RuntimeError(f"adding vm2, vm3 failed: {vms.stdout}\n{vms.stderr}")

    def down(self) -> None:
        self.bash("cmd_down; for n in vm2 vm3; do ip netns del $P$n 2>/dev/null; done; true",
                  timeout=120)

    def ns(self, name: str, command: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return self.bash(f"ns {name} {command}", timeout=timeout)

    def capture(self, action: Callable[[], T]) -> tuple[T, dict[str, list[str]]]:
        """Run `action` while tcpdump listens on each chassis's provider NIC (eth-ex);
        the lines each saw (`tcpdump -n`), by ovnlab's chassis name."""
        files = {ch: self.run / f"probe-{ch}.pcap" for ch in CHASSIS}
        procs = [subprocess.Popen(["ip", "netns", "exec", f"{PREFIX}{ch}", "tcpdump", "-U",
                                   "-n", "-i", "eth-ex", "-w", str(path), "not ip6"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                 for ch, path in files.items()]
        try:
            time.sleep(1.0)
            result = action()
            time.sleep(1.0)
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.wait(timeout=10)
        seen = {}
        for ch, path in files.items():
            out = subprocess.run(["tcpdump", "-n", "-r", str(path)], capture_output=True,
                                 text=True, check=False)
            seen[CHASSIS[ch]] = [line.split(" ", 1)[1] for line in out.stdout.splitlines()
                                 if " " in line]
            path.unlink(missing_ok=True)
        return result, seen
