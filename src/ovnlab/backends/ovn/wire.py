"""What every chassis NIC carries while a probe runs, on the real backend: per NIC two real
`tcpdump -w` (`-Q in`, `-Q out`, so each frame's direction is known, as lab.sh captures),
read back into the frames the article's checks look at (`ovnlab.observations.Capture`)."""

from __future__ import annotations

import ipaddress
import signal
import subprocess
import time
from collections.abc import Callable, Iterable, Mapping, Sequence

from ovnlab.capture import pcap
from ovnlab.fabric.capture import Captured

LISTEN_WAIT = 10.0  # seconds for every tcpdump to say it listens
SETTLE = 0.3  # seconds the last frames get to reach the captures before they stop
DIRECTIONS = ("in", "out")


class WireCapture:
    """Started now on `ifaces` of every node in `namespaces` (node -> namespace); the
    frames are read once, at the first `frames()` call, which stops the captures."""

    def __init__(self, ip: str, namespaces: Mapping[str, str], ifaces: Iterable[str],
                 names: Mapping[str, str]) -> None:
        self._names = {int(ipaddress.ip_address(a)): n for a, n in names.items()}
        self._procs: dict[tuple[str, str, str], subprocess.Popen[bytes]] = {}
        for node, ns in namespaces.items():
            for iface in ifaces:
                for direction in DIRECTIONS:
                    self._procs[(node, iface, direction)] = subprocess.Popen(
                        [ip, "netns", "exec", ns, "tcpdump", "-i", iface, "-Q", direction,
                         "-U", "--immediate-mode", "-w", "-"],  # each frame as it comes
                        stdin=subprocess.DEVNULL,
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self._frames: dict[tuple[str, str], list[Captured]] | None = None
        self._wait_listening()

    def _wait_listening(self) -> None:
        deadline = time.monotonic() + LISTEN_WAIT
        for proc in self._procs.values():
            assert proc.stderr is not None
            while time.monotonic() < deadline:
                line = proc.stderr.readline()
                if not line or line.startswith(b"listening on") or b" listening on " in line:
                    break

    def frames(self, node: str, iface: str) -> list[Captured]:
        if self._frames is None:
            self._frames = self._stop()
        return self._frames.get((node, iface), [])

    def _stop(self) -> dict[tuple[str, str], list[Captured]]:
        time.sleep(SETTLE)
        for proc in self._procs.values():
            proc.send_signal(signal.SIGINT)
        out: dict[tuple[str, str], list[Captured]] = {}
        for (node, iface, direction), proc in self._procs.items():
            data, _err = proc.communicate(timeout=10)
            frames = out.setdefault((node, iface), [])
            try:
                records = list(pcap.loads(data)) if data else []
            except pcap.PcapError:
                records = []
            frames += [Captured(r.time, iface, direction, r.packet()) for r in records]
        for frames in out.values():
            frames.sort(key=lambda c: c.time)
        return out

    def resolve_name(self, address: int | str) -> str | None:
        value = address if isinstance(address, int) else int(ipaddress.ip_address(address))
        return self._names.get(value)


def session(ip: str, namespaces: Mapping[str, str], names: Mapping[str, str]
            ) -> Callable[[Sequence[str]], WireCapture]:
    return lambda ifaces: WireCapture(ip, namespaces, ifaces, names)
