"""Round trip over a large generated corpus, and Debian's real `ovs-ofctl` as the oracle."""

from __future__ import annotations

import random
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from ovnlab.flows import format_flow, parse_flow

MACS = ["fa:16:3e:9f:84:ff", "00:00:00:00:00:01", "02:00:0a:00:02:02", "ff:ff:ff:ff:ff:ff"]
IPS = ["10.0.2.216", "172.16.100.10", "8.8.8.8", "192.168.50.11", "0.0.0.0"]


def _ip(rng: random.Random) -> str:
    return rng.choice(IPS)


def _match(rng: random.Random) -> tuple[str, str]:
    """A random valid match and the protocol it implies (for action prerequisites)."""
    proto = rng.choice(["", "ip", "ip", "icmp", "tcp", "udp", "arp", "ipv6", "dl_type=0x88cc",
                        "icmp6"])
    parts: list[str] = [proto] if proto else []
    for _ in range(rng.randint(0, 5)):
        parts.append(rng.choice([
            f"reg{rng.randrange(16)}={rng.choice(['0x1', '5', '0x10/0x10', '0/0x1'])}",
            f"metadata={rng.choice(['0x3', '0x1/0xff'])}",
            f"in_port={rng.randint(1, 30)}",
            f"dl_src={rng.choice(MACS)}",
            f"eth_dst={rng.choice(MACS)}",
            "dl_dst=01:00:00:00:00:00/01:00:00:00:00:00",
            f"pkt_mark={rng.randint(0, 9)}",
            f"ct_state={rng.choice(['+new+trk', '-new+est-rel-inv+trk', '+trk+dnat', '0x21'])}",
            f"ct_mark={rng.choice(['0x1', '0x2/0x2'])}",
            f"ct_label={rng.choice(['0x1/0x1', '0x2'])}",
            f"ct_zone={rng.randint(1, 9)}",
            f"tun_id={rng.randint(1, 99):#x}",
            f"tun_src={_ip(rng)}",
            f"tun_metadata0={rng.randint(1, 0xFFFF):#x}",
            f"conj_id={rng.randint(1, 99)}",
            f"xreg{rng.randrange(8)}={rng.choice(['0x1', '0x100000000/0x100000000'])}",
            f"dl_vlan={rng.randint(1, 99)}",
        ]))
    if proto in ("ip", "icmp", "tcp", "udp"):
        for _ in range(rng.randint(0, 3)):
            parts.append(rng.choice([
                f"nw_src={_ip(rng)}", f"nw_dst={_ip(rng)}/{rng.choice([8, 16, 24, 32])}",
                f"ip_dst={_ip(rng)}", f"nw_ttl={rng.randint(0, 5)}", "nw_frag=no",
                f"nw_tos={rng.choice([0, 4, 8])}", "nw_src=10.0.0.0/255.0.255.0",
            ]))
    if proto == "icmp":
        parts.append(f"icmp_type={rng.choice([0, 8, 3, 11])}")
    if proto in ("tcp", "udp"):
        parts.append(rng.choice([f"tp_dst={rng.randint(1, 65535)}", f"{proto}_src=68",
                                 "tp_dst=0x50/0xfff0"]))
    if proto == "tcp" and rng.random() < 0.3:
        parts.append(rng.choice(["tcp_flags=+syn-ack", "tcp_flags=0x012", "tcp_flags=-rst"]))
    if proto == "arp":
        parts.append(rng.choice([f"arp_op={rng.randint(1, 2)}", f"arp_tpa={_ip(rng)}",
                                 f"arp_spa={_ip(rng)}/24", f"arp_sha={rng.choice(MACS)}"]))
    if proto == "ipv6":
        parts.append(rng.choice(["ipv6_src=fe80::/64", "ipv6_dst=::1"]))
    if proto == "icmp6":
        parts.append(rng.choice(["icmp_type=135,nd_target=fe80::1",
                                 "icmp_type=135,nd_sll=00:00:00:00:00:00",
                                 "icmp_type=136,nd_tll=fa:16:3e:00:00:01",
                                 "icmp_type=136,nw_ttl=255"]))
    seen: dict[str, str] = {}
    for part in parts:
        key = part.split("=")[0]
        key = {"eth_dst": "dl_dst", "ip_dst": "nw_dst"}.get(key, key)
        seen.setdefault(key, part)
    parts = list(seen.values())
    if "dl_vlan" in seen:
        parts = [p for p in parts if not p.startswith("dl_vlan") or p == seen["dl_vlan"]]
    rng.shuffle(parts)
    return ",".join(parts), proto


def _subfield(rng: random.Random) -> str:
    r = rng.randrange(16)
    return rng.choice([f"NXM_NX_REG{r}[16..31]", f"NXM_NX_REG{r}[0..15]"])


def _action(rng: random.Random, proto: str) -> str:
    choices = [
        f"output:{rng.randint(1, 40)}", "IN_PORT", "LOCAL", "NORMAL",
        f"resubmit(,{rng.randint(0, 60)})", f"resubmit({rng.randint(1, 9)},{rng.randint(0, 9)})",
        f"resubmit:{rng.randint(1, 9)}",
        f"load:{rng.randint(0, 0xFFFF):#x}->NXM_NX_REG{rng.randrange(16)}[0..15]",
        f"load:{rng.randint(0, 1)}->OXM_OF_PKT_REG4[4]", "load:0xa->NXM_NX_XXREG0[96..127]",
        "move:NXM_NX_REG14[]->NXM_NX_REG15[]", "move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[]",
        f"set_field:{rng.randint(0, 9):#x}->reg{rng.randrange(16)}",
        f"set_field:{rng.choice(MACS)}->eth_src", f"mod_dl_dst:{rng.choice(MACS)}",
        f"set_field:{rng.randint(1, 9):#x}->metadata", "set_field:0x5/0x5->reg10",
        f"set_field:{rng.randint(1, 0xFFFF):#x}->tun_metadata0",
        "move:NXM_NX_REG14[0..14]->NXM_NX_TUN_METADATA0[16..30]",
        f"set_field:{rng.randint(1, 99):#x}->tun_id", f"set_field:{_ip(rng)}->tun_dst",
        "controller(userdata=00.00.00.02.00.00.00.00,pause)", "controller",
        "controller(userdata=00.00.00.0c.00.00.00.00)", "CONTROLLER:100",
        "ct_clear", "note:01.02.03", "push:NXM_NX_REG0[]", "pop:NXM_NX_REG1[]",
        f"clone(load:0x1->NXM_NX_REG15[],resubmit(,{rng.randint(1, 60)}))",
        "output:NXM_NX_REG15[]",
    ]
    if proto in ("ip", "icmp", "tcp", "udp"):
        zone = rng.choice(["NXM_NX_REG11[0..15]", "NXM_NX_REG13[0..15]", "5"])
        choices += [
            "dec_ttl", f"mod_nw_src:{_ip(rng)}", f"set_field:{_ip(rng)}->ip_dst",
            f"mod_nw_ttl:{rng.randint(1, 64)}", "mod_nw_tos:8",
            f"ct(table={rng.randint(1, 60)},zone={zone})",
            f"ct(table={rng.randint(1, 60)},zone={zone},nat)",
            f"ct(commit,table={rng.randint(1, 60)},zone={zone},nat(dst={_ip(rng)}))",
            f"ct(commit,zone={zone},nat(src={_ip(rng)}),table={rng.randint(1, 60)})",
            f"ct(commit,zone={zone},exec(set_field:0x1/0x1->ct_mark))",
            f"ct(commit,zone={zone},exec(load:0x1->NXM_NX_CT_LABEL[1],set_field:0x2->ct_mark))",
            "ct(commit,nat(src=10.0.0.1-10.0.0.5))",
        ]
    if proto in ("tcp", "udp"):
        choices += [f"mod_tp_dst:{rng.randint(1, 65535)}", f"set_field:99->{proto}_src",
                    "ct(commit,nat(src=10.0.0.1-10.0.0.2:1000-2000,random),table=2)"]
    if proto == "icmp6":
        choices += ["move:NXM_NX_ND_TARGET[]->NXM_NX_XXREG0[]", "push:NXM_NX_IPV6_SRC[]",
                    "set_field:fe80::2->ipv6_src"]
    if proto == "":
        choices += ["strip_vlan", f"mod_vlan_vid:{rng.randint(1, 4094)}"]
    if proto == "arp":
        choices += ["load:0x2->NXM_OF_ARP_OP[]", "move:NXM_OF_ARP_SPA[]->NXM_OF_ARP_TPA[]",
                    f"set_field:{_ip(rng)}->arp_spa", f"set_field:{rng.choice(MACS)}->arp_sha"]
    choices.append(f"move:{_subfield(rng)}->NXM_NX_REG{rng.randrange(16)}[16..31]"
                   if rng.random() < 0.5 else "dec_ttl(1,2)" if proto else "LOCAL")
    return rng.choice(choices)


def generate_corpus(n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        match, proto = _match(rng)
        head = []
        table = rng.randint(0, 60) if rng.random() < 0.7 else 0
        if table:
            head.append(f"table={table}")
        if rng.random() < 0.8:
            head.append(f"priority={rng.randint(0, 65535)}")
        if rng.random() < 0.4:
            head.append(f"cookie={rng.randint(1, 2**32):#x}")
        if rng.random() < 0.1:
            head.append(f"idle_timeout={rng.randint(1, 99)}")
        if rng.random() < 0.1:
            out.append(",".join([*head, match, f"actions=conjunction({rng.randint(1, 9)},1/2)"])
                       .lstrip(","))
            continue
        acts = [_action(rng, proto) for _ in range(rng.randint(0, 4))]
        if rng.random() < 0.1:
            acts.append(f"goto_table:{rng.randint(table + 1, 100)}")
        text = ",".join(p for p in [*head, match] if p)
        out.append((text + "," if text else "") + "actions=" + (",".join(acts) or "drop"))
    return out


CORPUS = generate_corpus(1500)


def test_corpus_round_trips() -> None:
    for text in CORPUS:
        flow = parse_flow(text)
        printed = format_flow(flow)
        again = parse_flow(printed)
        assert again == flow, (text, printed)
        assert format_flow(again) == printed


def _strip_oracle(line: str) -> str:
    body = line.split(" ADD ", 1)[1]
    body = re.sub(r"^table:\d+ ", "", body)
    return re.sub(r"(^| )(cookie|idle|hard|importance):\S+", "", body).lstrip()


def _strip_ours(line: str) -> str:
    return re.sub(r"^(cookie=\S+, )?(table=\d+, )?(idle_timeout=\d+, )?", "", line)


def _oracle(texts: list[str], tmp: Path) -> list[str]:
    path = tmp / "flows.txt"
    path.write_text("\n".join(texts) + "\n")
    proc = subprocess.run(["ovs-ofctl", "parse-flows", str(path)], capture_output=True,
                          text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    return [_strip_oracle(ln) for ln in proc.stdout.splitlines() if " ADD " in ln]


@pytest.mark.oracle
@pytest.mark.skipif(shutil.which("ovs-ofctl") is None, reason="needs openvswitch-common")
def test_real_ovs_ofctl_agrees_on_corpus(tmp_path: Path) -> None:
    ours = [format_flow(parse_flow(t)) for t in CORPUS]
    # ovs-ofctl accepts every flow we print and prints it exactly as we do.
    from_ours = _oracle(ours, tmp_path)
    from_input = _oracle(CORPUS, tmp_path)
    assert len(from_ours) == len(CORPUS) == len(from_input)
    mismatches = [(src, _strip_ours(mine), theirs)
                  for src, mine, theirs in zip(CORPUS, ours, from_input, strict=True)
                  if _strip_ours(mine) != theirs]
    assert not mismatches, mismatches[:5]
    assert [_strip_ours(o) for o in ours] == from_ours
