"""What northd writes back into the NB (ovnnb_db_run's globals, and ovnsb_db_run's
handling of Port_Binding changes in 22.03; en-sync-from-sb in later releases): NB_Global's
generated options and sb_cfg, SB_Global, a switch port's `up` and a gateway router port's
`status:hosting-chassis`; and into the SB, HA_Chassis_Group.ref_chassis (ha_ref.py)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Protocol

from ovnlab.incproc import ChangeSource, Handled
from ovnlab.northd.bindings import Bindings
from ovnlab.northd.env import Env
from ovnlab.northd.ha_ref import sync_ref_chassis
from ovnlab.northd.handlers import Dirty
from ovnlab.northd.model import parse_mac
from ovnlab.ovsdb import Change, Database, Row, Transaction


def sync_globals(nb: Database, sb: Database) -> str:
    """NB_Global exists and carries mac_prefix / svc_monitor_mac / max_tunid; SB_Global
    copies NB_Global's options and nb_cfg; NB sb_cfg follows. The random MACs real northd
    picks are derived from the database name here (deterministic runs). Returns
    svc_monitor_mac."""
    nb_rows = nb.rows("NB_Global")
    seed = hashlib.sha256(f"{nb.name}:{nb.seed}".encode()).digest()
    with nb.transaction() as txn:
        nbg = nb_rows[0] if nb_rows else txn.insert("NB_Global")
        opts = dict(nbg["options"])
        if parse_mac("00:00:00:" + opts.get("mac_prefix", "")) is None:
            opts["mac_prefix"] = ":".join(f"{b:02x}" for b in seed[:3])
        if parse_mac(opts.get("svc_monitor_mac")) is None:
            # eth_addr_random(): locally administered, unicast
            first = (seed[3] & 0xFC) | 0x02
            opts["svc_monitor_mac"] = ":".join(f"{b:02x}" for b in (first, *seed[4:9]))
        # OVN_MAX_DP_KEY_LOCAL (geneve): 2^24 - 1 - OVN_MAX_DP_GLOBAL_NUM
        opts["max_tunid"] = str((1 << 24) - 1 - (1 << 16))
        if opts != nbg["options"]:
            nbg = txn.update("NB_Global", nbg.uuid, options=opts)
    with sb.transaction() as txn:
        sb_rows = sb.rows("SB_Global")
        sbg = sb_rows[0] if sb_rows else txn.insert("SB_Global")
        txn.update("SB_Global", sbg.uuid, options=dict(nbg["options"]),
                   nb_cfg=nbg["nb_cfg"], ipsec=nbg["ipsec"])
    if nbg["sb_cfg"] != nbg["nb_cfg"]:
        with nb.transaction() as txn:
            txn.update("NB_Global", nbg.uuid, sb_cfg=nbg["nb_cfg"])
    return str(nbg["options"]["svc_monitor_mac"])


def status_changed(old: Row | None, new: Row | None) -> bool:
    """A Port_Binding change northd reflects into the NB (bound, claimed, or `up`)."""
    return new is not None and (old is None or old["up"] != new["up"]
                                or old["chassis"] != new["chassis"])


def sync_port_status(env: Env, sb: Database, pb_uuids: Iterable[str]) -> None:
    """Port_Binding.up / chassis from the controllers → NB Logical_Switch_Port.up and
    Logical_Router_Port.status:hosting-chassis (as ovn-northd does)."""
    with env.nb.transaction() as txn:
        for u in pb_uuids:
            pb = sb.tables["Port_Binding"].get(u)
            if pb is not None:  # not deleted since the change was seen
                _status_of(env, sb, txn, pb)


def _status_of(env: Env, sb: Database, txn: Transaction, pb: Row) -> None:
    if pb["type"] == "chassisredirect":
        _hosting_chassis(env, sb, txn, pb)
        return
    lsp = env.lsp_named(pb["logical_port"])
    if lsp is None:
        return
    if lsp["type"] == "router":
        up = True
    elif pb["chassis"] is not None:
        # handle_port_binding_changes(): with the chassis's port-up notification the
        # controller's Port_Binding.up decides; without, being bound is enough.
        ch = sb.tables["Chassis"].get(pb["chassis"])
        notif = ch is not None and ch["other_config"].get("port-up-notif") == "true"
        up = bool(pb["up"]) if notif else True
    else:
        up = False
    if lsp["up"] != up:
        txn.update("Logical_Switch_Port", lsp.uuid, up=up)


def _hosting_chassis(env: Env, sb: Database, txn: Transaction, pb: Row) -> None:
    lrp = env.lrp_named(pb["options"].get("distributed-port", ""))
    if lrp is None:
        return
    status = dict(lrp["status"])
    ch = sb.tables["Chassis"].get(pb["chassis"]) if pb["chassis"] else None
    if ch is not None:
        status["hosting-chassis"] = ch["name"]
    else:
        status.pop("hosting-chassis", None)
    txn.update("Logical_Router_Port", lrp.uuid, status=status)


class NorthdView(Protocol):
    """What the status sync reads of en_northd's data."""

    nb: Database
    sb: Database
    env: Env
    bindings: Bindings
    tracked: Dirty


class PortStatus:
    """The port status sync as an engine node: on SB Port_Binding changes (a controller
    claimed or released a port, or set `up`) and on the switch ports en_northd re-synced;
    its full recompute covers every switch port."""

    def __init__(self, northd: NorthdView, pb_input: ChangeSource[Change]) -> None:
        self.northd = northd  # en_northd's data: env, bindings, tracked
        self.pb_input = pb_input
        self._topology_seen = -1  # northd.bindings.topology_writes at the last ref sync

    def run(self) -> bool:
        self._sync_lsps(r.uuid for r in self.northd.nb.rows("Logical_Switch_Port"))
        self._sync_ref_chassis()
        return False  # it writes the NB and ref_chassis; no node reads them

    def on_northd(self) -> Handled:
        d = self.northd.tracked
        lsps = (r.uuid for r in self.northd.nb.rows("Logical_Switch_Port")) if d.full \
            else d.lsps()
        self._sync_lsps(lsps)
        if d.full or d.dps or self.northd.bindings.topology_writes != self._topology_seen:
            self._sync_ref_chassis()  # ports, routers or HA groups came, went or moved
        return Handled.UNCHANGED

    def on_port_binding(self) -> Handled:
        pbs = [c.uuid for c in self.pb_input.tracked if status_changed(c.old, c.new)]
        if pbs:
            sync_port_status(self.northd.env, self.northd.sb, pbs)
        if any(c.old is None or c.new is None or c.old["chassis"] != c.new["chassis"]
               for c in self.pb_input.tracked):
            self._sync_ref_chassis()  # a port claimed or released
        return Handled.UNCHANGED

    def _sync_ref_chassis(self) -> None:
        self._topology_seen = self.northd.bindings.topology_writes
        sync_ref_chassis(self.northd.sb)

    def _sync_lsps(self, lsp_uuids: Iterable[str]) -> None:
        pb_of_lsp = self.northd.bindings.pb_of_lsp
        pbs = [pb for pb in (pb_of_lsp.get(u) for u in lsp_uuids) if pb is not None]
        if pbs:
            sync_port_status(self.northd.env, self.northd.sb, pbs)

    def snapshot(self) -> object:
        nb, sb = self.northd.nb, self.northd.sb
        return ({r.uuid: r["up"] for r in nb.rows("Logical_Switch_Port")},
                {r.uuid: r["status"] for r in nb.rows("Logical_Router_Port")},
                {r.uuid: r["ref_chassis"] for r in sb.rows("HA_Chassis_Group")})
