"""The web view in a real browser (Debian's chromium through Playwright) on the seed lab
after the article's commands: the drawing, a trace drawn over it, the distributed/centralized
toggle, a hop's OpenFlow tables, live updates, the tools' tabs and their errors."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from web_helpers import Served, serve_web

from ovnlab.lab import Lab

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def page(browser: Any, served: Served) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 850}, accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(served.link)
    page.wait_for_selector("#main:not([hidden])")
    yield page
    context.close()
    assert not errors, f"the page raised: {errors}"


def _fip(lab: Lab) -> str:
    return str(lab.cloud.l3.get_floatingips(lab.admin)[0]["floating_ip_address"])


def _trace(page: Any, src: str, dst: str) -> list[dict[str, str]]:
    page.evaluate("document.getElementById('path').replaceChildren()")
    page.fill("#trace-src", src)
    page.fill("#trace-dst", dst)
    page.click("#trace-form button")
    page.wait_for_selector("#path li")
    return _path(page)


def _path(page: Any) -> list[dict[str, str]]:
    return page.eval_on_selector_all("#path li", """els => els.map(e => ({
        source: e.dataset.source, target: e.dataset.target, leg: e.className.split(' ')[0],
        text: e.textContent}))""")


def _places(path: list[dict[str, str]], leg: str) -> set[str]:
    return {p for e in path if e["leg"] == leg for p in (e["source"], e["target"])}


def test_the_chassis_and_vm_1_on_compute1_are_drawn(page: Any, shots: Path) -> None:
    drawn = page.evaluate("""() => {
        const cy = window.ovnlab.cy, box = cy.extent();
        const inView = (id) => { const b = cy.getElementById(id).boundingBox();
            return b.x1 >= box.x1 - 1 && b.x2 <= box.x2 + 1 && b.y1 >= box.y1 - 1 && b.y2 <= box.y2 + 1; };
        return ['network', 'compute1', 'compute2', 'vm_1'].map(id => ({
            id, kind: cy.getElementById(id).data('kind'), parent: cy.getElementById(id).data('parent') || null,
            visible: cy.getElementById(id).visible() && inView(id)}));
    }""")
    assert drawn == [
        {"id": "network", "kind": "chassis", "parent": None, "visible": True},
        {"id": "compute1", "kind": "chassis", "parent": None, "visible": True},
        {"id": "compute2", "kind": "chassis", "parent": None, "visible": True},
        {"id": "vm_1", "kind": "vm", "parent": "compute1", "visible": True},
    ]
    page.screenshot(path=str(shots / "topology.png"))


def test_gateway_chassis_priorities_and_the_active_one(page: Any) -> None:
    gateways = page.evaluate("""() => window.ovnlab.cy.edges('.gateway-chassis').map(e =>
        [e.target().id(), e.data('priority'), e.data('active')]).sort()""")
    assert gateways == [["compute1", 2, False], ["compute2", 1, False], ["network", 3, True]]


def test_trace_distributed_then_centralized(page: Any, served: Served, shots: Path) -> None:
    path = _trace(page, "vm_1", "8.8.8.8")
    request = _places(path, "request")
    assert "compute1/eth0" in request and "vm_1" in request and "google-dns" in request
    assert not any(p.startswith("network") for e in path for p in (e["source"], e["target"]))
    assert _places(path, "reply"), "the reply leg is drawn too"
    drawn = page.evaluate("window.ovnlab.cy.edges('.path').map(e => e.classes().join(' '))")
    assert any("request" in c for c in drawn) and any("reply" in c for c in drawn)
    assert "echo reply from 8.8.8.8" in page.text_content("#disposition")
    page.screenshot(path=str(shots / "trace-distributed.png"))

    page.evaluate("document.getElementById('path').replaceChildren()")
    page.click("#distributed")  # ovnlab config set ovn.enable_distributed_floating_ip false
    page.wait_for_selector("#path li")
    try:
        assert served.lab.cloud.get_config()["enable_distributed_floating_ip"] is False
        path = _path(page)
        request = _places(path, "request")
        assert {"network/br-int", "network/br-ex", "network/eth0"} <= request
        assert "compute1/eth0" not in request
        assert any("encap" in e["text"] for e in path if e["source"] == "compute1/eth1"
                   or e["target"] == "compute1/eth1")
        page.screenshot(path=str(shots / "trace-centralized.png"))
    finally:
        page.evaluate("document.getElementById('path').replaceChildren()")
        page.click("#distributed")
        page.wait_for_selector("#path li")
    assert served.lab.cloud.get_config()["enable_distributed_floating_ip"] is True


def test_a_hop_shows_its_table_43_snat_flow(page: Any, served: Served, shots: Path) -> None:
    fip = _fip(served.lab)
    path = _trace(page, "vm_1", "8.8.8.8")
    snat = [i for i, e in enumerate(path) if e["leg"] == "request" and f"-> {fip}" in e["text"]]
    assert snat and path[snat[0]]["source"] == "compute1/br-int"
    assert f"(FIP {fip}'s MAC)" in path[snat[0]]["text"]  # eth.src = the FIP's external_mac
    page.click(f"#path li:nth-child({snat[0] + 1})")
    flows = "\n".join(page.eval_on_selector_all("#hop pre.flows", "els => els.map(e => e.textContent)"))
    table43 = re.search(r"^\s*43\. .*\n(?:\s+\*.*\n)?(?:\s+.*\n)*?.*nat\(src=" + re.escape(fip),
                        flows, re.M)
    assert table43, flows[:3000]
    assert re.search(r"\* lr_out_snat priority \d+: match=\(.*ip4.src == 172.16.100.10", flows)
    assert "[NB " in flows  # the NB row behind the logical flow
    page.screenshot(path=str(shots / "hop.png"), full_page=True)


def test_clicking_two_nodes_traces_between_them(page: Any) -> None:
    page.evaluate("window.ovnlab.cy.remove('.path'); document.getElementById('path').replaceChildren()")
    for name in ("vm_1", "google-dns"):
        x, y = page.evaluate("""id => { const cy = window.ovnlab.cy, p = cy.getElementById(id).renderedPosition(),
            box = cy.container().getBoundingClientRect(); return [box.left + p.x, box.top + p.y]; }""", name)
        page.mouse.click(x, y)
    page.wait_for_selector("#path li")
    assert (page.input_value("#trace-src"), page.input_value("#trace-dst")) == ("vm_1", "google-dns")
    path = _path(page)
    assert path[0]["source"] == "vm_1" and "google-dns" in _places(path, "request")


def test_the_drawing_follows_the_lab(page: Any, served: Served) -> None:
    with served.lock:
        served.lab.openstack.server_create("vm_2", network="n1")
    page.wait_for_function("window.ovnlab.cy.getElementById('vm_2').nonempty()", timeout=10_000)
    host = served.lab.fabric.node("vm_2").chassis
    assert page.evaluate("window.ovnlab.cy.getElementById('vm_2').data('parent')") == host
    with served.lock:
        fip = served.lab.openstack.floating_ip_create("ext_n2")["floating_ip_address"]
        served.lab.openstack.server_add_floating_ip("vm_2", fip)
    page.wait_for_function("""fip => window.ovnlab.cy.edges('.logical').some(e =>
        e.source().data('address') === fip && e.target().id() === 'vm_2')""", arg=fip,
                           timeout=10_000)


def test_bad_input_shows_the_cli_message_and_the_page_goes_on(page: Any,
                                                            served: Served) -> None:
    with served.lock:  # ICMP of its own on compute1's eth0 for the good filter to show
        assert served.lab.exec("vm_1", "ping -c 1 8.8.8.8").rc == 0
    page.fill("#trace-src", "vm_1")
    page.fill("#trace-dst", "nosuchhost")
    page.click("#trace-form button")
    page.wait_for_function("document.getElementById('error').textContent !== ''")
    assert page.text_content("#error") == "nosuchhost: Name or service not known"
    page.click("nav button[data-tab=capture]")
    page.select_option("#capture-node", "compute1")
    page.select_option("#capture-iface", "eth0")
    page.fill("#capture-filter", "icmp and (")
    page.click("#capture-form button")
    page.wait_for_function("document.getElementById('error').textContent.includes('tcpdump')")
    assert "tcpdump: can't parse filter expression: syntax error" in page.text_content("#error")
    page.fill("#capture-filter", "icmp")
    page.click("#capture-form button")
    page.wait_for_function("document.getElementById('capture-out').textContent.includes('ICMP echo')")
    assert page.text_content("#error") == ""
    page.click("nav button[data-tab=trace]")
    assert _trace(page, "vm_1", "8.8.8.8")


def test_a_live_capture_shows_a_ping_as_it_crosses(page: Any, served: Served,
                                                    shots: Path) -> None:
    page.click("nav button[data-tab=capture]")
    page.select_option("#capture-node", "compute1")
    page.select_option("#capture-iface", "eth0")
    page.fill("#capture-filter", "icmp")
    page.click("#capture-live")
    page.wait_for_function("document.getElementById('capture-live').textContent === 'stop'")
    out = page.text_content("#capture-out")
    assert out.startswith("$ tcpdump -n -e -i eth0 icmp\n") and "listening on eth0" in out
    assert "ICMP" not in out  # live: what crossed before the start is not shown
    page.evaluate("window.samePage = true")  # gone if the page reloaded
    with served.lock:
        assert served.lab.exec("vm_1", "ping -c 2 8.8.8.8").rc == 0
    page.wait_for_function("""(document.getElementById('capture-out').textContent
        .match(/ICMP echo reply/g) || []).length === 2""", timeout=10_000)
    lines = page.text_content("#capture-out").splitlines()[3:]
    assert [ln.split(": ICMP echo ")[1].split(",")[0] for ln in lines] == [
        "request", "reply", "request", "reply"]
    assert page.evaluate("window.samePage") is True
    page.screenshot(path=str(shots / "live-capture.png"))
    page.click("#capture-live")
    assert page.text_content("#capture-live") == "live"
    assert page.text_content("#capture-out").endswith("(stopped)\n")
    assert page.text_content("#error") == ""
    page.click("nav button[data-tab=trace]")


def test_flows_databases_and_pcap(page: Any, served: Served, tmp_path: Path) -> None:
    fip = _fip(served.lab)
    page.click("nav button[data-tab=flows]")
    page.select_option("#flows-node", "compute1")
    page.select_option("#flows-bridge", "br-int")
    page.fill("#flows-filter", "table=43")
    page.click("#flows-form button")
    page.wait_for_function("document.getElementById('flows-out').textContent.includes('table=43')")
    out = page.text_content("#flows-out")
    assert re.search(rf"table=43, n_packets=[1-9]\d*, .*nat\(src={re.escape(fip)}\)", out)
    assert set(re.findall(r" table=(\d+), n_packets", out)) == {"43"}  # the filter held

    page.click("nav button[data-tab=lflows]")
    router = next(d for d in served.lab.sb.rows("Datapath_Binding")
                  if d["external_ids"].get("name2") == "r")["external_ids"]["name"]
    page.select_option("#lflows-dp", router)
    page.click("#lflows-form button")
    page.wait_for_function("document.querySelectorAll('#lflows-stage option').length > 1")
    page.select_option("#lflows-stage", "lr_out_snat")
    page.click("#lflows-form button")
    page.wait_for_function("document.getElementById('lflows-out').textContent.includes('[stage')")
    tables = set(re.findall(r"table=\d+ ?\((\w+)\s*\)", page.text_content("#lflows-out")))
    assert tables == {"lr_out_snat"}

    page.click("nav button[data-tab=db]")
    page.select_option("#db-name", "nb")
    page.select_option("#db-table", "NAT")
    page.click("#db-form button")
    page.wait_for_function("document.getElementById('db-out').textContent.includes('external_ip')")
    assert fip in page.text_content("#db-out")

    page.click("nav button[data-tab=capture]")
    page.select_option("#capture-node", "compute1")
    page.select_option("#capture-iface", "eth0")
    page.fill("#capture-filter", "icmp")
    with page.expect_download() as info:
        page.click("#capture-pcap")
    saved = tmp_path / "capture.pcap"
    info.value.save_as(saved)
    data = saved.read_bytes()
    assert data[:4] in (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4") and len(data) > 24 + 16
    page.click("nav button[data-tab=trace]")


def test_off_loopback_the_page_asks_for_keystone_credentials(browser: Any, shots: Path) -> None:
    lab = Lab.build("seed")
    server, served = serve_web(lab, token_allowed=False)
    page = browser.new_page()
    try:
        page.goto(served.link)  # the token is refused off loopback
        page.wait_for_selector("#login:not([hidden])")
        assert "Keystone credentials only" in page.text_content("#login-why")
        page.fill("input[name=username]", "demo")
        page.fill("input[name=password]", "secret")
        page.fill("input[name=project]", "demo")
        page.click("#login-form button")
        page.wait_for_function("document.getElementById('login-error').textContent !== ''")
        assert "not an admin" in page.text_content("#login-error")
        page.fill("input[name=username]", "admin")
        page.fill("input[name=project]", "admin")
        page.fill("input[name=password]", "wrong")
        page.click("#login-form button")
        page.wait_for_function("document.getElementById('login-error').textContent.includes('authentication')")
        page.fill("input[name=password]", "secret")
        page.click("#login-form button")
        page.wait_for_selector("#main:not([hidden])")
        assert page.evaluate("window.ovnlab.cy.getElementById('compute1').nonempty()")
        page.screenshot(path=str(shots / "after-login.png"))
    finally:
        page.close()
        server.close()
        lab.close()
