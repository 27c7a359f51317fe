"""ovn-northd: NB → SB (datapaths, port bindings, logical flows)."""

from ovnlab.northd.engine import Northd, Provenance, RunStats
from ovnlab.northd.stages import STAGES, Stage, stage

__all__ = ["STAGES", "Northd", "Provenance", "RunStats", "Stage", "stage"]
