"""A lab's life through the `ovnlab` CLI: one daemon per state directory, `down` and
`destroy` touch only what is the lab's, and only the lab's user drives its control API."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import daemons, ovnlab

pytestmark = pytest.mark.slow


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    """An unrelated process whose pid a stale lab.json may name."""
    proc = subprocess.Popen(["sleep", "1000"])
    yield proc
    proc.kill()
    proc.wait()


# ---------------------------------------------------------------- destroy


def test_destroy_refuses_a_directory_that_is_not_a_lab(tmp_path: Path) -> None:
    thesis = tmp_path / "x" / "thesis.tex"
    thesis.parent.mkdir()
    thesis.write_text("important\n")
    result = ovnlab(thesis.parent, "destroy")
    assert result.returncode == 1
    assert f"{thesis.parent} is not a lab ovnlab made" in result.stderr
    assert "nothing removed" in result.stderr and "destroyed" not in result.stdout
    assert thesis.read_text() == "important\n"


def test_destroy_of_a_missing_directory_fails(tmp_path: Path) -> None:
    result = ovnlab(tmp_path / "none", "destroy")
    assert result.returncode == 1 and "does not exist" in result.stderr


def test_destroy_removes_the_directory_ovnlab_made(state_dir: Path) -> None:
    assert ovnlab(state_dir, "up").returncode == 0
    result = ovnlab(state_dir, "destroy")
    assert result.returncode == 0, result.stderr
    assert f"Lab destroyed ({state_dir} removed)." in result.stdout
    assert not state_dir.exists() and not daemons(state_dir)


def test_destroy_leaves_and_names_what_is_not_ovnlabs(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "thesis.tex").write_text("important\n")
    assert ovnlab(home, "up").returncode == 0
    (home / "notes").mkdir()  # made while the lab ran
    result = ovnlab(home, "destroy")
    assert result.returncode == 0, result.stderr
    assert "kept, with what is not ovnlab's: notes, thesis.tex" in result.stdout
    assert sorted(p.name for p in home.iterdir()) == ["notes", "thesis.tex"]
    assert (home / "thesis.tex").read_text() == "important\n"
    assert not daemons(home)


def test_destroy_on_a_read_only_lab_fails_and_removes_nothing(state_dir: Path,
                                                               read_only: Any) -> None:
    assert ovnlab(state_dir, "up").returncode == 0
    assert ovnlab(state_dir, "down").returncode == 0
    before = sorted(p.name for p in state_dir.iterdir())
    with read_only(state_dir):
        result = ovnlab(state_dir, "destroy")
        assert result.returncode == 1
        assert str(state_dir) in result.stderr and "destroyed" not in result.stdout
        assert ("Read-only file system" in result.stderr
                or "Permission denied" in result.stderr), result.stderr
        assert sorted(p.name for p in state_dir.iterdir()) == before


# ---------------------------------------------------------------- one daemon per state dir


def test_parallel_ups_start_exactly_one_daemon(state_dir: Path) -> None:
    procs = [subprocess.Popen([sys.executable, "-m", "ovnlab.cli.main", "--state",
                               str(state_dir), "up"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(5)]
    results = [(p.wait(120), *p.communicate()) for p in procs]
    winners = [r for r in results if r[0] == 0]
    assert len(winners) == 1, results
    running = daemons(state_dir)
    assert len(running) == 1
    for rc, _, err in results:
        if rc != 0:
            assert rc == 1
            assert f"a lab is already running in {state_dir} (pid {running[0]})" in err, err
    assert f"(pid {running[0]})" in winners[0][1]
    status = ovnlab(state_dir, "status")
    assert status.returncode == 0 and f"pid {running[0]}" in status.stdout
    assert ovnlab(state_dir, "down").returncode == 0
    assert not daemons(state_dir)


def test_a_second_up_names_the_running_pid(state_dir: Path) -> None:
    assert ovnlab(state_dir, "up").returncode == 0
    (pid,) = daemons(state_dir)
    again = ovnlab(state_dir, "up")
    assert again.returncode == 1
    assert f"a lab is already running in {state_dir} (pid {pid})" in again.stderr
    assert daemons(state_dir) == [pid]


# ---------------------------------------------------------------- down signals only the lab


def test_down_never_signals_the_pid_of_a_stale_record(state_dir: Path,
                                                      sleeper: subprocess.Popen[bytes]) -> None:
    assert ovnlab(state_dir, "up").returncode == 0
    assert ovnlab(state_dir, "down").returncode == 0
    record = state_dir / "lab.json"
    record.write_text(json.dumps({"pid": sleeper.pid, "host": "127.0.0.1", "port": 9}))
    assert ovnlab(state_dir, "status").returncode == 2
    result = ovnlab(state_dir, "down")
    assert result.returncode == 2
    assert f"a stale record naming pid {sleeper.pid} (not signalled)" in result.stderr
    assert sleeper.poll() is None  # still running
    assert not record.exists()


def test_down_stops_the_lock_holder_not_the_recorded_pid(state_dir: Path,
                                                         sleeper: subprocess.Popen[bytes]) -> None:
    assert ovnlab(state_dir, "up").returncode == 0
    (pid,) = daemons(state_dir)
    rt = json.loads((state_dir / "lab.json").read_text())
    (state_dir / "lab.json").write_text(json.dumps({**rt, "pid": sleeper.pid}))
    result = ovnlab(state_dir, "down")
    assert result.returncode == 0 and f"Lab stopped (pid {pid})" in result.stdout
    assert sleeper.poll() is None and not daemons(state_dir)


def test_down_ignores_a_lock_file_naming_another_process(state_dir: Path,
                                                         sleeper: subprocess.Popen[bytes]) -> None:
    """The pid in lab.lock counts only if that process holds the lock."""
    assert ovnlab(state_dir, "up").returncode == 0
    assert ovnlab(state_dir, "down").returncode == 0
    (state_dir / "lab.lock").write_text(f"{sleeper.pid}\n")
    (state_dir / "lab.json").write_text(json.dumps({"pid": sleeper.pid, "host": "127.0.0.1",
                                                    "port": 9}))
    assert ovnlab(state_dir, "down").returncode == 2
    assert sleeper.poll() is None


def test_a_killed_daemon_leaves_nothing_that_blocks_up(state_dir: Path) -> None:
    assert ovnlab(state_dir, "up").returncode == 0
    (pid,) = daemons(state_dir)
    os.kill(pid, signal.SIGKILL)
    _wait_gone(pid)
    assert ovnlab(state_dir, "status").returncode == 2
    again = ovnlab(state_dir, "up")
    assert again.returncode == 0, again.stderr
    assert len(daemons(state_dir)) == 1


def _wait_gone(pid: int) -> None:
    import time

    deadline = time.monotonic() + 10
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        stat_line = Path(f"/proc/{pid}/stat").read_text()
        if stat_line.split(")")[-1].split()[0] == "Z":
            return
        time.sleep(0.05)


# ---------------------------------------------------------------- the control API's token


def _control(state: Path, verb: str, body: dict[str, Any],
             token: str | None) -> tuple[int, list[dict[str, Any]]]:
    rt = json.loads((state / "lab.json").read_text())
    headers = {"Content-Type": "application/json", **({"X-Ovnlab-Token": token} if token else {})}
    req = urllib.request.Request(f"http://{rt['host']}:{rt['port']}/ovnlab/{verb}",
                                 data=json.dumps(body).encode(), headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, [json.loads(line) for line in resp.read().splitlines() if line]
    except urllib.error.HTTPError as exc:
        return exc.code, [json.loads(exc.read())]


def test_the_control_api_refuses_requests_without_the_token(state_dir: Path,
                                                            tmp_path: Path) -> None:
    assert ovnlab(state_dir, "up").returncode == 0
    token_file = state_dir / "control.token"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    key = {"key": "ovn.enable_distributed_floating_ip", "value": "false"}
    for token in (None, "guess", token_file.read_text() + "x"):
        status, (reply,) = _control(state_dir, "config", key, token)
        assert status == 401 and reply["type"] == "Unauthorized", reply
        ping = {"node": "exthost", "argv": ["ping", "-c", "1", "8.8.8.8"]}
        status, _ = _control(state_dir, "exec", ping, token)
        assert status == 401
    # nothing ran: exthost sent no packet
    seen = ovnlab(state_dir, "exec", "exthost", "--", "tcpdump", "-i", "eth0", "--history", "icmp")
    assert seen.returncode == 0 and "ICMP" not in seen.stdout
    status, (reply,) = _control(state_dir, "status", {}, token_file.read_text())
    assert status == 200 and reply["topology"] == "seed"
    # the daemon never writes a file at a path a caller names: it sends the bytes back
    target = tmp_path / "evil.pcap"
    status, events = _control(state_dir, "exec", {
        "node": "exthost", "argv": ["tcpdump", "--history", "-i", "eth0", "-w", str(target)],
        "cwd": str(tmp_path)}, token_file.read_text())
    assert status == 200 and events[-1] == {"rc": 0}
    assert [e["file"] for e in events if "file" in e] == [str(target)]
    assert not target.exists()


def test_tcpdump_files_live_on_the_clients_side(state_dir: Path, tmp_path: Path) -> None:
    assert ovnlab(state_dir, "up").returncode == 0
    assert ovnlab(state_dir, "exec", "exthost", "--", "ping", "-c", "2", "8.8.8.8").returncode == 0
    work = tmp_path / "work"
    work.mkdir()

    def exec_in_work(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "ovnlab.cli.main", "--state", str(state_dir),
                               "exec", "exthost", "--", *argv], capture_output=True, text=True,
                              timeout=120, cwd=work)

    wrote = exec_in_work("tcpdump", "-i", "eth0", "--history", "-w", "ping.pcap", "icmp")
    assert wrote.returncode == 0, wrote.stderr
    assert (work / "ping.pcap").stat().st_size > 24
    read = exec_in_work("tcpdump", "-r", "ping.pcap", "-n")
    assert read.returncode == 0, read.stderr
    assert read.stdout.count("ICMP echo") == 4
    missing = exec_in_work("tcpdump", "-r", "nonesuch.pcap")
    assert missing.returncode == 1
    assert "tcpdump: nonesuch.pcap: No such file or directory" in missing.stderr
    unwritable = exec_in_work("tcpdump", "-i", "eth0", "--history", "-w", "no/such/dir.pcap")
    assert unwritable.returncode == 1
    assert "tcpdump: no/such/dir.pcap: No such file or directory" in unwritable.stderr
