"""CPython's float arithmetic in numba, to the last bit: ``math.hypot`` and ``x ** 2``.

numba (LLVM) computes ``math.hypot`` with libm's ``hypot`` and ``x ** 2`` as ``x * x``;
CPython 3.11 uses its own ``vector_norm`` for ``hypot`` and libm's ``pow(x, 2.0)`` for
``**``. Each pair differs in the last bit for ~0.1–1% of the inputs, enough to make a
compiled port of Python code differ from it. These are exact ports (tested against
CPython on random inputs in ``tests/samples/test_background_compiled.py``).
"""

from __future__ import annotations

import math

import llvmlite.ir as llvm_ir
import numba
from numba.core import cgutils, types
from numba.extending import intrinsic

from samples.jit import JIT, LEAF

_JIT, _LEAF = JIT, LEAF


@intrinsic
def _libm_pow(typingctx, x, y):  # type: ignore[no-untyped-def]
    """C ``pow(x, y)`` of the process's libm, called as such: the declaration is marked
    ``nobuiltin`` so that LLVM does not rewrite ``pow(x, 2.0)`` as ``x*x``."""
    sig = types.float64(types.float64, types.float64)

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        fnty = llvm_ir.FunctionType(llvm_ir.DoubleType(), [llvm_ir.DoubleType()] * 2)
        fn = cgutils.get_or_insert_function(builder.module, fnty, "pow")
        fn.attributes.add("nobuiltin")
        return builder.call(fn, args)

    return sig, codegen


@numba.njit(**_LEAF)
def sq(x):  # type: ignore[no-untyped-def]
    """``x ** 2`` exactly as CPython evaluates it for a float: libm ``pow(x, 2.0)``, which
    differs from ``x * x`` in the last bit for ~0.1% of the values (glibc's pow is not
    correctly rounded), so the reference's ``** 2`` must not become a multiplication."""
    return _libm_pow(x, 2.0)


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
