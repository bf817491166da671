"""Choosing sites on a candidate-by-unit coverage matrix: greedy (CELF) and exact (HiGHS).

The problem is maximum coverage. ``cover[j, u]`` is True where candidate ``j`` would
newly cover unit ``u``; covering ``u`` gains ``weight[u]`` (residents, or m² of land).
Two questions are answered:

``target``
    The fewest sites (or the least total ``cost``) whose covered weight reaches
    ``need`` (partial set cover), optionally with at most ``max_sites`` sites.
``budget``
    The ``max_sites`` sites that cover the most weight.

:func:`greedy` is the lazy greedy of Minoux (CELF, Leskovec et al. 2007): gains only
shrink as sites are added (coverage is submodular), so a candidate whose stale gain
still heads the heap is the best one. :func:`exact` solves the same problem as an
integer program with HiGHS; :func:`choose` runs both when the instance is small enough
and reports how far the greedy result is from the optimum (or a bound on it).
"""

from __future__ import annotations

import heapq
import logging
import math
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import sparse

__all__ = ["Choice", "Gap", "Plan", "choose", "covered_weight", "exact", "greedy", "ranked"]

log = logging.getLogger(__name__)

EXACT_TIME_LIMIT_S = 120.0
"""HiGHS gives up after this long; the greedy result and its bound are used instead."""

_E_BOUND = 1.0 / (1.0 - 1.0 / math.e)
"""Greedy maximum coverage reaches at least (1 - 1/e) of the optimum (Nemhauser et al. 1978)."""


@dataclass
class Choice:
    """Sites in the order chosen, with the weight each one added."""

    order: list[int]
    gains: list[float]

    @property
    def covered(self) -> float:
        """The total weight the sites cover."""
        return float(sum(self.gains))


@dataclass
class Gap:
    """How far the greedy result is (at most) from the optimum.

    ``measure`` is ``sites`` or ``cost`` (target mode: greedy minus optimum, a
    non-negative number of sites or cost) or ``value`` (budget mode: optimum minus
    greedy covered weight, as a share of the indicator's denominator). ``source`` is
    ``exact`` when HiGHS proved the optimum, otherwise ``bound`` with ``bound`` saying
    which bound was used.
    """

    measure: str
    value: float
    greedy: float
    optimum: float | None
    source: str
    bound: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mapping (``sites.json``)."""
        return {
            "measure": self.measure,
            "value": self.value,
            "greedy": self.greedy,
            "optimum": self.optimum,
            "source": self.source,
            "bound": self.bound,
        }


@dataclass
class Plan:
    """The chosen sites and how they were found."""

    choice: Choice
    mode: str
    method: str
    gap: Gap
    greedy: Choice
    notes: list[str] = field(default_factory=list)


def _tol(weight: np.ndarray) -> float:
    return 1e-9 * max(float(np.sum(weight)), 1.0)


def covered_weight(cover: sparse.csr_matrix, weight: np.ndarray, chosen: list[int]) -> float:
    """The weight of the units covered by at least one of ``chosen``.

    Examples
    --------
    >>> from scipy import sparse
    >>> m = sparse.csr_matrix(np.array([[1, 1, 0], [0, 1, 1]], dtype=bool))
    >>> covered_weight(m, np.array([1.0, 2.0, 4.0]), [0, 1])
    7.0
    """
    if not chosen:
        return 0.0
    hit = np.asarray(cover[chosen].sum(axis=0)).ravel() > 0
    return float(weight[hit].sum())


def greedy(
    cover: sparse.csr_matrix,
    weight: np.ndarray,
    cost: np.ndarray | None = None,
    *,
    need: float | None = None,
    max_sites: int | None = None,
) -> Choice:
    """Lazy greedy maximum coverage (CELF).

    Parameters
    ----------
    cover
        ``(n_candidates, n_units)`` boolean CSR matrix.
    weight
        ``(n_units,)`` weight of each unit.
    cost
        ``(n_candidates,)`` positive costs; with ``need`` the greedy picks the best gain
        per cost (``None``: every site costs 1).
    need
        Stop once the covered weight reaches this (``None``: no such stop).
    max_sites
        Stop after this many sites (``None``: no limit).

    Returns
    -------
    Choice
        A candidate that adds nothing is never chosen.

    Examples
    --------
    >>> from scipy import sparse
    >>> m = sparse.csr_matrix(np.array([[1, 1, 0, 0], [0, 1, 1, 0], [0, 0, 1, 1]], dtype=bool))
    >>> greedy(m, np.ones(4), max_sites=2).order
    [0, 2]
    """
    cover = sparse.csr_matrix(cover, dtype=bool)
    cover.sort_indices()
    indptr, indices = cover.indptr, cover.indices
    by_cost = cost is not None and need is not None
    price = np.ones(cover.shape[0]) if not by_cost else np.asarray(cost, dtype=float)
    covered = np.zeros(cover.shape[1], dtype=bool)
    tol = _tol(weight)

    def gain(j: int) -> float:
        idx = indices[indptr[j]:indptr[j + 1]]
        return float(weight[idx[~covered[idx]]].sum())

    first = np.add.reduceat(np.r_[weight[indices], 0.0], indptr[:-1]) if indices.size else None
    heap = []
    for j in range(cover.shape[0]):
        g = 0.0 if first is None or indptr[j] == indptr[j + 1] else float(first[j])
        if g > tol:
            heap.append((-g / price[j], j, g, 0))
    heapq.heapify(heap)
    order: list[int] = []
    gains: list[float] = []
    got = 0.0
    goal = math.inf if need is None else need - tol
    cap = cover.shape[0] if max_sites is None else max_sites
    while heap and got < goal and len(order) < cap:
        _, j, g, stamp = heapq.heappop(heap)
        if stamp == len(order):  # fresh: nothing was added since it was computed
            order.append(j)
            gains.append(g)
            got += g
            idx = indices[indptr[j]:indptr[j + 1]]
            covered[idx] = True
            continue
        g = gain(j)
        if g > tol:
            heapq.heappush(heap, (-g / price[j], j, g, len(order)))
    return Choice(order, gains)


def ranked(cover: sparse.csr_matrix, weight: np.ndarray, chosen: list[int]) -> Choice:
    """``chosen`` ordered by marginal gain (the greedy order within the set).

    A site that adds nothing once the others are in is dropped.

    Examples
    --------
    >>> from scipy import sparse
    >>> m = sparse.csr_matrix(np.array([[1, 0, 0], [0, 1, 1]], dtype=bool))
    >>> c = ranked(m, np.ones(3), [0, 1])
    >>> c.order, c.gains
    ([1, 0], [2.0, 1.0])
    """
    sub = sparse.csr_matrix(cover, dtype=bool)[chosen]
    inner = greedy(sub, weight, max_sites=len(chosen))
    return Choice([chosen[i] for i in inner.order], inner.gains)


@contextmanager
def _quiet_stdout() -> Iterator[None]:
    """Keep the banner HiGHS prints from its constructor (C level) off standard output."""
    try:
        if sys.__stdout__ is not None:
            sys.__stdout__.flush()
        fd = 1
        saved = os.dup(fd)
    except (OSError, ValueError):
        yield
        return
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, fd)
        yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)
        os.close(null)


def _groups(cover: sparse.csr_matrix, weight: np.ndarray) -> tuple[sparse.csc_matrix, np.ndarray]:
    """Units merged by the set of candidates that cover them (weights summed).

    Units no candidate covers are dropped. Two random projections identify a column's
    set of candidates (a collision has probability about 2**-100).
    """
    csc = sparse.csc_matrix(cover, dtype=float)
    used = np.flatnonzero(np.diff(csc.indptr) > 0)
    csc = csc[:, used]
    rng = np.random.default_rng(0)
    keys = np.column_stack([csc.T @ rng.random(csc.shape[0]) for _ in range(2)])
    _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    w = np.bincount(inverse.ravel(), weights=weight[used], minlength=len(first))
    return sparse.csc_matrix(csc[:, first], dtype=bool), w


def exact(
    cover: sparse.csr_matrix,
    weight: np.ndarray,
    cost: np.ndarray | None = None,
    *,
    need: float | None = None,
    max_sites: int | None = None,
    time_limit_s: float = EXACT_TIME_LIMIT_S,
) -> list[int] | None:
    """The optimal sites by integer programming (HiGHS), or ``None`` if not proved.

    Variables: ``x_j`` (site j built, binary) and ``y_g`` (unit group g covered, in
    [0, 1]); ``y_g <= sum of x_j over the sites covering g``. With ``need``: minimise
    ``sum cost_j x_j`` subject to ``sum w_g y_g >= need`` (and ``sum x_j <= max_sites``);
    without: maximise ``sum w_g y_g`` subject to ``sum x_j <= max_sites``.

    Returns
    -------
    list of int or None
        Candidate positions; ``None`` when the problem is infeasible or HiGHS did not
        prove optimality within ``time_limit_s``.
    """
    import highspy

    n = cover.shape[0]
    groups, w = _groups(cover, weight)
    g = len(w)
    scale = max(float(w.sum()), 1.0)
    rows: list[tuple[np.ndarray, np.ndarray, float, float]] = []
    for k in range(g):  # y_g - sum x_j <= 0
        js = groups.indices[groups.indptr[k]:groups.indptr[k + 1]]
        rows.append((np.r_[n + k, js], np.r_[1.0, -np.ones(len(js))], -highspy.kHighsInf, 0.0))
    if need is not None:
        rows.append((n + np.arange(g), w / scale, need / scale - 1e-9, highspy.kHighsInf))
    if max_sites is not None:
        rows.append((np.arange(n), np.ones(n), -highspy.kHighsInf, float(max_sites)))
    c = np.asarray(cost, dtype=float) if cost is not None else np.ones(n)
    obj = np.r_[c, np.zeros(g)] if need is not None else np.r_[np.zeros(n), -w / scale]
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n + g, len(rows)
    lp.col_cost_ = obj
    lp.col_lower_, lp.col_upper_ = np.zeros(n + g), np.ones(n + g)
    lp.row_lower_ = np.array([r[2] for r in rows])
    lp.row_upper_ = np.array([r[3] for r in rows])
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_ = np.r_[0, np.cumsum([len(r[0]) for r in rows])].astype(np.int32)
    lp.a_matrix_.index_ = np.concatenate([r[0] for r in rows]).astype(np.int32)
    lp.a_matrix_.value_ = np.concatenate([r[1] for r in rows]).astype(float)
    lp.integrality_ = [highspy.HighsVarType.kInteger] * n + [highspy.HighsVarType.kContinuous] * g
    with _quiet_stdout():
        h = highspy.Highs()  # type: ignore[no-untyped-call]
        h.setOptionValue("output_flag", False)
    for key, value in (("time_limit", float(time_limit_s)), ("mip_rel_gap", 0.0),
                       ("mip_abs_gap", 1e-12), ("mip_feasibility_tolerance", 1e-9),
                       ("primal_feasibility_tolerance", 1e-9), ("random_seed", 0)):
        h.setOptionValue(key, value)
    h.passModel(lp)
    h.run()
    status = h.getModelStatus()
    if status != highspy.HighsModelStatus.kOptimal:
        log.info("HiGHS ended with status %s", h.modelStatusToString(status))
        return None
    x = np.asarray(h.getSolution().col_value[:n])
    return [int(j) for j in np.flatnonzero(x > 0.5)]


def _target_bound(
    cover: sparse.csr_matrix, weight: np.ndarray, cost: np.ndarray | None, need: float
) -> float:
    """A lower bound on the sites (or cost) any solution needs to cover ``need``.

    Sites together cover at most the sum of what each covers alone, so the optimum is at
    least the fractional knapsack of single-site gains (with unit costs: the smallest k
    whose k largest single gains reach ``need``).
    """
    single = np.asarray(sparse.csr_matrix(cover, dtype=float) @ weight).ravel()
    c = np.ones(len(single)) if cost is None else np.asarray(cost, dtype=float)
    order = np.argsort(-single / c, kind="stable")
    got, spent = 0.0, 0.0
    for j in order:
        if single[j] <= 0:
            break
        if got + single[j] >= need:
            part = (need - got) / single[j]
            return spent + (1.0 if cost is None else part * c[j])
        got, spent = got + single[j], spent + c[j]
    return math.inf


def _budget_bound(cover: sparse.csr_matrix, weight: np.ndarray, done: Choice, k: int) -> float:
    """An upper bound on the weight k sites can cover, from the greedy result.

    The smaller of the (1 - 1/e) bound and the data-dependent bound of submodularity:
    the optimum is at most the greedy coverage plus the k largest marginal gains left.
    """
    covered = np.zeros(cover.shape[1], dtype=bool)
    if done.order:
        covered[np.asarray(cover[done.order].sum(axis=0)).ravel() > 0] = True
    left = np.asarray(sparse.csr_matrix(cover, dtype=float) @ np.where(covered, 0.0, weight))
    top = np.sort(left.ravel())[::-1][:k]
    return min(done.covered * _E_BOUND, done.covered + float(top.sum()))


def _objective(choice: Choice, cost: np.ndarray | None) -> float:
    return float(len(choice.order)) if cost is None else float(np.sum(cost[choice.order]))


def choose(
    cover: sparse.csr_matrix,
    weight: np.ndarray,
    cost: np.ndarray | None = None,
    *,
    need: float | None,
    max_sites: int | None,
    exact_max: int,
    total: float,
) -> Plan:
    """Greedy sites, and exact ones when ``n_candidates * n_unit_groups <= exact_max``.

    Parameters
    ----------
    cover, weight, cost
        As for :func:`greedy`.
    need
        Weight to reach (target mode), or ``None`` (budget mode: ``max_sites`` needed).
    max_sites
        At most this many sites.
    exact_max
        Size limit of the integer program (0: never run it).
    total
        The indicator's denominator: budget-mode gaps are shares of it.

    Returns
    -------
    Plan
        The exact sites when HiGHS proved them optimal (``method`` ``exact``), else the
        greedy ones; ``gap`` says how far the greedy result is from the optimum.
    """
    mode = "target" if need is not None else "budget"
    done = greedy(cover, weight, cost, need=need, max_sites=max_sites)
    notes = []
    if mode == "target" and done.covered < need - _tol(weight):  # type: ignore[operator]
        notes.append(f"the target needs more than {max_sites} sites: the best {max_sites} "
                     "sites are shown")
        mode, need = "budget", None
        done = greedy(cover, weight, max_sites=max_sites)
    n_groups = _groups(cover, weight)[1].size if exact_max > 0 else 0  # the program's size
    small = 0 < cover.shape[0] * max(n_groups, 1) <= exact_max
    best = exact(cover, weight, cost if mode == "target" else None, need=need,
                 max_sites=max_sites) if small else None
    if small and best is None:
        notes.append("HiGHS did not prove an optimum in time: the greedy sites are shown")
    elif not small:
        notes.append(f"exact mode skipped: {cover.shape[0]} candidates x {n_groups} unit groups "
                     f"exceeds the limit of {exact_max:,}")
    if mode == "target":
        c = cost
        g_obj = _objective(done, c)
        if best is not None:
            opt = _objective(Choice(best, [0.0] * len(best)), c)
            gap = Gap("sites" if c is None else "cost", g_obj - opt, g_obj, opt, "exact")
        else:
            lb = _target_bound(cover, weight, c, need)  # type: ignore[arg-type]
            gap = Gap("sites" if c is None else "cost", g_obj - lb, g_obj, None, "bound",
                      "lower bound of the optimum: fractional knapsack of single-site gains")
    else:
        k = max_sites if max_sites is not None else len(done.order)
        if best is not None:
            opt = covered_weight(cover, weight, best)
            gap = Gap("value", (opt - done.covered) / total, done.covered / total,
                      opt / total, "exact")
        else:
            ub = _budget_bound(cover, weight, done, k)
            gap = Gap("value", (ub - done.covered) / total, done.covered / total, None, "bound",
                      "upper bound of the optimum: min((1-1/e) bound, greedy + k best "
                      "marginal gains left)")
    if best is not None:
        return Plan(ranked(cover, weight, best), mode, "exact", gap, done, notes)
    return Plan(done, mode, "greedy", gap, done, notes)
