"""ovn-trace's logical evaluator (ovn-org/ovn branch-22.03 utilities/ovn-trace.c).

A packet ("microflow") is traced through the logical flows of a Southbound database, table
by table, datapath by datapath, without any chassis: `db` reads the SB (datapaths, ports,
multicast groups, MAC_Bindings, flows), `uflow` holds the packet as OVS's `struct flow`,
`acts` parses and formats logical actions, `engine` runs them into a tree of trace nodes
and `render` prints that tree as `--detailed`, `--summary` or `--minimal`.

Matches are parsed and annotated by the controller's own expression code
(`ovnlab.controller.expr`), then evaluated on the microflow instead of compiled to OpenFlow.
"""
