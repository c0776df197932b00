"""The compiled engine of the sliced methods: event record → numba kernels → job statistics.

``run_sliced_job`` (:mod:`samples.background_sliced`) runs one of two engines over the
same Pythia events and random-number streams:

- ``"python"``: the reference implementation (closures over the ``pythia8mc`` event,
  per-particle accessor calls, the Python kernels of :mod:`samples.background_forced` and
  :mod:`samples.background_fsr`);
- ``"compiled"`` (default): :class:`CompiledEngine` copies each event record once into
  numpy arrays (:class:`samples.pythia_record.RecordReader`) and runs the whole event —
  photon scans, origins, recoilers, forced emissions and splittings, generation filter,
  truth preselection — in :func:`samples.background_kernels.soft_event_collect` /
  :func:`~samples.background_kernels.hard_event`; the written copies' NanoAOD columns are
  computed from the record too (:func:`samples.background_kernels.copies_columns`), so the
  Pythia event is only read, once.

The two give identical statistics, weights and files at the same seeds (bit for bit;
``tests/samples/test_background_compiled.py``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from samples import background_kernels as K
from samples import background_wdecay as WD
from samples import pcg64
from samples.background_sliced import RNG_WDECAY
from samples.pythia_record import RecordReader

ENGINES = ("compiled", "python")
#: Written copies collected before one ``EventBuffer.extend_columns`` call.
_BATCH_COPIES = 4096


class CompiledEngine:
    """Per-event driver of the compiled kernels for one ``sliced*`` job.

    ``presel``, ``aux``, ``hard_rows``, ``hard_buf`` are the job's lists (appended to as
    the reference does), ``thin`` its :class:`samples.background_sliced.CopyThinning`
    (called per event with the event's copies in the reference's order); :attr:`totals`
    holds the running sums of the loose pairs (indices ``samples.background_kernels.T_*``),
    accumulated in the reference's order. The kernels draw from the states of ``rng`` and ``rng_q``
    (:mod:`samples.pcg64`), which are written back into the generators by :meth:`fill`;
    nothing else may draw from them in between.
    """

    def __init__(self, task: Any, *, rng: np.random.Generator, rng_q: np.random.Generator,
                 buf: Any, m_wlep: float, presel: list, aux: list, hard_rows: list,
                 hard_buf: list, thin: Any) -> None:
        self.task = task
        self.rng, self.rng_q = rng, rng_q
        self._st, self._st_q = pcg64.state_of(rng), pcg64.state_of(rng_q)
        #: ``w_decays`` > 1: the redrawn W-decay angles' own stream (seeded per (seed, job)).
        self.w_decays = int(task.w_decays)
        self.rng_w = np.random.default_rng([task.seed, task.job, RNG_WDECAY])
        self._st_w = pcg64.state_of(self.rng_w)
        self.buf = buf
        self.m_wlep = float(m_wlep)
        self.presel, self.aux, self.hard_rows, self.hard_buf = presel, aux, hard_rows, hard_buf
        self.thin = thin  # samples.background_sliced.CopyThinning
        #: Its draws are made by :func:`samples.background_kernels.thin_copies` from the
        #: state of its generator (written back by :meth:`fill`).
        self._thinning = thin.keep < 1.0
        self._st_t = pcg64.state_of(thin.rng)
        #: Written copies' columns not yet in ``buf`` (added in batches: one
        #: ``extend_columns`` per ~4000 copies instead of one per event).
        self._pending: list[tuple] = []
        self._n_pending = 0
        self.totals = np.zeros(K.N_TOTALS)
        self.forced_fsr = task.method in ("sliced_fsr", "sliced_fsrq")
        self.forced_q = task.method == "sliced_fsrq"
        self._reader: RecordReader | None = None
        self._atab = np.zeros(0)

    def use(self, pythia: Any) -> None:
        """Read events of ``pythia`` from now on (alphaEM constants checked against it)."""
        self._reader = RecordReader(pythia)
        self._atab = K.checked_alpha_em_table(pythia)

    def soft_event(self, event: Any, w_py: float, iev: int) -> None:
        """One event of sample S (with D and Q for the forced-emission methods; with
        ``w_decays`` > 1 its redrawn W-decay configurations), from the record to the kept
        rows and written columns in one compiled call
        (:func:`samples.background_kernels.soft_event_collect`)."""
        t = self.task
        args = (self.w_decays, self._st_w, self.thin.keep, self._st_t, self.buf is not None,
                float(w_py), float(t.slice_pt), int(t.oversample_soft), self.forced_fsr,
                self.forced_q, int(t.fsr_emissions), int(t.quark_emissions), self.m_wlep,
                self._st, self._st_q, self._atab, self.totals)
        out = self._fast(event, K.soft_event_collect_at, args)
        if out is None:
            out = K.soft_event_collect(self._read(event), *args)
        sel, w, bias, n_drop, cols = out
        for row in sel.tolist():
            self.presel.append((row[0], row[1], row[2], iev, int(row[3])))
            self.aux.append((int(row[4]), row[5], row[6], int(row[7])))
        self.thin.n_dropped += n_drop
        if len(w):
            self.thin.written(w, False)
            if self.buf is not None:
                self._pending.append((*cols, w, bias, np.full(len(w), iev)))
                self._n_pending += len(w)
                if self._n_pending >= _BATCH_COPIES:
                    self._flush()

    def hard_event(self, event: Any, w_h: float, iev: int) -> None:
        """One event of sample H (its hard-process photon split)."""
        args = (float(w_h), int(self.task.oversample), self._st, self._atab, self.totals)
        out = self._fast(event, K.hard_event_at, args)
        if out is None:
            rec = self._read(event)
            out = K.hard_event(rec, *args)
        else:
            *out, rec = out
        self._collect(rec, iev, *out)

    def _read(self, event: Any) -> Any:
        assert self._reader is not None
        return self._reader.read(event)

    def _fast(self, event: Any, kernel: Any, args: tuple) -> tuple | None:
        """``kernel`` on the event's particle array read in place (one compiled call), once
        the reader is verified: its outputs; ``None`` when the record must go through
        :meth:`RecordReader.read` (verification, fallback, or an id new to the table —
        nothing has been drawn then)."""
        reader = self._reader
        assert reader is not None
        if not reader.verified:
            return None
        where = reader.locate(event)
        if where is None:
            return None
        *out, miss = kernel(*where, *reader.ids.arrays, *args)
        return None if miss else tuple(out)

    def _collect(self, rec: Any, iev: int, f: np.ndarray, irow: np.ndarray,
                 mv_i: np.ndarray, mv_p: np.ndarray) -> None:
        """Sample H: append the preselected rows, thin the copies and write those kept, in
        the kernel's order (all copies are of part 1; the same steps as
        :func:`samples.background_kernels.soft_event_collect` for sample S)."""
        if len(f) == 0:
            return
        sel = f[:, K.C_PRESEL] != 0
        if sel.any():
            for row in f[sel].tolist():
                self.hard_rows.append(len(self.presel))
                self.presel.append((row[K.C_MLL], row[K.C_LEAD], row[K.C_W], iev,
                                    int(row[K.C_FLAV])))
                self.aux.append((int(row[K.C_ORIGIN]), row[K.C_PTG], row[K.C_SCALE], 1))
        if self._thinning:
            kept, fac, n_drop = K.thin_copies(f, self.thin.keep, self._st_t)
            self.thin.n_dropped += n_drop
            f, irow = f[kept], irow[kept]  # copies: f is changed below
            if not len(f):
                return
            f[:, K.C_W] *= fac
            f[:, K.C_BIAS] *= fac
        self.thin.written(f[:, K.C_W], True)
        if self.buf is not None:
            base = len(self.buf) + self._n_pending
            self.hard_buf.extend(range(base, base + len(f)))
            self._write(rec, f, irow, mv_i, mv_p, iev)

    def _write(self, rec: Any, f: np.ndarray, irow: np.ndarray, mv_i: np.ndarray,
               mv_p: np.ndarray, iev: int) -> None:
        """Append the event's written copies to the buffer: NanoAOD columns computed from
        the record with the copies' edits (``samples.background_kernels.copies_columns``),
        the compiled twin of the ``write_*_copy`` helpers + ``EventBuffer.append_pythia``."""
        # The argument types of sample S's call (one compiled specialisation, not two).
        ps = np.ascontiguousarray(rec.p[np.newaxis])
        cols = K.copies_columns(rec, f, irow, mv_i, mv_p, ps, np.zeros(len(f), np.int64))
        self._pending.append((*cols, f[:, K.C_W], f[:, K.C_BIAS], np.full(len(f), iev)))
        self._n_pending += len(f)
        if self._n_pending >= _BATCH_COPIES:
            self._flush()

    def _flush(self) -> None:
        """Move the pending copies into the buffer (same order, one call)."""
        if not self._pending:
            return
        parts = [np.concatenate(x) for x in zip(*self._pending, strict=True)]
        gf, gi, ef, ei, uf, ui, hf, hi, counts, met, vtx, w, bias, group = parts
        self._pending, self._n_pending = [], 0
        self.buf.extend_columns({"GenPart": (gf, gi), "Electron": (ef, ei), "Muon": (uf, ui),
                                 "ChargedHadron": (hf, hi)}, counts, met, vtx, w,
                                extra={"biasWeight": bias, "genEventGroup": group})

    def fill(self, loose: dict) -> None:
        """Copy the running totals into the job's ``loose`` dict; hand the random-number
        states back to the generators; move the pending copies into the buffer."""
        if self.buf is not None:
            self._flush()
        pcg64.restore(self.rng, self._st)
        pcg64.restore(self.rng_q, self._st_q)
        pcg64.restore(self.rng_w, self._st_w)
        pcg64.restore(self.thin.rng, self._st_t)
        t = self.totals
        loose[11, 0], loose[13, 0] = float(t[K.T_LOOSE_E_S]), float(t[K.T_LOOSE_MU_S])
        loose[11, 1], loose[13, 1] = float(t[K.T_LOOSE_E_H]), float(t[K.T_LOOSE_MU_H])
