"""NanoAOD columns of an event record in compiled code (port of ``EventBuffer.append_pythia``).

:func:`event_columns` computes, from a :class:`samples.pythia_record.Record`, exactly what
:meth:`samples.nanoaod.EventBuffer.append_pythia` extracts from the Pythia event (the
pruned ``GenPart`` with its ``statusFlags`` and mother remapping, ``Electron``, ``Muon``,
``ChargedHadron``, ``MET``, ``GenVtx``; not the signal's ``ZD_ctau``), with Pythia's own
formulas for the derived quantities (src/Event.cc, src/Basics.h of Pythia 8.317:
``Particle::eta`` = ±ln((|p| + |p_z|)/max(10⁻²⁰, p_T)), ``Vec4::phi`` = atan2(p_y, p_x),
``statusHepMC``, ``iTopCopyId``/``iBotCopyId``/``iBotCopy``). The reference is the Python
writer; ``tests/samples/test_background_compiled.py`` compares the files bit for bit.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from samples.cpython_math import hypot
from samples.nanoaod import (
    DECAYED_LEPTON_HADRON,
    DIRECT_HADRON_DECAY_PRODUCT,
    DIRECT_TAU_DECAY_PRODUCT,
    FIRST_COPY,
    FROM_HARD_PROCESS,
    HADRON_PT_MIN_GEV,
    HARD_PROCESS,
    LAST_COPY,
    LAST_COPY_BEFORE_FSR,
    LEPTON_PT_MIN_GEV,
    MM_TO_CM,
    ND_ID,
    PROMPT,
    PROMPT_TAU_DECAY_PRODUCT,
    TAU_DECAY_PRODUCT,
    ZD_ID,
)
from samples.pythia_record import bot_copy_id, top_copy_id

_JIT = {"cache": True, "nogil": True}
_TINY = 1e-20  # Pythia's Particle::TINY

#: Columns of the float / int arrays returned by :func:`event_columns`.
GEN_F = ("pt", "eta", "phi", "mass", "vx", "vy", "vz")
GEN_I = ("pdgId", "status", "statusFlags", "genPartIdxMother")
LEP_F = ("pt", "eta", "phi", "mass", "dxy", "dz")
LEP_I = ("charge", "pdgId", "genPartIdx")
HAD_F = ("pt", "eta", "phi")


@numba.njit(**_JIT)
def is_hadron_id(aid):  # type: ignore[no-untyped-def]
    """``samples.nanoaod._is_hadron_id``: PDG-code test for hadrons."""
    return 100 <= aid < 1_000_000 and (aid // 10) % 10 != 0


@numba.njit(**_JIT)
def _pt(rec, i):  # type: ignore[no-untyped-def]
    return math.sqrt(rec.p[i, 1] * rec.p[i, 1] + rec.p[i, 2] * rec.p[i, 2])


@numba.njit(**_JIT)
def _eta(rec, i):  # type: ignore[no-untyped-def]
    """``Particle::eta()``."""
    x, y, z = rec.p[i, 1], rec.p[i, 2], rec.p[i, 3]
    p_abs = math.sqrt(x * x + y * y + z * z)
    temp = math.log((p_abs + abs(z)) / max(_TINY, _pt(rec, i)))
    return temp if z > 0.0 else -temp


@numba.njit(**_JIT)
def _phi(rec, i):  # type: ignore[no-untyped-def]
    return math.atan2(rec.p[i, 2], rec.p[i, 1])


@numba.njit(**_JIT)
def _status_hepmc(rec, i):  # type: ignore[no-untyped-def]
    """``Particle::statusHepMC()``."""
    st = rec.status[i]
    if st > 0:
        return 1
    if st == -12:
        return 4
    a = abs(rec.id[i])
    if rec.hadron[i] or a == 13 or a == 15:
        d1 = rec.daughter1[i]
        if rec.id[d1] != rec.id[i]:
            sd = abs(rec.status[d1])
            if 90 < sd < 95:
                return 2
    if -200 <= st <= -11:
        return -st
    return 0


@numba.njit(**_JIT)
def _bot_copy(rec, i):  # type: ignore[no-untyped-def]
    """``Particle::iBotCopy()`` (carbon copies only)."""
    dn = i
    while dn > 0 and rec.daughter2[dn] == rec.daughter1[dn] and rec.daughter1[dn] > 0:
        dn = rec.daughter1[dn]
    return dn


@numba.njit(**_JIT)
def _from_hp(i, rec, memo, chain):  # type: ignore[no-untyped-def]
    """``fromHardProcess`` of ``EventBuffer._fill`` (memo: −1 unknown, 0/1; ``chain``:
    scratch of the record's size)."""
    n = len(rec.id)
    nc = 0
    j = i
    result = False
    for _ in range(n):
        if memo[j] >= 0:
            result = memo[j] == 1
            break
        chain[nc] = j
        nc += 1
        ast = abs(rec.status[j])
        if ast == 22 or ast == 23:
            result = True
            break
        m = rec.mother1[j]
        if m <= 0 or ast == 21 or is_hadron_id(abs(rec.id[j])):
            break
        j = m
    for k in range(nc):
        memo[chain[k]] = 1 if result else 0
    return result


@numba.njit(**_JIT)
def event_columns(rec):  # type: ignore[no-untyped-def]
    """The columns ``EventBuffer.append_pythia`` would extract from this record: (GenPart
    floats, GenPart ints, Electron floats, Electron ints, Muon floats, Muon ints,
    ChargedHadron floats, ChargedHadron pdgIds, MET (pt, phi), GenVtx (x, y, z) [cm]);
    column names in :data:`GEN_F`, :data:`GEN_I`, :data:`LEP_F`, :data:`LEP_I`,
    :data:`HAD_F`."""
    return event_columns_cached(rec, np.empty(0, np.int64), 0, -1)


@numba.njit(**_JIT)
def event_columns_cached(rec, flag_cache, n_base, i_changed):  # type: ignore[no-untyped-def]
    """:func:`event_columns` of an edited copy of a base record whose first ``n_base``
    entries keep their ids, statuses, mothers and daughters, except entry ``i_changed``
    (−1: none): the ``statusFlags`` of those entries depend on nothing else (history and
    ids, not momenta), so they are taken from ``flag_cache`` (−1 = not yet computed;
    filled here) and shared by every copy of one base record. (A split photon's flags come
    out the same before and after its edit in the shower photons met so far; excluding
    ``i_changed`` keeps the cache exact for any record, e.g. a split hard-process photon.)"""
    n = len(rec.id)
    ids, st, mo = rec.id, rec.status, rec.mother1
    from_had = np.zeros(n, np.bool_)
    from_tau = np.zeros(n, np.bool_)
    keep = np.empty(n, np.int64)
    nk = 0
    ele = np.empty(n, np.int64)
    ne = 0
    mu = np.empty(n, np.int64)
    nm = 0
    had = np.empty(n, np.int64)
    nh = 0
    met_x = met_y = 0.0
    for i in range(1, n):
        s, m1 = st[i], mo[i]
        aid = abs(ids[i])
        if 0 < m1 < i:
            maid = abs(ids[m1])
            from_had[i] = from_had[m1] or is_hadron_id(maid)
            from_tau[i] = from_tau[m1] or maid == 15
        if 11 <= aid <= 16:
            if s > 0 and (aid == 12 or aid == 14 or aid == 16):
                met_x += rec.p[i, 1]
                met_y += rec.p[i, 2]
            charged_lep = s > 0 and (aid == 11 or aid == 13) and _pt(rec, i) > LEPTON_PT_MIN_GEV
            if not from_had[i] or charged_lep:
                keep[nk] = i
                nk += 1
                if charged_lep:
                    if aid == 11:
                        ele[ne] = i
                        ne += 1
                    else:
                        mu[nm] = i
                        nm += 1
        elif aid == 22 or aid == 23 or aid == 24 or aid == 25 or aid == ZD_ID or aid == ND_ID:
            if aid == 22:
                # The Python writer reads ids[m1] from a list filled up to i: 0 beyond.
                pm = abs(ids[m1]) if 0 < m1 <= i else 0
                if not from_had[i] and (s < 0 or (m1 > 0 and (pm == 11 or pm == 13 or pm == 15
                                                               or pm == 23 or pm == 24
                                                               or pm == ZD_ID))
                                        or 21 <= abs(s) <= 29):
                    keep[nk] = i
                    nk += 1
            else:
                keep[nk] = i
                nk += 1
        elif 21 <= abs(s) <= 29:
            keep[nk] = i
            nk += 1
        elif s > 0 and is_hadron_id(aid) and rec.ctype[i] != 0:
            if _pt(rec, i) > HADRON_PT_MIN_GEV:
                had[nh] = i
                nh += 1
    new_index = np.full(n, -1, np.int64)
    for k in range(nk):
        new_index[keep[k]] = k
    src = 0
    for k in range(nk):
        if 21 <= abs(st[keep[k]]) <= 29:
            src = keep[k]
    vtx = (rec.v[src, 0] * MM_TO_CM, rec.v[src, 1] * MM_TO_CM, rec.v[src, 2] * MM_TO_CM)
    memo = np.full(n, -1, np.int64)
    chain = np.empty(n, np.int64)
    gen_f = np.empty((nk, 7))
    gen_i = np.empty((nk, 4), np.int64)
    for k in range(nk):
        i = keep[k]
        m = mo[i]
        mother = -1
        for _ in range(n):
            if m <= 0 or is_hadron_id(abs(ids[m])):
                break
            if new_index[m] >= 0:
                mother = new_index[m]
                break
            m = mo[m]
        cached = i < n_base and i != i_changed
        if cached and flag_cache[i] >= 0:
            flags = flag_cache[i]
        else:
            flags = _status_flags(rec, i, from_had, from_tau, memo, chain)
            if cached:
                flag_cache[i] = flags
        gen_f[k, 0], gen_f[k, 1], gen_f[k, 2], gen_f[k, 3] = (_pt(rec, i), _eta(rec, i),
                                                              _phi(rec, i), rec.m[i])
        gen_f[k, 4] = rec.v[i, 0] * MM_TO_CM
        gen_f[k, 5] = rec.v[i, 1] * MM_TO_CM
        gen_f[k, 6] = rec.v[i, 2] * MM_TO_CM
        gen_i[k, 0], gen_i[k, 1], gen_i[k, 2], gen_i[k, 3] = ids[i], _status_hepmc(rec, i), \
            flags, mother
    ele_f, ele_i = _lepton_columns(rec, ele[:ne], new_index, vtx)
    mu_f, mu_i = _lepton_columns(rec, mu[:nm], new_index, vtx)
    had_f = np.empty((nh, 3))
    had_i = np.empty(nh, np.int64)
    for k in range(nh):
        i = had[k]
        had_f[k, 0], had_f[k, 1], had_f[k, 2] = _pt(rec, i), _eta(rec, i), _phi(rec, i)
        had_i[k] = ids[i]
    met = (hypot(met_x, met_y),
           math.atan2(met_y, met_x) if (met_x != 0.0 or met_y != 0.0) else 0.0)
    return gen_f, gen_i, ele_f, ele_i, mu_f, mu_i, had_f, had_i, met, vtx


@numba.njit(**_JIT)
def _status_flags(rec, i, from_had, from_tau, memo, chain):  # type: ignore[no-untyped-def]
    """NanoAOD ``statusFlags`` of entry ``i`` (as ``EventBuffer._fill``)."""
    ids, st, mo = rec.id, rec.status, rec.mother1
    flags = 0
    s, m1 = st[i], mo[i]
    if not from_had[i] and not from_tau[i]:
        flags |= PROMPT
    if s < 0 and rec.daughter1[i] > 0 and (abs(ids[i]) == 13 or abs(ids[i]) == 15):
        flags |= DECAYED_LEPTON_HADRON
    if from_tau[i]:
        flags |= TAU_DECAY_PRODUCT
        if not from_had[i]:
            flags |= PROMPT_TAU_DECAY_PRODUCT
        if m1 > 0 and abs(ids[m1]) == 15:
            flags |= DIRECT_TAU_DECAY_PRODUCT
    if m1 > 0 and is_hadron_id(abs(ids[m1])):
        flags |= DIRECT_HADRON_DECAY_PRODUCT
    if 21 <= abs(s) <= 29:
        flags |= HARD_PROCESS | FROM_HARD_PROCESS
    elif _from_hp(i, rec, memo, chain):
        flags |= FROM_HARD_PROCESS
    if top_copy_id(i, ids, st, mo, rec.mother2) == i:
        flags |= FIRST_COPY
    if bot_copy_id(i, ids, st, mo, rec.daughter1, rec.daughter2) == i:
        flags |= LAST_COPY
    if _bot_copy(rec, i) == i:
        flags |= LAST_COPY_BEFORE_FSR
    return flags


@numba.njit(**_JIT)
def _lepton_columns(rec, idx, new_index, vtx):  # type: ignore[no-untyped-def]
    """Electron/Muon columns of the particles ``idx`` (impact parameters w.r.t. ``vtx``)."""
    f = np.empty((len(idx), 6))
    g = np.empty((len(idx), 3), np.int64)
    for k in range(len(idx)):
        i = idx[k]
        px, py, pz, pt = rec.p[i, 1], rec.p[i, 2], rec.p[i, 3], _pt(rec, i)
        dx = rec.v[i, 0] * MM_TO_CM - vtx[0]
        dy = rec.v[i, 1] * MM_TO_CM - vtx[1]
        dz = rec.v[i, 2] * MM_TO_CM - vtx[2]
        f[k, 0], f[k, 1], f[k, 2], f[k, 3] = pt, _eta(rec, i), _phi(rec, i), rec.m[i]
        f[k, 4] = (-dx * py + dy * px) / pt
        f[k, 5] = dz - (dx * px + dy * py) / pt * pz / pt
        g[k, 0], g[k, 1], g[k, 2] = (-1 if rec.id[i] > 0 else 1), rec.id[i], new_index[i]
    return f, g

