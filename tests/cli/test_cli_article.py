"""The article verbatim with the real openstack client against `ovnlab up`, and the
observations read back through `ovnlab exec`, as a user on the nodes would: on the
emulated backend and on the real OVN 22.03 programs (`--backend ovn`, root only)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from cli_helpers import openstack, openstack_env, ovnlab
from ovn22 import require_real

ARTICLE = Path(__file__).resolve().parents[2] / "examples" / "article.sh"

pytestmark = pytest.mark.slow


def _exec(state: Path, node: str, *argv: str) -> subprocess.CompletedProcess[str]:
    return ovnlab(state, "exec", node, "--", *argv)


def _captured(state: Path, node: str, action: Callable[[], object], *argv: str) -> str:
    """What `tcpdump -i eth0 ARGV` on `node` prints while `action` runs (live, as a user
    with a second terminal sees it; then ^C)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "ovnlab.cli.main", "--state", str(state), "exec", node, "--",
         "tcpdump", "-i", "eth0", *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)
    assert proc.stderr is not None
    deadline = time.monotonic() + 30
    while "listening on" not in proc.stderr.readline():
        assert time.monotonic() < deadline and proc.poll() is None, "tcpdump did not start"
    action()
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    out, _err = proc.communicate(timeout=30)
    return out


def _up_args(backend: str) -> list[str]:
    if backend == "emulated":
        return []
    if os.geteuid() != 0:
        pytest.skip("the real backend needs root (network namespaces)")
    return ["--backend", "ovn", "--ovn-bin", str(require_real() / "bin")]


@pytest.mark.parametrize("backend", ["emulated", "ovn"])
def test_article_with_the_real_client_then_restart(state_dir: Path, backend: str) -> None:
    up = ovnlab(state_dir, "up", *_up_args(backend))
    assert up.returncode == 0, up.stderr
    assert "OS_CLIENT_CONFIG_FILE" in up.stdout and (state_dir / "clouds.yaml").is_file()

    run = subprocess.run(["bash", str(ARTICLE)], capture_output=True, text=True, timeout=600,
                         env=openstack_env(state_dir))
    assert run.returncode == 0, run.stdout + run.stderr
    fip = re.search(r"FLOATING_IP=(\S+)", run.stdout)
    assert fip is not None
    fip_ip = fip.group(1)
    router_id = openstack(state_dir, "router", "show", "r", "-f", "value", "-c", "id").stdout.strip()

    # observation 1: three gateway_chassis rows, 3/2/1, the network node highest
    gwc = _exec(state_dir, "network", "ovn-nbctl", "list", "gateway_chassis")
    assert gwc.returncode == 0
    assert sorted(re.findall(r"priority\s+: (\d)", gwc.stdout)) == ["1", "2", "3"]
    network_id = re.search(r"system_id: (\S+)", (state_dir / "topology.yaml").read_text())
    assert network_id is not None
    best = gwc.stdout.split("\n\n")
    top = next(b for b in best if re.search(r"priority\s+: 3", b))
    assert network_id.group(1) in top

    # observation 2: lr-nat-list by router name, with EXTERNAL_MAC and LOGICAL_PORT
    nat = _exec(state_dir, "network", "ovn-nbctl", "lr-nat-list", f"neutron-{router_id}")
    line = next(x for x in nat.stdout.splitlines() if x.startswith("dnat_and_snat"))
    vm_port = openstack(state_dir, "port", "list", "--server", "vm_1", "-f", "value", "-c", "ID")
    assert fip_ip in line and "172.16.100.10" in line and vm_port.stdout.strip() in line
    assert re.search(r"fa:16:3e(:[0-9a-f]{2}){3}", line)

    # observation 3: the FIP's NAT flows on the VM's compute node
    host = openstack(state_dir, "server", "show", "vm_1", "-f", "value", "-c",
                     "OS-EXT-SRV-ATTR:host").stdout.strip()
    flows = _exec(state_dir, host, "ovs-ofctl", "dump-flows", "br-int").stdout
    nat_flows = [x for x in flows.splitlines() if fip_ip in x and "nat" in x]
    assert any("table=14," in x and "nat(dst=172.16.100.10)" in x for x in nat_flows)
    assert any("table=43," in x and "priority=161" in x and f"nat(src={fip_ip})" in x
               for x in nat_flows)

    # observation 4: vm_1 pings dns.google, seen on the compute node's eth0 with the FIP
    pings: list[subprocess.CompletedProcess[str]] = []

    def ping_google() -> None:
        pings.append(_exec(state_dir, "vm_1", "ping", "-c", "3", "-i", "0.3", "dns.google"))

    dump = _captured(state_dir, host, ping_google, "icmp")
    assert pings[-1].returncode == 0, pings[-1].stdout
    assert f"IP {fip_ip} > dns.google: ICMP echo request" in dump
    assert f"IP dns.google > {fip_ip}: ICMP echo reply" in dump
    assert "ICMP" not in _captured(state_dir, "network", ping_google, "icmp")
    assert pings[-1].returncode == 0

    # observation 5: the external host pings the FIP; the compute node answers ARP
    arp = _captured(state_dir, host, lambda: pings.append(
        _exec(state_dir, "exthost", "ping", "-c", "3", "-i", "0.3", fip_ip)), "-n", "arp")
    assert pings[-1].returncode == 0
    assert f"Reply {fip_ip} is-at fa:16:3e" in arp

    # observation 6: FIP removed, SNAT through the network node
    assert openstack(state_dir, "server", "remove", "floating", "ip", "vm_1", fip_ip).returncode == 0
    gw_ip = openstack(state_dir, "router", "show", "r", "-f", "json").stdout
    snat = re.search(r'"ip_address": "([\d.]+)"', gw_ip)
    assert snat is not None
    seen = _captured(state_dir, "network", lambda: pings.append(
        _exec(state_dir, "vm_1", "ping", "-c", "3", "-i", "0.3", "8.8.8.8")), "-n", "icmp")
    assert pings[-1].returncode == 0
    assert f"IP {snat.group(1)} > 8.8.8.8: ICMP echo request" in seen

    # unknown nodes and tools fail like a shell would
    bad = _exec(state_dir, "nope", "ls")
    assert bad.returncode == 1 and "no node 'nope'" in bad.stderr
    assert _exec(state_dir, "network", "frobnicate").returncode == 127

    # down keeps everything; up resumes it (NB resynced, ports claimed again)
    assert ovnlab(state_dir, "down").returncode == 0
    assert ovnlab(state_dir, "status").returncode == 2
    assert ovnlab(state_dir, "up").returncode == 0
    servers = openstack(state_dir, "server", "list", "-f", "value", "-c", "Name", "-c", "Status")
    assert servers.stdout.split() == ["vm_1", "ACTIVE"]
    assert _exec(state_dir, "vm_1", "ping", "-c", "2", "8.8.8.8").returncode == 0
    status = ovnlab(state_dir, "status")
    assert "servers:  1" in status.stdout and "fips:     1" in status.stdout

    assert ovnlab(state_dir, "destroy").returncode == 0
    assert not state_dir.exists()
