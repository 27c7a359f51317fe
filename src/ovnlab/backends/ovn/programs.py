"""The programs the real backend runs, where they are, and what is missing (preflight).

`ovn-*` come from `--ovn-bin DIR` (e.g. ../shared/ovn-22.03/bin) or, failing that, $PATH
(Debian's ovn-central and ovn-host); `ovs-*`/`ovsdb-*` from Debian's openvswitch-switch.
Before anything starts, `preflight` names everything missing, with the apt command.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ovnlab.errors import OvnlabError

OVN_PROGRAMS = ("ovn-northd", "ovn-controller", "ovn-nbctl", "ovn-sbctl", "ovn-trace",
                "ovn-appctl")
OVS_PROGRAMS = ("ovsdb-server", "ovsdb-tool", "ovs-vswitchd", "ovs-vsctl", "ovs-ofctl",
                "ovs-appctl")
HOST_PROGRAMS = ("ip", "busybox")  # busybox: the servers' udhcpc (cirros's DHCP client)
# Debian package of each program (what `apt-get install` needs)
PACKAGE = {**dict.fromkeys(("ovn-northd", "ovn-nbctl", "ovn-sbctl", "ovn-trace"), "ovn-central"),
           **dict.fromkeys(("ovn-controller", "ovn-appctl"), "ovn-host"),
           **dict.fromkeys(OVS_PROGRAMS, "openvswitch-switch"), "ip": "iproute2",
           "busybox": "busybox"}
SCHEMA_DIRS = ("share", "../share", "../share/ovn", "/usr/share/ovn")  # beside bin/, or Debian's
VSWITCH_SCHEMA = Path("/usr/share/openvswitch/vswitch.ovsschema")
_VERSION = re.compile(r"(\d+)\.(\d+)\.(\d+)")


# (lr_in_dnat, lr_out_snat) as OpenFlow tables, by OVN release: logical ingress stage N is
# table 8+N; egress starts at 40 in 22.03 and at 42 from 22.12, where lr_in_dnat also moved
# from stage 6 to 7 (lflow.h OFTABLE_LOG_*_PIPELINE, northd.c's stage lists)
NAT_TABLES = {(22, 3): (14, 43), (23, 3): (15, 45)}


def nat_tables(version: tuple[int, int]) -> tuple[int, int]:
    try:
        return NAT_TABLES[version]
    except KeyError:
        raise PreflightError(f"OVN {version[0]}.{version[1]:02d}: its NAT tables are not known "
                             f"to ovnlab (known: "
                             f"{', '.join(f'{a}.{b:02d}' for a, b in NAT_TABLES)})") from None


class PreflightError(OvnlabError):
    """The real backend cannot start here; the message says what is missing."""


@dataclass(frozen=True, slots=True)
class Programs:
    """Absolute paths of every program, and the OVN schemas that go with the ovn-* ones."""

    paths: dict[str, str]
    nb_schema: Path
    sb_schema: Path
    vswitch_schema: Path

    def __getitem__(self, name: str) -> str:
        return self.paths[name]

    @property
    def ovn_bin(self) -> str:
        return str(Path(self.paths["ovn-northd"]).parent)

    def version(self) -> tuple[int, int]:
        """OVN's (major, minor), from `ovn-controller --version`."""
        out = subprocess.run([self.paths["ovn-controller"], "--version"], capture_output=True,
                             text=True, check=False).stdout
        match = _VERSION.search(out)
        if match is None:
            raise PreflightError(f"{self.paths['ovn-controller']} --version: no version in "
                                 f"{out.strip()!r}")
        return int(match[1]), int(match[2])

    def env(self) -> dict[str, str]:
        """$PATH with the ovn-* directory first, as lab.sh sets it."""
        path = os.environ.get("PATH", "/usr/bin:/bin")
        return {"PATH": f"{self.ovn_bin}:{path}:/usr/local/sbin:/usr/sbin:/sbin"}


def locate(ovn_bin: str = "") -> Programs:
    """Every program and schema, or PreflightError naming all that is missing."""
    missing: list[str] = []
    if os.geteuid() != 0:
        missing.append("root (network namespaces and veths need it: run as root)")
    paths: dict[str, str] = {}
    for name in (*OVN_PROGRAMS, *OVS_PROGRAMS, *HOST_PROGRAMS):
        found = _find(name, ovn_bin if name in OVN_PROGRAMS else "")
        if found is None:
            missing.append(name)
        else:
            paths[name] = found
    if "ip" in paths and not _has_netns(paths["ip"]):
        missing.append("`ip netns` (iproute2 with network namespace support)")
    schemas = _schemas(paths.get("ovn-northd"))
    if paths.get("ovn-northd") and schemas is None:
        missing.append(f"ovn-nb.ovsschema/ovn-sb.ovsschema beside {paths['ovn-northd']}")
    if "ovsdb-server" in paths and not VSWITCH_SCHEMA.is_file():
        missing.append(str(VSWITCH_SCHEMA))
    if missing:
        raise PreflightError(_missing_message(missing, ovn_bin))
    assert schemas is not None
    return Programs(paths, *schemas, VSWITCH_SCHEMA)


def _find(name: str, directory: str) -> str | None:
    if directory:
        candidate = Path(directory) / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate.resolve())
        return None  # --ovn-bin names where they are: no fallback to another release
    return shutil.which(name, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")


def _has_netns(ip: str) -> bool:
    result = subprocess.run([ip, "netns", "list"], capture_output=True, check=False)
    return result.returncode == 0


def _schemas(northd: str | None) -> tuple[Path, Path] | None:
    if northd is None:
        return None
    bindir = Path(northd).parent
    for sub in SCHEMA_DIRS:
        base = bindir / sub if not sub.startswith("/") else Path(sub)
        nb, sb = base / "ovn-nb.ovsschema", base / "ovn-sb.ovsschema"
        if nb.is_file() and sb.is_file():
            return nb.resolve(), sb.resolve()
    return None


def _missing_message(missing: list[str], ovn_bin: str) -> str:
    packages = sorted({PACKAGE[m] for m in missing if m in PACKAGE})
    lines = ["the real OVN backend cannot start here; missing:"]
    lines += [f"  - {m}" + (f" (in {ovn_bin})" if ovn_bin and m in OVN_PROGRAMS else "")
              for m in missing]
    if packages:
        lines.append(f"install with: apt-get install -y {' '.join(packages)}")
    if any(m in OVN_PROGRAMS for m in missing):
        lines.append("or name the OVN programs' directory with --ovn-bin DIR "
                     "(e.g. ../shared/ovn-22.03/bin)")
    lines.append("nothing was started.")
    return "\n".join(lines)
