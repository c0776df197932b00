"""Options of the package's compiled (numba) kernels.

:data:`JIT`: cached on disk, GIL released. :data:`LEAF`: the same for helpers that neither
allocate nor return arrays (scalars or tuples of scalars out; arrays in, read or written
in place), compiled without numba's reference-counting runtime (``_nrt=False``). With the
runtime, each call of a helper that takes arrays (or a record of 12 arrays) increments
and decrements their reference counts, atomically: measured ~60 ns per call for four array
arguments here (``inline="always"`` does not remove it), against ~1 ns without. numba
refuses to compile a ``LEAF`` function that needs the runtime (an allocation), so the
option cannot silently break one.
"""

from __future__ import annotations

JIT: dict[str, bool] = {"cache": True, "nogil": True}
LEAF: dict[str, bool] = {**JIT, "_nrt": False}
