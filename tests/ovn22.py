"""Where the real OVN 22.03 programs are (../shared/ovn-22.03, README there) and whether they
can run here, for every test that compares ovnlab with them (tests/differential,
tests/tools). A comparison skips when they are absent, but FAILS when OVNLAB_REQUIRE_REAL=1
(CI sets it), so it is never skipped silently there."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
VSWITCH_SCHEMA = Path("/usr/share/openvswitch/vswitch.ovsschema")


def ovn22_dir() -> Path:
    """$OVN22_DIR, else <repo>/../shared/ovn-22.03 (CI clones the repo beside shared/)."""
    return Path(os.environ.get("OVN22_DIR") or REPO.parent / "shared" / "ovn-22.03")


def missing() -> str | None:
    """Why the real programs cannot run here, or None."""
    bins = ovn22_dir() / "bin"
    for prog in ("ovn-northd", "ovn-controller", "ovn-nbctl", "ovn-sbctl", "ovn-trace"):
        if not (bins / prog).exists():
            return f"{bins / prog} is missing (set OVN22_DIR)"
    for prog in ("ovsdb-server", "ovsdb-tool", "ovsdb-client", "ovs-vswitchd", "ovs-vsctl",
                 "ovs-ofctl", "ovs-appctl"):
        if shutil.which(prog) is None:
            return f"{prog} is missing (apt-get install openvswitch-switch)"
    if not VSWITCH_SCHEMA.exists():
        return f"{VSWITCH_SCHEMA} is missing (apt-get install openvswitch-switch)"
    return None


def require_real() -> Path:
    """The programs' directory; skips the test without them (fails it in CI)."""
    why = missing()
    if why is not None:
        if os.environ.get("OVNLAB_REQUIRE_REAL") == "1":
            pytest.fail(f"OVNLAB_REQUIRE_REAL=1 but the real OVN 22.03 cannot run: {why}")
        pytest.skip(f"real OVN 22.03 not available: {why}")
    return ovn22_dir()
