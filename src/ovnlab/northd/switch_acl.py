"""Switch ACL flows (northd.c build_acl_hints / build_acls / consider_acl for 22.03): the
per-datapath ACL stages of a switch, and each ACL's flows on every switch it applies to
(its own, and those its port groups span)."""

from __future__ import annotations

from collections.abc import Callable

from ovnlab.northd.env import Env
from ovnlab.northd.features import ChassisFeatures
from ovnlab.northd.lflow import FlowSink
from ovnlab.northd.stages import stage
from ovnlab.ovsdb import Row

OVN_ACL_PRI_OFFSET = 1000
IPV6_CT_OMIT_MATCH = "nd || nd_ra || nd_rs || mldv1 || mldv2"
Add = Callable[[str, int, str, str, str], None]  # stage, priority, match, actions, source


def acl_hints(has_acls: bool, has_stateful: bool, blocked: str, add: Add) -> None:
    src = "northd.c:build_acl_hints"
    for st in ("ls_in_acl_hint", "ls_out_acl_hint"):
        if not has_acls:
            add(st, 65535, "1", "next;", src)
        else:
            add(st, 0, "1", "next;", src)
        if not has_stateful:
            continue
        add(st, 7, "ct.new && !ct.est", "reg0[7] = 1; reg0[9] = 1; next;", src)
        add(st, 6, f"!ct.new && ct.est && !ct.rpl && {blocked} == 1",
            "reg0[7] = 1; reg0[9] = 1; next;", src)
        add(st, 5, "!ct.trk", "reg0[8] = 1; reg0[9] = 1; next;", src)
        add(st, 4, f"!ct.new && ct.est && !ct.rpl && {blocked} == 0",
            "reg0[8] = 1; reg0[10] = 1; next;", src)
        add(st, 3, "!ct.est", "reg0[9] = 1; next;", src)
        add(st, 2, f"ct.est && {blocked} == 1", "reg0[9] = 1; next;", src)
        add(st, 1, f"ct.est && {blocked} == 0", "reg0[10] = 1; next;", src)


def acls_od(has_acls: bool, has_stateful: bool, feats: ChassisFeatures, add: Add) -> None:
    src = "northd.c:build_acls"
    blocked = feats.ct_blocked
    if not has_acls:
        add("ls_in_acl", 65535, "1", "next;", src)
        add("ls_out_acl", 65535, "1", "next;", src)
    else:
        add("ls_in_acl", 0, "1", "next;", src)
        add("ls_out_acl", 0, "1", "next;", src)
    add("ls_in_acl_after_lb", 0, "1", "next;", src)
    if has_stateful:
        m = f"ip && (!ct.est || (ct.est && {blocked} == 1))"
        add("ls_in_acl", 1, m, "reg0[1] = 1; next;", src)
        add("ls_out_acl", 1, m, "reg0[1] = 1; next;", src)
        m = f"ct.inv || (ct.est && ct.rpl && {blocked} == 1)"
        add("ls_in_acl", 65532, m, "drop;", src)
        add("ls_out_acl", 65532, m, "drop;", src)
        m = f"ct.est && !ct.rel && !ct.new && !ct.inv && ct.rpl && {blocked} == 0"
        add("ls_in_acl", 65532, m, "reg0[9] = 0; reg0[10] = 0; next;", src)
        add("ls_out_acl", 65532, m, "next;", src)
        m = f"!ct.est && ct.rel && !ct.new && !ct.inv && {blocked} == 0"
        add("ls_in_acl", 65532, m, feats.related_acl_action, src)
        add("ls_out_acl", 65532, m, feats.related_acl_action, src)
    add("ls_in_acl", 65532, IPV6_CT_OMIT_MATCH, "next;", src)
    add("ls_out_acl", 65532, IPV6_CT_OMIT_MATCH, "next;", src)
    add("ls_in_acl_after_lb", 65532, IPV6_CT_OMIT_MATCH, "next;", src)
    if has_acls:
        add("ls_in_acl", 34000, "eth.dst == $svc_monitor_mac", "next;", src)
        add("ls_out_acl", 34000, "eth.src == $svc_monitor_mac", "next;", src)


def gen_acl(env: Env, acl: Row, ls_uuids: list[str], out: FlowSink) -> None:
    """consider_acl() on every switch the ACL applies to."""
    for ls_uuid in ls_uuids:
        ctx = env.switch(ls_uuid)
        if ctx is None:
            continue
        _consider_acl(acl, ls_uuid, ctx.has_stateful, env.features.ct_blocked, out)


def _consider_acl(acl: Row, dp: str, has_stateful: bool, blocked: str, out: FlowSink) -> None:
    src = "northd.c:consider_acl"
    ingress = acl["direction"] == "from-lport"
    if ingress and acl["options"].get("apply-after-lb") == "true":
        st = "ls_in_acl_after_lb"
    else:
        st = "ls_in_acl" if ingress else "ls_out_acl"
    prio = acl["priority"] + OVN_ACL_PRI_OFFSET
    m, a = acl["match"], acl["action"]
    label = acl["label"]
    if a == "allow-stateless":
        out.add(dp, st, prio, m, "next;", src, acl.uuid)
    elif a in ("allow", "allow-related"):
        if not has_stateful:
            out.add(dp, st, prio, m, "next;", src, acl.uuid)
            return
        acts = "reg0[1] = 1; "
        if label:
            acts += f"reg0[13] = 1; reg3 = {label}; "
        out.add(dp, st, prio, f"reg0[7] == 1 && ({m})", acts + "next;", src, acl.uuid)
        acts = f"reg0[1] = 1; reg0[13] = 1; reg3 = {label}; " if label else ""
        out.add(dp, st, prio, f"reg0[8] == 1 && ({m})", acts + "next;", src, acl.uuid)
    elif a == "drop":
        if has_stateful:
            out.add(dp, st, prio, f"reg0[9] == 1 && ({m})", "/* drop */", src, acl.uuid)
            out.add(dp, st, prio, f"reg0[10] == 1 && ({m})",
                    f"ct_commit {{ {blocked} = 1; }}; /* drop */", src, acl.uuid)
        else:
            out.add(dp, st, prio, m, "/* drop */", src, acl.uuid)
    elif a == "reject":
        if has_stateful:
            _reject(acl, dp, st, prio, "reg0[9] == 1", "", out)
            _reject(acl, dp, st, prio, "reg0[10] == 1", f"ct_commit {{ {blocked} = 1; }}; ",
                    out)
        else:
            _reject(acl, dp, st, prio, "", "", out)


def _reject(acl: Row, dp: str, st: str, prio: int, extra_match: str, extra_actions: str,
            out: FlowSink) -> None:
    """build_reject_acl_rules: pinctrl answers (TCP reset, else ICMP unreachable) and the
    answer goes back through the other pipeline. As 22.03, only ls_in_acl counts as
    ingress (an apply-after-lb reject resumes in the ingress pipeline too)."""
    ingress = st == "ls_in_acl"
    next_action = (f"next(pipeline=egress,table={stage('ls_out_qos_mark').table});" if ingress
                   else f"next(pipeline=ingress,table={stage('ls_in_l2_lkup').table});")
    match = (f"({extra_match}) && " if extra_match else "") + acl["match"]
    actions = (f"{extra_actions} " if extra_actions else "") + (
        "reg0 = 0; reject { /* eth.dst <-> eth.src; ip.dst <-> ip.src; is implicit. */ "
        f"outport <-> inport; {next_action} }};")
    out.add(dp, st, prio, match, actions, "northd.c:build_reject_acl_rules", acl.uuid)
