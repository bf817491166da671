"""The noding's candidate pairs (``noding._envelope_pairs``) against an STRtree query.

Every pair of boxes that intersect or touch, once, with ``i < j``, sorted: the pairs
``shapely.STRtree(boxes).query(boxes)`` gives (an independent search), for boxes of very
different sizes (a few long ones make the grid coarser), shared edges and corners,
points (zero-size boxes) and duplicates.
"""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from urbanform.network.noding import _envelope_pairs


def _tree_pairs(lo: np.ndarray, hi: np.ndarray) -> set[tuple[int, int]]:
    boxes = shapely.box(lo[:, 0], lo[:, 1], hi[:, 0], hi[:, 1])
    a, b = shapely.STRtree(boxes).query(boxes)
    return {(int(i), int(j)) for i, j in zip(a, b, strict=True) if i < j}


def _check(lo: np.ndarray, hi: np.ndarray) -> None:
    i, j = _envelope_pairs(lo, hi)
    assert np.all(i < j)
    assert np.array_equal(np.lexsort((j, i)), np.arange(i.size))  # sorted by i, then j
    got = list(zip(i.tolist(), j.tolist(), strict=True))
    assert len(got) == len(set(got))  # each pair once
    assert set(got) == _tree_pairs(lo, hi)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_segments_short_and_long(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 3000
    p0 = rng.uniform(0, 5000, size=(n, 2))
    length = np.where(rng.random(n) < 0.01, 3000.0, 60.0)  # 1% long streets
    ang = rng.uniform(0, 2 * np.pi, n)
    p1 = p0 + length[:, None] * np.column_stack([np.cos(ang), np.sin(ang)])
    # snap to a 10 m lattice: many boxes share edges, corners and whole coordinates
    p0, p1 = np.round(p0 / 10) * 10, np.round(p1 / 10) * 10
    _check(np.minimum(p0, p1), np.maximum(p0, p1))


def test_touching_corners_points_and_duplicates() -> None:
    lo = np.array([[0, 0], [10, 10], [10, 0], [20, 20], [5, 5], [5, 5], [30, 0], [0, 30]], float)
    hi = np.array([[10, 10], [20, 20], [10, 0], [20, 20], [5, 5], [5, 5], [40, 0], [0, 40]], float)
    _check(lo, hi)
    i, j = _envelope_pairs(lo, hi)
    pairs = set(zip(i.tolist(), j.tolist(), strict=True))
    assert (0, 1) in pairs  # corner to corner at (10, 10)
    assert (1, 3) in pairs  # a point on a corner
    assert (4, 5) in pairs  # the same point twice
    assert (6, 7) not in pairs


def test_no_boxes_and_one_box() -> None:
    for n in (0, 1):
        i, j = _envelope_pairs(np.zeros((n, 2)), np.ones((n, 2)))
        assert i.size == 0 and j.size == 0
