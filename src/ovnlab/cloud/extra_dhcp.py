"""Neutron's extra_dhcp_opt extension on ports (neutron_lib's extra_dhcp_opt definition,
neutron/db/extradhcpopt_db.py): the attribute's validation, what a create keeps and how an
update merges (same name and IP version: changed, or removed by a null value)."""

from __future__ import annotations

from typing import Any

from ovnlab.cloud import exceptions as exc

ATTR = "extra_dhcp_opts"
# options that may be set with an empty value (VALID_BLANK_EXTRA_DHCP_OPTS)
BLANK_OK = frozenset({"router", "classless-static-route"})
NAME_MAX, VALUE_MAX = 64, 255


def _invalid(reason: str) -> exc.BadRequest:
    return exc.invalid_attr(ATTR, reason)


def _opt(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise _invalid(f"'{raw}' is not a dictionary")
    extra = sorted(set(raw) - {"opt_name", "opt_value", "ip_version"})
    if extra:
        raise _invalid(f"Unexpected keys supplied: {', '.join(extra)}")
    name = raw.get("opt_name")
    if not isinstance(name, str) or not name or len(name) > NAME_MAX:
        raise _invalid(f"'{name}' is not a valid opt_name")
    if "opt_value" not in raw:
        raise _invalid("Validation of dictionary's keys failed. Expected keys: "
                       "{'opt_name', 'opt_value'}")
    value = raw["opt_value"]
    if value is not None and (not isinstance(value, str) or len(value) > VALUE_MAX
                              or (not value and name not in BLANK_OK)):
        raise _invalid(f"'{value}' is not a valid opt_value")
    version = raw.get("ip_version", 4)
    if isinstance(version, str) and version.isdigit():
        version = int(version)
    if version not in (4, 6) or isinstance(version, bool):
        raise _invalid(f"'{version}' is not in [4, 6]")
    return {"opt_name": name, "opt_value": value, "ip_version": version}


def _kept(opt: dict[str, Any]) -> bool:
    """_is_valid_opt_value: a null (or, unless blank-able, empty) value is not stored."""
    value = opt["opt_value"]
    return value is not None if opt["opt_name"] in BLANK_OK else bool(value)


def parse(raw: Any) -> list[dict[str, Any]]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise _invalid(f"'{raw}' is not a list")
    return [_opt(o) for o in raw]


def on_create(raw: Any) -> list[dict[str, Any]]:
    return [o for o in parse(raw) if _kept(o)]


def on_update(current: list[dict[str, Any]], raw: Any) -> list[dict[str, Any]]:
    out = [dict(o) for o in current]
    for upd in parse(raw):
        same = next((o for o in out if (o["opt_name"], o.get("ip_version", 4))
                     == (upd["opt_name"], upd["ip_version"])), None)
        if same is None:
            if _kept(upd):
                out.append(upd)
        elif upd["opt_value"] is None:
            out.remove(same)
        elif _kept(upd):
            same["opt_value"] = upd["opt_value"]
    return out
