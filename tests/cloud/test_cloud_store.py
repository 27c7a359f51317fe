from __future__ import annotations

from pathlib import Path

import pytest

from ovnlab.cloud.store import JOURNAL, Store


def test_put_get_find_all_delete() -> None:
    s = Store(None)
    s.put("port", "p1", {"id": "p1", "network_id": "n1", "binding:host_id": "compute1",
                         "up": True, "fixed_ips": []})
    s.put("port", "p2", {"id": "p2", "network_id": "n2", "binding:host_id": "", "up": False,
                         "device_id": None})
    s.put("network", "n1", {"id": "n1"})
    assert s.get("port", "p1")["binding:host_id"] == "compute1"
    assert s.get("port", "nope") is None
    assert [d["id"] for d in s.all("port")] == ["p1", "p2"]
    assert [d["id"] for d in s.find("port", network_id="n2")] == ["p2"]
    assert [d["id"] for d in s.find("port", **{"binding:host_id": "compute1"})] == ["p1"]
    assert [d["id"] for d in s.find("port", up=True)] == ["p1"]
    assert [d["id"] for d in s.find("port", up=False)] == ["p2"]
    assert [d["id"] for d in s.find("port", device_id=None)] == ["p1", "p2"]  # missing = null
    assert [d["id"] for d in s.find("port", fixed_ips=[])] == ["p1"]
    assert s.find("port", network_id="n1", up=False) == []
    assert s.delete("port", "p1") and not s.delete("port", "p1")
    assert s.kinds() == ["network", "port"]


def test_update_keeps_creation_order() -> None:
    s = Store(None)
    for i in range(3):
        s.put("k", f"d{i}", {"v": i})
    s.put("k", "d0", {"v": 10})
    assert [d["v"] for d in s.all("k")] == [10, 1, 2]


def test_documents_are_copies() -> None:
    s = Store(None)
    s.put("k", "a", {"l": [1]})
    doc = s.get("k", "a")
    assert doc is not None
    doc["l"].append(2)
    assert s.get("k", "a") == {"l": [1]}


def test_transaction_rolls_back_and_nests() -> None:
    s = Store(None)
    s.put("k", "keep", {"v": 1})
    with pytest.raises(RuntimeError):
        with s.transaction():
            s.put("k", "a", {"v": 1})
            with s.transaction():  # joins the outer transaction
                s.put("k", "b", {"v": 2})
                s.delete("k", "keep")
            assert s.get("k", "b") == {"v": 2}
            raise RuntimeError("boom")
    assert s.get("k", "a") is None and s.get("k", "b") is None
    assert s.get("k", "keep") == {"v": 1}
    assert not s.in_transaction


def test_failed_nested_block_is_undone_even_if_caught() -> None:
    s = Store(None)
    with s.transaction():
        s.put("k", "a", {"v": 1})
        try:
            with s.transaction():
                s.put("k", "b", {"v": 2})
                s.delete("k", "a")
                raise ValueError
        except ValueError:
            pass
        with s.transaction():
            s.put("k", "c", {"v": 3})
    assert s.get("k", "a") == {"v": 1} and s.get("k", "b") is None
    assert s.get("k", "c") == {"v": 3}


def test_persists_across_reopen_with_wal(tmp_path: Path) -> None:
    path = tmp_path / "lab.db"
    s = Store(path)
    s.put("nb:NAT", "x", {"type": "snat", "external_ip": "10.0.2.211"})
    with pytest.raises(KeyError):
        with s.transaction():
            s.put("nb:NAT", "y", {"type": "dnat_and_snat"})
            raise KeyError
    s.close()
    again = Store(path)
    assert again.all("nb:NAT") == [{"type": "snat", "external_ip": "10.0.2.211"}]
    assert again._conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert again._conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    again.close()


def test_killed_process_leaves_no_half_operation(tmp_path: Path) -> None:
    """A child process dies (os._exit) in the middle of a transaction: nothing of it remains."""
    import subprocess
    import sys

    path = tmp_path / "lab.db"
    code = f"""
import os
from ovnlab.cloud.store import Store
s = Store({str(path)!r})
s.put("k", "before", {{"v": 0}})
with s.transaction():
    for i in range(100):
        s.put("k", f"d{{i}}", {{"v": i}})
        if i == 50:
            os._exit(9)
"""
    proc = subprocess.run([sys.executable, "-c", code], check=False)
    assert proc.returncode == 9
    s = Store(path)
    assert [d["v"] for d in s.all("k")] == [0]
    s.close()


def test_pluck_one_attribute() -> None:
    s = Store(None)
    s.put("port", "a", {"net": "n", "fixed_ips": [{"ip_address": "10.0.0.2"}], "up": True,
                        "n": 3, "name": "x"})
    s.put("port", "b", {"net": "n", "fixed_ips": [], "up": False, "n": None})
    s.put("port", "c", {"net": "m", "fixed_ips": [{"ip_address": "10.0.0.9"}]})
    assert s.pluck("port", "fixed_ips", net="n") == [[{"ip_address": "10.0.0.2"}], []]
    assert s.pluck("port", "up", net="n") == [True, False]
    assert s.pluck("port", "n") == [3, None, None]
    assert s.pluck("port", "name") == ["x", None, None]


def test_text_that_is_not_unicode_is_refused_and_the_operation_undone(tmp_path: Path) -> None:
    """A lone surrogate would break every later reader (the NB, tools, a restart): the
    store refuses it, whatever interface it came through, and the transaction rolls back."""
    from ovnlab import topology
    from ovnlab.cloud import Cloud
    from ovnlab.errors import BadRequest

    cloud = Cloud(tmp_path / "c.db", topology.load("seed"))
    admin = cloud.admin_context()
    before = cloud.store.snapshot()
    with pytest.raises(BadRequest, match=r"\\ud800 is a lone surrogate"):
        cloud.create_network(admin, {"network": {"name": "\ud800"}})
    assert cloud.store.snapshot() == before
    net = cloud.create_network(admin, {"network": {"name": "ok"}})
    with pytest.raises(BadRequest):
        cloud.update_network(admin, net["id"], {"network": {"description": "a\udfffb"}})
    assert cloud.get_network(admin, net["id"])["description"] == ""
    cloud.close()
    reopened = Cloud(tmp_path / "c.db", topology.load("seed"))
    assert [n["name"] for n in reopened.get_networks(admin)] == ["ok"]
    reopened.close()


def test_nan_and_infinities_are_refused_and_the_operation_undone() -> None:
    """Not JSON: SQLite's JSON functions (the store's indexes) fail on them."""
    from ovnlab import topology
    from ovnlab.cloud import Cloud
    from ovnlab.errors import BadRequest

    cloud = Cloud(None, topology.load("seed"))
    admin = cloud.admin_context()
    net = cloud.create_network(admin, {"network": {"name": "n"}})
    before = cloud.store.snapshot()
    for value in (float("nan"), float("inf"), -float("inf")):
        with pytest.raises(BadRequest, match="NaN and infinite numbers are not JSON values"):
            cloud.create_port(admin, {"port": {"network_id": net["id"],
                                               "binding:profile": {"x": value}}})
        assert cloud.store.snapshot() == before
    assert cloud.get_ports(admin, filters={"device_id": ["x"]}) == []
    cloud.close()


def test_written_since_names_what_changed_and_says_when_it_forgot() -> None:
    s = Store(None)
    mark = s.writes
    assert s.written_since(mark) == set()
    s.put("server", "a", {"id": "a"})
    s.put("port", "p", {"id": "p"})
    s.delete("server", "a")
    assert s.written_since(mark) == {("server", "a"), ("port", "p")}
    later = s.writes
    s.put("port", "q", {"id": "q"})
    assert s.written_since(later) == {("port", "q")}
    for i in range(JOURNAL):
        s.put("network", str(i), {"id": str(i)})
    assert s.written_since(later) is None  # further back than the journal reaches
    assert s.written_since(-1) is None  # never read: the caller scans everything
