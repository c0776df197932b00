"""Parametrised detector response: electron and muon smearing, efficiencies, acceptance."""
