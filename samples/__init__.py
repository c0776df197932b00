"""Event generation: Pythia 8 signal and background samples written as NanoAOD-like ROOT files."""
