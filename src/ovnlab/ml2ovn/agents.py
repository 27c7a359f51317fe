"""The agents ML2/OVN reports (neutron/plugins/ml2/drivers/ovn/agent/neutron_agent.py): one
ovn-controller agent per SB Chassis_Private, a "gateway" one when the chassis is flagged
`enable-chassis-as-gw`. ovnlab runs no neutron-ovn-metadata-agent, so none is listed."""

from __future__ import annotations

from typing import Any

from ovnlab.ovsdb import Database, Row

CONTROLLER_AGENT = "OVN Controller agent"
CONTROLLER_GW_AGENT = "OVN Controller Gateway agent"
AGENT_DESC_KEY = "neutron:description"


def agents(nb: Database, sb: Database, now: str) -> list[dict[str, Any]]:
    """`NeutronAgent.as_dict` for every chassis; `now` is the heartbeat Neutron stamps."""
    nb_cfg = next((int(g["nb_cfg"]) for g in nb.rows("NB_Global")), 0)
    chassis = {c.uuid: c for c in sb.rows("Chassis")}
    out = []
    for private in sorted(sb.rows("Chassis_Private"), key=lambda r: str(r["name"])):
        row = chassis.get(private["chassis"]) if private["chassis"] else None
        if row is not None:
            out.append(_agent(private, row, nb_cfg, now))
    return out


def _options(row: Row, key: str) -> str:
    # OVN 22.03 reads other_config; older chassis wrote external_ids
    return str(row["other_config"].get(key) or row["external_ids"].get(key, ""))


def _agent(private: Row, chassis: Row, nb_cfg: int, now: str) -> dict[str, Any]:
    gateway = "enable-chassis-as-gw" in _options(chassis, "ovn-cms-options").split(",")
    return {
        "id": private["name"], "binary": "ovn-controller", "host": chassis["hostname"],
        "agent_type": CONTROLLER_GW_AGENT if gateway else CONTROLLER_AGENT,
        "topic": "n/a", "availability_zone": "",
        "description": private["external_ids"].get(AGENT_DESC_KEY, ""),
        "configurations": {"chassis_name": chassis["name"],
                           "bridge-mappings": _options(chassis, "ovn-bridge-mappings")},
        "start_flag": True, "admin_state_up": True,
        # NeutronAgent.alive: the chassis has caught up with the NB, give or take one
        "alive": nb_cfg - int(private["nb_cfg"] or 0) <= 1,
        "heartbeat_timestamp": now, "created_at": now, "started_at": now,
        "resources_synced": None,
    }
