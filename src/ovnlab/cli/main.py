"""The `ovnlab` command line: parses arguments and renders results, nothing else."""

from __future__ import annotations

import argparse
import base64
import io
import os
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ovnlab import launch
from ovnlab import state as state_mod
from ovnlab import topology as topo_mod
from ovnlab.cli.client import Control, call, save, stream, uploads, write_atomically
from ovnlab.errors import OvnlabError
from ovnlab.state import StateDir


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="ovnlab",
        description="OpenStack Neutron + OVN with distributed floating IPs, on one machine.",
    )
    p.add_argument("--state", metavar="DIR",
                   help="lab state directory (default: $OVNLAB_STATE or ./.ovnlab)")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    _add_up(sub)

    web = sub.add_parser("web", help="open the lab's web view in a browser (or print its URL)")
    web.add_argument("--no-browser", action="store_true", help="only print the URL")

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

    _add_trace(sub)

    exp = sub.add_parser("export", help="write the lab's NB or SB as an OVSDB database file")
    exp.add_argument("database", choices=("nb", "sb"))
    exp.add_argument("-o", "--output", metavar="FILE", help="file to write (default: stdout)")

    _add_node(sub)

    link = sub.add_parser("link", help="set a node's interface down or up")
    link.add_argument("updown", metavar="down|up", choices=("down", "up"))
    link.add_argument("node")
    link.add_argument("iface")

    wait = sub.add_parser("wait", help="let SECONDS of the lab's virtual time pass (BFD, "
                                       "failover, agent liveness)")
    wait.add_argument("seconds", type=float)

    _add_demo(sub)
    return p


def _add_up(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`up`: the topology, Neutron config, API port, backend and web view."""
    up = sub.add_parser("up", help="start the lab in the background")
    up.add_argument("--topology", default=None, metavar="NAME|FILE",
                    help=f"built-in ({', '.join(topo_mod.BUILTIN)}) or YAML file (default: seed)")
    up.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                    help="Neutron config, e.g. ovn.enable_distributed_floating_ip=false")
    up.add_argument("--port", type=_port(0), default=0,
                    help="API port on 127.0.0.1, 1-65535 (default, or 0: any free port)")
    up.add_argument("--backend", choices=[b.value for b in topo_mod.Backend], default=None,
                    help="emulated (default: ovnlab's own OVN/OVS, in-process) or ovn (the "
                         "real programs in network namespaces; needs root)")
    up.add_argument("--ovn-bin", metavar="DIR", default=None,
                    help="the real backend's ovn-* programs, e.g. ../shared/ovn-22.03/bin "
                         "(default: from $PATH, Debian's ovn-central/ovn-host)")
    up.add_argument("--listen", type=_listen, default=None, metavar="ADDR:PORT",
                    help="serve the web view on ADDR:PORT (default: /web/ on the API's "
                         "port); off loopback it asks for the lab's Keystone credentials")


def _add_trace(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`trace SRC DST`: the packet's protocol and how much of its path to show."""
    tr = sub.add_parser("trace", help="send one packet and show its path across the chassis")
    tr.add_argument("src")
    tr.add_argument("dst")
    proto = tr.add_mutually_exclusive_group()
    proto.add_argument("--icmp", action="store_const", dest="proto", const="icmp")
    proto.add_argument("--tcp", type=_port(1), metavar="PORT")
    proto.add_argument("--udp", type=_port(1), metavar="PORT")
    mode = tr.add_mutually_exclusive_group()
    for m in ("minimal", "summary", "detailed"):
        mode.add_argument(f"--{m}", action="store_const", dest="mode", const=m)


def _add_node(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`node stop|start|show NODE`, `node kill NODE DAEMON`."""
    node = sub.add_parser("node", help="fail a chassis: stop|start NODE, kill NODE DAEMON")
    node_sub = node.add_subparsers(dest="action", required=True)
    for action, text in (("stop", "power the chassis off (daemons, links, its VMs)"),
                         ("start", "power it on, or restart its killed daemons"),
                         ("show", "what runs on the chassis, which links are up")):
        node_sub.add_parser(action, help=text).add_argument("node")
    kill = node_sub.add_parser("kill", help="kill -9 one daemon (`node start` restarts it)")
    kill.add_argument("node")
    kill.add_argument("daemon", help="ovn-controller or ovs-vswitchd")


def _add_demo(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`demo`: the article's scenario, on either backend."""
    demo = sub.add_parser("demo", help="run the article's scenario end to end and check it")
    demo.add_argument("--step", action="store_true", help="pause between steps")
    demo.add_argument("--failover", action="store_true",
                      help="the chapter where the network node dies and comes back")
    demo.add_argument("--backend", choices=[b.value for b in topo_mod.Backend],
                      default=topo_mod.Backend.EMULATED.value,
                      help="emulated (default) or ovn: the real programs, in namespaces (root)")
    demo.add_argument("--ovn-bin", metavar="DIR", default="",
                      help="the real backend's ovn-* programs (default: from $PATH)")


def _port(lowest: int) -> Callable[[str], int]:
    """An argparse type: a TCP/UDP port number, `lowest`-65535."""

    def port(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid port number: {text!r}") from None
        if not lowest <= value <= 65535:
            raise argparse.ArgumentTypeError(f"port {value} is out of range ({lowest}-65535)")
        return value

    return port


def _listen(text: str) -> str:
    """An argparse type: the daemon's `--listen ADDR:PORT`, checked before the lab starts."""
    from ovnlab.daemon import parse_listen

    parse_listen(text)
    return text


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
    except BrokenPipeError:  # `ovnlab ... | head`: the reader left, as a shell tool exits
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no flush error
        return 141


def cmd_up(args: argparse.Namespace, state: StateDir) -> int:
    started = launch.up(state, args.topology, args.set, args.port, args.listen,
                        args.backend, args.ovn_bin)
    rt, topo = started.runtime, started.topology
    on = "" if topo.backend is topo_mod.Backend.EMULATED else " on real OVN"
    print(f"Lab {topo.name!r} is up{on} (pid {rt.pid}): "
          f"{', '.join(n.hostname for n in topo.nodes)}")
    print(f"Web view: {_web_link(state, rt)}  (`ovnlab web` opens it)")
    print(f"OpenStack APIs on {rt.url}; point the openstack client at it with:\n")
    print(f"  export OS_CLIENT_CONFIG_FILE={state.clouds_file}")
    print("  export OS_CLOUD=ovnlab-admin     # or ovnlab-demo (a non-admin project)")
    print("  openstack network list\n")
    print("Inspect nodes with `ovnlab exec NODE -- ovn-nbctl show` (or ovn-sbctl, ovs-ofctl, tcpdump, ping).")
    return 0


def cmd_web(args: argparse.Namespace, state: StateDir) -> int:
    import webbrowser

    link = _web_link(state, state.require_runtime())
    print(link)
    if not args.no_browser and _has_display():
        try:
            webbrowser.get().open(link)
        except webbrowser.Error:
            pass  # no browser here: the printed URL is the answer
    return 0


def _web_link(state: StateDir, rt: state_mod.Runtime) -> str:
    """The web view's URL; on loopback it carries the control token, which opens a session
    (off loopback the page asks for Keystone credentials instead)."""
    from urllib.parse import urlsplit

    from ovnlab.web import is_loopback

    url = rt.web_url or f"{rt.url}/web/"
    host = (urlsplit(url).hostname or "")
    return f"{url}?token={state.token()}" if is_loopback(host) else url


def _has_display() -> bool:
    import os

    return sys.platform == "darwin" or bool(os.environ.get("DISPLAY")
                                            or os.environ.get("WAYLAND_DISPLAY"))


def cmd_status(args: argparse.Namespace, state: StateDir) -> int:
    control = Control.of(state)
    rt = control.runtime
    info = call(control, "status")
    print(f"lab:      {info['topology']} (pid {rt.pid}, {rt.url})")
    print(f"state:    {state.path}")
    if info.get("backend"):
        print(f"backend:  {info['backend']} {info.get('ovn_version', '')}".rstrip())
    for node in info["nodes"]:
        print(f"node:     {node}")
    for key, value in info.get("counts", {}).items():
        print(f"{key + ':':<9} {value}")
    return 0


def cmd_down(args: argparse.Namespace, state: StateDir) -> int:
    stopped = launch.down(state)
    if stopped.pid is None:
        stale = (f"; removed {state.runtime_file}, a stale record naming pid "
                 f"{stopped.stale.pid} (not signalled)") if stopped.stale else ""
        print(f"ovnlab: no lab is running in {state.path}{stale}", file=sys.stderr)
        return 2
    print(f"Lab stopped (pid {stopped.pid}); its state is kept in {state.path} "
          "(`ovnlab up` resumes it).")
    return 0


def cmd_destroy(args: argparse.Namespace, state: StateDir) -> int:
    done = launch.destroy(state)
    if done.stopped is not None:
        print(f"Lab stopped (pid {done.stopped}).")
    if done.removed_dir:
        print(f"Lab destroyed ({state.path} removed).")
    elif done.left:
        print(f"Lab destroyed: ovnlab's files removed; {state.path} kept, with what is not "
              f"ovnlab's: {', '.join(done.left)}")
    else:
        print(f"Lab destroyed: ovnlab's files removed; {state.path} kept (it existed before "
              "the lab).")
    return 0


def cmd_exec(args: argparse.Namespace, state: StateDir) -> int:
    argv = list(args.argv)
    if argv[:1] == ["--"]:
        argv = argv[1:]
    if not argv:
        print("ovnlab exec: missing command (ovnlab exec NODE -- COMMAND ARGS...)", file=sys.stderr)
        return 2
    control = Control.of(state)
    rc, lines = 1, 0
    body = {"node": args.node, "argv": argv, "files": uploads(argv)}
    if argv[0] == "tcpdump":
        # tcpdump catches ^C whatever it inherited (setsignal(SIGINT, cleanup)): a capture
        # started in the background of a script, where SIGINT comes in ignored, still stops
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        for event in stream(control, "exec", body):
            if "file" in event:
                try:
                    save(event)
                except OSError as exc:
                    print(f"{argv[0]}: {event['file']}: {exc.strerror}", file=sys.stderr)
                    return 1
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
    reply = call(Control.of(state), "config", {"key": args.key, "value": args.value})
    print(f"{reply['key']} = {reply['value']} (applied as a neutron-server restart does)")
    return 0


def cmd_env(args: argparse.Namespace, state: StateDir) -> int:
    from ovnlab.api import env_lines

    rt = state.require_runtime()
    topo = state.topology()
    print(env_lines(rt.url, topo.projects, args.project), end="")
    return 0


def cmd_trace(args: argparse.Namespace, state: StateDir) -> int:
    control = Control.of(state)
    proto, port = ("tcp", args.tcp) if args.tcp else ("udp", args.udp) if args.udp else ("icmp", 0)
    reply = call(control, "trace", {"src": args.src, "dst": args.dst, "proto": proto, "port": port,
                               "mode": args.mode or "summary"})
    sys.stdout.write(reply["stdout"])
    return 0


def cmd_export(args: argparse.Namespace, state: StateDir) -> int:
    control = Control.of(state)
    data = base64.b64decode(call(control, "export", {"database": args.database})["data"])
    if args.output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return 0
    target = Path(args.output)
    try:
        write_atomically(target, data)
    except OSError as exc:
        print(f"ovnlab export: cannot write {target}: {exc.strerror}", file=sys.stderr)
        return 1
    return 0


def cmd_node(args: argparse.Namespace, state: StateDir) -> int:
    body = {"action": args.action, "node": args.node, "arg": getattr(args, "daemon", "")}
    _print_node(call(Control.of(state), "node", body))
    return 0


def cmd_link(args: argparse.Namespace, state: StateDir) -> int:
    body = {"action": f"link-{args.updown}", "node": args.node, "arg": args.iface}
    _print_node(call(Control.of(state), "node", body))
    return 0


def cmd_wait(args: argparse.Namespace, state: StateDir) -> int:
    reply = call(Control.of(state), "wait", {"seconds": args.seconds})
    print(f"virtual time: {reply['now']:.3f} s")
    return 0


def _print_node(reply: dict[str, Any]) -> None:
    daemons = reply.get("daemons", {})
    parts = [f"{name} {'running' if up else 'stopped'}" for name, up in daemons.items()]
    links = reply.get("links", {})
    parts.append("links: " + ", ".join(f"{n} {'up' if up else 'DOWN'}" for n, up in links.items()))
    print(f"{reply['node']}: " + "; ".join(parts))


def cmd_demo(args: argparse.Namespace, state: StateDir) -> int:
    from ovnlab.demo import run_demo, run_failover_demo

    backend = topo_mod.Backend(args.backend)
    if args.failover:
        if backend is not topo_mod.Backend.EMULATED:
            print("ovnlab demo: --failover runs on the emulated backend only (it powers "
                  "chassis off in virtual time)", file=sys.stderr)
            return 2
        return run_failover_demo(step=args.step)
    ovn_bin = str(Path(args.ovn_bin).resolve()) if args.ovn_bin else ""
    return run_demo(step=args.step, backend=backend, ovn_bin=ovn_bin)


COMMANDS = {
    "up": cmd_up, "status": cmd_status, "down": cmd_down, "destroy": cmd_destroy,
    "exec": cmd_exec, "config": cmd_config, "env": cmd_env, "trace": cmd_trace, "demo": cmd_demo,
    "export": cmd_export, "web": cmd_web, "node": cmd_node, "link": cmd_link,
    "wait": cmd_wait,
}


if __name__ == "__main__":
    sys.exit(main())
