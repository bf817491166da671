"""What every analysis of one run shares: the layers and the lazily built walk graph."""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np

from urbanform.layers.types import Layers
from urbanform.threads import thread_count

if TYPE_CHECKING:
    from urbanform.network import Snapped, WalkGraph

__all__ = ["Context"]

log = logging.getLogger(__name__)


@dataclass
class Context:
    """Inputs shared by the analyses of one run.

    The walk graph is built once, on first use, and reused by every analysis that
    walks. Nothing here is mutated by an analysis.

    Attributes
    ----------
    layers
        The harmonised input layers.
    cache
        Per-run memo for expensive intermediate results shared between analyses
        (keyed by a descriptive string, for example ``"population_units"``).
    """

    layers: Layers
    cache: dict[str, Any] = field(default_factory=dict)
    _pending: dict[str, Future[Any]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def walk_graph(self, *, needed_by: str = "") -> WalkGraph:
        """The walk network built from the ``streets`` layer (cached for the run).

        Waits for a build :meth:`start_walk_graph` started, and raises what it raised.
        """
        if "walk_graph" not in self.cache:
            pending = self._pending.pop("walk_graph", None)
            self.cache["walk_graph"] = (
                pending.result() if pending is not None else self._build_walk_graph(needed_by)
            )
        graph_: WalkGraph = self.cache["walk_graph"]
        return graph_

    def start_walk_graph(self, *, needed_by: str = "") -> None:
        """Start building the walk graph on a background thread, unless built or under way.

        An analysis calls this before long work that does not need the graph (park
        coverage dissolves the residential land first): GEOS and numpy work without the
        GIL, so the two overlap on a second core. The graph is the one
        :meth:`walk_graph` would build; it waits for it. With one thread
        (:func:`urbanform.threads.thread_count`) the graph is left to :meth:`walk_graph`.
        """
        if "walk_graph" in self.cache or "walk_graph" in self._pending or thread_count(2) < 2:
            return
        pending: Future[WalkGraph] = Future()

        def build() -> None:
            try:
                pending.set_result(self._build_walk_graph(needed_by))
            except BaseException as exc:  # raised again by walk_graph()
                pending.set_exception(exc)

        self._pending["walk_graph"] = pending
        threading.Thread(target=build, name="urbanform-walk-graph", daemon=True).start()

    def _build_walk_graph(self, needed_by: str) -> WalkGraph:
        from urbanform.network import graph_from_lines

        streets = self.layers.vector("streets", needed_by=needed_by)
        osm = "streets" in self.layers.osm_roles
        log.info("building the walk network from %d street lines", len(streets))
        graph = graph_from_lines(streets, node_crossings=not osm)
        log.info("walk network: %d nodes, %d edges", graph.n_nodes, graph.n_edges)
        return graph

    def snapped(
        self,
        xy: np.ndarray,
        snap: Callable[[np.ndarray], Snapped],
        *,
        max_snap_m: float,
        min_piece_share: float = 0.0,
    ) -> Snapped:
        """``snap(xy)``, cached for the run by the coordinates, ``max_snap_m`` and share.

        Analyses that walk from the same units (the three living-circle levels, park
        coverage by network) snap them once. A snap depends only on the graph (one per
        run), the point, the maximum distance and the smallest piece of network snapped
        to (``min_piece_share``), so the cached answer is the same.
        """
        xy = np.ascontiguousarray(xy, dtype=float)
        digest = hashlib.blake2b(xy.tobytes(), digest_size=16).hexdigest()
        key = f"snap:{digest}:{len(xy)}:{float(max_snap_m)!r}:{float(min_piece_share)!r}"
        if key not in self.cache:
            self.cache[key] = snap(xy)
        cached: Snapped = self.cache[key]
        return cached

    def districts(self) -> gpd.GeoDataFrame | None:
        """Districts (``name``, geometry) or ``None`` when the workspace has none."""
        d = self.layers.vectors.get("districts")
        if d is None:
            return None
        return d[["name", "geometry"]]

    def district_names(self) -> list[str]:
        """Sorted district names (empty without districts)."""
        d = self.districts()
        return [] if d is None else sorted(str(n) for n in d["name"])
