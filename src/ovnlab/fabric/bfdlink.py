"""ovs-vswitchd's BFD on a chassis's tunnels: a session per Geneve port with
`bfd:enable=true`, its control messages carried inside the tunnel (VNI 0, UDP 3784 from
169.254.1.0 to 169.254.1.1, TTL 255: what OVS's bfd_put_packet builds) over the underlay,
and its verdict written to the port's `bfd_status`, which bundle(active_backup) and
ovn-controller read.

A session is woken on the lab's clock when it has something to do (a message to send, a
detection time to check); a change of forwarding wakes the chassis's ovn-controller, as an
OVSDB update of Interface.bfd_status does.
"""

from __future__ import annotations

import random
import zlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ovnlab.datapath.bfd import (
    BFD_DEST_PORT,
    BFD_ETH_DST,
    BFD_IP_DST,
    BFD_IP_SRC,
    BfdSession,
    Message,
    State,
)
from ovnlab.fabric.ovs import as_ip, udp_source_port
from ovnlab.packet import ETH_IP, GENEVE_PORT, PROTO_UDP, Geneve, Packet

if TYPE_CHECKING:
    from ovnlab.fabric.clock import Clock, Timer

OVSDB_NOTIFY = 1e-3  # bfd_status reaching ovn-controller through OVSDB
LOG_SIZE = 1000  # state changes kept (ovs-vswitchd.log's "BFD state change" lines)


@dataclass(frozen=True, slots=True)
class BfdEvent:
    """A session's state change, as ovs-vswitchd logs it."""

    time: float
    chassis: str
    interface: str
    remote_ip: str
    old: str
    new: str
    diagnostic: str
    forwarding: bool


class BfdRunner:
    """The BFD sessions of one chassis's Open vSwitch."""

    def __init__(self, name: str, clock: Clock, vswitch: Any, tunnel_ip: str, mac: int,
                 send: Callable[[Packet, str], None], changed: Callable[[], None],
                 peer_of: Callable[[int], BfdRunner | None]) -> None:
        self.name = name
        self.clock = clock
        self.vswitch = vswitch
        self.tunnel_ip = as_ip(tunnel_ip)
        self.mac = mac
        self._send = send
        self._changed = changed
        self._peer_of = peer_of
        self.sessions: dict[str, BfdSession] = {}
        self._timers: dict[str, Timer] = {}
        self._ports: dict[str, Any] = {}
        self.running = True
        self.log: deque[BfdEvent] = deque(maxlen=LOG_SIZE)
        self.sent = 0
        self.received = 0
        self._restarts = 0
        self._started_ms = 0

    def _now_ms(self) -> int:
        return round(self.clock.now * 1000)

    # ------------------------------------------------------------ configuration
    def sync(self) -> bool:
        """bridge_reconfigure: a session per tunnel port whose `bfd:enable` is true; True
        if sessions came or went."""
        if not self.running:
            return False
        wanted: dict[str, Any] = {}
        for bridge in self.vswitch.bridges.values():
            for port in bridge.ports.values():
                if port.type == "geneve" and port.bfd.get("enable") == "true":
                    wanted[port.name] = port
        gone = [n for n in self.sessions if n not in wanted]
        for name in gone:
            self._drop(name)
        new = [n for n in wanted if n not in self.sessions]
        for name, port in wanted.items():
            self._ports[name] = port
            if name in new:
                self._create(name, port)
        return bool(gone or new)

    def _create(self, name: str, port: Any) -> None:
        # OVS's random numbers are seeded when the process starts: a restarted switch
        # draws its jitter from its start time (a run stays repeatable).
        seed = f"{self.name}/{name}/{self._restarts}" + (
            f"@{self._started_ms}" if self._restarts else "")
        rng = random.Random(seed)
        session = BfdSession(name, self._now_ms(), rng, zlib.crc32(seed.encode()) or 1)
        self.sessions[name] = session
        peer = self._peer_session(port)
        if (peer is not None and peer.state == State.DOWN and peer.flap_count == 0
                and self._restarts == 0):
            # Configured between two switches that run: the handshake is skipped (see
            # docs/differences.md); after a restart it runs for real.
            session.establish(peer, self._now_ms())
            other = self._peer_of(as_ip(port.options.get("remote_ip", "")))
            if other is not None:
                other._publish(peer.name)
                other._schedule(peer.name)
        self._publish(name)
        self._schedule(name)

    def _peer_session(self, port: Any) -> BfdSession | None:
        other = self._peer_of(as_ip(port.options.get("remote_ip", "")))
        if other is None or not other.running:
            return None
        for pname, p in other._ports.items():
            if as_ip(p.options.get("remote_ip", "")) == self.tunnel_ip and pname in other.sessions:
                return other.sessions[pname]
        return None

    def _drop(self, name: str) -> None:
        self.sessions.pop(name, None)
        timer = self._timers.pop(name, None)
        if timer is not None:
            timer.cancel()
        port = self._ports.pop(name, None)
        if port is not None:
            port.bfd_status.clear()

    # ------------------------------------------------------------ the daemon's life
    def stop(self) -> None:
        """ovs-vswitchd gone: no session runs, none answers; the OVSDB columns stay."""
        self.running = False
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        self.sessions.clear()

    def start(self) -> None:
        """ovs-vswitchd restarted: every session begins again, Down."""
        self.running = True
        self._restarts += 1
        self._started_ms = self._now_ms()
        self.sync()

    # ------------------------------------------------------------ packets
    def _fire(self, name: str) -> None:
        self._timers.pop(name, None)
        self._run(name)

    def _run(self, name: str) -> None:
        session = self.sessions.get(name)
        port = self._ports.get(name)
        if session is None or port is None or not self.running:
            return
        before = session.state
        msg = session.run(self._now_ms())
        if msg is not None:
            self._transmit(session, port, msg)
        self._publish(name, before)
        self._schedule(name)

    def _transmit(self, session: BfdSession, port: Any, msg: Message) -> None:
        inner = Packet(eth_src=self.mac, eth_dst=BFD_ETH_DST, eth_type=ETH_IP,
                       ip_src=BFD_IP_SRC, ip_dst=BFD_IP_DST, ip_proto=PROTO_UDP, ip_ttl=255,
                       ip_tos=0x18, tp_src=session.udp_src,
                       tp_dst=BFD_DEST_PORT, payload=msg.to_bytes())
        dst = as_ip(port.options.get("remote_ip", ""))
        outer = Packet(eth_type=ETH_IP, ip_src=self.tunnel_ip, ip_dst=dst, ip_proto=PROTO_UDP,
                       ip_ttl=64, tp_src=udp_source_port(inner), tp_dst=GENEVE_PORT,
                       geneve=Geneve(vni=0, inner=inner, critical=False))
        self.sent += 1
        self._send(outer, session.name)

    def wants(self, port_name: str, vni: int, inner: Packet) -> bool:
        """bfd_should_process_flow: a BFD message on a port that runs BFD (check_tnl_key:
        only with tunnel key 0)."""
        return (self.running and port_name in self.sessions and vni == 0
                and inner.eth_type == ETH_IP and inner.ip_proto == PROTO_UDP
                and inner.tp_dst == BFD_DEST_PORT and inner.eth_dst == BFD_ETH_DST)

    def receive(self, port_name: str, inner: Packet) -> None:
        session = self.sessions.get(port_name)
        if session is None or inner.ip_ttl != 255:
            return
        msg = Message.from_bytes(inner.payload)
        if msg is None:
            return
        self.received += 1
        before = session.state
        session.receive(msg, self._now_ms())
        self._publish(port_name, before)
        self._run(port_name)  # bfd_run follows in the same iteration (a Final goes now)

    # ------------------------------------------------------------ status and timers
    def _publish(self, name: str, before: State | None = None) -> None:
        """Write the session's bfd_status; a change of forwarding wakes ovn-controller."""
        session, port = self.sessions.get(name), self._ports.get(name)
        if session is None or port is None:
            return
        was_forwarding = port.bfd_status.get("forwarding") == "true"
        status = session.status()
        if port.bfd_status != status:
            port.bfd_status.clear()
            port.bfd_status.update(status)
        if before is not None and before != session.state:
            self.log.append(BfdEvent(self.clock.now, self.name, name,
                                     str(port.options.get("remote_ip", "")), before.text,
                                     session.state.text, session.diag.text, session.forwarding))
        if was_forwarding != session.forwarding:
            self.clock.call_later(OVSDB_NOTIFY, self._changed, daemon=True)

    def _schedule(self, name: str) -> None:
        session = self.sessions.get(name)
        if session is None:
            return
        old = self._timers.pop(name, None)
        if old is not None:
            old.cancel()
        when = max(self.clock.now, session.wake_time() / 1000)
        with self.clock.tagged(None):  # BFD is nobody's journey
            self._timers[name] = self.clock.call_at(when, self._fire, name, daemon=True)

    def show(self, port: str | None = None) -> str:
        """`ovs-appctl bfd/show [INTERFACE]` (KeyError: no such session)."""
        now = self._now_ms()
        if port is not None:
            return self.sessions[port].details(now)
        return "".join(f"---- {n} ----\n{s.details(now)}" for n, s in self.sessions.items())
