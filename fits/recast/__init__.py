"""Neutrino-experiment recasts (MINERvA, CHARM-II, MiniBooNE, MicroBooNE) as pyhf channels."""
