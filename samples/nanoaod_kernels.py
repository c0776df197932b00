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
from typing import NamedTuple

import numba
import numpy as np

from samples.cpython_math import hypot
from samples.jit import JIT, LEAF
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

_JIT, _LEAF = JIT, LEAF
_TINY = 1e-20  # Pythia's Particle::TINY

#: Columns of the float / int arrays returned by :func:`event_columns`.
GEN_F = ("pt", "eta", "phi", "mass", "vx", "vy", "vz")
GEN_I = ("pdgId", "status", "statusFlags", "genPartIdxMother")
LEP_F = ("pt", "eta", "phi", "mass", "dxy", "dz")
LEP_I = ("charge", "pdgId", "genPartIdx")
HAD_F = ("pt", "eta", "phi")


@numba.njit(**_LEAF)
def is_hadron_id(aid):  # type: ignore[no-untyped-def]
    """``samples.nanoaod._is_hadron_id``: PDG-code test for hadrons."""
    return 100 <= aid < 1_000_000 and (aid // 10) % 10 != 0


@numba.njit(**_LEAF)
def _pt(rec, i):  # type: ignore[no-untyped-def]
    return math.sqrt(rec.p[i, 1] * rec.p[i, 1] + rec.p[i, 2] * rec.p[i, 2])


@numba.njit(**_LEAF)
def _eta(rec, i):  # type: ignore[no-untyped-def]
    """``Particle::eta()``."""
    x, y, z = rec.p[i, 1], rec.p[i, 2], rec.p[i, 3]
    p_abs = math.sqrt(x * x + y * y + z * z)
    temp = math.log((p_abs + abs(z)) / max(_TINY, _pt(rec, i)))
    return temp if z > 0.0 else -temp


@numba.njit(**_LEAF)
def _phi(rec, i):  # type: ignore[no-untyped-def]
    return math.atan2(rec.p[i, 2], rec.p[i, 1])


@numba.njit(**_LEAF)
def _status_hepmc(st, pid, hadron, d1_id, d1_status):  # type: ignore[no-untyped-def]
    """``Particle::statusHepMC()`` of an entry with status ``st``, id ``pid``,
    ``isHadron()`` ``hadron`` whose first daughter has id ``d1_id`` and status
    ``d1_status``. (Scalar arguments: a compiled helper taking arrays costs ~60 ns per
    call in reference counting.)"""
    if st > 0:
        return 1
    if st == -12:
        return 4
    a = abs(pid)
    if hadron or a == 13 or a == 15:
        if d1_id != pid:
            sd = abs(d1_status)
            if 90 < sd < 95:
                return 2
    if -200 <= st <= -11:
        return -st
    return 0


@numba.njit(**_LEAF)
def _bot_copy(rec, i):  # type: ignore[no-untyped-def]
    """``Particle::iBotCopy()`` (carbon copies only)."""
    dn = i
    while dn > 0 and rec.daughter2[dn] == rec.daughter1[dn] and rec.daughter1[dn] > 0:
        dn = rec.daughter1[dn]
    return dn


@numba.njit(**_LEAF)
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


#: Bits of an entry's column class (:func:`_row_class`).
KEEP = 1  # in GenPart
FINAL_LEPTON = 2  # final e/μ: in Electron/Muon above LEPTON_PT_MIN_GEV (and then in GenPart)
FINAL_HADRON = 4  # final charged hadron: in ChargedHadron above HADRON_PT_MIN_GEV
FINAL_NU = 8  # final neutrino: in MET


class ColumnPlan(NamedTuple):
    """What the columns of a record's entries need that does not depend on momenta,
    computed once per base record (:func:`column_plan`) and shared by its edited copies
    (:func:`plan_columns_into`); entries from ``n_base`` on are the copies' own (appended)
    and are classified per copy. Scratch arrays have the record's full size."""

    n_base: int
    cls: np.ndarray  # class bits (:func:`_row_class`)
    from_had: np.ndarray  # a hadron among the mother1 ancestors
    from_tau: np.ndarray  # a τ among them
    cand: np.ndarray  # base entries with a non-zero class, in record order
    has_child: np.ndarray  # base entries that are some base entry's mother or have daughters
    flags: np.ndarray  # statusFlags cache of the base entries (−1: not yet; empty: no cache)
    edited_flags: np.ndarray  # statusFlags of the edited entries per copy history (−1: not yet)
    memo: np.ndarray  # _from_hp memo (−1 unknown)
    chain: np.ndarray  # _from_hp scratch
    new_index: np.ndarray  # GenPart index of the entries kept in the current copy, else −1
    keep: np.ndarray  # scratch lists of the current copy
    leptons: np.ndarray
    had: np.ndarray


@numba.njit(**_LEAF)
def _row_class(s, aid, pm, from_had, ctype):  # type: ignore[no-untyped-def]
    """Class bits (:data:`KEEP`, :data:`FINAL_LEPTON`, :data:`FINAL_HADRON`,
    :data:`FINAL_NU`) of an entry with status ``s`` and |id| ``aid``: the pruning rules of
    ``EventBuffer._fill`` that depend on the history, not on the momentum. ``pm``: the
    |id| of its mother1 as the Python writer reads it (0 without one), ``from_had``: a
    hadron among its ancestors, ``ctype``: its chargeType."""
    c = 0
    if 11 <= aid <= 16:
        if s > 0 and (aid == 12 or aid == 14 or aid == 16):
            c |= FINAL_NU
        if s > 0 and (aid == 11 or aid == 13):
            c |= FINAL_LEPTON
        if not from_had:
            c |= KEEP
    elif aid == 22 or aid == 23 or aid == 24 or aid == 25 or aid == ZD_ID or aid == ND_ID:
        if aid != 22 or (not from_had and (s < 0 or pm == 11 or pm == 13 or pm == 15
                                           or pm == 23 or pm == 24 or pm == ZD_ID
                                           or 21 <= abs(s) <= 29)):
            c |= KEEP
    elif 21 <= abs(s) <= 29:
        c |= KEEP
    elif s > 0 and is_hadron_id(aid) and ctype != 0:
        c |= FINAL_HADRON
    return c


@numba.njit(**_LEAF)
def _classify(ids, st, mo, ctype, i, from_had, from_tau, cls):  # type: ignore[no-untyped-def]
    """Set ``from_had[i]``, ``from_tau[i]`` (from the mother's) and ``cls[i]``."""
    m1 = mo[i]
    fh = ft = False
    pm = 0
    if 0 < m1 < i:
        pm = abs(ids[m1])
        fh = from_had[m1] or is_hadron_id(pm)
        ft = from_tau[m1] or pm == 15
    elif m1 == i:
        pm = abs(ids[m1])  # the Python writer reads ids[m1] from a list filled up to i
    from_had[i], from_tau[i] = fh, ft
    cls[i] = _row_class(st[i], abs(ids[i]), pm, fh, ctype[i])


@numba.njit(**_JIT)
def column_plan(rec, n_base, n_histories):  # type: ignore[no-untyped-def]
    """The :class:`ColumnPlan` of the first ``n_base`` entries of ``rec`` (the rest:
    room for the copies' appended entries). ``n_histories`` > 0: share the statusFlags of
    the base entries between the copies, and those of the edited entries between the
    copies of the same history key (``plan_columns_into``'s ``key`` < ``n_histories``);
    0: no caching."""
    n = len(rec.id)
    ids, st, mo, m2 = rec.id, rec.status, rec.mother1, rec.mother2
    cls = np.zeros(n, np.int64)
    from_had = np.zeros(n, np.bool_)
    from_tau = np.zeros(n, np.bool_)
    cand = np.empty(n_base, np.int64)
    has_child = np.zeros(n_base, np.bool_)
    nc = 0
    for i in range(1, n_base):
        _classify(ids, st, mo, rec.ctype, i, from_had, from_tau, cls)
        if cls[i] != 0:
            cand[nc] = i
            nc += 1
        if 0 < mo[i] < n_base:
            has_child[mo[i]] = True
        if 0 < m2[i] < n_base:
            has_child[m2[i]] = True
        if rec.daughter1[i] != 0 or rec.daughter2[i] != 0:
            has_child[i] = True
    cache = n_histories > 0
    return ColumnPlan(n_base, cls, from_had, from_tau, cand[:nc], has_child,
                      np.full(n_base if cache else 0, -1, np.int64),
                      np.full((n_histories, max(0, n - n_base) + 1), -1, np.int64),
                      np.full(n, -1, np.int64), np.empty(n, np.int64),
                      np.full(n, -1, np.int64), np.empty(n, np.int64), np.empty(n, np.int64),
                      np.empty(n, np.int64))


@numba.njit(**_LEAF)
def plan_columns_into(rec, n_used, plan, ig, key, gen_f, gen_i, ele_f, ele_i, mu_f, mu_i,  # type: ignore[no-untyped-def]
                      had_f, had_i, o):
    """Write the columns of the record made of the first ``n_used`` entries of ``rec`` into
    the output arrays from row ``o[0..3]`` on (GenPart, Electron, Muon, ChargedHadron;
    ``o`` advanced); return (their four counts, MET (pt, phi), GenVtx (x, y, z) [cm]).

    ``rec`` is the plan's base record edited in place: momenta of any entry, entries from
    ``plan.n_base`` on appended, and the history (status, daughters) of base entry ``ig``
    changed (−1: none). ``ig`` must have no base descendants (``plan.has_child``): the
    classes, ancestry, memo and cached flags of the other base entries then hold for every
    copy. ``key`` (−1: none) names the history of the edited entries (``ig`` and the
    appended ones): copies with the same key share their statusFlags. Same result as
    :func:`event_columns` of the edited record."""
    P = plan
    nb = P.n_base
    ids, st, mo = rec.id, rec.status, rec.mother1
    for i in range(nb, n_used):
        _classify(ids, st, mo, rec.ctype, i, P.from_had, P.from_tau, P.cls)
        P.memo[i] = -1
    c_ig = 0
    if ig > 0:
        m1 = mo[ig]
        pm = abs(ids[m1]) if 0 < m1 <= ig else 0
        c_ig = _row_class(st[ig], abs(ids[ig]), pm, P.from_had[ig], rec.ctype[ig])
        P.memo[ig] = -1
    keep, lep, had, new_index = P.keep, P.leptons, P.had, P.new_index
    nk = nl = ne = nh = 0
    met_x = met_y = 0.0
    src = 0
    ncand = len(P.cand)
    j = 0
    t = nb
    ig_pending = ig > 0
    while True:  # the candidates in record order: base ones with ig in place, then appended
        nxt = P.cand[j] if j < ncand else n_used
        if ig_pending and ig < nxt:
            i, c = ig, c_ig
            ig_pending = False
        elif j < ncand:
            i = nxt
            j += 1
            if i == ig:
                continue
            c = P.cls[i]
        elif t < n_used:
            i = t
            t += 1
            c = P.cls[i]
        else:
            break
        if c == 0:
            continue
        if c & FINAL_NU:
            met_x += rec.p[i, 1]
            met_y += rec.p[i, 2]
        kept = (c & KEEP) != 0
        if c & FINAL_LEPTON and _pt(rec, i) > LEPTON_PT_MIN_GEV:
            kept = True
            lep[nl] = i
            nl += 1
            if abs(ids[i]) == 11:
                ne += 1
        if kept:
            keep[nk] = i
            new_index[i] = nk
            nk += 1
            if 21 <= abs(st[i]) <= 29:
                src = i
        if c & FINAL_HADRON and _pt(rec, i) > HADRON_PT_MIN_GEV:
            had[nh] = i
            nh += 1
    vx, vy, vz = rec.v[src, 0] * MM_TO_CM, rec.v[src, 1] * MM_TO_CM, rec.v[src, 2] * MM_TO_CM
    fc, fe = P.flags, P.edited_flags
    n = len(ids)
    g0 = o[0]
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
        if i < len(fc) and i != ig:
            flags = fc[i]
            if flags < 0:
                flags = fc[i] = _status_flags(rec, i, P.from_had, P.from_tau, P.memo, P.chain)
        elif key >= 0:  # an edited entry: slot 0 = ig (or the first appended), then appended
            slot = 0 if i == ig else i - nb + (1 if ig > 0 else 0)
            flags = fe[key, slot]
            if flags < 0:
                flags = fe[key, slot] = _status_flags(rec, i, P.from_had, P.from_tau, P.memo,
                                                      P.chain)
        else:
            flags = _status_flags(rec, i, P.from_had, P.from_tau, P.memo, P.chain)
        d1 = rec.daughter1[i]
        r = g0 + k
        gen_f[r, 0], gen_f[r, 1], gen_f[r, 2], gen_f[r, 3] = (_pt(rec, i), _eta(rec, i),
                                                              _phi(rec, i), rec.m[i])
        gen_f[r, 4] = rec.v[i, 0] * MM_TO_CM
        gen_f[r, 5] = rec.v[i, 1] * MM_TO_CM
        gen_f[r, 6] = rec.v[i, 2] * MM_TO_CM
        gen_i[r, 0] = ids[i]
        gen_i[r, 1] = _status_hepmc(st[i], ids[i], rec.hadron[i], ids[d1], st[d1])
        gen_i[r, 2], gen_i[r, 3] = flags, mother
    re = o[1]
    rm = o[2]
    for k in range(nl):  # Electron / Muon (impact parameters w.r.t. the vertex)
        i = lep[k]
        px, py, pz, pt = rec.p[i, 1], rec.p[i, 2], rec.p[i, 3], _pt(rec, i)
        dx = rec.v[i, 0] * MM_TO_CM - vx
        dy = rec.v[i, 1] * MM_TO_CM - vy
        dz = rec.v[i, 2] * MM_TO_CM - vz
        lf = (pt, _eta(rec, i), _phi(rec, i), rec.m[i], (-dx * py + dy * px) / pt,
              dz - (dx * px + dy * py) / pt * pz / pt)
        li = ((-1 if ids[i] > 0 else 1), ids[i], new_index[i])
        if abs(ids[i]) == 11:
            for q in range(6):
                ele_f[re, q] = lf[q]
            for q in range(3):
                ele_i[re, q] = li[q]
            re += 1
        else:
            for q in range(6):
                mu_f[rm, q] = lf[q]
            for q in range(3):
                mu_i[rm, q] = li[q]
            rm += 1
    for k in range(nh):
        i = had[k]
        r = o[3] + k
        had_f[r, 0], had_f[r, 1], had_f[r, 2] = _pt(rec, i), _eta(rec, i), _phi(rec, i)
        had_i[r] = ids[i]
    for k in range(nk):
        new_index[keep[k]] = -1
    nm = nl - ne
    o[0] += nk
    o[1] += ne
    o[2] += nm
    o[3] += nh
    met = (hypot(met_x, met_y),
           math.atan2(met_y, met_x) if (met_x != 0.0 or met_y != 0.0) else 0.0)
    return (nk, ne, nm, nh), met, (vx, vy, vz)


@numba.njit(**_JIT)
def column_outputs(n_gen, n_lep, n_had):  # type: ignore[no-untyped-def]
    """Empty output arrays for :func:`plan_columns_into` with room for ``n_gen`` GenPart,
    ``n_lep`` Electron and ``n_lep`` Muon, ``n_had`` ChargedHadron entries: (GenPart
    floats, ints, Electron floats, ints, Muon floats, ints, ChargedHadron floats,
    pdgIds)."""
    return (np.empty((n_gen, len(GEN_F))), np.empty((n_gen, len(GEN_I)), np.int64),
            np.empty((n_lep, len(LEP_F))), np.empty((n_lep, len(LEP_I)), np.int64),
            np.empty((n_lep, len(LEP_F))), np.empty((n_lep, len(LEP_I)), np.int64),
            np.empty((n_had, len(HAD_F))), np.empty(n_had, np.int64))


@numba.njit(**_JIT)
def event_columns(rec):  # type: ignore[no-untyped-def]
    """The columns ``EventBuffer.append_pythia`` would extract from this record: (GenPart
    floats, GenPart ints, Electron floats, Electron ints, Muon floats, Muon ints,
    ChargedHadron floats, ChargedHadron pdgIds, MET (pt, phi), GenVtx (x, y, z) [cm]);
    column names in :data:`GEN_F`, :data:`GEN_I`, :data:`LEP_F`, :data:`LEP_I`,
    :data:`HAD_F`."""
    n = len(rec.id)
    plan = column_plan(rec, n, 0)
    gf, gi, ef, ei, uf, ui, hf, hi = column_outputs(n, n, n)
    o = np.zeros(4, np.int64)
    (nk, ne, nm, nh), met, vtx = plan_columns_into(rec, n, plan, -1, -1, gf, gi, ef, ei, uf,
                                                   ui, hf, hi, o)
    return gf[:nk], gi[:nk], ef[:ne], ei[:ne], uf[:nm], ui[:nm], hf[:nh], hi[:nh], met, vtx


@numba.njit(**_LEAF)
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
