"""`ovn-trace [OPTIONS] [DATAPATH] MICROFLOW` on the lab's Southbound, with the options,
output and errors of OVN 22.03's utilities/ovn-trace.c (the evaluator is `ovnlab.ovntrace`).

As the real tool, a datapath or microflow it cannot use is reported on stdout with exit
status 0; bad options and argument counts exit 1.  Warnings go to stderr in vlog's form.
"""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime

from ovnlab.ovntrace import db as tracedb
from ovnlab.ovntrace.engine import parse_ct_state
from ovnlab.ovntrace.trace import Options, trace
from ovnlab.ovsdb import Database
from ovnlab.tools import ToolResult

PROG = "ovn-trace"
VERSION = "ovn-trace 22.03.9\nOpen vSwitch Library 3.0.7\nDB Schema 20.21.0\n"
_FLAGS = ("detailed", "summary", "minimal", "all", "friendly-names", "no-friendly-names",
          "leader-only", "no-leader-only", "help", "version")
_VALUED = ("db", "ct", "lb-dst", "select-id", "unixctl")
_USAGE = f"""\
{PROG}: OVN trace utility
usage: {PROG} [OPTIONS] [DATAPATH] MICROFLOW

Output format options:
  --detailed              table-by-table "backtrace" (default)
  --summary               less detailed, more parseable
  --minimal               minimum to explain externally visible behavior
  --all                   provide all forms of output
Output style options:
  --no-friendly-names     do not substitute human friendly names for UUIDs

Other options:
  --db=DATABASE           ignored: ovnlab traces the lab's own Southbound
  --ct=FLAGS              ct_state for each ct_next/ct_*nat/ct_lb, in order (repeatable)
  --lb-dst=IP[:PORT]      the backend ct_lb chooses
  -h, --help              display this help message
  -V, --version           display version information
"""


class _Usage(Exception):
    pass


def _long(name: str) -> str:
    """getopt_long: a unique prefix names an option."""
    every = _FLAGS + _VALUED
    if name in every:
        return name
    found = [o for o in every if o.startswith(name)]
    if len(found) == 1:
        return found[0]
    if found:
        raise _Usage(f"{PROG}: option '--{name}' is ambiguous")
    raise _Usage(f"{PROG}: unrecognized option '--{name}'")


def _parse(argv: list[str]) -> tuple[dict[str, list[str]], list[str]]:
    opts: dict[str, list[str]] = {}
    args: list[str] = []
    i = 0
    while i < len(argv):
        a = argv[i]
        i += 1
        if a == "--":
            args.extend(argv[i:])
            break
        if a in ("-h", "-V"):
            opts.setdefault("help" if a == "-h" else "version", []).append("")
        elif a.startswith("--"):
            name, eq, value = a[2:].partition("=")
            name = _long(name)
            if name in _VALUED:
                if not eq:
                    if i >= len(argv):
                        raise _Usage(f"{PROG}: option '--{name}' requires an argument")
                    value = argv[i]
                    i += 1
            elif eq:
                raise _Usage(f"{PROG}: option '--{name}' doesn't allow an argument")
            if name in ("friendly-names", "no-friendly-names"):  # the last one wins
                name, value = "friendly", str(name == "friendly-names")
            opts.setdefault(name, []).append(value)
        elif a.startswith("-") and len(a) > 1:
            raise _Usage(f"{PROG}: invalid option -- '{a[1]}'")
        else:
            args.append(a)
    return opts, args


def _lb_dst(text: str) -> tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, int]:
    host, port = text, 0
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = int(rest[1:]) if rest.startswith(":") else 0
    elif text.count(":") == 1:
        host, _, p = text.partition(":")
        port = int(p)
    return ipaddress.ip_address(host), port


def _vlog(warnings: list[str]) -> str:
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return "".join(f"{stamp}|{i:05d}|ovntrace|WARN|{w}\n" for i, w in enumerate(warnings, 1))


def run(sb: Database, argv: list[str], nb: Database | None = None) -> ToolResult:
    """`nb` is accepted for symmetry with the lab's dispatcher; ovn-trace reads the SB."""
    del nb
    try:
        opts, args = _parse(argv)
        if "help" in opts:
            return ToolResult(0, _USAGE)
        if "version" in opts:
            return ToolResult(0, VERSION)
        ct_states = []
        for text in opts.get("ct", []):
            try:
                ct_states.append(parse_ct_state(text))
            except ValueError as exc:
                raise _Usage(f"{PROG}: {exc}") from None
        lb_dst = None
        if "lb-dst" in opts:
            try:
                lb_dst = _lb_dst(opts["lb-dst"][-1])
            except ValueError:
                raise _Usage(f"{PROG}: {opts['lb-dst'][-1]}: bad address") from None
        if len(args) not in (1, 2):
            raise _Usage(f"{PROG}: one or two non-option arguments are required "
                         "(use --help for help)")
    except _Usage as exc:
        return ToolResult(1, "", f"{exc}\n")
    every = "all" in opts
    options = Options(detailed=every or "detailed" in opts, summary=every or "summary" in opts,
                      minimal=every or "minimal" in opts, ct_states=tuple(ct_states),
                      lb_dst=lb_dst)
    db = _read(sb, opts.get("friendly", ["True"])[-1] == "True")
    dp_name = args[0] if len(args) == 2 else None
    out = trace(db, dp_name, args[-1], options)
    return ToolResult(0, out, _vlog(db.warnings))


# The last SB read, reused while the SB is unchanged (seqno): parsing every logical flow
# is most of a run (about 2 s for 30,000 flows), the trace itself milliseconds.
_last: tuple[Database, int, bool, tracedb.TraceDb, tuple[str, ...]] | None = None


def _read(sb: Database, friendly: bool) -> tracedb.TraceDb:
    global _last
    if _last is None or _last[0] is not sb or _last[1:3] != (sb.seqno, friendly):
        db = tracedb.read(sb, friendly_names=friendly)
        _last = (sb, sb.seqno, friendly, db, tuple(db.warnings))
    db = _last[3]
    db.warnings = list(_last[4])  # each run reports the read's warnings and its own
    return db
