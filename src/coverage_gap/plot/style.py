"""The house style of every figure: colours, type sizes, words, numbers, slides, footers.

Colour-blind-safe palettes, the sizes of type on a 16:9 slide, the words of every
figure in English and Danish (:data:`TEXT`, :data:`UNITS`), numbers and percentages
written the Danish or English way, the sentence that defines a service standard, the
slide a chart is laid out on (:func:`new_axes`, title, legend panel, notes, footer) and
the footer with definition, denominator, data year and source (:func:`add_footer`).
The chart modules (:mod:`.maps`, :mod:`.charts`, :mod:`.factsheet`, :mod:`.where`,
:mod:`.claims`) build on these.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.transforms import Bbox

from .. import schema as S
from ..standards import DEFAULT_AREA_NAME, DK_100_30, Provenance, ServiceStandard

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
        "interval": "95% interval",
        "share_bar": "Share under-served",
        "fixed_gap": "Without fixed ≥ {fixed}",
        "mobile_gap": "Without mobile ≥ {mobile}",
        "both": "Neither fixed nor mobile",
        "fixed_but_mobile": "No fixed ≥ {fixed}, but mobile ≥ {mobile}",
        "mobile_but_fixed": "No mobile ≥ {mobile}, but fixed ≥ {fixed}",
        "per_cell": "{Unit} {phrase}\nper 1 km² cell",
        "per_cell_under": "Under-served {unit} per 1 km² cell (same colours on every sheet)",
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
        "big_caption": "{area}, {count} of {total} {unit}; 95% interval {low}–{high}",
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
        "sheet_counts": "{count} of {total} {unit}\n95% interval {low}–{high}\n{area}: {region}",
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
        "per_cell_under": "Underforsynede {unit} pr. celle på 1 km² (samme farver på alle ark)",
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
    "central": "centralt skøn",
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
    unit = str(kwargs.pop("unit", None) or _unit(provenance, lang))
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
    >>> from coverage_gap.plot import plot_gap_ranking
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


#: Spaces a line never breaks at: a value and its unit, "≥" and its value, "pr. kommune".
_GLUE = re.compile(
    r"(?<=≥) (?=\S)|(?<=\d) (?=(?:Mbit/s|Gbit/s|dBm|GB|km|%))|(?<=\bpr\.) (?=kommune)"
    r"|(?<=\bby) (?=municipality)|(?<=\bper) (?=municipality)"
)


def _glue(text: str) -> str:
    """Join what must stay on one line with non-breaking spaces.

    >>> _glue("Uden fast ≥ 100/30 Mbit/s, pr. kommune").count(chr(0xA0))
    3
    """
    return _GLUE.sub("\u00a0", text)


def _wrap(text_artist: Any, width_px: float, sep: str = " ") -> None:
    """Wrap a text artist at ``sep`` (then at spaces) so that no line is wider than ``width_px``.

    A unit stays with its value (:func:`_glue`); the glue is plain spaces again in the
    text set, so the text reads as given.
    """
    original = text_artist.get_text()
    restore = "\u00a0" not in original
    text_artist.set_text(_glue(original))

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
    text = "\n".join(lines)
    text_artist.set_text(text.replace("\u00a0", " ") if restore else text)


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


def root_figure(ax: Axes) -> Figure:
    """Return the figure an Axes lies on (for an Axes in a subfigure, the whole figure).

    Chart functions return an Axes; this is the figure to save or to place on a slide.

    Examples
    --------
    >>> ax = new_axes(pyplot=False)
    >>> root_figure(ax) is ax.figure
    True
    """
    fig = ax.figure
    return fig if isinstance(fig, Figure) else fig.figure


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
    _Slide(root_figure(ax)).footer(
        footer_text(provenance, lang) if provenance is not None else None
    )


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


def _area(name: object, provenance: Provenance | None, lang: str) -> str:
    """Return the region row's name for a figure in ``lang`` (the default translated).

    >>> from coverage_gap.standards import DK_100_30
    >>> _area("All municipalities", Provenance(DK_100_30), "da")
    'Alle kommuner'
    >>> _area("Region Sjælland", None, "da")
    'Region Sjælland'
    """
    text = str(name)
    if provenance is not None and text == provenance.area_name:
        return provenance.area(lang)
    if text == DEFAULT_AREA_NAME:
        return Provenance(DK_100_30, area_name=text).area(lang)
    return text


def _partial(n: int, k: int, lang: str) -> str:
    """Say that a region figure rests on only ``n`` of ``k`` municipalities ("" when all).

    >>> _partial(4, 17, "da")
    'kun de 4 af 17 kommuner med data'
    >>> _partial(17, 17, "en")
    ''
    """
    if n >= k:
        return ""
    if lang == "da":
        return f"kun de {n} af {k} kommuner med data"
    return f"only the {n} of {k} municipalities with data"


def _table_partial(table: pd.DataFrame, lang: str) -> str:
    """Return :func:`_partial` for a summary table (municipalities with households > 0)."""
    rows = _municipal_rows(table)
    return _partial(int((rows["households"] > 0).sum()), len(rows), lang)
