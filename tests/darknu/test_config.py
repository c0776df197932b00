"""Configuration files: built-ins load, bad files fail with file, line and key."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from darknu.config import BUILTIN, load_config
from darknu.errors import ConfigError


@pytest.mark.parametrize("name", BUILTIN)
def test_builtin_configs_load(name):
    cfg = load_config(name)
    assert cfg.name == name
    for m_n, m_zd in cfg.mass_points():
        assert 0 < m_zd < m_n < 80.379


def test_background_method_per_process(tmp_path):
    both = {"W_munu_gstar": "sliced_fsrq", "W_enu_gstar": "sliced_fsrq"}
    assert load_config("quick").get("samples.background.methods") == both
    f = tmp_path / "mine.toml"  # a user file overrides one process, inherits the other
    f.write_text('base = "quick"\n[samples.background]\nmethods = {W_munu_gstar = "forced"}\n')
    cfg = load_config(f)
    assert cfg.get("samples.background.methods") == {**both, "W_munu_gstar": "forced"}


def test_background_scale_per_process(tmp_path):
    assert load_config("quick").get("samples.background.scale") == {}
    assert load_config("hllhc").get("samples.background.scale") == {"Z_ll_gstar": 40}
    f = tmp_path / "mine.toml"  # a user file adds a process, inherits the base's factor
    f.write_text('base = "hllhc"\n[samples.background]\nscale = {ttbar_gstar = 2}\n')
    assert load_config(f).get("samples.background.scale") == {"Z_ll_gstar": 40, "ttbar_gstar": 2}


def test_background_scale_multiplies_events_and_jobs(tmp_path):
    """The background stages get events x scale and jobs x scale (processes not listed: x 1)."""
    from darknu.parallel import ExecutorSpec
    from darknu.run import _sample_stages

    f = tmp_path / "mine.toml"
    f.write_text('base = "quick"\n[samples.background]\nevents = 1000\njobs = 2\n'
                 'scale = {Z_ll_gstar = 3}\n')
    cfg = load_config(f)
    stages = {}

    class Recorder:  # a StageRunner that records instead of running
        force = False

        def run(self, stage):
            stages[stage.name] = stage.inputs

    _sample_stages(cfg, tmp_path, ExecutorSpec("iterative"), Recorder(), seed=1)
    assert (stages["background:Z_ll_gstar"]["events"], stages["background:Z_ll_gstar"]["jobs"]) == (3000, 6)
    assert (stages["background:W_enu_gstar"]["events"], stages["background:W_enu_gstar"]["jobs"]) == (1000, 2)


def test_user_file_overrides_base(tmp_path):
    f = tmp_path / "mine.toml"
    f.write_text('base = "quick"\n[samples]\nsignal_events = 123\n')
    cfg = load_config(f)
    assert cfg.get("samples.signal_events") == 123
    assert cfg.get("processing.detector") == "run2"  # inherited


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ('base = "quick"\n[samples]\nsignal_event = 1\n', r"line 3.*unknown key 'samples.signal_event'.*samples.signal_events"),
        ('base = "quick"\n[samples]\nsignal_events = -3\n', r"line 3.*samples.signal_events = -3 is invalid"),
        ('base = "quick"\n[processing]\ndetector = "lep"\n', r"line 3.*detector = 'lep'.*one of run2, hllhc"),
        ('base = "quick"\n[executor]\nkind = "spark"\n', r"kind = 'spark'.*iterative, futures, dask"),
        ('base = "quick"\n[samples.scan_mzd_fixed]\nm_ZD = 0.5\nm_N = [0.3]\n', r"unphysical: need m_ZD < m_N"),
        ('base = "quick"\n[samples.scan_mzd_fixed]\nm_N = [100.0]\n', r"m_W"),
        ('base = "quick"\n[samples]\nsignal_events = "many"\n', r"signal_events = 'many' is invalid"),
        ('base = "quick"\n[samples\n', r"malformed TOML.*line 2"),
        ('base = "lep"\n', r"base = 'lep' is invalid"),
        ('[run]\nname = "x"\n', r"missing key"),
        ('base = "quick"\n[limits]\nscenarios = ["run3"]\n', r"scenarios = \['run3'\].*run2, hllhc"),
        ('base = "quick"\n[samples.background]\nmethods = {Z_ll_gstar = "sliced_fsrq"}\n',
         r"line 3.*methods.*sliced methods for W_munu_gstar"),
        ('base = "quick"\n[samples.background]\nmethods = {W_munu_gstar = "fast"}\n',
         r"methods = \{'W_munu_gstar': 'fast', .*\} is invalid"),
        ('base = "quick"\n[samples.background]\nscale = {Z_ll_gstar = 0}\n',
         r"line 3.*scale = \{'Z_ll_gstar': 0\} is invalid.*integer factor >= 1"),
        ('base = "quick"\n[samples.background]\nscale = {Z_ll_gstar = 2.5}\n',
         r"scale = \{'Z_ll_gstar': 2.5\} is invalid"),
        ('base = "quick"\n[samples.background]\nscale = {Zjets = 2}\n',
         r"scale = \{'Zjets': 2\} is invalid"),
    ],
)
def test_malformed_config_names_file_line_and_key(tmp_path, text, match):
    f = tmp_path / "bad.toml"
    f.write_text(text)
    with pytest.raises(ConfigError, match=match) as exc:
        load_config(f)
    assert "bad.toml" in str(exc.value)


def test_unknown_builtin_lists_valid_names():
    with pytest.raises(ConfigError, match="quick, run2, hllhc"):
        load_config("nonexistent-config")


@settings(max_examples=60, deadline=None)
@given(
    key=st.sampled_from(["signal_events", "signal_jobs", "sqrt_s_TeV", "hadron_level"]),
    value=st.one_of(st.integers(-5, 5), st.floats(allow_nan=True), st.text(max_size=5), st.booleans()),
)
def test_config_loader_never_crashes_uncontrolled(tmp_path_factory, key, value):
    import tomli_w

    f = tmp_path_factory.mktemp("cfg") / "c.toml"
    f.write_text('base = "quick"\n' + tomli_w.dumps({"samples": {key: value}}))
    try:
        cfg = load_config(f)
    except ConfigError as exc:
        assert "c.toml" in str(exc)
    else:
        assert cfg.get(f"samples.{key}") == value


def test_builtin_name_wins_over_a_directory_of_that_name(tmp_path, monkeypatch):
    # `darknu run --out quick` then `darknu run` from the same directory must still work
    (tmp_path / "quick").mkdir()
    monkeypatch.chdir(tmp_path)
    assert load_config("quick").name == "quick"
