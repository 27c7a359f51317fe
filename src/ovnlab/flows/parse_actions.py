"""Parsing ovs-ofctl actions into typed actions, normalised the way ovs-ofctl prints them in
OpenFlow 1.0 + NXM form (`set_field:MAC->eth_src` becomes `mod_dl_src:MAC`,
`set_field:V->reg15` becomes `load:V->NXM_NX_REG15[]`, `goto_table:N` becomes `resubmit(,N)`)."""

from __future__ import annotations

import ipaddress

from ovnlab.flows.actions import (
    CONTROLLER_REASONS,
    Action,
    Bundle,
    CheckPktLarger,
    Clone,
    Conjunction,
    Controller,
    Ct,
    CtClear,
    DecTtl,
    Load,
    Mod,
    Move,
    Nat,
    Note,
    Output,
    OutputReg,
    Pop,
    Push,
    Resubmit,
    SetField,
    StripVlan,
    SubField,
    loads,
    set_field_of10,
)
from ovnlab.flows.fields import (
    FIELDS,
    OFPP_IN_PORT,
    RESERVED_PORTS,
    SLOT,
    Field,
    lookup_field,
)
from ovnlab.flows.model import (
    FlowError,
)
from ovnlab.flows.values import (
    ETH_SLOTS,
    IP6_SLOTS,
    IP_SLOTS,
    PortMap,
    parse_int,
    parse_ip,
    parse_mac,
    parse_port,
    split_top,
)


def parse_subfield(text: str) -> SubField:
    t = text.strip()
    name, br, rest = t.partition("[")
    f = lookup_field(name)
    if f is None:
        raise FlowError(f"{t}: unknown field `{name}'")
    if not br or rest == "]":
        return SubField(f.name, 0, f.width)
    if not rest.endswith("]"):
        raise FlowError(f"{t}: missing `]' following bit range")
    rng = rest[:-1]
    lo_t, dots, hi_t = rng.partition("..")
    lo = parse_int(lo_t, "bit offset")
    hi = parse_int(hi_t, "bit offset") if dots else lo
    if hi < lo or hi >= f.width:
        raise FlowError(f"{t}: bit range exceeds {f.width}-bit field width")
    return SubField(f.name, lo, hi - lo + 1)


def parse_actions(text: str, *, port_map: PortMap | None = None, in_ct: bool = False,
                  set_fields: list[str] | None = None) -> tuple[Action, ...]:
    """Actions text → typed actions. `set_fields` collects the fields `set_field` names,
    whose prerequisites survive its rewriting into `mod_*` actions."""
    pieces = split_top(text)
    actions: list[Action] = []
    for i, piece in enumerate(pieces):
        if piece.startswith("goto_table") and i != len(pieces) - 1:
            raise FlowError("invalid instruction ordering: apply_actions must appear before "
                            "goto_table, for OpenFlow 1.1+ compatibility")
        if piece == "drop":
            if len(pieces) > 1:
                raise FlowError('"drop" must not be accompanied by any other action or '
                                "instruction")
            continue
        actions.extend(_parse_action(piece, port_map, in_ct, set_fields))
    if any(isinstance(a, Conjunction) for a in actions):
        for a in actions:
            if not isinstance(a, Conjunction | Note):
                raise FlowError('"conjunction" actions may be used along with "note" but not '
                                "any other kind of action")
    return tuple(actions)


def _name_arg(piece: str) -> tuple[str, str | None, str | None]:
    """`name:arg`, `name(args)` or `name=arg` → (name, colon/equals arg, paren args)."""
    for i, ch in enumerate(piece):
        if ch == "(":
            if not piece.endswith(")"):
                raise FlowError(f"{piece}: syntax error at `{piece[i:]}'")
            return piece[:i], None, piece[i + 1:-1]
        if ch in ":=":
            return piece[:i], piece[i + 1:], None
    return piece, None, None


def _parse_action(piece: str, port_map: PortMap | None, in_ct: bool,
                  set_fields: list[str] | None = None) -> list[Action]:
    if piece.lower().startswith("check_pkt_larger("):
        return [_check_pkt_larger(piece)]
    name, arg, paren = _name_arg(piece)
    lname = name.lower()
    if lname in ("output", "resubmit", "load", "move", "set_field", "goto_table", "push",
                 "pop", "note", "enqueue") and arg is None and paren is None:
        raise FlowError(f"{piece}: missing argument to {name} action")
    if lname == "output":
        if paren is not None:
            raise FlowError(f"{piece}: unsupported output syntax")
        assert arg is not None
        return [OutputReg(parse_subfield(arg)) if "[" in arg else _output(arg, port_map)]
    if lname in ("normal", "flood", "all", "local", "in_port", "table") and arg is None \
            and paren is None:
        return [Output(RESERVED_PORTS[name.upper()])]
    if lname == "controller":
        return [_controller(arg, paren)]
    if lname == "resubmit":
        return [_resubmit(arg, paren, port_map)]
    if lname == "goto_table":
        assert arg is not None
        return [Resubmit(None, _table(arg))]
    if lname == "load":
        assert arg is not None
        return _load(arg, in_ct)
    if lname == "move":
        assert arg is not None
        return [_move(arg, in_ct)]
    if lname == "set_field":
        assert arg is not None
        return _set_field_noted(arg, in_ct, set_fields)
    if lname.startswith("mod_"):
        return _mod(lname, arg or "", piece)
    if lname == "dec_ttl":
        return [DecTtl(None if paren is None else tuple(
            parse_int(x, "controller id") for x in split_top(paren)))]
    if lname == "ct":
        return [_ct(paren or "", port_map)]
    if lname == "ct_clear":
        return [CtClear()]
    if lname == "strip_vlan" and arg is None and paren is None:
        return [StripVlan()]
    if lname == "clone":
        return [Clone(parse_actions(paren or "", port_map=port_map, set_fields=set_fields))]
    if lname == "conjunction":
        return [_conjunction(paren or "", piece)]
    if lname == "bundle" and paren is not None:
        return [_bundle(paren, port_map)]
    if lname == "note":
        assert arg is not None
        return [_note(arg)]
    if lname in ("push", "pop"):
        assert arg is not None
        return [(Push if lname == "push" else Pop)(parse_subfield(arg))]
    if arg is None and paren is None and (name.isdigit() or (port_map and name in port_map)):
        return [_output(name, port_map)]
    raise FlowError(f"unknown action {name}")


def _move(arg: str, in_ct: bool) -> Move:
    src_t, arrow, dst_t = arg.partition("->")
    if not arrow:
        raise FlowError(f"{arg}: missing `->' following source")
    src, dst = parse_subfield(src_t), parse_subfield(dst_t)
    if src.nbits != dst.nbits:
        raise FlowError(f"{arg}: source field is {src.nbits} bits wide but destination "
                        f"is {dst.nbits} bits wide")
    _check_writable(FIELDS[dst.field], in_ct)
    return Move(src, dst)


def _set_field_noted(arg: str, in_ct: bool, set_fields: list[str] | None) -> list[Action]:
    """`set_field`, noting the field set for the prerequisite check (`set_fields`)."""
    acts = _set_field(arg, in_ct)
    if set_fields is not None:
        f = lookup_field(arg.rpartition("->")[2].strip())
        if f is not None:
            set_fields.append(f.name)
    return acts


def _note(arg: str) -> Note:
    hexes = arg.replace(".", "").replace(" ", "")
    try:
        data = bytes.fromhex(hexes)
    except ValueError:
        raise FlowError(f"{arg}: bad hex digit in `note' argument") from None
    return Note(Note.padded(data))


def _check_pkt_larger(piece: str) -> CheckPktLarger:
    """`check_pkt_larger(LEN)->DST`, DST a single bit (ofp-actions.c parse_CHECK_PKT_LARGER)."""
    size, close, rest = piece[len("check_pkt_larger("):].partition(")")
    if not close or not rest.startswith("->"):
        raise FlowError(f"{piece}: expected check_pkt_larger(len)->dst")
    dst = parse_subfield(rest[2:])
    if dst.nbits != 1:
        raise FlowError(f"{piece}: Only 1-bit destination field is allowed")
    _check_writable(FIELDS[dst.field], False)
    return CheckPktLarger(parse_int(size.strip(), "check_pkt_larger length"), dst)


def _output(arg: str, port_map: PortMap | None) -> Output:
    try:
        port = parse_port(arg, port_map, "output")
    except FlowError:
        raise FlowError(f"{arg}: output to unknown port") from None
    return Output(port)


def _table(text: str) -> int:
    t = parse_int(text, "table")
    if not 0 <= t <= 254:
        raise FlowError(f"{text}: resubmit to unknown table")
    return t


def _resubmit(arg: str | None, paren: str | None, port_map: PortMap | None) -> Resubmit:
    if paren is None:
        assert arg is not None
        return Resubmit(parse_port(arg, port_map, "resubmit"), None)
    port_t, _, table_t = paren.partition(",")
    port_t, table_t = port_t.strip(), table_t.strip()
    port = None
    if port_t and port_t.lower() != "in_port":
        port = parse_port(port_t, port_map, "resubmit")
    table = _table(table_t) if table_t else None
    if port is None and table is None:
        raise FlowError(f"{paren}: at least one \"in_port\" or \"table\" must be specified "
                        "on resubmit")
    return Resubmit(port if port != OFPP_IN_PORT else None, table)


def _check_writable(f: Field, in_ct: bool) -> None:
    if f.name in ("ct_mark", "ct_label"):
        if not in_ct:
            raise FlowError("cannot set CT fields outside of ct action")
    elif in_ct:
        raise FlowError("ct action only supports setting ct_mark and ct_label")
    if not f.writable:
        raise FlowError(f"{f.name} is read-only")


def _load(arg: str, in_ct: bool) -> list[Action]:
    value_t, arrow, dst_t = arg.partition("->")
    if not arrow:
        raise FlowError(f"{arg}: missing `->' following value")
    value = parse_int(value_t, "load value")
    dst = parse_subfield(dst_t)
    f = FIELDS[dst.field]
    _check_writable(f, in_ct)
    if value >> dst.nbits:
        raise FlowError(f"{arg}: value {value:#x} does not fit into {dst.nbits} bits")
    return loads(dst.field, dst.ofs, dst.nbits, value)


def _set_field_value(f: Field, text: str) -> int:
    slot = next(name for name, idx in SLOT.items() if idx == f.segments[0][0])
    if f.width == 48 or slot in ETH_SLOTS:
        return parse_mac(text, f.name)
    if slot in IP_SLOTS and f.width == 32 and "." in text:
        return parse_ip(text, f.name)
    if slot in IP6_SLOTS:
        return int(ipaddress.IPv6Address(text))
    return parse_int(text, f"{f.name} value")


def _set_field(arg: str, in_ct: bool) -> list[Action]:
    value_t, arrow, field_t = arg.rpartition("->")
    if not arrow:
        raise FlowError(f"{arg}: missing `->'")
    f = lookup_field(field_t.strip())
    if f is None:
        raise FlowError(f"{field_t}: unknown field")
    _check_writable(f, in_ct)
    v_t, _, m_t = value_t.partition("/")
    value = _set_field_value(f, v_t)
    mask = _set_field_value(f, m_t) if m_t else None
    full = (1 << f.width) - 1
    if value > full:
        raise FlowError(f"{v_t} is not a valid value for field {f.name}")
    if f.mod:
        if mask is not None and mask != full:
            raise FlowError(f"{arg}: masked set_field to {f.name} is not supported")
        if f.name == "nw_tos" and value & 3:
            raise FlowError(f"{v_t} is not a valid value for field nw_tos")
    return set_field_of10(SetField(f.name, value & (full if mask is None else mask), mask))


def _mod(name: str, arg: str, piece: str) -> list[Action]:
    kind = name[4:]
    if kind in ("dl_src", "dl_dst"):
        return [Mod(kind, parse_mac(arg, kind))]
    if kind in ("nw_src", "nw_dst"):
        return [Mod(kind, parse_ip(arg, kind))]
    if kind in ("tp_src", "tp_dst"):
        return [Mod(kind, parse_int(arg, kind))]
    if kind == "nw_tos":
        tos = parse_int(arg, kind)
        if tos & 3:
            raise FlowError(f"{arg}: not a valid TOS")
        return [Mod("nw_tos", tos)]
    if kind == "nw_ttl":
        return [Load(SubField.whole("nw_ttl"), parse_int(arg, kind) & 0xFF)]
    if kind == "vlan_vid":
        return [Mod("vlan_vid", parse_int(arg, kind) & 0x0FFF)]
    if kind == "vlan_pcp":
        return [Mod("vlan_pcp", parse_int(arg, kind) & 0x7)]
    raise FlowError(f"unknown action {name}")


def _controller(arg: str | None, paren: str | None) -> Controller:
    if paren is None:
        return Controller(max_len=parse_int(arg, "max_len") if arg else 65535)
    kw: dict[str, object] = {}
    for item in split_top(paren):
        key, eq, value = item.partition("=")
        if key == "max_len":
            kw["max_len"] = parse_int(value, key)
        elif key == "reason":
            if value not in CONTROLLER_REASONS:
                raise FlowError(f"unknown reason \"{value}\"")
            kw["reason"] = value
        elif key == "id":
            kw["controller_id"] = parse_int(value, key)
        elif key == "userdata":
            try:
                kw["userdata"] = bytes.fromhex(value.replace(".", ""))
            except ValueError:
                raise FlowError(f"{value}: bad hex digit in userdata") from None
        elif key == "pause" and not eq:
            kw["pause"] = True
        else:
            raise FlowError(f"{item}: unknown controller action argument")
    return Controller(**kw)  # type: ignore[arg-type]


BUNDLE_FIELDS = ("eth_src", "symmetric_l4", "symmetric_l3l4", "symmetric_l3l4+udp",
                 "nw_src", "nw_dst", "symmetric_l3")


def _bundle(paren: str, port_map: PortMap | None) -> Bundle:
    """lib/bundle.c bundle_parse: fields, basis, algorithm, member type, `members:` list."""
    tokens = [t for t in paren.replace(",", " ").split() if t]
    if len(tokens) < 5:
        raise FlowError(f"{paren}: not enough arguments to bundle action")
    fields, basis_t, algorithm, member_type, delim = tokens[:5]
    rest = tokens[5:]
    if ":" in delim:
        delim, _, first = delim.partition(":")
        rest = ([first] if first else []) + rest
    if delim not in ("members", "slaves"):
        raise FlowError(f"{paren}: missing member delimiter, expected `members', got `{delim}'")
    if fields not in BUNDLE_FIELDS:
        raise FlowError(f"{paren}: unknown fields `{fields}'")
    if algorithm not in ("active_backup", "hrw"):
        raise FlowError(f"{paren}: unknown algorithm `{algorithm}'")
    if member_type != "ofport":
        raise FlowError(f"{paren}: unknown member_type `{member_type}'")
    basis = parse_int(basis_t, "basis")
    members = tuple(_output(t, port_map).port for t in rest)
    return Bundle(fields, basis, algorithm, members)


def _conjunction(paren: str, piece: str) -> Conjunction:
    id_t, _, kn = paren.partition(",")
    k_t, _, n_t = kn.partition("/")
    try:
        cid, k, n = int(id_t), int(k_t), int(n_t)
    except ValueError:
        raise FlowError(f"\"{piece}\": syntax error in conjunction") from None
    if not (2 <= n <= 64 and 1 <= k <= n):
        raise FlowError(f"\"{piece}\": number of clauses must be between 2 and 64 and k "
                        "between 1 and n")
    return Conjunction(cid, k, n)


def _ct(paren: str, port_map: PortMap | None) -> Ct:
    commit = force = False
    table: int | None = None
    zone = 0
    zone_src: SubField | None = None
    acts: list[Action] = []
    alg: str | None = None
    for item in split_top(paren):
        key, eq, value = item.partition("=")
        if item == "commit":
            commit = True
        elif item == "force":
            commit = force = True
        elif key == "table":
            table = _table(value)
        elif key == "zone":
            if value[:1].isdigit():
                zone = parse_int(value, "zone")
            else:
                zone_src = parse_subfield(value)
        elif item == "nat" or item.startswith("nat("):
            acts.append(_nat(item[4:-1] if item.startswith("nat(") else None))
        elif item.startswith("exec("):
            acts.extend(parse_actions(item[5:-1], port_map=port_map, in_ct=True))
        elif key == "alg":
            alg = value
        else:
            raise FlowError(f"{item}: invalid argument to \"ct\" action")
    needs_commit = any(not isinstance(a, Nat) or a.kind is not None for a in acts)
    if needs_commit and not commit:
        raise FlowError("CT action requires commit flag if actions other than NAT without "
                        "arguments are specified.")
    return Ct(commit, force, table, zone, zone_src, tuple(acts), alg)


def _nat(args: str | None) -> Nat:
    if args is None:
        return Nat()
    kind: str | None = None
    ip_min = ip_max = port_min = port_max = None
    flags: list[str] = []
    for item in split_top(args):
        key, eq, value = item.partition("=")
        if key in ("src", "dst"):
            if kind is not None:
                raise FlowError("May only specify one of \"src\" or \"dst\".")
            kind = key
            if eq:
                addrs, _, ports = value.partition(":")
                lo, _, hi = addrs.partition("-")
                ip_min = parse_ip(lo, "nat")
                ip_max = parse_ip(hi, "nat") if hi else None
                if ports:
                    plo, _, phi = ports.partition("-")
                    port_min = parse_int(plo, "nat port")
                    port_max = parse_int(phi, "nat port") if phi else None
        elif item in ("random", "persistent", "hash"):
            flags.append(item)
        else:
            raise FlowError(f"Invalid NAT argument \"{item}\"")
    if not ip_min:  # OVS treats 0.0.0.0 as "no address" (and then ignores ports)
        ip_min = ip_max = port_min = port_max = None
    if kind is None and (flags or ip_min is not None):
        raise FlowError("Flags allowed only with \"src\" or \"dst\".")
    return Nat(kind, ip_min, ip_max, port_min, port_max, tuple(flags))
