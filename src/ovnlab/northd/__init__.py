"""ovn-northd: NB → SB (datapaths, port bindings, logical flows)."""
