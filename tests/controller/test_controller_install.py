"""What the controllers install is exactly what `ovs-ofctl add-flow` syntax would give:
the cached, per-part conversion of the desired flows equals parsing their text."""

from __future__ import annotations

from ovnlab.controller.ofctrl import engine_flow
from ovnlab.flows import parse_flow
from ovnlab.lab import Lab
from ovnlab.scenario import run_article


def test_engine_flow_equals_parsing_the_flow_text() -> None:
    lab = Lab.build("seed")
    run_article(lab.openstack)
    flows = [f for c in lab.controllers.values() for f in c.flows()]
    assert len(flows) > 1000
    for f in flows:
        assert engine_flow(f) == parse_flow(f.ofctl()), f.ofctl()
    # and a second time, from the caches
    for f in flows:
        assert engine_flow(f) == parse_flow(f.ofctl()), f.ofctl()


def test_installed_tables_hold_the_desired_flows() -> None:
    lab = Lab.build("seed")
    run_article(lab.openstack)
    for host, c in lab.controllers.items():
        desired = sorted((parse_flow(f.ofctl()) for f in c.flows()), key=repr)
        br_int = lab.vswitches[host].bridges["br-int"]
        installed = sorted((parse_flow(x) for x in br_int.dump_flows(stats=False)), key=repr)
        assert installed == desired, host
