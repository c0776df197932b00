"""pyhf statistical models: sideband bump-hunt limits, neutrino recasts and their combination.

LHC limits (issue 4):

- :mod:`fits.projections`: Run 2 / HL-LHC scenarios from ``fits/data/projections.toml``.
- :mod:`fits.lhc`: one pyhf workspace per mass point (``build_workspace``), channels
  ``lhc_{ee,mumu}_{prompt,displaced}``, POI ``mu`` = |U_μ4|²/1e-4.
- :mod:`fits.limits`: expected 95% CL CLs limits with bands, retries, ``compute_limits``.
- :mod:`fits.window`: the seed's S/√B window and displaced ≥ 50 events cross-checks.
- :mod:`fits.results`: ``limits.json`` (docs/limits-schema.md) and workspace writer.
- :mod:`fits.plots`: figures analogous to seed 003 Figs. 3–4 and 6–9.
- :mod:`fits.cli`: ``darknu limits``.
"""
