"""chassis.c and the start of ovn-controller.c (OVN 22.03): this chassis's settings, read
from the vswitch's Open_vSwitch row as real ovn-controller reads them (external_ids
system-id, hostname, ovn-encap-type, ovn-encap-ip, ovn-bridge-mappings, ovn-cms-options,
ovn-monitor-all; a deployment tool writes them with `ovs-vsctl set open .
external_ids:...`), its Chassis, Encap and Chassis_Private rows, the integration and
provider bridges, and the nb_cfg heartbeat.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ovnlab.errors import OvnlabError
from ovnlab.ovsdb import Database
from ovnlab.sb.features import advertised

BR_INT = "br-int"
# The columns of the vswitch tables ovn-controller's OVS IDL holds rows of
# (vswitch.ovsschema of OVS 3.0, which the 22.03 programs are built with).
OVS_IDL_COLUMNS = {"Open_vSwitch": 17, "Bridge": 22, "Port": 22, "Interface": 35}


@dataclass(frozen=True, slots=True)
class ChassisConfig:
    """The Open_vSwitch row's external_ids that ovn-controller acts on."""

    system_id: str
    hostname: str
    encap_type: str
    encap_ip: str
    bridge_mappings: tuple[tuple[str, str], ...]
    cms_options: str

    @classmethod
    def of(cls, vswitch: Any) -> ChassisConfig:
        ext: dict[str, str] = getattr(vswitch, "external_ids", None) or {}
        system_id = ext.get("system-id", "")
        if not system_id:  # ovn-controller waits for it ("system-id is not set")
            raise OvnlabError("ovn-controller: Open_vSwitch external_ids:system-id is not set")
        pairs = (m.split(":", 1) for m in ext.get("ovn-bridge-mappings", "").split(",")
                 if ":" in m)
        return cls(system_id=system_id,
                   hostname=ext.get("hostname") or str(getattr(vswitch, "hostname", system_id)),
                   encap_type=ext.get("ovn-encap-type", "geneve"),
                   encap_ip=ext.get("ovn-encap-ip", ""),
                   bridge_mappings=tuple((p.strip(), b.strip()) for p, b in pairs),
                   cms_options=ext.get("ovn-cms-options", ""))

    @property
    def mappings(self) -> dict[str, str]:
        """ovn-bridge-mappings: physical network → provider bridge."""
        return dict(self.bridge_mappings)

    @property
    def mappings_text(self) -> str:
        return ",".join(f"{p}:{b}" for p, b in self.bridge_mappings)


def monitor_all(vswitch: Any) -> bool:
    """external_ids:ovn-monitor-all (default false: conditional monitoring)."""
    key = "ovn-monitor-all"
    return _external_ids(vswitch).get(key, _COPIED[key]) == "true"


def _external_ids(vswitch: Any) -> dict[str, str]:
    ext = getattr(vswitch, "external_ids", None)
    return ext if isinstance(ext, dict) else {}


# chassis.c's getters: the Open_vSwitch external_ids it copies, and their defaults
_COPIED = {"ovn-cms-options": "", "ovn-monitor-all": "false",
           "ovn-enable-lflow-cache": "true", "ovn-limit-lflow-cache": "",
           "ovn-memlimit-lflow-cache-kb": "", "ovn-trim-limit-lflow-cache": "",
           "ovn-trim-wmark-perc-lflow-cache": "", "ovn-trim-timeout-ms": "",
           "ovn-chassis-mac-mappings": ""}


def chassis_config(vswitch: Any, cfg: ChassisConfig) -> dict[str, str]:
    """chassis_build_other_config: the Chassis row's other_config, which 22.03 writes as
    its external_ids too. The bridge mappings are those read at start (ovnlab does not
    re-read them); br-int has no datapath_type (the system datapath)."""
    ext = _external_ids(vswitch)
    config = {"ovn-bridge-mappings": cfg.mappings_text, "datapath-type": ""}
    config.update((key, ext.get(key, default)) for key, default in _COPIED.items())
    config["iface-types"] = ",".join(getattr(vswitch, "iface_types", ()))
    config["is-interconn"] = "true" if ext.get("ovn-is-interconn") == "true" else "false"
    return {**config, **advertised()}


def register_chassis(sb: Database, cfg: ChassisConfig, vswitch: Any) -> None:
    """chassis_run: this chassis's Chassis (with its Encap) and Chassis_Private rows."""
    config = chassis_config(vswitch, cfg)
    with sb.transaction() as txn:
        row = sb.lookup("Chassis", cfg.system_id)
        if row is None:
            encap = txn.insert("Encap", type=cfg.encap_type, ip=cfg.encap_ip,
                               options={"csum": "true"}, chassis_name=cfg.system_id)
            txn.insert("Chassis", name=cfg.system_id, hostname=cfg.hostname,
                       encaps=(encap.uuid,), other_config=config, external_ids=config)
        else:
            txn.update("Chassis", row.uuid, hostname=cfg.hostname,
                       other_config=config, external_ids=config)
        if not sb.find("Chassis_Private", name=cfg.system_id):
            ch = sb.get("Chassis", cfg.system_id)
            txn.insert("Chassis_Private", name=cfg.system_id, chassis=ch.uuid)


def sync_chassis_config(sb: Database, vswitch: Any, cfg: ChassisConfig,
                        chassis_uuid: str) -> None:
    """`ovs-vsctl set open . external_ids:ovn-cms-options=...` (or any other setting
    chassis_build_other_config copies) reaches the Chassis row, as chassis_run does, so
    Neutron can reschedule gateways."""
    row = sb.tables["Chassis"].get(chassis_uuid)
    if row is None:
        return
    config = chassis_config(vswitch, cfg)
    if row["other_config"] == config and row["external_ids"] == config:
        return
    with sb.transaction() as txn:
        txn.update("Chassis", row.uuid, other_config=config, external_ids=config)


def ensure_bridges(vswitch: Any, cfg: ChassisConfig) -> list[Any]:
    """br-int in secure mode, and each mapped provider bridge; returns the provider bridges
    (the caller gives them a NORMAL flow, as a standalone bridge has)."""
    bridges = vswitch.bridges
    if BR_INT not in bridges:
        vswitch.add_bridge(BR_INT, fail_mode="secure")
    provider = []
    for _physnet, br in cfg.bridge_mappings:
        if br not in bridges:
            vswitch.add_bridge(br)
        provider.append(bridges[br])
    return provider


def store_nb_cfg(sb: Database, vswitch: Any, name: str) -> None:
    """store_nb_cfg: once the flows of SB_Global's nb_cfg are installed, report it in
    this chassis's Chassis_Private row with a timestamp (ms of the switch's clock:
    the lab's virtual time). Neutron's agent liveness reads this heartbeat."""
    sbg = next(iter(sb.rows("SB_Global")), None)
    cur = sbg["nb_cfg"] if sbg is not None else 0
    if not cur:
        return
    mine = sb.lookup("Chassis_Private", name)
    if mine is None or mine["nb_cfg"] == cur:
        return
    clock = getattr(vswitch, "now", None)
    stamp = round(clock() * 1000) if callable(clock) else 0
    with sb.transaction() as txn:
        txn.update("Chassis_Private", mine.uuid, nb_cfg=cur, nb_cfg_timestamp=stamp)


def ovs_idl_cells(vswitch: Any) -> int:
    """memory/show's idl-cells-Open_vSwitch: one Open_vSwitch row, the bridges, and their
    ports (each bridge's own internal one included) with one interface each."""
    bridges = list(vswitch.bridges.values())
    ports = sum(len(br.ports) for br in bridges)
    return (OVS_IDL_COLUMNS["Open_vSwitch"] + len(bridges) * OVS_IDL_COLUMNS["Bridge"]
            + ports * (OVS_IDL_COLUMNS["Port"] + OVS_IDL_COLUMNS["Interface"]))
