"""Fixtures shared by the end-to-end tests: one tiny ``darknu run`` per test session."""

from __future__ import annotations

import pytest

from darknu.config import load_config
from darknu.parallel import ExecutorSpec
from darknu.run import run

TINY = """
base = "quick"
[run]
name = "tiny"
seed = 7
[samples]
signal_events = 300
signal_jobs = 2
[samples.scan_mzd_fixed]
m_ZD = 0.03
m_N = [1.0]
[samples.scan_mn_3mzd]
m_ZD = [0.3]
[samples.background]
processes = ["W_munu_gstar"]
events = 400
jobs = 2
methods = {W_munu_gstar = "sliced_fsrq"}  # thinned, grouped copies through every stage
[processing]
electron_pt_min = [5.0, 1.0]
chunksize = 200
[limits]
scenarios = ["run2"]
methods = ["pyhf", "window"]
[recast]
experiments = ["minerva_le"]
m_N = [1.0]
events = 500
combine = true
"""


@pytest.fixture(scope="module")
def tiny_cfg(tmp_path_factory):
    f = tmp_path_factory.mktemp("cfg") / "tiny.toml"
    f.write_text(TINY)
    return load_config(f)



@pytest.fixture(scope="session")
def tiny_cfg(tmp_path_factory):
    f = tmp_path_factory.mktemp("cfg") / "tiny.toml"
    f.write_text(TINY)
    return load_config(f)


@pytest.fixture(scope="session")
def local_run(tiny_cfg, tmp_path_factory):
    """Output directory of the tiny configuration run on local processes."""
    out = tmp_path_factory.mktemp("local")
    run(tiny_cfg, out_dir=out, executor=ExecutorSpec("futures", workers=2))
    return out
