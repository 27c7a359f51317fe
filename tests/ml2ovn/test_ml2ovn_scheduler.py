from ovnlab.ml2ovn import new_nb
from ovnlab.ml2ovn.scheduler import ChassisInfo, Scheduler, candidates, is_invalid
from ovnlab.nb.api import NbApi


def ch(name: str, physnets: tuple[str, ...] = ("ext",), gw: bool = False) -> ChassisInfo:
    return ChassisInfo(name, name, physnets, gw)


def test_candidates_rule_of_the_seed_era() -> None:
    flagged_with_map, plain_with_map, flagged_no_map = ch("a", gw=True), ch("b"), ch("c", (), gw=True)
    # Flagged chassis with the mapping win...
    assert candidates([plain_with_map, flagged_with_map, flagged_no_map], "ext") == ["a"]
    # ...else every chassis with the mapping (the seed's lab)...
    assert candidates([plain_with_map, ch("d"), flagged_no_map], "other") == ["c"]
    assert candidates([plain_with_map, ch("d")], "ext") == ["b", "d"]
    # ...else the flagged ones (a tunnelled external network has no physnet).
    assert candidates([plain_with_map, flagged_no_map], None) == ["c"]
    assert candidates([plain_with_map], None) == []


def test_invalid_chassis() -> None:
    chassis = {c.name: c for c in (ch("a", gw=True), ch("b"), ch("c", ("other",), gw=True))}
    assert not is_invalid("a", chassis, "ext")
    assert is_invalid("b", chassis, "ext")  # others are flagged, b is not
    assert is_invalid("c", chassis, "ext")  # lost the physnet
    assert is_invalid("gone", chassis, "ext")


def test_at_most_five_and_existing_first() -> None:
    nb = new_nb()
    sched = Scheduler("leastloaded")
    names = [f"c{i}" for i in range(7)]
    assert sched.select(nb, names) == names[:5]
    assert sched.select(nb, names, existing=["c6", "c5"]) == ["c6", "c5", "c0", "c1", "c2"]
    assert sched.select(nb, [], existing=["c1"]) == ["c1"]
    assert sched.select(nb, []) == []


def test_least_loaded_prefers_chassis_hosting_fewer_high_priorities() -> None:
    nb = new_nb()
    api = NbApi(nb)
    with nb.transaction():
        api.lr_add("r")
        lrp = api.lrp_add("r", "lrp-1", mac="fa:16:3e:00:00:01", networks=("10.0.0.2/24",))
        api.set_gateway_chassis(lrp, ["a", "b", "c"])
    assert Scheduler("leastloaded").select(nb, ["a", "b", "c"]) == ["c", "b", "a"]
