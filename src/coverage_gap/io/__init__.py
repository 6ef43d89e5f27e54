"""Readers (and the writers used by the batch command). Only this package opens files."""

from .offers import read_offers
from .raster import read_signal_raster, write_signal_raster
from .vector import read_coverage_polygons, read_households, read_municipalities

__all__ = [
    "read_coverage_polygons",
    "read_households",
    "read_municipalities",
    "read_offers",
    "read_signal_raster",
    "write_signal_raster",
]
