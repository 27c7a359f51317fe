"""BFD sessions (lib/bfd.c's state machine) driven against each other on a fake clock:
the three-way handshake, the poll that moves an Up session to the configured intervals,
detection 3 x 1000 ms after the last message, and what a session refuses."""

from __future__ import annotations

import random
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from ovnlab.datapath.bfd import BFD_PACKET_LEN, BfdSession, Diag, Flag, Message, State


def _pair(seed: int = 0) -> tuple[BfdSession, BfdSession]:
    return (BfdSession("a", 0, random.Random(seed), 0x11),
            BfdSession("b", 0, random.Random(seed + 1), 0x22))


def _exchange(a: BfdSession, b: BfdSession, until: int, *, b_alive: bool = True) -> int:
    """Run both sessions millisecond by millisecond, delivering messages at once; the last
    time `a` heard from `b`."""
    heard = -1
    for now in range(until):
        msg = a.run(now)
        if msg is not None and b_alive:
            b.receive(msg, now)
        if b_alive:
            reply = b.run(now)
            if reply is not None:
                a.receive(reply, now)
                heard = now
    return heard


def test_handshake_reaches_up_and_the_configured_intervals() -> None:
    a, b = _pair()
    _exchange(a, b, 3000)
    assert a.state == b.state == State.UP
    assert a.forwarding and b.forwarding
    assert a.local_min_tx() == 100 and a.min_rx == 1000  # bfd_configure's, once Up
    assert a.tx_interval() == 1000  # max(min_tx, the peer's min_rx)
    assert a.rx_interval() == 1000 and a.rmt_disc == b.disc
    assert a.status()["flap_count"] == "1" and a.status()["remote_state"] == "up"


def test_coming_up_starts_no_poll_sequence() -> None:
    """bfd_configure gives a session that is not Up its configured intervals at once, so
    reaching Up leaves nothing to poll for (the real lab logs no "Initiating poll
    sequence"): no message of the handshake carries Poll or Final."""
    a, b = _pair(3)
    flags = []
    for now in range(4000):
        for x, y in ((a, b), (b, a)):
            msg = x.run(now)
            if msg is not None:
                flags.append(msg.flags)
                y.receive(msg, now)
    assert a.state == b.state == State.UP
    assert not any(f & (Flag.POLL | Flag.FINAL) for f in flags)


def test_a_session_not_up_sends_at_most_once_a_second() -> None:
    a = BfdSession("a", 0, random.Random(1), 0x11)
    sent = [now for now in range(10_000) if a.run(now) is not None]
    gaps = [y - x for x, y in zip(sent, sent[1:], strict=False)]
    assert sent[0] == 0 and all(750 <= g <= 1000 for g in gaps)  # 0-25 % early


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 1000), st.integers(0, 10_000))
def test_detection_is_three_rx_intervals_after_the_last_message(seed: int, extra: int) -> None:
    a, b = _pair(seed)
    heard = _exchange(a, b, 3000 + extra)
    assert a.state == State.UP
    down_at = next(now for now in range(3000 + extra, 3000 + extra + 5000)
                   if (a.run(now), a.state)[1] == State.DOWN)
    assert down_at == heard + 3000
    assert a.diag == Diag.EXPIRED and not a.forwarding
    assert a.status() == {"forwarding": "false", "state": "down",
                          "diagnostic": "Control Detection Time Expired", "flap_count": "2",
                          "remote_state": "down", "remote_diagnostic": "No Diagnostic"}


def test_peer_signalling_down_takes_the_session_down() -> None:
    a, b = _pair()
    _exchange(a, b, 3000)
    restarted = BfdSession("b", 3000, random.Random(9), 0x33)  # b's switch restarted
    a.receive(restarted.run(3000) or _never(), 3000)
    assert a.state == State.DOWN and a.diag == Diag.RMT_DOWN


def test_refused_messages_change_nothing() -> None:
    a, b = _pair()
    _exchange(a, b, 3000)
    good = b.run(10_000) or b._put(10_000)
    before = a.status(), a.detect_time
    for bad in (replace(good, version=2), replace(good, mult=0), replace(good, my_disc=0),
                replace(good, your_disc=0x99), replace(good, flags=int(Flag.AUTH)),
                replace(good, flags=int(Flag.MULTIPOINT)), replace(good, length=20)):
        a.receive(bad, 3500)
        assert (a.status(), a.detect_time) == before, bad


def test_message_bytes_round_trip() -> None:
    msg = Message(State.INIT, Diag.EXPIRED, int(Flag.POLL), 3, 0xDEADBEEF, 0x1234, 100_000,
                  1_000_000)
    data = msg.to_bytes()
    assert len(data) == BFD_PACKET_LEN
    assert data[0] == (1 << 5) | 1 and data[1] == (2 << 6) | 0x20
    assert Message.from_bytes(data) == msg
    assert Message.from_bytes(data[:20]) is None


def _never() -> Message:
    raise AssertionError("a fresh session sends at once")
