"""The compiled engine of the sliced methods: event record → numba kernels → job statistics.

``run_sliced_job`` (:mod:`samples.background_sliced`) runs one of two engines over the
same Pythia events and random-number streams:

- ``"python"``: the reference implementation (closures over the ``pythia8mc`` event,
  per-particle accessor calls, the Python kernels of :mod:`samples.background_forced` and
  :mod:`samples.background_fsr`);
- ``"compiled"`` (default): :class:`CompiledEngine` copies each event record once into
  numpy arrays (:class:`samples.pythia_record.RecordReader`) and runs the whole event —
  photon scans, origins, recoilers, forced emissions and splittings, generation filter,
  truth preselection — in :func:`samples.background_kernels.soft_event_into` /
  :func:`~samples.background_kernels.hard_event`; the written copies' NanoAOD columns are
  computed from the record too and written straight into the job's
  :class:`samples.nanoaod.ColumnBuffer` (:func:`samples.background_kernels.copies_columns_into`),
  so the Pythia event is only read, once, and nothing is collected per event in Python.

The two give identical statistics, weights and files at the same seeds (bit for bit;
``tests/samples/test_background_compiled.py``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from samples import background_kernels as K
from samples import background_sliced as BS
from samples import pcg64
from samples.nanoaod import ColumnBuffer
from samples.pythia_record import RecordReader

ENGINES = ("compiled", "python")


class CompiledEngine:
    """Per-event driver of the compiled kernels for one ``sliced*`` job.

    ``buf`` is the job's :class:`samples.nanoaod.ColumnBuffer` (``None``: no file; the
    engine then keeps the written copies' weights in one of its own). ``presel``, ``aux``,
    ``hard_rows``, ``hard_buf`` are the job's lists (appended to as the reference does),
    ``thin`` its :class:`samples.background_sliced.CopyThinning` (its draws are made by the
    kernels in the reference's order; the written weights are handed to it by
    :meth:`fill`); :attr:`totals` holds the running sums of the loose pairs (indices
    ``samples.background_kernels.T_*``), accumulated in the reference's order. The kernels
    draw from the states of ``rng`` and ``rng_q`` (:mod:`samples.pcg64`), which are
    written back into the generators by :meth:`fill`; nothing else may draw from them in
    between.
    """

    def __init__(self, task: Any, *, rng: np.random.Generator, rng_q: np.random.Generator,
                 buf: ColumnBuffer | None, m_wlep: float, presel: list, aux: list,
                 hard_rows: list, hard_buf: list, thin: Any) -> None:
        self.task = task
        self.rng, self.rng_q = rng, rng_q
        self._st, self._st_q = pcg64.state_of(rng), pcg64.state_of(rng_q)
        #: ``w_decays`` > 1: the redrawn W-decay angles' own stream (seeded per (seed, job)).
        self.w_decays = int(task.w_decays)
        self.rng_w = np.random.default_rng([task.seed, task.job, BS.RNG_WDECAY])
        self._st_w = pcg64.state_of(self.rng_w)
        self.buf = buf
        #: Where the copies go: the job's buffer, or (no file) weights only.
        self.cols = buf if buf is not None else ColumnBuffer(
            hadron_level=task.hadron_level, columns=False,
            initial_copies=BS.expected_copies(task))
        self.m_wlep = float(m_wlep)
        self.presel, self.aux, self.hard_rows, self.hard_buf = presel, aux, hard_rows, hard_buf
        self.thin = thin  # samples.background_sliced.CopyThinning
        #: Its draws are made by :func:`samples.background_kernels.thin_copies` from the
        #: state of its generator (written back by :meth:`fill`).
        self._thinning = thin.keep < 1.0
        self._st_t = pcg64.state_of(thin.rng)
        self.totals = np.zeros(K.N_TOTALS)
        self.forced_fsr = task.method in ("sliced_fsr", "sliced_fsrq")
        self.forced_q = task.method == "sliced_fsrq"
        self._reader: RecordReader | None = None
        self._atab = np.zeros(0)
        t = task
        # The arguments of soft_event_into around the event's weight (one tuple each).
        self._args_pre = (self.w_decays, self._st_w, self.thin.keep, self._st_t,
                          self.buf is not None)
        self._args_post = (float(t.slice_pt), int(t.oversample_soft), self.forced_fsr,
                           self.forced_q, int(t.fsr_emissions), int(t.quark_emissions),
                           self.m_wlep, self._st, self._st_q, self._atab, self.totals)

    def use(self, pythia: Any) -> None:
        """Read events of ``pythia`` from now on (alphaEM constants checked against it)."""
        self._reader = RecordReader(pythia)
        self._atab = K.checked_alpha_em_table(pythia)
        self._args_post = (*self._args_post[:-2], self._atab, self.totals)

    def soft_event(self, event: Any, w_py: float, iev: int) -> None:
        """One event of sample S (with D and Q for the forced-emission methods; with
        ``w_decays`` > 1 its redrawn W-decay configurations), from the record to the kept
        rows and written copies in one compiled call
        (:func:`samples.background_kernels.soft_event_into`; repeated with a larger
        buffer when the event does not fit, which restores what it drew)."""
        cols = self.cols
        rec = None
        while True:
            args = (*self._args_pre, float(w_py), *self._args_post, cols.arrays, cols.pos, iev)
            out = self._fast(event, K.soft_event_into_at, args) if rec is None else None
            if out is None:
                rec = self._read(event) if rec is None else rec
                out = K.soft_event_into(rec, *args)
            sel, n_drop, grow = out
            if not grow[4]:
                break
            cols.reserve(grow)
        if len(sel):
            for row in sel.tolist():
                self.presel.append((row[0], row[1], row[2], iev, int(row[3])))
                self.aux.append((int(row[4]), row[5], row[6], int(row[7])))
        self.thin.n_dropped += n_drop

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
        :func:`samples.background_kernels.soft_event_into` for sample S)."""
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
            base = len(self.buf)
            self.hard_buf.extend(range(base, base + len(f)))
            self._write(rec, f, irow, mv_i, mv_p, iev)

    def _write(self, rec: Any, f: np.ndarray, irow: np.ndarray, mv_i: np.ndarray,
               mv_p: np.ndarray, iev: int) -> None:
        """Write the event's copies into the buffer: NanoAOD columns computed from the
        record with the copies' edits (``samples.background_kernels.copies_columns_into``),
        the compiled twin of the ``write_*_copy`` helpers + ``EventBuffer.append_pythia``."""
        assert self.buf is not None
        # The argument types of sample S's call (one compiled specialisation, not two).
        ps = np.ascontiguousarray(rec.p[np.newaxis])
        K.write_copies(self.buf, rec, f, irow, mv_i, mv_p, ps, np.zeros(len(f), np.int64),
                       iev, hard=True)

    def fill(self, loose: dict) -> None:
        """Copy the running totals into the job's ``loose`` dict; hand the random-number
        states back to the generators and the written weights of S (and D, Q) to the
        thinning's sums."""
        pcg64.restore(self.rng, self._st)
        pcg64.restore(self.rng_q, self._st_q)
        pcg64.restore(self.rng_w, self._st_w)
        pcg64.restore(self.thin.rng, self._st_t)
        self.thin.written(self.cols.weights(hard=False), False)
        t = self.totals
        loose[11, 0], loose[13, 0] = float(t[K.T_LOOSE_E_S]), float(t[K.T_LOOSE_MU_S])
        loose[11, 1], loose[13, 1] = float(t[K.T_LOOSE_E_H]), float(t[K.T_LOOSE_MU_H])
