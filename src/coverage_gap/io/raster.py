"""Reader for operator signal rasters (GeoTIFF or any raster GDAL reads).

Values are read as the file stores them: a float64 raster stays float64 (a cell at
-105.0000001 dBm must not become -105.0 and pass a -105 dBm threshold), smaller types
become float32 exactly; the file's scale and offset are applied; nodata (value or mask)
becomes NaN. Rasters of any orientation (north-up or south-up) are read alike.

Two ways in:

- :func:`read_signal_raster` reads the window that covers given bounds into a
  :class:`~coverage_gap.layers.SignalRaster` (for notebooks and small areas);
- :func:`sample_signal_raster` returns the value at each household directly. It reads
  the window once when the households fill it, and only the raster blocks under the
  households when they are sparse, so that memory never grows with the raster's
  extent (a 50,000 × 50,000 raster with 200 addresses reads 200 blocks, not 10 GB).
"""

from __future__ import annotations

import warnings
from collections.abc import MutableMapping, Sequence
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from numpy.typing import NDArray
from pyproj import CRS
from rasterio.enums import MaskFlags
from rasterio.errors import NotGeoreferencedWarning, RasterioIOError
from rasterio.windows import Window

from .. import schema as S
from ..errors import Problem, RasterError
from ..geo import raster_cells, sample_raster
from ..layers import SampledSignal, SignalRaster
from ._common import PathLike, crs_name, existing_file, parse_crs, reading

#: Read the whole window when it has at most this many cells per household (or fewer
#: cells than :data:`_SMALL_WINDOW`); otherwise read only the blocks under households.
_CELLS_PER_POINT = 16
_SMALL_WINDOW = 16_000_000


def read_signal_raster(
    path: PathLike,
    *,
    name: str | None = None,
    crs: object | None = None,
    bounds: Sequence[float] | None = None,
    band: int | None = None,
    working_crs: object = S.WORKING_CRS,
) -> SignalRaster:
    """Read one operator's signal raster (dBm), windowed to ``bounds``.

    Nodata cells (the file's nodata value or mask) become NaN: no signal. The file's
    scale and offset are applied; float64 values stay float64. Only the window that
    covers ``bounds`` (the households' extent) is read.

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
        Band number; required when the raster has several bands.
    working_crs
        The households' CRS.

    Raises
    ------
    RasterError
        No CRS (or only ground control points), another CRS, a missing source of a
        VRT, or no overlap with ``bounds``.

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
    p = existing_file(path, what="raster")
    source = str(p)
    target = parse_crs(working_crs, source="working_crs")
    with _open(p) as dataset, reading(source, "raster"), _threads():
        band = _band(dataset, band, source)
        window = _checked_window(dataset, source, crs=crs, bounds=bounds, band=band, target=target)
        values = _read(dataset, band, window)
        transform = _window_transform(dataset.transform, window)
    return SignalRaster(
        name=name or p.stem, values=values, transform=transform, crs=crs_name(target), source=source
    )


def sample_signal_raster(
    path: PathLike,
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    *,
    name: str | None = None,
    crs: object | None = None,
    band: int | None = None,
    working_crs: object = S.WORKING_CRS,
    cells_cache: MutableMapping[tuple[object, ...], NDArray[np.int64]] | None = None,
) -> SampledSignal:
    """Signal of one operator raster at each point, reading only what the points need.

    Parameters
    ----------
    path, name, crs, band, working_crs
        As in :func:`read_signal_raster`.
    x, y
        Household coordinates in the working CRS (NaN for rows without a point).
    cells_cache
        A dict shared between calls: operator rasters on one grid compute the cell of
        each household once.

    Returns
    -------
    SampledSignal

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "op.tif"
    >>> _ = write_signal_raster(p, np.array([[-90.0, np.nan]]), Affine(100, 0, 0, 0, -100, 100))
    >>> sample_signal_raster(p, np.array([50.0, 150.0, 500.0]), np.array([50.0] * 3)).values
    array([-90.,  nan,  nan], dtype=float32)
    """
    p = existing_file(path, what="raster")
    source = str(p)
    target = parse_crs(working_crs, source="working_crs")
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    ok = np.isfinite(x) & np.isfinite(y)
    bounds = (
        (float(x[ok].min()), float(y[ok].min()), float(x[ok].max()), float(y[ok].max()))
        if ok.any()
        else None
    )
    with _open(p) as dataset, reading(source, "raster"), _threads():
        band = _band(dataset, band, source)
        _checked_window(dataset, source, crs=crs, bounds=None, band=band, target=target)
        extent = _bounds(dataset)
        label = name or p.stem
        dtype = _value_dtype(dataset, band)
        if bounds is None or not _intersects(extent, bounds):
            values = np.full(x.shape, np.nan, dtype=dtype)
            return SampledSignal(label, source, values, False, extent)
        window = _window(dataset, bounds, source)
        if window.width * window.height <= max(_CELLS_PER_POINT * int(ok.sum()), _SMALL_WINDOW):
            grid = _read(dataset, band, window)
            transform = _window_transform(dataset.transform, window)
            key = (transform, grid.shape)
            cells = None if cells_cache is None else cells_cache.get(key)
            if cells is None:
                cells = raster_cells(x, y, transform, grid.shape)
                if cells_cache is not None:
                    cells_cache[key] = cells
            values = sample_raster(x, y, grid, transform, cells=cells)
        else:
            values = _sample_blocks(dataset, band, x, y, dtype)
    return SampledSignal(label, source, values, True, extent)


def _sample_blocks(
    dataset: rasterio.io.DatasetReader,
    band: int,
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    dtype: np.dtype,
) -> NDArray[np.floating]:
    """Values at the points, reading one raster block per block that holds a point."""
    out = np.full(x.shape, np.nan, dtype=dtype)
    cells = raster_cells(x, y, dataset.transform, (dataset.height, dataset.width))
    inside = np.flatnonzero(cells >= 0)
    if inside.size == 0:
        return out
    rows, cols = np.divmod(cells[inside], dataset.width)
    block_h, block_w = dataset.block_shapes[band - 1]
    block = (rows // block_h) * ((dataset.width + block_w - 1) // block_w) + cols // block_w
    order = np.argsort(block, kind="stable")
    starts = np.flatnonzero(np.r_[True, block[order][1:] != block[order][:-1]])
    ends = np.r_[starts[1:], order.size]
    # One read per block that holds a household: the loop runs over blocks, never over
    # households, and no more of the raster than those blocks is ever in memory.
    for start, end in zip(starts, ends, strict=True):
        members = order[start:end]
        row0 = int(rows[members[0]] // block_h) * block_h
        col0 = int(cols[members[0]] // block_w) * block_w
        window = Window(
            col0, row0, min(block_w, dataset.width - col0), min(block_h, dataset.height - row0)
        )
        values = _read(dataset, band, window)
        out[inside[members]] = values[rows[members] - row0, cols[members] - col0]
    return out


def _window_transform(t: Affine, window: Window) -> Affine:
    # rasterio's window_transform multiplies affines with "*", which affine deprecates.
    col0, row0 = window.col_off, window.row_off
    return Affine(t.a, t.b, t.c + col0 * t.a + row0 * t.b, t.d, t.e, t.f + col0 * t.d + row0 * t.e)


def _value_dtype(dataset: rasterio.io.DatasetReader, band: int) -> np.dtype:
    """float64 for float64 and 32-bit integer data or scaled bands; float32 otherwise."""
    stored = np.dtype(dataset.dtypes[band - 1])
    scaled = dataset.scales[band - 1] != 1 or dataset.offsets[band - 1] != 0
    if stored == np.float64 or scaled or (stored.kind in "iu" and stored.itemsize >= 4):
        return np.dtype(np.float64)
    return np.dtype(np.float32)


def _read(dataset: rasterio.io.DatasetReader, band: int, window: Window) -> NDArray[np.floating]:
    """Read the band's window as float with nodata as NaN and scale/offset applied.

    Nodata is compared in the stored type (several times faster than ``masked=True``);
    only a raster with a real mask band pays for reading the mask.
    """
    raw = dataset.read(band, window=window)
    dtype = _value_dtype(dataset, band)
    values = raw.astype(dtype, copy=False)
    flags = dataset.mask_flag_enums[band - 1]
    nodata = dataset.nodatavals[band - 1]
    if MaskFlags.per_dataset in flags or (
        MaskFlags.all_valid not in flags and MaskFlags.nodata not in flags
    ):
        values[dataset.read_masks(band, window=window) == 0] = np.nan
    elif nodata is not None and not np.isnan(nodata):
        values[raw == np.asarray(nodata).astype(raw.dtype)] = np.nan
    elif nodata is not None:
        values[np.isnan(raw)] = np.nan
    scale, offset = dataset.scales[band - 1], dataset.offsets[band - 1]
    if scale != 1 or offset != 0:
        values = values * scale + offset
    return values


def check_signal_raster(
    path: PathLike,
    *,
    name: str | None = None,
    crs: object | None = None,
    bounds: Sequence[float] | None = None,
    band: int | None = None,
    working_crs: object = S.WORKING_CRS,
) -> None:
    """Check a raster as :func:`read_signal_raster` would, reading only its header.

    Raises
    ------
    RasterError
        No CRS, another CRS, a missing band or VRT source, or no overlap with ``bounds``.

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
    p = existing_file(path, what="raster")
    source = str(p)
    target = parse_crs(working_crs, source="working_crs")
    with _open(p) as dataset, reading(source, "raster"):
        band = _band(dataset, band, source)
        _checked_window(dataset, source, crs=crs, bounds=bounds, band=band, target=target)


def _band(dataset: rasterio.io.DatasetReader, band: int | None, source: str) -> int:
    """Return the band to read: the one named, or the only one (several need ``band``)."""
    if band is not None:
        return band
    if dataset.count > 1:
        names = [d or f"band {i + 1}" for i, d in enumerate(dataset.descriptions)]
        raise RasterError(
            Problem(
                source,
                f"the raster has {dataset.count} bands ({', '.join(names)})",
                fix="name the band with the operator's signal: band = 1, 2, ...",
            )
        )
    return 1


def _threads() -> rasterio.Env:
    # Several threads decompress blocks: decoding is the costliest step for big rasters.
    return rasterio.Env(GDAL_NUM_THREADS="ALL_CPUS")


def _open(path: Path) -> rasterio.io.DatasetReader:
    try:
        with warnings.catch_warnings():
            # A raster without a grid is explained below (no CRS, or only GCPs).
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            dataset = rasterio.open(path)
    except RasterioIOError as exc:
        raise RasterError(
            Problem(str(path), f"not a readable raster ({exc})", fix="give a GeoTIFF")
        ) from None
    # A VRT opens even when its sources are gone; say which one before reading fails.
    missing = [f for f in dataset.files[1:] if "://" not in f and not Path(f).exists()]
    if missing:
        dataset.close()
        raise RasterError(
            Problem(
                str(path),
                f"the raster refers to source files that do not exist: {missing}",
                fix="restore the files or rebuild the VRT (gdalbuildvrt)",
            )
        )
    return dataset


def _bounds(dataset: rasterio.io.DatasetReader) -> tuple[float, float, float, float]:
    """(xmin, ymin, xmax, ymax) whatever the raster's orientation."""
    left, bottom, right, top = dataset.bounds
    return (min(left, right), min(bottom, top), max(left, right), max(bottom, top))


def _intersects(a: Sequence[float], b: Sequence[float]) -> bool:
    return not (b[2] < a[0] or b[0] > a[2] or b[3] < a[1] or b[1] > a[3])


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
        gcps, _ = dataset.gcps
        if gcps:
            raise RasterError(
                Problem(
                    source,
                    f"the raster is georeferenced only by {len(gcps)} ground control points, "
                    "not by a grid",
                    fix="warp it onto a grid first: gdalwarp -t_srs EPSG:25832 -r near "
                    "in.tif out.tif",
                )
            )
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
    extent = _bounds(dataset)
    if not _intersects(extent, bounds):
        raise RasterError(
            Problem(
                source,
                f"the raster (bounds {tuple(round(v) for v in extent)}) overlaps none of "
                f"the households (bounds {tuple(round(v) for v in bounds)})",
                fix="check that the raster covers the study area and is in the right CRS",
            )
        )
    xmin, ymin, xmax, ymax = bounds
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
    dtype: str = "float32",
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
    data = np.where(np.isnan(values), nodata, values).astype(dtype)
    out = Path(path)
    with rasterio.open(
        out,
        "w",
        driver="GTiff",
        width=data.shape[1],
        height=data.shape[0],
        count=1,
        dtype=dtype,
        crs=crs,
        transform=transform,
        nodata=nodata,
        compress="deflate",
        tiled=data.shape[0] >= 16 and data.shape[1] >= 16,
    ) as dst:
        dst.write(data, 1)
    return out
