"""Running `ovnlab` and the real `openstack` client as a user would (subprocesses)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

VENV_BIN = Path(sys.executable).parent


def ovnlab(state: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ovnlab.cli.main", "--state", str(state), *args],
                          capture_output=True, text=True, timeout=timeout)


def openstack_env(state: Path, cloud: str = "ovnlab-admin") -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    env.update(OS_CLIENT_CONFIG_FILE=str(state / "clouds.yaml"), OS_CLOUD=cloud,
               PATH=f"{VENV_BIN}:{env.get('PATH', '')}")
    return env


def openstack(state: Path, *args: str, cloud: str = "ovnlab-admin") -> subprocess.CompletedProcess[str]:
    return subprocess.run(["openstack", *args], capture_output=True, text=True, timeout=120,
                          env=openstack_env(state, cloud))


def daemons(state: Path) -> list[int]:
    """The pids of lab daemons serving `state` (from /proc, not from the lab's own files)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
            if (proc / "stat").read_text().split(")")[-1].split()[0] == "Z":
                continue
        except OSError:
            continue
        if b"ovnlab.daemon" in argv and str(state).encode() in argv:
            found.append(int(proc.name))
    return sorted(found)
