"""BFD (RFC 5880) as ovs-vswitchd runs it on an interface with `bfd:enable=true` (lib/bfd.c).

A `BfdSession` is one interface's session: its state machine, its timers (in milliseconds
of the lab's clock) and the 24-byte control message. The fabric carries the messages (over
the tunnel, as OVS does) and wakes the session at `wake_time()`; what `status()` returns is
the Interface's `bfd_status` column, which bundle(active_backup) follows.

OVS's defaults: min_tx 100 ms, min_rx 1000 ms, multiplier 3. A session that is not Up sends
at most once a second (RFC 5880 6.8.3); a transmission is jittered down by 0-25 %; the
detection time is mult x max(local min_rx, remote min_tx) after the last message received.
A new session's first message goes at once (its next_tx is 0).
"""

from __future__ import annotations

import enum
import random
import struct
from dataclasses import dataclass

BFD_DEST_PORT = 3784
BFD_PACKET_LEN = 24
BFD_VERSION = 1
BFD_ETH_DST = 0x002320000001  # OVS's default bfd_dst_mac
BFD_IP_SRC = 0xA9FE0100  # 169.254.1.0
BFD_IP_DST = 0xA9FE0101  # 169.254.1.1
DEFAULT_MIN_TX = 100
DEFAULT_MIN_RX = 1000
DEFAULT_MULT = 3
SLOW_TX = 1000  # RFC 5880 6.8.3: at most one message a second while not Up


class State(enum.IntEnum):
    ADMIN_DOWN = 0
    DOWN = 1
    INIT = 2
    UP = 3

    @property
    def text(self) -> str:
        return self.name.lower()


class Diag(enum.IntEnum):
    NONE = 0
    EXPIRED = 1
    ECHO_FAILED = 2
    RMT_DOWN = 3
    FWD_RESET = 4
    PATH_DOWN = 5
    CPATH_DOWN = 6
    ADMIN_DOWN = 7
    RCPATH_DOWN = 8

    @property
    def text(self) -> str:
        return _DIAG_TEXT[self]


_DIAG_TEXT = {
    Diag.NONE: "No Diagnostic", Diag.EXPIRED: "Control Detection Time Expired",
    Diag.ECHO_FAILED: "Echo Function Failed", Diag.RMT_DOWN: "Neighbor Signaled Session Down",
    Diag.FWD_RESET: "Forwarding Plane Reset", Diag.PATH_DOWN: "Path Down",
    Diag.CPATH_DOWN: "Concatenated Path Down", Diag.ADMIN_DOWN: "Administratively Down",
    Diag.RCPATH_DOWN: "Reverse Concatenated Path Down",
}


class Flag(enum.IntFlag):
    NONE = 0
    MULTIPOINT = 1
    DEMAND = 2
    AUTH = 4
    CTL = 8
    FINAL = 16
    POLL = 32


def flag_text(flags: int) -> str:
    names = [n for f, n in ((Flag.MULTIPOINT, "multipoint"), (Flag.DEMAND, "demand"),
                            (Flag.AUTH, "auth"), (Flag.CTL, "ctl"), (Flag.FINAL, "final"),
                            (Flag.POLL, "poll")) if flags & f]
    return " ".join(names) or "none"


@dataclass(frozen=True, slots=True)
class Message:
    """A BFD Control packet's mandatory section (times in microseconds, as on the wire)."""

    state: State
    diag: Diag
    flags: int
    mult: int
    my_disc: int
    your_disc: int
    min_tx_us: int
    min_rx_us: int
    min_rx_echo_us: int = 0
    length: int = BFD_PACKET_LEN
    version: int = BFD_VERSION

    def to_bytes(self) -> bytes:
        return struct.pack("!BBBBIIIII", (self.version << 5) | int(self.diag),
                           (int(self.state) << 6) | (self.flags & 0x3F), self.mult,
                           self.length, self.my_disc, self.your_disc, self.min_tx_us,
                           self.min_rx_us, self.min_rx_echo_us)

    @classmethod
    def from_bytes(cls, data: bytes) -> Message | None:
        if len(data) < BFD_PACKET_LEN:
            return None
        vd, sf, mult, length, my, your, tx, rx, echo = struct.unpack(
            "!BBBBIIIII", data[:BFD_PACKET_LEN])
        diag = vd & 0x1F
        return cls(State(sf >> 6), Diag(diag) if diag in Diag._value2member_map_ else Diag.NONE,
                   sf & 0x3F, mult, my, your, tx, rx, echo, length, vd >> 5)


class BfdSession:
    """lib/bfd.c's `struct bfd` for one interface; times are milliseconds."""

    def __init__(self, name: str, now_ms: int, rng: random.Random, disc: int, *,
                 min_tx: int = DEFAULT_MIN_TX, min_rx: int = DEFAULT_MIN_RX,
                 mult: int = DEFAULT_MULT) -> None:
        self.name = name
        self.rng = rng
        self.disc = disc
        self.udp_src = 49152 + rng.randrange(16384)  # bfd_configure's random source port
        self.cfg_min_tx, self.cfg_min_rx, self.mult = min_tx, min_rx, mult
        # bfd_configure: a session that is not Up takes the configured intervals at
        # once (no poll: the slow rate is local_min_tx's while not Up), so coming Up
        # changes nothing to poll for and the next message goes when it is due.
        self.min_tx, self.min_rx = min_tx, min_rx
        self.poll_min_tx, self.poll_min_rx = min_tx, min_rx
        self.state, self.diag = State.DOWN, Diag.NONE
        self.flags = 0
        self._reset_remote()
        self.detect_time = 0
        self.last_tx = 0
        self.next_tx = now_ms  # the first message goes at once
        self.flap_count = 0
        self._was_forwarding = False

    def _reset_remote(self) -> None:
        self.rmt_state, self.rmt_diag = State.DOWN, Diag.NONE
        self.rmt_min_rx, self.rmt_min_tx, self.rmt_flags, self.rmt_disc = 1, 0, 0, 0
        self.rmt_mult = 0

    # ------------------------------------------------------------ intervals
    def local_min_tx(self) -> int:
        return self.min_tx if self.state == State.UP else max(self.min_tx, SLOW_TX)

    def tx_interval(self) -> int:
        return max(self.local_min_tx(), self.rmt_min_rx)

    def rx_interval(self) -> int:
        return max(self.min_rx, self.rmt_min_tx)

    def _set_next_tx(self) -> None:
        interval = self.tx_interval()
        interval -= interval * self.rng.randrange(26) // 100
        self.next_tx = self.last_tx + interval

    @property
    def forwarding(self) -> bool:
        return self.state == State.UP and self.rmt_diag not in (
            Diag.PATH_DOWN, Diag.CPATH_DOWN, Diag.RCPATH_DOWN)

    def wake_time(self) -> int:
        """bfd_wait: when `run` has something to do (a Final goes at once)."""
        if self.flags & Flag.FINAL:
            return 0
        if self.state > State.DOWN:
            return min(self.next_tx, self.detect_time)
        return self.next_tx

    # ------------------------------------------------------------ bfd_run
    def run(self, now: int) -> Message | None:
        """Expire the session, start a poll if the intervals changed, and return the
        message to send now, if one is due."""
        if self.state > State.DOWN and now >= self.detect_time:
            self._set_state(State.DOWN, Diag.EXPIRED)
        if self.min_tx != self.cfg_min_tx or self.min_rx != self.cfg_min_rx:
            self._poll()
        if self.flags & Flag.FINAL or now >= self.next_tx:
            return self._put(now)
        return None

    def _poll(self) -> None:
        if self.state > State.DOWN and not self.flags & (Flag.POLL | Flag.FINAL):
            self.poll_min_tx, self.poll_min_rx = self.cfg_min_tx, self.cfg_min_rx
            self.flags |= Flag.POLL
            self.next_tx = 0

    def _put(self, now: int) -> Message:
        """bfd_put_packet."""
        polling = bool(self.flags & Flag.POLL)
        min_tx = self.poll_min_tx if polling else self.local_min_tx()
        min_rx = self.poll_min_rx if polling else self.min_rx
        msg = Message(self.state, self.diag, self.flags, self.mult, self.disc, self.rmt_disc,
                      min_tx * 1000, min_rx * 1000)
        self.flags &= ~Flag.FINAL
        self.last_tx = now
        self._set_next_tx()
        return msg

    # ------------------------------------------------------------ bfd_process_packet
    def receive(self, msg: Message, now: int) -> None:
        """RFC 5880 6.8.6, as bfd_process_packet follows it (no authentication)."""
        flags = msg.flags
        if (msg.version != BFD_VERSION or flags & (Flag.AUTH | Flag.MULTIPOINT)
                or msg.length < BFD_PACKET_LEN or not msg.mult or not msg.my_disc):
            return
        if msg.your_disc:
            if msg.your_disc != self.disc:
                return
        elif msg.state > State.DOWN:
            return
        self.rmt_disc, self.rmt_state, self.rmt_mult = msg.my_disc, msg.state, msg.mult
        self.rmt_flags, self.rmt_diag = flags, msg.diag
        if flags & Flag.FINAL and self.flags & Flag.POLL:
            self.min_tx, self.min_rx = self.poll_min_tx, self.poll_min_rx
            self.flags &= ~Flag.POLL
        if flags & Flag.POLL:
            self.flags = (self.flags & ~Flag.POLL) | Flag.FINAL
        rmt_min_rx = max(msg.min_rx_us // 1000, 1)
        if self.rmt_min_rx != rmt_min_rx:
            self.rmt_min_rx = rmt_min_rx
            self._set_next_tx()
        self.rmt_min_tx = max(msg.min_tx_us // 1000, 1)
        self.detect_time = self.rx_interval() * self.mult + now
        if self.state == State.ADMIN_DOWN:
            return
        rmt = msg.state
        if rmt == State.ADMIN_DOWN:
            if self.state != State.DOWN:
                self._set_state(State.DOWN, Diag.RMT_DOWN)
        elif self.state == State.DOWN:
            if rmt == State.DOWN:
                self._set_state(State.INIT, self.diag)
            elif rmt == State.INIT:
                self._set_state(State.UP, self.diag)
        elif self.state == State.INIT:
            if rmt > State.DOWN:
                self._set_state(State.UP, self.diag)
        elif rmt <= State.DOWN:
            self._set_state(State.DOWN, Diag.RMT_DOWN)

    def _set_state(self, state: State, diag: Diag) -> None:
        if self.state == state and self.diag == diag:
            return
        self.state, self.diag = state, diag
        if state <= State.DOWN:
            self._reset_remote()
        forwarding = self.forwarding
        if forwarding != self._was_forwarding:  # bfd_check_status_change's flap count
            self.flap_count += 1
            self._was_forwarding = forwarding

    def establish(self, peer: BfdSession, now: int) -> None:
        """Both ends Up at their configured intervals, as if the handshake and poll had
        run (a session configured between two running switches: see docs/differences)."""
        for a, b in ((self, peer), (peer, self)):
            a.state, a.diag = State.UP, Diag.NONE
            a.min_tx, a.min_rx = a.cfg_min_tx, a.cfg_min_rx
            a.rmt_state, a.rmt_diag, a.rmt_flags, a.rmt_disc = State.UP, Diag.NONE, 0, b.disc
            a.rmt_min_tx, a.rmt_min_rx, a.rmt_mult = b.cfg_min_tx, b.cfg_min_rx, b.mult
            a.detect_time = a.rx_interval() * a.mult + now
            a.last_tx = now
            a._set_next_tx()
            a.flap_count, a._was_forwarding = 1, True

    # ------------------------------------------------------------ status and show
    def status(self) -> dict[str, str]:
        """bfd_get_status: the Interface's bfd_status column."""
        return {"forwarding": "true" if self.forwarding else "false",
                "state": self.state.text, "diagnostic": self.diag.text,
                "flap_count": str(self.flap_count),
                "remote_state": self.rmt_state.text, "remote_diagnostic": self.rmt_diag.text}

    def details(self, now: int) -> str:
        """bfd_put_details as Open vSwitch 3.1 prints one session of `ovs-appctl bfd/show`
        (the real lab's: two-space indents, times relative to now, the remote's detect
        multiplier last)."""
        lines = [
            f"Forwarding: {'true' if self.forwarding else 'false'}",
            f"Detect Multiplier: {self.mult}",
            "Concatenated Path Down: false",
            f"TX Interval: Approx {self.tx_interval()}ms",
            f"RX Interval: Approx {self.rx_interval()}ms",
            f"Detect Time: now {self.detect_time - now:+d}ms",
            f"Next TX Time: now {self.next_tx - now:+d}ms",
            f"Last TX Time: now {self.last_tx - now:+d}ms",
            "",
            f"Local Flags: {flag_text(self.flags)}",
            f"Local Session State: {self.state.text}",
            f"Local Diagnostic: {self.diag.text}",
            f"Local Discriminator: 0x{self.disc:x}",
            f"Local Minimum TX Interval: {self.local_min_tx()}ms",
            f"Local Minimum RX Interval: {self.min_rx}ms",
            "",
            f"Remote Flags: {flag_text(self.rmt_flags)}",
            f"Remote Session State: {self.rmt_state.text}",
            f"Remote Diagnostic: {self.rmt_diag.text}",
            f"Remote Discriminator: 0x{self.rmt_disc:x}",
            f"Remote Minimum TX Interval: {self.rmt_min_tx}ms",
            f"Remote Minimum RX Interval: {self.rmt_min_rx}ms",
            f"Remote Detect Multiplier: {self.rmt_mult}",
        ]
        return "".join(f"  {line}\n" if line else "\n" for line in lines)
