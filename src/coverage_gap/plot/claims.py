"""Charts of a claim check and of the change between two vintages, in the house style.

- :func:`plot_claim_curve`: the specification curve — the area's share under every
  specification, sorted, with its interval, the claim's band shaded, and beneath it the
  panel of the choices each point uses (Simonsohn, Simmons & Nelson 2020);
- :func:`plot_change_waterfall`: under-served households of the old year, what became
  served, what became under-served, what was added and removed, and the new year;
- :func:`plot_change_by_municipality`: the same flows per municipality, diverging from 0.

Like every chart of :mod:`coverage_gap.plot` they take ``ax=None`` and return the Axes;
without ``ax`` they lay out a whole slide (title, legend, footer with the definitions,
denominators, data years and sources).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from matplotlib import ticker
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.transforms import Bbox

from .. import schema as S
from ..claims import DIMENSIONS, NOT_APPLICABLE, choice_label, dimension_values
from ..standards import Provenance
from .charts import _number_axis, _value_column
from .style import (
    CATEGORICAL,
    GREY,
    INK,
    SIZE,
    UNITS,
    _axes,
    _Slide,
    _t,
    _upper_first,
    definition_text,
    format_number,
    format_percent,
    root_figure,
    standard_phrase,
)

if TYPE_CHECKING:
    from ..claims import ClaimCheck

__all__ = [
    "change_footer",
    "change_summary",
    "plot_change_by_municipality",
    "plot_change_waterfall",
    "plot_claim_curve",
]

HOLDS = CATEGORICAL[2]
FAILS = CATEGORICAL[0]
BAND = "#f6d58e"
FLOW_COLOURS = {
    "old": CATEGORICAL[0],
    "became_served_households": CATEGORICAL[2],
    "became_underserved_households": CATEGORICAL[5],
    "added_underserved_households": CATEGORICAL[3],
    "removed_underserved_households": "#999999",
    "new": CATEGORICAL[0],
}

TEXT = {
    "en": {
        "curve_title": "Under which definitions does the claim hold?",
        "curve_subtitle": "{claim}: holds under {k} of {n} specifications · {area}",
        "curve_partial": ", only the {n} of {k} municipalities with data",
        "share_axis": "Share under-served",
        "band": "Claim: {band}",
        "holds": "Holds",
        "fails": "Does not hold",
        "interval": "95 % interval",
        "specs_axis": "{n} specifications, sorted by the share; dots below: the choices each uses",
        "groups": {
            "data_year": "Data year",
            "fixed": "Fixed, Mbit/s",
            "underserved": "Under-served",
            "mobile_min_dbm": "Mobile signal",
            "missing_upload": "No upload figure",
            "denominator": "Counted in",
        },
        "curve_footer": (
            "Each point: the share of the area under one specification; the band: the claim "
            "± its tolerance; 1000 Mbit/s has no upload threshold"
        ),
        "denominators": "Denominators",
        "data": "Data",
        "source": "Source",
        "waterfall_title": "Under-served {unit} from {old} to {new}: {area}",
        "by_title": "Change in under-served {unit}, {old} → {new}, by municipality",
        "old_bar": "{year}",
        "new_bar": "{year}",
        "flows": {
            "became_served_households": "Became served",
            "became_underserved_households": "Became under-served",
            "added_underserved_households": "Added",
            "removed_underserved_households": "Removed",
        },
        "net": "Net change",
        "count_axis": "Under-served {unit}",
        "change_axis": "Change in under-served {unit}",
        "net_subtitle": "Net change {net} ({pct})",
        "standards": "{old}: {old_def} · {new}: {new_def}",
        "sheet_change": "{old} → {new}: {net} under-served {unit}",
        "sheet_flows": "{bs} became served, {bu} became under-served, {a} added, {r} removed",
        "sheet_footer": "Change: {old} → {new}",
        "sheet_source": "source {old}: {source}",
    },
    "da": {
        "curve_title": "Under hvilke definitioner holder påstanden?",
        "curve_subtitle": "{claim}: holder under {k} af {n} specifikationer · {area}",
        "curve_partial": ", kun de {n} af {k} kommuner med data",
        "share_axis": "Andel underforsynede",
        "band": "Påstand: {band}",
        "holds": "Holder",
        "fails": "Holder ikke",
        "interval": "95 %-interval",
        "specs_axis": "{n} specifikationer sorteret efter andelen; prikkerne nedenfor: valgene",
        "groups": {
            "data_year": "Dataår",
            "fixed": "Fast, Mbit/s",
            "underserved": "Underforsynet",
            "mobile_min_dbm": "Mobilsignal",
            "missing_upload": "Intet uploadtal",
            "denominator": "Talt i",
        },
        "curve_footer": (
            "Hvert punkt: områdets andel under én specifikation; båndet: påstanden ± dens "
            "tolerance; 1000 Mbit/s har intet uploadkrav"
        ),
        "denominators": "Nævnere",
        "data": "Data",
        "source": "Kilde",
        "waterfall_title": "Underforsynede {unit} fra {old} til {new}: {area}",
        "by_title": "Ændring i underforsynede {unit}, {old} → {new}, pr. kommune",
        "old_bar": "{year}",
        "new_bar": "{year}",
        "flows": {
            "became_served_households": "Blev forsynet",
            "became_underserved_households": "Blev underforsynet",
            "added_underserved_households": "Tilføjet",
            "removed_underserved_households": "Fjernet",
        },
        "net": "Samlet ændring",
        "count_axis": "Underforsynede {unit}",
        "change_axis": "Ændring i underforsynede {unit}",
        "net_subtitle": "Samlet ændring {net} ({pct})",
        "standards": "{old}: {old_def} · {new}: {new_def}",
        "sheet_change": "{old} → {new}: {net} underforsynede {unit}",
        "sheet_flows": "{bs} blev forsynet, {bu} blev underforsynet, {a} tilføjet, {r} fjernet",
        "sheet_footer": "Ændring: {old} → {new}",
        "sheet_source": "kilde {old}: {source}",
    },
}


def _text(key: str, lang: str) -> Any:
    return TEXT["da" if lang == "da" else "en"][key]


def _units(denominator: str, lang: str) -> str:
    return UNITS.get(denominator, UNITS["households"])[lang == "da"][0]


def _signed(value: float, lang: str) -> str:
    text = format_number(abs(value), lang)
    return ("−" if value < 0 else "+" if value > 0 else "") + text


def _percent_axis(axis: Any, lang: str) -> None:
    locator = ticker.MaxNLocator(6, steps=[1, 2, 2.5, 5, 10])
    axis.set_major_locator(locator)

    def fmt(v: float, _: int) -> str:
        locs = axis.get_majorticklocs()
        step = float(np.diff(locs)[0]) if len(locs) > 1 else 1.0
        decimals = 0 if step * 100 >= 1 - 1e-9 else 1
        return format_percent(v, lang, decimals)

    axis.set_major_formatter(ticker.FuncFormatter(fmt))


def _fit_stack(slide: _Slide, upper: Axes, lower: Axes, box: Bbox, share: float) -> None:
    """Place two axes one above the other in ``box`` with the same left and right edges.

    ``share`` of the height goes to the upper axes; tick labels and texts of both are
    kept inside the box, and the columns of the two line up.
    """
    gap = 0.25 * slide.fig.dpi
    x0, x1 = box.x0, box.x1
    split = box.y0 + (1 - share) * box.height
    boxes = {upper: [split + gap / 2, box.y1], lower: [box.y0, split - gap / 2]}
    for _ in range(4):
        for ax, (y0, y1) in boxes.items():
            ax.set_position(
                (slide.fx(x0), slide.fy(y0), slide.fx(max(x1 - x0, 10)), slide.fy(max(y1 - y0, 10)))
            )
        tights = {ax: ax.get_tightbbox() for ax in boxes}
        left = max(box.x0 - t.x0 for t in tights.values() if t is not None)
        right = max(t.x1 - box.x1 for t in tights.values() if t is not None)
        x0 += left
        x1 -= right
        for ax, tight in tights.items():
            if tight is None:
                continue
            y0, y1 = boxes[ax]
            limit_low = box.y0 if ax is lower else split + gap / 2
            limit_high = split - gap / 2 if ax is lower else box.y1
            boxes[ax] = [y0 + (limit_low - tight.y0), y1 - (tight.y1 - limit_high)]


def _claim_footer(check: ClaimCheck, lang: str) -> str:
    table = check.specifications
    units = ", ".join(_units(d, lang) for d in dict.fromkeys(table["denominator"]))
    years = ", ".join(sorted(dict.fromkeys(table["data_year"].astype(str))))
    sources = "; ".join(dict.fromkeys(table["source"].astype(str)))
    return " · ".join(
        [
            _text("curve_footer", lang),
            f"{_text('denominators', lang)}: {units}",
            f"{_text('data', lang)}: {years}",
            f"{_text('source', lang)}: {sources}",
        ]
    )


def plot_claim_curve(check: ClaimCheck, *, ax: Axes | None = None, lang: str = "en") -> Axes:
    """Draw the specification curve of a claim check, with the panel of choices beneath.

    The upper Axes (returned) shows the area's share under every specification, sorted,
    with its 95 % interval, green where the claim holds; the claim's band is shaded.
    Beneath it a second Axes marks, for every point, the choice it uses in each
    dimension on which the specifications differ (data year, fixed threshold, rule,
    missing upload, denominator). On an Axes of your own, both share its area.

    Examples
    --------
    >>> import tempfile
    >>> from coverage_gap.config import load_config
    >>> from coverage_gap.datasets import write_demo_inputs
    >>> from coverage_gap.vintages import check_runs, run_vintages
    >>> config = load_config(write_demo_inputs(tempfile.mkdtemp(), scale=0.01))
    >>> check = check_runs(run_vintages(config), config.claim.claim())
    >>> ax = plot_claim_curve(check, lang="da")
    >>> len(ax.figure.axes), ax.get_ylabel()
    (2, 'Andel underforsynede')
    """
    ax, slide_mode = _axes(ax)
    fig = root_figure(ax)
    table = check.specifications.copy()
    table["_order"] = np.arange(len(table))
    table = table.sort_values(["region_share", "_order"], kind="stable")
    n = len(table)
    x = np.arange(n, dtype=np.float64)
    share = table["region_share"].to_numpy(np.float64)
    low = table["share_ci_low"].to_numpy(np.float64)
    high = table["share_ci_high"].to_numpy(np.float64)
    holds = table["claim_holds"].to_numpy(bool)
    claim = check.claim

    ax.axhspan(claim.low, claim.high, color=BAND, linewidth=0, zorder=0)
    ax.axhline(claim.share, color="#9a6a00", linewidth=1.2, linestyle="--", zorder=1)
    ax.vlines(x, low, high, color="#555555", linewidth=1.0, zorder=2)
    size = 34 if n <= 80 else 16
    ax.scatter(x[~holds], share[~holds], s=size, color=FAILS, zorder=3, linewidths=0)
    ax.scatter(x[holds], share[holds], s=size * 1.3, color=HOLDS, zorder=4, linewidths=0)
    top = max(float(np.nanmax(np.r_[high, share])), claim.high) * 1.08
    ax.set_ylim(0, top if top > 0 else 0.01)
    ax.set_xlim(-0.7, n - 0.3)
    _percent_axis(ax.yaxis, lang)
    ax.set_xticks([])
    ax.tick_params(labelsize=SIZE["tick"], colors=INK)
    ax.set_ylabel(_text("share_axis", lang), fontsize=SIZE["label"])
    ax.grid(axis="y", color="#eeeeee", linewidth=0.8, zorder=0)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)

    # the panel of choices
    panel = fig.add_axes((0, 0, 1, 1))
    dims = [d for d in DIMENSIONS if d in check.dimensions()]
    rows: list[tuple[str, object, str]] = []  # (dimension, value, label)
    for dim in dims:
        values = dimension_values(check.specifications, dim)
        for value in values:
            if dim == "missing_upload" and value == NOT_APPLICABLE:
                continue
            rows.append((dim, value, choice_label(dim, value, lang)))
    y_of = {(d, _key(v)): i for i, (d, v, _) in enumerate(rows)}
    y_pos = -np.arange(len(rows), dtype=np.float64)
    group_gap = 0.6
    offset = 0.0
    prev = None
    for i, (dim, _, _) in enumerate(rows):
        if prev is not None and dim != prev:
            offset += group_gap
        y_pos[i] = -(i + offset)
        prev = dim
    for dim in dims:
        keys = _keys(table, dim)
        ys = np.array([y_pos[y_of[(dim, k)]] if (dim, k) in y_of else np.nan for k in keys])
        ok = np.isfinite(ys)
        panel.scatter(
            x[ok & ~holds], ys[ok & ~holds], s=size * 0.55, color="#555555", linewidths=0, zorder=3
        )
        panel.scatter(
            x[ok & holds], ys[ok & holds], s=size * 0.7, color=HOLDS, linewidths=0, zorder=4
        )
        members = [i for i, (d, _, _) in enumerate(rows) if d == dim]
        y_top, y_bottom = y_pos[members[0]] + 0.5, y_pos[members[-1]] - 0.5
        if dims.index(dim) % 2 == 0:
            panel.axhspan(y_bottom, y_top, color="#f3f3f3", linewidth=0, zorder=0)
        panel.text(
            1.01,
            (y_top + y_bottom) / 2,
            _text("groups", lang)[dim],
            transform=panel.get_yaxis_transform(),
            ha="left",
            va="center",
            fontsize=SIZE["tick"] - 2,
            color=GREY,
            clip_on=False,
        )
    panel.set_yticks(y_pos, [label for _, _, label in rows])
    panel.tick_params(axis="y", labelsize=SIZE["tick"] - 2, colors=INK, length=0)
    panel.set_ylim(float(y_pos.min()) - 0.7, 0.7)
    panel.set_xlim(ax.get_xlim())
    panel.set_xticks([])
    panel.set_xlabel(_text("specs_axis", lang).format(n=n), fontsize=SIZE["tick"] - 1, color=GREY)
    for side in ("top", "right", "left", "bottom"):
        panel.spines[side].set_visible(False)

    handles: list[Any] = [
        Patch(facecolor=BAND, edgecolor="none"),
        Line2D([], [], marker="o", color=HOLDS, linestyle="", markersize=8),
        Line2D([], [], marker="o", color=FAILS, linestyle="", markersize=7),
        Line2D([], [], color="#555555", linewidth=1.0),
    ]
    labels = [
        _text("band", lang).format(band=claim.band_text(lang)),
        _text("holds", lang),
        _text("fails", lang),
        _text("interval", lang),
    ]
    statement = claim.text(lang)
    subtitle = _text("curve_subtitle", lang).format(
        claim=(f"»{statement}«" if lang == "da" else f"“{statement}”")
        if statement
        else claim.band_text(lang),
        k=check.holding,
        n=check.total,
        area=check.area_name + _partial_note(check, lang),
    )
    if slide_mode:
        slide = _Slide(fig)
        slide.title(_text("curve_title", lang), subtitle)
        slide.footer(_claim_footer(check, lang))
        slide.legend_row(handles, labels)
        _fit_stack(slide, ax, panel, slide.content(), share=0.5)
    else:
        box = ax.get_position()
        split = box.y0 + 0.5 * box.height
        ax.set_position((box.x0, split, box.width, box.y1 - split))
        panel.set_position((box.x0, box.y0, box.width, 0.45 * box.height))
        ax.set_title(_text("curve_title", lang), fontsize=SIZE["subtitle"], loc="left")
        ax.legend(handles, labels, loc="upper left", frameon=False, fontsize=SIZE["legend"] - 3)
    return ax


def _partial_note(check: ClaimCheck, lang: str) -> str:
    """Say that the area's shares cover only the municipalities with data, when they do."""
    rows = check.municipalities
    if rows.empty or S.MUNICIPALITY_CODE not in rows:
        return ""
    total = int(rows[S.MUNICIPALITY_CODE].nunique())
    with_data = rows[rows["households"] > 0].groupby("specification")[S.MUNICIPALITY_CODE]
    counts = with_data.nunique()
    most = int(counts.max()) if len(counts) else 0
    if most >= total:
        return ""
    return _text("curve_partial", lang).format(n=most, k=total)


def _key(value: object) -> object:
    return value if not isinstance(value, float) else round(value, 9)


def _keys(table: pd.DataFrame, dim: str) -> list[object]:
    if dim == "fixed":
        return [
            (float(d), None if pd.isna(u) else float(u))
            for d, u in zip(table["fixed_down_mbps"], table["fixed_up_mbps"], strict=True)
        ]
    if dim == "mobile_min_dbm":
        return [None if pd.isna(v) else _key(float(v)) for v in table[dim]]
    return [str(v) for v in table[dim]]


# --- the change between two vintages ----------------------------------------------------


def _change_provenance(table: pd.DataFrame) -> tuple[Provenance | None, Provenance | None]:
    return table.attrs.get("old_provenance"), table.attrs.get("provenance")


def _years(table: pd.DataFrame) -> tuple[str, str]:
    row = table.iloc[-1]
    return str(row["old_data_year"]), str(row["new_data_year"])


def _change_footer(table: pd.DataFrame, lang: str) -> str:
    old, new = _change_provenance(table)
    old_year, new_year = _years(table)
    unit = _units(str(table["denominator"].iloc[0]), lang)
    parts = []
    if old is not None and new is not None:
        if old.standard == new.standard:
            parts.append(f"{_t('definition', lang)} {definition_text(new.standard, lang)}")
        else:
            parts.append(
                f"{_t('definition', lang)} {old_year}: {definition_text(old.standard, lang)}; "
                f"{new_year}: {definition_text(new.standard, lang)}"
            )
    else:
        parts.append(f"{_t('definition', lang)}: {table['new_service_standard'].iloc[0]}")
    sources = "; ".join(
        dict.fromkeys([str(table["old_source"].iloc[0]), str(table["new_source"].iloc[0])])
    )
    parts += [
        f"{_t('denominator', lang)}: {unit}",
        f"{_t('data', lang)}: {old_year} → {new_year}",
        f"{_t('source', lang)}: {sources}",
    ]
    return " · ".join(parts)


def _change_subtitle(table: pd.DataFrame, row: pd.Series, lang: str) -> str:
    new = _change_provenance(table)[1]
    net = float(row["net_change_households"])
    before = float(row["old_underserved_households"])
    pct = format_percent(net / before, lang) if before > 0 else "–"
    if pct != "–" and net > 0:
        pct = "+" + pct
    pct = pct.replace("-", "−")
    text = _text("net_subtitle", lang).format(net=_signed(net, lang), pct=pct)
    if new is not None:
        text = f"{_upper_first(standard_phrase(new.standard, lang))} · {text}"
    return text


def plot_change_waterfall(
    table: pd.DataFrame,
    *,
    municipality: str = S.REGION_CODE,
    ax: Axes | None = None,
    lang: str = "en",
) -> Axes:
    """Draw the change of the under-served count as a waterfall, for the region or one municipality.

    Bars: the old year's under-served households, minus those that became served, plus
    those that became under-served, plus the added, minus the removed, and the new year's
    (which the steps reach exactly).

    Parameters
    ----------
    table
        The per-municipality change table
        (:attr:`coverage_gap.changes.VintageChange.municipalities`).
    municipality
        ``"region"`` (default) or a municipality code.

    Examples
    --------
    >>> from coverage_gap.changes import compare_vintages
    >>> from coverage_gap.datasets import make_demo_results
    >>> r = make_demo_results(scale=0.01)
    >>> change = compare_vintages(r.households, r.households, r.boundaries,
    ...                           old_provenance=r.provenance, new_provenance=r.provenance)
    >>> len(plot_change_waterfall(change.municipalities).patches)
    6
    """
    ax, slide_mode = _axes(ax)
    row = table.loc[municipality]
    old_year, new_year = _years(table)
    unit = _units(str(table["denominator"].iloc[0]), lang)
    flows = _text("flows", lang)
    steps = [
        ("old", float(row["old_underserved_households"])),
        ("became_served_households", -float(row["became_served_households"])),
        ("became_underserved_households", float(row["became_underserved_households"])),
        ("added_underserved_households", float(row["added_underserved_households"])),
        ("removed_underserved_households", -float(row["removed_underserved_households"])),
        ("new", float(row["new_underserved_households"])),
    ]
    level = 0.0
    bottoms, heights = [], []
    for key, value in steps:
        if key in ("old", "new"):
            bottoms.append(0.0)
            heights.append(value)
            level = value
        else:
            bottoms.append(min(level, level + value))
            heights.append(abs(value))
            level += value
    x = np.arange(len(steps), dtype=np.float64)
    colours = [FLOW_COLOURS[key] for key, _ in steps]
    ax.bar(x, heights, bottom=bottoms, color=colours, width=0.62, zorder=2)
    tops = np.asarray(bottoms) + np.asarray(heights)
    running = [steps[0][1]]
    for _, value in steps[1:-1]:
        running.append(running[-1] + value)
    for i, level_i in enumerate(running):
        ax.plot(
            [x[i] + 0.31, x[i + 1] - 0.31],
            [level_i, level_i],
            color="#888888",
            linewidth=0.9,
            linestyle=":",
            zorder=1,
        )
    top = float(max(tops.max(), 1.0)) * 1.14
    ax.set_ylim(0, top)
    for xi, (key, value), t in zip(x, steps, tops, strict=True):
        label = format_number(value, lang) if key in ("old", "new") else _signed(value, lang)
        ax.text(
            xi, t + top * 0.015, label, ha="center", va="bottom", fontsize=SIZE["value"], color=INK
        )
    names = [
        old_year,
        *(flows[key] for key, _ in steps[1:-1]),
        new_year,
    ]
    ax.set_xticks(x, [n.replace(" ", "\n", 1) if len(n) > 12 else n for n in names])
    ax.tick_params(axis="x", labelsize=SIZE["tick"], colors=INK, length=0)
    ax.tick_params(axis="y", labelsize=SIZE["tick"], colors=INK)
    _number_axis(ax.yaxis, lang, 1.0)
    ax.set_ylabel(_text("count_axis", lang).format(unit=unit), fontsize=SIZE["label"])
    ax.grid(axis="y", color="#eeeeee", linewidth=0.8, zorder=0)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    area = str(row[S.MUNICIPALITY_NAME])
    title = _text("waterfall_title", lang).format(unit=unit, old=old_year, new=new_year, area=area)
    if slide_mode:
        slide = _Slide(root_figure(ax))
        slide.title(title, _change_subtitle(table, row, lang))
        slide.footer(_change_footer(table, lang))
        slide.fit_axes(ax)
    else:
        ax.set_title(title, fontsize=SIZE["subtitle"], loc="left")
    return ax


def plot_change_by_municipality(
    table: pd.DataFrame, *, ax: Axes | None = None, lang: str = "en"
) -> Axes:
    """Draw each municipality's flows as bars diverging from 0, with the net change.

    To the left what left the under-served count (became served, removed), to the right
    what entered it (became under-served, added); a diamond marks the net change, whose
    value stands in a column beside the bars. Largest decrease at the top.

    Examples
    --------
    >>> from coverage_gap.changes import compare_vintages
    >>> from coverage_gap.datasets import make_demo_results
    >>> r = make_demo_results(scale=0.01)
    >>> change = compare_vintages(r.households, r.households, r.boundaries,
    ...                           old_provenance=r.provenance, new_provenance=r.provenance)
    >>> len(plot_change_by_municipality(change.municipalities).get_yticklabels())
    17
    """
    ax, slide_mode = _axes(ax)
    rows = table[table.index != S.REGION_CODE]
    order = rows.assign(_name=rows[S.MUNICIPALITY_NAME].astype(str)).sort_values(
        ["net_change_households", "_name"], kind="stable"
    )
    y = np.arange(len(order), dtype=np.float64)
    old_year, new_year = _years(table)
    unit = _units(str(table["denominator"].iloc[0]), lang)
    flows = _text("flows", lang)
    handles: list[Any] = []
    labels: list[str] = []
    for side, keys in (
        (-1, ("became_served_households", "removed_underserved_households")),
        (1, ("became_underserved_households", "added_underserved_households")),
    ):
        start = np.zeros(len(order))
        for key in keys:
            width = order[key].to_numpy(np.float64) * side
            ax.barh(y, width, left=start, color=FLOW_COLOURS[key], height=0.66, zorder=2)
            start += width
            handles.append(Patch(facecolor=FLOW_COLOURS[key]))
            labels.append(flows[key])
    net = order["net_change_households"].to_numpy(np.float64)
    ax.scatter(net, y, marker="D", s=36, color=INK, zorder=4, linewidths=0)
    handles.append(Line2D([], [], marker="D", color=INK, linestyle="", markersize=6))
    labels.append(_text("net", lang))
    ax.axvline(0, color="#444444", linewidth=0.9, zorder=3)
    left = -float(
        (order["became_served_households"] + order["removed_underserved_households"]).max()
    )
    right = float(
        (order["became_underserved_households"] + order["added_underserved_households"]).max()
    )
    span = max(right - left, 1.0)
    ax.set_xlim(min(left, 0) - 0.04 * span, max(right, 0) + 0.04 * span)
    ax.set_yticks(y, order[S.MUNICIPALITY_NAME].astype(str).tolist())
    ax.set_ylim(len(order) - 0.4, -0.6)
    ax.tick_params(labelsize=SIZE["tick"], colors=INK)
    _number_axis(ax.xaxis, lang, 1.0)
    ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: _signed(v, lang) if v else "0"))
    ax.grid(axis="x", color="#eeeeee", linewidth=0.8, zorder=0)
    for side_name in ("top", "right"):
        ax.spines[side_name].set_visible(False)
    _value_column(ax, list(y), [_signed(v, lang) for v in net], [INK] * len(net))
    ax.set_xlabel(_text("change_axis", lang).format(unit=unit), fontsize=SIZE["label"])
    title = _text("by_title", lang).format(unit=unit, old=old_year, new=new_year)
    if slide_mode:
        slide = _Slide(root_figure(ax))
        region = table.loc[S.REGION_CODE] if S.REGION_CODE in table.index else table.iloc[-1]
        slide.title(
            title, f"{region[S.MUNICIPALITY_NAME]} · " + _change_subtitle(table, region, lang)
        )
        slide.footer(_change_footer(table, lang))
        slide.legend_row(handles, labels)
        slide.fit_axes(ax)
    else:
        ax.set_title(title, fontsize=SIZE["subtitle"], loc="left")
        ax.legend(handles, labels, loc="lower right", frameon=False, fontsize=SIZE["legend"] - 3)
    return ax


def change_summary(row: pd.Series, lang: str = "en", *, denominator: str = "households") -> str:
    """Two lines on one municipality's change, for its fact sheet.

    Examples
    --------
    >>> row = pd.Series({"old_data_year": "2025", "new_data_year": "2026",
    ...                  "net_change_households": -12, "became_served_households": 15,
    ...                  "became_underserved_households": 1, "added_underserved_households": 2,
    ...                  "removed_underserved_households": 0})
    >>> print(change_summary(row, "da"))
    2025 → 2026: −12 underforsynede husstande
    15 blev forsynet, 1 blev underforsynet, 2 tilføjet, 0 fjernet
    """
    unit = _units(denominator, lang)
    first = _text("sheet_change", lang).format(
        old=row["old_data_year"],
        new=row["new_data_year"],
        net=_signed(float(row["net_change_households"]), lang),
        unit=unit,
    )
    second = _text("sheet_flows", lang).format(
        bs=format_number(float(row["became_served_households"]), lang),
        bu=format_number(float(row["became_underserved_households"]), lang),
        a=format_number(float(row["added_underserved_households"]), lang),
        r=format_number(float(row["removed_underserved_households"]), lang),
    )
    return f"{first}\n{second}"


def change_footer(row: pd.Series, lang: str = "en", *, source: str | None = None) -> str:
    """Say which years a change compares (and the old year's source when it differs).

    Examples
    --------
    >>> row = pd.Series({"old_data_year": "2025", "new_data_year": "2026",
    ...                  "old_source": "BBK 2025"})
    >>> change_footer(row, "da", source="BBK 2026")
    'Ændring: 2025 → 2026, kilde 2025: BBK 2025'
    """
    old, new = row["old_data_year"], row["new_data_year"]
    text = _text("sheet_footer", lang).format(old=old, new=new)
    old_source = str(row.get("old_source", "") or "")
    if old_source and old_source != source:
        text += ", " + _text("sheet_source", lang).format(old=old, source=old_source)
    return text
