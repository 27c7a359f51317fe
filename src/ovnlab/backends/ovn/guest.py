"""The guest in a server's namespace, as a cirros image boots: busybox's `udhcpc` on eth0
with busybox's defaults (3 discovers 3 s apart), `-n` (no lease: the guest carries on
unaddressed) and `-q` (exit once bound: the lab's leases, 43200 s, outlast a session).
What ovn-controller's pinctrl answers (the port's DHCP_Options) is applied by a script in
the manner of cirros's udhcpc script: the address with its prefix, the MTU (option 26),
the routes (option 121's classless static routes when present, else the router option:
RFC 3442 tells a client to ignore option 3 then) and the name servers (option 6, the
namespace's own resolv.conf). Once up, the guest listens on TCP 22 as a cloud image's sshd
does (the emulated VMs do too): busybox's `nc` as a persistent listener that accepts each
connection and closes it.
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ovnlab.backends.ovn.netns import NETNS_ETC

DHCP_IFACE = "eth0"
BOOT_ARGS = ("-n", "-q")  # fail without a lease, exit with one: nothing left running
BOOT_TIMEOUT = 30.0  # s: busybox's defaults give up after about 9 s without an answer
SCRIPT_NAME = "udhcpc.script"
SSH_PORT = 22
TRUE = "/bin/true"  # what the listener runs for each connection: nothing, then close
VALUE_FLAGS = set("VFHhipsTtAOxr")  # busybox udhcpc's options that take a value

# busybox udhcpc calls it with the event in $1 and the lease in the environment
# (ip, mask: the prefix length, router, dns, domain, mtu, staticroutes: "dst/len gw ...")
SCRIPT = r"""#!/bin/sh
# ovnlab's udhcpc script: the lease applied as cirros's udhcpc script applies it
RESOLV_CONF=${RESOLV_CONF:-/etc/resolv.conf}
case "$1" in
deconfig)
    ip -4 addr flush dev "$interface"
    ip link set dev "$interface" up
    ;;
bound|renew)
    ip -4 addr flush dev "$interface"
    ip addr add "$ip/${mask:-32}" dev "$interface"
    [ -n "$mtu" ] && ip link set dev "$interface" mtu "$mtu"
    if [ -n "$staticroutes" ]; then
        set -- $staticroutes
        while [ $# -ge 2 ]; do
            if [ "$2" = 0.0.0.0 ]; then
                ip route replace "$1" dev "$interface"
            else
                ip route replace "$1" via "$2" dev "$interface"
            fi
            shift 2
        done
    elif [ -n "$router" ]; then
        ip route replace default via "${router%% *}" dev "$interface"
    fi
    if [ -n "$dns" ]; then
        : > "$RESOLV_CONF"
        [ -n "$domain" ] && echo "search $domain" >> "$RESOLV_CONF"
        for server in $dns; do
            echo "nameserver $server" >> "$RESOLV_CONF"
        done
    fi
    ;;
esac
exit 0
"""


class UdhcpcError(ValueError):
    """An argument `ovnlab exec NODE -- udhcpc` does not take (the message says which)."""


@dataclass(frozen=True, slots=True)
class Guest:
    """What runs udhcpc for the lab's servers: `busybox` and the script written under
    `base` (the lab's run directory)."""

    busybox: str
    ip_netns: Sequence[str]  # `ip netns exec`
    base: Path

    @property
    def script(self) -> Path:
        return self.base / SCRIPT_NAME

    def install(self) -> None:
        self.base.mkdir(parents=True, exist_ok=True)
        self.script.write_text(SCRIPT)
        self.script.chmod(0o755)

    def env(self, ns: str) -> dict[str, str]:
        """The script writes the namespace's resolv.conf where `ip netns exec` mounts it
        from, never the machine's."""
        return {"RESOLV_CONF": str(NETNS_ETC / ns / "resolv.conf")}

    def udhcpc(self, args: Sequence[str]) -> list[str]:
        """`udhcpc ARGS` as the lab runs it: busybox's, always with `-n -q` (so it never
        stays behind as a daemon) and the lab's script."""
        if any(_names_script(arg) for arg in args):
            raise UdhcpcError("udhcpc: -s: the lab's script applies the lease "
                              "(no other script may be given)")
        return [self.busybox, "udhcpc", *BOOT_ARGS, "-s", str(self.script), *args]

    def sshd(self, pidfile: Path) -> list[str]:
        """The listener on TCP 22; the pidfile rides as `true`'s ignored argument, so
        that `procs.stop` recognises the process by its command line."""
        return [self.busybox, "nc", "-ll", "-p", str(SSH_PORT), "-e", TRUE, str(pidfile)]

    def boot(self, namespaces: Mapping[str, str], env: Mapping[str, str]) -> dict[str, str]:
        """Boot the servers (name -> namespace) at once, each running udhcpc on eth0
        until bound or failed; name -> its console (what udhcpc printed)."""
        argv = self.udhcpc(["-i", DHCP_IFACE])
        procs = {name: subprocess.Popen([*self.ip_netns, ns, *argv],
                                        env={**env, **self.env(ns)},
                                        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True)
                 for name, ns in namespaces.items()}
        consoles = {}
        for name, proc in procs.items():
            try:
                out, _ = proc.communicate(timeout=BOOT_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                out, _ = proc.communicate()
            consoles[name] = out
        return consoles


def _names_script(arg: str) -> bool:
    """Whether `arg` gives udhcpc a script: `--script[=]...`, or `-s` in a cluster of
    short options before any that takes a value (`-nqs FILE`, not `-ieths0`)."""
    if arg.startswith("--"):
        return arg == "--script" or arg.startswith("--script=")
    if not arg.startswith("-"):
        return False
    for flag in arg[1:]:
        if flag == "s":
            return True
        if flag in VALUE_FLAGS:
            return False
    return False
