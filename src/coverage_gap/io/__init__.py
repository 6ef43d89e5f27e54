"""Readers (and the writers used by the batch command). Only this package opens files.

The readers are imported on first use, so that importing :mod:`coverage_gap.io.registry`
(the configuration does) stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "read_offers": ".offers",
    "read_signal_raster": ".raster",
    "write_signal_raster": ".raster",
    "read_coverage_polygons": ".vector",
    "read_households": ".vector",
    "read_municipalities": ".vector",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])
