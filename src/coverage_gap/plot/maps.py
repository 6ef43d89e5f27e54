"""Maps of a municipality table and of households: the share map and the hotspot map.

Labels placed without overlap, a scale bar, no-data municipalities grey and hatched,
the legend and notes in a panel beside the map (see :mod:`.style`).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import matplotlib as mpl
import numpy as np
import pandas as pd
import shapely
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle
from matplotlib.transforms import Bbox

from .. import schema as S
from ..standards import Provenance
from .style import (
    GREY,
    INK,
    NO_DATA,
    NO_DATA_HATCH,
    SEQUENTIAL,
    SIZE,
    SMALL_COUNT,
    _area,
    _axes,
    _municipal_rows,
    _provenance,
    _say,
    _shortest_decimals,
    _Slide,
    _status,
    _title_phrase,
    _unit,
    _wrap,
    add_footer,
    class_labels,
    footer_text,
    format_number,
    format_percent,
    nice_breaks,
    root_figure,
)

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


#: Largest share of a label's box allowed on a neighbour's land without a leader line.
NEIGHBOUR_SHARE = 0.2
#: Shortest leader line (inches) for a label that sits on a neighbour's land.
LEADER_MIN = 0.12
#: ``gid`` of the leader lines drawn by the map labels (tests find them by it).
LEADER_GID = "map-label-leader"


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
        foreign = np.maximum(over - own, 0.0)
        # A reader matches a label to the fill under it: a box mostly on a neighbour's
        # land must be tied to its own polygon by a leader line long enough to see.
        on_neighbour = foreign > NEIGHBOUR_SHARE
        needs = (reach >= 3) | on_neighbour
        allowed = ~on_neighbour | (reach >= LEADER_MIN * dpi)
        cost = (
            4.0 * foreign  # on a neighbour's land
            + 1.5 * reach / dpi
            + 0.4 * needs
            + 0.2 * (1 - own) * (1 - over)  # over the sea: cheap, not free
        )
        cost = np.where(allowed, cost, np.inf)
        chosen = None
        for k in np.argsort(cost, kind="stable"):
            if not np.isfinite(cost[k]):
                break
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
                gid=LEADER_GID,
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


def _side_legend(ax: Axes, handles: Sequence[Any], names: Sequence[str], title: str) -> None:
    """Put a map's legend beside it, outside the axes (a map drawn on a caller's Axes)."""
    ax.legend(
        handles=handles,
        labels=names,
        loc="upper left",
        bbox_to_anchor=(1.0, 1.0),
        frameon=False,
        title=title,
        fontsize=SIZE["legend"] - 2,
        title_fontsize=SIZE["legend"] - 2,
    )


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
        slide = _Slide(root_figure(ax))
        slide.title(title, _coverage_subtitle(table, provenance, lang, min_households))
        slide.footer(footer_text(provenance, lang) if provenance else None)
        panel_w = max(
            _legend_width(root_figure(ax), handles, names, legend_title), 0.27 * slide.width
        )
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
        _area(table.loc[S.REGION_CODE, S.MUNICIPALITY_NAME], provenance, lang)
        if S.REGION_CODE in table.index
        else ""
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
        area=_area(region[S.MUNICIPALITY_NAME], provenance, lang),
        count=format_number(float(region["underserved_households"]), lang),
        total=format_number(float(region["households"]), lang),
        unit=_unit(provenance, lang, one=float(region["households"]) == 1),
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
    *,
    scale_top: float | None = None,
) -> tuple[list[Any], list[str], float, int, Any]:
    """Draw the counts per cell; ``scale_top`` fixes the classes and their colours.

    With ``scale_top`` (e.g. the region's largest cell) every map drawn with the same
    value gives a class the same colour, whatever its own largest cell; the legend
    lists the classes up to this map's largest cell.
    """
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
        edges = _count_classes(max(top, scale_top or 0.0))
        k = len(edges) - 1
        colours = [mpl.colormaps["YlOrRd"](0.2 + 0.8 * i / max(k - 1, 1)) for i in range(k)]
        cmap = ListedColormap(colours)
        norm = BoundaryNorm(edges, k, clip=True)
        # the legend stops at the class of this map's largest cell
        shown = int(np.searchsorted(edges, top, side="right"))
        ax.imshow(
            np.ma.masked_less(counts, 0.5),
            extent=extent,
            cmap=cmap,
            norm=norm,
            interpolation="nearest",
            zorder=1,
        )
        handles = [Patch(facecolor=c, edgecolor="#999999", linewidth=0.5) for c in colours[:shown]]
        names = _count_labels(edges, lang)[:shown]
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
        slide = _Slide(root_figure(ax))
        slide.title(title, _coverage_subtitle_from(classified, boundaries, provenance, lang))
        slide.footer(footer_text(provenance, lang) if provenance else None)
        panel_w = max(
            _legend_width(root_figure(ax), handles, names, legend_title) if handles else 0,
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
            _side_legend(ax, handles, names, legend_title)
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
    parts = [provenance.area(lang)] if provenance is not None else []
    parts += [str(year)] if year is not None else []
    if n < k:
        parts.append(
            f"data i {n} af {k} kommuner" if lang == "da" else f"data for {n} of {k} municipalities"
        )
    return " · ".join(parts)
