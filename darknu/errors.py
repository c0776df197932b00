"""Exception types shared by every darknu stage.

Every error names what was wrong and where: the file, branch, parameter or key, and the
allowed values or range. The command line turns them into a one-line message and exit
code 2, without a traceback.
"""

from __future__ import annotations


class DarknuError(Exception):
    """Base class of every error darknu raises on purpose."""


class ParameterError(DarknuError, ValueError):
    """A physics or run parameter is out of its allowed range or of the wrong type."""


class ConfigError(DarknuError, ValueError):
    """A configuration file or value is malformed (the message names file, line and key)."""


class InputFileError(DarknuError, OSError):
    """An input file (ROOT or fileset JSON) is missing, unreadable or lacks what we need."""


class OutputExistsError(DarknuError, FileExistsError):
    """An output would overwrite existing results without ``force=True`` / ``--force``."""


class FitError(DarknuError, RuntimeError):
    """A fit failed even after retries; carries the per-point status."""


def check_choice(name: str, value: str, allowed: "list[str] | tuple[str, ...] | set[str]") -> str:
    """Return ``value`` if it is one of ``allowed``, else raise :class:`ParameterError`.

    >>> check_choice("scenario", "run2", ["run2", "hllhc"])
    'run2'
    >>> check_choice("scenario", "run3", ["run2", "hllhc"])
    Traceback (most recent call last):
    ...
    darknu.errors.ParameterError: unknown scenario 'run3'; valid: hllhc, run2
    """
    if value not in allowed:
        raise ParameterError(f"unknown {name} {value!r}; valid: {', '.join(sorted(allowed))}")
    return value


def check_range(
    name: str,
    value: float,
    *,
    low: float | None = None,
    high: float | None = None,
    low_inclusive: bool = False,
    high_inclusive: bool = False,
    unit: str = "",
) -> float:
    """Return ``float(value)`` if it is a finite number inside the range, else raise.

    >>> check_range("m_N", 10.0, low=0.0, high=80.379, unit="GeV")
    10.0
    >>> check_range("m_N", -1, low=0.0, unit="GeV")
    Traceback (most recent call last):
    ...
    darknu.errors.ParameterError: m_N = -1 GeV is out of range: must be > 0.0 GeV
    """
    import math

    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ParameterError(f"{name} must be a number, got {value!r}") from None
    u = f" {unit}" if unit else ""
    if not math.isfinite(x):
        raise ParameterError(f"{name} must be finite, got {value!r}")
    bounds = []
    bad = False
    if low is not None:
        bounds.append(f"{'>=' if low_inclusive else '>'} {low}{u}")
        bad |= x < low or (x == low and not low_inclusive)
    if high is not None:
        bounds.append(f"{'<=' if high_inclusive else '<'} {high}{u}")
        bad |= x > high or (x == high and not high_inclusive)
    if bad:
        raise ParameterError(f"{name} = {value}{u} is out of range: must be {' and '.join(bounds)}")
    return x
