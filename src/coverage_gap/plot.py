"""Charts and maps for slides: 16:9, large type, Danish or English, a footer on every figure.

Every function takes ``ax=None`` (a new slide-sized figure is made) and returns the Axes;
nothing is shown or saved here (see :mod:`coverage_gap.report`). Every figure carries a
footer with the service standard, the denominator, the data year and the source, so a
chart pasted into a slide keeps its definition.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import geopandas as gpd
import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib import patheffects, ticker
from matplotlib.axes import Axes
from matplotlib.colors import BoundaryNorm, ListedColormap, LogNorm
from matplotlib.patches import Patch
from mpl_toolkits.axes_grid1 import make_axes_locatable

from . import schema as S
from .aggregate import Provenance

SLIDE = (13.333, 7.5)  # inches: a 16:9 slide
FOOTER_TAG = "coverage_gap-footer"

#: Colour-blind-safe colours: ColorBrewer YlOrRd (sequential) and Okabe-Ito (categories).
SEQUENTIAL = ["#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"]
CATEGORICAL = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000"]

STYLE = {
    "font.size": 15,
    "axes.titlesize": 22,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.labelsize": 16,
    "xtick.labelsize": 14,
    "ytick.labelsize": 14,
    "legend.fontsize": 14,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "svg.hashsalt": "coverage_gap",
    "svg.fonttype": "path",
}

TEXT = {
    "en": {
        "share_title": "Share of {unit} without adequate service",
        "ranking_title": "Under-served {unit} by municipality",
        "breakdown_title": "What is missing, by municipality",
        "hotspot_title": "Where the under-served {unit} are",
        "demand_title": "Projected mobile data demand",
        "growth_title": "Growth of mobile data use: observed and assumed",
        "share_axis": "Share of {unit}",
        "region": "Region",
        "interval": "95 % interval",
        "fixed_only": "No fixed service only",
        "mobile_only": "No mobile service only",
        "both": "Neither fixed nor mobile",
        "per_cell": "{unit} per km²",
        "demand_axis": "GB per month",
        "year": "Year",
        "growth_axis": "Growth per year",
        "observed": "Observed",
        "no_data": "no {unit}",
        "claim": "Claim: {label}",
        "n_units": "{Unit}",
        "n_under": "Under-served",
        "n_no_fixed": "Without fixed service",
        "n_both": "Without fixed and mobile",
        "short_hotspots": "Under-served {unit}",
        "short_demand": "Demand, GB per month",
    },
    "da": {
        "share_title": "Andel {unit} uden tilstrækkelig forbindelse",
        "ranking_title": "Underforsynede {unit} pr. kommune",
        "breakdown_title": "Hvad mangler der, pr. kommune",
        "hotspot_title": "Hvor de underforsynede {unit} bor",
        "demand_title": "Fremskrevet mobil dataefterspørgsel",
        "growth_title": "Vækst i mobilt dataforbrug: målt og antaget",
        "share_axis": "Andel af {unit}",
        "region": "Regionen",
        "interval": "95 %-interval",
        "fixed_only": "Kun ingen fast forbindelse",
        "mobile_only": "Kun ingen mobildækning",
        "both": "Hverken fast eller mobil",
        "per_cell": "{unit} pr. km²",
        "demand_axis": "GB pr. måned",
        "year": "År",
        "growth_axis": "Vækst pr. år",
        "observed": "Målt",
        "no_data": "ingen {unit}",
        "claim": "Påstand: {label}",
        "n_units": "{Unit}",
        "n_under": "Underforsynede",
        "n_no_fixed": "Uden fast forbindelse",
        "n_both": "Uden fast og mobil",
        "short_hotspots": "Underforsynede {unit}",
        "short_demand": "Efterspørgsel, GB pr. måned",
    },
}

UNITS = {
    "households": ("households", "husstande"),
    "dwellings": ("dwellings", "boliger"),
    "addresses": ("addresses", "adresser"),
}


def _text(key: str, lang: str, provenance: Provenance | None = None, **kwargs: str) -> str:
    unit = UNITS[provenance.denominator if provenance else "households"][lang == "da"]
    return TEXT["da" if lang == "da" else "en"][key].format(
        unit=unit, Unit=unit.capitalize(), **kwargs
    )


def format_number(value: float, lang: str = "en", decimals: int = 0) -> str:
    """Format a number the Danish or English way.

    Examples
    --------
    >>> format_number(12345.6, "da", 1), format_number(12345.6, "en", 1)
    ('12.345,6', '12,345.6')
    """
    text = f"{value:,.{decimals}f}"
    if lang == "da":
        text = text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return text


def format_percent(share: float, lang: str = "en", decimals: int = 1) -> str:
    """Format a share (0..1) as a percentage: ``"18,7 %"`` in Danish, ``"18.7%"`` in English.

    Examples
    --------
    >>> format_percent(0.1874, "da"), format_percent(0.1874, "en")
    ('18,7 %', '18.7%')
    """
    if share is None or (isinstance(share, float) and math.isnan(share)):
        return "–"
    number = format_number(100 * share, lang, decimals)
    return f"{number} %" if lang == "da" else f"{number}%"


def new_axes(*, left: float = 0.08) -> Axes:
    """Return the Axes of a new slide-sized (16:9) figure with room for the footer."""
    with mpl.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=SLIDE)
        fig.subplots_adjust(left=left, right=0.97, top=0.88, bottom=0.14)
    return ax


def add_footer(ax: Axes, provenance: Provenance | None, lang: str = "en") -> None:
    """Write the definition (standard, denominator, year, source) under the figure.

    Replaces an earlier footer, so calling it twice leaves one.

    Examples
    --------
    >>> from coverage_gap.standards import GIGABIT
    >>> ax = new_axes()
    >>> add_footer(ax, Provenance(GIGABIT, "addresses", 2026, "BBK"), lang="da")
    >>> [t.get_text() for t in ax.figure.texts][0].startswith("Niveau: fast ≥ 1000 Mbit/s")
    True
    """
    fig = ax.figure
    for text in list(fig.texts):
        if text.get_gid() == FOOTER_TAG:
            text.remove()
    if provenance is None:
        return
    footer = provenance.footer(lang)
    fig.text(
        0.01,
        0.01,
        _wrap(footer, 150),
        fontsize=10,
        color="#444444",
        ha="left",
        va="bottom",
        gid=FOOTER_TAG,
    )


def _wrap(text: str, width: int) -> str:
    parts = text.split(" · ")
    lines, current = [], ""
    for part in parts:
        candidate = f"{current} · {part}" if current else part
        if len(candidate) > width and current:
            lines.append(current)
            current = part
        else:
            current = candidate
    lines.append(current)
    return "\n".join(lines)


def _provenance(table: pd.DataFrame, provenance: Provenance | None) -> Provenance | None:
    return provenance if provenance is not None else table.attrs.get("provenance")


def _municipal_rows(table: pd.DataFrame) -> pd.DataFrame:
    return table[table.index != S.REGION_CODE]


def nice_breaks(values: Sequence[float], classes: int = 5) -> list[float]:
    """Class breaks for shares that read well: round numbers spanning the data.

    Returns ``classes + 1`` edges from 0 up to a round number above the maximum.

    Examples
    --------
    >>> nice_breaks([0.03, 0.12, 0.26])
    [0.0, 0.06, 0.12, 0.18, 0.24, 0.3]
    """
    finite = [v for v in values if v is not None and np.isfinite(v)]
    top = max(finite) if finite else 1.0
    steps = [m * 10.0**e for e in (-3, -2, -1) for m in (1, 2, 2.5, 3, 4, 5, 6, 8)] + [0.25]
    step = next((s for s in steps if s * classes >= top), 0.25)
    return [round(i * step, 6) for i in range(classes + 1)]


def plot_gap_map(
    table: pd.DataFrame,
    boundaries: gpd.GeoDataFrame,
    *,
    ax: Axes | None = None,
    lang: str = "en",
    provenance: Provenance | None = None,
    classes: int = 5,
    labels: bool = True,
) -> Axes:
    """Choropleth of the under-served share per municipality, with names and a legend.

    Parameters
    ----------
    table
        Output of :func:`coverage_gap.summarize_gap`.
    boundaries
        Municipality polygons with ``municipality_code`` and ``municipality_name``.
    ax
        Axes to draw on; a new slide-sized figure when ``None``.
    lang
        ``"en"`` or ``"da"``.
    provenance
        Footer text; taken from ``table.attrs`` when ``None``.
    classes
        Number of colour classes (round breaks, see :func:`nice_breaks`).
    labels
        Write municipality names at their representative points.

    Examples
    --------
    >>> from coverage_gap.datasets import make_demo_results
    >>> results = make_demo_results(scale=0.01)
    >>> ax = plot_gap_map(results.municipalities, results.boundaries)
    >>> len(ax.collections[0].get_paths()) >= 17
    True
    """
    provenance = _provenance(table, provenance)
    ax = ax or new_axes()
    rows = _municipal_rows(table)
    shares = rows["underserved_share"]
    edges = nice_breaks(shares.tolist(), classes)
    colours = (
        SEQUENTIAL
        if classes == 5
        else [mpl.colormaps["YlOrRd"](i / max(classes - 1, 1)) for i in range(classes)]
    )
    cmap = ListedColormap(colours)
    norm = BoundaryNorm(edges, cmap.N)
    layer = boundaries.set_index(S.MUNICIPALITY_CODE)
    share = shares.reindex(layer.index)
    has = share.notna().to_numpy()
    layer.loc[has].plot(
        ax=ax, color=cmap(norm(share[has].to_numpy())), edgecolor="white", linewidth=1.0
    )
    if (~has).any():
        layer.loc[~has].plot(ax=ax, color="#dddddd", edgecolor="white", linewidth=1.0, hatch="//")
    if labels:
        points = layer.geometry.representative_point()
        for code, point in points.items():
            ax.annotate(
                layer.loc[code, S.MUNICIPALITY_NAME],
                (point.x, point.y),
                ha="center",
                va="center",
                fontsize=11,
                color="#222222",
                path_effects=[patheffects.withStroke(linewidth=3, foreground="white")],
            )
    handles = [
        Patch(
            facecolor=colours[i],
            edgecolor="#999999",
            label=f"{format_percent(edges[i], lang, 0)} – {format_percent(edges[i + 1], lang, 0)}",
        )
        for i in range(len(edges) - 1)
    ]
    if (~has).any():
        handles.append(
            Patch(
                facecolor="#dddddd",
                hatch="//",
                edgecolor="#999999",
                label=_text("no_data", lang, provenance),
            )
        )
    ax.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(1.0, 1.0),
        frameon=False,
        title=_text("share_axis", lang, provenance),
    )
    ax.set_axis_off()
    ax.set_aspect("equal")
    ax.set_anchor("W")
    region = (
        table.loc[S.REGION_CODE, "underserved_share"] if S.REGION_CODE in table.index else np.nan
    )
    ax.set_title(
        _text("share_title", lang, provenance)
        + (f": {format_percent(region, lang)}" if np.isfinite(region) else "")
    )
    add_footer(ax, provenance, lang)
    return ax


def plot_gap_ranking(
    table: pd.DataFrame,
    *,
    ax: Axes | None = None,
    lang: str = "en",
    provenance: Provenance | None = None,
    reference: float | None = 0.2,
    reference_label: str | None = None,
) -> Axes:
    """Ranked horizontal bars of the share, with the 95 % interval and the region's share.

    Parameters
    ----------
    reference
        A claimed share to draw as a line (0.2 = "1 in 5"); ``None`` for none.
    reference_label
        Its label; ``"1 in 5"`` / ``"hver femte"`` style by default.

    Examples
    --------
    >>> from coverage_gap.datasets import make_demo_results
    >>> ax = plot_gap_ranking(make_demo_results(scale=0.01).municipalities, lang="da")
    >>> len(ax.patches), ax.get_yticklabels()[-1].get_text() != ""
    (17, True)
    """
    provenance = _provenance(table, provenance)
    ax = ax or new_axes(left=0.16)
    rows = _municipal_rows(table).sort_values("underserved_share", na_position="first")
    y = np.arange(len(rows))
    share = rows["underserved_share"].to_numpy(np.float64)
    low = rows["share_ci_low"].to_numpy(np.float64)
    high = rows["share_ci_high"].to_numpy(np.float64)
    ax.barh(y, np.nan_to_num(share), color=CATEGORICAL[0], height=0.7)
    ax.errorbar(
        share,
        y,
        xerr=[share - low, high - share],
        fmt="none",
        ecolor="#333333",
        capsize=3,
        linewidth=1.2,
        label=_text("interval", lang),
    )
    ax.set_yticks(y, rows[S.MUNICIPALITY_NAME].tolist())
    for yi, value, top in zip(y, share, high, strict=True):
        if np.isfinite(value):
            ax.text(
                max(value, top), yi, "  " + format_percent(value, lang), va="center", fontsize=12
            )
    if S.REGION_CODE in table.index:
        region = float(table.loc[S.REGION_CODE, "underserved_share"])
        ax.axvline(
            region,
            color=CATEGORICAL[1],
            linewidth=2.5,
            label=f"{_text('region', lang)}: {format_percent(region, lang)}",
        )
    if reference is not None:
        label = reference_label or _claim_label(reference, lang)
        ax.axvline(
            reference,
            color=CATEGORICAL[5],
            linestyle="--",
            linewidth=2,
            label=_text("claim", lang, label=label),
        )
    ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: format_percent(v, lang, 0)))
    ax.set_xlim(
        0, max(np.nanmax(high) if np.isfinite(high).any() else 0, reference or 0) * 1.15 or 1
    )
    ax.set_xlabel(_text("share_axis", lang, provenance))
    ax.legend(loc="lower right", frameon=False)
    ax.set_title(_text("ranking_title", lang, provenance))
    add_footer(ax, provenance, lang)
    return ax


def _claim_label(share: float, lang: str) -> str:
    one_in = round(1 / share) if share > 0 else 0
    if one_in and abs(1 / one_in - share) < 1e-9:
        words = {2: "anden", 3: "tredje", 4: "fjerde", 5: "femte", 10: "tiende"}
        if lang == "da" and one_in in words:
            return f"hver {words[one_in]} ({format_percent(share, lang, 0)})"
        return f"1 in {one_in} ({format_percent(share, lang, 0)})"
    return format_percent(share, lang)


def plot_gap_breakdown(
    table: pd.DataFrame,
    *,
    ax: Axes | None = None,
    lang: str = "en",
    provenance: Provenance | None = None,
) -> Axes:
    """Stacked bars: without fixed only / without mobile only / without either.

    Shares of each municipality's households; needs both fixed and mobile assessed.

    Examples
    --------
    >>> from coverage_gap.datasets import make_demo_results
    >>> ax = plot_gap_breakdown(make_demo_results(scale=0.01).municipalities)
    >>> len(ax.patches), [t.get_text() for t in ax.get_legend().get_texts()][2]
    (54, 'Neither fixed nor mobile')
    """
    provenance = _provenance(table, provenance)
    ax = ax or new_axes(left=0.16)
    rows = table.copy()
    for column in (
        "fixed_unserved_households",
        "mobile_unserved_households",
        "unserved_both_households",
    ):
        if rows[column].isna().any():
            raise ValueError(f"{column} is missing: the breakdown needs fixed and mobile data")
    households = rows["households"].to_numpy(np.float64)
    both = rows["unserved_both_households"].to_numpy(np.float64)
    fixed_only = rows["fixed_unserved_households"].to_numpy(np.float64) - both
    mobile_only = rows["mobile_unserved_households"].to_numpy(np.float64) - both
    with np.errstate(invalid="ignore", divide="ignore"):
        parts = [
            np.where(households > 0, p / households, 0.0) for p in (fixed_only, mobile_only, both)
        ]
    order = np.argsort(parts[0] + parts[1] + parts[2], kind="stable")
    names = rows[S.MUNICIPALITY_NAME].to_numpy()[order]
    is_region = (rows.index.to_numpy() == S.REGION_CODE)[order]
    y = np.arange(len(rows))
    left = np.zeros(len(rows))
    for key, part, colour in zip(
        ("fixed_only", "mobile_only", "both"),
        parts,
        (CATEGORICAL[0], CATEGORICAL[4], CATEGORICAL[5]),
        strict=True,
    ):
        ax.barh(y, part[order], left=left, color=colour, height=0.7, label=_text(key, lang))
        left += part[order]
    ax.set_yticks(y, [f"{n} *" if r else n for n, r in zip(names, is_region, strict=True)])
    for label, region in zip(ax.get_yticklabels(), is_region, strict=True):
        if region:
            label.set_fontweight("bold")
    ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: format_percent(v, lang, 0)))
    ax.set_xlabel(_text("share_axis", lang, provenance))
    ax.legend(loc="lower right", frameon=False)
    ax.set_title(_text("breakdown_title", lang, provenance))
    add_footer(ax, provenance, lang)
    return ax


def hotspot_grid(
    classified: pd.DataFrame, cell_m: float = 1000.0
) -> tuple[np.ndarray, tuple[float, float, float, float]]:
    """Under-served households per cell of the Danish square grid (cells on whole km).

    Returns
    -------
    tuple
        ``(counts, extent)``: a 2-D array (north up) and ``(xmin, xmax, ymin, ymax)``.

    Examples
    --------
    >>> t = pd.DataFrame({"x": [500.0, 700.0, 1500.0], "y": [500.0, 900.0, 500.0],
    ...                   "households": [1, 2, 4], "underserved": [True, True, False],
    ...                   "assignment": ["inside"] * 3})
    >>> counts, extent = hotspot_grid(t)
    >>> counts.tolist(), extent
    ([[3.0, 0.0]], (0.0, 2000.0, 0.0, 1000.0))
    """
    keep = classified[S.ASSIGNMENT].isin(["inside", "nearest"]).to_numpy()
    x = classified[S.X].to_numpy(np.float64)[keep]
    y = classified[S.Y].to_numpy(np.float64)[keep]
    weight = (
        classified[S.HOUSEHOLDS].to_numpy(np.float64) * classified["underserved"].to_numpy(bool)
    )[keep]
    if x.size == 0:
        return np.zeros((1, 1)), (0.0, cell_m, 0.0, cell_m)
    x0 = math.floor(x.min() / cell_m) * cell_m
    y0 = math.floor(y.min() / cell_m) * cell_m
    nx = int((x.max() - x0) // cell_m) + 1
    ny = int((y.max() - y0) // cell_m) + 1
    col = ((x - x0) // cell_m).astype(np.int64)
    row = ((y - y0) // cell_m).astype(np.int64)
    counts = np.bincount(row * nx + col, weights=weight, minlength=nx * ny).reshape(ny, nx)
    return counts[::-1], (x0, x0 + nx * cell_m, y0, y0 + ny * cell_m)


def plot_hotspots(
    classified: pd.DataFrame,
    boundaries: gpd.GeoDataFrame,
    *,
    ax: Axes | None = None,
    lang: str = "en",
    provenance: Provenance | None = None,
    cell_m: float = 1000.0,
    colorbar: str = "vertical",
) -> Axes:
    """Map of where the under-served households are: counts per km² over the outlines.

    ``colorbar`` is ``"vertical"`` (beside the map) or ``"horizontal"`` (under it).

    Examples
    --------
    >>> from coverage_gap.datasets import make_demo_results
    >>> r = make_demo_results(scale=0.01)
    >>> ax = plot_hotspots(r.households, r.boundaries, provenance=r.provenance)
    >>> bool(ax.images[0].get_array().max() > 0)
    True
    """
    ax = ax or new_axes()
    counts, extent = hotspot_grid(classified, cell_m)
    area_km2 = (cell_m / 1000) ** 2
    density = np.ma.masked_less_equal(counts / area_km2, 0)
    cmap = mpl.colormaps["YlOrRd"].copy()
    top = max(float(density.max()) if density.count() else 1.0, 1.0)
    image = ax.imshow(
        density,
        extent=extent,
        cmap=cmap,
        interpolation="nearest",
        norm=LogNorm(vmin=1, vmax=top) if top > 1 else None,
        zorder=1,
    )
    boundaries.boundary.plot(ax=ax, color="#555555", linewidth=0.8, zorder=2)
    ax.set_aspect("equal")
    ax.set_anchor("W")
    # A colour bar axes that sticks to the map, whatever its aspect ratio.
    side = "right" if colorbar == "vertical" else "bottom"
    cax = make_axes_locatable(ax).append_axes(side, size="3%", pad=0.15)
    bar = ax.figure.colorbar(image, cax=cax, orientation=colorbar)
    bar.set_label(_text("per_cell", lang, provenance))
    bar.formatter = ticker.FuncFormatter(lambda v, _: format_number(v, lang))
    bar.update_ticks()
    ax.set_axis_off()
    ax.set_aspect("equal")
    ax.set_title(_text("hotspot_title", lang, provenance))
    add_footer(ax, provenance, lang)
    return ax


def plot_demand(
    projection: pd.DataFrame,
    *,
    municipality: str = S.REGION_CODE,
    ax: Axes | None = None,
    lang: str = "en",
    provenance: Provenance | None = None,
    history: pd.DataFrame | None = None,
    fitted: pd.DataFrame | None = None,
) -> Axes:
    """Fan chart of demand scenarios over the years for one municipality (or the region).

    Parameters
    ----------
    projection
        Output of :func:`coverage_gap.demand.project_demand`.
    municipality
        Code to show (``"region"`` for the region row).
    history
        Optional observed points: ``year`` and ``demand_gb_month``.
    fitted
        Optional fitted curve: ``year`` and ``demand_gb_month``.

    Examples
    --------
    >>> from coverage_gap.demand import TASKFORCE_50, CENTRAL, project_demand
    >>> base = pd.DataFrame({"municipality_code": ["region"], "households": [1000]})
    >>> p = project_demand(base, base_year=2026, horizon=2035, gb_per_unit_month=40,
    ...                    scenarios=[TASKFORCE_50, CENTRAL])
    >>> len(plot_demand(p).get_lines())
    2
    """
    ax = ax or new_axes()
    rows = projection[projection[S.MUNICIPALITY_CODE] == municipality]
    wide = rows.pivot(index="year", columns="scenario", values="demand_gb_month")
    wide = wide[list(dict.fromkeys(rows["scenario"]))]
    if wide.shape[1] > 1:
        ax.fill_between(
            wide.index, wide.min(axis=1), wide.max(axis=1), color="#cccccc", alpha=0.5, linewidth=0
        )
    for i, scenario in enumerate(wide.columns):
        ax.plot(
            wide.index,
            wide[scenario],
            color=CATEGORICAL[i % len(CATEGORICAL)],
            linewidth=2.5,
            label=scenario,
        )
        ax.annotate(
            format_number(wide[scenario].iloc[-1], lang),
            (wide.index[-1], wide[scenario].iloc[-1]),
            xytext=(5, 0),
            textcoords="offset points",
            va="center",
            fontsize=12,
        )
    if fitted is not None:
        ax.plot(
            fitted["year"],
            fitted["demand_gb_month"],
            color="#000000",
            linestyle="--",
            linewidth=2,
            label=f"fit ({_text('observed', lang).lower()})",
        )
    if history is not None:
        ax.scatter(
            history["year"],
            history["demand_gb_month"],
            color="#000000",
            zorder=3,
            label=_text("observed", lang),
        )
    ax.set_xlim(wide.index[0], wide.index[-1] + max(1.5, 0.18 * (wide.index[-1] - wide.index[0])))
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: format_number(v, lang)))
    ax.set_xlabel(_text("year", lang))
    ax.set_ylabel(_text("demand_axis", lang))
    ax.legend(loc="upper left", frameon=False)
    ax.set_title(_text("demand_title", lang))
    add_footer(ax, provenance, lang)
    return ax


def plot_growth_rates(
    observed: pd.DataFrame,
    scenarios: Sequence[object],
    *,
    start_year: float,
    end_year: float,
    ax: Axes | None = None,
    lang: str = "en",
    provenance: Provenance | None = None,
) -> Axes:
    """Observed annual growth (points, ranges as bars) against the scenarios' rates.

    Parameters
    ----------
    observed
        As :func:`coverage_gap.demand.danish_mobile_growth`.
    scenarios
        :class:`~coverage_gap.demand.GrowthScenario` objects, each starting at
        ``start_year``.

    Examples
    --------
    >>> from coverage_gap.demand import TASKFORCE_50, danish_mobile_growth
    >>> ax = plot_growth_rates(danish_mobile_growth(), [TASKFORCE_50], start_year=2014.5,
    ...                        end_year=2035)
    >>> len(ax.get_lines()) >= 1
    True
    """
    ax = ax or new_axes()
    centre = (observed["period_start"] + observed["period_end"]) / 2
    low, high = observed["growth_low"], observed["growth_high"]
    mid = (low + high) / 2
    ax.errorbar(
        centre,
        mid,
        yerr=[mid - low, high - mid],
        xerr=(observed["period_end"] - observed["period_start"]) / 2,
        fmt="o",
        color="#000000",
        capsize=4,
        markersize=8,
        label=_text("observed", lang),
    )
    years = np.linspace(start_year, end_year, 200)
    for i, scenario in enumerate(scenarios):
        rate = scenario.rate_in_year(years - start_year + 1)  # type: ignore[attr-defined]
        ax.plot(
            years,
            rate,
            color=CATEGORICAL[i % len(CATEGORICAL)],
            linewidth=2.5,
            label=f"{scenario.name}",
        )  # type: ignore[attr-defined]
    ax.yaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: format_percent(v, lang, 0)))
    ax.set_ylim(0, None)
    ax.set_xlabel(_text("year", lang))
    ax.set_ylabel(_text("growth_axis", lang))
    ax.legend(loc="upper right", frameon=False)
    ax.set_title(_text("growth_title", lang))
    add_footer(ax, provenance, lang)
    return ax
