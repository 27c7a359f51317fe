"""The differences between ovnlab and real OVN 22.03 left on purpose (for now), each with
its reason. Every entry is a pattern for specific flows on one side: a flow on one side
only that no entry matches fails the differential tier, and so does an entry that matches
nothing over the whole corpus, so this list shrinks as fixes land. Each reason is also in
docs/differences.md.

`group` is matched (re.search) against "DATAPATH PIPELINE table=N (STAGE)" for logical
flows and "table=N" for OpenFlow; `flow` against the normalised flow text.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass


class Side(enum.Enum):
    REAL = "real OVN 22.03 only"
    OVNLAB = "ovnlab only"


@dataclass(frozen=True)
class Allowed:
    name: str
    kind: str  # "lflow" (ovn-sbctl lflow-list) or "openflow" (ovs-ofctl dump-flows)
    side: Side
    group: str
    flow: str
    reason: str
    arbitrary: bool = False  # hangs on a choice the real program makes in hash order:
    # it need not match in every run, so the stale-entry check skips it

    def matches(self, side: Side, group: str, flow: str) -> bool:
        return (side is self.side and re.search(self.group, group) is not None
                and re.search(self.flow, flow) is not None)


_REAL, _OURS = Side.REAL, Side.OVNLAB

ALLOWED: tuple[Allowed, ...] = (
    # ---------------------------------------------------------------- logical flows
    Allowed("port-sec-mac-only-ours", "lflow", _OURS, r"ls_(in|out)_port_sec_ip",
            r'priority=80, match=\((in|out)port == "[^"]+" && eth\.(src|dst) == [0-9a-f:]+ '
            r"&& ip\), action=\(drop;\)",
            "a port whose addresses have a MAC and no IP (a VM on a network without a "
            "subnet): ovnlab drops its IP traffic, 22.03 adds no IP port security for it"),
    Allowed("port-sec-mac-only-nd-real", "lflow", _REAL, r"ls_in_port_sec_nd",
            r"ip6 && nd && \(\(nd\.sll == 00:00:00:00:00:00 \|\| nd\.sll == [0-9a-f:]+\) "
            r"\|\| \(\(nd\.tll",
            "the same port: 22.03 admits its ND with any or its own link-layer address; "
            "ovnlab has no ND flow for it"),
    Allowed("lflow-dp-group-real", "lflow", _REAL, r"^Logical_Flow rows ",
            r"^datapaths=([2-9]|\d{2,}), ",
            "22.03 (NB_Global options:use_logical_dp_groups, default true) stores a logical "
            "flow that is the same on several datapaths once, its logical_dp_group naming "
            "them; ovnlab stores one Logical_Flow row per datapath (lflow-list prints the "
            "same flows; only the stored rows differ)"),
    Allowed("lflow-dp-group-ours", "lflow", _OURS, r"^Logical_Flow rows ", r"^datapaths=1, ",
            "the ovnlab side of lflow-dp-group-real (the test checks that these rows are "
            "exactly the real shared rows, one per datapath)"),
    # ---------------------------------------------------------------- OpenFlow
    Allowed("of-conflicting-arp-l2lkup-real", "openflow", _REAL, r"^table=32$",
            r"priority=80,arp,reg10=0/0x2,metadata=0x[0-9a-f]+,arp_tpa=",
            "two router ports of one router on one switch (two subnets) give two priority-80 "
            "ls_in_l2_lkup ARP flows with the same match and different actions (in real "
            "northd as in ovnlab's); OpenFlow keeps one flow per match and priority, and "
            "which one each controller installs is arbitrary (the real one keeps the first "
            "in its hash order)", arbitrary=True),
    Allowed("of-conflicting-arp-l2lkup-ours", "openflow", _OURS, r"^table=32$",
            r"priority=80,arp,reg10=0/0x2,metadata=0x[0-9a-f]+,arp_tpa=",
            "the ovnlab side of of-conflicting-arp-l2lkup-real", arbitrary=True),
    Allowed("of-conflicting-chassis-mac-real", "openflow", _REAL, r"^table=0$",
            r"priority=180,conj_id=100,.*mod_dl_src:",
            "put_replace_chassis_mac_flows writes one priority-180 conj_id=100 flow per "
            "router port peered with the localnet switch, all with the same match: with two "
            "routers on one provider network, which router MAC a controller installs is "
            "arbitrary (real ovn-controller: by the SB rows' order, whose UUIDs differ from "
            "ovnlab's)", arbitrary=True),
    Allowed("of-conflicting-chassis-mac-ours", "openflow", _OURS, r"^table=0$",
            r"priority=180,conj_id=100,.*mod_dl_src:",
            "the ovnlab side of of-conflicting-chassis-mac-real", arbitrary=True),
)
