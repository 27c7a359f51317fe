"""Nova's server actions (nova/compute/api.py): reboot, stop/start, rebuild, lock/unlock,
force delete and restore, and the instance-action records `os-instance-actions` lists.

What the network sees: a stopped server's guest is off, so libvirt has destroyed its
domain and unplugged its taps from br-int (its Neutron ports go DOWN, its packets stop);
start plugs them again; suspend and resume do the same. A paused guest keeps its taps
(its ports stay up) but runs nothing. The lab's control loop plugs what `get_vifs`
returns, which leaves out servers that are powered off. A rebuild keeps the server's
ports."""

from __future__ import annotations

from collections.abc import Collection

from ovnlab.cloud import catalog, compute_quotas
from ovnlab.cloud.base import Doc
from ovnlab.cloud.context import Context
from ovnlab.cloud.nova import NovaOps
from ovnlab.cloud.server_states import (
    ALLOW_HARD_REBOOT,
    ALLOW_SOFT_REBOOT,
    Action,
    VmState,
    check_state,
    invalid_state,
    powered_on,
    set_vm_state,
    vm_state,
)
from ovnlab.errors import BadRequest, Conflict, Forbidden, NotFound

ACTION_KIND = "instance_action"
# The compute manager's event per action (wrap_instance_event's function names).
_EVENTS = {Action.CREATE: "compute__do_build_and_run_instance",
           Action.REBOOT: "compute_reboot_instance", Action.STOP: "compute_stop_instance",
           Action.START: "compute_start_instance", Action.REBUILD: "compute_rebuild_instance",
           Action.DELETE: "compute_terminate_instance", Action.PAUSE: "compute_pause_instance",
           Action.UNPAUSE: "compute_unpause_instance",
           Action.SUSPEND: "compute_suspend_instance",
           Action.RESUME: "compute_resume_instance"}


def is_locked(ctx: Context, server: Doc) -> None:
    """check_instance_lock: a locked server refuses changes from anyone but an admin."""
    if server.get("locked") and not ctx.is_admin:
        raise Conflict(f"Instance {server['id']} is locked", type="InstanceIsLocked")


class ServerActionOps(NovaOps):
    def _acting_on(self, ctx: Context, server_id: str, action: Action) -> Doc:
        server = self._server_doc(ctx, server_id)
        is_locked(ctx, server)
        check_state(action, server)
        return server

    def _changed(self, server: Doc, state: VmState) -> None:
        set_vm_state(server, state)
        server["updated"] = self._core._now()
        self._core._save("server", server)

    # ------------------------------------------------------------ power
    def reboot_server(self, ctx: Context, server_id: str, hard: bool) -> None:
        """SOFT needs a running guest; HARD also powers on a stopped one."""
        with self._core._txn():
            server = self._server_doc(ctx, server_id)
            is_locked(ctx, server)
            state = vm_state(server)
            if state not in (ALLOW_HARD_REBOOT if hard else ALLOW_SOFT_REBOOT):
                raise invalid_state("reboot", server_id, state)
            self._changed(server, VmState.ACTIVE)

    def stop_server(self, ctx: Context, server_id: str) -> None:
        with self._core._txn():
            self._changed(self._acting_on(ctx, server_id, Action.STOP), VmState.STOPPED)

    def start_server(self, ctx: Context, server_id: str) -> None:
        with self._core._txn():
            self._changed(self._acting_on(ctx, server_id, Action.START), VmState.ACTIVE)

    def pause_server(self, ctx: Context, server_id: str) -> None:
        with self._core._txn():
            self._changed(self._acting_on(ctx, server_id, Action.PAUSE), VmState.PAUSED)

    def unpause_server(self, ctx: Context, server_id: str) -> None:
        with self._core._txn():
            self._changed(self._acting_on(ctx, server_id, Action.UNPAUSE), VmState.ACTIVE)

    def suspend_server(self, ctx: Context, server_id: str) -> None:
        with self._core._txn():
            self._changed(self._acting_on(ctx, server_id, Action.SUSPEND), VmState.SUSPENDED)

    def resume_server(self, ctx: Context, server_id: str) -> None:
        with self._core._txn():
            self._changed(self._acting_on(ctx, server_id, Action.RESUME), VmState.ACTIVE)

    # ------------------------------------------------------------ rebuild
    def rebuild_server(self, ctx: Context, server_id: str, changes: Doc) -> Doc:
        """A new root disk from `imageRef` (and the given name, metadata, access addresses,
        description, key pair); the ports stay; a stopped server stays stopped."""
        image = catalog.find_image(changes.get("imageRef"))
        with self._core._txn():
            server = self._acting_on(ctx, server_id, Action.REBUILD)
            if image is None:
                raise BadRequest(f"Image {changes.get('imageRef')} could not be found.",
                                 type="ImageNotFound")
            server["image_id"] = image.id
            for key in ("name", "accessIPv4", "accessIPv6", "description", "key_name",
                        "OS-DCF:diskConfig"):
                if key in changes:
                    server[key] = changes[key]
            if "metadata" in changes:
                compute_quotas.check_metadata(self._core.store, server["project_id"],
                                              changes["metadata"])
                server["metadata"] = dict(changes["metadata"])
            self._changed(server, vm_state(server))
        return self._server_view(ctx, server)

    # ------------------------------------------------------------ lock
    def lock_server(self, ctx: Context, server_id: str, reason: str | None) -> None:
        with self._core._txn():
            server = self._server_doc(ctx, server_id)
            server.update(locked=True, locked_reason=reason,
                          locked_by="admin" if ctx.is_admin and ctx.project_id != server[
                              "project_id"] else "owner")
            self._core._save("server", server)

    def unlock_server(self, ctx: Context, server_id: str) -> None:
        """An owner may not lift an admin's lock (os-lock-server:unlock:unlock_override)."""
        with self._core._txn():
            server = self._server_doc(ctx, server_id)
            if server.get("locked_by") == "admin" and not ctx.is_admin:
                raise Forbidden("Policy doesn't allow os_compute_api:os-lock-server:unlock:"
                                "unlock_override to be performed.", type="PolicyNotAuthorized")
            server.update(locked=False, locked_reason=None, locked_by=None)
            self._core._save("server", server)

    # ------------------------------------------------------------ deletion
    def restore_server(self, ctx: Context, server_id: str) -> None:
        """Only a soft-deleted server can be restored; with reclaim_instance_interval = 0
        (the default) none ever is, so an existing server is always in the wrong state."""
        server = self._server_doc(ctx, server_id)
        raise invalid_state("restore", server_id, vm_state(server))

    def force_delete_server(self, ctx: Context, server_id: str) -> None:
        self.delete_server(ctx, server_id)

    # ------------------------------------------------------------ instance actions
    def record_instance_action(self, ctx: Context, server_id: str, action: Action,
                               request_id: str) -> None:
        """What the compute API records for each action (InstanceAction.action_start) and
        the compute manager's one event, finished at once."""
        server = self._core.store.get("server", server_id)
        project = server["project_id"] if server else ctx.project_id
        now = self._core._now()
        event = _EVENTS.get(action)
        self._core.store.put(ACTION_KIND, f"{server_id}/{request_id}", {
            "instance_uuid": server_id, "action": action.value, "request_id": request_id,
            "user_id": ctx.user_id, "project_id": project, "start_time": now,
            "updated_at": now, "message": None,
            "events": [] if event is None else [{
                "event": event, "start_time": now, "finish_time": now, "result": "Success",
                "host": server.get("host") if server else None}]})

    def get_instance_actions(self, ctx: Context, server_id: str) -> list[Doc]:
        """Newest first; a deleted server's actions stay (read_deleted='yes')."""
        found = self._core.store.find(ACTION_KIND, instance_uuid=server_id)
        if not found or not (ctx.is_admin or found[0]["project_id"] == ctx.project_id):
            self._server_doc(ctx, server_id)  # the 404 for a server never seen
            return []
        return list(reversed(found))

    def get_instance_action(self, ctx: Context, server_id: str, request_id: str) -> Doc:
        for action in self.get_instance_actions(ctx, server_id):
            if action["request_id"] == request_id:
                return action
        raise NotFound(f"Action for request_id {request_id} on instance {server_id} not "
                       "found", type="InstanceActionNotFound")

    # ------------------------------------------------------------ what the lab plugs
    def get_vifs(self, ctx: Context, servers: Collection[str] | None = None
                 ) -> list[tuple[Doc, Doc]]:
        """Only powered-on servers have their taps in br-int."""
        return [(server, port) for server, port in super().get_vifs(ctx, servers)
                if self._powered(server["id"])]

    def _powered(self, server_id: str) -> bool:
        server = self._core.store.get("server", server_id)
        return server is not None and powered_on(server)

    def delete_server(self, ctx: Context, id: str) -> None:
        is_locked(ctx, self._server_doc(ctx, id))
        super().delete_server(ctx, id)
