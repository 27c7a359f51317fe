"""The agents ML2/OVN reports (neutron/plugins/ml2/drivers/ovn/agent/neutron_agent.py): one
ovn-controller agent per SB Chassis_Private, a "gateway" one when the chassis is flagged
`enable-chassis-as-gw`. The fabric's ovn-metadata-agents (fabric/metadata.py) write no
`neutron:ovn-metadata-id` to Chassis_Private, so none is listed."""

from __future__ import annotations

import datetime
from typing import Any

from ovnlab.ovsdb import Database, Row

CONTROLLER_AGENT = "OVN Controller agent"
CONTROLLER_GW_AGENT = "OVN Controller Gateway agent"
AGENT_DESC_KEY = "neutron:description"
AGENT_DOWN_TIME = 75  # s: Neutron's [DEFAULT] agent_down_time
LIVENESS_CHECK_KEY = "neutron:liveness_check_at"  # ovn_const.OVN_LIVENESS_CHECK_EXT_ID_KEY


def ping_all_chassis(nb: Database, clock: float,
                     agent_down_time: float = AGENT_DOWN_TIME) -> bool:
    """mech_driver.ping_all_chassis: bump NB_Global.nb_cfg (every ovn-controller then
    reports it back in Chassis_Private) unless the last bump is under agent_down_time // 2
    old; `clock` is the lab's virtual time. True if it bumped."""
    nbg = next(iter(nb.rows("NB_Global")), None)
    if nbg is None:
        return False
    last = nbg["external_ids"].get(LIVENESS_CHECK_KEY)
    if last and _stamp(clock) < _later(last, max(agent_down_time // 2, 1)):
        return False
    with nb.transaction() as txn:
        txn.update("NB_Global", nbg.uuid, nb_cfg=nbg["nb_cfg"] + 1,
                   external_ids={**nbg["external_ids"], LIVENESS_CHECK_KEY: _stamp(clock)})
    return True


def _stamp(clock: float) -> str:
    """The lab's virtual seconds as the isotime Neutron writes (from the epoch)."""
    return datetime.datetime.fromtimestamp(clock, datetime.UTC).isoformat()


def _later(stamp: str, seconds: float) -> str:
    return _stamp(datetime.datetime.fromisoformat(stamp).timestamp() + seconds)


def alive(nb_cfg: int, reported: int, reported_at: float, clock: float,
          agent_down_time: float = AGENT_DOWN_TIME) -> bool:
    """NeutronAgent.alive: caught up with the NB give or take one nb_cfg, or heard from
    (Chassis_Private.nb_cfg_timestamp) within agent_down_time."""
    return nb_cfg - reported <= 1 or clock - reported_at < agent_down_time


def agents(nb: Database, sb: Database, now: str, clock: float = 0.0) -> list[dict[str, Any]]:
    """`NeutronAgent.as_dict` for every chassis; `now` is the heartbeat Neutron stamps,
    `clock` the lab's virtual seconds its liveness is judged at."""
    nb_cfg = next((int(g["nb_cfg"]) for g in nb.rows("NB_Global")), 0)
    chassis = {c.uuid: c for c in sb.rows("Chassis")}
    out = []
    for private in sorted(sb.rows("Chassis_Private"), key=lambda r: str(r["name"])):
        row = chassis.get(private["chassis"]) if private["chassis"] else None
        if row is not None:
            live = alive(nb_cfg, int(private["nb_cfg"] or 0),
                         (private["nb_cfg_timestamp"] or 0) / 1000, clock)
            out.append(_agent(private, row, live, now))
    return out


def _options(row: Row, key: str) -> str:
    # OVN 22.03 reads other_config; older chassis wrote external_ids
    return str(row["other_config"].get(key) or row["external_ids"].get(key, ""))


def _agent(private: Row, chassis: Row, live: bool, now: str) -> dict[str, Any]:
    gateway = "enable-chassis-as-gw" in _options(chassis, "ovn-cms-options").split(",")
    return {
        "id": private["name"], "binary": "ovn-controller", "host": chassis["hostname"],
        "agent_type": CONTROLLER_GW_AGENT if gateway else CONTROLLER_AGENT,
        "topic": "n/a", "availability_zone": "",
        "description": private["external_ids"].get(AGENT_DESC_KEY, ""),
        "configurations": {"chassis_name": chassis["name"],
                           "bridge-mappings": _options(chassis, "ovn-bridge-mappings")},
        "start_flag": True, "admin_state_up": True,
        "alive": live,
        "heartbeat_timestamp": now, "created_at": now, "started_at": now,
        "resources_synced": None,
    }
