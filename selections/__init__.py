"""The three-lepton selection of seed 003 Table II as small pure functions of awkward arrays."""

from selections.cuts import Table2Cuts
from selections.table2 import CUTFLOW, REGIONS, build_selection, cutflow, event_variables, three_leptons

__all__ = [
    "CUTFLOW",
    "REGIONS",
    "Table2Cuts",
    "build_selection",
    "cutflow",
    "event_variables",
    "three_leptons",
]
