"""CPython's float arithmetic in numba, to the last bit: ``math.hypot``; and the square.

numba (LLVM) computes ``math.hypot`` with libm's ``hypot``; CPython 3.11 uses its own
``vector_norm``. The two differ in the last bit for ~1% of the inputs, enough to make a
compiled port of Python code differ from it. :func:`hypot` is an exact port (tested
against CPython on random inputs in ``tests/samples/test_background_compiled.py``).

Squares: CPython's ``x ** 2`` is libm ``pow(x, 2.0)``, which differs from ``x * x`` for
~0.1% of the inputs. Both engines square with ``x * x`` instead (:func:`sq` here,
:func:`samples.background_forced.sq` in the reference): ``pow`` cost ~30% of the kernels.
"""

from __future__ import annotations

import math

import numba

from samples.jit import JIT, LEAF

_JIT, _LEAF = JIT, LEAF


@numba.njit(**_LEAF)
def sq(x):  # type: ignore[no-untyped-def]
    """``x * x``, the square of both engines (:func:`samples.background_forced.sq` in the
    reference). Until docs/background.md §16 this was libm ``pow(x, 2.0)``, CPython's
    ``x ** 2``, to the last bit; that call was ~30% of the event kernels' time."""
    return x * x


@numba.njit(**_LEAF)
def _split27(x):  # type: ignore[no-untyped-def]
    t = x * 134217729.0  # Veltkamp splitting, 2**27 + 1
    hi = t - (t - x)
    return hi, x - hi


@numba.njit(**_LEAF)
def _dl_mul(x, y):  # type: ignore[no-untyped-def]
    """Exact product x·y = hi + lo (Dekker)."""
    xh, xl = _split27(x)
    yh, yl = _split27(y)
    p = xh * yh
    q = xh * yl + xl * yh
    z = p + q
    return z, p - z + q + xl * yl


@numba.njit(**_LEAF)
def hypot(x, y):  # type: ignore[no-untyped-def]
    """``math.hypot(x, y)`` of CPython 3.11 (``vector_norm`` in Modules/mathmodule.c:
    lossless scaling, compensated sum of squares, one differential correction), so
    that the compiled kernels round exactly as the Python code does."""
    ax, ay = abs(x), abs(y)
    if math.isinf(ax) or math.isinf(ay):
        return math.inf
    if math.isnan(ax) or math.isnan(ay):
        return math.nan
    mx = ax if ax > ay else ay
    if mx == 0.0:
        return mx
    _, max_e = math.frexp(mx)
    if max_e < -1023:  # subnormal: CPython rescales by DBL_MIN first
        tiny = 2.2250738585072014e-308
        return tiny * hypot(ax / tiny, ay / tiny)
    scale = math.ldexp(1.0, -max_e)
    csum, frac1, frac2 = 1.0, 0.0, 0.0
    for v in (ax, ay):
        v *= scale
        hi, lo = _dl_mul(v, v)
        s = csum + hi
        frac2 += (csum - s) + hi
        csum = s
        frac1 += lo
    h = math.sqrt(csum - 1.0 + (frac1 + frac2))
    hi, lo = _dl_mul(-h, h)
    s = csum + hi
    frac2 += (csum - s) + hi
    csum = s
    frac1 += lo
    v = csum - 1.0 + (frac1 + frac2)
    h += v / (2.0 * h)
    return h / scale
