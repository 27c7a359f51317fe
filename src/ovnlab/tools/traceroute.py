"""`traceroute` (Debian's "Modern traceroute for Linux" 2.1) on a lab node, in virtual time.

    traceroute [-nIUTF] [-f first_ttl] [-m max_ttl] [-q nqueries] [-w MAX[,HERE,NEAR]]
               [-N squeries] [-p port] host [packetlen]

Probes leave the node's own IP stack with growing TTLs: UDP to ports 33434 + probe number
(the default method), `-U` UDP to one port (53), `-I` ICMP echo, `-T` TCP SYN (port 80).
As the real tool, up to 16 probes are in flight at once, a probe waits MAX seconds, or
HERE times the round trip of an answered probe of its hop, or NEAR times that of a later
hop; hops print in order, and the trace ends with the hop whose probe reached the
destination or got a destination-unreachable (`!H`, `!N`, `!P`, `!F-mtu`, `!X`, ...).

`checkpoint` is called between the clock's events (see tools/ping.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from ovnlab.fabric.host import HostStack, Pmtudisc
from ovnlab.fabric.icmp import embedded_packet
from ovnlab.packet import (
    ETH_IP,
    ICMP_DEST_UNREACH,
    ICMP_ECHO_REPLY,
    ICMP_ECHO_REQUEST,
    ICMP_TIME_EXCEEDED,
    PROTO_ICMP,
    PROTO_TCP,
    PROTO_UDP,
    TCP_ACK,
    TCP_RST,
    TCP_SYN,
    Packet,
    ip_str,
)
from ovnlab.tools import ToolResult, fail, host_stack
from ovnlab.turns import no_slices

USAGE = ("Usage:\n  traceroute [ -46dFITnreAUDV ] [ -f first_ttl ] [ -g gate,... ] [ -i device ] "
         "[ -m max_ttl ] [ -N squeries ] [ -p port ] [ -t tos ] [ -l flow_label ] "
         "[ -w MAX,HERE,NEAR ] [ -q nqueries ] [ -s src_addr ] [ -z sendwait ] "
         "[ --fwmark=num ] host [ packetlen ]\n")
WAIT_PREC = 0.001  # DEF_WAIT_PREC: added to a round trip before scaling it
MAX_PACKET = 65000
# icmp error codes of destination unreachable -> the mark after the time (traceroute.c)
UNREACH_MARK = {0: "!N", 6: "!N", 8: "!N", 11: "!N", 1: "!H", 7: "!H", 12: "!H", 2: "!P",
                5: "!S", 9: "!X", 10: "!X", 13: "!X", 14: "!V", 15: "!C", 3: ""}


class Method(Enum):
    DEFAULT = "default"  # UDP, destination port grows per probe
    UDP = "udp"
    ICMP = "icmp"
    TCP = "tcp"


HEADER_LEN = {Method.DEFAULT: 28, Method.UDP: 28, Method.ICMP: 28, Method.TCP: 60}
DEFAULT_PORT = {Method.DEFAULT: 33434, Method.UDP: 53, Method.ICMP: 1, Method.TCP: 80}


@dataclass(slots=True)
class _Options:
    method: Method = Method.DEFAULT
    numeric: bool = False
    dont_fragment: bool = False
    first_hop: int = 1
    max_hops: int = 30
    nqueries: int = 3
    sim_queries: int = 16
    wait: tuple[float, float, float] = (5.0, 3.0, 10.0)
    port: int | None = None
    dest: str = ""
    packet_len: int | None = None


@dataclass(slots=True)
class _Probe:
    ttl: int
    sent: float | None = None
    received: float | None = None
    done: bool = False
    final: bool = False
    source: int | None = None  # who answered
    mark: str = ""
    match: tuple[int, ...] = ()


_VALUED = {"-f": "first_ttl", "-m": "max_ttl", "-q": "nqueries", "-w": "MAX,HERE,NEAR",
           "-N": "squeries", "-p": "port", "-z": "sendwait", "-t": "tos"}


def _parse(argv: list[str]) -> _Options | ToolResult:
    opts = _Options()
    args = list(argv)
    positional: list[str] = []
    index = 0
    while args:
        arg = args.pop(0)
        index += 1
        if not arg.startswith("-") or arg == "-":
            positional.append(arg)
            continue
        letters = arg[1:]
        while letters:
            flag, letters = "-" + letters[0], letters[1:]
            if flag in ("-n", "-I", "-T", "-U", "-F", "-4"):
                if flag == "-n":
                    opts.numeric = True
                elif flag == "-F":
                    opts.dont_fragment = True
                elif flag != "-4":
                    opts.method = {"-I": Method.ICMP, "-T": Method.TCP, "-U": Method.UDP}[flag]
                continue
            if flag not in _VALUED:
                return fail(f"Bad option `{flag}' (argc {index})", 2)
            value = letters or (args.pop(0) if args else None)
            letters = ""
            if value is None:
                return fail(f"Option `{flag}' (argc {index}) requires an argument: "
                            f"`{flag} {_VALUED[flag]}'", 2)
            if not arg[2:]:
                index += 1
            error = _set_value(opts, flag, value, index)
            if error is not None:
                return error
    if not positional:
        return ToolResult(0, "", USAGE)
    opts.dest = positional[0]
    if len(positional) > 1:
        try:
            opts.packet_len = int(positional[1])
        except ValueError:
            return fail(f"Cannot handle \"packetlen\" cmdline arg `{positional[1]}' on "
                        f"position 2 (argc {index})", 2)
        if opts.packet_len > MAX_PACKET:
            return fail(f"too big packetlen {opts.packet_len} specified", 2)
    return _check(opts)


def _set_value(opts: _Options, flag: str, value: str, index: int) -> ToolResult | None:
    bad = fail(f"Cannot handle `{flag}' option with arg `{value}' (argc {index})", 2)
    if flag == "-w":
        parts = value.split(",")
        try:
            nums = [float(p) for p in parts] + [0.0] * (3 - len(parts))
        except ValueError:
            return bad
        if len(parts) > 3 or any(n < 0 for n in nums):
            return fail(f"bad wait specifications `{','.join(f'{n:g}' for n in nums)}' used",
                        2)
        opts.wait = (nums[0], nums[1] if len(parts) > 1 else 3.0,
                     nums[2] if len(parts) > 2 else 10.0)
        return None
    try:
        number = int(value, 0)
    except ValueError:
        return bad
    if flag == "-f":
        opts.first_hop = number
    elif flag == "-m":
        opts.max_hops = number
    elif flag == "-q":
        opts.nqueries = number
    elif flag == "-N":
        opts.sim_queries = number
    elif flag == "-p":
        opts.port = number
    return None  # -z, -t: accepted; probes leave back to back with TOS 0


def _check(opts: _Options) -> _Options | ToolResult:
    if opts.max_hops > 255:
        return fail("max hops cannot be more than 255", 2)
    if not 0 < opts.first_hop <= opts.max_hops:
        return fail("first hop out of range", 2)
    if not 0 < opts.nqueries <= 10:
        return fail("no more than 10 probes per hop", 2)
    if opts.sim_queries <= 0:
        opts.sim_queries = 16
    return opts


def run(fabric: Any, node: str, argv: list[str],
        checkpoint: Callable[[], None] = no_slices) -> ToolResult:
    parsed = _parse(argv)
    if isinstance(parsed, ToolResult):
        return parsed
    opts = parsed
    stack = host_stack(fabric, node, "traceroute", 2)
    if isinstance(stack, ToolResult):
        return stack
    target = fabric.resolve(opts.dest)
    if target is None:
        return fail(f"{opts.dest}: Name or service not known\nCannot handle \"host\" cmdline "
                    f"arg `{opts.dest}' on position 1 (argc {len(argv)})", 2)
    header = HEADER_LEN[opts.method]
    length = max(opts.packet_len if opts.packet_len is not None else 60, header)
    out = [f"traceroute to {opts.dest} ({ip_str(target)}), {opts.max_hops} hops max, "
           f"{length} byte packets"]
    if stack.lookup_route(target) is None and target not in stack.local_ips:
        # the header is out (no newline yet) when the first probe's connect() fails
        return ToolResult(1, out[0], "connect: Network is unreachable\n")
    prober = _Prober(fabric, stack, opts, target, length - header)
    out.extend(prober.trace(checkpoint, lambda a: _address(fabric, a, opts.numeric)))
    return ToolResult(0, "\n".join(out) + "\n", "")


def _address(fabric: Any, address: int, numeric: bool) -> str:
    if numeric:
        return ip_str(address)
    return f"{fabric.resolve_name(address) or ip_str(address)} ({ip_str(address)})"


class _Prober:
    """Sends the probes, matches what comes back, and expires what does not."""

    def __init__(self, fabric: Any, stack: HostStack, opts: _Options, target: int,
                 data_len: int) -> None:
        self.clock = fabric.clock
        self.stack = stack
        self.opts = opts
        self.target = target
        self.data = bytes(0x40 + (i & 0x3F) for i in range(data_len))
        self.port = opts.port if opts.port is not None else DEFAULT_PORT[opts.method]
        self.ident = stack.next_icmp_ident()
        self.tcp_sport = stack.next_port()
        hops = range(opts.first_hop, opts.max_hops + 1)
        self.probes = [_Probe(ttl) for ttl in hops for _ in range(opts.nqueries)]
        self.by_match: dict[tuple[int, ...], _Probe] = {}

    # ------------------------------------------------------------ the main loop (do_it)
    def trace(self, checkpoint: Callable[[], None], address: Callable[[int], str]) -> list[str]:
        nq = self.opts.nqueries
        lines: list[str] = []
        start, end = 0, len(self.probes)
        self.stack.taps.append(self._tap)
        try:
            while start < end:
                n, in_flight = start, 0
                while n < end:
                    pb = self.probes[n]
                    if not pb.done and pb.sent is not None and \
                            self.clock.now - pb.sent >= self._timeout(n) - 1e-9:
                        pb.done = True  # expired: no answer
                    if pb.done:
                        if n == start:
                            self._print(n, lines, address)
                            start += 1
                        if pb.final:
                            end = (n // nq + 1) * nq
                        n += 1
                        continue
                    if pb.sent is None:
                        self._send(n)
                    in_flight += 1
                    if in_flight >= self.opts.sim_queries:
                        break
                    n += 1
                if start >= end:
                    break
                self._wait(start, end, checkpoint)
        finally:
            self.stack.taps.remove(self._tap)
        return lines

    def _wait(self, start: int, end: int, checkpoint: Callable[[], None]) -> None:
        """Run the clock to the next event, or to the earliest expiry if that comes first."""
        expiries = [pb.sent + self._timeout(i) for i, pb in enumerate(self.probes[start:end],
                                                                       start)
                    if pb.sent is not None and not pb.done]
        expiry = min(expiries) if expiries else self.clock.now
        nxt = self.clock.next_time()
        if nxt is None or nxt > expiry:
            self.clock.run_until(expiry)
            return
        checkpoint()
        self.clock.step()

    def _timeout(self, index: int) -> float:
        """get_timeout: HERE times an answered round trip of the same hop, else NEAR times
        one of a later probe, at most MAX."""
        wait, here, near = self.opts.wait
        nq = self.opts.nqueries
        if here:
            first = index - index % nq
            for p in self.probes[first:first + nq]:
                if p.received is not None and p.sent is not None and p.received > p.sent:
                    return min(here * (p.received - p.sent + WAIT_PREC), wait)
        if near:
            for p in self.probes[index + 1:]:
                if p.sent is None:
                    break
                if p.received is not None and p.received > p.sent:
                    return min(near * (p.received - p.sent + WAIT_PREC), wait)
        return wait

    # ------------------------------------------------------------ probes
    def _send(self, index: int) -> None:
        pb = self.probes[index]
        number = (pb.ttl - 1) * self.opts.nqueries + index % self.opts.nqueries
        method = self.opts.method
        base = Packet(eth_type=ETH_IP, ip_dst=self.target, ip_ttl=pb.ttl)
        if method is Method.ICMP:
            seq = (self.port + number) & 0xFFFF
            packet = base.with_(ip_proto=PROTO_ICMP, icmp_type=ICMP_ECHO_REQUEST,
                                icmp_id=self.ident, icmp_seq=seq, payload=self.data)
            pb.match = (PROTO_ICMP, self.ident, seq)
        elif method is Method.TCP:
            sport = self.stack.next_port()  # one per probe, so each answer names its probe
            packet = base.with_(ip_proto=PROTO_TCP, tp_src=sport, tp_dst=self.port,
                                tcp_flags=TCP_SYN, tcp_seq=number)
            pb.match = (PROTO_TCP, sport, self.port)
        else:
            sport = self.stack.next_port()
            dport = self.port + number if method is Method.DEFAULT else self.port
            packet = base.with_(ip_proto=PROTO_UDP, tp_src=sport, tp_dst=dport & 0xFFFF,
                                payload=self.data)
            pb.match = (PROTO_UDP, sport, dport & 0xFFFF)
        self.by_match[pb.match] = pb
        pb.sent = self.clock.now
        error = self.stack.send(packet, Pmtudisc.DO if self.opts.dont_fragment
                                else Pmtudisc.DONT)
        if error is not None:  # sendto() failed: the probe is over, marked as the tool does
            pb.done, pb.final, pb.mark = True, True, "!N"

    def _tap(self, packet: Packet) -> bool:
        """Claims what answers a probe (an ICMP error quoting it, the echo reply, the
        destination's SYN-ACK or RST, which the kernel then also sees)."""
        if packet.ip_proto == PROTO_ICMP and packet.icmp_type in (ICMP_DEST_UNREACH,
                                                                  ICMP_TIME_EXCEEDED):
            quoted = embedded_packet(packet)
            if quoted is None:
                return False
            key = (PROTO_ICMP, quoted.icmp_id, quoted.icmp_seq) \
                if quoted.ip_proto == PROTO_ICMP else (quoted.ip_proto, quoted.tp_src,
                                                       quoted.tp_dst)
            pb = self.by_match.get(key)
            if pb is None or quoted.ip_dst != self.target:
                return False
            final, mark = False, ""
            if packet.icmp_type == ICMP_DEST_UNREACH:
                final = True
                mark = UNREACH_MARK.get(packet.icmp_code, f"!<{packet.icmp_code}>")
                if packet.icmp_code == 4:
                    mark = f"!F-{packet.icmp_seq}"
            self._answer(pb, packet.ip_src, final, mark)
            return True
        if packet.ip_proto == PROTO_ICMP and packet.icmp_type == ICMP_ECHO_REPLY:
            pb = self.by_match.get((PROTO_ICMP, packet.icmp_id, packet.icmp_seq))
            if pb is None:
                return False
            self._answer(pb, packet.ip_src, True, "")
            return True
        if packet.ip_proto == PROTO_TCP and packet.tcp_flags & (TCP_RST | TCP_ACK):
            pb = self.by_match.get((PROTO_TCP, packet.tp_dst, packet.tp_src))
            if pb is not None and (packet.tcp_flags & TCP_RST
                                   or packet.tcp_flags & TCP_SYN):
                self._answer(pb, packet.ip_src, True, "")
        return False

    def _answer(self, pb: _Probe, source: int, final: bool, mark: str) -> None:
        if pb.done:
            return
        pb.done, pb.final, pb.mark = True, final, mark
        pb.received, pb.source = self.clock.now, source

    # ------------------------------------------------------------ output (print_probe)
    def _print(self, index: int, lines: list[str], address: Callable[[int], str]) -> None:
        nq = self.opts.nqueries
        pb = self.probes[index]
        position = index % nq
        if position == 0:
            lines.append(f"{pb.ttl:2d} ")
        text = ""
        if pb.source is None:
            text += " *"
        else:
            previous = next((p for p in reversed(self.probes[index - position:index])
                             if p.source is not None), None)
            if previous is None or previous.source != pb.source:
                text += " " + address(pb.source)
        if pb.received is not None and pb.sent is not None:
            text += f"  {(pb.received - pb.sent) * 1000:.3f} ms"
        if pb.mark:
            text += " " + pb.mark
        lines[-1] += text
