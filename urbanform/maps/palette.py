"""Colour ramps and class breaks shared by the HTML maps and the QGIS styles.

One place decides how a value becomes a colour, so a district drawn in the report and
the same district opened in QGIS look the same.

Examples
--------
>>> import numpy as np
>>> breaks = class_breaks(np.array([0.2, 0.95]), ramp="good")
>>> breaks
[0.0, 0.5, 0.7, 0.8, 0.9, 1.0]
>>> color_for(0.95, breaks, "good") == RAMPS["good"][-1]
True
>>> color_for(float("nan"), breaks, "good")
'#cccccc'
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from urbanform.errors import OutputError

__all__ = [
    "RAMPS",
    "NODATA_COLOR",
    "SHARE_BREAKS",
    "class_breaks",
    "target_breaks",
    "class_colors",
    "class_index",
    "color_for",
]

#: Palette name -> five hex colours, low -> high (ColorBrewer 5-class schemes).
RAMPS: dict[str, list[str]] = {
    # RdYlGn: low share = red, high share = green (shares where more is better)
    "good": ["#d7191c", "#fdae61", "#ffffbf", "#a6d96a", "#1a9641"],
    # Reds: light -> dark red (gaps, deficits: more is worse)
    "bad": ["#fee5d9", "#fcae91", "#fb6a4a", "#de2d26", "#a50f15"],
    # Blues: neutral sequential (population, counts)
    "seq": ["#eff3ff", "#bdd7e7", "#6baed6", "#3182bd", "#08519c"],
    # RdBu: below 1 red, around 1 light, above 1 blue (jobs-housing ratios)
    "diverging": ["#ca0020", "#f4a582", "#f7f7f7", "#92c5de", "#0571b0"],
}

#: Colour of a missing value (None or NaN).
NODATA_COLOR = "#cccccc"

#: Colour of a layer whose hints give neither ``value_field`` nor ``color``.
DEFAULT_COLOR = "#3366cc"

#: Fixed breaks for shares in [0, 1] drawn with the ``good`` or ``bad`` ramp.
SHARE_BREAKS: list[float] = [0.0, 0.5, 0.7, 0.8, 0.9, 1.0]


def _check_ramp(ramp: str) -> list[str]:
    if ramp not in RAMPS:
        raise OutputError(
            f"unknown colour ramp {ramp!r}; use one of {', '.join(sorted(RAMPS))} "
            "in the layer's attrs['urbanform']['ramp']"
        )
    return RAMPS[ramp]


def target_breaks(target: float, *, n: int = 5) -> list[float]:
    """Share breaks in [0, 1] with ``target`` on a class edge.

    With the default five classes: ``[0, t/2, 0.8 t, t, t + (1 - t)/2, 1]``. Three
    classes lie below the target (the ``good`` ramp's red, orange and yellow: far
    from, short of, and close to the target, the closest one the narrowest) and two
    above it (its two greens: met, met with room), so a value reaching the target
    turns green whatever the target is. A value equal to the target falls in the class
    above it (see :func:`class_index`). Other ``n``: ``n - n // 2`` even classes below
    the target and ``n // 2`` above it (``[0, 1]`` for ``n = 1``).

    Parameters
    ----------
    target
        The share to reach, strictly between 0 and 1.
    n
        Number of classes.

    Returns
    -------
    list of float
        Ascending, deduplicated breaks from 0 to 1.

    Raises
    ------
    OutputError
        When ``target`` is not strictly between 0 and 1.

    Examples
    --------
    >>> target_breaks(0.4)
    [0.0, 0.2, 0.32, 0.4, 0.7, 1.0]
    """
    t = float(target)
    if not 0.0 < t < 1.0:
        raise OutputError(
            f"a share target for class breaks must lie strictly between 0 and 1, got "
            f"{target!r}; check the analysis' target value"
        )
    if n == 1:
        return [0.0, 1.0]
    if n == 5:
        raw = [0.0, t / 2, 0.8 * t, t, t + (1.0 - t) / 2, 1.0]
    else:
        n_hi = n // 2
        lo = np.linspace(0.0, t, n - n_hi + 1)
        hi = np.linspace(t, 1.0, n_hi + 1)[1:]
        raw = [*lo.tolist(), *hi.tolist()]
    # derived breaks rounded (0.8 * 0.41 is 0.32799999999999996); the target kept exact
    derived = {round(float(b), 12) for b in raw} - {round(t, 12)}
    return sorted(derived | {t})


def _usable_target(target: float | None) -> bool:
    return target is not None and math.isfinite(float(target)) and 0.0 < float(target) < 1.0


def class_breaks(
    values: np.ndarray, *, n: int = 5, ramp: str = "good", target: float | None = None
) -> list[float]:
    """Ascending class breaks for ``values``.

    Parameters
    ----------
    values
        The values to classify; NaN and infinite values are ignored.
    n
        Number of classes wanted (``n + 1`` breaks at most).
    ramp
        Palette name (see :data:`RAMPS`). Shares drawn with ``good`` or ``bad`` (all
        finite values within [0, 1]) get the fixed breaks :data:`SHARE_BREAKS` when
        ``n`` is 5 (evenly spaced in [0, 1] otherwise), so maps of different
        analyses compare.
    target
        A share the values must reach (``>=`` or ``>`` targets). For shares drawn with
        ``good`` or ``bad`` and a target strictly between 0 and 1, the breaks are
        :func:`target_breaks` instead of the fixed ones, so the colour changes exactly
        at the target (a forest target of 41% is not lost in the fixed breaks' red
        class below 50%). Ignored for other values, other ramps and targets outside
        (0, 1).

    Returns
    -------
    list of float
        Other values get the quantiles of the finite values, deduplicated (so fewer
        than ``n + 1`` breaks when values repeat). Always at least two breaks:
        ``[0.0, 1.0]`` when no value is finite, ``[v, v]`` when all equal ``v``.

    Raises
    ------
    OutputError
        When ``ramp`` is not a known palette or ``n`` is below 1.

    Examples
    --------
    >>> class_breaks(np.array([1.0, 2.0, 3.0, 4.0, 5.0]), n=4, ramp="seq")
    [1.0, 2.0, 3.0, 4.0, 5.0]
    >>> class_breaks(np.array([0.35, 0.45]), ramp="good", target=0.41)
    [0.0, 0.205, 0.328, 0.41, 0.705, 1.0]
    """
    _check_ramp(ramp)
    if n < 1:
        raise OutputError(f"class_breaks needs at least 1 class, got n={n}")
    arr = np.asarray(values, dtype=float).ravel()
    finite = arr[np.isfinite(arr)]
    is_share = finite.size == 0 or (finite.min() >= 0.0 and finite.max() <= 1.0)
    if ramp in ("good", "bad") and is_share:
        if target is not None and _usable_target(target):
            return target_breaks(float(target), n=n)
        if n == 5:
            return list(SHARE_BREAKS)
        return [float(b) for b in np.linspace(0.0, 1.0, n + 1)]
    if finite.size == 0:
        return [0.0, 1.0]
    qs = np.quantile(finite, np.linspace(0.0, 1.0, n + 1))
    breaks = [float(b) for b in np.unique(qs)]
    if len(breaks) == 1:
        breaks = [breaks[0], breaks[0]]
    return breaks


def class_index(value: float | None, breaks: Sequence[float]) -> int | None:
    """Class of ``value``: ``i`` where ``breaks[i] <= value < breaks[i + 1]``.

    The last class includes its upper break; values below the first break fall in the
    first class and above the last break in the last class. ``None`` for a missing value.
    """
    if value is None or not math.isfinite(float(value)):
        return None
    k = max(len(breaks) - 1, 1)
    i = int(np.searchsorted(np.asarray(breaks, dtype=float), float(value), side="right")) - 1
    return min(max(i, 0), k - 1)


def class_colors(breaks: Sequence[float], ramp: str) -> list[str]:
    """Hex colour of each class defined by ``breaks`` (``len(breaks) - 1`` colours).

    With fewer classes than ramp colours the colours are spread over the whole ramp
    (two classes get its two ends); a single class gets the ramp's high end.
    """
    colours = _check_ramp(ramp)
    k = max(len(breaks) - 1, 1)
    if k == 1:
        return [colours[-1]]
    idx = np.round(np.linspace(0, len(colours) - 1, k)).astype(int)
    return [colours[i] for i in idx]


def color_for(value: float | None, breaks: list[float], ramp: str) -> str:
    """Hex colour of ``value`` on ``ramp`` classified by ``breaks``.

    Returns :data:`NODATA_COLOR` (``"#cccccc"``) for ``None`` or NaN.
    """
    i = class_index(value, breaks)
    if i is None:
        _check_ramp(ramp)
        return NODATA_COLOR
    return class_colors(breaks, ramp)[i]
