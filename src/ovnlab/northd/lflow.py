"""One logical flow as northd computes it, before it becomes an SB Logical_Flow row."""

from __future__ import annotations

from dataclasses import dataclass

from ovnlab.northd.stages import Stage, stage


@dataclass(frozen=True, slots=True)
class LFlow:
    """`datapath` is the NB Logical_Switch/Logical_Router UUID the flow belongs to;
    `hint` the NB row that caused it (ovn-northd's stage-hint) and `source` the northd.c
    function ovnlab mirrors (provenance); `io_port` fills `tags:in_out_port` as
    ovn_lflow_add_with_lport_and_hint() does."""

    datapath: str
    stage: Stage
    priority: int
    match: str
    actions: str
    hint: str | None
    source: str
    io_port: str | None = None

    @property
    def key(self) -> tuple[str, str, int, int, str, str]:
        """Identity in the SB (ovn_lflow_find): same datapath/stage/priority/match/actions."""
        return (self.datapath, self.stage.pipeline.value, self.stage.table, self.priority,
                self.match, self.actions)


class FlowSink:
    """Collects the flows of one generator run (ovn_lflow_add and friends)."""

    __slots__ = ("flows",)

    def __init__(self) -> None:
        self.flows: list[LFlow] = []

    def add(self, datapath: str, stage_name: str, priority: int, match: str, actions: str,
            source: str, hint: str | None = None, io_port: str | None = None) -> None:
        self.flows.append(LFlow(datapath, stage(stage_name), priority, match, actions,
                                hint, source, io_port))


def json_key(name: str) -> str:
    """A port name quoted as northd's op->json_key (a JSON string)."""
    if '"' in name or "\\" in name:
        name = name.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{name}"'
