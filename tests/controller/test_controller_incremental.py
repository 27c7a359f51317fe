"""Incremental processing equals a full recompute after random SB/OVS change sequences."""

from __future__ import annotations

import random

import pytest
from ctl_seed import lflow, seed_lab

from ovnlab.controller.pinctrl import put_mac_binding
from ovnlab.flows.format import format_flow_mod


def _snapshot(c) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted(format_flow_mod(f) for f in c.flows())


def _step(lab, rng: random.Random, i: int) -> None:  # type: ignore[no-untyped-def]
    sb, u = lab.sb, lab.u
    op = rng.choice(["fip_add", "fip_del", "lflow_mod", "unplug", "plug", "alive", "macb",
                     "pb_key", "fip_add"])
    if op == "fip_add":
        ip = f"10.0.2.{100 + i % 100}"
        with sb.transaction() as txn:
            lflow(txn, u["r"], "ingress", 6, 100, f'ip && ip4.dst == {ip} && inport == "lrp-r-gw"',
                  f"ct_dnat_in_czone(172.16.100.{20 + i % 50});")
            lflow(txn, u["r"], "egress", 3, 161, f'ip && ip4.src == 172.16.100.{20 + i % 50} && '
                  f'outport == "lrp-r-gw" && is_chassis_resident("vm_1")',
                  f"eth.src = fa:16:3e:00:00:{i % 256:02x}; ct_snat_in_czone({ip});")
    elif op == "fip_del":
        rows = [r for r in sb.rows("Logical_Flow") if r["table_id"] in (3, 6)]
        if rows:
            with sb.transaction() as txn:
                txn.delete("Logical_Flow", rng.choice(rows).uuid)
    elif op == "lflow_mod":
        row = rng.choice(sb.rows("Logical_Flow"))
        with sb.transaction() as txn:
            txn.update("Logical_Flow", row.uuid, priority=row["priority"] + 1)
    elif op == "unplug":
        br = lab.vswitches["compute1"].bridges["br-int"]
        br.ports.pop("tap-vm1", None)
        lab.controllers["compute1"].run()
    elif op == "plug":
        host = rng.choice(["compute1", "compute2"])
        for h in ("compute1", "compute2"):
            lab.vswitches[h].bridges["br-int"].ports.pop("tap-vm1", None)
            lab.controllers[h].run()
        lab.vswitches[host].bridges["br-int"].add_port(
            "tap-vm1", external_ids={"iface-id": "vm_1"})
        lab.controllers[host].run()
    elif op == "alive":
        name = rng.choice(["network", "compute1"])
        alive = rng.random() < 0.5
        for c in lab.controllers.values():
            c.set_chassis_alive(name, alive)
    elif op == "macb":
        c = lab.controllers["network"]
        put_mac_binding(c, 3, 1, f"10.0.2.{rng.randint(1, 9)}", f"02:00:00:00:00:0{i % 10}")
    elif op == "pb_key":
        with sb.transaction() as txn:
            txn.update("Port_Binding", u["n1-r"], tunnel_key=rng.choice([2, 5]))


@pytest.mark.parametrize("seed", range(6))
def test_incremental_equals_full_recompute(seed: int) -> None:
    rng = random.Random(seed)
    lab = seed_lab()
    for i in range(25):
        _step(lab, rng, i)
        for host, c in lab.controllers.items():
            inc = _snapshot(c)
            c.recompute()
            assert inc == _snapshot(c), (seed, i, host)
