"""Charts and maps for slides: 16:9, large type, Danish or English, the definition on every figure.

Every chart function takes ``ax=None`` and returns the Axes; nothing is shown or saved
here (see :mod:`coverage_gap.report`). Without ``ax`` a new slide-sized figure is made
(through pyplot, so it displays in a notebook) and the chart lays the whole slide out:
title naming the standard, legend and notes beside a map or above a chart, a footer
with the definition (only the thresholds the rule uses), the denominator, the data
year and the source. On an Axes of your own only that Axes is drawn on.

No function here changes matplotlib's global state: sizes and styles are set on the
artists, never through ``rcParams``.

Rules for honest figures on partial data:

- A municipality without households in the data (``households == 0``) is *no data*:
  grey and hatched on maps, without a bar in charts, named in the legend — never 0 %.
- A municipality with fewer than :data:`SMALL_COUNT` households (the denominator) has
  a share that few households decide: it is drawn dotted/hatched and marked "few", its
  interval is drawn but never widens an axis, and it does not set the colour classes.
"""

from __future__ import annotations

import itertools
import math
import textwrap
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import shapely
from matplotlib import patheffects, ticker
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.transforms import Bbox

from .. import schema as S
from ..standards import Provenance, ServiceStandard

if TYPE_CHECKING:
    from ..pipeline import Results

SLIDE = (13.333, 7.5)  # inches: a 16:9 slide
SLIDE_TAG = "coverage_gap-slide"
FOOTER_TAG = "coverage_gap-footer"
TITLE_TAG = "coverage_gap-title"
#: A slide figure whose title is written elsewhere (a deck's title placeholder): the
#: title is kept as a hidden text (see :func:`slide_title`) and takes no room.
UNTITLED_TAG = "coverage_gap-slide-untitled"
SMALL_COUNT = S.SMALL_COUNT

#: Colour-blind-safe colours: ColorBrewer YlOrRd (sequential) and Okabe-Ito (categories).
SEQUENTIAL = ["#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"]
CATEGORICAL: list[str] = [
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#000000",
]
NO_DATA = "#e4e4e4"
NO_DATA_HATCH = "#b0b0b0"
INK = "#222222"
GREY = "#666666"

SIZE = {
    "title": 22,
    "subtitle": 14,
    "label": 15,
    "tick": 13,
    "legend": 13,
    "value": 13,
    "footer": 10,
    "map_label": 11,
    "big": 40,
}
MARGIN = 0.35  # inches around the slide's content

TEXT = {
    "en": {
        "share_title": "Share of {unit} {phrase}",
        "ranking_title": "{Unit} {phrase}, by municipality",
        "breakdown_title": "What the under-served {unit} lack, by municipality",
        "hotspot_title": "Where the {unit} {phrase} are",
        "demand_title": "Projected mobile data demand: {area}",
        "growth_title": "Growth of mobile data use: observed and assumed",
        "comparison_title": "Share of {unit} under-served, by standard",
        "share_axis": "Share of {unit}",
        "region": "Region",
        "interval": "95 % interval",
        "share_bar": "Share under-served",
        "fixed_gap": "Without fixed ≥ {fixed}",
        "mobile_gap": "Without mobile ≥ {mobile}",
        "both": "Neither fixed nor mobile",
        "fixed_but_mobile": "No fixed ≥ {fixed}, but mobile ≥ {mobile}",
        "mobile_but_fixed": "No mobile ≥ {mobile}, but fixed ≥ {fixed}",
        "per_cell": "{Unit} {phrase}\nper 1 km² cell",
        "per_cell_m": "{Unit} {phrase}\nper {cell} m cell",
        "demand_axis": "{scale}GB per month",
        "busy_axis": "Busy hour, {scale}bit/s",
        "year": "Year",
        "growth_axis": "Growth per year",
        "observed": "Observed (range as a bar)",
        "fit": "Fitted to the observations",
        "fit_on": "Fitted curve, continued",
        "fan": "Range between the scenarios",
        "no_data": "No data (no {unit})",
        "no_data_short": "no data",
        "few": "Fewer than {n} {unit}: uncertain",
        "few_value": "{value} ({n} {unit})",
        "claim": "Claim: {label}",
        "n_units": "{Unit}",
        "region_line": "{area}: {value}",
        "big_caption": "{area}, {count} of {total} {unit}; 95 % interval {low}–{high}",
        "coverage_note": "{n} of {k} municipalities have {unit} in the data; hatched: no data.",
        "few_note": "Fewer than {n} {unit}: {names} (dotted; uncertain).",
        "no_underserved": "No {unit} {phrase} in the data.",
        "total_underserved": "{count} {unit} {phrase} in {cells} cells.",
        "scale_words": {1: "", 1e3: "thousand ", 1e6: "million "},
        "bit_words": {1: "M", 1e3: "G", 1e6: "T"},
        "assumption": "Assumption: {gb} GB per {unit_one} and month in {year}",
        "busy_rule": "busy-hour Mbit/s = GB per month × {factor}",
        "scenarios": "Scenarios",
        "source": "Source",
        "sources_growth": (
            "Observed: Danish Telestatistik (Energistyrelsen, SDFI, Digitaliseringsstyrelsen) "
            "and operator reports; growth of mobile data per subscription"
        ),
        "fit_note": "Fit: decaying growth fitted to the observed rates",
        "no_data_sheet": (
            "No {unit} of {name} are in the data, so there are no figures for the "
            "municipality. The region's figures rest on {n} of {k} municipalities."
        ),
        "sheet_share": "of the {unit} are under-served",
        "sheet_counts": "{count} of {total} {unit}\n95 % interval {low}–{high}\n{area}: {region}",
        "gaps_title": "Gaps, share of the {unit}",
        "municipality": "Municipality",
        "map_title": "{Unit} {phrase}",
        "demand_short": "Demand, {scale}GB per month",
        "definition": "Definition",
        "denominator": "Denominator",
        "data": "Data",
        "missing_upload": {
            "unserved": "an offer without an upload figure does not meet an upload threshold",
            "download_only": "an offer without an upload figure is judged on its download",
        },
    },
    "da": {
        "share_title": "Andel {unit} {phrase}",
        "ranking_title": "{Unit} {phrase}, pr. kommune",
        "breakdown_title": "Hvad de underforsynede {unit} mangler, pr. kommune",
        "hotspot_title": "Hvor {unit} {phrase} ligger",
        "demand_title": "Fremskrevet mobil dataefterspørgsel: {area}",
        "growth_title": "Vækst i mobilt dataforbrug: målt og antaget",
        "comparison_title": "Andel underforsynede {unit} efter niveau",
        "share_axis": "Andel af {unit}",
        "region": "Regionen",
        "interval": "95 %-interval",
        "share_bar": "Andel underforsynede",
        "fixed_gap": "Uden fast ≥ {fixed}",
        "mobile_gap": "Uden mobil ≥ {mobile}",
        "both": "Hverken fast eller mobil",
        "fixed_but_mobile": "Ingen fast ≥ {fixed}, men mobil ≥ {mobile}",
        "mobile_but_fixed": "Ingen mobil ≥ {mobile}, men fast ≥ {fixed}",
        "per_cell": "{Unit} {phrase}\npr. celle på 1 km²",
        "per_cell_m": "{Unit} {phrase}\npr. celle på {cell} m",
        "demand_axis": "{scale}GB pr. måned",
        "busy_axis": "Travleste time, {scale}bit/s",
        "year": "År",
        "growth_axis": "Vækst pr. år",
        "observed": "Målt (spænd som bjælke)",
        "fit": "Tilpasset de målte år",
        "fit_on": "Tilpasset kurve, forlænget",
        "fan": "Spænd mellem scenarierne",
        "no_data": "Ingen data (ingen {unit})",
        "no_data_short": "ingen data",
        "few": "Færre end {n} {unit}: usikker",
        "few_value": "{value} ({n} {unit})",
        "claim": "Påstand: {label}",
        "n_units": "{Unit}",
        "region_line": "{area}: {value}",
        "big_caption": "{area}, {count} af {total} {unit}; 95 %-interval {low}–{high}",
        "coverage_note": "{n} af {k} kommuner har {unit} i data; skraveret: ingen data.",
        "few_note": "Færre end {n} {unit}: {names} (prikket; usikker).",
        "no_underserved": "Ingen {unit} {phrase} i data.",
        "total_underserved": "{count} {unit} {phrase} i {cells} celler.",
        "scale_words": {1: "", 1e3: "tusind ", 1e6: "mio. "},
        "bit_words": {1: "M", 1e3: "G", 1e6: "T"},
        "assumption": "Antagelse: {gb} GB pr. {unit_one} og måned i {year}",
        "busy_rule": "travleste time i Mbit/s = GB pr. måned × {factor}",
        "scenarios": "Scenarier",
        "source": "Kilde",
        "sources_growth": (
            "Målt: Telestatistik (Energistyrelsen, SDFI, Digitaliseringsstyrelsen) og "
            "operatørernes rapporter; vækst i mobildata pr. abonnement"
        ),
        "fit_note": "Tilpasning: aftagende vækst tilpasset de målte vækstrater",
        "no_data_sheet": (
            "Data indeholder ingen {unit} i {name}, så der er ingen tal for kommunen. "
            "Regionens tal bygger på {n} af {k} kommuner."
        ),
        "sheet_share": "af {unit} er underforsynede",
        "sheet_counts": "{count} af {total} {unit}\n95 %-interval {low}–{high}\n{area}: {region}",
        "gaps_title": "Mangler, andel af {unit}",
        "municipality": "Kommune",
        "map_title": "{Unit} {phrase}",
        "demand_short": "Efterspørgsel, {scale}GB pr. måned",
        "definition": "Niveau",
        "denominator": "Nævner",
        "data": "Data",
        "missing_upload": {
            "unserved": "tilbud uden uploadtal opfylder ikke et uploadkrav",
            "download_only": "tilbud uden uploadtal bedømmes på download",
        },
    },
}

UNITS = {
    "households": (("households", "household"), ("husstande", "husstand")),
    "dwellings": (("dwellings", "dwelling"), ("boliger", "bolig")),
    "addresses": (("addresses", "address"), ("adresser", "adresse")),
}

#: Danish names of the named growth scenarios (custom names are shown as given).
SCENARIO_NAMES_DA = {
    "taskforce 50 %": "taskforce: 50 % om året",
    "low": "lav",
    "central": "central",
    "high": "høj",
}


def _lang(lang: str) -> str:
    return "da" if lang == "da" else "en"


def _t(key: str, lang: str) -> Any:
    return TEXT[_lang(lang)][key]


def _denominator(provenance: Provenance | None) -> str:
    return provenance.denominator if provenance is not None else "households"


def _unit(provenance: Provenance | None, lang: str, *, one: bool = False) -> str:
    return UNITS[_denominator(provenance)][lang == "da"][1 if one else 0]


def _say(key: str, lang: str, provenance: Provenance | None = None, **kwargs: object) -> str:
    unit = _unit(provenance, lang)
    return _t(key, lang).format(unit=unit, Unit=unit.capitalize(), **kwargs)


# --- numbers ---------------------------------------------------------------------------


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
    if share is None or pd.isna(share):
        return "–"
    number = format_number(100 * share, lang, decimals)
    return f"{number} %" if lang == "da" else f"{number}%"


def _shortest_decimals(value: float, most: int = 3) -> int:
    for d in range(most + 1):
        if abs(round(value, d) - value) < 1e-9:
            return d
    return most


def class_labels(edges: Sequence[float], lang: str = "en", *, open_top: bool = False) -> list[str]:
    """Legend labels of share classes, as precise as the edges need and never two alike.

    Examples
    --------
    >>> class_labels([0, 0.0025, 0.005, 0.0075], "da")
    ['0–0,25 %', '0,25–0,5 %', '0,5–0,75 %']
    >>> class_labels([0, 0.1, 0.2], "en", open_top=True)
    ['0–10%', '≥ 10%']
    """
    pct = [100 * e for e in edges]

    def fmt(v: float) -> str:
        return format_number(v, lang, _shortest_decimals(v))

    sign = " %" if lang == "da" else "%"
    labels = [f"{fmt(a)}–{fmt(b)}{sign}" for a, b in itertools.pairwise(pct)]
    if open_top and len(labels) > 0:
        labels[-1] = f"≥ {fmt(pct[-2])}{sign}"
    return labels


def nice_breaks(values: Sequence[float], classes: int = 5) -> list[float]:
    """Class breaks for shares that read well: round numbers spanning the data.

    Returns ``classes + 1`` edges from 0 up to a round number at or above the maximum.

    Examples
    --------
    >>> nice_breaks([0.03, 0.12, 0.26])
    [0.0, 0.06, 0.12, 0.18, 0.24, 0.3]
    >>> nice_breaks([0.0, 0.0069, 0.0109])
    [0.0, 0.0025, 0.005, 0.0075, 0.01, 0.0125]
    """
    finite = [v for v in values if v is not None and np.isfinite(v)]
    top = max(finite) if finite else 1.0
    steps = [m * 10.0**e for e in (-4, -3, -2, -1) for m in (1, 2, 2.5, 3, 4, 5, 6, 8)] + [0.25]
    step = next((s for s in steps if s * classes >= top - 1e-12 and s > 0), 0.25)
    return [round(i * step, 8) for i in range(classes + 1)]


# --- definitions ------------------------------------------------------------------------


def _num(value: float, lang: str) -> str:
    text = f"{value:g}"
    return text.replace(".", ",") if lang == "da" else text


def _fixed_threshold(standard: ServiceStandard, lang: str) -> str:
    if standard.fixed_down_mbps is None:
        return ""
    speed = _num(standard.fixed_down_mbps, lang)
    if standard.fixed_up_mbps is not None:
        speed += "/" + _num(standard.fixed_up_mbps, lang)
    return f"{speed} Mbit/s"


def _mobile_threshold(standard: ServiceStandard, lang: str) -> str:
    parts = []
    if standard.mobile_min_dbm is not None:
        parts.append(f"{_num(standard.mobile_min_dbm, lang).replace('-', '−')} dBm")
    if standard.mobile_down_mbps is not None:
        speed = _num(standard.mobile_down_mbps, lang)
        if standard.mobile_up_mbps is not None:
            speed += "/" + _num(standard.mobile_up_mbps, lang)
        parts.append(f"{speed} Mbit/s")
    return (" eller " if lang == "da" else " or ").join(parts)


def standard_phrase(standard: ServiceStandard, lang: str = "en") -> str:
    """Say what "under-served" means under a standard, in words for a title.

    Names the standard when its name is not already in the thresholds.

    Examples
    --------
    >>> from coverage_gap.standards import DK_100_30, GIGABIT
    >>> standard_phrase(DK_100_30, "da")
    'uden fast bredbånd ≥ 100/30 Mbit/s'
    >>> standard_phrase(GIGABIT)
    'without fixed broadband ≥ 1000 Mbit/s (gigabit)'
    """
    da = lang == "da"
    fixed, mobile = _fixed_threshold(standard, lang), _mobile_threshold(standard, lang)
    if standard.underserved == "no_fixed":
        text = f"uden fast bredbånd ≥ {fixed}" if da else f"without fixed broadband ≥ {fixed}"
    elif standard.underserved == "no_mobile":
        text = f"uden mobil ≥ {mobile}" if da else f"without mobile ≥ {mobile}"
    else:
        text = (
            f"uden både fast ≥ {fixed} og mobil ≥ {mobile}"
            if da
            else f"with neither fixed ≥ {fixed} nor mobile ≥ {mobile}"
        )
    if standard.name and standard.name not in text:
        text += f" ({standard.name})"
    return text


def definition_text(standard: ServiceStandard, lang: str = "en") -> str:
    """Define a standard naming only the thresholds its rule uses.

    Examples
    --------
    >>> from coverage_gap.standards import DK_100_30
    >>> print(definition_text(DK_100_30.with_rule("no_fixed", mobile_min_dbm=-105))[:39])
    100/30: fixed ≥ 100/30 Mbit/s; an offer
    """
    parts = []
    if standard.uses_fixed:
        parts.append(
            ("fast" if lang == "da" else "fixed") + f" ≥ {_fixed_threshold(standard, lang)}"
        )
    if standard.uses_mobile:
        parts.append(
            ("mobil" if lang == "da" else "mobile") + f" ≥ {_mobile_threshold(standard, lang)}"
        )
    join = " og " if lang == "da" else " and "
    text = f"{standard.name}: " + join.join(parts)
    if standard.uses_fixed and standard.fixed_up_mbps is not None:
        text += "; " + _t("missing_upload", lang)[standard.missing_upload]
    return text


def footer_text(provenance: Provenance, lang: str = "en") -> str:
    """Footer of a figure: definition (used thresholds only), denominator, data year, source.

    Examples
    --------
    >>> from coverage_gap.standards import GIGABIT
    >>> print(footer_text(Provenance(GIGABIT, "addresses", 2026, "BBK"), "da"))
    Niveau gigabit: fast ≥ 1000 Mbit/s · Nævner: adresser · Data: 2026 · Kilde: BBK
    """
    year = "–" if provenance.data_year is None else str(provenance.data_year)
    return " · ".join(
        [
            f"{_t('definition', lang)} {definition_text(provenance.standard, lang)}",
            f"{_t('denominator', lang)}: {_unit(provenance, lang)}",
            f"{_t('data', lang)}: {year}",
            f"{_t('source', lang)}: {provenance.source}",
        ]
    )


# --- slides -----------------------------------------------------------------------------


class _FileCanvas(FigureCanvasAgg):
    """The canvas of a figure drawn only to be saved: no drawing on ``draw_idle``.

    GeoPandas asks for an idle redraw after every layer it plots; an Agg canvas answers
    it with a full draw of the figure, which nothing displays. Saving draws the figure.
    """

    def draw_idle(self, *args: Any, **kwargs: Any) -> None:
        pass


def new_axes(*, pyplot: bool = True, size: tuple[float, float] = SLIDE, title: bool = True) -> Axes:
    """Return the Axes of a new slide (16:9); a chart drawn on it lays out the whole slide.

    ``pyplot=False`` makes a figure that pyplot does not know (for writing files: it is
    never displayed and needs no closing). ``size`` (inches) lays the chart out for
    another frame, e.g. the picture area of a presentation slide; ``title=False`` leaves
    the chart's title off the figure (it goes into the slide's title placeholder; read
    it with :func:`slide_title`).

    Examples
    --------
    >>> ax = new_axes(pyplot=False)
    >>> tuple(round(float(v), 2) for v in ax.figure.get_size_inches())
    (13.33, 7.5)
    """
    if pyplot:
        fig = plt.figure(figsize=size)
    else:
        fig = Figure(figsize=size)
        _FileCanvas(fig)
    fig.set_gid(SLIDE_TAG if title else UNTITLED_TAG)
    ax = fig.add_axes((0.1, 0.15, 0.8, 0.7))
    ax.set_gid(SLIDE_TAG)
    return ax


def slide_title(fig: Figure) -> str | None:
    """Return the title a chart gave its slide (also when it was left off the figure).

    Examples
    --------
    >>> from coverage_gap.datasets import make_demo_results
    >>> r = make_demo_results(scale=0.01)
    >>> ax = plot_gap_ranking(r.municipalities, ax=new_axes(pyplot=False, title=False))
    >>> slide_title(ax.figure)
    'Households without fixed broadband ≥ 100/30 Mbit/s, by municipality'
    """
    for text in fig.texts:
        if text.get_gid() == TITLE_TAG:
            return text.get_text().replace("\n", " ")
    return None


def is_slide(ax: Axes) -> bool:
    """Whether ``ax`` belongs to a slide made by :func:`new_axes` (laid out by the chart)."""
    return ax.get_gid() == SLIDE_TAG


def _axes(ax: Axes | None) -> tuple[Axes, bool]:
    if ax is None:
        ax = new_axes()
    return ax, is_slide(ax)


def _fig_px(fig: Figure) -> tuple[float, float]:
    return fig.bbox.width, fig.bbox.height


def _wrap(text_artist: Any, width_px: float, sep: str = " ") -> None:
    """Wrap a text artist at ``sep`` (then at spaces) so that no line is wider than ``width_px``."""

    def fits(line: str) -> bool:
        text_artist.set_text(line)
        return text_artist.get_window_extent().width <= width_px

    def wrap(line: str, separator: str) -> list[str]:
        out: list[str] = []
        current = ""
        for word in line.split(separator):
            candidate = f"{current}{separator}{word}" if current else word
            if current and not fits(candidate):
                out.append(current)
                current = word
            else:
                current = candidate
        out.append(current)
        return out

    lines = []
    for line in text_artist.get_text().split("\n"):
        for part in wrap(line, sep):
            lines.extend([part] if sep == " " or fits(part) else wrap(part, " "))
    text_artist.set_text("\n".join(lines))


class _Slide:
    """Header (title, subtitle), footer and the content box of a slide, in figure pixels."""

    def __init__(self, fig: Figure) -> None:
        self.fig = fig
        self.width, self.height = _fig_px(fig)
        self.margin = MARGIN * fig.dpi
        self.left = self.margin
        self.right = self.width - self.margin
        self.top = self.height - self.margin
        self.bottom = self.margin * 0.6

    def fx(self, px: float) -> float:
        return px / self.width

    def fy(self, px: float) -> float:
        return px / self.height

    def title(self, title: str, subtitle: str | None = None) -> None:
        t = self.fig.text(
            self.fx(self.left),
            self.fy(self.top),
            title,
            fontsize=SIZE["title"],
            fontweight="bold",
            color=INK,
            ha="left",
            va="top",
            gid=TITLE_TAG,
        )
        if self.fig.get_gid() == UNTITLED_TAG:
            t.set_visible(False)  # the title is the slide's; keep it only to be read
        else:
            _wrap(t, self.right - self.left)
            self.top = t.get_window_extent().y0 - 0.08 * self.fig.dpi
        if subtitle:
            s = self.fig.text(
                self.fx(self.left),
                self.fy(self.top),
                subtitle,
                fontsize=SIZE["subtitle"],
                color=GREY,
                ha="left",
                va="top",
            )
            _wrap(s, self.right - self.left)
            self.top = s.get_window_extent().y0 - 0.1 * self.fig.dpi
        self.top -= 0.1 * self.fig.dpi

    def footer(self, text: str | None) -> None:
        for old in [t for t in self.fig.texts if t.get_gid() == FOOTER_TAG]:
            old.remove()
        if not text:
            return
        t = self.fig.text(
            self.fx(self.left),
            self.fy(self.bottom),
            text,
            fontsize=SIZE["footer"],
            color="#444444",
            ha="left",
            va="bottom",
            gid=FOOTER_TAG,
        )
        _wrap(t, self.right - self.left, sep=" · ")
        self.bottom = t.get_window_extent().y1 + 0.15 * self.fig.dpi

    def legend_row(self, handles: list[Any], labels: list[str]) -> None:
        """Put a legend as a row (or rows) under the header."""
        if not handles:
            return
        ncols = len(handles)
        while True:
            legend = self.fig.legend(
                handles,
                labels,
                loc="upper left",
                bbox_to_anchor=(self.fx(self.left), self.fy(self.top)),
                ncols=ncols,
                frameon=False,
                fontsize=SIZE["legend"],
                borderaxespad=0,
                borderpad=0,
                handlelength=1.8,
                columnspacing=1.8,
            )
            box = legend.get_window_extent()
            if box.width <= self.right - self.left or ncols == 1:
                break
            legend.remove()
            ncols = max(1, math.ceil(ncols / 2))
        self.top = box.y0 - 0.15 * self.fig.dpi

    def content(self) -> Bbox:
        return Bbox.from_extents(self.left, self.bottom, self.right, self.top)

    def fit_axes(self, ax: Axes, box: Bbox | None = None, rounds: int = 4) -> None:
        """Place ``ax`` so that it with its tick labels and texts fills ``box`` (pixels)."""
        box = box or self.content()
        x0, y0, x1, y1 = box.x0, box.y0, box.x1, box.y1
        for _ in range(rounds):
            ax.set_position(
                (self.fx(x0), self.fy(y0), self.fx(max(x1 - x0, 10)), self.fy(max(y1 - y0, 10)))
            )
            tight = ax.get_tightbbox()
            if tight is None:
                return
            x0 += box.x0 - tight.x0
            x1 -= tight.x1 - box.x1
            y0 += box.y0 - tight.y0
            y1 -= tight.y1 - box.y1


def add_footer(ax: Axes, provenance: Provenance | None, lang: str = "en") -> None:
    """Write the definition (used thresholds, denominator, year, source) under the figure.

    Replaces an earlier footer, so calling it twice leaves one.

    Examples
    --------
    >>> from coverage_gap.standards import GIGABIT
    >>> ax = new_axes(pyplot=False)
    >>> add_footer(ax, Provenance(GIGABIT, "addresses", 2026, "BBK"), lang="da")
    >>> [t.get_text() for t in ax.figure.texts][0].startswith("Niveau gigabit: fast ≥ 1000")
    True
    """
    _Slide(ax.figure).footer(footer_text(provenance, lang) if provenance is not None else None)


def _provenance(table: pd.DataFrame, provenance: Provenance | None) -> Provenance | None:
    return provenance if provenance is not None else table.attrs.get("provenance")


def _municipal_rows(table: pd.DataFrame) -> pd.DataFrame:
    return table[table.index != S.REGION_CODE]


def _status(rows: pd.DataFrame, min_households: int) -> tuple[np.ndarray, np.ndarray]:
    """(has data, few households) per row."""
    households = rows["households"].to_numpy(np.float64)
    has = households > 0
    return has, has & (households < min_households)


def ranking_order(table: pd.DataFrame) -> list[str]:
    """Municipality codes from the bottom bar to the top: no data first, then by share.

    Ties are broken by name, so that the list reads alphabetically from the top; the
    ranking, the breakdown and the comparison share this order.

    Examples
    --------
    >>> t = pd.DataFrame({"municipality_name": ["A", "B", "C", "D"],
    ...                   "households": [10, 0, 10, 10],
    ...                   "underserved_share": [0.2, np.nan, 0.1, 0.2]},
    ...                  index=["1", "2", "3", "4"])
    >>> ranking_order(t)
    ['2', '3', '4', '1']
    """
    rows = _municipal_rows(table)
    has = rows["households"].to_numpy(np.float64) > 0
    names = rows[S.MUNICIPALITY_NAME].astype(str)
    frame = pd.DataFrame(
        {
            "has": has,
            "share": rows["underserved_share"].to_numpy(np.float64),
            "name": names.to_numpy(),
        },
        index=rows.index,
    )
    frame = frame.sort_values(["has", "share", "name"], ascending=[True, True, False])
    return frame.index.tolist()


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def _title_phrase(provenance: Provenance | None, lang: str) -> str:
    if provenance is None:
        return "under-served" if lang != "da" else "underforsynede"
    return standard_phrase(provenance.standard, lang)


# --- maps -------------------------------------------------------------------------------


def _display_affine(ax: Axes) -> list[float]:
    m = ax.transData.get_affine().get_matrix()
    return [m[0, 0], m[0, 1], m[1, 0], m[1, 1], m[0, 2], m[1, 2]]


def _to_display(ax: Axes, geometry: Any) -> Any:
    return shapely.affinity.affine_transform(geometry, _display_affine(ax))


def _largest_part(geometry: Any) -> Any:
    parts = shapely.get_parts(geometry)
    return parts[int(np.argmax(shapely.area(parts)))] if len(parts) else geometry


def _anchor(part: Any) -> tuple[float, float]:
    """Find a label anchor deep inside a polygon (centre of its largest inscribed circle)."""
    size = max(np.sqrt(part.area), 1.0)
    circle = shapely.maximum_inscribed_circle(part, size / 200)
    x, y = shapely.get_coordinates(circle)[0]
    return float(x), float(y)


def _scale_bar(ax: Axes, land: Any, obstacles: list[Bbox], lang: str) -> None:
    """Draw a scale bar (whole km) in the map corner with the least land under it."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    width = x1 - x0
    length = next(
        (v for v in (200, 100, 50, 25, 20, 10, 5, 2, 1, 0.5, 0.2, 0.1) if v * 1000 <= width / 5),
        0.1,
    )
    metres = length * 1000
    land_px = _to_display(ax, land) if land is not None else None
    to_px = ax.transData.transform
    best = None
    for corner in ("lower right", "lower left", "upper right", "upper left"):
        pad_x, pad_y = 0.04 * width, 0.05 * (y1 - y0)
        bx = x1 - pad_x - metres if "right" in corner else x0 + pad_x
        by = y0 + pad_y if "lower" in corner else y1 - pad_y - 0.06 * (y1 - y0)
        (px0, py0), (px1, _) = to_px([(bx, by), (bx + metres, by)])
        box = Bbox.from_extents(px0 - 4, py0 - 4, px1 + 4, py0 + 0.35 * ax.figure.dpi)
        geom = shapely.box(*box.extents)
        cost = float(shapely.area(shapely.intersection(geom, land_px))) if land_px else 0.0
        cost += 1e9 * sum(box.overlaps(o) for o in obstacles)
        if best is None or cost < best[0]:
            best = (cost, bx, by, box)
    assert best is not None
    _, bx, by, box = best
    height = 0.008 * (y1 - y0)
    for i, colour in enumerate((INK, "white")):
        ax.add_patch(
            Rectangle(
                (bx + i * metres / 2, by),
                metres / 2,
                height,
                facecolor=colour,
                edgecolor=INK,
                linewidth=0.8,
                zorder=6,
            )
        )
    label = format_number(length, lang, _shortest_decimals(length)) + " km"
    ax.annotate(
        label,
        (bx + metres / 2, by + height),
        xytext=(0, 3),
        textcoords="offset points",
        ha="center",
        va="bottom",
        fontsize=SIZE["map_label"],
        color=INK,
        zorder=6,
    )
    obstacles.append(box)


def _place_labels(
    ax: Axes,
    items: list[tuple[str, Any, str]],
    land: Any,
    obstacles: list[Bbox],
) -> None:
    """Place map labels without collisions.

    A label stays at the centre of its polygon (the largest part) where it fits;
    otherwise it takes the cheapest free position nearby: a little off-centre inside
    the polygon, spilling onto neighbours, or out over the sea with a leader line to
    the polygon. No two labels overlap, no leader line crosses a label or another
    leader line, and every label stays inside the Axes. ``items``: (text, polygon,
    colour).
    """
    affine = _display_affine(ax)
    dpi = ax.figure.dpi
    axes_box = ax.get_window_extent()
    land_px = shapely.affinity.affine_transform(land, affine) if land is not None else None
    if land_px is not None:
        land_px = shapely.simplify(land_px, 1.0)  # a pixel is all the precision needed
        shapely.prepare(land_px)
    placed: list[Bbox] = list(obstacles)
    leaders: list[Any] = []
    effects = [patheffects.withStroke(linewidth=3, foreground="white")]
    entries = []
    for text, polygon, colour in items:
        part = _largest_part(polygon)
        artist = ax.annotate(
            text,
            _anchor(part),
            ha="center",
            va="center",
            fontsize=SIZE["map_label"],
            color=colour,
            linespacing=1.1,
            path_effects=effects,
            zorder=7,
            annotation_clip=False,
        )
        part_px = shapely.simplify(shapely.affinity.affine_transform(part, affine), 1.0)
        shapely.prepare(part_px)
        entries.append((artist, part_px, artist.get_window_extent().padded(2), part.area))

    def inside_share(box: Bbox, part_px: Any) -> float:
        geom = shapely.box(*box.extents)
        return float(shapely.area(shapely.intersection(geom, part_px))) / max(geom.area, 1.0)

    # first the labels that fit where they are, largest polygons first
    pending = []
    for artist, part_px, box, area in sorted(entries, key=lambda e: -e[3]):
        if inside_share(box, part_px) >= 0.97 and not any(box.overlaps(p) for p in placed):
            placed.append(box)
        else:
            pending.append((artist, part_px, box, area))
    # then the rest, smallest (hardest) first: every candidate position scored at once
    steps = np.arange(-2.1, 2.11, 0.15) * dpi
    dx, dy = (a.ravel() for a in np.meshgrid(steps, steps * 0.6))
    # the anchors of the others stay free, so that each can still be reached
    anchors = np.array([ax.transData.transform(e[0].xy) for e in pending]).reshape(-1, 2)
    for artist, part_px, box, _ in sorted(pending, key=lambda e: e[3]):
        anchor = np.array(ax.transData.transform(artist.xy))
        others = anchors[np.hypot(*(anchors - anchor).T) > 0.5]
        w, h = box.width, box.height
        x0, y0 = anchor[0] + dx - w / 2, anchor[1] + dy - h / 2
        x1, y1 = x0 + w, y0 + h
        ok = (x0 >= axes_box.x0) & (x1 <= axes_box.x1) & (y0 >= axes_box.y0) & (y1 <= axes_box.y1)
        if placed:
            p = np.array([b.extents for b in placed])
            hit = (
                (x0[:, None] < p[:, 2])
                & (x1[:, None] > p[:, 0])
                & (y0[:, None] < p[:, 3])
                & (y1[:, None] > p[:, 1])
            )
            ok &= ~hit.any(axis=1)
        if len(others):
            pad = 6.0
            near = (
                (x0[:, None] < others[:, 0] + pad)
                & (x1[:, None] > others[:, 0] - pad)
                & (y0[:, None] < others[:, 1] + pad)
                & (y1[:, None] > others[:, 1] - pad)
            )
            ok &= ~near.any(axis=1)
        idx = np.flatnonzero(ok)
        if idx.size == 0:
            placed.append(box)  # nowhere free: keep it at its anchor
            continue
        boxes = shapely.box(x0[idx], y0[idx], x1[idx], y1[idx])
        area = w * h
        own = shapely.area(shapely.intersection(boxes, part_px)) / area
        over = (
            shapely.area(shapely.intersection(boxes, land_px)) / area
            if land_px is not None
            else np.zeros(idx.size)
        )
        # nearest point of each box to the anchor: where a leader line would end
        ex = np.clip(anchor[0], x0[idx], x1[idx])
        ey = np.clip(anchor[1], y0[idx], y1[idx])
        reach = np.hypot(ex - anchor[0], ey - anchor[1])
        needs = reach >= 3
        cost = (
            1.5 * np.maximum(over - own, 0.0)  # on a neighbour's land
            + 1.5 * reach / dpi
            + 0.4 * needs
            + 0.2 * (1 - own) * (1 - over)  # over the sea: cheap, not free
        )
        chosen = None
        for k in np.argsort(cost, kind="stable"):
            leader = shapely.LineString([anchor, (ex[k], ey[k])]) if needs[k] else None
            if leader is not None and (
                any(leader.intersects(shapely.box(*b.extents)) for b in placed)
                or any(leader.crosses(other) for other in leaders)
            ):
                continue
            chosen = (k, leader)
            break
        if chosen is None:
            placed.append(box)
            continue
        k, leader = chosen
        i = idx[k]
        cand = Bbox.from_extents(x0[i], y0[i], x1[i], y1[i])
        artist.xyann = tuple(
            ax.transData.inverted().transform(((x0[i] + x1[i]) / 2, (y0[i] + y1[i]) / 2))
        )
        placed.append(cand)
        if leader is not None:
            end = ax.transData.inverted().transform(leader.coords[1])
            ax.plot(
                [artist.xy[0], end[0]],
                [artist.xy[1], end[1]],
                color=GREY,
                linewidth=0.8,
                zorder=6.5,
            )
            ax.plot(*artist.xy, "o", color=GREY, markersize=2.5, zorder=6.5)
            leaders.append(leader)


def _map_frame(
    slide: _Slide,
    ax: Axes,
    bounds: Sequence[float],
    panel_px: float,
    *,
    centre: bool = False,
) -> Bbox:
    """Give the map the whole height of the content box (aspect kept).

    Returns the box of the panel beside the map (pixels).
    """
    box = slide.content()
    gap = 0.3 * slide.fig.dpi
    xmin, ymin, xmax, ymax = bounds
    pad_x, pad_y = 0.08 * (xmax - xmin), 0.03 * (ymax - ymin)
    xmin, xmax, ymin, ymax = xmin - pad_x, xmax + pad_x, ymin - pad_y, ymax + pad_y
    avail_w = box.width - panel_px - gap
    scale = min(avail_w / (xmax - xmin), box.height / (ymax - ymin))
    w, h = (xmax - xmin) * scale, (ymax - ymin) * scale
    top = box.y1 - ((box.height - h) / 2 if centre else 0.0)
    left = box.x0 + ((avail_w - w) / 2 if centre else 0.0)
    ax.set_position((slide.fx(left), slide.fy(top - h), slide.fx(w), slide.fy(h)))
    ax.set_xlim(xmin, xmax)
    ax.set_ylim(ymin, ymax)
    ax.set_aspect("equal", adjustable="datalim")
    return Bbox.from_extents(box.x0 + w + gap, box.y0, box.x1, box.y1)


def _panel_texts(slide: _Slide, panel: Bbox, blocks: list[tuple[str, dict[str, Any]]]) -> float:
    """Write text blocks down the panel; return the y (pixels) below the last one."""
    y = panel.y1
    for text, style in blocks:
        if not text:
            continue
        t = slide.fig.text(
            slide.fx(panel.x0),
            slide.fy(y),
            text,
            ha="left",
            va="top",
            color=style.pop("color", INK),
            **style,
        )
        _wrap(t, panel.width)
        y = t.get_window_extent().y0 - 0.18 * slide.fig.dpi
    return y


def _panel_legend(
    slide: _Slide, panel: Bbox, handles: list[Any], labels: list[str], title: str, y: float
) -> float:
    legend = slide.fig.legend(
        handles,
        labels,
        loc="upper left",
        bbox_to_anchor=(slide.fx(panel.x0), slide.fy(y)),
        frameon=False,
        fontsize=SIZE["legend"],
        title=title,
        title_fontsize=SIZE["legend"],
        alignment="left",
        borderaxespad=0,
        borderpad=0,
        handlelength=1.8,
        handleheight=1.1,
    )
    return legend.get_window_extent().y0 - 0.25 * slide.fig.dpi


def _legend_width(fig: Figure, handles: list[Any], labels: list[str], title: str) -> float:
    legend = fig.legend(handles, labels, title=title, fontsize=SIZE["legend"], frameon=False)
    legend.get_title().set_fontsize(SIZE["legend"])
    width = legend.get_window_extent().width
    legend.remove()
    return width


def plot_gap_map(
    table: pd.DataFrame,
    boundaries: gpd.GeoDataFrame,
    *,
    ax: Axes | None = None,
    lang: str = "en",
    provenance: Provenance | None = None,
    classes: int = 5,
    labels: bool = True,
    min_households: int = SMALL_COUNT,
) -> Axes:
    """Choropleth of the under-served share per municipality, with names, legend and scale.

    Parameters
    ----------
    table
        Output of :func:`coverage_gap.summarize_gap`.
    boundaries
        Municipality polygons with ``municipality_code`` and ``municipality_name``.
    ax
        Axes to draw on; a new slide when ``None``.
    lang
        ``"en"`` or ``"da"``.
    provenance
        Definition for title and footer; taken from ``table.attrs`` when ``None``.
    classes
        Number of colour classes (round breaks, see :func:`nice_breaks`).
    labels
        Write each municipality's name and share (on its largest part; outside with a
        leader line where it does not fit).
    min_households
        Below this many households a share is marked "few" (dotted) and does not set
        the classes.

    Examples
    --------
    >>> from coverage_gap.datasets import make_demo_results
    >>> results = make_demo_results(scale=0.01)
    >>> ax = plot_gap_map(results.municipalities, results.boundaries)
    >>> len(ax.collections[0].get_paths()) >= 17
    True
    """
    provenance = _provenance(table, provenance)
    ax, slide_mode = _axes(ax)
    rows = _municipal_rows(table)
    layer = boundaries.set_index(S.MUNICIPALITY_CODE)
    rows = rows.reindex(layer.index)
    has, few = _status(rows.fillna({"households": 0}), min_households)
    shares = rows["underserved_share"].to_numpy(np.float64)
    steady = shares[has & ~few]
    edges = nice_breaks((steady if steady.size else shares[has]).tolist(), classes)
    open_top = bool(has.any() and np.nanmax(np.where(has, shares, -1)) > edges[-1] + 1e-12)
    colours = (
        SEQUENTIAL
        if classes == 5
        else [mpl.colormaps["YlOrRd"](i / max(classes - 1, 1)) for i in range(classes)]
    )
    cmap = ListedColormap(colours)
    norm = BoundaryNorm(edges, cmap.N, clip=True)
    geoms = layer.geometry
    face = [cmap(norm(s)) if h else NO_DATA for s, h in zip(shares, has, strict=True)]
    geoms[has].plot(ax=ax, color=[f for f, h in zip(face, has, strict=True) if h], linewidth=0)
    if (~has).any():
        geoms[~has].plot(
            ax=ax, facecolor=NO_DATA, edgecolor=NO_DATA_HATCH, hatch="///", linewidth=0
        )
    if few.any():
        geoms[few].plot(ax=ax, facecolor="none", edgecolor="#333333", hatch="..", linewidth=0)
    geoms.boundary.plot(ax=ax, color="white", linewidth=1.0)
    ax.set_axis_off()

    unit = _unit(provenance, lang)
    handles: list[Any] = [
        Patch(facecolor=colours[i], edgecolor="#999999", linewidth=0.5)
        for i in range(len(edges) - 1)
    ]
    names = class_labels(edges, lang, open_top=open_top)
    if (~has).any():
        handles.append(Patch(facecolor=NO_DATA, edgecolor=NO_DATA_HATCH, hatch="///"))
        names.append(_say("no_data", lang, provenance))
    if few.any():
        handles.append(Patch(facecolor="white", edgecolor="#333333", hatch=".."))
        names.append(_say("few", lang, provenance, n=min_households))
    legend_title = _say("share_axis", lang, provenance)
    phrase = _title_phrase(provenance, lang)
    title = _say("share_title", lang, provenance, phrase=phrase)
    region = table.loc[S.REGION_CODE] if S.REGION_CODE in table.index else None

    obstacles: list[Bbox] = []
    land = shapely.union_all(geoms.array)
    if slide_mode:
        slide = _Slide(ax.figure)
        slide.title(title, _coverage_subtitle(table, provenance, lang, min_households))
        slide.footer(footer_text(provenance, lang) if provenance else None)
        panel_w = max(_legend_width(ax.figure, handles, names, legend_title), 0.27 * slide.width)
        panel = _map_frame(slide, ax, geoms.total_bounds, panel_w)
        y = _panel_legend(slide, panel, handles, names, legend_title, panel.y1)
        blocks = []
        if region is not None and region["households"] > 0:
            blocks.append(
                (
                    format_percent(region["underserved_share"], lang),
                    {"fontsize": SIZE["big"], "fontweight": "bold"},
                )
            )
            blocks.append((_big_caption(region, provenance, lang), {"fontsize": SIZE["legend"]}))
        blocks += [
            (n, {"fontsize": SIZE["legend"], "color": GREY})
            for n in _notes(rows, has, few, provenance, lang, min_households)
        ]
        _panel_texts(slide, Bbox.from_extents(panel.x0, panel.y0, panel.x1, y), blocks)
    else:
        ax.set_aspect("equal")
        ax.legend(
            handles=handles,
            labels=names,
            loc="upper left",
            bbox_to_anchor=(1.0, 1.0),
            frameon=False,
            title=legend_title,
            fontsize=SIZE["legend"],
            title_fontsize=SIZE["legend"],
        )
        ax.set_title(title, fontsize=SIZE["subtitle"], loc="left")
        add_footer(ax, provenance, lang)
    _scale_bar(ax, land, obstacles, lang)
    if labels:
        items = []
        for code, geometry in geoms.items():
            i = layer.index.get_loc(code)
            name = str(layer.loc[code, S.MUNICIPALITY_NAME])
            if has[i]:
                items.append((f"{name}\n{format_percent(shares[i], lang)}", geometry, INK))
            else:
                items.append((name, geometry, GREY))
        _place_labels(ax, items, land, obstacles)
    del unit
    return ax


def _coverage_subtitle(
    table: pd.DataFrame, provenance: Provenance | None, lang: str, min_households: int
) -> str:
    rows = _municipal_rows(table)
    has, _ = _status(rows, min_households)
    area = (
        str(table.loc[S.REGION_CODE, S.MUNICIPALITY_NAME]) if S.REGION_CODE in table.index else ""
    )
    year = provenance.data_year if provenance is not None else None
    parts = [p for p in (area, str(year) if year is not None else "") if p]
    if not has.all():
        n, k = int(has.sum()), len(rows)
        parts.append(
            f"data i {n} af {k} kommuner" if lang == "da" else f"data for {n} of {k} municipalities"
        )
    return " · ".join(parts)


def _big_caption(region: pd.Series, provenance: Provenance | None, lang: str) -> str:
    return _say(
        "big_caption",
        lang,
        provenance,
        area=region[S.MUNICIPALITY_NAME],
        count=format_number(float(region["underserved_households"]), lang),
        total=format_number(float(region["households"]), lang),
        low=format_percent(region["share_ci_low"], lang),
        high=format_percent(region["share_ci_high"], lang),
    )


def _notes(
    rows: pd.DataFrame,
    has: np.ndarray,
    few: np.ndarray,
    provenance: Provenance | None,
    lang: str,
    min_households: int,
) -> list[str]:
    notes = []
    if not has.all():
        notes.append(_say("coverage_note", lang, provenance, n=int(has.sum()), k=len(rows)))
    if few.any():
        names = ", ".join(
            f"{n} ({format_number(float(h), lang)})"
            for n, h in zip(rows[S.MUNICIPALITY_NAME][few], rows["households"][few], strict=True)
        )
        notes.append(_say("few_note", lang, provenance, n=min_households, names=names))
    return notes


def _count_classes(top: float) -> list[float]:
    """Class edges of counts per cell: 1, 2, 5, 10, 20, 50, … (at most six classes)."""
    steps = [1.0]
    while steps[-1] <= top:
        steps.append(steps[-1] * (2.5 if str(int(steps[-1]))[0] == "2" else 2.0))
    edges = [1.0, *[s for s in steps[1:] if s <= top], min(s for s in steps if s > top)]
    while len(edges) > 7:
        edges = edges[::2] if edges[-1] == edges[::2][-1] else [*edges[:-1:2], edges[-1]]
    return edges


def _count_labels(edges: Sequence[float], lang: str) -> list[str]:
    labels = []
    for a, b in itertools.pairwise(edges):
        hi = b - 1
        labels.append(
            format_number(a, lang)
            if hi <= a
            else f"{format_number(a, lang)}–{format_number(hi, lang)}"
        )
    return labels


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
        classified[S.HOUSEHOLDS].to_numpy(np.float64) * classified[S.UNDERSERVED].to_numpy(bool)
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


def _draw_hotspots(
    ax: Axes,
    classified: pd.DataFrame,
    boundaries: gpd.GeoDataFrame,
    cell_m: float,
    no_data_codes: Sequence[str],
    lang: str,
) -> tuple[list[Any], list[str], float, int, Any]:
    counts, extent = hotspot_grid(classified, cell_m)
    top = float(counts.max())
    layer = boundaries.set_index(S.MUNICIPALITY_CODE)
    missing = layer.index.isin(list(no_data_codes))
    geoms = layer.geometry
    if (~missing).any():
        geoms[~missing].plot(ax=ax, color="#f3f3f3", linewidth=0, zorder=0)
    if missing.any():
        geoms[missing].plot(
            ax=ax, facecolor=NO_DATA, edgecolor=NO_DATA_HATCH, hatch="///", linewidth=0, zorder=0
        )
    handles: list[Any] = []
    names: list[str] = []
    if top > 0:
        edges = _count_classes(top)
        k = len(edges) - 1
        colours = [mpl.colormaps["YlOrRd"](0.2 + 0.8 * i / max(k - 1, 1)) for i in range(k)]
        cmap = ListedColormap(colours)
        norm = BoundaryNorm(edges, k, clip=True)
        ax.imshow(
            np.ma.masked_less(counts, 0.5),
            extent=extent,
            cmap=cmap,
            norm=norm,
            interpolation="nearest",
            zorder=1,
        )
        handles = [Patch(facecolor=c, edgecolor="#999999", linewidth=0.5) for c in colours]
        names = _count_labels(edges, lang)
    geoms.boundary.plot(ax=ax, color="#555555", linewidth=0.7, zorder=2)
    ax.set_axis_off()
    cells = int((counts > 0).sum())
    return handles, names, float(counts.sum()), cells, shapely.union_all(geoms.array)


def plot_hotspots(
    classified: pd.DataFrame,
    boundaries: gpd.GeoDataFrame,
    *,
    ax: Axes | None = None,
    lang: str = "en",
    provenance: Provenance | None = None,
    cell_m: float = 1000.0,
    labels: bool = True,
    no_data: Sequence[str] | None = None,
) -> Axes:
    """Map of where the under-served households are: counts per grid cell over the outlines.

    Parameters
    ----------
    classified
        Output of :func:`coverage_gap.classify_households`.
    boundaries
        Municipality polygons.
    cell_m
        Cell size (metres; 1 km cells give counts per km²).
    labels
        Write the municipality names.
    no_data
        Codes of municipalities without households in the data (hatched); by default
        those where no household of ``classified`` lies.

    Examples
    --------
    >>> from coverage_gap.datasets import make_demo_results
    >>> r = make_demo_results(scale=0.01)
    >>> ax = plot_hotspots(r.households, r.boundaries, provenance=r.provenance)
    >>> bool(ax.images[0].get_array().max() > 0)
    True
    """
    ax, slide_mode = _axes(ax)
    if no_data is None:
        present = set(classified[S.MUNICIPALITY_CODE].dropna().astype(str))
        no_data = [c for c in boundaries[S.MUNICIPALITY_CODE] if c not in present]
    handles, names, total, cells, land = _draw_hotspots(
        ax, classified, boundaries, cell_m, no_data, lang
    )
    if len(no_data):
        handles.append(Patch(facecolor=NO_DATA, edgecolor=NO_DATA_HATCH, hatch="///"))
        names.append(_say("no_data", lang, provenance))
    phrase = _title_phrase(provenance, lang)
    key = "per_cell" if cell_m == 1000 else "per_cell_m"
    legend_title = _say(key, lang, provenance, phrase="", cell=format_number(cell_m, lang))
    legend_title = legend_title.replace(" \n", "\n")
    title = _say("hotspot_title", lang, provenance, phrase=phrase)
    obstacles: list[Bbox] = []
    if slide_mode:
        slide = _Slide(ax.figure)
        slide.title(title, _coverage_subtitle_from(classified, boundaries, provenance, lang))
        slide.footer(footer_text(provenance, lang) if provenance else None)
        panel_w = max(
            _legend_width(ax.figure, handles, names, legend_title) if handles else 0,
            0.27 * slide.width,
        )
        panel = _map_frame(slide, ax, boundaries.total_bounds, panel_w)
        y = panel.y1
        if handles:
            y = _panel_legend(slide, panel, handles, names, legend_title, y)
        note = (
            _say(
                "total_underserved",
                lang,
                provenance,
                count=format_number(total, lang),
                phrase=phrase,
                cells=format_number(cells, lang),
            )
            if total > 0
            else _say("no_underserved", lang, provenance, phrase=phrase)
        )
        _panel_texts(
            slide,
            Bbox.from_extents(panel.x0, panel.y0, panel.x1, y),
            [(note, {"fontsize": SIZE["legend"]})],
        )
    else:
        ax.set_aspect("equal")
        if handles:
            ax.legend(
                handles=handles,
                labels=names,
                loc="upper left",
                bbox_to_anchor=(1.0, 1.0),
                frameon=False,
                title=legend_title,
                fontsize=SIZE["legend"] - 2,
                title_fontsize=SIZE["legend"] - 2,
            )
        else:
            ax.text(
                0.5,
                0.5,
                _say("no_underserved", lang, provenance, phrase=phrase),
                transform=ax.transAxes,
                ha="center",
                va="center",
                fontsize=SIZE["legend"],
                color=GREY,
                wrap=True,
            )
        ax.set_title(title, fontsize=SIZE["subtitle"], loc="left")
        add_footer(ax, provenance, lang)
    _scale_bar(ax, land, obstacles, lang)
    if labels and slide_mode:
        items = [
            (str(name), geometry, GREY)
            for name, geometry in zip(
                boundaries[S.MUNICIPALITY_NAME], boundaries.geometry, strict=True
            )
        ]
        _place_labels(ax, items, land, obstacles)
    return ax


def _coverage_subtitle_from(
    classified: pd.DataFrame,
    boundaries: gpd.GeoDataFrame,
    provenance: Provenance | None,
    lang: str,
) -> str:
    present = set(classified[S.MUNICIPALITY_CODE].dropna().astype(str))
    n, k = sum(c in present for c in boundaries[S.MUNICIPALITY_CODE]), len(boundaries)
    year = provenance.data_year if provenance is not None else None
    parts = [provenance.area_name] if provenance is not None else []
    parts += [str(year)] if year is not None else []
    if n < k:
        parts.append(
            f"data i {n} af {k} kommuner" if lang == "da" else f"data for {n} of {k} municipalities"
        )
    return " · ".join(parts)


# --- bar charts -------------------------------------------------------------------------


def _share_axis(ax: Axes, lang: str, top: float) -> None:
    top = top if top > 0 else 0.01
    ax.set_xlim(0, top)
    ax.xaxis.set_major_locator(ticker.MaxNLocator(6, steps=[1, 2, 2.5, 5, 10]))
    step = ax.xaxis.get_major_locator().tick_values(0, top)
    step = float(np.diff(step)[0]) if len(step) > 1 else top
    decimals = max(0, -math.floor(math.log10(step * 100) + 1e-9)) if step > 0 else 0
    decimals = decimals if abs(round(step * 100, decimals) - step * 100) < 1e-9 else decimals + 1
    ax.xaxis.set_major_formatter(
        ticker.FuncFormatter(lambda v, _: format_percent(v, lang, decimals))
    )
    ax.tick_params(labelsize=SIZE["tick"], colors=INK)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _value_column(
    ax: Axes, y: Sequence[float], labels: Sequence[str], colours: Sequence[str]
) -> None:
    """Values as a column right of the plot area: never crossed by a bar, whisker or line."""
    for yi, text, colour in zip(y, labels, colours, strict=True):
        ax.text(
            1.02,
            yi,
            text,
            transform=ax.get_yaxis_transform(),
            ha="left",
            va="center",
            fontsize=SIZE["value"],
            color=colour,
            clip_on=False,
        )


def _claim_label(share: float, lang: str) -> str:
    one_in = round(1 / share) if share > 0 else 0
    if one_in and abs(1 / one_in - share) < 1e-9:
        words = {2: "anden", 3: "tredje", 4: "fjerde", 5: "femte", 10: "tiende"}
        if lang == "da" and one_in in words:
            return f"hver {words[one_in]} ({format_percent(share, lang, 0)})"
        return f"1 in {one_in} ({format_percent(share, lang, 0)})"
    return format_percent(share, lang)


def plot_gap_ranking(
    table: pd.DataFrame,
    *,
    ax: Axes | None = None,
    lang: str = "en",
    provenance: Provenance | None = None,
    reference: float | None = None,
    reference_label: str | None = None,
    min_households: int = SMALL_COUNT,
) -> Axes:
    """Ranked horizontal bars of the share, with the 95 % interval and the region's share.

    Parameters
    ----------
    reference
        A claimed share to draw as a dashed line labelled as the claim (0.2 = "1 in
        5"); none by default.
    reference_label
        Its label; ``"1 in 5"`` / ``"hver femte"`` style by default.
    min_households
        Below this many households a bar is hatched ("few"), and its interval does not
        widen the axis.

    Examples
    --------
    >>> from coverage_gap.datasets import make_demo_results
    >>> ax = plot_gap_ranking(make_demo_results(scale=0.01).municipalities, lang="da")
    >>> len(ax.patches), ax.get_yticklabels()[-1].get_text() != ""
    (17, True)
    """
    provenance = _provenance(table, provenance)
    ax, slide_mode = _axes(ax)
    order = ranking_order(table)
    rows = table.loc[order]
    has, few = _status(rows, min_households)
    y = np.arange(len(rows), dtype=np.float64)
    share = rows["underserved_share"].to_numpy(np.float64)
    low = rows["share_ci_low"].to_numpy(np.float64)
    high = rows["share_ci_high"].to_numpy(np.float64)
    steady = has & ~few
    colour = CATEGORICAL[0]
    ax.barh(y[steady], share[steady], color=colour, height=0.7, zorder=2)
    if few.any():
        ax.barh(
            y[few],
            share[few],
            facecolor="white",
            edgecolor=colour,
            hatch="///",
            linewidth=1.0,
            height=0.7,
            zorder=2,
        )
    region = (
        float(table.loc[S.REGION_CODE, "underserved_share"])
        if S.REGION_CODE in table.index
        else np.nan
    )
    candidates = [
        share[has].max() if has.any() else 0.0,
        high[steady].max() if steady.any() else 0.0,
    ]
    candidates += [v for v in (region, reference) if v is not None and np.isfinite(v)]
    top = max(candidates) * 1.06
    _share_axis(ax, lang, top)
    ax.errorbar(
        share[steady],
        y[steady],
        xerr=[share[steady] - low[steady], high[steady] - share[steady]],
        fmt="none",
        ecolor="#333333",
        capsize=3,
        linewidth=1.2,
        zorder=3,
    )
    if few.any():
        ax.errorbar(
            share[few],
            y[few],
            xerr=[share[few] - low[few], np.minimum(high[few], top) - share[few]],
            fmt="none",
            ecolor="#888888",
            capsize=0,
            linewidth=1.0,
            linestyle=":",
            zorder=3,
        )
    handles: list[Any] = [
        Patch(facecolor=colour),
        Line2D([], [], color="#333333", marker="|", markersize=10, linewidth=1.2),
    ]
    labels = [_t("share_bar", lang), _t("interval", lang)]
    if np.isfinite(region):
        ax.axvline(region, color=CATEGORICAL[1], linewidth=2.5, zorder=4)
        handles.append(Line2D([], [], color=CATEGORICAL[1], linewidth=2.5))
        area = table.loc[S.REGION_CODE, S.MUNICIPALITY_NAME]
        labels.append(_t("region_line", lang).format(area=area, value=format_percent(region, lang)))
    if reference is not None:
        label = reference_label or _claim_label(reference, lang)
        ax.axvline(reference, color=CATEGORICAL[5], linestyle="--", linewidth=2, zorder=4)
        handles.append(Line2D([], [], color=CATEGORICAL[5], linestyle="--", linewidth=2))
        labels.append(_t("claim", lang).format(label=label))
    if few.any():
        handles.append(Patch(facecolor="white", edgecolor=colour, hatch="///"))
        labels.append(_say("few", lang, provenance, n=min_households))
    ax.set_yticks(y, rows[S.MUNICIPALITY_NAME].astype(str).tolist())
    for tick, ok in zip(ax.get_yticklabels(), has, strict=True):
        tick.set_color(INK if ok else GREY)
    ax.set_ylim(-0.6, len(rows) - 0.4)
    values = []
    for s, h, f, n in zip(share, has, few, rows["households"], strict=True):
        if not h:
            values.append(_t("no_data_short", lang))
        elif f:
            values.append(
                _t("few_value", lang).format(
                    value=format_percent(s, lang),
                    n=format_number(float(n), lang),
                    unit=_unit(provenance, lang),
                )
            )
        else:
            values.append(format_percent(s, lang))
    _value_column(ax, y, values, [INK if h else GREY for h in has])
    ax.set_xlabel(_say("share_axis", lang, provenance), fontsize=SIZE["label"])
    title = _say("ranking_title", lang, provenance, phrase=_title_phrase(provenance, lang))
    if slide_mode:
        slide = _Slide(ax.figure)
        slide.title(title, _coverage_subtitle(table, provenance, lang, min_households))
        slide.footer(footer_text(provenance, lang) if provenance else None)
        slide.legend_row(handles, labels)
        slide.fit_axes(ax)
    else:
        ax.set_title(title, fontsize=SIZE["subtitle"], loc="left")
        ax.legend(handles, labels, loc="lower right", frameon=False, fontsize=SIZE["legend"] - 2)
        add_footer(ax, provenance, lang)
    return ax


def _breakdown_parts(
    table: pd.DataFrame, standard: ServiceStandard, lang: str
) -> list[tuple[str, np.ndarray, str]]:
    """Split the under-served households into parts: (label, counts, colour)."""
    fixed = table["fixed_unserved_households"]
    mobile = table["mobile_unserved_households"]
    both = table["unserved_both_households"]
    f_txt, m_txt = _fixed_threshold(standard, lang), _mobile_threshold(standard, lang)
    if standard.underserved == "no_fixed":
        if fixed.isna().any():
            raise ValueError("the breakdown needs fixed service assessed")
        if both.isna().any():
            return [
                (
                    _t("fixed_gap", lang).format(fixed=f_txt),
                    fixed.to_numpy(np.float64),
                    CATEGORICAL[0],
                )
            ]
        return [
            (
                _t("fixed_but_mobile", lang).format(fixed=f_txt, mobile=m_txt),
                (fixed - both).to_numpy(np.float64),
                CATEGORICAL[0],
            ),
            (_t("both", lang), both.to_numpy(np.float64), CATEGORICAL[5]),
        ]
    if standard.underserved == "no_mobile":
        if mobile.isna().any():
            raise ValueError("the breakdown needs mobile service assessed")
        if both.isna().any():
            return [
                (
                    _t("mobile_gap", lang).format(mobile=m_txt),
                    mobile.to_numpy(np.float64),
                    CATEGORICAL[4],
                )
            ]
        return [
            (
                _t("mobile_but_fixed", lang).format(fixed=f_txt, mobile=m_txt),
                (mobile - both).to_numpy(np.float64),
                CATEGORICAL[4],
            ),
            (_t("both", lang), both.to_numpy(np.float64), CATEGORICAL[5]),
        ]
    if both.isna().any():
        raise ValueError("the breakdown needs fixed and mobile service assessed")
    return [(_t("both", lang), both.to_numpy(np.float64), CATEGORICAL[5])]


def plot_gap_breakdown(
    table: pd.DataFrame,
    *,
    ax: Axes | None = None,
    lang: str = "en",
    provenance: Provenance | None = None,
    min_households: int = SMALL_COUNT,
) -> Axes:
    """Draw the under-served share as its total, split into the parts that make it up.

    Under "no fixed": no fixed but mobile, and neither; under "no mobile": no mobile but
    fixed, and neither; under "neither": one part. Rows in the ranking's order (see
    :func:`ranking_order`), the region's bar at the bottom; the total beside each bar.

    Examples
    --------
    >>> from coverage_gap.datasets import make_demo_results
    >>> ax = plot_gap_breakdown(make_demo_results(scale=0.01).municipalities)
    >>> len(ax.patches), ax.texts[-1].get_text().endswith("%")
    (36, True)
    """
    provenance = _provenance(table, provenance)
    if provenance is None:
        raise ValueError("the breakdown needs the provenance (its standard) of the table")
    ax, slide_mode = _axes(ax)
    order = ranking_order(table)
    codes = order + ([S.REGION_CODE] if S.REGION_CODE in table.index else [])
    rows = table.loc[codes]
    parts = _breakdown_parts(rows, provenance.standard, lang)
    households = rows["households"].to_numpy(np.float64)
    has = households > 0
    few = has & (households < min_households)
    few[-1] = False if codes[-1] == S.REGION_CODE else few[-1]
    y = np.arange(len(rows), dtype=np.float64) + 1.0
    if codes[-1] == S.REGION_CODE:
        y = np.r_[y[:-1], -0.2]  # the region below, apart
    left = np.zeros(len(rows))
    handles, labels = [], []
    with np.errstate(invalid="ignore", divide="ignore"):
        for label, counts, colour in parts:
            width = np.where(has, counts / households, 0.0)
            ax.barh(y[~few], width[~few], left=left[~few], color=colour, height=0.7, zorder=2)
            if few.any():
                ax.barh(
                    y[few],
                    width[few],
                    left=left[few],
                    facecolor="white",
                    edgecolor=colour,
                    hatch="///",
                    height=0.7,
                    zorder=2,
                )
            left += width
            handles.append(Patch(facecolor=colour))
            labels.append(label)
    if few.any():
        handles.append(Patch(facecolor="white", edgecolor=GREY, hatch="///"))
        labels.append(_say("few", lang, provenance, n=min_households))
    names = rows[S.MUNICIPALITY_NAME].astype(str).tolist()
    ax.set_yticks(y, names)
    for tick, ok, code in zip(ax.get_yticklabels(), has, codes, strict=True):
        tick.set_color(INK if ok else GREY)
        if code == S.REGION_CODE:
            tick.set_fontweight("bold")
    ax.set_ylim(-0.8, len(rows) - 0.4)
    _share_axis(ax, lang, float(np.nanmax(np.r_[left, 0.0])) * 1.06)
    values = [
        format_percent(t, lang) if h else _t("no_data_short", lang)
        for t, h in zip(left, has, strict=True)
    ]
    _value_column(ax, y, values, [INK if h else GREY for h in has])
    ax.set_xlabel(_say("share_axis", lang, provenance), fontsize=SIZE["label"])
    title = _say("breakdown_title", lang, provenance)
    if slide_mode:
        slide = _Slide(ax.figure)
        subtitle = _upper_first(standard_phrase(provenance.standard, lang))
        more = _coverage_subtitle(table, provenance, lang, min_households)
        slide.title(title, f"{subtitle} · {more}" if more else subtitle)
        slide.footer(footer_text(provenance, lang))
        slide.legend_row(handles, labels)
        slide.fit_axes(ax)
    else:
        ax.set_title(title, fontsize=SIZE["subtitle"], loc="left")
        ax.legend(handles, labels, loc="lower right", frameon=False, fontsize=SIZE["legend"] - 2)
        add_footer(ax, provenance, lang)
    return ax


def plot_gap_by_standard(
    tables: Mapping[str, pd.DataFrame],
    *,
    ax: Axes | None = None,
    lang: str = "en",
    min_households: int = SMALL_COUNT,
) -> Axes:
    """Compare municipalities across standards: one dot per standard on a line per row.

    Parameters
    ----------
    tables
        ``{name: table}``, each as returned by :func:`coverage_gap.summarize_gap` with its
        provenance (its own standard) in ``attrs``. The shares must share a denominator.
        Rows follow the ranking under the first standard; the region at the bottom.

    Examples
    --------
    >>> from coverage_gap import DK_100_30, GIGABIT, Provenance, classify, summarize_gap
    >>> from coverage_gap.datasets import make_demo_results
    >>> r = make_demo_results(scale=0.01)
    >>> tables = {}
    >>> for s in (DK_100_30, GIGABIT):
    ...     h = r.households.assign(underserved=~(r.households["fixed_down_mbps"]
    ...                                          >= s.fixed_down_mbps))
    ...     tables[s.name] = summarize_gap(h, r.boundaries, Provenance(s))
    >>> ax = plot_gap_by_standard(tables)
    >>> len(ax.collections)
    2
    """
    if not tables:
        raise ValueError("give at least one table")
    provenances = [t.attrs.get("provenance") for t in tables.values()]
    denominators = {p.denominator for p in provenances if p is not None}
    if len(denominators) > 1:
        raise ValueError(f"the tables count different denominators: {sorted(denominators)}")
    first_name, first = next(iter(tables.items()))
    prov = provenances[0]
    ax, slide_mode = _axes(ax)
    order = ranking_order(first)
    codes = order + ([S.REGION_CODE] if S.REGION_CODE in first.index else [])
    y = np.arange(len(codes), dtype=np.float64) + 1.0
    if codes[-1] == S.REGION_CODE:
        y = np.r_[y[:-1], -0.2]
    shares = np.column_stack(
        [t.reindex(codes)["underserved_share"].to_numpy(np.float64) for t in tables.values()]
    )
    households = first.reindex(codes)["households"].to_numpy(np.float64)
    has = households > 0
    few = has & (households < min_households)
    lo = np.nanmin(np.where(has[:, None], shares, np.nan), axis=1, initial=np.inf)
    hi = np.nanmax(np.where(has[:, None], shares, np.nan), axis=1, initial=-np.inf)
    for yi, a, b, ok in zip(y, lo, hi, has, strict=True):
        if ok and np.isfinite(a) and np.isfinite(b):
            ax.plot([a, b], [yi, yi], color="#bbbbbb", linewidth=3, zorder=1)
    markers = ["o", "s", "D", "^", "v", "P"]
    handles, labels = [], []
    for j, (name, table) in enumerate(tables.items()):
        colour = CATEGORICAL[j % len(CATEGORICAL)]
        ok = has & np.isfinite(shares[:, j])
        ax.scatter(
            shares[ok & ~few, j],
            y[ok & ~few],
            s=70,
            marker=markers[j % len(markers)],
            color=colour,
            zorder=3,
        )
        if (ok & few).any():
            ax.scatter(
                shares[ok & few, j],
                y[ok & few],
                s=70,
                marker=markers[j % len(markers)],
                facecolor="white",
                edgecolor=colour,
                zorder=3,
            )
        p = table.attrs.get("provenance")
        handles.append(
            Line2D(
                [], [], marker=markers[j % len(markers)], color=colour, linestyle="", markersize=9
            )
        )
        labels.append(definition_text(p.standard, lang) if p is not None else str(name))
    ax.set_yticks(y, first.reindex(codes)[S.MUNICIPALITY_NAME].astype(str).tolist())
    for tick, ok, code in zip(ax.get_yticklabels(), has, codes, strict=True):
        tick.set_color(INK if ok else GREY)
        if code == S.REGION_CODE:
            tick.set_fontweight("bold")
    ax.set_ylim(-0.8, len(codes) - 0.4)
    top = np.nanmax(np.where((has & ~few)[:, None], shares, np.nan)) if (has & ~few).any() else 0.0
    _share_axis(ax, lang, float(top) * 1.08 if np.isfinite(top) else 0.01)
    ax.grid(axis="y", color="#eeeeee", linewidth=0.8, zorder=0)
    ax.set_xlabel(_say("share_axis", lang, prov), fontsize=SIZE["label"])
    values = ["" if h else _t("no_data_short", lang) for h in has]
    if not has.all():
        _value_column(ax, y[~has], [v for v in values if v], [GREY] * int((~has).sum()))
    if few.any():
        handles.append(
            Line2D([], [], marker="o", color=GREY, markerfacecolor="white", linestyle="")
        )
        labels.append(_say("few", lang, prov, n=min_households))
    title = _say("comparison_title", lang, prov)
    footer = None
    if prov is not None:
        year = "–" if prov.data_year is None else str(prov.data_year)
        footer = " · ".join(
            [
                f"{_t('denominator', lang)}: {_unit(prov, lang)}",
                f"{_t('data', lang)}: {year}",
                f"{_t('source', lang)}: {prov.source}",
            ]
        )
    if slide_mode:
        slide = _Slide(ax.figure)
        slide.title(title, _coverage_subtitle(first, prov, lang, min_households) or None)
        slide.footer(footer)
        slide.legend_row(handles, labels)
        slide.fit_axes(ax)
    else:
        ax.set_title(title, fontsize=SIZE["subtitle"], loc="left")
        ax.legend(handles, labels, loc="lower right", frameon=False, fontsize=SIZE["legend"] - 3)
    del first_name
    return ax


# --- demand -----------------------------------------------------------------------------


def scenario_label(name: str, lang: str = "en") -> str:
    """Name a scenario for a legend, in Danish when ``lang="da"``.

    Examples
    --------
    >>> scenario_label("fitted decaying (Danish series)", "da")
    'tilpasset aftagende vækst (dansk serie)'
    >>> scenario_label("taskforce 50 %", "da")
    'taskforce: 50 % om året'
    """
    if lang != "da":
        return name
    if name in SCENARIO_NAMES_DA:
        return SCENARIO_NAMES_DA[name]
    if name.startswith("fitted"):
        kind = "aftagende vækst" if "decaying" in name else "konstant vækst"
        return f"tilpasset {kind}" + (" (dansk serie)" if "Danish series" in name else "")
    return name


def _scale(top: float) -> float:
    return 1e6 if top >= 2e6 else 1e3 if top >= 2e3 else 1.0


def _tick_decimals(locs: Sequence[float]) -> int:
    locs = [v for v in locs if np.isfinite(v)]
    if len(locs) < 2:
        return 0
    step = min(abs(b - a) for a, b in itertools.pairwise(locs) if b != a)
    return max(0, -math.floor(math.log10(step) + 1e-9)) if step < 1 else 0


def _number_axis(axis: Any, lang: str, scale: float) -> None:
    locator = ticker.MaxNLocator(6, steps=[1, 2, 2.5, 5, 10])
    axis.set_major_locator(locator)
    axis.set_minor_formatter(ticker.NullFormatter())

    def fmt(v: float, _: int) -> str:
        locs = [loc / scale for loc in axis.get_majorticklocs()]
        return format_number(v / scale, lang, _tick_decimals(locs))

    axis.set_major_formatter(ticker.FuncFormatter(fmt))


def _spread_labels(ax: Axes, artists: list[Any]) -> None:
    """Move end-of-line labels apart vertically so that none overlaps another."""
    if len(artists) < 2:
        return
    boxes = [(a, a.get_window_extent()) for a in artists]
    boxes.sort(key=lambda ab: ab[1].y0)
    last_top = -np.inf
    for artist, box in boxes:
        shift = max(0.0, last_top + 2 - box.y0)
        if shift:
            x, y = artist.get_position()
            artist.set_position((x, y + shift * 72 / ax.figure.dpi))
        last_top = box.y1 + shift


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
    """Demand scenarios over the years for one municipality (or the region).

    GB per month on the left axis, busy-hour throughput on the right (when the
    projection has ``busy_hour_mbps``), the shaded band labelled as the range between
    the scenarios (not an uncertainty interval), the end value and the multiple of the
    base year beside each line. The footer states the assumption (GB per unit and
    month in the base year), the scenarios' definitions and the source.

    Parameters
    ----------
    projection
        Output of :func:`coverage_gap.demand.project_demand` (the pipeline's adds the
        base-year assumption, the denominator and the source).
    municipality
        Code to show (``"region"`` for the region row).
    provenance
        Used for the unit (households, dwellings, addresses) and the source when the
        projection does not carry them.
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
    ax, slide_mode = _axes(ax)
    rows = projection[projection[S.MUNICIPALITY_CODE] == municipality]
    if rows.empty:
        raise ValueError(f"the projection has no rows for {municipality!r}")
    wide = rows.pivot(index="year", columns="scenario", values="demand_gb_month")
    scenarios = list(dict.fromkeys(rows["scenario"]))
    wide = wide[scenarios]
    years = wide.index.to_numpy(np.float64)
    top = float(np.nanmax(wide.to_numpy()))
    scale = _scale(top)
    handles, labels = [], []
    if wide.shape[1] > 1:
        ax.fill_between(
            years,
            wide.min(axis=1),
            wide.max(axis=1),
            facecolor="#ececec",
            edgecolor="none",
            zorder=0,
        )
        handles.append(Patch(facecolor="#ececec"))
        labels.append(_t("fan", lang))
    ends = []
    base = wide.iloc[0]
    for i, scenario in enumerate(wide.columns):
        colour = CATEGORICAL[i % len(CATEGORICAL)]
        (line,) = ax.plot(
            years, wide[scenario], color=colour, linewidth=2.5, label=scenario_label(scenario, lang)
        )
        handles.insert(i, line)
        labels.insert(i, scenario_label(scenario, lang))
        end = float(wide[scenario].iloc[-1])
        multiple = end / float(base[scenario]) if float(base[scenario]) > 0 else np.nan
        mult = (
            f" (×{format_number(multiple, lang, 1 if multiple < 10 else 0)})"
            if np.isfinite(multiple)
            else ""
        )
        ends.append(
            ax.annotate(
                format_number(end / scale, lang, 1 if end / scale < 100 else 0) + mult,
                (years[-1], end),
                xytext=(6, 0),
                textcoords="offset points",
                va="center",
                fontsize=SIZE["value"] - 1,
                color=colour,
                annotation_clip=False,
            )
        )
    if fitted is not None:
        ax.plot(fitted["year"], fitted["demand_gb_month"], color=INK, linestyle="--", linewidth=2)
        handles.append(Line2D([], [], color=INK, linestyle="--", linewidth=2))
        labels.append(_t("fit", lang))
    if history is not None:
        ax.scatter(history["year"], history["demand_gb_month"], color=INK, zorder=3)
        handles.append(Line2D([], [], color=INK, marker="o", linestyle=""))
        labels.append(_t("observed", lang))
    # room for the end labels inside the plot, left of the busy-hour axis
    ax.set_xlim(years[0], years[-1] + max(0.8, 0.2 * (years[-1] - years[0])))
    ax.set_ylim(0, top * 1.05)
    ticks = ticker.MaxNLocator(5, integer=True, steps=[1, 2, 5, 10]).tick_values(*years[[0, -1]])
    ax.set_xticks([t for t in ticks if years[0] <= t <= years[-1]])
    ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:.0f}"))
    _number_axis(ax.yaxis, lang, scale)
    ax.tick_params(labelsize=SIZE["tick"])
    for side in ("top",):
        ax.spines[side].set_visible(False)
    words = _t("scale_words", lang)
    ax.set_ylabel(_t("demand_axis", lang).format(scale=words[scale]), fontsize=SIZE["label"])
    ax.set_xlabel(_t("year", lang), fontsize=SIZE["label"])
    if "busy_hour_mbps" in rows:
        ratio = float(
            (rows["busy_hour_mbps"] / rows["demand_gb_month"])
            .replace([np.inf, -np.inf], np.nan)
            .median()
        )
        if np.isfinite(ratio) and ratio > 0:
            busy_top = top * ratio
            bscale = 1e6 if busy_top >= 2e6 else 1e3 if busy_top >= 2e3 else 1.0
            secondary = ax.secondary_yaxis(
                "right",
                functions=(lambda v, r=ratio: v * r, lambda v, r=ratio: v / r),
            )
            _number_axis(secondary.yaxis, lang, bscale)
            secondary.tick_params(labelsize=SIZE["tick"])
            secondary.set_ylabel(
                _t("busy_axis", lang).format(scale=_t("bit_words", lang)[bscale]),
                fontsize=SIZE["label"],
            )
    else:
        ax.spines["right"].set_visible(False)
    unit = (
        _unit(provenance, lang)
        if "denominator" not in rows
        else UNITS[str(rows["denominator"].iloc[0])][lang == "da"][0]
    )
    area = (
        str(provenance.area_name)
        if provenance is not None and municipality == S.REGION_CODE
        else municipality
    )
    title = _t("demand_title", lang).format(area=area)
    footer = _demand_footer(rows, lang, provenance)
    if slide_mode:
        slide = _Slide(ax.figure)
        base_year = int(years[0])
        subtitle = (
            f"{format_number(float(wide.iloc[0].max()) / scale, lang, 1)} "
            f"{words[scale]}GB pr. måned i {base_year}"
            if lang == "da"
            else f"{format_number(float(wide.iloc[0].max()) / scale, lang, 1)} "
            f"{words[scale]}GB per month in {base_year}"
        )
        slide.title(title, f"{subtitle} ({unit})")
        slide.footer(footer)
        slide.legend_row(handles, labels)
        slide.fit_axes(ax)
        _spread_labels(ax, ends)
        slide.fit_axes(ax, rounds=2)
    else:
        ax.set_title(title, fontsize=SIZE["subtitle"], loc="left")
        ax.legend(handles, labels, loc="upper left", frameon=False, fontsize=SIZE["legend"] - 3)
        _spread_labels(ax, ends)
        if provenance is not None or footer:
            _Slide(ax.figure).footer(footer)
    return ax


def _demand_footer(rows: pd.DataFrame, lang: str, provenance: Provenance | None) -> str:
    parts = []
    denominator = (
        str(rows["denominator"].iloc[0]) if "denominator" in rows else _denominator(provenance)
    )
    unit_one = UNITS[denominator][lang == "da"][1]
    if "gb_per_unit_month_base" in rows:
        parts.append(
            _t("assumption", lang).format(
                gb=format_number(float(rows["gb_per_unit_month_base"].iloc[0]), lang, 0),
                unit_one=unit_one,
                year=int(rows["year"].min()),
            )
        )
    if "busy_hour_mbps" in rows:
        ratio = float((rows["busy_hour_mbps"] / rows["demand_gb_month"]).dropna().median())
        if np.isfinite(ratio):
            parts.append(_t("busy_rule", lang).format(factor=format_number(ratio, lang, 5)))
    if "scenario_definition" in rows:
        defs = rows.drop_duplicates("scenario")
        parts.append(
            f"{_t('scenarios', lang)}: "
            + "; ".join(
                f"{scenario_label(n, lang)} = {_scenario_definition(d, lang)}"
                for n, d in zip(defs["scenario"], defs["scenario_definition"], strict=True)
            )
        )
    source = (
        str(rows["source"].iloc[0])
        if "source" in rows
        else (provenance.source if provenance is not None else "")
    )
    if source:
        parts.append(f"{_t('source', lang)}: {source}")
    return " · ".join(parts)


def _scenario_definition(text: str, lang: str) -> str:
    if lang != "da":
        return text
    return (
        text.replace("constant:", "konstant:")
        .replace("decaying:", "aftagende:")
        .replace("logistic:", "logistisk:")
        .replace(" a year", " om året")
        .replace(" in the first year", " det første år")
        .replace("continuous rate falling", "den kontinuerte rate falder")
        .replace(" at first, saturating at", " i starten, mætning ved")
        .replace("× today", "× i dag")
        .replace("95 % interval", "95 %-interval")
        .replace(" to +", " til +")
        .replace(" to -", " til -")
        .replace(".", ",")
    )


def plot_growth_rates(
    observed: pd.DataFrame,
    scenarios: Sequence[object],
    *,
    start_year: float,
    end_year: float,
    ax: Axes | None = None,
    lang: str = "en",
    provenance: Provenance | None = None,
    fitted: object | None = None,
) -> Axes:
    """Observed annual growth (points, ranges as bars) against the scenarios' rates.

    Parameters
    ----------
    observed
        As :func:`coverage_gap.danish.danish_mobile_growth` (its ``source`` column is
        named in the footer).
    scenarios
        :class:`~coverage_gap.demand.GrowthScenario` objects, each starting at
        ``start_year``.
    fitted
        Optional scenario fitted to ``observed`` (e.g.
        :func:`~coverage_gap.danish.fit_danish_mobile_growth`), starting at the centre
        of the first observation: drawn over the observed years and continued dotted
        to ``start_year``.
    provenance
        Not used for the footer (the growth series has its own sources); accepted for
        symmetry with the other charts.

    Examples
    --------
    >>> from coverage_gap.demand import TASKFORCE_50
    >>> from coverage_gap.danish import danish_mobile_growth
    >>> ax = plot_growth_rates(danish_mobile_growth(), [TASKFORCE_50], start_year=2014.5,
    ...                        end_year=2035)
    >>> len(ax.get_lines()) >= 1
    True
    """
    ax, slide_mode = _axes(ax)
    centre = ((observed["period_start"] + observed["period_end"]) / 2).to_numpy(np.float64)
    low, high = (
        observed["growth_low"].to_numpy(np.float64),
        observed["growth_high"].to_numpy(np.float64),
    )
    mid = (low + high) / 2
    ax.errorbar(
        centre,
        mid,
        yerr=[mid - low, high - mid],
        xerr=((observed["period_end"] - observed["period_start"]) / 2).to_numpy(np.float64),
        fmt="o",
        color=INK,
        capsize=4,
        markersize=8,
        zorder=4,
    )
    handles: list[Any] = [Line2D([], [], color=INK, marker="o", markersize=8, linestyle="-")]
    labels = [_t("observed", lang)]
    if fitted is not None:
        first, last = float(centre[0]), float(np.max(centre))
        span = np.linspace(first, last, 100)
        rate = fitted.rate_in_year(span - first + 1)  # type: ignore[attr-defined]
        ax.plot(span, rate, color=INK, linewidth=2, zorder=3)
        handles.append(Line2D([], [], color=INK, linewidth=2))
        labels.append(_t("fit", lang))
        if start_year > last:
            on = np.linspace(last, start_year, 50)
            ax.plot(
                on, fitted.rate_in_year(on - first + 1), color=INK, linewidth=1.5, linestyle=":"
            )  # type: ignore[attr-defined]
            handles.append(Line2D([], [], color=INK, linewidth=1.5, linestyle=":"))
            labels.append(_t("fit_on", lang))
    years = np.linspace(start_year, end_year, 200)
    for i, scenario in enumerate(scenarios):
        rate = scenario.rate_in_year(years - start_year + 1)  # type: ignore[attr-defined]
        colour = CATEGORICAL[i % len(CATEGORICAL)]
        ax.plot(years, rate, color=colour, linewidth=2.5)
        handles.append(Line2D([], [], color=colour, linewidth=2.5))
        labels.append(scenario_label(scenario.name, lang))  # type: ignore[attr-defined]
    ax.yaxis.set_major_locator(ticker.MaxNLocator(6, steps=[1, 2, 2.5, 5, 10]))
    ax.yaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: format_percent(v, lang, 0)))
    ax.set_ylim(0, max(float(np.nanmax(high)), 0.5) * 1.1)
    ax.xaxis.set_major_locator(ticker.MaxNLocator(integer=True, steps=[1, 2, 5, 10]))
    ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:.0f}"))
    ax.tick_params(labelsize=SIZE["tick"])
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.set_xlabel(_t("year", lang), fontsize=SIZE["label"])
    ax.set_ylabel(_t("growth_axis", lang), fontsize=SIZE["label"])
    title = _t("growth_title", lang)
    footer = _t("sources_growth", lang)
    if fitted is not None:
        footer += (
            " · " + _t("fit_note", lang) + f" ({_scenario_definition(fitted.describe(), lang)})"
        )  # type: ignore[attr-defined]
    if "source" in observed and not observed["source"].str.startswith("Telestatistik").all():
        footer += " · " + "; ".join(dict.fromkeys(observed["source"].astype(str)))
    if slide_mode:
        slide = _Slide(ax.figure)
        slide.title(title)
        slide.footer(footer)
        slide.legend_row(handles, labels)
        slide.fit_axes(ax)
    else:
        ax.set_title(title, fontsize=SIZE["subtitle"], loc="left")
        ax.legend(handles, labels, loc="upper right", frameon=False, fontsize=SIZE["legend"] - 3)
        _Slide(ax.figure).footer(footer)
    del provenance
    return ax


# --- fact sheets ------------------------------------------------------------------------


def draw_fact_sheet(
    fig: Figure,
    results: Results,
    code: str,
    *,
    lang: str = "en",
    change: pd.Series | None = None,
) -> Figure:
    """Draw the one-page fact sheet of a municipality on a slide-sized figure.

    The share against the region (a big number with its interval), the fixed and the
    mobile gap beside the region's, the map of the under-served households and the
    demand curve. A municipality without households in the data gets a page that says
    so and shows where it lies, no empty charts. ``change`` (the municipality's row of
    a change table, :func:`coverage_gap.changes.compare_vintages`) adds two lines on the
    change since the older vintage.
    """
    table, prov = results.municipalities, results.provenance
    row = table.loc[code]
    region = table.loc[S.REGION_CODE]
    name = str(row[S.MUNICIPALITY_NAME])
    slide = _Slide(fig)
    subtitle = _upper_first(standard_phrase(prov.standard, lang))
    slide.title(f"{name} ({code})", subtitle)
    footer = footer_text(prov, lang)
    if change is not None:
        from .claims import change_footer

        footer += " · " + change_footer(change, lang, source=prov.source)
    slide.footer(footer)
    box = slide.content()
    dpi = fig.dpi
    unit = _unit(prov, lang)
    if not row["households"] > 0:
        rows = _municipal_rows(table)
        n = int((rows["households"] > 0).sum())
        left = Bbox.from_extents(box.x0, box.y0, box.x0 + 0.42 * box.width, box.y1)
        _panel_texts(
            slide,
            left,
            [
                (
                    _t("no_data_short", lang).capitalize(),
                    {"fontsize": SIZE["big"], "fontweight": "bold", "color": GREY},
                ),
                (
                    _t("no_data_sheet", lang).format(unit=unit, name=name, n=n, k=len(rows)),
                    {"fontsize": SIZE["legend"] + 2},
                ),
            ],
        )
        where = fig.add_axes((0, 0, 1, 1))
        boundaries = results.boundaries
        mine = boundaries[S.MUNICIPALITY_CODE] == code
        boundaries[~mine].plot(ax=where, color="#eeeeee", edgecolor="white", linewidth=0.8)
        boundaries[mine].plot(
            ax=where, facecolor=NO_DATA, edgecolor=INK, hatch="///", linewidth=1.2
        )
        where.set_axis_off()
        map_box = Bbox.from_extents(left.x1 + 0.3 * dpi, box.y0, box.x1, box.y1)
        sub = _Slide(fig)
        sub.left, sub.right, sub.top, sub.bottom = map_box.x0, map_box.x1, map_box.y1, map_box.y0
        _map_frame(sub, where, boundaries.total_bounds, 0.0)
        _scale_bar(where, shapely.union_all(boundaries.geometry.array), [], lang)
        return fig

    # left column: the big number and the gaps
    col = Bbox.from_extents(box.x0, box.y0, box.x0 + 0.3 * box.width, box.y1)
    few = row["households"] < SMALL_COUNT
    caption = _t("sheet_counts", lang).format(
        count=format_number(float(row["underserved_households"]), lang),
        total=format_number(float(row["households"]), lang),
        unit=unit,
        low=format_percent(row["share_ci_low"], lang),
        high=format_percent(row["share_ci_high"], lang),
        area=region[S.MUNICIPALITY_NAME],
        region=format_percent(region["underserved_share"], lang),
    )
    blocks = [
        (
            format_percent(row["underserved_share"], lang),
            {
                "fontsize": SIZE["big"] + 8,
                "fontweight": "bold",
                "color": GREY if few else CATEGORICAL[0],
            },
        ),
        (_t("sheet_share", lang).format(unit=unit), {"fontsize": SIZE["legend"] + 1}),
        (caption, {"fontsize": SIZE["legend"] - 1, "color": GREY, "linespacing": 1.4}),
    ]
    if few:
        blocks.append(
            (
                _say("few", lang, prov, n=SMALL_COUNT),
                {"fontsize": SIZE["legend"] - 1, "color": CATEGORICAL[5]},
            )
        )
    if change is not None:
        from .claims import change_summary

        text = change_summary(change, lang, denominator=prov.denominator)
        blocks.append((text, {"fontsize": SIZE["legend"] - 2, "color": INK, "linespacing": 1.3}))
    y = _panel_texts(slide, col, blocks)
    gaps = fig.add_axes((0, 0, 1, 1))
    _gap_bars(gaps, row, region, prov, lang)
    gap_box = Bbox.from_extents(col.x0, box.y0, col.x1, y - 0.1 * dpi)
    slide.fit_axes(gaps, gap_box)

    # middle: the map; right: demand
    has_demand = results.demand is not None and (results.demand[S.MUNICIPALITY_CODE] == code).any()
    split = 0.62 if has_demand else 1.0
    map_box = Bbox.from_extents(
        col.x1 + 0.45 * dpi,
        box.y0,
        col.x1 + 0.45 * dpi + split * (box.x1 - col.x1 - 0.45 * dpi),
        box.y1,
    )
    where = fig.add_axes((0, 0, 1, 1))
    own = results.boundaries[results.boundaries[S.MUNICIPALITY_CODE] == code]
    households = results.households
    mine = households[households[S.MUNICIPALITY_CODE] == code]
    handles, names, _, _, land = _draw_hotspots(where, mine, own, 1000.0, [], lang)
    sub = _Slide(fig)
    sub.left, sub.right, sub.top, sub.bottom = map_box.x0, map_box.x1, map_box.y1, map_box.y0
    head = fig.text(
        slide.fx(map_box.x0),
        slide.fy(map_box.y1),
        _say("map_title", lang, prov, phrase=_title_phrase(prov, lang)),
        fontsize=SIZE["legend"] + 1,
        fontweight="bold",
        ha="left",
        va="top",
        color=INK,
    )
    _wrap(head, map_box.width)
    sub.top = head.get_window_extent().y0 - 0.1 * dpi
    if handles:
        legend = fig.legend(
            handles,
            names,
            loc="lower left",
            bbox_to_anchor=(slide.fx(map_box.x0), slide.fy(map_box.y0)),
            ncols=min(len(handles), 6),
            frameon=False,
            fontsize=SIZE["legend"] - 2,
            title=_say("per_cell", lang, prov, phrase="").replace(" \n", " ").replace("\n", " "),
            title_fontsize=SIZE["legend"] - 2,
            alignment="left",
            borderaxespad=0,
            borderpad=0,
            handlelength=1.4,
            columnspacing=1.0,
        )
        sub.bottom = legend.get_window_extent().y1 + 0.15 * dpi
    else:
        note = fig.text(
            slide.fx(map_box.x0),
            slide.fy(map_box.y0),
            _say("no_underserved", lang, prov, phrase=_title_phrase(prov, lang)),
            fontsize=SIZE["legend"] - 1,
            color=GREY,
            ha="left",
            va="bottom",
        )
        _wrap(note, map_box.width)
        sub.bottom = note.get_window_extent().y1 + 0.15 * dpi
    _map_frame(sub, where, own.total_bounds, 0.0, centre=True)
    _scale_bar(where, land, [], lang)
    if has_demand:
        trend = fig.add_axes((0, 0, 1, 1))
        plot_demand(results.demand, municipality=code, ax=trend, lang=lang, provenance=prov)
        scale = _scale(
            float(
                results.demand.loc[
                    results.demand[S.MUNICIPALITY_CODE] == code, "demand_gb_month"
                ].max()
            )
        )
        trend.set_title("", loc="left")
        for t in [t for t in fig.texts if t.get_gid() == FOOTER_TAG]:
            t.remove()
        _Slide(fig).footer(footer)
        trend.set_ylabel("")
        trend.set_xlabel("")
        for extra in [*trend.texts, *trend.child_axes]:
            extra.remove()  # end labels and the busy-hour axis: too tight on a third of a page
        trend.spines["right"].set_visible(False)
        years = results.demand["year"]
        trend.set_xlim(years.min(), years.max())
        trend.set_xticks(
            sorted({int(years.min()), int((years.min() + years.max()) // 2), int(years.max())})
        )
        legend = trend.get_legend()
        if legend is not None:
            legend.remove()
        lines = trend.get_lines()
        handles_d = [ln for ln in lines if ln.get_label() and not ln.get_label().startswith("_")]
        dtitle = fig.text(
            slide.fx(map_box.x1 + 0.45 * dpi),
            slide.fy(box.y1),
            _t("demand_short", lang).format(scale=_t("scale_words", lang)[scale]),
            fontsize=SIZE["legend"] + 1,
            fontweight="bold",
            ha="left",
            va="top",
            color=INK,
        )
        _wrap(dtitle, box.x1 - map_box.x1 - 0.45 * dpi)
        width_chars = max(
            12, int((box.x1 - map_box.x1 - 0.45 * dpi) / (0.55 * (SIZE["legend"] - 3)))
        )
        dlegend = fig.legend(
            handles_d,
            [textwrap.fill(str(h.get_label()), width_chars) for h in handles_d],
            loc="lower left",
            bbox_to_anchor=(slide.fx(map_box.x1 + 0.45 * dpi), slide.fy(box.y0)),
            frameon=False,
            fontsize=SIZE["legend"] - 3,
            borderaxespad=0,
            borderpad=0,
            handlelength=1.4,
        )
        trend_box = Bbox.from_extents(
            map_box.x1 + 0.45 * dpi,
            dlegend.get_window_extent().y1 + 0.15 * dpi,
            box.x1,
            dtitle.get_window_extent().y0 - 0.1 * dpi,
        )
        slide.fit_axes(trend, trend_box)
    return fig


def _gap_bars(ax: Axes, row: pd.Series, region: pd.Series, prov: Provenance, lang: str) -> None:
    """Draw the municipality's gaps (fixed, mobile, both) as bars beside the region's."""
    standard = prov.standard
    items = []
    if pd.notna(row["fixed_unserved_households"]) and standard.fixed_down_mbps is not None:
        fixed = _fixed_threshold(standard, lang)
        items.append((_t("fixed_gap", lang).format(fixed=fixed), "fixed_unserved_households"))
    if pd.notna(row["mobile_unserved_households"]) and standard.has_mobile_threshold:
        mobile = _mobile_threshold(standard, lang)
        items.append((_t("mobile_gap", lang).format(mobile=mobile), "mobile_unserved_households"))
    if pd.notna(row["unserved_both_households"]):
        items.append((_t("both", lang), "unserved_both_households"))
    if not items:
        items.append((_t("share_bar", lang), "underserved_households"))
    y = np.arange(len(items))[::-1] * 1.6
    mine = [float(row[c]) / float(row["households"]) for _, c in items]
    theirs = [
        float(region[c]) / float(region["households"]) if region["households"] > 0 else np.nan
        for _, c in items
    ]
    ax.barh(y, mine, height=0.42, color=CATEGORICAL[0])
    ax.barh(y - 0.45, theirs, height=0.42, color=CATEGORICAL[1])
    top = max([v for v in mine + theirs if np.isfinite(v)] + [0.0]) * 1.08
    _share_axis(ax, lang, top)
    ax.set_yticks([])
    ax.spines["left"].set_visible(False)
    ax.xaxis.set_major_locator(ticker.MaxNLocator(3, steps=[1, 2, 2.5, 5, 10]))
    ax.tick_params(axis="x", labelsize=SIZE["tick"] - 2)
    for yi, (label, _), a, b in zip(y, items, mine, theirs, strict=True):
        ax.text(0, yi + 0.3, label, va="bottom", ha="left", fontsize=SIZE["tick"] - 1, color=INK)
        for dy, v, colour in ((0.0, a, CATEGORICAL[0]), (-0.45, b, "#9a6a00")):
            ax.text(
                1.02,
                yi + dy,
                format_percent(v, lang),
                transform=ax.get_yaxis_transform(),
                va="center",
                ha="left",
                fontsize=SIZE["value"] - 2,
                color=colour,
            )
    ax.set_ylim(y[-1] - 0.8, y[0] + 0.95)
    ax.legend(
        [Patch(facecolor=CATEGORICAL[0]), Patch(facecolor=CATEGORICAL[1])],
        [str(row[S.MUNICIPALITY_NAME]), str(region[S.MUNICIPALITY_NAME])],
        title=_say("gaps_title", lang, prov),
        title_fontsize=SIZE["legend"] - 1,
        fontsize=SIZE["legend"] - 2,
        loc="lower left",
        bbox_to_anchor=(0.0, 1.02),
        ncols=2,
        alignment="left",
        frameon=False,
        borderaxespad=0,
        borderpad=0,
        handlelength=1.2,
        columnspacing=1.2,
    )
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


# The claim and change charts (plot_claim_curve, plot_change_waterfall, ...) live in a module
# of their own, built on the helpers above; its __all__ says what it adds here.
from .claims import *  # noqa: E402, F403
from .where import plot_area_cells, plot_pool, plot_sites, rule_text  # noqa: E402, F401
