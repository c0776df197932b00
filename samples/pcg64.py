"""numpy's PCG64 stream advanced inside numba kernels, in step with the ``Generator``.

Passing a ``numpy.random.Generator`` to a numba function costs ~6 µs per call and argument
(unboxing its ctypes interface), more than a whole forced-emission event. The kernels
instead take the generator's state as a ``uint64[4]`` array (:func:`state_of`), draw from
it with :func:`random` — the same numbers, in the same order, as ``Generator.random()`` —
and the state is written back into the generator afterwards (:func:`restore`), so Python
and compiled draws interleave seamlessly.

The algorithm is numpy's ``PCG64`` (``numpy/random/src/pcg64/pcg64.h``): the 128-bit LCG
step state ← state·M + inc (M = 0x2360ED051FC65DA44385DF649FCCF645), output XSL-RR
(``rotr64(hi ^ lo, hi >> 58)`` of the new state), and ``next_double`` = (u64 >> 11)·2⁻⁵³.
``tests/samples/test_background_compiled.py`` checks it against numpy draw for draw.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np

from samples.jit import JIT, LEAF

_JIT, _LEAF = JIT, LEAF

_MULT_HI = np.uint64(0x2360ED051FC65DA4)
_MULT_LO = np.uint64(0x4385DF649FCCF645)
_M32 = np.uint64(0xFFFFFFFF)
_U32 = np.uint64(32)
_U11 = np.uint64(11)
_U58 = np.uint64(58)
_U63 = np.uint64(63)
_U64 = np.uint64(64)
_ONE = np.uint64(1)
_ZERO = np.uint64(0)
_MASK64 = (1 << 64) - 1


def state_of(gen: np.random.Generator) -> np.ndarray:
    """(state_hi, state_lo, inc_hi, inc_lo) of a PCG64 generator, as ``uint64[4]``."""
    st = gen.bit_generator.state
    if st["bit_generator"] != "PCG64":
        raise TypeError(f"expected a PCG64 generator, got {st['bit_generator']}")
    s, inc = st["state"]["state"], st["state"]["inc"]
    return np.array([s >> 64, s & _MASK64, inc >> 64, inc & _MASK64], dtype=np.uint64)


def restore(gen: np.random.Generator, state: np.ndarray) -> None:
    """Set ``gen`` to the state ``state`` (the buffered 32-bit value is kept)."""
    st = gen.bit_generator.state
    st["state"]["state"] = (int(state[0]) << 64) | int(state[1])
    st["state"]["inc"] = (int(state[2]) << 64) | int(state[3])
    gen.bit_generator.state = st


@numba.njit(**_LEAF)
def _mulhi(a, b):  # type: ignore[no-untyped-def]
    """High 64 bits of the 128-bit product of two uint64."""
    a_lo, a_hi = a & _M32, a >> _U32
    b_lo, b_hi = b & _M32, b >> _U32
    p0 = a_lo * b_lo
    p1 = a_lo * b_hi
    p2 = a_hi * b_lo
    mid = (p0 >> _U32) + (p1 & _M32) + (p2 & _M32)
    return a_hi * b_hi + (p1 >> _U32) + (p2 >> _U32) + (mid >> _U32)


@numba.njit(**_LEAF)
def next_uint64(st):  # type: ignore[no-untyped-def]
    """One step of numpy's PCG64 (``pcg64_random_r``) on the state array ``st``."""
    s_hi, s_lo, i_hi, i_lo = st[0], st[1], st[2], st[3]
    lo = s_lo * _MULT_LO
    hi = _mulhi(s_lo, _MULT_LO) + s_hi * _MULT_LO + s_lo * _MULT_HI
    lo2 = lo + i_lo
    hi2 = hi + i_hi + (_ONE if lo2 < lo else _ZERO)
    st[0], st[1] = hi2, lo2
    x = hi2 ^ lo2
    rot = hi2 >> _U58
    return (x >> rot) | (x << ((_U64 - rot) & _U63))


@numba.njit(**_LEAF)
def random(st):  # type: ignore[no-untyped-def]
    """``Generator.random()``: a double in [0, 1) (``next_double``: (u64 >> 11)·2⁻⁵³)."""
    return np.float64(next_uint64(st) >> _U11) * (1.0 / 9007199254740992.0)


class Stream:
    """A generator's state handed to compiled code for the duration of a ``with`` block."""

    def __init__(self, gen: np.random.Generator) -> None:
        self.gen = gen
        self.state = state_of(gen)

    def __enter__(self) -> np.ndarray:
        self.state = state_of(self.gen)
        return self.state

    def __exit__(self, *exc: Any) -> None:
        restore(self.gen, self.state)
