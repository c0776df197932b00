"""darknu: LHC search for dark neutrinos in W -> mu N_D, with neutrino-experiment recasts.

The analysis itself lives in the top-level packages ``samples`` (event generation),
``smearing`` (detector response), ``selections`` (cuts), ``processors`` (coffea glue)
and ``fits`` (pyhf limits, neutrino recasts, combination). This package holds what they
share: errors, atomic file output, configuration and the ``darknu`` command.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("darknu")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
