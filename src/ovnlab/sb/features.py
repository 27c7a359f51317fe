"""The features an ovn-controller advertises in its SB Chassis `other_config`
(include/ovn/features.h, OVN 22.03): northd uses a newer flow form only when every
chassis says it understands it."""

from __future__ import annotations

from enum import StrEnum


class ChassisFeature(StrEnum):
    PORT_UP_NOTIF = "port-up-notif"
    CT_NO_MASKED_LABEL = "ct-no-masked-label"  # ct_mark.blocked/natted, ct_lb_mark
    CT_LB_RELATED = "ovn-ct-lb-related"  # ct_commit_nat for related traffic


def advertised() -> dict[str, str]:
    """What a 22.03 ovn-controller writes (chassis.c chassis_build_other_config)."""
    return {f.value: "true" for f in ChassisFeature}
