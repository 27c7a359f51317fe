"""ovn-northd: NB → SB (datapaths, port bindings, logical flows)."""

from ovnlab.northd.engine import Northd, RunStats
from ovnlab.northd.stages import STAGES, Stage, stage

__all__ = ["STAGES", "Northd", "RunStats", "Stage", "stage"]
