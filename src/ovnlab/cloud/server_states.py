"""Nova's server state machine, the part ovnlab's actions use: vm_state (nova/compute/
vm_states.py), power_state (nova/compute/power_state.py), the API status a vm_state shows
as (nova/api/openstack/common.py's _STATE_MAP), and which vm_states each action accepts
(the compute API's check_instance_state). Every action completes within its request, so
task_state is None once the request returns (only a server waiting for its ports is
`spawning`)."""

from __future__ import annotations

from enum import IntEnum, StrEnum

from ovnlab.errors import Conflict


class VmState(StrEnum):
    BUILDING = "building"
    ACTIVE = "active"
    STOPPED = "stopped"
    PAUSED = "paused"
    SUSPENDED = "suspended"
    ERROR = "error"


class PowerState(IntEnum):
    NOSTATE = 0
    RUNNING = 1
    PAUSED = 3
    SHUTDOWN = 4  # also a suspended guest's: libvirt saved it and destroyed its domain


# vm_state -> (API status, power_state)
_SHOWN: dict[VmState, tuple[str, PowerState]] = {
    VmState.BUILDING: ("BUILD", PowerState.NOSTATE),
    VmState.ACTIVE: ("ACTIVE", PowerState.RUNNING),
    VmState.STOPPED: ("SHUTOFF", PowerState.SHUTDOWN),
    VmState.PAUSED: ("PAUSED", PowerState.PAUSED),
    VmState.SUSPENDED: ("SUSPENDED", PowerState.SHUTDOWN),
    VmState.ERROR: ("ERROR", PowerState.NOSTATE),
}
_FROM_STATUS = {status: state for state, (status, _) in _SHOWN.items()}

# The API statuses whose view carries `progress` (views/servers.py _progress_statuses).
PROGRESS_STATUSES = frozenset({"ACTIVE", "BUILD", "REBUILD", "RESIZE", "VERIFY_RESIZE",
                               "MIGRATING"})


class Action(StrEnum):
    """An instance action as `os-instance-actions` names it (nova/compute/instance_actions.py)."""
    CREATE = "create"
    DELETE = "delete"
    REBOOT = "reboot"
    STOP = "stop"
    START = "start"
    REBUILD = "rebuild"
    LOCK = "lock"
    UNLOCK = "unlock"
    PAUSE = "pause"
    UNPAUSE = "unpause"
    SUSPEND = "suspend"
    RESUME = "resume"
    ATTACH_INTERFACE = "attach_interface"
    DETACH_INTERFACE = "detach_interface"


# vm_states each action accepts (check_instance_state); None = any.
ALLOWED: dict[Action, frozenset[VmState] | None] = {
    Action.STOP: frozenset({VmState.ACTIVE, VmState.ERROR}),
    Action.START: frozenset({VmState.STOPPED}),
    Action.PAUSE: frozenset({VmState.ACTIVE}),
    Action.UNPAUSE: frozenset({VmState.PAUSED}),
    Action.SUSPEND: frozenset({VmState.ACTIVE}),
    Action.RESUME: frozenset({VmState.SUSPENDED}),
    Action.REBUILD: frozenset({VmState.ACTIVE, VmState.STOPPED, VmState.ERROR}),
    Action.DELETE: None,
    Action.LOCK: None,
    Action.UNLOCK: None,
}
ALLOW_SOFT_REBOOT = frozenset({VmState.ACTIVE})
ALLOW_HARD_REBOOT = ALLOW_SOFT_REBOOT | {VmState.STOPPED, VmState.PAUSED, VmState.SUSPENDED,
                                         VmState.ERROR}


def vm_state(server: dict[str, object]) -> VmState:
    """The server's vm_state (a server stored before vm_state was kept: from its status)."""
    raw = server.get("vm_state")
    if isinstance(raw, str):
        return VmState(raw)
    return _FROM_STATUS.get(str(server.get("status")), VmState.BUILDING)


def set_vm_state(server: dict[str, object], state: VmState) -> None:
    server["vm_state"] = state.value
    server["status"] = _SHOWN[state][0]


def status(server: dict[str, object]) -> str:
    """The API `status` the server shows."""
    return _SHOWN[vm_state(server)][0]


def power_state(server: dict[str, object]) -> PowerState:
    return _SHOWN[vm_state(server)][1]


def powered_on(server: dict[str, object]) -> bool:
    """Whether the guest's taps are in br-int (libvirt unplugs them when it destroys the
    domain on stop or suspend, and plugs them again on start or resume)."""
    return vm_state(server) not in (VmState.STOPPED, VmState.SUSPENDED)


def frozen(server: dict[str, object]) -> bool:
    """A paused guest: its taps stay in br-int (its ports stay up), it runs nothing."""
    return vm_state(server) is VmState.PAUSED


def invalid_state(action: str, server_id: str, state: VmState) -> Conflict:
    """InstanceInvalidState as raise_http_conflict_for_instance_invalid_state words it."""
    return Conflict(f"Cannot '{action}' instance {server_id} while it is in vm_state "
                    f"{state.value}", type="InstanceInvalidState")


def check_state(action: Action, server: dict[str, object]) -> None:
    allowed = ALLOWED.get(action)
    state = vm_state(server)
    if allowed is not None and state not in allowed:
        raise invalid_state(action.value, str(server["id"]), state)
