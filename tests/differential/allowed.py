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
    Allowed("ct-mark-real", "lflow", _REAL, r".", r"ct_mark\.(natted|blocked)|ct_lb_mark",
            "22.03 with chassis that support ct-no-masked-label keeps natted/blocked in "
            "ct_mark and uses ct_lb_mark; ovnlab still writes ct_label.* and ct_lb"),
    Allowed("ct-label-ours", "lflow", _OURS, r".", r"ct_label\.(natted|blocked)|\bct_lb;",
            "the ovnlab side of ct-mark-real"),
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
    # ---------------------------------------------------------------- OpenFlow
    Allowed("of-ct-mark-real", "openflow", _REAL, r".", r"ct_mark=|NXM_NX_CT_MARK",
            "ct-mark-real as compiled: 22.03 matches and sets ct_mark bits (and commits "
            "related traffic with nat)"),
    Allowed("of-ct-label-ours", "openflow", _OURS, r".",
            r"ct_label=(0|0x[12])/0x[12]\b|NXM_NX_CT_LABEL\[[01]\]",
            "the ovnlab side of of-ct-mark-real: ct_label bits 0 (blocked) and 1 (natted)"),
    Allowed("of-ct-commit-nat-real", "openflow", _REAL, r"^table=44$",
            r"priority=34000,udp,.*tp_src=67,tp_dst=68 actions=ct\(commit,zone=NXM_NX_REG13"
            r"\[0\.\.15\],nat\(src\)\),",
            "the DHCP reply's ACL bypass (`ct_commit; next;`): a 22.03 chassis commits with "
            "nat(src) (ct-no-masked-label era encoding of plain ct_commit); ovnlab without"),
    Allowed("of-ct-commit-ours", "openflow", _OURS, r"^table=44$",
            r"priority=34000,udp,.*tp_src=67,tp_dst=68 actions=ct\(commit,zone=NXM_NX_REG13"
            r"\[0\.\.15\]\),",
            "the ovnlab side of of-ct-commit-nat-real"),
    Allowed("of-conj-table0", "openflow", _REAL, r"^table=0$", r"conj_id=|conjunction\(",
            "no table-0 conjunction flows (22.03's priority-180 localnet flows that rewrite "
            "the source MAC of distributed FIP traffic from other chassis)"),
    Allowed("of-dec-ttl-real", "openflow", _REAL, r".", r"dec_ttl\(\)",
            "22.03's ovn-controller writes dec_ttl(), ovnlab dec_ttl (same action)"),
    Allowed("of-dec-ttl-ours", "openflow", _OURS, r".", r"dec_ttl(,|$)",
            "the ovnlab side of of-dec-ttl-real"),
    Allowed("of-userdata-real", "openflow", _REAL, r".", r"controller\(userdata=",
            "controller() userdata encodings of the actions ovn-controller handles itself "
            "(icmp4/icmp6 errors, ND, put_arp...) differ in their OXM/NXM field encodings"),
    Allowed("of-userdata-ours", "openflow", _OURS, r".", r"controller\(userdata=",
            "the ovnlab side of of-userdata-real"),
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
    Allowed("of-ha-bundle-real", "openflow", _REAL, r"^table=37$",
            r"bundle\(eth_src,0,active_backup,ofport,members:",
            "HA gateways: 22.03 sends redirected traffic to the gateway chassis with "
            "bundle(active_backup) over their tunnels, whose BFD picks the live one; ovnlab "
            "outputs to the active gateway's tunnel and enables no BFD"),
    Allowed("of-ha-output-ours", "openflow", _OURS, r"^table=37$",
            r"set_field:0x[0-9a-f]+->tun_metadata0,move:NXM_NX_REG14\[0\.\.14\]->"
            r"NXM_NX_TUN_METADATA0\[16\.\.30\],output:ovn-[0-9a-f]{6}-0$",
            "the ovnlab side of of-ha-bundle-real"),
    Allowed("of-lookup-arp-ip-real", "openflow", _REAL, r"^table=9$", r"resubmit\(,66\)",
            "lookup_arp_ip (22.03 looks the sender's IP alone up in table 66 before learning "
            "from gratuitous ARP/ND): ovnlab compiles it as lookup_arp, table 67"),
    Allowed("of-lookup-arp-ip-ours", "openflow", _OURS, r"^table=9$",
            r"resubmit\(,67\),move:NXM_NX_REG10\[6\]->OXM_OF_PKT_REG4\[3\]",
            "the ovnlab side of of-lookup-arp-ip-real"),
)
