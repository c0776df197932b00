"""A Pythia 8 event record as numpy arrays, read once per event, for compiled kernels.

Reading a record through the ``pythia8mc`` accessors costs ~0.3 µs per call, i.e. ~0.6 ms
for the ~90 particles × 12 fields of a W event without MPI and hadronisation — twice the
CPU of Pythia's own ``next()``. ``pythia8mc`` 8.317.2 has no bulk accessor (``Event.particles()``
returns a list of ``Particle`` objects, each read field by field again), so
:class:`RecordReader` reads the particle array directly: ``Pythia8::Event`` stores its
particles in a ``std::vector<Particle>`` (contiguous), and pybind11 keeps the C++ address
of the object a Python ``Particle`` refers to in its instance. The fields used here and
their byte offsets in ``Pythia8::Particle`` (``include/Pythia8/Event.h`` of Pythia 8.3:
a virtual destructor, then ``int idSave, statusSave, mother1Save, mother2Save,
daughter1Save, daughter2Save, colSave, acolSave; Vec4 pSave (px, py, pz, e); double mSave,
scaleSave, ...``) are in :data:`INT_FIELDS` / :data:`FLOAT_FIELDS`.

Safety: nothing is assumed blindly. The address and the particle size are taken from
``event[0]`` and ``event[1]`` for every event and must be consistent (8-byte aligned,
plausible size); the first :data:`VERIFY_EVENTS` events of every reader are compared field
by field, for every particle, with the accessor values, and any mismatch switches the
reader to the accessor path (:meth:`RecordReader.read_accessors`, the reference
implementation, also used by the tests) with a logged warning. The record is copied (never
kept as a view), so later changes of the event cannot reach the arrays.

Derived quantities that Pythia takes from its particle table (``chargeType``, ``isHadron``)
come from :class:`IdTable`, filled from ``Pythia.particleData`` for every id met.
"""

from __future__ import annotations

import ctypes
import logging
from typing import Any, NamedTuple

import numba
import numpy as np
from numba.core import types
from numba.extending import intrinsic

from samples.jit import JIT, LEAF

_JIT, _LEAF = JIT, LEAF

log = logging.getLogger(__name__)

#: Byte offsets in ``Pythia8::Particle`` (Pythia 8.317, x86-64) of the int fields read.
INT_FIELDS = {"id": 8, "status": 12, "mother1": 16, "mother2": 20, "daughter1": 24,
              "daughter2": 28}
#: Byte offsets of the double fields read (``pSave`` is a ``Vec4``: px, py, pz, e; then
#: ``mSave, scaleSave, polSave``, ``bool hasVertexSave``, ``Vec4 vProdSave``: x, y, z, t).
FLOAT_FIELDS = {"px": 40, "py": 48, "pz": 56, "e": 64, "m": 72, "scale": 80, "x": 104,
                "y": 112, "z": 120}
#: Events per reader whose raw copy is checked against the accessors, particle by particle.
VERIFY_EVENTS = 3
#: pybind11 ``instance``: the C++ value pointer follows the 16-byte ``PyObject`` header
#: (simple layout: one registered type, no multiple inheritance).
_PYBIND_VALUE_OFFSET = 16
_SIZEOF_RANGE = (96, 1024)
_ID, _ST, _M1, _M2, _D1, _D2 = (INT_FIELDS[k] // 4 for k in
                                ("id", "status", "mother1", "mother2", "daughter1", "daughter2"))
_PX, _PY, _PZ, _E, _M, _SCALE, _VX, _VY, _VZ = (
    FLOAT_FIELDS[k] // 8 for k in ("px", "py", "pz", "e", "m", "scale", "x", "y", "z"))


class Record(NamedTuple):
    """One event record as arrays (index = Pythia's record index; entry 0 is the system).

    ``p[:, 0:4]`` = (E, px, py, pz) [GeV] (the order of the kinematics code); ``ctype`` is
    Pythia's ``chargeType()`` (3 × charge), ``hadron`` its ``isHadron()``; ``v`` the
    production vertex (``xProd``, ``yProd``, ``zProd``) [mm].
    """

    id: np.ndarray
    status: np.ndarray
    mother1: np.ndarray
    mother2: np.ndarray
    daughter1: np.ndarray
    daughter2: np.ndarray
    p: np.ndarray
    m: np.ndarray
    scale: np.ndarray
    ctype: np.ndarray
    hadron: np.ndarray
    v: np.ndarray

    @property
    def size(self) -> int:
        return len(self.id)


def _address(obj: Any) -> int:
    """C++ address held by a pybind11-wrapped object (0 if unreadable)."""
    v = ctypes.c_void_p.from_address(id(obj) + _PYBIND_VALUE_OFFSET).value
    return int(v or 0)


def _pointer_intrinsic(target: types.Type) -> Any:
    """An intrinsic turning an integer address into a pointer to ``target`` values."""

    def impl(typingctx, addr):  # type: ignore[no-untyped-def]
        sig = types.CPointer(target)(addr)

        def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
            return builder.inttoptr(args[0], context.get_value_type(signature.return_type))

        return sig, codegen

    return intrinsic(impl)


_int32_pointer = _pointer_intrinsic(types.int32)
_float64_pointer = _pointer_intrinsic(types.float64)


@numba.njit(**_JIT)
def _copy_particles(addr, n, size, keys, ctypes_, hadrons):  # type: ignore[no-untyped-def]
    """Copy the fields of :data:`INT_FIELDS` / :data:`FLOAT_FIELDS` of ``n`` particles of
    ``size`` bytes from address ``addr``; ``chargeType``/``isHadron`` from the id table.
    Returns the arrays and the number of ids missing from the table."""
    ints = numba.carray(_int32_pointer(addr), (n, size // 4))
    dbls = numba.carray(_float64_pointer(addr), (n, size // 8))
    iv = np.empty((6, n), np.int64)
    p = np.empty((n, 4))
    m = np.empty(n)
    scale = np.empty(n)
    v = np.empty((n, 3))
    for i in range(n):
        v[i, 0] = dbls[i, _VX]
        v[i, 1] = dbls[i, _VY]
        v[i, 2] = dbls[i, _VZ]
        iv[0, i] = ints[i, _ID]
        iv[1, i] = ints[i, _ST]
        iv[2, i] = ints[i, _M1]
        iv[3, i] = ints[i, _M2]
        iv[4, i] = ints[i, _D1]
        iv[5, i] = ints[i, _D2]
        p[i, 0] = dbls[i, _E]
        p[i, 1] = dbls[i, _PX]
        p[i, 2] = dbls[i, _PY]
        p[i, 3] = dbls[i, _PZ]
        m[i] = dbls[i, _M]
        scale[i] = dbls[i, _SCALE]
    ct = np.zeros(n, np.int64)
    had = np.zeros(n, np.bool_)
    miss = _lookup(iv[0], keys, ctypes_, hadrons, ct, had)
    return iv[0], iv[1], iv[2], iv[3], iv[4], iv[5], p, m, scale, ct, had, v, miss


@numba.njit(**_LEAF)
def _lookup(ids, keys, ctypes_, hadrons, out_ct, out_had):  # type: ignore[no-untyped-def]
    """out = table values of ``ids`` (binary search in sorted ``keys``); number of misses."""
    miss = 0
    nk = len(keys)
    for i in range(len(ids)):
        k = np.searchsorted(keys, ids[i])
        if k < nk and keys[k] == ids[i]:
            out_ct[i] = ctypes_[k]
            out_had[i] = hadrons[k]
        else:
            miss += 1
    return miss


class IdTable:
    """``chargeType(id)`` and ``isHadron(id)`` of Pythia's particle table, for ids met so far."""

    def __init__(self, particle_data: Any) -> None:
        self._pd = particle_data
        self._keys = np.zeros(0, np.int64)
        self._ct = np.zeros(0, np.int64)
        self._had = np.zeros(0, np.bool_)

    @property
    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(sorted ids, chargeType, isHadron) of the table."""
        return self._keys, self._ct, self._had

    def fill(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(chargeType, isHadron) arrays for ``ids``."""
        ct = np.zeros(len(ids), np.int64)
        had = np.zeros(len(ids), np.bool_)
        if _lookup(ids, self._keys, self._ct, self._had, ct, had):
            self.add(ids)
            _lookup(ids, self._keys, self._ct, self._had, ct, had)
        return ct, had

    def add(self, ids: np.ndarray) -> None:
        """Add the ids of ``ids`` that are not in the table yet."""
        new = np.setdiff1d(np.unique(ids), self._keys)
        keys = np.concatenate([self._keys, new])
        ct = np.concatenate([self._ct, [self._pd.chargeType(int(i)) for i in new]])
        had = np.concatenate([self._had, [bool(self._pd.isHadron(int(i))) for i in new]])
        order = np.argsort(keys, kind="stable")
        self._keys, self._ct, self._had = keys[order], ct[order].astype(np.int64), had[order]


class RecordReader:
    """Copies ``pythia.event`` into a :class:`Record` (raw read, verified; see module doc)."""

    def __init__(self, pythia: Any, *, verify_events: int = VERIFY_EVENTS) -> None:
        self.ids = IdTable(pythia.particleData)
        self._to_verify = int(verify_events)
        self.raw = True

    def read(self, event: Any) -> Record:
        """The record of ``event`` (raw memory read unless it failed verification)."""
        if self.raw:
            rec = self.read_raw(event)
            if rec is None:
                self._fall_back("the particle array address is not consistent")
            elif self._to_verify > 0:
                self._to_verify -= 1
                ref = self.read_accessors(event)
                if not records_equal(rec, ref):
                    self._fall_back("the raw copy differs from the accessor values")
                    return ref
                return rec
            else:
                return rec
        return self.read_accessors(event)

    def _fall_back(self, why: str) -> None:
        log.warning("pythia_record: %s; reading the event record through the pythia8mc "
                    "accessors (slower) from now on", why)
        self.raw = False

    @property
    def verified(self) -> bool:
        """The raw read is in use and has passed its checks against the accessors."""
        return self.raw and self._to_verify <= 0

    @staticmethod
    def locate(event: Any) -> tuple[int, int, int] | None:
        """(address, number, size in bytes) of the particles of ``event``, or ``None`` if
        the addresses pybind11 holds are not those of one contiguous array."""
        n = event.size()
        if n < 2:
            return None
        a0, a1 = _address(event[0]), _address(event[1])
        size = a1 - a0
        if a0 == 0 or a0 % 8 or size % 8 or not _SIZEOF_RANGE[0] <= size <= _SIZEOF_RANGE[1]:
            return None
        if _address(event[n - 1]) != a0 + (n - 1) * size:
            return None
        return a0, n, size

    def read_raw(self, event: Any) -> Record | None:
        """Raw copy of the particle array, or ``None`` if its layout looks inconsistent."""
        where = self.locate(event)
        if where is None:
            return None
        *arrays, miss = _copy_particles(*where, *self.ids.arrays)
        rec = Record(*arrays)
        if miss:
            ct, had = self.ids.fill(rec.id)
            rec = rec._replace(ctype=ct, hadron=had)
        return rec

    def read_accessors(self, event: Any) -> Record:
        """The same record through the ``pythia8mc`` accessors (reference implementation)."""
        n = event.size()
        ints = np.zeros((6, n), np.int64)
        p = np.empty((n, 4))
        m = np.empty(n)
        scale = np.empty(n)
        ct = np.zeros(n, np.int64)
        had = np.zeros(n, np.bool_)
        v = np.empty((n, 3))
        for i in range(n):
            q = event[i]
            v[i] = (q.xProd(), q.yProd(), q.zProd())
            ints[:, i] = (q.id(), q.status(), q.mother1(), q.mother2(), q.daughter1(),
                          q.daughter2())
            p[i] = (q.e(), q.px(), q.py(), q.pz())
            m[i] = q.m()
            scale[i] = q.scale()
            ct[i] = q.chargeType()
            had[i] = q.isHadron()
        return Record(*ints, p, m, scale, ct, had, v)


def records_equal(a: Record, b: Record) -> bool:
    """Every field of every particle identical (floats compared bit for bit)."""
    return all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


# ----------------------------------------------------------------------------- history
# Ports of Pythia 8.317 src/Event.cc (Particle::motherList, daughterList, iTopCopyId,
# iBotCopyId with simplify = false, isAncestor) on the arrays of a Record.


@numba.njit(**_LEAF)
def mother_list(i, status, m1, m2):  # type: ignore[no-untyped-def]
    """``Particle::motherList()``: (number, first, second) of the mothers of ``i`` (a
    fragmentation range is not needed here and returned as its two ends)."""
    st = abs(status[i])
    a, b = m1[i], m2[i]
    if st == 11 or st == 12:
        return 0, 0, 0
    if a == 0 and b == 0:
        return 1, 0, 0
    if b == 0 or b == a:
        return 1, a, 0
    return 2, min(a, b), max(a, b)


@numba.njit(**_LEAF)
def top_copy_id(i, ids, status, m1, m2):  # type: ignore[no-untyped-def]
    """``Particle::iTopCopyId()``: trace up through the mothers of the same id; stop at an
    ambiguity (two mothers of that id) or when none has it."""
    me = ids[i]
    up = i
    while True:
        nm, a, b = mother_list(up, status, m1, m2)
        if (80 < abs(status[up]) < 90 or 100 < abs(status[up]) < 107) and nm == 2:
            # String-fragmentation range: every entry in [a, b] is a mother.
            nxt = 0
            for j in range(a, b + 1):
                if ids[j] == me:
                    if nxt != 0:
                        return up
                    nxt = j
            if nxt == 0:
                return up
            up = nxt
            continue
        nxt = 0
        for k in range(nm):
            j = a if k == 0 else b
            if ids[j] == me:
                if nxt != 0:
                    return up
                nxt = j
        if nxt == 0:
            return up
        up = nxt


@numba.njit(**_LEAF)
def bot_copy_id(i, ids, status, m1, d1, d2):  # type: ignore[no-untyped-def]
    """``Particle::iBotCopyId()``: trace down through the daughters of the same id (the
    daughter list of ``Particle::daughterList``, beams included); stop at an ambiguity."""
    me = ids[i]
    dn = i
    n = len(ids)
    while True:
        a, b = d1[dn], d2[dn]
        nxt = 0
        amb = False
        if a == 0 and b == 0:
            pass
        elif b == 0 or b == a:
            if ids[a] == me:
                nxt = a
        elif b > a:
            for j in range(a, b + 1):
                if ids[j] == me:
                    if nxt != 0:
                        amb = True
                        break
                    nxt = j
        else:
            for j in (b, a):
                if ids[j] == me:
                    if nxt != 0:
                        amb = True
                        break
                    nxt = j
        if not amb and (abs(status[dn]) == 12 or abs(status[dn]) == 13):
            for j in range(dn + 1, n):
                if m1[j] == dn:
                    listed = (j == a or j == b) if not (b > a) else (a <= j <= b)
                    if not listed and ids[j] == me:
                        if nxt != 0:
                            amb = True
                            break
                        nxt = j
        if amb or nxt == 0:
            return dn
        dn = nxt


@numba.njit(**_LEAF)
def is_ancestor(i, anc, status, m1, m2):  # type: ignore[no-untyped-def]
    """``Particle::isAncestor(anc)`` of particle ``i``."""
    up = i
    n = len(status)
    while True:
        if up == anc:
            return True
        if up <= 0 or up >= n:  # Pythia: up > size (its up == size is out of range)
            return False
        a, b = m1[up], m2[up]
        if b == a or b == 0:
            up = a
            continue
        st = abs(status[up])
        if st < 81 or st > 86:
            return False
        if st == 82:
            up = a if (up + 1 < n and m1[up + 1] == a) else b
            continue
        if st == 83:
            if m1[up - 1] == a:
                return False
            up = a
            continue
        if st == 84:
            if up + 1 < n and m1[up + 1] == a:
                return False
            up = a
            continue
        return False
