"""`ovnlab export nb|sb [-o FILE]`: the running lab's databases as OVSDB files that the real
`ovsdb-server` serves and the real OVN 22.03 `ovn-nbctl` / `ovn-sbctl` read as ovnlab's do."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_helpers import openstack, ovnlab

REPO = Path(__file__).resolve().parents[2]


def _ovn22() -> Path | None:
    """The real OVN 22.03 programs: $OVN22_DIR, else <repo>/../shared/ovn-22.03."""
    path = Path(os.environ.get("OVN22_DIR") or REPO.parent / "shared" / "ovn-22.03")
    found = (path / "bin" / "ovn-nbctl").exists() and shutil.which("ovsdb-server") is not None
    if not found and os.environ.get("OVNLAB_REQUIRE_REAL") == "1":
        pytest.fail(f"OVNLAB_REQUIRE_REAL=1 but {path}/bin or ovsdb-server is missing")
    return path if found else None


def test_export_without_a_lab_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "nb.db"
    result = ovnlab(tmp_path / "none", "export", "nb", "-o", str(out))
    assert result.returncode == 2 and "no lab is running" in result.stderr
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_export_rejects_an_unknown_database(tmp_path: Path) -> None:
    result = ovnlab(tmp_path / "none", "export", "vswitch")
    assert result.returncode == 2 and "invalid choice: 'vswitch'" in result.stderr


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    state = tmp_path_factory.mktemp("export") / "lab"
    assert ovnlab(state, "up").returncode == 0
    try:
        for args in (("network", "create", "n1"),
                     ("subnet", "create", "--network", "n1", "--subnet-range", "10.1.0.0/24", "s1"),
                     ("router", "create", "r"), ("router", "add", "subnet", "r", "s1")):
            result = openstack(state, *args)
            assert result.returncode == 0, result.stderr
        yield state
    finally:
        ovnlab(state, "down")


def test_export_to_a_file_or_stdout_gives_the_same_bytes(lab: Path, tmp_path: Path) -> None:
    out = tmp_path / "nb.db"
    out.write_text("old contents")
    assert ovnlab(lab, "export", "nb", "-o", str(out)).returncode == 0
    stdout = subprocess.run(
        [*_ovnlab_argv(lab), "export", "nb"], capture_output=True, timeout=120).stdout
    assert out.read_bytes() == stdout and stdout.startswith(b"OVSDB JSON ")
    assert out.stat().st_mode & 0o777 == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["nb.db"]  # no temp file left behind


def _ovnlab_argv(state: Path) -> list[str]:
    return [sys.executable, "-m", "ovnlab.cli.main", "--state", str(state)]


def test_export_to_a_bad_path_is_an_error_and_writes_nothing(lab: Path, tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "nb.db"
    result = ovnlab(lab, "export", "nb", "-o", str(missing))
    assert result.returncode == 1
    assert result.stderr == f"ovnlab export: cannot write {missing}: No such file or directory\n"
    (tmp_path / "adir").mkdir()
    result = ovnlab(lab, "export", "sb", "-o", str(tmp_path / "adir"))
    assert result.returncode == 1 and "cannot write" in result.stderr
    assert list((tmp_path / "adir").iterdir()) == [] and not (tmp_path / "no").exists()


@pytest.mark.oracle
@pytest.mark.parametrize("database", ["nb", "sb"])
def test_real_ovsdb_server_and_ctl_show_what_ovnlab_shows(
        lab: Path, tmp_path: Path, database: str) -> None:
    ovn22 = _ovn22()
    if ovn22 is None:
        pytest.skip("needs ../shared/ovn-22.03 (or $OVN22_DIR) and Debian's openvswitch-switch")
    db = tmp_path / f"{database}.db"
    assert ovnlab(lab, "export", database, "-o", str(db)).returncode == 0
    sock, pidfile = tmp_path / "db.sock", tmp_path / "db.pid"
    subprocess.run(["ovsdb-server", "--detach", "--no-chdir", f"--pidfile={pidfile}",
                    f"--remote=punix:{sock}", f"--unixctl={tmp_path / 'db.ctl'}",
                    f"--log-file={tmp_path / 'db.log'}", "-vconsole:off", str(db)], check=True)
    try:
        tool = f"ovn-{database}ctl"
        real = subprocess.run([str(ovn22 / "bin" / tool), f"--db=unix:{sock}", "show"],
                              capture_output=True, text=True, timeout=60)
        ours = ovnlab(lab, "exec", "network", "--", tool, "show")
        assert real.returncode == 0, real.stderr
        assert _blocks(real.stdout) == _blocks(ours.stdout)
    finally:
        _kill(pidfile)


def _blocks(show: str) -> list[str]:
    """`show` output as its top-level blocks, sorted: the real tools print rows in the
    IDL's hash order, which is arbitrary."""
    blocks: list[str] = []
    for line in show.splitlines():
        if not line.startswith(" ") or not blocks:
            blocks.append(line)
        else:
            blocks[-1] += "\n" + line
    return sorted(blocks)


def _kill(pidfile: Path) -> None:
    pid = int(pidfile.read_text())
    os.kill(pid, 15)
    for _ in range(100):
        if not Path(f"/proc/{pid}").exists():
            return
        time.sleep(0.05)
