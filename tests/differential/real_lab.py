"""The real OVN 22.03 namespace lab (../shared/ovn-22.03/lab.sh) driven from Python for the
probe comparison: brought up under its own run directory and namespace prefix (so it
never collides with another user of lab.sh), a second VM added on comp2, probes run in
its namespaces while tcpdump listens on every chassis's provider NIC, and brought down
(every daemon by its pidfile, every namespace with the prefix)."""

from __future__ import annotations

import shlex
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from ovn22 import require_real

T = TypeVar("T")
CHASSIS = {"netnode": "network", "comp1": "compute1", "comp2": "compute2"}  # real -> ovnlab
PREFIX = "pk2-"
REMOTE = "198.51.100.10"  # the lab's "internet" host, on its external router (exthost)
VM2 = ("vm2port", "fa:16:3e:00:00:20", "172.16.100.20")

# vm2: a second VM of n1, on comp2, in the default security group, without a FIP
_VM2 = f"""
N1=neutron-7f7206ca-ced4-4910-a8a8-21e5cd565b15
P1=pg_3455bda8_f6b0_468f_92b6_7609b68ded8e
nbctl lsp-add $N1 {VM2[0]} -- lsp-set-addresses {VM2[0]} "{VM2[1]} {VM2[2]}" \\
    -- lsp-set-port-security {VM2[0]} "{VM2[1]} {VM2[2]}" \\
    -- lsp-set-options {VM2[0]} requested-chassis=comp2
nbctl pg-set-ports $P1 $VM_PORT {VM2[0]}
nbctl pg-set-ports neutron_pg_drop $VM_PORT {VM2[0]}
ip netns add ${{P}}vm2
ns vm2 ip link set lo up
ip link add eth0 netns ${{P}}vm2 address {VM2[1]} type veth peer name vm2-p netns ${{P}}comp2
ns vm2 ethtool -K eth0 tx off >/dev/null 2>&1
ns comp2 ethtool -K vm2-p tx off >/dev/null 2>&1
ns vm2 ip link set eth0 mtu 1400 up
ns vm2 ip addr add {VM2[2]}/24 dev eth0
ns vm2 ip route add default via 172.16.100.1
ns comp2 ip link set vm2-p up
vsctl comp2 add-port br-int vm2-p -- set interface vm2-p external_ids:iface-id={VM2[0]}
nbctl --timeout=60 wait-until Logical_Switch_Port {VM2[0]} up=true
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
        vm2 = self.bash(_VM2)
        if vm2.returncode != 0:
            self.down()
            raise RuntimeError(f"adding vm2 failed: {vm2.stdout}\n{vm2.stderr}")

    def down(self) -> None:
        self.bash("cmd_down; ip netns del ${P}vm2 2>/dev/null; true", timeout=120)

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
