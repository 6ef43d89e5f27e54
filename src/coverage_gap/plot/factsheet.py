"""The one-page fact sheet of a municipality (:func:`draw_fact_sheet`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import shapely
from matplotlib import ticker
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.transforms import Bbox

from .. import schema as S
from ..standards import Provenance
from .charts import _scale, _share_axis, plot_demand
from .maps import _draw_hotspots, _map_frame, _panel_texts, _scale_bar, hotspot_grid
from .style import (
    CATEGORICAL,
    FOOTER_TAG,
    GREY,
    INK,
    NO_DATA,
    SIZE,
    SMALL_COUNT,
    _area,
    _fixed_threshold,
    _mobile_threshold,
    _municipal_rows,
    _say,
    _Slide,
    _t,
    _table_partial,
    _title_phrase,
    _unit,
    _upper_first,
    _wrap,
    footer_text,
    format_number,
    format_percent,
    standard_phrase,
)

if TYPE_CHECKING:
    from ..pipeline import Results

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
        unit=_unit(prov, lang, one=float(row["households"]) == 1),
        low=format_percent(row["share_ci_low"], lang),
        high=format_percent(row["share_ci_high"], lang),
        area=_area_line(table, prov, lang),
        region=format_percent(region["underserved_share"], lang),
    )
    blocks: list[tuple[str, dict[str, Any]]] = [
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
    match = _match_note(results, lang)
    if match:
        blocks.append((match, {"fontsize": SIZE["legend"] - 1, "color": CATEGORICAL[5]}))
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
    # one scale for every sheet: the region's largest cell sets the classes
    region_top = float(hotspot_grid(households, 1000.0)[0].max())
    handles, names, _, _, land = _draw_hotspots(
        where, mine, own, 1000.0, [], lang, scale_top=region_top
    )
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
            title=_say("per_cell_under", lang, prov),
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
    demand = results.demand
    if has_demand and demand is not None:
        trend = fig.add_axes((0, 0, 1, 1))
        plot_demand(demand, municipality=code, ax=trend, lang=lang, provenance=prov)
        scale = _scale(
            float(demand.loc[demand[S.MUNICIPALITY_CODE] == code, "demand_gb_month"].max())
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
        years = demand["year"]
        trend.set_xlim(years.min(), years.max())
        trend.set_xticks(
            sorted({int(years.min()), int((years.min() + years.max()) // 2), int(years.max())})
        )
        trend_legend = trend.get_legend()
        if trend_legend is not None:
            trend_legend.remove()
        lines = trend.get_lines()
        handles_d = [
            ln for ln in lines if str(ln.get_label()) and not str(ln.get_label()).startswith("_")
        ]
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
        dlegend = fig.legend(
            handles_d,
            [str(h.get_label()) for h in handles_d],
            loc="lower left",
            bbox_to_anchor=(slide.fx(map_box.x1 + 0.45 * dpi), slide.fy(box.y0)),
            frameon=False,
            fontsize=SIZE["legend"] - 3,
            borderaxespad=0,
            borderpad=0,
            handlelength=1.4,
        )
        # wrap on the measured text: the handle and its pad come before the label
        handle_px = (1.4 + 0.8) * (SIZE["legend"] - 3) * dpi / 72
        for label in dlegend.get_texts():
            _wrap(label, box.x1 - map_box.x1 - 0.45 * dpi - handle_px - 2)
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
        [str(row[S.MUNICIPALITY_NAME]), _area(region[S.MUNICIPALITY_NAME], prov, lang)],
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


def _area_line(table: pd.DataFrame, prov: Provenance, lang: str) -> str:
    """Return the region's name on a fact sheet, saying when it covers only part of it."""
    area = _area(table.loc[S.REGION_CODE, S.MUNICIPALITY_NAME], prov, lang)
    partial = _table_partial(table, lang)
    return f"{area} ({partial})" if partial else area


#: Below this share of counted addresses with an offer row, a fact sheet says so.
MATCH_NOTE_BELOW = 0.95


def _match_note(results: Results, lang: str) -> str:
    """Say for what share of the counted addresses the offer data had a row ("" when most)."""
    shares = [
        m.counted_share
        for _, m in getattr(results, "offer_matches", ())
        if np.isfinite(m.counted_share)
    ]
    if not shares or min(shares) >= MATCH_NOTE_BELOW:
        return ""
    share = format_percent(min(shares), lang, 0)
    if lang == "da":
        return f"Tilbud fundet for {share} af adresserne"
    return f"Offers found for {share} of the addresses"
