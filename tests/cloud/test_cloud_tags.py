"""The tag service (`cloud.tags`): one table from each taggable kind to the family that owns
it, nothing reaching the driver."""

from __future__ import annotations

import pytest
from cloud_helpers import RecordingDriver, article

from ovnlab.cloud import Cloud, Context
from ovnlab.cloud.tags import Taggable, TagService
from ovnlab.errors import NotFound


def test_every_taggable_kind_is_tagged_through_its_family(cloud: Cloud, admin: Context,
                                                          driver: RecordingDriver) -> None:
    made = article(cloud, admin)
    pool = cloud.subnetpools.create_subnetpool(admin, {"name": "p", "prefixes": ["10.9.0.0/16"]})
    port = cloud.get_port(admin, made["vm_port"]["id"])
    ids = {Taggable.NETWORK: made["n1"]["id"], Taggable.SUBNET: made["n1subnet"]["id"],
           Taggable.PORT: port["id"], Taggable.ROUTER: made["router"]["id"],
           Taggable.FLOATINGIP: made["fip"]["id"], Taggable.SECURITY_GROUP: made["sg"]["id"],
           Taggable.SUBNETPOOL: pool["id"]}
    assert set(ids) == set(Taggable)
    calls = len(driver.calls)
    for kind, rid in ids.items():
        cloud.tags.update_tags(admin, kind, rid, ["blue"])
        cloud.tags.add_tag(admin, kind, rid, "green")
        assert cloud.tags.get_tags(admin, kind, rid) == ["blue", "green"]
        cloud.tags.remove_tag(admin, kind, rid, "blue")
        with pytest.raises(NotFound):
            cloud.tags.check_tag(admin, kind, rid, "blue")
    assert cloud.get_port(admin, port["id"])["tags"] == ["green"]
    assert cloud.get_port(admin, port["id"])["revision_number"] == port["revision_number"]
    assert len(driver.calls) == calls  # tags are not the driver's business


def test_a_kind_another_project_cannot_see_is_not_found(cloud: Cloud, admin: Context,
                                                        demo: Context) -> None:
    net = cloud.create_network(admin, {"name": "private-to-admin"})
    with pytest.raises(NotFound):
        cloud.tags.get_tags(demo, Taggable.NETWORK, net["id"])


def test_the_table_must_cover_every_taggable_kind(cloud: Cloud) -> None:
    with pytest.raises(ValueError, match="subnetpool"):
        TagService(cloud, {kind: cloud.get_network for kind in Taggable
                           if kind is not Taggable.SUBNETPOOL})
