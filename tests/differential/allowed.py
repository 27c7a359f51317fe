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
    Allowed("arp-rsp-router-ip", "lflow", _REAL, r"ls_in_arp_rsp",
            r"arp\.tpa == [0-9.]+ && arp\.op == 1",
            "no ls_in_arp_rsp responder (nor its priority-100 skip on the router port) for "
            "router-port IPs: ovnlab's switch floods the ARP and the router answers it"),
    Allowed("ipv6-lla-real", "lflow", _REAL, r".", r"fe80::|ff02::1:ff",
            "no IPv6 link-local flows on router ports (ovnlab routes IPv4 only)"),
    Allowed("dhcp-real", "lflow", _REAL, r"ls_in_dhcp_(options|response)|ls_out_acl",
            r"put_dhcp_opts|udp\.src == 6[78] && udp\.dst == 6[78]|udp.src == 67",
            "no DHCP flows: ovnlab's VMs get their address from Nova's port, not DHCP"),
    Allowed("mcast-drop-ours", "lflow", _OURS, r"lr_in_ip_routing",
            r"priority=10450, match=\(ip4\.mcast \|\| ip6\.mcast\)",
            "an extra multicast drop in lr_in_ip_routing (22.03 has it only with mcast relay)"),
    Allowed("arp-fip-l2lkup-real", "lflow", _REAL, r"ls_in_l2_lkup",
            r"priority=80, match=\(flags\[1\] == 0 && arp\.op == 1 && arp\.tpa == ",
            "the priority-80 ls_in_l2_lkup flows that send ARP requests for router-owned "
            "addresses (FIPs, SNAT IPs) to the router port as well as flooding them"),
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
    Allowed("of-conj-table0", "openflow", _REAL, r"^table=0$", r"conj_id=|conjunction\(",
            "no table-0 conjunction flows (22.03's priority-180 localnet flows that rewrite "
            "the source MAC of distributed FIP traffic from other chassis)"),
    Allowed("of-mcast-drop-ours", "openflow", _OURS, r"^table=19$", r"priority=10450,",
            "mcast-drop-ours as compiled"),
    Allowed("of-dec-ttl-real", "openflow", _REAL, r".", r"dec_ttl\(\)",
            "22.03's ovn-controller writes dec_ttl(), ovnlab dec_ttl (same action)"),
    Allowed("of-dec-ttl-ours", "openflow", _OURS, r".", r"dec_ttl(,|$)",
            "the ovnlab side of of-dec-ttl-real"),
    Allowed("of-userdata-real", "openflow", _REAL, r".", r"controller\(userdata=",
            "controller() userdata encodings of the actions ovn-controller handles itself "
            "(icmp4/icmp6 errors, ND, put_arp...) differ in their OXM/NXM field encodings"),
    Allowed("of-userdata-ours", "openflow", _OURS, r".", r"controller\(userdata=",
            "the ovnlab side of of-userdata-real"),
    Allowed("of-ipv6-lla-real", "openflow", _REAL, r".", r"fe80|ff02::1:ff",
            "ipv6-lla-real as compiled"),
    Allowed("of-dhcp-real", "openflow", _REAL, r".",
            r"tp_src=68,tp_dst=67|tp_src=67,tp_dst=68|tp_src=547,tp_dst=546",
            "dhcp-real as compiled"),
    Allowed("of-arp-rsp-router-ip", "openflow", _REAL, r"^table=26$",
            r"arp,(reg14=0x[0-9a-f]+,)?metadata=0x[0-9a-f]+,arp_tpa=[0-9.]+,arp_op=1 ",
            "arp-rsp-router-ip as compiled"),
    Allowed("of-arp-l2lkup-real", "openflow", _REAL, r"^table=32$",
            r"priority=80,arp,reg10=0/0x2,metadata=0x[0-9a-f]+,arp_tpa=",
            "arp-fip-l2lkup-real as compiled"),
    Allowed("of-mc-mrouter-static", "openflow", _REAL, r"^table=3[78]$", r"reg15=0x8003,",
            "no _MC_mrouter_static multicast group (tunnel key 0x8003) on the provider "
            "network's switch"),
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
