"""The three-lepton selection of seed 003 Table II as small pure functions of awkward arrays."""
