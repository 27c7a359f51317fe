"""`tcpdump` on an emulated node's interface.

Two ways to run it, both printing what tcpdump 4.99 prints:
- `run(history, argv, resolver, iface_exists)`: one shot. With `--history` (an ovnlab
  extension) it prints what the interface recorded since the lab started; with `-r FILE` it
  reads a pcap file; `-w FILE` writes a pcap file that Debian's tcpdump and Wireshark read.
- `start(argv, resolver, iface_exists)` -> `Follower`: the live mode a daemon drives; print
  `header()` on stderr, then `feed(captured)` for each new frame (a `CaptureCursor` over the
  fabric's `captures(node)` yields them) and stream the lines it returns; stop when `done`
  (after `-c N`) or on ^C, then print `summary(interrupted=...)` on stderr.

stdout carries the packet lines; stderr the "listening on ..." header and the closing
"N packets captured" statistics, as the real tool does.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import BinaryIO, Protocol

from ovnlab.capture.format import FormatOptions, Formatter, timestamp
from ovnlab.capture.pcap import PcapError, PcapWriter, loads
from ovnlab.capture.pcapfilter import Filter, FilterError, Forward, compile_filter
from ovnlab.errors import ToolError
from ovnlab.packet import BROADCAST, Packet
from ovnlab.tools import ToolResult

VERSION = "tcpdump version 4.99.3\nlibpcap version 1.10.3 (with TPACKET_V3)\n"
USAGE = VERSION + """\
Usage: tcpdump [-AbdDefhHIJKlLnNOpqStuUvxX#] [ -B size ] [ -c count ] [--count]
\t\t[ -C file_size ] [ -E algo:secret ] [ -F file ] [ -G seconds ]
\t\t[ -i interface ] [ --immediate-mode ] [ -j tstamptype ]
\t\t[ -M secret ] [ --number ] [ --print ] [ -Q in|out|inout ]
\t\t[ -r file ] [ -s snaplen ] [ -T type ] [ --version ]
\t\t[ -V file ] [ -w file ] [ -W filecount ] [ -y datalinktype ]
\t\t[ --time-stamp-precision precision ] [ --micro ] [ --nano ]
\t\t[ -z postrotate-command ] [ -Z user ] [ expression ]
"""
SNAPLEN = 262144
# tcpdump's getopt string: which letters exist and which take an argument
_WITH_ARG = set("BcCEFGijJmMQrsTVwWyzZ")
_NO_ARG = set("aAbdDefhHIKlLnNOpqStuUvxXY#")
_SUPPORTED = set("ceDilnqrtvwxXQS#") | {"--history", "--count", "--number", "--print"}


class Captured(Protocol):
    """A frame an interface saw (ovnlab.fabric.capture.Captured has this shape)."""

    @property
    def time(self) -> float: ...
    @property
    def iface(self) -> str: ...
    @property
    def direction(self) -> str: ...
    @property
    def packet(self) -> Packet: ...


class Names(Protocol):
    """The lab's DNS: reverse lookups name addresses, forward ones resolve filter hosts."""

    def reverse(self, address: str) -> str | None: ...
    def forward(self, name: str) -> int | str | None: ...


Resolver = Names | Callable[[str], "str | None"]


@dataclass(frozen=True, slots=True)
class TcpdumpOptions:
    interface: str | None = None
    numeric: int = 0             # -n (-nn is the same in 4.99)
    link_header: bool = False    # -e
    verbose: int = 0             # -v, -vv, -vvv
    count: int | None = None     # -c N
    write_file: str | None = None
    read_file: str | None = None
    line_buffered: bool = False  # -l (lines are always flushed here)
    timestamps: bool = True      # -t turns them off
    numbered: bool = False       # -# / --number
    print_too: bool = False      # --print: print lines even with -w
    direction: str | None = None  # -Q in|out (None = inout)
    absolute_seq: bool = False   # -S
    hex_dump: int = 0            # -x / -xx (-X / -XX add ASCII)
    hex_ascii: bool = False
    quiet: bool = False          # -q
    history: bool = False        # ovnlab: print what the interface recorded
    list_interfaces: bool = False  # -D
    expression: str = ""

    @property
    def format_options(self) -> FormatOptions:
        return FormatOptions(numeric=bool(self.numeric), link_header=self.link_header,
                             verbose=self.verbose, timestamps=self.timestamps,
                             absolute_seq=self.absolute_seq, hex_dump=self.hex_dump,
                             hex_ascii=self.hex_ascii, quiet=self.quiet)


def parse_args(argv: Sequence[str]) -> TcpdumpOptions:
    """tcpdump's command line (getopt rules: -nne, -c5, -c 5, trailing EXPR words)."""
    opts: dict[str, object] = {}
    words: list[str] = []
    i = 0
    argv = list(argv)
    while i < len(argv):
        arg = argv[i]
        i += 1
        if arg == "--":
            words.extend(argv[i:])
            break
        if arg.startswith("--"):
            name, _, value = arg.partition("=")
            if name == "--history":
                opts["history"] = True
            elif name in ("--count",):
                opts["count_only"] = True
            elif name == "--number":
                opts["numbered"] = True
            elif name == "--print":
                opts["print_too"] = True
            elif name == "--direction":
                if not value:
                    if i >= len(argv):
                        raise _usage(f"tcpdump: option '{name}' requires an argument")
                    value, i = argv[i], i + 1
                opts["direction"] = _direction(value)
            elif name == "--version":
                raise ToolError(VERSION, 0)
            elif name == "--help":
                raise ToolError(USAGE, 0)
            else:
                raise _usage(f"tcpdump: unrecognized option '{arg}'")
            continue
        if not arg.startswith("-") or arg == "-":
            words.append(arg)
            continue
        j = 1
        while j < len(arg):
            letter = arg[j]
            j += 1
            if letter in _WITH_ARG:
                value = arg[j:]
                if not value:
                    if i >= len(argv):
                        raise _usage(f"tcpdump: option requires an argument -- '{letter}'")
                    value, i = argv[i], i + 1
                _set_option(opts, letter, value)
                break
            if letter not in _NO_ARG:
                raise _usage(f"tcpdump: invalid option -- '{letter}'")
            _set_option(opts, letter, None)
    if opts.pop("count_only", False):
        raise ToolError("tcpdump: (ovnlab) --count is not supported", 1)
    return TcpdumpOptions(expression=" ".join(words), **opts)  # type: ignore[arg-type]


def _set_option(opts: dict[str, object], letter: str, value: str | None) -> None:
    if letter not in _SUPPORTED:
        raise ToolError(f"tcpdump: (ovnlab) option -{letter} is not supported", 1)
    if letter == "n":
        opts["numeric"] = int(opts.get("numeric", 0)) + 1  # type: ignore[call-overload]
    elif letter == "e":
        opts["link_header"] = True
    elif letter == "v":
        opts["verbose"] = int(opts.get("verbose", 0)) + 1  # type: ignore[call-overload]
    elif letter == "l":
        opts["line_buffered"] = True
    elif letter == "t":
        opts["timestamps"] = False
    elif letter == "S":
        opts["absolute_seq"] = True
    elif letter in "xX":
        opts["hex_dump"] = min(2, int(opts.get("hex_dump", 0)) + 1)  # type: ignore[call-overload]
        if letter == "X":
            opts["hex_ascii"] = True
    elif letter == "q":
        opts["quiet"] = True
    elif letter == "D":
        opts["list_interfaces"] = True
    elif letter == "#":
        opts["numbered"] = True
    elif letter == "c":
        assert value is not None
        try:
            count = int(value)
        except ValueError:
            count = 0
        if count <= 0:
            raise ToolError(f"tcpdump: invalid packet count {value}", 1)
        opts["count"] = count
    elif letter == "i":
        opts["interface"] = value
    elif letter == "w":
        opts["write_file"] = value
    elif letter == "r":
        opts["read_file"] = value
    elif letter == "Q":
        assert value is not None
        opts["direction"] = _direction(value)


def _direction(value: str) -> str | None:
    if value not in ("in", "out", "inout"):
        raise ToolError(f"tcpdump: unknown capture direction '{value}'", 1)
    return None if value == "inout" else value


def _usage(first_line: str) -> ToolError:
    return ToolError(first_line + "\n" + USAGE, 1)


# --------------------------------------------------------------------- the live mode
def _names(resolver: Resolver | None) -> tuple[Callable[[str], str | None] | None,
                                                Forward | None]:
    if resolver is None:
        return None, None
    reverse = getattr(resolver, "reverse", None)
    forward = getattr(resolver, "forward", None)
    if reverse is None and callable(resolver):
        return resolver, None  # a bare callable is the brief's `ip -> name | None`
    return reverse, forward


def _plural(n: int, what: str) -> str:
    return f"{n} {what}" if n == 1 else f"{n} {what.replace('packet', 'packets', 1)}"


@dataclass
class Follower:
    """One running tcpdump: filter, format (or write) and count what the interface sees.

    The daemon calls `header()` once (stderr), `feed(captured)` for each frame the node's
    interfaces record (returns stdout lines; empty for other interfaces, filtered-out frames
    or with -w), stops when `done`, then prints `summary()` (stderr) and calls `close()`."""

    options: TcpdumpOptions
    resolver: Resolver | None = None
    output: BinaryIO | None = None  # where -w writes (the caller opens the file)
    live: bool = True  # False: reading a savefile (-r), which has no directions
    forward: Forward | None = None  # filter host names -> addresses (else resolver.forward)
    captured: int = 0
    received: int = 0
    _filter: Filter = field(init=False)
    _formatter: Formatter = field(init=False)
    _writer: PcapWriter | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        reverse, forward = _names(self.resolver)
        forward = self.forward or forward
        try:
            self._filter = compile_filter(self.options.expression, forward, live=self.live)
        except FilterError as err:
            raise ToolError(f"tcpdump: {err.message}", 1) from None
        self._formatter = Formatter(self.options.format_options, reverse)
        if self.options.write_file is not None and self.output is not None:
            self._writer = PcapWriter(self.output)

    @property
    def done(self) -> bool:
        return self.options.count is not None and self.captured >= self.options.count

    @property
    def interface(self) -> str:
        return self.options.interface or "eth0"

    def header(self) -> str:
        any_iface = self.interface == "any"
        link = "LINUX_SLL2 (Linux cooked v2)" if any_iface else "EN10MB (Ethernet)"
        text = f"listening on {self.interface}, link-type {link}, snapshot length {SNAPLEN} bytes\n"
        if not self.options.verbose and self.options.write_file is None:
            return ("tcpdump: verbose output suppressed, use -v[v]... for full protocol decode\n"
                    + text)
        return "tcpdump: " + text

    def wants(self, captured: Captured) -> bool:
        if self.interface != "any" and captured.iface != self.interface:
            return False
        if self.options.direction is not None and captured.direction != self.options.direction:
            return False
        return self._filter(captured.packet, captured.direction)

    def feed(self, captured: Captured) -> list[str]:
        if self.done or not self.wants(captured):
            return []
        self.received += 1
        self.captured += 1
        if self._writer is not None:
            self._writer.write(captured.time, captured.packet)
            if not self.options.print_too:
                return []
        return [self.line(captured)]

    def line(self, captured: Captured) -> str:
        text = self._formatter.format(captured.packet)
        if self.interface == "any":
            text = f"{captured.iface:<5} {_pkttype(captured):<3} {text}"
        if self.options.timestamps:
            text = f"{timestamp(captured.time)} {text}"
        if self.options.numbered:
            text = f"{self.captured:5}  {text}"
        return text

    def summary(self, received: int | None = None, *, interrupted: bool = False) -> str:
        """The closing statistics; after ^C tcpdump first ends the "^C" line."""
        seen = self.received if received is None else received
        return ("\n" if interrupted else "") + (f"{_plural(self.captured, 'packet captured')}\n"
                f"{_plural(seen, 'packet received by filter')}\n"
                f"{_plural(0, 'packet dropped by kernel')}\n")

    def close(self) -> None:
        if self._writer is not None:
            self._writer.flush()


def start(argv: Sequence[str], resolver: Resolver | None = None,
          iface_exists: Callable[[str], bool] | None = None, *, forward: Forward | None = None,
          output: BinaryIO | None = None) -> Follower:
    """A live tcpdump for the daemon: parses ARGS and checks the interface and the filter the
    way tcpdump does before it prints anything; raises ToolError (message, exit code)."""
    options = parse_args(argv)
    if options.read_file is not None:
        raise ToolError("tcpdump: (ovnlab) -r is not a live capture; use run()", 1)
    iface = options.interface or "eth0"
    if iface != "any" and iface_exists is not None and not iface_exists(iface):
        raise ToolError(f"tcpdump: {iface}: No such device exists\n(No such device exists)", 1)
    if options.write_file is not None and output is None:
        raise ToolError("tcpdump: (ovnlab) -w needs an output file from the caller", 1)
    return Follower(options, resolver, output, forward=forward)


class CaptureCursor:
    """New frames since the last poll across a node's interfaces ({iface: list} as the
    fabric keeps them, lists only ever appended to), in time order."""

    def __init__(self, by_iface: Mapping[str, Sequence[Captured]]) -> None:
        self.by_iface = by_iface
        self.seen = {name: len(frames) for name, frames in by_iface.items()}

    def poll(self) -> list[Captured]:
        fresh: list[Captured] = []
        for name, frames in self.by_iface.items():
            start = self.seen.get(name, 0)
            fresh.extend(frames[start:])
            self.seen[name] = len(frames)
        return sorted(fresh, key=lambda c: c.time)


def _pkttype(captured: Captured) -> str:
    """The Linux cooked header's packet type that `-i any` prints."""
    if captured.direction == "out":
        return "Out"
    if captured.packet.eth_dst == BROADCAST:
        return "B"
    if captured.packet.eth_dst & (1 << 40):
        return "M"
    return "In"


# --------------------------------------------------------------------- one-shot mode
def run(history: Mapping[str, Sequence[Captured]] | Iterable[Captured], argv: Sequence[str],
        resolver: Resolver | None = None, iface_exists: Callable[[str], bool] | None = None, *,
        forward: Forward | None = None, read_bytes: Callable[[str], bytes] | None = None,
        write_bytes: Callable[[str, bytes], None] | None = None) -> ToolResult:
    """`tcpdump ARGS` without following live: --history, -r FILE, -w FILE.

    `history` is what the node's interfaces recorded: {iface: [Captured...]} (the fabric's
    `captures(node)`) or one time-ordered iterable of Captured. `resolver` names addresses
    (`ip -> name | None`, or an object with `reverse`/`forward`); `forward` resolves host
    names in the filter (`name -> ip`). `read_bytes`/`write_bytes` reach the user's files
    (default: this machine's)."""
    try:
        options = parse_args(argv)
        if forward is not None:
            resolver = _WithForward(resolver, forward)
        if options.read_file is not None:
            return _read(options, resolver, read_bytes or _read_path, write_bytes)
        if options.list_interfaces:
            if not isinstance(history, Mapping):
                raise ToolError("tcpdump: (ovnlab) -D needs the node's interfaces", 1)
            return ToolResult(0, _interface_list(list(history)), "")
        iface = options.interface or "eth0"
        if isinstance(history, Mapping):
            if iface_exists is None:
                iface_exists = history.__contains__
            history = _merge(history, iface)
        if iface != "any" and iface_exists is not None and not iface_exists(iface):
            raise ToolError(f"tcpdump: {iface}: No such device exists\n(No such device exists)",
                            1)
        if options.write_file == "-":
            raise ToolError("tcpdump: (ovnlab) -w - (pcap on stdout) is not supported", 1)
        output = io.BytesIO() if options.write_file is not None else None
        follower = Follower(options, resolver, output)
        lines: list[str] = []
        received = 0
        if options.history:
            for captured in history:
                if follower.wants(captured):
                    received += 1
                    lines.extend(follower.feed(captured))
        stderr = follower.header()
        if not options.history:
            stderr += (f"tcpdump: (ovnlab) not following live here; add --history to print what "
                       f"{iface} recorded\n")
        follower.close()
        if options.write_file is not None and output is not None:
            _write(options.write_file, output.getvalue(), write_bytes)
        stdout = "".join(line + "\n" for line in lines)
        return ToolResult(0, stdout, stderr + follower.summary(received))
    except ToolError as err:
        text = err.message if err.message.endswith("\n") else err.message + "\n"
        if err.exit_code == 0:  # --version / --help
            return ToolResult(0, text, "")
        return ToolResult(err.exit_code, "", text)


def _interface_list(names: Sequence[str]) -> str:
    """`tcpdump -D`: the node's interfaces (all up), then libpcap's `any` pseudo-device."""
    lines = [f"{i}.{name} [Up, Running, Connected]" for i, name in enumerate(names, 1)]
    lines.append(f"{len(names) + 1}.any (Pseudo-device that captures on all interfaces) "
                 "[Up, Running]")
    return "".join(line + "\n" for line in lines)


def _merge(by_iface: Mapping[str, Sequence[Captured]], iface: str) -> list[Captured]:
    if iface != "any":
        return list(by_iface.get(iface, ()))
    merged = [c for frames in by_iface.values() for c in frames]
    return sorted(merged, key=lambda c: c.time)  # stable: same-time frames keep iface order


@dataclass(frozen=True, slots=True)
class _WithForward:
    resolver: Resolver | None
    lookup: Forward

    def reverse(self, address: str) -> str | None:
        reverse, _ = _names(self.resolver)
        return reverse(address) if reverse is not None else None

    def forward(self, name: str) -> int | str | None:
        return self.lookup(name)


def _read(options: TcpdumpOptions, resolver: Resolver | None,
          read_bytes: Callable[[str], bytes],
          write_bytes: Callable[[str, bytes], None] | None) -> ToolResult:
    path = options.read_file or ""
    try:
        data = read_bytes(path)
        records = list(loads(data))
    except FileNotFoundError:
        raise ToolError(f"tcpdump: {path}: No such file or directory", 1) from None
    except PcapError as err:
        raise ToolError(f"tcpdump: {path}: {err}", 1) from None
    header = f"reading from file {path}, link-type EN10MB (Ethernet), snapshot length {SNAPLEN}\n"
    output = io.BytesIO() if options.write_file is not None else None
    follower = Follower(replace(options, interface=None), resolver, output,  # -r ignores -i
                        live=False)
    lines: list[str] = []
    for rec in records:
        if follower.done:
            break
        try:
            packet = rec.packet()
        except (ValueError, IndexError):
            continue  # a frame ovnlab's Packet cannot parse
        # a file has no directions: every frame passes -Q
        frame = _FileFrame(rec.time, follower.interface, options.direction or "in", packet)
        lines.extend(follower.feed(frame))
    follower.close()
    if options.write_file is not None and output is not None:
        _write(options.write_file, output.getvalue(), write_bytes)
    return ToolResult(0, "".join(line + "\n" for line in lines), header)


@dataclass(frozen=True, slots=True)
class _FileFrame:
    time: float
    iface: str
    direction: str
    packet: Packet


def _read_path(path: str) -> bytes:
    return Path(path).read_bytes()


def _write(path: str, data: bytes, write_bytes: Callable[[str, bytes], None] | None) -> None:
    try:
        if write_bytes is not None:
            write_bytes(path, data)
        else:
            Path(path).write_bytes(data)
    except OSError as err:
        raise ToolError(f"tcpdump: {path}: {err.strerror or err}", 1) from None
