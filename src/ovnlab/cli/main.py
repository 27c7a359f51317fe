"""The `ovnlab` command line: parses arguments and renders results, nothing else."""

from __future__ import annotations

import argparse
import base64
import io
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from ovnlab import state as state_mod
from ovnlab import topology as topo_mod
from ovnlab.cli.client import call, stream
from ovnlab.errors import OvnlabError
from ovnlab.state import StateDir

START_TIMEOUT = 60.0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="ovnlab",
        description="OpenStack Neutron + OVN with distributed floating IPs, on one machine.",
    )
    p.add_argument("--state", metavar="DIR",
                   help="lab state directory (default: $OVNLAB_STATE or ./.ovnlab)")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    up = sub.add_parser("up", help="start the lab in the background")
    up.add_argument("--topology", default=None, metavar="NAME|FILE",
                    help=f"built-in ({', '.join(topo_mod.BUILTIN)}) or YAML file (default: seed)")
    up.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                    help="Neutron config, e.g. ovn.enable_distributed_floating_ip=false")
    up.add_argument("--port", type=int, default=0, help="API port on 127.0.0.1 (default: any)")

    sub.add_parser("status", help="show the running lab")
    sub.add_parser("down", help="stop the lab, keep its state")
    sub.add_parser("destroy", help="stop the lab and remove its state")

    ex = sub.add_parser("exec", help="run a node's tool: ovnlab exec NODE -- COMMAND ARGS...")
    ex.add_argument("node")
    ex.add_argument("argv", nargs=argparse.REMAINDER)

    cfg = sub.add_parser("config", help="change Neutron config as a neutron-server restart applies it")
    cfg_sub = cfg.add_subparsers(dest="action", required=True)
    cfg_set = cfg_sub.add_parser("set")
    cfg_set.add_argument("key", help="e.g. ovn.enable_distributed_floating_ip")
    cfg_set.add_argument("value")

    env = sub.add_parser("env", help="print export OS_... lines for the openstack client")
    env.add_argument("--project", default="admin")

    tr = sub.add_parser("trace", help="send one packet and show its path across the chassis")
    tr.add_argument("src")
    tr.add_argument("dst")
    proto = tr.add_mutually_exclusive_group()
    proto.add_argument("--icmp", action="store_const", dest="proto", const="icmp")
    proto.add_argument("--tcp", type=int, metavar="PORT")
    proto.add_argument("--udp", type=int, metavar="PORT")
    mode = tr.add_mutually_exclusive_group()
    for m in ("minimal", "summary", "detailed"):
        mode.add_argument(f"--{m}", action="store_const", dest="mode", const=m)

    exp = sub.add_parser("export", help="write the lab's NB or SB as an OVSDB database file")
    exp.add_argument("database", choices=("nb", "sb"))
    exp.add_argument("-o", "--output", metavar="FILE", help="file to write (default: stdout)")

    demo = sub.add_parser("demo", help="run the article's scenario end to end and check it")
    demo.add_argument("--step", action="store_true", help="pause between steps")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    state = StateDir(state_mod.state_dir(args.state))
    try:
        return COMMANDS[args.command](args, state)
    except OvnlabError as exc:
        print(f"ovnlab: {exc.message}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130


def cmd_up(args: argparse.Namespace, state: StateDir) -> int:
    running = state.runtime()
    if running is not None:
        print(f"ovnlab: a lab is already running in {state.path} (pid {running.pid})", file=sys.stderr)
        return 1
    if state.exists():
        if args.topology or args.set:
            print(f"ovnlab: {state.path} already holds a lab; its topology is fixed "
                  "(use `ovnlab config set` or `ovnlab destroy` first)", file=sys.stderr)
            return 1
    else:
        raw = topo_mod.load_raw(args.topology or "seed")
        for item in args.set:
            topo_mod.apply_override(raw, item)
        state.create(raw)
    state.path.mkdir(parents=True, exist_ok=True)
    log = open(state.log_file, "ab")  # noqa: SIM115 - handed to the child
    proc = subprocess.Popen(
        [sys.executable, "-m", "ovnlab.daemon", "--state", str(state.path), "--port", str(args.port)],
        stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
    )
    deadline = time.monotonic() + START_TIMEOUT
    while (rt := state.runtime()) is None or rt.pid != proc.pid:
        if proc.poll() is not None or time.monotonic() > deadline:
            tail = state.log_file.read_text(errors="replace").splitlines()[-15:]
            print("ovnlab: the lab failed to start:\n" + "\n".join(tail), file=sys.stderr)
            if proc.poll() is None:
                proc.terminate()
            return 1
        time.sleep(0.05)
    topo = state.topology()
    print(f"Lab {topo.name!r} is up (pid {rt.pid}): {', '.join(n.hostname for n in topo.nodes)}")
    print(f"OpenStack APIs on {rt.url}; point the openstack client at it with:\n")
    print(f"  export OS_CLIENT_CONFIG_FILE={state.clouds_file}")
    print("  export OS_CLOUD=ovnlab-admin     # or ovnlab-demo (a non-admin project)")
    print("  openstack network list\n")
    print("Inspect nodes with `ovnlab exec NODE -- ovn-nbctl show` (or ovn-sbctl, ovs-ofctl, tcpdump, ping).")
    return 0


def cmd_status(args: argparse.Namespace, state: StateDir) -> int:
    rt = state.require_runtime()
    info = call(rt, "status")
    print(f"lab:      {info['topology']} (pid {rt.pid}, {rt.url})")
    print(f"state:    {state.path}")
    for node in info["nodes"]:
        print(f"node:     {node}")
    for key, value in info.get("counts", {}).items():
        print(f"{key + ':':<9} {value}")
    return 0


def cmd_down(args: argparse.Namespace, state: StateDir) -> int:
    _stop(state)
    print(f"Lab stopped; its state is kept in {state.path} (`ovnlab up` resumes it).")
    return 0


def _stop(state: StateDir) -> None:
    """SIGTERM the recorded daemon; SIGKILL it if it has not gone within 15 s."""
    rt = state.require_runtime()
    os.kill(rt.pid, 15)
    deadline = time.monotonic() + 15
    while state_mod.pid_alive(rt.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if state_mod.pid_alive(rt.pid):
        os.kill(rt.pid, 9)
    state.clear_runtime()


def cmd_destroy(args: argparse.Namespace, state: StateDir) -> int:
    if state.runtime() is not None:
        _stop(state)
    if not state.path.exists():
        print(f"ovnlab: no lab in {state.path}", file=sys.stderr)
        return 1
    state.remove()
    print(f"Lab destroyed ({state.path} removed).")
    return 0


def cmd_exec(args: argparse.Namespace, state: StateDir) -> int:
    argv = list(args.argv)
    if argv[:1] == ["--"]:
        argv = argv[1:]
    if not argv:
        print("ovnlab exec: missing command (ovnlab exec NODE -- COMMAND ARGS...)", file=sys.stderr)
        return 2
    rt = state.require_runtime()
    rc, lines = 1, 0
    try:
        for event in stream(rt, "exec", {"node": args.node, "argv": argv, "cwd": os.getcwd()}):
            if event.get("stdout"):
                lines += event["stdout"].count("\n")
                sys.stdout.write(event["stdout"])
                sys.stdout.flush()
            if event.get("stderr"):
                sys.stderr.write(event["stderr"])
                sys.stderr.flush()
            if "rc" in event:
                rc = int(event["rc"])
    except KeyboardInterrupt:
        if argv[0] != "tcpdump":
            raise
        sys.stderr.write(_tcpdump_interrupted(argv[1:], lines))
        return 0  # tcpdump exits 0 when interrupted, after its statistics
    return rc


def _tcpdump_interrupted(argv: list[str], captured: int) -> str:
    """The statistics tcpdump prints on ^C (the daemon's side just saw the client go)."""
    from ovnlab.tools import tcpdump

    follower = tcpdump.start(argv, output=io.BytesIO())
    follower.captured = follower.received = captured
    return follower.summary(interrupted=True)


def cmd_config(args: argparse.Namespace, state: StateDir) -> int:
    rt = state.require_runtime()
    reply = call(rt, "config", {"key": args.key, "value": args.value})
    print(f"{reply['key']} = {reply['value']} (applied as a neutron-server restart does)")
    return 0


def cmd_env(args: argparse.Namespace, state: StateDir) -> int:
    from ovnlab.api import env_lines

    rt = state.require_runtime()
    topo = state.topology()
    print(env_lines(rt.url, topo.projects, args.project), end="")
    return 0


def cmd_trace(args: argparse.Namespace, state: StateDir) -> int:
    rt = state.require_runtime()
    proto, port = ("tcp", args.tcp) if args.tcp else ("udp", args.udp) if args.udp else ("icmp", 0)
    reply = call(rt, "trace", {"src": args.src, "dst": args.dst, "proto": proto, "port": port,
                               "mode": args.mode or "summary"})
    sys.stdout.write(reply["stdout"])
    return 0


def cmd_export(args: argparse.Namespace, state: StateDir) -> int:
    rt = state.require_runtime()
    data = base64.b64decode(call(rt, "export", {"database": args.database})["data"])
    if args.output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return 0
    target = Path(args.output)
    try:
        _write_atomically(target, data)
    except OSError as exc:
        print(f"ovnlab export: cannot write {target}: {exc.strerror}", file=sys.stderr)
        return 1
    return 0


def _write_atomically(target: Path, data: bytes) -> None:
    """A temp file beside the target, renamed over it: the file is whole or untouched."""
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        os.fchmod(fd, 0o644)  # mkstemp makes it 0600; an export is an ordinary file
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, target)
    except BaseException:
        os.unlink(tmp)
        raise


def cmd_demo(args: argparse.Namespace, state: StateDir) -> int:
    from ovnlab.demo import run_demo

    return run_demo(step=args.step)


COMMANDS = {
    "up": cmd_up, "status": cmd_status, "down": cmd_down, "destroy": cmd_destroy,
    "exec": cmd_exec, "config": cmd_config, "env": cmd_env, "trace": cmd_trace, "demo": cmd_demo,
    "export": cmd_export,
}


if __name__ == "__main__":
    sys.exit(main())
