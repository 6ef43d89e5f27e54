"""Charts of a municipality table and of demand: ranking, breakdown, standards, growth.

Bar charts of the share under-served (with intervals, the region and a claimed share),
the fixed/mobile breakdown, the share under several standards, the demand projection
and the growth rates behind its scenarios.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from matplotlib import ticker
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from .. import schema as S
from ..errors import PlotError
from ..standards import Provenance, ServiceStandard
from .maps import _coverage_subtitle

if TYPE_CHECKING:
    from ..demand import GrowthScenario

from .style import (
    CATEGORICAL,
    GREY,
    INK,
    SCENARIO_NAMES_DA,
    SIZE,
    SMALL_COUNT,
    UNITS,
    _area,
    _axes,
    _denominator,
    _fixed_threshold,
    _mobile_threshold,
    _partial,
    _provenance,
    _say,
    _Slide,
    _status,
    _t,
    _title_phrase,
    _unit,
    _upper_first,
    add_footer,
    definition_text,
    footer_text,
    format_number,
    format_percent,
    ranking_order,
    root_figure,
    standard_phrase,
)

# --- bar charts -------------------------------------------------------------------------


def _share_axis(ax: Axes, lang: str, top: float) -> None:
    top = top if top > 0 else 0.01
    ax.set_xlim(0, top)
    ax.xaxis.set_major_locator(ticker.MaxNLocator(6, steps=[1, 2, 2.5, 5, 10]))
    ticks = ax.xaxis.get_major_locator().tick_values(0, top)
    step = float(np.diff(ticks)[0]) if len(ticks) > 1 else top
    decimals = max(0, -math.floor(math.log10(step * 100) + 1e-9)) if step > 0 else 0
    decimals = decimals if abs(round(step * 100, decimals) - step * 100) < 1e-9 else decimals + 1
    ax.xaxis.set_major_formatter(
        ticker.FuncFormatter(lambda v, _: format_percent(v, lang, decimals))
    )
    ax.tick_params(labelsize=SIZE["tick"], colors=INK)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _value_column(
    ax: Axes, y: Iterable[float], labels: Sequence[str], colours: Sequence[str]
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
        area = _area(table.loc[S.REGION_CODE, S.MUNICIPALITY_NAME], provenance, lang)
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
                    unit=_unit(provenance, lang, one=float(n) == 1),
                )
            )
        else:
            values.append(format_percent(s, lang))
    _value_column(ax, y, values, [INK if h else GREY for h in has])
    ax.set_xlabel(_say("share_axis", lang, provenance), fontsize=SIZE["label"])
    title = _say("ranking_title", lang, provenance, phrase=_title_phrase(provenance, lang))
    if slide_mode:
        slide = _Slide(root_figure(ax))
        slide.title(title, _coverage_subtitle(table, provenance, lang, min_households))
        slide.footer(footer_text(provenance, lang) if provenance else None)
        slide.legend_row(handles, labels)
        slide.fit_axes(ax)
    else:
        ax.set_title(title, fontsize=SIZE["subtitle"], loc="left")
        ax.legend(handles, labels, loc="lower right", frameon=False, fontsize=SIZE["legend"] - 2)
        add_footer(ax, provenance, lang)
    return ax


_RANKING_INSTEAD = "; or draw plot_gap_ranking, which needs only the total"


def breakdown_parts(
    table: pd.DataFrame, standard: ServiceStandard, lang: str = "en"
) -> list[tuple[str, np.ndarray, str]]:
    """Split the under-served households of each row into the parts that make them up.

    The parts of :func:`plot_gap_breakdown` (and of the deck's breakdown text): under
    "no fixed", no fixed service but mobile, and neither; under "no mobile", no mobile
    service but fixed, and neither; under "neither", one part. Where the other service
    was not assessed, one part. Each part is ``(label, counts per row of table,
    colour)``; the counts of a row add up to its ``underserved_households``.

    Raises
    ------
    PlotError
        When the standard's own service was not assessed (its counts are missing), so
        that no breakdown can be drawn; :func:`plot_gap_ranking` draws the total.

    Examples
    --------
    >>> from coverage_gap.datasets import make_demo_results
    >>> r = make_demo_results(scale=0.01)
    >>> parts = breakdown_parts(r.municipalities, r.provenance.standard)
    >>> total = sum(counts for _, counts, _ in parts)
    >>> bool((total == r.municipalities["underserved_households"]).all())
    True
    """
    fixed = table["fixed_unserved_households"]
    mobile = table["mobile_unserved_households"]
    both = table["unserved_both_households"]
    f_txt, m_txt = _fixed_threshold(standard, lang), _mobile_threshold(standard, lang)
    if standard.underserved == "no_fixed":
        if fixed.isna().any():
            raise PlotError(
                "the breakdown needs fixed service assessed (fixed_unserved_households "
                "is empty): give the run fixed offers" + _RANKING_INSTEAD
            )
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
            raise PlotError(
                "the breakdown needs mobile service assessed (mobile_unserved_households "
                "is empty): give the run mobile coverage (polygons or a signal raster)"
                + _RANKING_INSTEAD
            )
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
        raise PlotError(
            "the breakdown needs fixed and mobile service assessed "
            "(unserved_both_households is empty): give the run fixed offers and mobile "
            "coverage" + _RANKING_INSTEAD
        )
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
        raise PlotError(
            "the breakdown needs the table's provenance (its standard): pass "
            "provenance=..., e.g. results.provenance, or a table from summarize_gap"
        )
    ax, slide_mode = _axes(ax)
    order = ranking_order(table)
    codes = order + ([S.REGION_CODE] if S.REGION_CODE in table.index else [])
    rows = table.loc[codes]
    parts = breakdown_parts(rows, provenance.standard, lang)
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
        slide = _Slide(root_figure(ax))
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
        raise PlotError(
            "plot_gap_by_standard needs at least one table: pass {standard name: the "
            "table of summarize_gap under that standard}"
        )
    provenances = [t.attrs.get("provenance") for t in tables.values()]
    denominators = {p.denominator for p in provenances if p is not None}
    if len(denominators) > 1:
        raise PlotError(
            f"the tables count different denominators ({sorted(denominators)}), so their "
            "shares cannot be compared: summarise every table with the same denominator"
        )
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
        slide = _Slide(root_figure(ax))
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
    >>> scenario_label("taskforce 50 %", "en")
    'taskforce 50%'
    """
    if lang != "da":
        return re.sub(r"(\d) %", r"\1%", name)  # English percentages: "50%"
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
        known = sorted(map(str, projection[S.MUNICIPALITY_CODE].unique()))
        raise PlotError(
            f"the projection has no rows for municipality={municipality!r}: choose one of {known}"
        )
    wide = rows.pivot(index="year", columns="scenario", values="demand_gb_month")
    scenarios = list(dict.fromkeys(rows["scenario"]))
    wide = wide[scenarios]
    years = wide.index.to_numpy(np.float64)
    top = float(np.nanmax(wide.to_numpy()))
    scale = _scale(top)
    handles: list[Any] = []
    labels: list[str] = []
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

            def to_busy(v: Any, r: float = ratio) -> Any:
                return v * r

            def from_busy(v: Any, r: float = ratio) -> Any:
                return v / r

            secondary = ax.secondary_yaxis("right", functions=(to_busy, from_busy))
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
        provenance.area(lang)
        if provenance is not None and municipality == S.REGION_CODE
        else municipality
    )
    partial = ""
    if municipality == S.REGION_CODE:
        # the region row sums only the municipalities with households in the data
        first = projection[projection["year"] == projection["year"].min()]
        local = first[first[S.MUNICIPALITY_CODE] != S.REGION_CODE]
        base = local.groupby(S.MUNICIPALITY_CODE)["demand_gb_month"].max()
        partial = _partial(int((base > 0).sum()), len(base), lang)
    title = _t("demand_title", lang).format(area=area)
    footer = _demand_footer(rows, lang, provenance)
    if slide_mode:
        slide = _Slide(root_figure(ax))
        base_year = int(years[0])
        subtitle = (
            f"{format_number(float(wide.iloc[0].max()) / scale, lang, 1)} "
            f"{words[scale]}GB pr. måned i {base_year}"
            if lang == "da"
            else f"{format_number(float(wide.iloc[0].max()) / scale, lang, 1)} "
            f"{words[scale]}GB per month in {base_year}"
        )
        slide.title(title, f"{subtitle} ({unit})" + (f" · {partial}" if partial else ""))
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
            _Slide(root_figure(ax)).footer(footer)
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
        return re.sub(r"(\d) %", r"\1%", text)  # English percentages: "+6%", as the figures
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
    scenarios: Sequence[GrowthScenario],
    *,
    start_year: float,
    end_year: float,
    ax: Axes | None = None,
    lang: str = "en",
    provenance: Provenance | None = None,
    fitted: GrowthScenario | None = None,
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
        rate = fitted.rate_in_year(span - first + 1)
        ax.plot(span, rate, color=INK, linewidth=2, zorder=3)
        handles.append(Line2D([], [], color=INK, linewidth=2))
        labels.append(_t("fit", lang))
        if start_year > last:
            on = np.linspace(last, start_year, 50)
            ax.plot(
                on, fitted.rate_in_year(on - first + 1), color=INK, linewidth=1.5, linestyle=":"
            )
            handles.append(Line2D([], [], color=INK, linewidth=1.5, linestyle=":"))
            labels.append(_t("fit_on", lang))
    years = np.linspace(start_year, end_year, 200)
    for i, scenario in enumerate(scenarios):
        rate = scenario.rate_in_year(years - start_year + 1)
        colour = CATEGORICAL[i % len(CATEGORICAL)]
        ax.plot(years, rate, color=colour, linewidth=2.5)
        handles.append(Line2D([], [], color=colour, linewidth=2.5))
        labels.append(scenario_label(scenario.name, lang))
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
        )
    if "source" in observed and not observed["source"].str.startswith("Telestatistik").all():
        footer += " · " + "; ".join(dict.fromkeys(observed["source"].astype(str)))
    if slide_mode:
        slide = _Slide(root_figure(ax))
        slide.title(title)
        slide.footer(footer)
        slide.legend_row(handles, labels)
        slide.fit_axes(ax)
    else:
        ax.set_title(title, fontsize=SIZE["subtitle"], loc="left")
        ax.legend(handles, labels, loc="upper right", frameon=False, fontsize=SIZE["legend"] - 3)
        _Slide(root_figure(ax)).footer(footer)
    del provenance
    return ax
