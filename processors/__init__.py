"""Coffea processors: read NanoAOD-like files, smear, select and fill m_ll histograms."""
