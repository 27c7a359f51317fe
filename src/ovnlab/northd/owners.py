"""Flow owners: the NB row whose generator produced a logical flow, the unit an incremental
run regenerates (a switch, a switch port, a router, a router port, a NAT rule, an ACL)."""

from __future__ import annotations

from enum import StrEnum


class OwnerKind(StrEnum):
    """The generators, by the NB table of the row they run for. The values sort as the
    string kinds northd used before, so flows are regenerated (and SB rows inserted) in the
    same order."""

    LS = "ls"  # gen_switch
    LSP = "lsp"  # gen_switch_port
    SELF_ORIG = "selforig"  # gen_self_orig: a router-type LSP's self-originated ARP flood
    LR = "lr"  # gen_router
    LRP = "lrp"  # gen_router_port
    NAT = "nat"  # gen_nat
    ACL = "acl"  # gen_acl

    @property
    def table(self) -> str:
        return _TABLE[self]


_TABLE = {OwnerKind.LS: "Logical_Switch", OwnerKind.LSP: "Logical_Switch_Port",
          OwnerKind.SELF_ORIG: "Logical_Switch_Port", OwnerKind.LR: "Logical_Router",
          OwnerKind.LRP: "Logical_Router_Port", OwnerKind.NAT: "NAT", OwnerKind.ACL: "ACL"}

Owner = tuple[OwnerKind, str]  # (kind, NB uuid)
PortRef = tuple[str, str]  # (NB table, uuid) of a switch or router port
