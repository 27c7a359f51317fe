"""ovn-controller: per chassis, Southbound → OpenFlow for br-int (OVN 22.03 layout).

Public API: `Controller(sb, vswitch)` (the chassis named by the vswitch's Open_vSwitch
external_ids) with `.run()`, `.run_urgent()` and `.pending` (what cannot wait for an
observer), `.run_if_pending()`, `.flows()`, `.dump_flows()`, `.recompute()`,
`.set_chassis_alive(name, alive)`, `.packet_in(event)`, `.periodic(now)`,
`.engine_stats()`; `SharedCompiles(sb)`, handed to every `Controller(...,
compiles=)` of one process so that they share compiled logical flows; `PacketOut`; the
pure compiler `compile_lflow(...)`. Flows are the flow model's `ovnlab.flows.Flow`,
built directly (no text), as the datapath runs them.

Where each part of OVN's ovn-controller lives (ovn-org/ovn branch-22.03, controller/):

| OVN | here |
|---|---|
| ovn-controller.c: main loop, engine nodes and their wiring | `controller.py` (`Controller.run`, `wire`) on `ovnlab.incproc` (lib/inc-proc-eng.c) |
| (none: the lab's) SB changes left until a packet or a tool observes the chassis | `deferral.py`, `Controller.run_urgent` |
| chassis.c: settings from Open_vSwitch external_ids, Chassis/Encap/Chassis_Private rows, nb_cfg | `chassis.py` |
| binding.c, en_runtime_data: port claims, local datapaths, residency | `binding.py` |
| ha-chassis.c: gateway chassis order, is this chassis active | `ha_chassis.py` |
| bfd.c: BFD peers, bfd:enable on tunnels, active tunnels | `bfd.py` |
| encaps.c: a Geneve port per remote chassis | `encaps.py` |
| patch.c: localnet patch ports to the provider bridges | `patch.py` |
| en_ct_zones (update_ct_zones) | `ct_zones.py` |
| lflow.c, en_lflow_output: lflows compiled per local datapath, address-set patching | `lflow_output.py`; one lflow → flows: `lflow.py`; lflow-cache.c, shared by the chassis of the process: `lflow_cache.py` |
| lib/expr.c (parse, annotate, normalize, to matches) | `expr_parse.py`, `expr.py`; symbols (lib/logical-fields.c) `symtab.py`; lexer `lexer.py` |
| lib/actions.c | `actions.py` (per-action parsers), `assign.py` (assignments, lookups), `encode.py` (table numbers, shared plumbing), `dhcp.py` |
| physical.c, en_pflow_output (and lflow.c's neighbour flows) | flows: `physical.py`; kept per row: `pflow_output.py`; multicast groups per member: `mc_groups.py` |
| ofctrl.c: desired vs installed flows, the diff sent to br-int | `ofctrl.py` |
| pinctrl.c: packet-ins, GARPs, buffered packets, DHCP replies, ICMP errors | `pinctrl.py`, `dhcp_reply.py`, `icmp.py` |
| OpenFlow fields, matches and actions (lib/meta-flow, ofp-actions) | `ovnlab.flows` (`fields.py`, `match.py`, `actions.py`, `oxm.py` for the OpenFlow 1.5 nested in userdata) |
| actions.h opcodes, controller userdata | `userdata.py` |
"""

from ovnlab.controller.controller import Controller
from ovnlab.controller.lflow import LflowEnv, compile_lflow, cookie_of
from ovnlab.controller.lflow_cache import SharedCompiles
from ovnlab.controller.ofctrl import PacketOut

__all__ = ["Controller", "LflowEnv", "PacketOut", "SharedCompiles", "compile_lflow",
           "cookie_of"]
