"""Incremental runs must leave the SB exactly as a full recompute would."""

import os
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ovnlab.northd import Northd
from ovnlab.northd.samples import add_security_group, fip_cloud, fip_row
from ovnlab.ovsdb import Database
from ovnlab.sb import new_sb


def sb_state(sb: Database) -> dict[str, Any]:
    dp_name = {d.uuid: d["external_ids"]["name"] for d in sb.rows("Datapath_Binding")}
    pb_name = {p.uuid: p["logical_port"] for p in sb.rows("Port_Binding")}
    return {
        "lflows": sorted((dp_name[f["logical_datapath"]], f["pipeline"], f["table_id"],
                          f["priority"], f["match"], f["actions"]) for f in sb.rows("Logical_Flow")),
        "ports": sorted((p["logical_port"], dp_name[p["datapath"]], p["type"],
                         sorted(p["options"].items()), p["mac"], p["nat_addresses"])
                        for p in sb.rows("Port_Binding")),
        "mcast": sorted((dp_name[m["datapath"]], m["name"], sorted(pb_name[p] for p in m["ports"]))
                        for m in sb.rows("Multicast_Group")),
        "pgs": sorted((r["name"].split("_", 1)[1], r["ports"]) for r in sb.rows("Port_Group")),
        "as": sorted((r["name"], r["addresses"]) for r in sb.rows("Address_Set")),
    }


OPS = st.lists(st.tuples(st.sampled_from(["add_fip", "del_fip", "add_vm", "del_vm",
                                           "toggle_mac", "del_snat", "add_snat", "gw_off",
                                           "add_acl", "disable_vm", "route", "lrp_net",
                                           "vm_addr", "nat_ip", "ls_acl", "gw_mtu",
                                           "vlan", "dhcp", "dhcp_opts", "new_rport",
                                           "mcast_reports"]),
                         st.integers(0, 1000)), min_size=1, max_size=8)


def apply(nb: Database, op: str, n: int) -> None:
    lr = nb.rows("Logical_Router")[0]
    tenant = nb.get("Logical_Switch", "neutron-tenant")
    vms = [nb.get("Logical_Switch_Port", u) for u in tenant["ports"]]
    vms = [v for v in vms if v["type"] == ""]
    nats = [nb.get("NAT", u) for u in lr["nat"]]
    with nb.transaction() as txn:
        if op == "add_fip" and vms:
            vm = vms[n % len(vms)]
            txn.update("Logical_Router", lr.uuid,
                       nat=(*lr["nat"], fip_row(txn, 500 + n, vm["name"])))
        elif op == "del_fip" and nats:
            nat = nats[n % len(nats)]
            if nat["type"] == "dnat_and_snat":
                txn.update("Logical_Router", lr.uuid,
                           nat=tuple(u for u in lr["nat"] if u != nat.uuid))
                txn.delete("NAT", nat.uuid)
        elif op == "add_vm":
            i = 700 + n
            while nb.lookup("Logical_Switch_Port", f"vm-extra-{i}") is not None:
                i += 1
            p = txn.insert("Logical_Switch_Port", name=f"vm-extra-{i}",
                           addresses=(f"fa:16:3e:aa:{i // 256 % 256:02x}:{i % 256:02x} "
                                      f"10.9.{i // 256 % 256}.{i % 256}",))
            txn.update("Logical_Switch", tenant.uuid, ports=(*tenant["ports"], p.uuid))
            pg = nb.get("Port_Group", "neutron_pg_drop")
            txn.update("Port_Group", pg.uuid, ports=(*pg["ports"], p.uuid))
        elif op == "del_vm" and vms:
            vm = vms[n % len(vms)]
            txn.update("Logical_Switch", tenant.uuid,
                       ports=tuple(u for u in tenant["ports"] if u != vm.uuid))
            for pg in nb.rows("Port_Group"):
                if vm.uuid in pg["ports"]:
                    txn.update("Port_Group", pg.uuid,
                               ports=tuple(u for u in pg["ports"] if u != vm.uuid))
            txn.delete("Logical_Switch_Port", vm.uuid)
        elif op == "toggle_mac" and nats:
            nat = nats[n % len(nats)]
            if nat["type"] == "dnat_and_snat":
                txn.update("NAT", nat.uuid, external_mac=None if nat["external_mac"]
                           else f"fa:16:3e:bb:00:{n % 256:02x}")
        elif op == "del_snat":
            gone = [nat.uuid for nat in nats if nat["type"] == "snat"]
            txn.update("Logical_Router", lr.uuid,
                       nat=tuple(u for u in lr["nat"] if u not in gone))
            for u in gone:
                txn.delete("NAT", u)
        elif op == "add_snat":
            u = txn.insert("NAT", type="snat", external_ip=f"100.64.9.{n % 250}",
                           logical_ip="10.0.0.0/8").uuid
            txn.update("Logical_Router", lr.uuid, nat=(*lr["nat"], u))
        elif op == "gw_off":
            gw = nb.get("Logical_Router_Port", "lrp-rgw")
            txn.update("Logical_Router_Port", gw.uuid,
                       gateway_chassis=() if gw["gateway_chassis"] else gw["gateway_chassis"])
        elif op == "add_acl":
            add_security_group(txn, f"sg-{n}", [v.uuid for v in vms[:1]])
        elif op == "route":
            r = txn.insert("Logical_Router_Static_Route", ip_prefix=f"192.168.{n % 250}.0/24",
                           nexthop="100.64.0.9")
            txn.update("Logical_Router", lr.uuid, static_routes=(*lr["static_routes"], r.uuid))
        elif op == "lrp_net":
            rif = nb.get("Logical_Router_Port", "lrp-rif")
            txn.update("Logical_Router_Port", rif.uuid,
                       networks=("10.0.0.1/8",) if n % 2 else ("10.0.0.1/8", "172.31.0.1/16"))
        elif op == "vm_addr" and vms:
            vm = vms[n % len(vms)]
            mac = vm["addresses"][0].split()[0]
            txn.update("Logical_Switch_Port", vm.uuid,
                       addresses=(f"{mac} 10.8.{n // 256 % 256}.{n % 256}",))
        elif op == "nat_ip" and nats:
            nat = nats[n % len(nats)]
            if nat["type"] == "dnat_and_snat":
                txn.update("NAT", nat.uuid, external_ip=f"100.65.{n // 256 % 256}.{n % 256}")
        elif op == "ls_acl":
            a = txn.insert("ACL", priority=1000 + n % 100, direction="to-lport",
                           match=f"outport == \"rif\" && udp.dst == {n}", action="allow-related")
            txn.update("Logical_Switch", tenant.uuid, acls=(*tenant["acls"], a.uuid))
        elif op == "gw_mtu":
            gw = nb.get("Logical_Router_Port", "lrp-rgw")
            opts = dict(gw["options"])
            if opts.pop("gateway_mtu", None) is None:
                opts["gateway_mtu"] = str(1300 + n % 200)
            txn.update("Logical_Router_Port", gw.uuid, options=opts)
        elif op == "vlan":
            ln = nb.get("Logical_Switch_Port", "provnet-ext")
            txn.update("Logical_Switch_Port", ln.uuid,
                       tag_request=None if ln["tag_request"] is not None else 100 + n % 100)
        elif op == "dhcp" and vms:
            vm = vms[n % len(vms)]
            rows = nb.rows("DHCP_Options")
            dhcp = rows[0].uuid if rows else txn.insert(
                "DHCP_Options", cidr="10.0.0.0/8",
                options={"server_id": "10.0.0.1", "server_mac": "fa:16:3e:cc:00:01",
                         "lease_time": "43200", "router": "10.0.0.1"}).uuid
            txn.update("Logical_Switch_Port", vm.uuid,
                       dhcpv4_options=None if vm["dhcpv4_options"] else dhcp)
        elif op == "dhcp_opts" and nb.rows("DHCP_Options"):
            row = nb.rows("DHCP_Options")[0]
            txn.update("DHCP_Options", row.uuid,
                       options={**row["options"], "mtu": str(1400 + n % 100)})
        elif op == "new_rport":
            # a second tenant network on the router: the router's FIPs are ARPed for there too
            i = n % 50
            if nb.lookup("Logical_Router_Port", f"lrp-extra-{i}") is None:
                lrp = txn.insert("Logical_Router_Port", name=f"lrp-extra-{i}",
                                 mac=f"fa:16:3e:dd:00:{i:02x}", networks=(f"192.168.{i}.1/24",))
                rp = txn.insert("Logical_Switch_Port", name=f"rp-extra-{i}", type="router",
                                addresses=("router",), options={"router-port": lrp["name"]})
                vm = txn.insert("Logical_Switch_Port", name=f"vm-net-{i}",
                                addresses=(f"fa:16:3e:de:00:{i:02x} 192.168.{i}.10",))
                txn.insert("Logical_Switch", name=f"net-extra-{i}", ports=(rp.uuid, vm.uuid))
                txn.update("Logical_Router", lr.uuid, ports=(*lr["ports"], lrp.uuid))
        elif op == "mcast_reports":
            ln = nb.get("Logical_Switch_Port", "provnet-ext")
            opts = dict(ln["options"])
            key = "mcast_flood_reports" if n % 2 else "mcast_flood"
            opts[key] = "false" if opts.get(key) == "true" else "true"
            txn.update("Logical_Switch_Port", ln.uuid, options=opts)
        elif op == "disable_vm" and vms:
            vm = vms[n % len(vms)]
            txn.update("Logical_Switch_Port", vm.uuid, enabled=vm["enabled"] is not False and False)


@settings(max_examples=int(os.environ.get("NORTHD_EXAMPLES", "60")), deadline=None)
@given(OPS)
def test_incremental_equals_full(ops: list[tuple[str, int]]) -> None:
    nb = fip_cloud(3, 3)
    sb = new_sb()
    northd = Northd(nb, sb)
    northd.run()
    for op, n in ops:
        apply(nb, op, n)
        northd.run()
    fresh = new_sb()
    Northd(nb, fresh).run()
    assert sb_state(sb) == sb_state(fresh)


def test_one_fip_touches_only_its_flows() -> None:
    nb = fip_cloud(50, 3)
    sb = new_sb()
    northd = Northd(nb, sb)
    full = northd.run()
    apply(nb, "add_fip", 7)
    inc = northd.run()
    assert inc.owners < 10 < full.owners
    assert 10 <= inc.lflows_added <= 25 and inc.lflows_deleted <= 2


@settings(max_examples=int(os.environ.get("NORTHD_EXAMPLES", "25")), deadline=None)
@given(OPS)
def test_every_engine_node_incremental_equals_its_recompute(ops: list[tuple[str, int]]) -> None:
    """inc-engine/recompute after each change: en_northd's SB structure, en_lflow's flows
    per owner and the port status sync are what their full recompute gives."""
    nb = fip_cloud(3, 3)
    sb = new_sb()
    northd = Northd(nb, sb)
    northd.run()
    nodes = [n for n in northd.engine.nodes if n.inputs]
    for op, n in ops:
        apply(nb, op, n)
        recomputes = [node.stats.recompute for node in nodes]
        northd.run()
        # the handlers coped: no node fell back to recomputing (check() would be moot)
        assert [node.stats.recompute for node in nodes] == recomputes
        assert northd.check() == []


def test_a_change_is_handled_without_recompute_and_status_writes_dirty_nothing() -> None:
    nb = fip_cloud(3, 3)
    sb = new_sb()
    northd = Northd(nb, sb)
    northd.run()
    nodes = {n.name: n for n in northd.engine.nodes}
    apply(nb, "add_fip", 1)
    stats = northd.run()
    assert stats.lflows_added > 0 and not stats.full
    assert nodes["lflow"].stats.recompute == 1 and nodes["lflow"].stats.compute >= 1
    lsp = nb.rows("Logical_Switch_Port")[0]
    with nb.transaction() as txn:  # what northd itself writes back: a port's `up`
        txn.update("Logical_Switch_Port", lsp.uuid, up=not lsp["up"])
    assert northd.pending
    computed = nodes["lflow"].stats.compute
    assert northd.run() == type(stats)()
    assert nodes["lflow"].stats.compute == computed  # en_northd handled it: nothing dirty


def test_a_fip_rewrites_the_fip_mac_set_in_place() -> None:
    """The flows matching the set of every FIP MAC (ls_in_l2_lkup's ARP/ND flood) keep
    their SB row when a FIP comes or goes: northd rewrites the match, so ovn-controller
    patches the one MAC's flows (the SB equals a fresh northd's all the same)."""
    nb = fip_cloud(5, 3)
    sb = new_sb()
    northd = Northd(nb, sb)
    northd.run()
    sets = {f.uuid: f["match"] for f in sb.rows("Logical_Flow") if "{" in f["match"]
            and "arp.op == 1" in f["match"]}
    assert sets
    apply(nb, "add_fip", 7)
    stats = northd.run()
    new_mac = max(nb.rows("NAT"), key=lambda r: r["external_ip"])["external_mac"]
    assert stats.lflows_rematched == len(sets)
    for uuid, before in sets.items():
        after = sb.tables["Logical_Flow"][uuid]["match"]
        assert new_mac not in before and new_mac in after
    fresh = new_sb()
    Northd(nb, fresh).run()
    assert sb_state(sb) == sb_state(fresh)
    assert northd.check() == []
