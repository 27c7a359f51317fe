"""ovn-nbctl's NAT commands (ovn-nbctl.c `nbctl_lr_nat_add`, `nbctl_lr_nat_del`,
`nbctl_lr_nat_list` and their helpers)."""

from __future__ import annotations

import ipaddress
import re
from enum import Enum

from ovnlab.nb import ctl
from ovnlab.nb.api import NbApi
from ovnlab.nb.ctl import CtlError, Style
from ovnlab.nb.nat import NatAddresses, NatError, check_port_and_mac, check_stateless
from ovnlab.nb.types import NatType
from ovnlab.ovsdb import Database, Row
from ovnlab.tools import nbctl_lookup as lookup


def _c(fmt_width: int, trunc: int, text: str) -> str:
    """printf `%-W.Ts`."""
    return f"{text[:trunc]:<{fmt_width}}"


def lr_nat_list(nb: Database, cmd: ctl.Command, style: Style) -> str:
    lr = lookup.must(lookup.lr_by_name_or_uuid(nb, cmd.args[0]))
    entries = []
    for nat in lookup.refs(nb, lr, "nat"):
        gw = nb.tables["Logical_Router_Port"].get(nat["gateway_port"] or "")
        key = _c(17, 13, nat["type"]) + _c(22, 18, gw["name"] if gw else "") + nat["external_ip"]
        if nat["external_mac"] is not None and nat["logical_port"] is not None:
            value = (_c(17, 13, nat["external_port_range"]) + _c(20, 16, nat["logical_ip"])
                     + _c(21, 17, nat["external_mac"]) + nat["logical_port"])
        else:
            value = _c(17, 13, nat["external_port_range"]) + nat["logical_ip"]
        entries.append((key, value))
    if not entries:
        return ""
    header = (_c(17, 13, "TYPE") + _c(22, 18, "GATEWAY_PORT") + _c(19, 15, "EXTERNAL_IP")
              + _c(17, 13, "EXTERNAL_PORT") + _c(20, 16, "LOGICAL_IP") + _c(21, 17, "EXTERNAL_MAC")
              + "LOGICAL_PORT\n")
    return header + "".join(_c(58, 54, k) + v + "\n" for k, v in sorted(entries, key=lambda e: e[0]))


def lr_nat_add(nb: Database, cmd: ctl.Command, style: Style) -> str:
    """nbctl_lr_nat_add: ROUTER TYPE EXTERNAL_IP LOGICAL_IP [LOGICAL_PORT EXTERNAL_MAC]
    [EXTERNAL_PORT_RANGE]."""
    lr = lookup.must(lookup.lr_by_name_or_uuid(nb, cmd.args[0]))
    opts = cmd.options
    stateless = "--stateless" in opts
    try:  # in ovn-nbctl.c's order: the addresses, the port and MAC, statelessness
        new = NatAddresses.checked(cmd.args[1], cmd.args[2], cmd.args[3])
        logical_port, external_mac, port_range = _port_and_mac(nb, new.type, cmd.args[4:], opts)
        check_stateless(new.type, stateless)
    except NatError as err:
        raise CtlError(str(err)) from None
    if new.type == NatType.SNAT and "--add-route" in opts:
        raise CtlError("routes cannot be added for snat types.")
    dgps = [p for p in lookup.refs(nb, lr, "ports") if p["gateway_chassis"] or p["ha_chassis_group"]]
    dgw = _gateway_port(nb, lr, cmd.args[0], dgps, new.external_ip, opts.get("--gateway-port"))
    for nat in lookup.refs(nb, lr, "nat"):
        found = _existing_nat(nat, new, stateless, dgw, many_dgps=len(dgps) > 1,
                              may_exist="--may-exist" in opts)
        if found is _Existing.SAME:
            with nb.transaction() as txn:
                txn.update("NAT", nat.uuid, logical_port=logical_port, external_mac=external_mac)
        if found is not _Existing.UNRELATED:
            return ""
    options = {"stateless": "true" if stateless else "false"}
    if "--add-route" in opts:
        options["add_route"] = "true"
    NbApi(nb).lr_nat_add(
        lr, type=new.type.value, external_ip=cmd.args[2], logical_ip=new.logical_ip,
        logical_port=logical_port, external_mac=external_mac,
        external_port_range=port_range or "", options=options,
        gateway_port=dgw.uuid if dgw is not None and opts.get("--gateway-port") else None)
    return ""


def _port_and_mac(nb: Database, nat_type: str, rest: list[str],
                  opts: dict[str, str | None]) -> tuple[str | None, str | None, str | None]:
    """The optional LOGICAL_PORT EXTERNAL_MAC [EXTERNAL_PORT_RANGE] (or, with --portrange,
    the port range alone)."""
    logical_port = external_mac = port_range = None
    if len(rest) == 1:
        if "--portrange" not in opts:
            raise CtlError("lr-nat-add with logical_port must also specify external_mac.")
        port_range = _port_range(rest[0])
    elif len(rest) >= 2:
        check_port_and_mac(nat_type, rest[0], None)
        if len(rest) == 2 and "--portrange" in opts:
            raise CtlError("lr-nat-add with logical_port must also specify external_mac.")
        logical_port, external_mac = rest[0], rest[1]
        lookup.lsp_by_name_or_uuid(nb, logical_port)
        check_port_and_mac(nat_type, logical_port, external_mac)
        if len(rest) > 2:
            port_range = _port_range(rest[2])
    return logical_port, external_mac, port_range


def _gateway_port(nb: Database, lr: Row, router: str, dgps: list[Row], external_ip: str,
                  named: str | None) -> Row | None:
    """The distributed gateway port the NAT is on: the one --gateway-port names, else the
    (last) one whose networks hold the external IP; ambiguous with several and none holding it."""
    if named:
        name = named
        dgw = lookup.must(lookup.lrp_by_name_or_uuid(nb, name))
        if dgw.uuid not in lr["ports"]:
            raise CtlError(f"{name} is not a router port of logical router: {router}.")
        if dgw not in dgps:
            raise CtlError(f"{name} is not a distributed gateway router port.")
        return dgw
    ext = ipaddress.ip_address(external_ip)
    inside = [p for p in dgps
              if any(ext in ipaddress.ip_interface(n).network for n in p["networks"])]
    if len(dgps) > 1 and not inside:
        raise CtlError(f"logical router: {router} has multiple distributed gateway ports "
                       "and gateway_port can not be determined from external IP of NAT rule.")
    return inside[-1] if inside else None


class _Existing(Enum):
    """How an existing NAT stands to the one asked for, when --may-exist lets it stand."""
    UNRELATED = "unrelated"
    SAME = "same"  # same type and IPs: --may-exist updates its port and MAC
    SHARED_IP = "shared-ip"  # its external IP in a stateless NAT beside a stateful one


def _existing_nat(nat: Row, new: NatAddresses, stateless: bool, dgw: Row | None,
                  many_dgps: bool, may_exist: bool) -> _Existing:
    """How `nat` stands to the NAT asked for; an error where they clash (or, without
    --may-exist, where it already is that NAT)."""
    old_ext = lookup.normalize_prefix_str(nat["external_ip"])
    old_log = lookup.normalize_prefix_str(nat["logical_ip"])
    if old_ext is None or old_log is None:
        return _Existing.UNRELATED
    snat = nat["type"] == NatType.SNAT
    old_key, old_other = (old_log, old_ext) if snat else (old_ext, old_log)
    new_key, new_other = new.key_ips
    same_gw = not many_dgps or nat["gateway_port"] == (dgw.uuid if dgw else None)
    if nat["type"] == new.type and same_gw and new_key == old_key:
        if new_other != old_other:
            raise CtlError(f"a NAT with this type ({new.type}), "
                           f"{'logical_ip' if snat else 'external_ip'} ({new_key}) already exists")
        if not may_exist:
            raise CtlError(f"{new.external_ip}, {new.logical_ip}: a NAT with this external_ip and "
                           "logical_ip already exists")
        return _Existing.SAME
    if NatType.DNAT_AND_SNAT in (new.type, nat["type"]) and old_ext == new.external_ip and \
            (nat["options"].get("stateless") == "true" or stateless):
        if not may_exist:
            raise CtlError(f"{new.external_ip}, {new.logical_ip}: External ip cannot be shared "
                           "across stateless and stateful NATs")
        return _Existing.SHARED_IP
    return _Existing.UNRELATED


def _port_range(text: str) -> str:
    m = re.fullmatch(r"(\d+)(?:-(\d+))?", text)
    lo, hi = (int(m.group(1)), int(m.group(2) or m.group(1))) if m else (0, -1)
    if not m or not (1 <= lo <= hi <= 65535):
        raise CtlError(f"invalid port range {text}.")
    return text


def lr_nat_del(nb: Database, cmd: ctl.Command, style: Style) -> str:
    """nbctl_lr_nat_del: ROUTER [TYPE [IP] [GATEWAY_PORT]]."""
    lr = lookup.must(lookup.lr_by_name_or_uuid(nb, cmd.args[0]))
    api = NbApi(nb)
    nats = lookup.refs(nb, lr, "nat")
    doomed: list[Row] = []
    if len(cmd.args) == 1:
        doomed = nats
    else:
        nat_type = cmd.args[1]
        if nat_type not in set(NatType):
            raise CtlError(f'{nat_type}: type must be one of "dnat", "snat" and "dnat_and_snat".')
        typed = [n for n in nats if n["type"] == nat_type]

        def ip_of(nat: Row) -> str | None:
            return lookup.normalize_prefix_str(nat["logical_ip"] if nat_type == NatType.SNAT else nat["external_ip"])

        ip = lookup.normalize_prefix_str(cmd.args[2]) if len(cmd.args) > 2 else None
        if len(cmd.args) == 2:
            doomed = typed
        elif len(cmd.args) == 3 and ip is None:
            port = lookup.must(lookup.lrp_by_name_or_uuid(nb, cmd.args[2]))
            doomed = [n for n in typed if n["gateway_port"] == port.uuid]
        elif len(cmd.args) == 3:
            doomed = [n for n in typed if ip_of(n) == ip]
        else:
            if ip is None:
                raise CtlError(f"{cmd.args[2]}: Invalid IP address or CIDR")
            port = lookup.must(lookup.lrp_by_name_or_uuid(nb, cmd.args[3]))
            doomed = [n for n in typed if ip_of(n) == ip and n["gateway_port"] == port.uuid][:1]
            if not doomed and "--if-exists" not in cmd.options:
                raise CtlError(f"no matching NAT with the type ({nat_type}), "
                               f"{'logical_ip' if nat_type == 'snat' else 'external_ip'} ({ip}) "
                               f"and gateway_port ({cmd.args[3]})")
    with nb.transaction():
        for nat in doomed:
            api.delete("NAT", nat.uuid)
    return ""
