"""Readers and writers (:mod:`~coverage_gap.io.writers`). Only this package opens files.

The readers are imported on first use, so that importing :mod:`coverage_gap.io.registry`
(the configuration does) stays cheap.
"""

from __future__ import annotations

from .._lazy import lazy_names

_LAZY = {
    "read_offers": ".offers",
    "read_signal_raster": ".raster",
    "write_signal_raster": ".raster",
    "read_coverage_polygons": ".vector",
    "read_households": ".vector",
    "read_municipalities": ".vector",
}

__all__ = sorted(_LAZY)


__getattr__, __dir__ = lazy_names(__name__, _LAZY, lambda: dict(globals()))
