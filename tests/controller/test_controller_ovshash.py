"""OVS's hash-container order, which decides the order of a multicast group's tunnel
outputs (consider_mc_group → fanout_to_chassis → SSET_FOR_EACH)."""

from __future__ import annotations

from itertools import permutations

from ovnlab.controller.ovshash import hash_string, sset_order
from ovnlab.topology import load


def test_seed_chassis_in_the_order_a_real_ovn_controller_outputs_to_them() -> None:
    """The network node of the real 22.03 seed lab floods n1's _MC_flood with
    output:"ovn-3c2e27-0",output:"ovn-1d03fd-0" (compute2, then compute1)."""
    ids = {n.hostname: n.system_id for n in load("seed").nodes}
    for names in permutations([ids["compute1"], ids["compute2"]]):
        assert sset_order(names) == [ids["compute2"], ids["compute1"]]


def test_every_name_once_and_bucket_order_after_growth() -> None:
    names = [f"chassis-{i}" for i in range(37)]
    order = sset_order(names + names[:5])  # re-adding changes nothing
    assert sorted(order) == sorted(names)
    mask = 31  # grown at 2, 8, 16 and 32 names: calc_mask(32)
    buckets = [hash_string(n) & mask for n in order]
    assert buckets == sorted(buckets)  # HMAP_FOR_EACH walks buckets 0..mask

