"""Compiled logical flows shared by the chassis of one process (lflow.c's lflow cache,
LCACHE_T_MATCHES, kept once for every emulated chassis instead of once per chassis).

What a logical flow compiles to on a datapath depends on the flow, the datapath, and
the answers the compiler got from its chassis: each port name looked up, each
`is_chassis_resident()`, each address set and each port group (seen through the ports
bound here). An entry keeps those questions with the answers one chassis gave; another
chassis that gives the same answers takes the same flows (the very objects, so the
flows identical on many chassis are held once). `related_only` then drops, per chassis,
the flows of ports that are not local to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ovnlab.controller.lflow import Compiled, LflowEnv, compile_all_ports
from ovnlab.controller.sb_index import SbIndex
from ovnlab.ovsdb import Database, Row

MAX_VARIANTS = 8  # answer sets kept per (flow, datapath): resident or not, pg members...
@dataclass(frozen=True, slots=True)
class _Entry:
    answers: tuple[tuple[str, Any], ...]  # (ref, what the chassis answered)
    compiled: Compiled


def answer(env: LflowEnv, ref: str) -> Any:
    """What `env` says to one of the questions a compile recorded in its refs."""
    if ref.startswith("resident:"):
        return env.is_chassis_resident(ref[len("resident:"):])
    if ref.startswith("$"):
        return tuple(env.address_sets.get(ref[1:], ()))
    if ref.startswith("@"):
        return tuple(env.port_groups.get(ref[1:], ()))
    return env.lookup_port(ref)


class SharedCompiles:
    """The compiled flows of one Southbound database's logical flows, by flow and
    datapath, for every controller of the process that reads that database. An entry
    holds while its row keeps its match and actions (forget_stale drops the others)."""

    def __init__(self, sb: Database) -> None:
        self.sb = sb
        self._entries: dict[tuple[Any, ...], list[_Entry]] = {}
        self._keys_of: dict[str, set[tuple[Any, ...]]] = {}  # lflow uuid → its keys
        # the SB indexes every chassis reads, kept once like the compiles
        self.index = SbIndex(sb)

    def clear(self) -> None:
        self._entries.clear()
        self._keys_of.clear()

    def compile(self, lf: Row, env: LflowEnv, template: str | None = None) -> Compiled:
        """`lf` on the datapath `env` describes, before related_only(); `template`: its
        match with one set written as an address set, to be compiled instead."""
        key = (lf.uuid, _content(lf), template, env.dp_key, env.is_switch,
               env.common_nat_zone)
        variants = self._entries.get(key)
        for e in variants or ():
            if all(answer(env, ref) == said for ref, said in e.answers):
                return e.compiled
        comp = compile_all_ports(uuid=lf.uuid, pipeline=lf["pipeline"],
                                 table_id=lf["table_id"], priority=lf["priority"],
                                 match=lf["match"] if template is None else template,
                                 actions=lf["actions"], env=env)
        entry = _Entry(tuple((ref, answer(env, ref)) for ref in sorted(comp.refs)), comp)
        if variants is None:
            self._entries[key] = [entry]
            self._keys_of.setdefault(lf.uuid, set()).add(key)
        else:
            variants.insert(0, entry)
            del variants[MAX_VARIANTS:]
        return comp

    def forget_stale(self, uuid: str) -> None:
        """A Logical_Flow changed or went: drop what its old content compiled to."""
        keys = self._keys_of.get(uuid)
        if not keys:
            return
        row = self.sb.tables["Logical_Flow"].get(uuid)
        content = None if row is None else _content(row)
        for key in [k for k in keys if k[1] != content]:
            keys.discard(key)
            del self._entries[key]
        if not keys:
            del self._keys_of[uuid]


def _content(lf: Row) -> tuple[Any, ...]:
    return (lf["pipeline"], lf["table_id"], lf["priority"], lf["match"], lf["actions"])
