"""northd.c `struct chassis_features`: the flow forms every chassis understands, and the
spelling each choice gives the logical flows."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ovnlab.ovsdb import Row
from ovnlab.sb.features import ChassisFeature


@dataclass(frozen=True, slots=True)
class ChassisFeatures:
    ct_no_masked_label: bool = True
    ct_lb_related: bool = True

    @classmethod
    def of(cls, chassis: Iterable[Row]) -> ChassisFeatures:
        """build_chassis_features: a feature holds unless some chassis lacks it (so, with
        no chassis at all, every feature holds)."""
        rows = list(chassis)

        def every(f: ChassisFeature) -> bool:
            return all(r["other_config"].get(f.value) == "true" for r in rows)
        return cls(every(ChassisFeature.CT_NO_MASKED_LABEL), every(ChassisFeature.CT_LB_RELATED))

    @property
    def ct_flags(self) -> str:
        """Where OVN keeps its per-connection flags: ct_mark once labels go unmasked."""
        return "ct_mark" if self.ct_no_masked_label else "ct_label"

    @property
    def ct_blocked(self) -> str:
        return f"{self.ct_flags}.blocked"

    @property
    def ct_natted(self) -> str:
        return f"{self.ct_flags}.natted"

    @property
    def ct_lb(self) -> str:
        return "ct_lb_mark;" if self.ct_no_masked_label else "ct_lb;"

    @property
    def related_acl_action(self) -> str:
        """The ACL stage's action for related traffic (build_acls)."""
        return "ct_commit_nat;" if self.ct_lb_related else "next;"
