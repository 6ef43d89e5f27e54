"""Validation: checks that collect every problem of a layer before anything is computed.

Each ``validate_*`` function returns the (possibly repaired) layer and a list of
:class:`~coverage_gap.errors.Problem`; nothing is raised here, so that a run can report
the problems of all its inputs at once (see :class:`~coverage_gap.errors.ProblemLog`).
Errors stop the run; warnings (repaired polygons, rows without a point) are reported in
the manifest and the reconciliation table.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from . import schema as S
from .errors import Problem, Severity
from .keys import duplicated_keys
from .layers import as_crs

_FIRST = 5

#: Largest plausible number of households (or dwellings) at one address.
MAX_HOUSEHOLDS_PER_ADDRESS = 1_000_000


def _first(labels: Iterable[object]) -> tuple[object, ...]:
    out = []
    for label in labels:
        out.append(label.item() if isinstance(label, np.generic) else label)
        if len(out) == _FIRST:
            break
    return tuple(out)


def missing_columns(
    columns: Iterable[str], required: Sequence[str], *, source: str, what: str
) -> list[Problem]:
    """Problems for each required column that is absent, naming what is there.

    Examples
    --------
    >>> [p.column for p in missing_columns(["a", "b"], ["a", "c"], source="f.csv", what="id")]
    ['c']
    """
    present = list(columns)
    return [
        Problem(
            source,
            f"{what} column '{name}' not found; columns are {present}",
            fix=f"name the {what} column in the configuration (or rename it to '{name}')",
            column=name,
        )
        for name in required
        if name not in present
    ]


def check_coordinates_crs(x: np.ndarray, y: np.ndarray, crs: CRS, *, source: str) -> list[Problem]:
    """Detect lon/lat declared as projected metres, and the reverse.

    Examples
    --------
    >>> from pyproj import CRS
    >>> probs = check_coordinates_crs(np.array([12.1]), np.array([55.6]), CRS(25832), source="a")
    >>> "lon/lat" in probs[0].message
    True
    """
    finite = np.isfinite(x) & np.isfinite(y)
    if not finite.any():
        return []
    xs, ys = x[finite], y[finite]
    looks_degrees = bool((np.abs(xs) <= 180).all() and (np.abs(ys) <= 90).all())
    if crs.is_geographic and not looks_degrees:
        return [
            Problem(
                source,
                f"coordinates are declared as {crs.to_string()} (degrees) but reach "
                f"x={float(np.abs(xs).max()):.0f}, y={float(np.abs(ys).max()):.0f}: "
                "they look like metres",
                fix='declare the projected CRS of the file, e.g. crs = "EPSG:25832"',
            )
        ]
    if crs.is_projected and looks_degrees and xs.size and float(np.ptp(xs)) < 360:
        return [
            Problem(
                source,
                f"coordinates are declared as {crs.to_string()} (metres) but all lie within "
                "±180/±90: they look like lon/lat degrees",
                fix='declare crs = "EPSG:4326" for longitude/latitude columns',
            )
        ]
    return []


def empty_households(source: str) -> Problem:
    """Return the error for a household layer without rows."""
    return Problem(
        source, "the household layer has no rows", fix="check the path, layer name and filters"
    )


def duplicate_ids(
    count: int, keys: Sequence[object], *, source: str, column: str | None = None
) -> Problem:
    """Return the error for ``count`` rows whose address id is repeated (first ``keys``).

    ``column`` is the id column as the file names it (the reader's
    ``attrs["id_column"]``); the canonical ``address_id`` when not known.

    Examples
    --------
    >>> print(duplicate_ids(3, ["2690"], source="h.csv", column="postnr"))  # doctest: +ELLIPSIS
    h.csv, column 'postnr': duplicate address ids: ... Fix: is 'postnr' the address id? ...
    """
    fix = "put dwellings of one address in its household count instead of repeating the address"
    if column and column != S.ADDRESS_ID:
        fix = (
            f"is '{column}' the address id? Name the column that holds one id per address "
            f"(id = ...); if it is, {fix}"
        )
    return Problem(
        source,
        "duplicate address ids: every address must appear once",
        column=column or S.ADDRESS_ID,
        rows=tuple(keys),
        count=count,
        fix=fix,
    )


def no_usable_points(source: str) -> Problem:
    """Return the error for a household layer in which no row has finite coordinates."""
    return Problem(
        source,
        "no row has usable coordinates",
        column=f"{S.X}/{S.Y}",
        fix="check the coordinate column names and the CRS",
    )


def validate_households(
    frame: pd.DataFrame, *, source: str, partition: bool = False
) -> tuple[pd.DataFrame, list[Problem]]:
    """Check a household table in canonical form (see :mod:`coverage_gap.schema`).

    Errors: no rows, missing columns, no CRS, coordinates contradicting the CRS, null or
    duplicate address ids, negative, missing or fractional household counts. Warnings:
    rows without finite coordinates (kept, marked invalid by the classification, and
    counted in the reconciliation).

    With ``partition=True`` the table is one piece of a larger input: the checks that
    only the whole input can answer (no rows, duplicate ids, no usable point) are left
    to the caller (:func:`empty_households`, :func:`duplicate_ids`,
    :func:`no_usable_points`).

    Examples
    --------
    >>> t = pd.DataFrame({"address_id": ["a", "a"], "households": [1, 1],
    ...                   "x": [700000.0, 700010.0], "y": [6.1e6, 6.1e6]})
    >>> t.attrs["crs"] = "EPSG:25832"
    >>> _, problems = validate_households(t, source="t.csv")
    >>> problems[0].message
    'duplicate address ids: every address must appear once'
    """
    problems: list[Problem] = []
    labels, lines = row_labels(frame)
    if len(frame) == 0:
        return frame, [] if partition else [empty_households(source)]
    problems += missing_columns(
        frame.columns, [S.ADDRESS_ID, S.HOUSEHOLDS, S.X, S.Y], source=source, what="household"
    )
    if problems:
        return frame, problems
    crs = frame.attrs.get("crs")
    if crs is None:
        problems.append(
            Problem(
                source, "the household layer has no CRS", fix='state it, e.g. crs = "EPSG:25832"'
            )
        )
    ids = frame[S.ADDRESS_ID]
    # Errors name the id column as the user configured it (attrs of the reader).
    id_column = frame.attrs.get("id_column") or S.ADDRESS_ID
    null_ids = ids.isna().to_numpy()
    problems += _row_problem(
        source,
        null_ids,
        labels,
        "address ids are missing",
        column=id_column,
        fix="give every address an id, or drop those rows",
        lines=lines,
    )
    if not partition:
        n_dup, dup_keys = duplicated_keys(ids)
        if n_dup:
            problems.append(duplicate_ids(n_dup, dup_keys, source=source, column=id_column))
    count_problems = _check_counts(
        frame[S.HOUSEHOLDS], source=source, column=S.HOUSEHOLDS, labels=labels, lines=lines
    )
    problems += count_problems
    if not count_problems and frame[S.HOUSEHOLDS].dtype != np.int64:
        attrs = dict(frame.attrs)
        frame = frame.copy()
        frame[S.HOUSEHOLDS] = pd.to_numeric(frame[S.HOUSEHOLDS]).astype(np.int64)
        frame.attrs = attrs
    x = frame[S.X].to_numpy(dtype=np.float64)
    y = frame[S.Y].to_numpy(dtype=np.float64)
    bad = ~(np.isfinite(x) & np.isfinite(y))
    problems += _row_problem(
        source,
        bad,
        labels,
        "rows without finite coordinates; counted as invalid",
        column=f"{S.X}/{S.Y}",
        severity="warning",
        fix="geocode these addresses or drop them explicitly",
        lines=lines,
    )
    if bad.all() and not partition:
        problems.append(no_usable_points(source))
    if crs is not None:
        problems += check_coordinates_crs(x, y, as_crs(crs), source=source)
    return frame, problems


def row_labels(frame: pd.DataFrame) -> tuple[pd.Index, bool]:
    """Labels to name a table's rows by, and whether they are lines of a text file.

    Readers of delimited files set ``attrs["first_line"]`` (the line of the first data
    row: 2 below a header); a table that still has its plain row numbers is then named
    by file lines, as the readers' own messages are.

    Examples
    --------
    >>> t = pd.DataFrame({"a": [1, 2]})
    >>> t.attrs["first_line"] = 2
    >>> labels, lines = row_labels(t)
    >>> labels.tolist(), lines
    ([2, 3], True)
    """
    first = frame.attrs.get("first_line")
    index = frame.index
    if (
        first is not None
        and isinstance(index, pd.RangeIndex)
        and index.start == 0
        and index.step == 1
    ):
        return pd.RangeIndex(first, first + len(frame)), True
    return index, False


def _row_problem(
    source: str,
    mask: np.ndarray,
    labels: pd.Index,
    message: str,
    *,
    column: str | None = None,
    fix: str = "",
    severity: Severity = "error",
    lines: bool = False,
) -> list[Problem]:
    """One problem naming the first rows where ``mask`` holds; nothing where it never does."""
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return []
    return [
        Problem(
            source,
            message,
            fix=fix,
            column=column,
            rows=_first(labels[mask]),
            count=int(mask.sum()),
            severity=severity,
            lines=lines,
        )
    ]


def _check_counts(
    values: pd.Series, *, source: str, column: str, labels: pd.Index, lines: bool
) -> list[Problem]:
    problems: list[Problem] = []
    numeric = pd.to_numeric(values, errors="coerce")
    not_number = numeric.isna() & values.notna()
    missing = values.isna()
    as_float = numeric.to_numpy(dtype=np.float64, na_value=np.nan)
    negative = as_float < 0
    fractional = np.isfinite(as_float) & (as_float != np.round(as_float))
    # No access address has a million dwellings; larger counts are a wrong column (or
    # would overflow the totals).
    huge = ~np.isfinite(as_float) & ~np.isnan(as_float) | (as_float > MAX_HOUSEHOLDS_PER_ADDRESS)
    for mask, message in (
        (not_number.to_numpy(), "household counts that are not numbers"),
        (missing.to_numpy(), "missing household counts"),
        (negative, "negative household counts"),
        (fractional, "household counts that are not whole numbers"),
        (huge, f"household counts above {MAX_HOUSEHOLDS_PER_ADDRESS:,} at one address"),
    ):
        problems += _row_problem(
            source,
            mask,
            labels,
            message,
            column=column,
            fix="household counts must be whole numbers >= 0",
            lines=lines,
        )
    return problems


def validate_municipalities(
    layer: gpd.GeoDataFrame, *, source: str
) -> tuple[gpd.GeoDataFrame, list[Problem]]:
    """Check and repair a municipality layer in canonical form.

    Errors: no rows, missing columns, no CRS, missing codes, non-polygon or empty
    geometries. Repairs with a warning: invalid polygons (``shapely.make_valid``, keeping
    polygonal parts); several rows with one code (dissolved into one).

    Examples
    --------
    >>> import shapely
    >>> bow = shapely.Polygon([(0, 0), (10, 10), (10, 0), (0, 10)])
    >>> m = gpd.GeoDataFrame({"municipality_code": ["0001"], "municipality_name": ["A"]},
    ...                      geometry=[bow], crs="EPSG:25832")
    >>> fixed, problems = validate_municipalities(m, source="m.gpkg")
    >>> bool(fixed.geometry.is_valid.all()), problems[0].severity
    (True, 'warning')
    """
    problems: list[Problem] = []
    if len(layer) == 0:
        return layer, [
            Problem(
                source,
                "the municipality layer has no rows",
                fix="check the path, layer name and selection",
            )
        ]
    problems += missing_columns(
        layer.columns,
        [S.MUNICIPALITY_CODE, S.MUNICIPALITY_NAME],
        source=source,
        what="municipality",
    )
    if problems:
        return layer, problems
    if layer.crs is None:
        problems.append(
            Problem(
                source, "the municipality layer has no CRS", fix='state it, e.g. crs = "EPSG:25832"'
            )
        )
    codes = layer[S.MUNICIPALITY_CODE]
    reserved = (codes.astype(str) == S.REGION_CODE).to_numpy()
    problems += _row_problem(
        source,
        reserved,
        layer.index,
        f"the municipality code {S.REGION_CODE!r} is reserved for the row of the whole area",
        column=S.MUNICIPALITY_CODE,
        fix='use the municipality\'s real code (4 digits, e.g. "0253")',
    )
    if codes.isna().any():
        problems.append(
            Problem(
                source,
                "municipality codes are missing",
                column=S.MUNICIPALITY_CODE,
                count=int(codes.isna().sum()),
                rows=_first(layer.index[codes.isna().to_numpy()]),
                fix="every polygon needs a code",
            )
        )
    geoms = layer.geometry.array
    empty = np.asarray(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    types = np.asarray(shapely.get_type_id(geoms))
    not_polygonal = ~empty & ~np.isin(types, [3, 6])
    problems += _row_problem(
        source,
        empty,
        layer.index,
        "empty or missing geometries",
        column="geometry",
        fix="drop those rows or repair them in a GIS",
    )
    problems += _row_problem(
        source,
        not_polygonal,
        layer.index,
        "geometries that are not polygons",
        column="geometry",
        fix="municipalities must be Polygon or MultiPolygon",
    )
    if any(p.severity == "error" for p in problems):
        return layer, problems
    layer, repair_problems = repair_polygons(layer, source=source)
    problems += repair_problems
    layer, dissolved = dissolve_codes(layer, source=source)
    problems += dissolved
    problems += overlaps(layer, source=source)
    return layer.reset_index(drop=True), problems


#: Overlap (m² in a metric CRS) between two municipalities beyond which it is reported.
OVERLAP_M2 = 10_000.0


def overlaps(layer: gpd.GeoDataFrame, *, source: str) -> list[Problem]:
    """Warn about municipalities whose polygons overlap (beyond slivers of a hectare).

    Where polygons overlap, an address counts in the one listed first; the user should
    know that the boundary file decides so.

    Examples
    --------
    >>> import shapely
    >>> m = gpd.GeoDataFrame({"municipality_code": ["0001", "0002"],
    ...                       "municipality_name": ["A", "B"]},
    ...                      geometry=[shapely.box(0, 0, 1000, 1000),
    ...                                shapely.box(500, 0, 1500, 1000)], crs="EPSG:25832")
    >>> overlaps(m, source="m.gpkg")[0].message.split(";")[0]
    'municipalities overlap (A and B: 500,000 m²)'
    """
    geoms = np.asarray(layer.geometry.array, dtype=object)
    if len(geoms) < 2:
        return []
    left, right = shapely.STRtree(geoms).query(geoms, predicate="overlaps")
    keep = left < right
    left, right = left[keep], right[keep]
    if left.size == 0:
        return []
    area = shapely.area(shapely.intersection(geoms[left], geoms[right]))
    big = area > OVERLAP_M2
    if not big.any():
        return []
    names = layer[S.MUNICIPALITY_NAME].astype(str).to_numpy()
    pairs = [
        f"{names[a]} and {names[b]}: {area_m2:,.0f} m²"
        for a, b, area_m2 in zip(left[big], right[big], area[big], strict=True)
    ]
    return [
        Problem(
            source,
            f"municipalities overlap ({'; '.join(pairs[:5])}{'; ...' if len(pairs) > 5 else ''}); "
            "an address in an overlap counts in the one listed first",
            count=int(big.sum()),
            severity="warning",
            fix="repair the boundary file if the overlaps are not intended",
        )
    ]


def dissolve_codes(
    layer: gpd.GeoDataFrame, *, source: str
) -> tuple[gpd.GeoDataFrame, list[Problem]]:
    """Dissolve several rows with one municipality code into one row (with a warning).

    Older exports have one row per polygon part. The first row's name is kept; a code
    is selected when any of its rows is.

    Examples
    --------
    >>> import shapely
    >>> m = gpd.GeoDataFrame({"municipality_code": ["0001", "0001"],
    ...                       "municipality_name": ["A", "A"]},
    ...                      geometry=[shapely.box(0, 0, 1, 1), shapely.box(2, 0, 3, 1)],
    ...                      crs="EPSG:25832")
    >>> one, problems = dissolve_codes(m, source="m.shp")
    >>> len(one), float(one.area.iloc[0]), problems[0].severity
    (1, 2.0, 'warning')
    """
    codes = layer[S.MUNICIPALITY_CODE]
    if not codes.duplicated().any():
        return layer, []
    dup = codes[codes.duplicated()].unique()
    problem = Problem(
        source,
        "several polygons share a code; dissolved into one",
        column=S.MUNICIPALITY_CODE,
        rows=_first(dup),
        count=len(dup),
        severity="warning",
    )
    columns = [S.MUNICIPALITY_CODE, S.MUNICIPALITY_NAME]
    aggregate = {S.MUNICIPALITY_NAME: "first"}
    if S.SELECTED in layer:
        columns.append(S.SELECTED)
        aggregate[S.SELECTED] = "any"
    geometry = layer.geometry.name
    out = layer[[*columns, geometry]].dissolve(by=S.MUNICIPALITY_CODE, aggfunc=aggregate)
    out = out.reset_index()[[*columns, geometry]]
    out.attrs = dict(layer.attrs)
    return out.reset_index(drop=True), [problem]


def repair_polygons(
    layer: gpd.GeoDataFrame, *, source: str
) -> tuple[gpd.GeoDataFrame, list[Problem]]:
    """Repair invalid polygons with ``make_valid``, keeping only their polygonal parts.

    Examples
    --------
    >>> import shapely
    >>> bow = shapely.Polygon([(0, 0), (10, 10), (10, 0), (0, 10)])
    >>> g = gpd.GeoDataFrame(geometry=[bow], crs="EPSG:25832")
    >>> repaired, problems = repair_polygons(g, source="g")
    >>> float(repaired.area.iloc[0]), len(problems)
    (50.0, 1)
    """
    geoms = layer.geometry.array
    invalid = ~np.asarray(shapely.is_valid(geoms))
    if not invalid.any():
        return layer, []
    fixed = np.asarray(geoms, dtype=object).copy()
    repaired = shapely.make_valid(fixed[invalid])
    # make_valid may return a collection with stray lines; keep the area only.
    fixed[invalid] = [_polygonal_part(g) for g in repaired]
    out = layer.copy()
    out[out.geometry.name] = gpd.GeoSeries(fixed, index=layer.index, crs=layer.crs)
    problem = Problem(
        source,
        "invalid polygons were repaired with make_valid",
        column="geometry",
        rows=_first(layer.index[invalid]),
        count=int(invalid.sum()),
        severity="warning",
        fix="repair the source file to silence this warning",
    )
    return out, [problem]


def _polygonal_part(geom: shapely.Geometry) -> shapely.Geometry:
    if shapely.get_type_id(geom) in (3, 6):
        return geom
    parts = shapely.get_parts(geom)
    polys = [p for p in parts if shapely.get_type_id(p) in (3, 6)]
    return shapely.union_all(polys) if polys else shapely.Polygon()


def empty_offers(source: str, what: str = "fixed") -> Problem:
    """Return the error for an offer table without rows."""
    return Problem(source, f"the {what} offer table has no rows", fix="check the path and filters")


def no_download(source: str) -> Problem:
    """Return the error for an offer table in which no row has a download speed."""
    return Problem(
        source,
        "no row of the offer table has a download speed",
        column=S.DOWN,
        fix="check that the download column is the right one",
    )


def validate_offers(
    offers: pd.DataFrame, *, source: str, what: str = "fixed", partition: bool = False
) -> tuple[pd.DataFrame, list[Problem]]:
    """Check an offer table (``address_id``, ``down_mbps``, ``up_mbps``).

    Errors: no rows, missing columns, missing address ids, non-numeric, infinite or
    negative speeds, a table in which no row has a download speed (the wrong column).
    A row without a download lists its address with nothing offered (the BBK
    convention: an empty cell is not offered); a missing upload is allowed: how it
    counts is the service standard's ``missing_upload`` option. With ``partition=True``
    (one piece of a larger table) "no rows" and "no download speed" are the caller's
    to judge for the whole table (:func:`empty_offers`, :func:`no_download`).

    Examples
    --------
    >>> o = pd.DataFrame({"address_id": ["a"], "down_mbps": [-1.0], "up_mbps": [1.0]})
    >>> [p.message for p in validate_offers(o, source="o.csv")[1]]
    ['negative download speeds']
    """
    problems: list[Problem] = []
    labels, lines = row_labels(offers)
    if len(offers) == 0:
        return offers, [] if partition else [empty_offers(source, what)]
    problems += missing_columns(
        offers.columns, [S.ADDRESS_ID, S.DOWN, S.UP], source=source, what=f"{what} offer"
    )
    if problems:
        return offers, problems
    null_ids = offers[S.ADDRESS_ID].isna().to_numpy()
    problems += _row_problem(
        source,
        null_ids,
        labels,
        "offers without an address id",
        column=S.ADDRESS_ID,
        fix="every offer must name its address",
        lines=lines,
    )
    for column, required in ((S.DOWN, True), (S.UP, False)):
        values = offers[column]
        numeric = pd.to_numeric(values, errors="coerce")
        text = (numeric.isna() & values.notna()).to_numpy()
        problems += _row_problem(
            source,
            text,
            labels,
            "speeds that are not numbers",
            column=column,
            fix="speeds are Mbit/s as numbers; leave the cell empty when nothing is offered",
            lines=lines,
        )
        as_float = numeric.to_numpy(dtype=np.float64, na_value=np.nan)
        if required and np.isnan(as_float).all() and not text.any() and not partition:
            problems.append(no_download(source))
        problems += _row_problem(
            source,
            np.isinf(as_float),
            labels,
            "infinite speeds",
            column=column,
            fix="speeds must be finite numbers of Mbit/s",
            lines=lines,
        )
        negative = as_float < 0
        problems += _row_problem(
            source,
            negative,
            labels,
            f"negative {'download' if required else 'upload'} speeds",
            column=column,
            fix="speeds must be >= 0",
            lines=lines,
        )
    problems += _swapped_speeds(offers, source=source, labels=labels, lines=lines)
    problems += _kbits(offers, source=source, labels=labels, lines=lines)
    return offers, problems


#: No consumer connection is offered above this speed (Mbit/s): faster values are kbit/s.
MAX_MBPS = 100_000.0


def _kbits(
    offers: pd.DataFrame, *, source: str, labels: pd.Index, lines: bool
) -> list[Problem]:
    """Refuse speeds that can only be kbit/s (older BBK files and operator exports use it).

    The fastest fixed offers are 10 Gbit/s (10,000 Mbit/s); a table read in kbit/s holds
    values a thousand times larger and would make nearly every address look served.
    """
    problems: list[Problem] = []
    for column in (S.DOWN, S.UP):
        if column not in offers:
            continue
        values = pd.to_numeric(offers[column], errors="coerce").to_numpy(
            np.float64, na_value=np.nan
        )
        huge = np.isfinite(values) & (values > MAX_MBPS)
        if huge.any():
            problems += _row_problem(
                source,
                huge,
                labels,
                f"speeds above {MAX_MBPS:,.0f} Mbit/s (up to {np.nanmax(values):,.0f}): no "
                "connection is that fast; the column is probably in kbit/s",
                column=column,
                fix="give speeds in Mbit/s (divide kbit/s by 1,000)",
                lines=lines,
            )
    return problems


#: Offers whose upload exceeds their download, beyond which the columns look swapped.
SWAPPED_SHARE = 0.5


def _swapped_speeds(
    offers: pd.DataFrame, *, source: str, labels: pd.Index, lines: bool
) -> list[Problem]:
    """Refuse a table in which most offers upload faster than they download.

    Real offers are asymmetric (cable, xDSL, mobile) or symmetric (fibre); a table in
    which most uploads exceed their downloads has its two columns the wrong way round,
    and would make nearly every address look under-served.
    """
    down = pd.to_numeric(offers[S.DOWN], errors="coerce").to_numpy(np.float64, na_value=np.nan)
    up = pd.to_numeric(offers[S.UP], errors="coerce").to_numpy(np.float64, na_value=np.nan)
    both = np.isfinite(down) & np.isfinite(up) & (down > 0)
    if both.sum() < 10:
        return []
    higher = both & (up > down)
    if higher.sum() <= SWAPPED_SHARE * both.sum():
        return []
    return _row_problem(
        source,
        higher,
        labels,
        f"{higher.sum() / both.sum():.0%} of the offers upload faster than they download: "
        "the download and upload columns look swapped",
        column=f"{S.DOWN}/{S.UP}",
        fix="check which column is the download (download = ...) and which the upload",
        lines=lines,
    )
