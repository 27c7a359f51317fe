"""What generators read: the NB database, its index, and cached datapath contexts."""

from __future__ import annotations

from ovnlab.northd.context import RouterCtx, SwitchCtx, router_ctx, switch_ctx
from ovnlab.northd.model import NBIndex, lrp_networks
from ovnlab.ovsdb import Database, Row


class Env:
    def __init__(self, nb: Database, idx: NBIndex) -> None:
        self.nb = nb
        self.idx = idx
        self._sw: dict[str, SwitchCtx] = {}
        self._rt: dict[str, RouterCtx] = {}

    # -- rows
    def row(self, table: str, uuid: str) -> Row | None:
        return self.nb.tables[table].get(uuid)

    def lsp_named(self, name: str) -> Row | None:
        u = self.idx.lsp_by_name.get(name)
        return None if u is None else self.nb.tables["Logical_Switch_Port"].get(u)

    def lrp_named(self, name: str) -> Row | None:
        u = self.idx.lrp_by_name.get(name)
        return None if u is None else self.nb.tables["Logical_Router_Port"].get(u)

    def peer_lrp(self, lsp: Row) -> Row | None:
        """ovn_port_get_peer() for a router-type LSP."""
        if lsp["type"] != "router":
            return None
        name = lsp["options"].get("router-port")
        lrp = self.lrp_named(name) if name else None
        if lrp is None or lrp_networks(lrp) is None or lrp.uuid not in self.idx.lr_of_lrp:
            return None
        return lrp

    def peer_lsp(self, lrp: Row) -> Row | None:
        for u in sorted(self.idx.router_lsps_by_peer.get(lrp["name"], ())):
            if u in self.idx.ls_of_lsp:
                return self.nb.tables["Logical_Switch_Port"].get(u)
        return None

    # -- contexts
    def switch(self, ls_uuid: str) -> SwitchCtx | None:
        ctx = self._sw.get(ls_uuid)
        if ctx is None:
            ls = self.nb.tables["Logical_Switch"].get(ls_uuid)
            if ls is None:
                return None
            ctx = self._sw[ls_uuid] = switch_ctx(self.nb, self.idx, ls)
        return ctx

    def router(self, lr_uuid: str) -> RouterCtx | None:
        ctx = self._rt.get(lr_uuid)
        if ctx is None:
            lr = self.nb.tables["Logical_Router"].get(lr_uuid)
            if lr is None:
                return None
            ctx = self._rt[lr_uuid] = router_ctx(self.nb, self.idx, lr)
        return ctx

    def cached_switch(self, ls_uuid: str) -> SwitchCtx | None:
        return self._sw.get(ls_uuid)

    def cached_router(self, lr_uuid: str) -> RouterCtx | None:
        return self._rt.get(lr_uuid)

    def forget(self, dp_uuid: str) -> None:
        self._sw.pop(dp_uuid, None)
        self._rt.pop(dp_uuid, None)
