"""Which reader reads which kind of layer, with which options: the registry of inputs.

A configuration names layers by ``kind`` (or lets the file suffix decide); this module
knows, for every kind, the reader function, the sections it may appear in, and the
options a configuration may set, with their types. :func:`read_layer` reads a layer and
returns one generic :class:`LayerData` bundle, whatever the reader returned (a BBK file
gives households and offers at once), so the pipeline never asks what a reader was.

Nothing heavy is imported here: readers are imported when a layer is read.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError, Problem

#: Option types a configuration may use (checked by :func:`check_option`).
TEXT, NUMBER, INTEGER, BOOL, TEXTS, KEY, TECHNOLOGIES, PATH, LAYER = (
    "text",
    "number",
    "whole number",
    "true or false",
    "list of text",
    "column name or list of column names",
    "table of technology = [download, upload]",
    "path",
    "layer name or number",
)

RASTER_SUFFIXES = (".tif", ".tiff", ".vrt", ".img", ".asc", ".nc")
TABLE_SUFFIXES = (".csv", ".txt", ".tsv")
PARQUET_SUFFIXES = (".parquet", ".geoparquet", ".pq")


@dataclass(frozen=True)
class Reader:
    """One kind of input layer.

    Attributes
    ----------
    kind
        The name used in a configuration (``kind = "bbk"``).
    function
        ``"module:function"`` of the reader, imported when needed.
    sections
        Configuration sections the kind may appear in.
    options
        Options a configuration may set, with their types.
    takes
        Options the pipeline passes itself (``working_crs``, ``municipalities``,
        ``progress``, ``bounds``, ``keep``: household columns a ``[pool]`` section names).
    """

    kind: str
    function: str
    sections: frozenset[str]
    options: Mapping[str, str] = field(default_factory=dict)
    takes: frozenset[str] = frozenset({"working_crs"})

    def load(self) -> Callable[..., Any]:
        """Import the reader function."""
        module, name = self.function.split(":")
        return getattr(importlib.import_module(module, __package__), name)


_CRS_LAYER = {"crs": TEXT, "layer": LAYER}
READERS: dict[str, Reader] = {
    r.kind: r
    for r in (
        Reader(
            "households",
            ".vector:read_households",
            frozenset({"households"}),
            {
                "id": KEY,
                "households": TEXT,
                "municipality": TEXT,
                "x": TEXT,
                "y": TEXT,
                "decimal": TEXT,
                **_CRS_LAYER,
            },
            frozenset({"working_crs", "keep"}),
        ),
        Reader(
            "dawa",
            "..danish.readers:read_dawa_addresses",
            frozenset({"households"}),
            {
                "units": PATH,
                "id": KEY,
                "unit_reference": TEXT,
                "households": TEXT,
                "x": TEXT,
                "y": TEXT,
                "keep_retired": BOOL,
                "min_dwelling_match_share": NUMBER,
            },
            frozenset({"keep"}),
        ),
        Reader(
            "bbk",
            "..danish.readers:read_bbk",
            frozenset({"households", "fixed", "mobile"}),
            {
                "encoding": TEXT,
                "dwellings": PATH,
                "key": TEXTS,
                "decimal": TEXT,
                "min_dwelling_match_share": NUMBER,
            },
            frozenset({"municipalities", "progress"}),
        ),
        Reader(
            "municipalities",
            ".vector:read_municipalities",
            frozenset({"municipalities"}),
            {"code": TEXT, "name": TEXT, "codes": TEXTS, **_CRS_LAYER},
        ),
        Reader(
            "dagi",
            "..danish.readers:read_dagi",
            frozenset({"municipalities"}),
            {"region": TEXT, "codes": TEXTS, **_CRS_LAYER},
            frozenset(),
        ),
        Reader(
            "table",
            ".offers:read_offers",
            frozenset({"fixed", "mobile"}),
            {
                "id": KEY,
                "download": TEXT,
                "upload": TEXT,
                "technology": TEXT,
                "technologies": TECHNOLOGIES,
                "sep": TEXT,
                "decimal": TEXT,
                "encoding": TEXT,
                "layer": LAYER,
            },
            frozenset(),
        ),
        Reader(
            "polygons",
            ".vector:read_coverage_polygons",
            frozenset({"fixed", "mobile"}),
            {"download": TEXT, "upload": TEXT, "signal": TEXT, "operator": TEXT, **_CRS_LAYER},
        ),
        Reader(
            "raster",
            ".raster:read_signal_raster",
            frozenset({"mobile"}),
            {"name": TEXT, "crs": TEXT, "band": INTEGER},
            frozenset({"working_crs", "bounds"}),
        ),
    )
}
"""Every kind of input layer, by name."""


def kind_for(path: Path, section: str) -> str:
    """Return the kind of a layer whose configuration does not say: from its suffix.

    Examples
    --------
    >>> kind_for(Path("a.tif"), "mobile"), kind_for(Path("o.csv"), "fixed")
    ('raster', 'table')
    >>> kind_for(Path("h.gpkg"), "households"), kind_for(Path("f.gpkg"), "fixed")
    ('households', 'polygons')
    """
    if section in ("households", "municipalities"):
        return section
    suffix = path.suffix.lower()
    if suffix in RASTER_SUFFIXES:
        return "raster"
    if suffix in TABLE_SUFFIXES:
        return "table"
    if suffix in PARQUET_SUFFIXES:
        raise ConfigError(
            f'[{section}] {path.name}: say kind = "table" or kind = "polygons" for a Parquet file'
        )
    return "polygons"


def reader_for(kind: str, section: str) -> Reader:
    """Return the reader of ``kind``, refusing a kind that does not belong in ``section``."""
    reader = READERS.get(kind)
    if reader is None:
        raise ConfigError(f"[{section}] kind: unknown kind {kind!r}; kinds are {sorted(READERS)}")
    if section not in reader.sections:
        allowed = sorted(k for k, r in READERS.items() if section in r.sections)
        raise ConfigError(f"[{section}] kind: {kind!r} cannot be used here; use one of {allowed}")
    return reader


def check_option(section: str, key: str, value: Any, expected: str) -> None:
    """Refuse an option value of the wrong type, naming section and key.

    Examples
    --------
    >>> check_option("households", "id", ["postnr", "husnr"], KEY)
    >>> check_option("mobile", "band", "1", INTEGER)
    Traceback (most recent call last):
    ...
    coverage_gap.errors.ConfigError: [mobile] band must be a whole number, got '1' (text)
    """
    if not _fits(value, expected):
        raise ConfigError(
            f"[{section}] {key} must be a {expected}, got {value!r} ({describe_type(value)})"
        )


def _fits(value: Any, expected: str) -> bool:
    text_list = isinstance(value, list) and all(isinstance(v, str) for v in value)
    if expected in (TEXT, PATH):
        return isinstance(value, str)
    if expected == NUMBER:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if expected == INTEGER:
        return isinstance(value, int) and not isinstance(value, bool)
    if expected == BOOL:
        return isinstance(value, bool)
    if expected == TEXTS:
        return text_list
    if expected == KEY:
        return isinstance(value, str) or (text_list and len(value) > 0)
    if expected == LAYER:
        return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))
    if expected == TECHNOLOGIES:
        return isinstance(value, Mapping) and all(
            isinstance(v, str)
            or (isinstance(v, list) and 1 <= len(v) <= 2 and all(isinstance(c, str) for c in v))
            for v in value.values()
        )
    raise AssertionError(expected)  # pragma: no cover - every type is listed above


def describe_type(value: Any) -> str:
    """Return the TOML type of a value in words (for error messages)."""
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "a table"
    return type(value).__name__


@dataclass(frozen=True)
class LayerData:
    """What one input layer gives a run, whatever its reader returned.

    Attributes
    ----------
    source
        The file.
    households
        Canonical household table (households layers, BBK files).
    municipalities
        Canonical municipality layer.
    fixed_offers, mobile_offers
        Canonical offer tables (offer tables; BBK files give both).
    areas
        Coverage polygons.
    problems
        Warnings the reader met (e.g. retired addresses skipped).
    """

    source: str
    households: Any = None
    municipalities: Any = None
    fixed_offers: Any = None
    mobile_offers: Any = None
    areas: Any = None
    problems: tuple[Problem, ...] = ()


def read_layer(
    path: Path,
    kind: str,
    options: Mapping[str, Any],
    *,
    section: str,
    **extra: Any,
) -> LayerData:
    """Read one layer with its kind's reader and return it as a :class:`LayerData`.

    ``extra`` are the options the pipeline itself sets (``working_crs``,
    ``municipalities``, ``progress``); those a reader does not take are left out.
    """
    reader = reader_for(kind, section)
    value = reader.load()(path, **options, **{k: v for k, v in extra.items() if k in reader.takes})
    source = str(path)
    problems = tuple(getattr(value, "problems", ()) or ())
    if kind == "bbk":
        if section == "households":
            problems += tuple(value.household_problems)
        return LayerData(
            source,
            households=value.households if section == "households" else None,
            fixed_offers=value.fixed_offers if section in ("households", "fixed") else None,
            mobile_offers=value.mobile_offers if section in ("households", "mobile") else None,
            problems=problems,
        )
    # Problems travel out of the frame: attrs are copied with it and written to files.
    attrs_problems = tuple(getattr(value, "attrs", {}).pop("problems", ()))
    if section == "households":
        return LayerData(source, households=value, problems=attrs_problems)
    if section == "municipalities":
        return LayerData(source, municipalities=value, problems=attrs_problems)
    if kind == "table":
        key = "fixed_offers" if section == "fixed" else "mobile_offers"
        return LayerData(source, problems=attrs_problems, **{key: value})
    if kind == "polygons":
        return LayerData(source, areas=value, problems=attrs_problems)
    raise ConfigError(f"[{section}] a {kind} layer is not read by read_layer")
