"""Reader for operator signal rasters (GeoTIFF or any raster GDAL reads)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from pyproj import CRS
from rasterio.enums import MaskFlags
from rasterio.errors import RasterioIOError
from rasterio.windows import Window

from .. import schema as S
from ..errors import Problem, RasterError
from ..layers import SignalRaster
from ._common import PathLike, crs_name, existing_file, parse_crs, reading


def read_signal_raster(
    path: PathLike,
    *,
    name: str | None = None,
    crs: object | None = None,
    bounds: Sequence[float] | None = None,
    band: int = 1,
    working_crs: object = S.WORKING_CRS,
) -> SignalRaster:
    """Read one operator's signal raster (dBm), windowed to ``bounds``.

    Nodata cells (the file's nodata value or mask) become NaN: no signal. The band is
    read once; only the window that covers ``bounds`` (the households' extent) is read,
    which keeps memory small at national scale.

    Parameters
    ----------
    path
        GeoTIFF (or any raster GDAL reads).
    name
        Operator name; the file stem by default.
    crs
        CRS to assume when the file has none. A file CRS different from the working CRS
        is an error: sampling a warped raster would change cell values.
    bounds
        (xmin, ymin, xmax, ymax) in the working CRS to read; the whole raster if None.
    band
        Band number.
    working_crs
        The households' CRS.

    Raises
    ------
    RasterError
        No CRS, another CRS, or no overlap with ``bounds``.

    Examples
    --------
    >>> import tempfile, pathlib, rasterio
    >>> from affine import Affine
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "op.tif"
    >>> with rasterio.open(p, "w", driver="GTiff", width=2, height=1, count=1, dtype="float32",
    ...                    crs="EPSG:25832", transform=Affine(100, 0, 0, 0, -100, 100),
    ...                    nodata=-9999) as dst:
    ...     dst.write(np.array([[[-90, -9999]]], dtype="float32"))
    >>> read_signal_raster(p).values.tolist()
    [[-90.0, nan]]
    """
    p = existing_file(path)
    source = str(p)
    target = parse_crs(working_crs, source="working_crs")
    # Several threads decompress blocks: decoding is the costliest step for big rasters.
    env = rasterio.Env(GDAL_NUM_THREADS="ALL_CPUS")
    with reading(source, "raster"), env, _open(p) as dataset:
        window = _checked_window(dataset, source, crs=crs, bounds=bounds, band=band, target=target)
        values = _read_band(dataset, band, window)
        t = dataset.transform
        col0, row0 = window.col_off, window.row_off
        transform = Affine(
            t.a, t.b, t.c + col0 * t.a + row0 * t.b, t.d, t.e, t.f + col0 * t.d + row0 * t.e
        )
    return SignalRaster(
        name=name or p.stem, values=values, transform=transform, crs=crs_name(target), source=source
    )


def _read_band(dataset: rasterio.io.DatasetReader, band: int, window: Window) -> np.ndarray:
    """Read the band as float32 with nodata as NaN.

    Comparing with the nodata value is several times faster than ``masked=True``; only
    a raster with a real mask band (not a nodata value) pays for reading the mask.
    """
    values = dataset.read(band, window=window, out_dtype="float32")
    flags = dataset.mask_flag_enums[band - 1]
    nodata = dataset.nodatavals[band - 1]
    if MaskFlags.per_dataset in flags or (
        MaskFlags.all_valid not in flags and MaskFlags.nodata not in flags
    ):
        values[dataset.read_masks(band, window=window) == 0] = np.nan
    elif nodata is not None and not np.isnan(nodata):
        values[values == np.float32(nodata)] = np.nan
    return values


def check_signal_raster(
    path: PathLike,
    *,
    name: str | None = None,
    crs: object | None = None,
    bounds: Sequence[float] | None = None,
    band: int = 1,
    working_crs: object = S.WORKING_CRS,
) -> None:
    """Check a raster as :func:`read_signal_raster` would, reading only its header.

    Raises
    ------
    RasterError
        No CRS, another CRS, a missing band, or no overlap with ``bounds``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "op.tif"
    >>> with rasterio.open(p, "w", driver="GTiff", width=1, height=1, count=1,
    ...                    dtype="float32", crs="EPSG:3035",
    ...                    transform=Affine(100, 0, 0, 0, -100, 100)) as dst:
    ...     dst.write(np.zeros((1, 1, 1), "float32"))
    >>> try:
    ...     check_signal_raster(p)
    ... except RasterError as error:
    ...     print(error.problems[0].message)
    the raster is in EPSG:3035, not the working CRS EPSG:25832
    """
    p = existing_file(path)
    source = str(p)
    target = parse_crs(working_crs, source="working_crs")
    with reading(source, "raster"), _open(p) as dataset:
        _checked_window(dataset, source, crs=crs, bounds=bounds, band=band, target=target)


def _open(path: Path) -> rasterio.io.DatasetReader:
    try:
        return rasterio.open(path)
    except RasterioIOError as exc:
        raise RasterError(
            Problem(str(path), f"not a readable raster ({exc})", fix="give a GeoTIFF")
        ) from None


def _checked_window(
    dataset: rasterio.io.DatasetReader,
    source: str,
    *,
    crs: object | None,
    bounds: Sequence[float] | None,
    band: int,
    target: CRS,
) -> Window:
    if dataset.crs is None and crs is None:
        raise RasterError(
            Problem(
                source,
                "the raster has no CRS",
                fix='pass crs="EPSG:25832" (or set it with gdal_edit.py -a_srs)',
            )
        )
    raster_crs = parse_crs(dataset.crs if dataset.crs is not None else crs, source=source)
    if not raster_crs.equals(target, ignore_axis_order=True):
        raise RasterError(
            Problem(
                source,
                f"the raster is in {crs_name(raster_crs)}, not the working CRS {crs_name(target)}",
                fix=f"reproject it with gdalwarp -t_srs {crs_name(target)} (nearest "
                "neighbour), or choose it as the working CRS",
            )
        )
    if band < 1 or band > dataset.count:
        raise RasterError(
            Problem(
                source,
                f"band {band} does not exist (the raster has {dataset.count})",
                fix="pick a band",
            )
        )
    if bounds is None:
        return Window(0, 0, dataset.width, dataset.height)
    return _window(dataset, bounds, source)


def _window(dataset: rasterio.io.DatasetReader, bounds: Sequence[float], source: str) -> Window:
    xmin, ymin, xmax, ymax = bounds
    rxmin, rymin, rxmax, rymax = dataset.bounds
    if xmax < rxmin or xmin > rxmax or ymax < rymin or ymin > rymax:
        raise RasterError(
            Problem(
                source,
                f"the raster (bounds {tuple(round(v) for v in dataset.bounds)}) overlaps none of "
                f"the households (bounds {tuple(round(v) for v in bounds)})",
                fix="check that the raster covers the study area and is in the right CRS",
            )
        )
    inverse = ~dataset.transform
    xs = np.array([xmin, xmax, xmin, xmax])
    ys = np.array([ymin, ymin, ymax, ymax])
    cols = inverse.a * xs + inverse.b * ys + inverse.c
    rows = inverse.d * xs + inverse.e * ys + inverse.f
    # Whole cells, one cell of margin, clipped to the raster.
    col0 = max(int(np.floor(cols.min())) - 1, 0)
    row0 = max(int(np.floor(rows.min())) - 1, 0)
    col1 = min(int(np.ceil(cols.max())) + 1, dataset.width)
    row1 = min(int(np.ceil(rows.max())) + 1, dataset.height)
    return Window(col0, row0, col1 - col0, row1 - row0)


def write_signal_raster(
    path: PathLike,
    values: np.ndarray,
    transform: Affine,
    *,
    crs: object | None = S.WORKING_CRS,
    nodata: float = -9999.0,
) -> Path:
    """Write one band of signal values (dBm) as a tiled, deflate-compressed GeoTIFF.

    NaN cells are written as ``nodata``. ``crs=None`` writes a raster without a CRS
    (for testing that readers refuse it).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "op.tif"
    >>> _ = write_signal_raster(p, np.array([[-90.0, np.nan]]), Affine(100, 0, 0, 0, -100, 100))
    >>> read_signal_raster(p).values.tolist()
    [[-90.0, nan]]
    """
    data = np.where(np.isnan(values), nodata, values).astype(np.float32)
    out = Path(path)
    with rasterio.open(
        out,
        "w",
        driver="GTiff",
        width=data.shape[1],
        height=data.shape[0],
        count=1,
        dtype="float32",
        crs=crs,
        transform=transform,
        nodata=nodata,
        compress="deflate",
        tiled=data.shape[0] >= 16 and data.shape[1] >= 16,
    ) as dst:
        dst.write(data, 1)
    return out
