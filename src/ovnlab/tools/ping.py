"""`ping` (iputils) on a lab node, in virtual time.

    ping [-c COUNT] [-i INTERVAL] [-W TIMEOUT] [-w DEADLINE] [-s SIZE] [-t TTL]
         [-M do|want|dont|probe] [-n] [-q] DEST

The echo requests leave the node's own IP stack and the clock runs until every reply is
in (or the linger time passes), so times are the lab's virtual round-trip times. Without
-c or -w, real ping runs until interrupted; `ovnlab exec` cannot interrupt it, so it
stops after DEFAULT_COUNT requests.

`checkpoint` is called between the clock's events: the daemon passes its Slicer there,
which lets queued API requests in now and then and raises when the client has gone.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ovnlab.fabric.host import MESSAGE_TOO_LONG, HostStack, Pmtudisc
from ovnlab.packet import (
    ETH_IP,
    ICMP_DEST_UNREACH,
    ICMP_ECHO_REQUEST,
    ICMP_TIME_EXCEEDED,
    PROTO_ICMP,
    Packet,
    ip_str,
)
from ovnlab.tools import ToolResult, fail, host_stack
from ovnlab.turns import no_slices

DEFAULT_COUNT = 4
DEFAULT_LINGER = 10.0  # iputils' MAXWAIT: how long to wait for replies after the last send
SEQ_SPACE = 1 << 16  # icmp_seq is 16 bits: iputils wraps it (and its table of replies)
USAGE = "Usage: ping [-c count] [-i interval] [-W timeout] [-w deadline] [-s packetsize] [-t ttl] [-M pmtudisc_option] [-n] [-q] destination"

UNREACH_TEXT = {
    0: "Destination Net Unreachable", 1: "Destination Host Unreachable",
    2: "Destination Protocol Unreachable", 3: "Destination Port Unreachable",
    4: "Frag needed and DF set", 5: "Source Route Failed", 6: "Destination Net Unknown",
    7: "Destination Host Unknown", 9: "Destination Net Prohibited",
    10: "Destination Host Prohibited", 13: "Packet filtered",
}
EXCEEDED_TEXT = {0: "Time to live exceeded", 1: "Frag reassembly time exceeded"}
# -M: IP_PMTUDISC_* (probe sets DF and refuses what does not fit, as do)
PMTU_MODES = {"do": Pmtudisc.DO, "want": Pmtudisc.WANT, "dont": Pmtudisc.DONT,
              "probe": Pmtudisc.DO}


@dataclass(slots=True)
class _Options:
    count: int | None = None
    interval: float = 1.0
    timeout: float | None = None
    deadline: float | None = None
    size: int = 56
    ttl: int = 64
    numeric: bool = False
    quiet: bool = False
    pmtudisc: Pmtudisc = Pmtudisc.WANT
    dest: str = ""


@dataclass(slots=True)
class _Run:
    """A run's record, kept as iputils keeps it: per probe only what its 16-bit sequence
    number needs (when it was last sent, whether that send was answered) and running sums
    for the rtt line, so a long run's memory does not grow with its count."""

    sent_at: dict[int, float] = field(default_factory=dict)  # wire seq -> last send time
    answered: set[int] = field(default_factory=set)  # wire seqs answered since that send
    transmitted: int = 0
    received: int = 0
    errors: int = 0
    last_sent: float | None = None
    rtt_count: int = 0
    rtt_sum: float = 0.0  # milliseconds, like the summary line
    rtt_sum2: float = 0.0
    rtt_min: float = math.inf
    rtt_max: float = 0.0
    lines: list[str] = field(default_factory=list)
    errors_text: list[str] = field(default_factory=list)  # stderr (local errors)

    def add_rtt(self, seconds: float) -> None:
        ms = seconds * 1000
        self.rtt_count += 1
        self.rtt_sum += ms
        self.rtt_sum2 += ms * ms
        self.rtt_min = min(self.rtt_min, ms)
        self.rtt_max = max(self.rtt_max, ms)


def _parse(argv: list[str]) -> _Options | ToolResult:
    opts = _Options()
    args = list(argv)
    with_value = {"-c", "-i", "-W", "-w", "-s", "-t", "-M"}
    while args:
        arg = args.pop(0)
        if arg == "--":
            break
        if not arg.startswith("-") or arg == "-":
            if opts.dest:
                return fail(f"ping: {arg}: Name or service not known", 2)
            opts.dest = arg
            continue
        flag, inline = arg[:2], arg[2:]
        if flag in ("-n", "-q") and inline == "":
            if flag == "-n":
                opts.numeric = True
            else:
                opts.quiet = True
            continue
        if flag not in with_value:
            return fail(f"ping: invalid option -- '{arg[1:2]}'\n{USAGE}", 2)
        if not inline:
            if not args:
                return fail(f"ping: option requires an argument -- '{flag[1]}'\n{USAGE}", 2)
            inline = args.pop(0)
        if flag == "-M":
            if inline not in PMTU_MODES:
                return fail(f"ping: invalid -M argument: {inline}", 2)
            opts.pmtudisc = PMTU_MODES[inline]
            continue
        error = _set_numeric(opts, flag, inline)
        if error is not None:
            return error
    if args and not opts.dest:
        opts.dest = args.pop(0)
    if not opts.dest:
        return fail(f"ping: usage error: Destination address required\n{USAGE}", 1)
    return opts


def _set_numeric(opts: _Options, flag: str, text: str) -> ToolResult | None:
    """A numeric option's value checked as iputils checks it (its messages), then set."""
    try:
        value = float(text)
    except ValueError:
        return fail(f"ping: invalid argument: '{text}'", 1)
    if flag == "-c":
        if value != int(value) or value < 1:
            return fail(f"ping: invalid argument: '{text}': out of range: 1 <= value <= 9223372036854775807", 1)
        opts.count = int(value)
    elif flag == "-i":
        if value < 0:
            return fail(f"ping: bad timing interval: {text}", 1)
        opts.interval = value
    elif flag == "-W":
        if value < 0:
            return fail(f"ping: bad linger time: {text}", 1)
        opts.timeout = value
    elif flag == "-w":
        if value < 0:
            return fail(f"ping: bad wait time: {text}", 1)
        opts.deadline = value
    elif flag == "-s":
        if value != int(value) or not 0 <= value <= 65507:
            return fail(f"ping: invalid argument: '{text}': out of range: 0 <= value <= 65507", 1)
        opts.size = int(value)
    elif flag == "-t":
        if value != int(value) or not 0 < value <= 255:
            return fail(f"ping: invalid argument: '{text}': out of range: 1 <= value <= 255", 1)
        opts.ttl = int(value)
    return None


def _payload(size: int, now: float) -> bytes:
    """iputils' payload: a struct timeval then the byte pattern 0x08, 0x09, ..."""
    if size < 16:
        return bytes(i & 0xFF for i in range(size))
    usec = int(round(now * 1e6))
    stamp = struct.pack("!QQ", usec // 1_000_000, usec % 1_000_000)
    return stamp + bytes(i & 0xFF for i in range(16, size))


def format_rtt(seconds: float) -> str:
    """iputils' per-reply time: 3 decimals below 1 ms, 2 below 10, 1 below 100."""
    us = int(round(seconds * 1e6))
    if us >= 100000 - 50:
        return f"{(us + 500) // 1000}"
    if us >= 10000 - 5:
        return f"{(us + 50) // 1000}.{((us + 50) % 1000) // 100}"
    if us >= 1000:
        return f"{(us + 5) // 1000}.{((us + 5) % 1000) // 10:02d}"
    return f"{us // 1000}.{us % 1000:03d}"


@dataclass(frozen=True, slots=True)
class _Plan:
    """When a run sends and how long it waits, fixed before the first send."""
    start: float
    count: int | None  # None: until the deadline
    total: int  # the sends that fit before the deadline
    deadline: float  # math.inf without -w


def run(fabric: Any, node: str, argv: list[str],
        checkpoint: Callable[[], None] = no_slices) -> ToolResult:
    parsed = _parse(argv)
    if isinstance(parsed, ToolResult):
        return parsed
    opts = parsed
    stack = host_stack(fabric, node, "ping", 2)
    if isinstance(stack, ToolResult):
        return stack
    target = fabric.resolve(opts.dest)
    if target is None:
        return fail(f"ping: {opts.dest}: Name or service not known", 2)
    if stack.lookup_route(target) is None and target not in stack.local_ips and target >> 24 != 127:
        return fail("ping: connect: Network is unreachable", 2)
    numeric = opts.numeric or _is_literal(opts.dest)

    def pr_addr(address: int) -> str:
        if numeric:
            return ip_str(address)
        return f"{fabric.resolve_name(address) or ip_str(address)} ({ip_str(address)})"

    plan = _plan(opts, fabric.clock.now)
    state = _Run()
    out = [f"PING {opts.dest} ({ip_str(target)}) {opts.size}({opts.size + 28}) bytes of data."]
    _main_loop(fabric.clock, stack, target, opts, plan, state, pr_addr, out, checkpoint)
    return _finish(opts, plan, state, out)


def _plan(opts: _Options, start: float) -> _Plan:
    count = opts.count if opts.count is not None else (None if opts.deadline else DEFAULT_COUNT)
    deadline = start + opts.deadline if opts.deadline is not None else math.inf
    n_sends = count if count is not None else int(opts.deadline / max(opts.interval, 1e-3)) + 1  # type: ignore[operator]
    return _Plan(start, count, _sends(start, opts.interval, n_sends, deadline), deadline)


def _main_loop(clock: Any, stack: HostStack, target: int, opts: _Options, plan: _Plan,
               state: _Run, pr_addr: Callable[[int], str], out: list[str],
               checkpoint: Callable[[], None]) -> None:
    """ping_common.c main_loop: send on the interval's timer, print replies as they come."""
    ident = stack.next_icmp_ident()
    pending: list[Any] = []  # the next send's timer: one at a time, however long the run
    sender: list[Callable[[int], None]] = []  # `send`, which schedules itself through this

    def send(i: int) -> None:
        seq = (i + 1) % SEQ_SPACE
        state.sent_at[seq] = clock.now
        state.answered.discard(seq)
        state.transmitted += 1
        state.last_sent = clock.now
        if i + 1 < plan.total:
            pending[:] = [clock.call_at(plan.start + (i + 1) * opts.interval, sender[0], i + 1)]
        error = stack.send(Packet(eth_type=ETH_IP, ip_dst=target, ip_proto=PROTO_ICMP,
                                  ip_ttl=opts.ttl, icmp_type=ICMP_ECHO_REQUEST,
                                  icmp_id=ident, icmp_seq=seq,
                                  payload=_payload(opts.size, clock.now)), opts.pmtudisc)
        if error is not None and error.startswith(MESSAGE_TOO_LONG):
            # the error queue's SO_EE_ORIGIN_LOCAL report (receive_error_msg)
            state.errors += 1
            if not opts.quiet:
                state.errors_text.append(f"ping: local error: {error[0].lower()}{error[1:]}")

    sender.append(send)
    stack.icmp_sockets[ident] = _icmp_handler(clock, target, opts, state, pr_addr)
    try:
        if plan.total:
            pending.append(clock.call_at(plan.start, send, 0))
        _wait(clock, opts, plan, state, out, checkpoint)
    finally:
        for t in pending:
            t.cancel()
        # `send` schedules itself (send -> sender -> send, send -> pending -> timer -> send):
        # break the cycles so reference counting frees the run, because the lab freezes
        # what survives a converge (gc.freeze) and would keep them for good
        pending.clear()
        sender.clear()
        stack.icmp_sockets.pop(ident, None)


def _wait(clock: Any, opts: _Options, plan: _Plan, state: _Run, out: list[str],
          checkpoint: Callable[[], None]) -> None:
    """Run the clock until every probe is answered (or failed), the deadline passes, or the
    linger after the last send runs out."""
    last_send = plan.start + (plan.total - 1) * opts.interval
    linger = opts.timeout if opts.timeout is not None else DEFAULT_LINGER
    end = min(plan.deadline, last_send + linger)
    while True:
        if state.transmitted and state.transmitted == plan.total and \
                state.received + state.errors >= plan.total:
            break
        if plan.count is None and state.transmitted and state.received >= 1 and opts.deadline \
                and clock.now >= plan.deadline:
            break
        nxt = clock.next_time()
        if nxt is None or nxt > end:
            clock.run_until(end)
            break
        checkpoint()
        clock.step()
        if not opts.quiet:
            out.extend(state.lines)
        state.lines.clear()


def _icmp_handler(clock: Any, target: int, opts: _Options, state: _Run,
                  pr_addr: Callable[[int], str]) -> Callable[[Packet, Packet | None], None]:
    """ping4_parse_reply: the ICMP socket's receiver, an echo reply or an error quoting one
    of our requests."""
    def on_icmp(packet: Packet, original: Packet | None) -> None:
        if original is None:
            _echo_reply(packet, clock.now, target, opts, state, pr_addr)
        elif original.icmp_type == ICMP_ECHO_REQUEST and original.icmp_seq in state.sent_at:
            state.errors += 1
            state.lines.append(f"From {pr_addr(packet.ip_src)} icmp_seq={original.icmp_seq} "
                               f"{_error_text(packet)}")
    return on_icmp


def _echo_reply(packet: Packet, now: float, target: int, opts: _Options, state: _Run,
                pr_addr: Callable[[int], str]) -> None:
    seq = packet.icmp_seq
    if seq not in state.sent_at:
        return
    dup = seq in state.answered
    rtt = now - state.sent_at[seq]
    if not dup:
        state.answered.add(seq)
        state.received += 1
        state.add_rtt(rtt)
    line = (f"{len(packet.payload) + 8} bytes from {pr_addr(packet.ip_src)}: "
            f"icmp_seq={seq} ttl={packet.ip_ttl}")
    if opts.size >= 16:
        line += f" time={format_rtt(rtt)} ms"
    if dup:
        line += " (DUP!)"
    if packet.ip_src != target:
        line += " (DIFFERENT ADDRESS!)"
    state.lines.append(line)


def _error_text(packet: Packet) -> str:
    """pr_icmph: an ICMP error's text."""
    if packet.icmp_type == ICMP_DEST_UNREACH:
        text = UNREACH_TEXT.get(packet.icmp_code, f"Dest Unreachable, Bad Code: {packet.icmp_code}")
        if packet.icmp_code == 4:  # the next hop's MTU rides in the header's last 16 bits
            text += f" (mtu = {packet.icmp_seq})"
        return text
    if packet.icmp_type == ICMP_TIME_EXCEEDED:
        return EXCEEDED_TEXT.get(packet.icmp_code, f"Time exceeded, Bad Code: {packet.icmp_code}")
    return f"Bad ICMP type: {packet.icmp_type}"


def _finish(opts: _Options, plan: _Plan, state: _Run, out: list[str]) -> ToolResult:
    """ping_common.c finish: the statistics, and the exit status."""
    transmitted = state.transmitted
    received = state.received
    elapsed_ms = int(round(((state.last_sent if state.last_sent is not None else plan.start)
                            - plan.start) * 1000))
    loss = (transmitted - received) * 100.0 / transmitted if transmitted else 0.0
    errors = f", +{state.errors} errors" if state.errors else ""
    out.append("")
    out.append(f"--- {opts.dest} ping statistics ---")
    out.append(f"{transmitted} packets transmitted, {received} received{errors}, "
               f"{loss:g}% packet loss, time {elapsed_ms}ms")
    if state.rtt_count and opts.size >= 16:
        avg = state.rtt_sum / state.rtt_count
        mdev = math.sqrt(max(state.rtt_sum2 / state.rtt_count - avg * avg, 0.0))
        out.append(f"rtt min/avg/max/mdev = {state.rtt_min:.3f}/{avg:.3f}/{state.rtt_max:.3f}/"
                   f"{mdev:.3f} ms")
    rc = 0 if received else 1
    if opts.deadline is not None and opts.count is not None and received < opts.count:
        rc = 1
    stderr = "".join(line + "\n" for line in state.errors_text)
    return ToolResult(rc, "\n".join(out) + "\n", stderr)


def _sends(start: float, interval: float, count: int, deadline: float) -> int:
    """How many of `count` sends, `interval` apart from `start`, come before `deadline`."""
    if deadline == math.inf or interval == 0:
        return count if start <= deadline else 0
    k = max(0, min(count, int((deadline - start) / interval) + 1))
    while k > 0 and start + (k - 1) * interval > deadline:  # float rounding, both ways
        k -= 1
    while k < count and start + k * interval <= deadline:
        k += 1
    return k


def _is_literal(text: str) -> bool:
    parts = text.split(".")
    return len(parts) == 4 and all(p.isdigit() for p in parts)
