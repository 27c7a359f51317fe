"""Running the real programs: one-shot commands, daemons by pidfile, and the record of
everything a lab created (namespaces, daemons), written *before* each is created, so that
after a crash of ovnlab the next `up` or `destroy` removes exactly what is left.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ovnlab.errors import OvnlabError

STOP_WAIT = 5.0  # seconds a daemon gets after SIGTERM before SIGKILL


class CommandFailed(OvnlabError):
    """A program the backend ran to build the lab failed; the message has its stderr."""


def run(argv: Sequence[str], env: Mapping[str, str] | None = None, *,
        check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(list(argv), capture_output=True, text=True, check=False,
                            env={**os.environ, **(env or {})}, timeout=timeout,
                            stdin=subprocess.DEVNULL)
    if check and result.returncode != 0:
        raise CommandFailed(f"{' '.join(argv)}: exit {result.returncode}: "
                            f"{(result.stderr or result.stdout).strip()}")
    return result


def pid_of(pidfile: Path) -> int | None:
    """The live process a pidfile names (None when the file or the process is gone)."""
    try:
        pid = int(pidfile.read_text().strip())
    except (OSError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass
    return pid if _cmdline(pid) else None


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def stop(pidfiles: Sequence[Path]) -> None:
    """SIGTERM every daemon named, together; SIGKILL what still runs after STOP_WAIT. A
    pid is signalled only while its command line names its own pidfile (the daemons are
    started with --pidfile=PATH), so a recycled pid is never hit."""
    live = {p: pid for p in pidfiles if (pid := pid_of(p)) is not None
            and str(p) in _cmdline(pid)}
    for pid in live.values():
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_WAIT
    while live and time.monotonic() < deadline:
        live = {p: pid for p, pid in live.items() if _cmdline(pid)}
        time.sleep(0.05)
    for pid in live.values():
        _signal(pid, signal.SIGKILL)
    for p in pidfiles:
        p.unlink(missing_ok=True)


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


@dataclass
class Record:
    """`created.json` in the backend's directory: the namespaces, pidfiles and files
    under /etc/netns a lab made, added before each is made."""

    path: Path
    namespaces: list[str] = field(default_factory=list)
    pidfiles: list[str] = field(default_factory=list)
    netns_etc: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path) -> Record:
        try:
            raw = json.loads(path.read_text())
        except FileNotFoundError:
            return cls(path)
        except (OSError, ValueError) as exc:
            raise OvnlabError(f"{path}: unreadable ({exc}); remove the namespaces it names "
                              "by hand (`ip netns list`)") from None
        return cls(path, list(raw.get("namespaces", [])), list(raw.get("pidfiles", [])),
                   list(raw.get("netns_etc", [])))

    def _save(self) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"namespaces": self.namespaces, "pidfiles": self.pidfiles,
                                   "netns_etc": self.netns_etc}, indent=1))
        tmp.replace(self.path)

    def namespace(self, name: str) -> None:
        if name not in self.namespaces:
            self.namespaces.append(name)
            self._save()

    def pidfile(self, path: Path) -> None:
        if str(path) not in self.pidfiles:
            self.pidfiles.append(str(path))
            self._save()

    def etc(self, path: Path) -> None:
        if str(path) not in self.netns_etc:
            self.netns_etc.append(str(path))
            self._save()

    def forget_namespace(self, name: str) -> None:
        if name in self.namespaces:
            self.namespaces.remove(name)
            self._save()

    def clean(self, ip: str = "") -> None:
        """Stop every daemon, delete every namespace and /etc/netns file recorded; then
        the record itself. Whatever is already gone is skipped."""
        ip = ip or shutil.which("ip", path=f"{os.environ.get('PATH', '')}:/usr/sbin:/sbin") or "ip"
        stop([Path(p) for p in self.pidfiles])
        for ns in reversed(self.namespaces):
            subprocess.run([ip, "netns", "del", ns], capture_output=True, check=False)
        for etc in self.netns_etc:
            Path(etc).unlink(missing_ok=True)
            try:
                Path(etc).parent.rmdir()
            except OSError:
                pass
        self.namespaces.clear()
        self.pidfiles.clear()
        self.netns_etc.clear()
        self.path.unlink(missing_ok=True)
