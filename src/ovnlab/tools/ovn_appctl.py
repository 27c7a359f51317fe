"""`ovn-appctl -t ovn-controller COMMAND` on a chassis: the incremental engine's
`inc-engine/show-stats`, `inc-engine/recompute` and `inc-engine/clear-stats`,
`memory/show` (its IDL counters only) and `list-commands` (of these), with the real
22.03 daemon's output and errors."""

from __future__ import annotations

from typing import Protocol

from ovnlab.tools import ToolResult, fail, ok

TARGET = "ovn-controller"
COMMANDS = ("inc-engine/show-stats", "inc-engine/recompute", "inc-engine/clear-stats",
            "memory/show", "list-commands")


class Daemon(Protocol):
    def engine_stats(self) -> str: ...

    def recompute(self) -> None: ...

    def clear_engine_stats(self) -> None: ...

    def memory_usage(self) -> dict[str, int]: ...


def run(controller: Daemon, argv: list[str]) -> ToolResult:
    args = [a for a in argv if a != "ovn-appctl"]
    target = "ovn-northd"  # ovn-appctl's default target
    if args[:1] in (["-t"], ["--target"]) and len(args) > 1:
        target, args = args[1], args[2:]
    elif args and args[0].startswith("--target="):
        target, args = args[0].partition("=")[2], args[1:]
    if not args:
        return fail("ovn-appctl: at least one non-option argument is required (use --help "
                    "for help)", 1)
    if target != TARGET:
        return fail(f'ovn-appctl: cannot read pidfile "/var/run/ovn/{target}.pid" '
                    "(No such file or directory)", 1)
    cmd, params = args[0], args[1:]
    if cmd not in COMMANDS:
        return _error(f'"{cmd}" is not a valid command (use "list-commands" to see a list '
                      "of valid commands)")
    if params:
        return _error(f'"{cmd}" command takes at most 0 arguments')
    if cmd == "inc-engine/show-stats":
        return ok(controller.engine_stats())
    if cmd == "list-commands":  # unixctl's list, sorted, "  %-23s %s" (no arguments here)
        return ok("The available commands are:\n"
                  + "".join(f"  {name:<23} \n" for name in sorted(COMMANDS)))
    if cmd == "memory/show":  # memory.c compose_report: name:value by name, zeros left out
        usage = controller.memory_usage()
        return ok(" ".join(f"{k}:{v}" for k, v in sorted(usage.items()) if v))
    if cmd == "inc-engine/recompute":
        controller.recompute()
    else:
        controller.clear_engine_stats()
    return ok()


def _error(message: str) -> ToolResult:
    return fail(f"{message}\novn-appctl: {TARGET}: server returned an error", 2)
