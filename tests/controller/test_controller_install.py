"""What the controllers install is exactly what `ovs-ofctl add-flow` syntax would give:
the typed flows they build (no text in between) equal parsing their own text."""

from __future__ import annotations

from ovnlab.flows import parse_flow
from ovnlab.flows.format import format_flow_mod
from ovnlab.lab import Lab
from ovnlab.scenario import run_article


def test_desired_flows_equal_parsing_their_text() -> None:
    lab = Lab.build("seed")
    run_article(lab.openstack)
    flows = [f for c in lab.controllers.values() for f in c.flows()]
    assert len(flows) > 1000
    for f in flows:
        assert parse_flow(format_flow_mod(f)) == f, format_flow_mod(f)


def test_installed_tables_hold_the_desired_flows() -> None:
    lab = Lab.build("seed")
    run_article(lab.openstack)
    for host, c in lab.controllers.items():
        desired = sorted(c.flows(), key=repr)
        br_int = lab.vswitches[host].bridges["br-int"]
        installed = sorted((parse_flow(x) for x in br_int.dump_flows(stats=False)), key=repr)
        assert installed == desired, host
