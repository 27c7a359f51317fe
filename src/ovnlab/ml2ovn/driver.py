"""Neutron's OVN mechanism driver and OVN L3 service plugin: Neutron API dicts -> OVN NB rows.

Follows openstack/neutron (2023.1, the Gateway_Chassis era):
neutron/plugins/ml2/drivers/ovn/mech_driver/ovsdb/ovn_client.py (`OVNClient`), commands.py,
mech_driver.py (`set_port_status_up/down`, `_update_dnat_entry_if_needed`),
neutron/services/ovn_l3/plugin.py (`schedule_unhosted_gateways`). Function names in the
comments point at the Neutron code each method mirrors.

Not modelled: DHCPv6, DNS records, QoS, allowed-address-pair virtual ports,
IPv6 RA configs, availability zones, port forwarding, OVN load balancers.
`NAT.gateway_port` stays empty: OVN 22.03 has no such column, and Neutron master only sets
it for routers using an HA_Chassis_Group (ovnlab schedules with Gateway_Chassis rows).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from ovnlab.ml2ovn import lsp as lsp_rules
from ovnlab.ml2ovn import names as n
from ovnlab.ml2ovn import scheduler as sched
from ovnlab.ml2ovn.agents import agents as agent_list
from ovnlab.ml2ovn.agents import ping_all_chassis
from ovnlab.ml2ovn.base import PortStatusCallback
from ovnlab.ml2ovn.floatingips import FloatingIPDriver
from ovnlab.ml2ovn.networks import NetworkDriver
from ovnlab.ml2ovn.ports import PortDriver
from ovnlab.ml2ovn.routers import L3Driver
from ovnlab.ml2ovn.secgroups import SecurityGroupDriver
from ovnlab.ml2ovn.sync import build, reconcile
from ovnlab.ml2ovn.view import EMPTY, DictView, Kind, Resource, View
from ovnlab.nb.api import NbApi, merged
from ovnlab.nb.schema import NB_SCHEMA
from ovnlab.ovsdb import Change, Database, Transaction
from ovnlab.topology import OvnConfig


class OVNMechanismDriver(NetworkDriver, PortDriver, L3Driver, FloatingIPDriver, SecurityGroupDriver):
    """The ML2/OVN driver the cloud calls inside each of its transactions: one class per
    resource family (`ovnlab.ml2ovn.networks`, `ports`, `routers`, `floatingips`,
    `secgroups`), their decisions in `lsp`, `l3` and `fip`.

    `on_port_status(port_id, up)` is called after an NB `Logical_Switch_Port.up` change has
    been handled (the lead wires it to `cloud.update_port_status`).
    """

    def __init__(self, nb: Database, sb: Database, config: OvnConfig, *, seed: int = 0,
                 emit_need_to_frag: bool = False, plugin: View = EMPTY,
                 _live: Database | None = None) -> None:
        self.nb = nb
        self.sb = sb
        self.config = config
        self.emit_need_to_frag = emit_need_to_frag or config.ovn_emit_need_to_frag
        self.api = NbApi(nb)
        self.scheduler = sched.Scheduler(config.ovn_l3_scheduler, seed)
        self.on_port_status: PortStatusCallback | None = None
        self.defer_port_events = False
        self._pending_status: list[tuple[str, bool]] = []
        self.clock: Callable[[], float] = lambda: 0.0  # the lab's virtual seconds
        self.plugin = plugin
        self._seed = seed
        self._mac_rng = random.Random(f"ovn-dhcp-server-mac:{seed}")
        # Where `up` and the existing gateway chassis are read: the NB itself, except for
        # the scratch driver `sync` replays the cloud into.
        self._live = _live or nb
        self._live_api = NbApi(_live) if _live is not None else self.api
        self._syncing = _live is not None
        if _live is None:
            nb.subscribe(self._on_nb_changes)
            sb.subscribe(self._on_sb_changes)
        with self.transaction():
            if not nb.rows("NB_Global"):  # `ovn-nbctl init`, which ovn-ctl runs at start
                self.api.insert("NB_Global")
            self._ensure_drop_port_group()

    def bind(self, plugin: View) -> None:
        """Read the Neutron resources from `plugin` from now on (the cloud binds its store at
        start, as ML2 hands its mechanism drivers the core plugin)."""
        self.plugin = plugin

    def agents(self, now: str) -> list[Resource]:
        """The agents Neutron's OVN driver reports from the SB chassis (`agent list`)."""
        return agent_list(self._live, self.sb, now, self.clock())

    def ping_all_chassis(self) -> bool:
        """Bump NB_Global.nb_cfg unless done under agent_down_time // 2 ago (the reports
        it asks for come when the chassis next run)."""
        return ping_all_chassis(self._live, self.clock())

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """The NB transaction a cloud operation runs in; nested calls join it. The driver
        keeps nothing of its own to roll back but the NB and the `[ovn]` options: the
        resources it read are the caller's, rolled back by the caller's transaction."""
        if self.nb.in_transaction:
            with self.nb.transaction() as txn:
                yield txn
            return
        config = self.config
        try:
            with self.nb.transaction() as txn:
                yield txn
        except BaseException:
            self.api.reset()
            self.config = config
            raise

    def set_port_status_up(self, port_id: str) -> None:
        """`OVNMechanismDriver.set_port_status_up`."""
        with self.transaction():
            self._update_dnat_entry_if_needed(port_id, up=True)
            self._update_lsp_host_info(port_id, up=True)
        if self.on_port_status is not None:
            self.on_port_status(port_id, True)

    def set_port_status_down(self, port_id: str) -> None:
        with self.transaction():
            self._update_dnat_entry_if_needed(port_id, up=False)
            self._update_lsp_host_info(port_id, up=False)
        if self.on_port_status is not None:
            self.on_port_status(port_id, False)

    def _update_lsp_host_info(self, port_id: str, up: bool) -> None:
        """`update_lsp_host_info` (LP#2020058): `neutron:host_id` while the port is up."""
        lsp = self.api.by_name("Logical_Switch_Port", port_id)
        port = self.plugin.get(Kind.PORTS, port_id)
        if lsp is None or lsp_rules.lsp_on(lsp) != up:
            return
        host = str((port or {}).get("binding:host_id") or "")
        if up and host:
            self.api.set(lsp, external_ids=merged(lsp["external_ids"], {n.HOST_ID: host}))
        elif not up and n.HOST_ID in lsp["external_ids"]:
            self.api.set(lsp, external_ids=merged(lsp["external_ids"], {n.HOST_ID: None}))

    def _on_nb_changes(self, changes: list[Change]) -> None:
        """`LogicalSwitchPortUpdateUpEvent` / `...DownEvent` (ovsdb_monitor.py).

        Neutron handles these on its own thread, after the writer's transaction. With
        `defer_port_events` set they wait for `run()` (the lab's control loop); otherwise
        they are handled at once, from inside the NB commit that reported them."""
        for ch in changes:
            if ch.table != "Logical_Switch_Port" or ch.op != "update" or ch.old is None or ch.new is None:
                continue
            old_on, new_on = lsp_rules.lsp_on(ch.old), lsp_rules.lsp_on(ch.new)
            if new_on != old_on:
                self._pending_status.append((ch.uuid, new_on))
        if not self.defer_port_events:
            self.run()

    @property
    def pending(self) -> bool:
        """Whether port up/down events wait for `run()` (the lab's converger asks)."""
        return bool(self._pending_status)

    def run(self) -> bool:
        """Handle the port up/down events seen so far; True if any was handled.

        Listener calls arrive out of order when commits nest, so: every event updates the
        NAT rows in arrival order (the result does not depend on it: distributed, up sets
        external_mac and down keeps it; centralized, both clear it), then Neutron is told
        each port's current state once."""
        handled = False
        while self._pending_status:
            pending, self._pending_status = self._pending_status, []
            names: dict[str, str] = {}
            with self.transaction():
                for uuid, up in pending:
                    row = self.nb.tables["Logical_Switch_Port"].get(uuid)
                    if row is not None:
                        names[uuid] = row["name"]
                        self._update_dnat_entry_if_needed(row["name"], up)
                        self._update_lsp_host_info(row["name"], up)
            for uuid, name in names.items():
                row = self.nb.tables["Logical_Switch_Port"].get(uuid)
                if row is not None and self.on_port_status is not None:
                    self.on_port_status(name, lsp_rules.lsp_on(row))
            handled = handled or bool(names)
        return handled

    def _on_sb_changes(self, changes: list[Change]) -> None:
        """`ChassisEvent`: chassis added/removed or their mappings/cms options changed."""
        relevant = False
        for ch in changes:
            if ch.table != "Chassis":
                continue
            if ch.op != "update" or ch.old is None or ch.new is None:
                relevant = True
            elif sched.chassis_info(ch.old) != sched.chassis_info(ch.new):
                relevant = True
        if relevant and not self.nb.in_transaction:
            self.schedule_unhosted_gateways()

    def sync(self, snapshot: Mapping[str, Any] | None = None, *,
             distributed: bool | None = None) -> None:
        """`ovn_db_sync` (mode repair): rebuild what the NB must hold for every resource the
        plugin holds (or `snapshot`'s lists of them), then apply only the differences (row
        UUIDs, LSP `up` and kept gateway chassis survive). See `ovnlab.ml2ovn.sync`.
        `distributed` is the cloud's `[ovn] enable_distributed_floating_ip` as neutron-server
        restarts with it (None: the driver's as it is)."""
        view = self.plugin if snapshot is None else DictView.of_lists(snapshot)
        with self.transaction():
            if distributed is not None:
                self.config = replace(self.config, enable_distributed_floating_ip=distributed)
            scratch = build(view, lambda plugin: OVNMechanismDriver(
                new_nb(self._seed), self.sb, self.config, seed=self._seed,
                emit_need_to_frag=self.emit_need_to_frag, plugin=plugin, _live=self.nb))
            reconcile(self.nb, scratch.nb)
            self.api.reset()


def new_nb(seed: int = 0) -> Database:
    """An empty Northbound database named as ovsdb-server names it."""
    return Database("OVN_Northbound", NB_SCHEMA, seed=seed)
