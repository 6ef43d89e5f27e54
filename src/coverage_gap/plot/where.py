"""Maps for where to act: DDKN grid cells, the broadband pool, mast sites.

Three maps in the house style of :mod:`coverage_gap.plot` (a slide with title, legend and
notes beside the map, the definition in the footer, Danish or English), each drawn
from a result of the library, never recomputed here:

- :func:`plot_area_cells`: under-served households per DDKN cell, from a table of
  :func:`coverage_gap.areas.summarize_areas`. Cells the table marks ``small_count``
  are grey and their counts stay off the map (whether the table flags or suppresses
  them); the cells with the most under-served households are ringed and numbered.
- :func:`plot_pool`: addresses eligible for Bredbåndspuljen under one or two rule sets
  (:func:`coverage_gap.danish.assess_pool`): eligible under both, only under the newer
  or only under the older rules; addresses whose zone or town size is unknown are
  drawn as *undetermined*, never as eligible or not; the largest clusters (possible
  projects) are outlined and numbered.
- :func:`plot_sites`: the chosen mast sites (:func:`coverage_gap.siting.choose_sites`)
  with their rank, their reach, existing sites, and the demand households within and
  out of reach; how far the choice can be from the best one is said beside the map.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import matplotlib as mpl
import numpy as np
import pandas as pd
import shapely
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.patches import Circle, Patch
from matplotlib.transforms import Bbox

from .. import schema as S
from ..areas import MIN_HOUSEHOLDS, ddkn_cells
from ..errors import PlotError
from ..standards import Provenance
from .maps import (
    _anchor,
    _count_classes,
    _count_labels,
    _coverage_subtitle_from,
    _largest_part,
    _legend_width,
    _map_frame,
    _panel_legend,
    _panel_texts,
    _place_labels,
    _scale_bar,
    _side_legend,
)
from .style import (
    CATEGORICAL,
    GREY,
    INK,
    NO_DATA,
    NO_DATA_HATCH,
    SIZE,
    TEXT,
    UNITS,
    _axes,
    _denominator,
    _say,
    _Slide,
    _title_phrase,
    footer_text,
    format_number,
    format_percent,
    root_figure,
)

if TYPE_CHECKING:
    from ..danish.pool import PoolResult, PoolRuleSet
    from ..siting import SitingBounds, SitingResult

_WORDS = {
    "en": {
        "cells_title": "{Unit} {phrase}, per {size} cell",
        "cells_grid": "DDKN grid cells (Det Danske Kvadratnet)",
        "cells_legend": "Under-served {unit} per cell",
        "cells_zero": "0 (none under-served)",
        "cells_small": "Fewer than {n} {unit}:\ncount not shown",
        "cells_total": "{count} under-served {unit} in {cells} of the {all} cells with {unit}.",
        "cells_small_note": (
            "{small} cells have fewer than {n} {unit} (grey): their counts stay off the map"
            "{blanked}."
        ),
        "cells_blanked": " and are blanked in the table",
        "cells_top": "Cells with the most under-served {unit}:",
        "cells_top_line": "{n}  {where} ({cell}): {count}",
        "pool_title": "Broadband pool: addresses that could get support under {rules}",
        "pool_rules_one": "the {a} rules",
        "pool_rules_two": "the {a} and {b} rules",
        "pool_legend": "Addresses",
        "pool_both": "Eligible under {a} and {b}",
        "pool_only_b": "Eligible only under {b} (new)",
        "pool_only_a": "Eligible only under {a} (leaves)",
        "pool_one": "Eligible under {a}",
        "pool_undetermined": "Undetermined: zone or town size unknown",
        "pool_undetermined_two": "Undetermined under {a} or {b}: zone or town size unknown",
        "pool_cluster": "Largest clusters under {b} (possible projects)",
        "pool_counts": "{rule}: {eligible} eligible addresses ({households}), {clusters} clusters",
        "pool_counts_undetermined": "; {n} undetermined",
        "pool_no_zone": (
            "The data hold no zone: {n} addresses meet the speed condition but may lie in "
            "byzone (grey). Eligible is a lower bound, eligible + undetermined an upper bound."
        ),
        "pool_some_unknown": (
            "{n} addresses meet the speed condition but their zone or town size is unknown "
            "(grey): eligible is a lower bound."
        ),
        "pool_no_mobile": (
            "No mobile speeds in the data: the mobile condition of {rule} (< {mbps} Mbit/s) "
            "excludes nobody."
        ),
        "pool_top": "Largest clusters under {b}:",
        "pool_cluster_line": "{n}: {addresses}, {households}, {name}",
        "pool_none": "No address is eligible under {rule}.",
        "pool_cluster_rule": "Clusters: eligible addresses at most {d} m apart in a chain "
        "(a planning assumption)",
        "pool_not_assessed": "no planned upgrade within 3 years: not in the data, not assessed",
        "pool_unit": "addresses (the pool's unit); {unit} in the tables",
        "sites_title_one": "Where one new mast reaches the most {unit} {phrase}",
        "sites_title": "Where {k} new masts reach the most {unit} {phrase}",
        "sites_new": "New site (its rank)",
        "sites_existing": "Existing site",
        "sites_reach": "Reach: {radius} around a site",
        "sites_covered": "Under-served {unit} within reach",
        "sites_uncovered": "Under-served {unit} out of reach",
        "sites_caption": "{covered} of {demand} under-served {unit} within reach of the new "
        "sites{existing}",
        "sites_caption_existing": " (existing sites: {n})",
        "sites_bound": "Greedy choice among {candidates} candidate sites. The best {k} sites "
        "could reach at most {upper} {unit} ({how}): this choice reaches at least {share} of "
        "the best.",
        "sites_how_lp": "LP bound",
        "sites_how_exact": "exact optimum",
        "sites_how_online": "bound from the greedy steps",
        "sites_how_guarantee": "the 1 − 1/e guarantee",
        "sites_how_milp": "bound of the integer programme",
        "sites_title_none": "No new mast site: no {unit} {phrase} within reach of a candidate",
        "sites_gains": "Added per site: {gains}",
        "sites_unreachable": "{n} under-served {unit} are out of reach of every candidate.",
        "sites_footer": "Reach: {unit} within {radius} of a site (a planning assumption); "
        "greedy maximal covering",
        "sites_footer_sets": "Reach: given coverage sets per site; greedy maximal covering",
    },
    "da": {
        "cells_title": "{Unit} {phrase}, pr. celle på {size}",
        "cells_grid": "DDKN-celler (Det Danske Kvadratnet)",
        "cells_legend": "Underforsynede {unit} pr. celle",
        "cells_zero": "0 (ingen underforsynede)",
        "cells_small": "Færre end {n} {unit}:\nantal ikke vist",
        "cells_total": "{count} underforsynede {unit} i {cells} af de {all} celler med {unit}.",
        "cells_small_note": (
            "{small} celler har færre end {n} {unit} (grå): deres antal holdes ude af kortet"
            "{blanked}."
        ),
        "cells_blanked": " og er blanket i tabellen",
        "cells_top": "Celler med flest underforsynede {unit}:",
        "cells_top_line": "{n}  {where} ({cell}): {count}",
        "pool_title": "Bredbåndspuljen: adresser, der kan få støtte efter {rules}",
        "pool_rules_one": "{a}-reglerne",
        "pool_rules_two": "{a}- og {b}-reglerne",
        "pool_legend": "Adresser",
        "pool_both": "Støtteberettiget efter {a} og {b}",
        "pool_only_b": "Kun støtteberettiget efter {b} (ny)",
        "pool_only_a": "Kun støtteberettiget efter {a} (falder ud)",
        "pool_one": "Støtteberettiget efter {a}",
        "pool_undetermined": "Uafklaret: zone eller byens størrelse ukendt",
        "pool_undetermined_two": "Uafklaret efter {a} eller {b}: zone eller byens størrelse ukendt",
        "pool_cluster": "Største klynger efter {b} (mulige projekter)",
        "pool_counts": "{rule}: {eligible} støtteberettigede adresser ({households}), "
        "{clusters} klynger",
        "pool_counts_undetermined": "; {n} uafklarede",
        "pool_no_zone": (
            "Data har ingen zone: {n} adresser opfylder hastighedskravet, men kan ligge i "
            "byzone (grå). Støtteberettigede er en nedre grænse, støtteberettigede + "
            "uafklarede en øvre."
        ),
        "pool_some_unknown": (
            "{n} adresser opfylder hastighedskravet, men deres zone eller byens størrelse er "
            "ukendt (grå): støtteberettigede er en nedre grænse."
        ),
        "pool_no_mobile": (
            "Ingen mobilhastigheder i data: {rule}-reglens mobilkrav (< {mbps} Mbit/s) "
            "udelukker ingen."
        ),
        "pool_top": "Største klynger efter {b}:",
        "pool_cluster_line": "{n}: {addresses}, {households}, {name}",
        "pool_none": "Ingen adresse er støtteberettiget efter {rule}.",
        "pool_cluster_rule": "Klynger: støtteberettigede adresser højst {d} m fra hinanden i "
        "en kæde (en planlægningsantagelse)",
        "pool_not_assessed": "ingen planlagt opgradering inden for 3 år: ikke i data, ikke "
        "vurderet",
        "pool_unit": "adresser (puljens enhed); {unit} i tabellerne",
        "sites_title_one": "Hvor én ny mast når flest {unit} {phrase}",
        "sites_title": "Hvor {k} nye master når flest {unit} {phrase}",
        "sites_new": "Ny placering (dens rang)",
        "sites_existing": "Eksisterende mast",
        "sites_reach": "Rækkevidde: {radius} om en placering",
        "sites_covered": "Underforsynede {unit} inden for rækkevidde",
        "sites_uncovered": "Underforsynede {unit} uden for rækkevidde",
        "sites_caption": "{covered} af {demand} underforsynede {unit} inden for rækkevidde af "
        "de nye placeringer{existing}",
        "sites_caption_existing": " (eksisterende master: {n})",
        "sites_bound": "Grådigt valg blandt {candidates} mulige placeringer. De bedste {k} "
        "placeringer kunne højst nå {upper} {unit} ({how}): dette valg når mindst {share} af "
        "det bedste.",
        "sites_how_lp": "LP-grænse",
        "sites_how_exact": "eksakt optimum",
        "sites_how_online": "grænse fra de grådige skridt",
        "sites_how_guarantee": "garantien 1 − 1/e",
        "sites_how_milp": "heltalsprogrammets grænse",
        "sites_title_none": "Ingen ny mastplacering: ingen {unit} {phrase} inden for rækkevidde "
        "af en mulig placering",
        "sites_gains": "Nye pr. placering: {gains}",
        "sites_unreachable": "{n} underforsynede {unit} er uden for rækkevidde af alle "
        "mulige placeringer.",
        "sites_footer": "Rækkevidde: {unit} inden for {radius} af en placering (en "
        "planlægningsantagelse); grådig maksimal dækning",
        "sites_footer_sets": "Rækkevidde: givne dækningsmængder pr. placering; grådig maksimal "
        "dækning",
    },
}


def _join_the_house_words() -> None:
    """Add the words of these maps to the house's table, so that ``_say`` finds them."""
    for lang, words in _WORDS.items():
        assert not set(words) & set(TEXT[lang]), "a word of plot.where is already in TEXT"
        TEXT[lang].update(words)


_join_the_house_words()

LAND = "#f3f3f3"
ZERO = "#d7e3ec"  # cells with households, none under-served
SMALL = "#a9a9a9"  # cells with too few households to show their count


def _pool_colour(group: str) -> str:
    """Colour of a group of addresses on the pool map (Okabe-Ito; undetermined grey)."""
    palette = {"both": 0, "only_b": 1, "only_a": 3}
    return CATEGORICAL[palette[group]] if group in palette else GREY


def _count(n: float, unit: str, lang: str) -> str:
    """``"1 address"``, ``"12 addresses"``, ``"1 husstand"``."""
    plural, one = UNITS[unit][lang == "da"]
    return f"{format_number(float(n), lang)} {one if n == 1 else plural}"


def _distance(metres: float, lang: str) -> str:
    if metres >= 1000:
        km = metres / 1000
        return f"{format_number(km, lang, 0 if km == round(km) else 1)} km"
    return f"{format_number(metres, lang)} m"


def _size_words(size: str, lang: str) -> str:
    """``"1km"`` → ``"1 km"``, ``"250m"`` → ``"250 m"``."""
    number = size.rstrip("km")
    return f"{number} {size[len(number) :]}"


def _base_map(ax: Axes, boundaries: gpd.GeoDataFrame, no_data: Sequence[str]) -> Any:
    """Municipality outlines under the data (no-data municipalities hatched); the land."""
    layer = boundaries.set_index(S.MUNICIPALITY_CODE)
    missing = layer.index.isin(list(no_data))
    geoms = layer.geometry
    if (~missing).any():
        geoms[~missing].plot(ax=ax, color=LAND, linewidth=0, zorder=0)
    if missing.any():
        geoms[missing].plot(
            ax=ax, facecolor=NO_DATA, edgecolor=NO_DATA_HATCH, hatch="///", linewidth=0, zorder=0
        )
    geoms.boundary.plot(ax=ax, color="#555555", linewidth=0.7, zorder=2)
    ax.set_axis_off()
    return shapely.union_all(geoms.array)


def _present(boundaries: gpd.GeoDataFrame, no_data: Sequence[str]) -> pd.DataFrame:
    """Return a stand-in table of the municipalities with data (for the subtitle)."""
    codes = [c for c in boundaries[S.MUNICIPALITY_CODE] if c not in set(no_data)]
    return pd.DataFrame({S.MUNICIPALITY_CODE: codes})


RING_PT = 13.0
"""Diameter (points) of the ring around a numbered cell or cluster."""


def floor_percent(share: float, lang: str = "en") -> str:
    """Write a proven lower bound as a percentage, never rounded up.

    Whole percent, floored; from 99 % on, one decimal (floored) or as many as it takes
    to stay below 100 % for a share below 1: 819 of 820 is "99,8 %", never "100 %".

    Examples
    --------
    >>> floor_percent(819 / 820, "da"), floor_percent(0.847, "en"), floor_percent(1.0, "en")
    ('99,8 %', '84%', '100%')
    >>> floor_percent(0.99996, "en")
    '99.9%'
    """
    value = 100 * float(share)
    if share >= 1:
        return format_percent(1.0, lang, 0)
    for decimals in range(0 if value < 99 else 1, 5):
        scale = 10**decimals
        # round first, so that 57 % stored as 0.56999999 is not floored to 56
        floored = np.floor(round(value * scale, 6)) / scale
        if floored < 100:
            return format_percent(floored / 100, lang, decimals)
    return format_percent(floored / 100, lang, 4)


def _ring_groups(points_px: np.ndarray, radius_px: float) -> list[list[int]]:
    """Group marks whose rings would overlap (single linkage on the ring diameter)."""
    groups: list[list[int]] = []
    for i, point in enumerate(points_px):
        near = [
            g for g in groups if any(np.hypot(*(points_px[j] - point)) < 2.2 * radius_px for j in g)
        ]
        merged = [i] + [j for g in near for j in g]
        groups = [g for g in groups if g not in near] + [sorted(merged)]
    return sorted(groups, key=lambda g: g[0])


def _draw_rings(
    ax: Axes, rings: Sequence[tuple[str, float, float]], obstacles: list[Bbox]
) -> list[Bbox]:
    """Ring each mark and write its number beside the ring, the same way for every mark.

    Marks whose rings would overlap at the map's scale share one ring, numbered
    "2, 3". The number goes right of the ring where that is free, else left, above,
    below or diagonally; never inside the ring and never with a leader line. Returns the
    boxes (pixels) of the rings and numbers, for the names to keep off.
    """
    if not rings:
        return []
    dpi = ax.figure.dpi
    radius = RING_PT / 2 * dpi / 72
    centres = ax.transData.transform(np.array([(x, y) for _, x, y in rings], dtype=float))
    groups = _ring_groups(centres, radius)
    axes_box = ax.get_window_extent()
    effects = [patheffects.withStroke(linewidth=3, foreground="white")]
    drawn: list[tuple[np.ndarray, float, str]] = []
    for group in groups:
        pts = centres[group]
        centre = pts.mean(axis=0)
        r = radius + float(np.hypot(*(pts - centre).T).max())
        drawn.append((centre, r, ", ".join(rings[i][0] for i in group)))
    boxes = [
        Bbox.from_extents(c[0] - r - 2, c[1] - r - 2, c[0] + r + 2, c[1] + r + 2)
        for c, r, _ in drawn
    ]
    placed = list(obstacles) + list(boxes)
    out = list(boxes)
    inverse = ax.transData.inverted()
    for (centre, r, text), ring in zip(drawn, boxes, strict=True):
        size_pt = 2 * r * 72 / dpi
        xy = inverse.transform(centre)
        for colour, width in (("white", 3.2), (INK, 1.4)):
            ax.scatter(
                [xy[0]],
                [xy[1]],
                s=size_pt**2,
                facecolors="none",
                edgecolors=colour,
                linewidths=width,
                zorder=5,
            )
        artist = ax.text(
            float(xy[0]),
            float(xy[1]),
            text,
            ha="center",
            va="center",
            fontsize=SIZE["map_label"],
            fontweight="bold",
            color=INK,
            path_effects=effects,
            zorder=7,
        )
        box = artist.get_window_extent()
        w, h = box.width + 4, box.height + 2
        gap = r + 3
        choice = None
        for dx, dy in (
            (gap + w / 2, 0),
            (-gap - w / 2, 0),
            (0, gap + h / 2),
            (0, -gap - h / 2),
            (0.75 * gap + w / 2, 0.75 * gap + h / 2),
            (-0.75 * gap - w / 2, 0.75 * gap + h / 2),
            (0.75 * gap + w / 2, -0.75 * gap - h / 2),
            (-0.75 * gap - w / 2, -0.75 * gap - h / 2),
        ):
            cx, cy = centre[0] + dx, centre[1] + dy
            cand = Bbox.from_extents(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
            inside = axes_box.contains(cand.x0, cand.y0) and axes_box.contains(cand.x1, cand.y1)
            if inside and not any(cand.overlaps(b) for b in placed if b is not ring):
                choice = cand
                break
        if choice is None:  # nowhere free: right of the ring all the same
            cx, cy = centre[0] + gap + w / 2, centre[1]
            choice = Bbox.from_extents(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
        artist.set_position(
            tuple(inverse.transform(((choice.x0 + choice.x1) / 2, choice.y0 + choice.height / 2)))
        )
        placed.append(choice)
        out.append(choice)
    return out


def _lay_out(
    ax: Axes,
    slide_mode: bool,
    *,
    boundaries: gpd.GeoDataFrame,
    land: Any,
    title: str,
    subtitle: str,
    footer: str | None,
    handles: list[Any],
    names: list[str],
    legend_title: str,
    blocks: list[tuple[str, dict[str, Any]]],
    labels: list[tuple[str, Any, str]],
    lang: str,
    area_names: list[tuple[str, Any, str]] | None = None,
    keep_clear: Sequence[tuple[float, float]] = (),
    rings: Sequence[tuple[str, float, float]] = (),
) -> None:
    """Lay out a map slide (legend and notes beside the map), or annotate an own Axes.

    ``rings`` (numbered marks: the top cells, the largest clusters) are ringed and
    numbered beside their ring (:func:`_draw_rings`); ``labels`` (the numbers of the
    sites) are placed with leader lines where they do not fit; the municipality names
    (``area_names``) are written afterwards where they are free (see
    :func:`_place_names`): off the numbers, rings and leader lines and off the marks at
    ``keep_clear`` (data coordinates).
    """
    obstacles: list[Bbox] = []
    if slide_mode:
        slide = _Slide(root_figure(ax))
        slide.title(title, subtitle)
        slide.footer(footer)
        panel_w = max(
            _legend_width(root_figure(ax), handles, names, legend_title) if handles else 0.0,
            0.3 * slide.width,
        )
        panel = _map_frame(slide, ax, boundaries.total_bounds, panel_w)
        y = panel.y1
        if handles:
            y = _panel_legend(slide, panel, handles, names, legend_title, y)
        _panel_texts(slide, Bbox.from_extents(panel.x0, panel.y0, panel.x1, y), blocks)
    else:
        ax.set_aspect("equal")
        if handles:
            _side_legend(ax, handles, names, legend_title)
        ax.set_title(title, fontsize=SIZE["subtitle"], loc="left")
        _Slide(root_figure(ax)).footer(footer)
    _scale_bar(ax, land, obstacles, lang)
    obstacles += _draw_rings(ax, rings, obstacles)
    leaders: list[Any] = []
    if labels:
        before, lines_before = len(ax.texts), len(ax.lines)
        _place_labels(ax, labels, land, obstacles)
        obstacles += [t.get_window_extent().padded(2) for t in ax.texts[before:]]
        for line in ax.lines[lines_before:]:
            xy = ax.transData.transform(np.column_stack(line.get_data()).astype(float))
            if len(xy) >= 2:
                leaders.append(shapely.LineString(xy))
    if area_names:
        marks = ax.transData.transform(np.asarray(keep_clear, dtype=float).reshape(-1, 2))
        _place_names(ax, area_names, obstacles, leaders=leaders, marks=marks)


def _place_names(
    ax: Axes,
    names: list[tuple[str, Any, str]],
    obstacles: list[Bbox],
    *,
    leaders: Sequence[Any] = (),
    marks: np.ndarray | None = None,
) -> None:
    """Write area names for orientation, each on its largest part, where it is free.

    A name goes at the centre of its area, or a line above or below it, or a little to
    a side, as long as that point still lies in the area. A name that would cover a
    number, a ring, a leader line (``leaders``, pixels), a mark (``marks``, pixels),
    the scale bar or another name is left out: on these maps the numbers are the
    message and the names only orientation (the share map names every municipality).
    """
    effects = [patheffects.withStroke(linewidth=3, foreground="white")]
    axes_box = ax.get_window_extent()
    placed = list(obstacles)
    marks = np.empty((0, 2)) if marks is None else np.asarray(marks, dtype=float)
    lines = [
        shapely.LineString(line) if not hasattr(line, "geom_type") else line for line in leaders
    ]
    affine = None
    for text, polygon, colour in sorted(names, key=lambda n: -float(shapely.area(n[1]))):
        part = _largest_part(polygon)
        anchor = _anchor(part)
        artist = ax.annotate(
            text,
            anchor,
            ha="center",
            va="center",
            fontsize=SIZE["map_label"],
            color=colour,
            path_effects=effects,
            zorder=7,
            annotation_clip=False,
        )
        box = artist.get_window_extent().padded(2)
        if affine is None:
            affine = ax.transData.inverted()
        ok = None
        for dx, dy in (
            (0, 0),
            (0, box.height),
            (0, -box.height),
            (box.width / 3, 0),
            (-box.width / 3, 0),
        ):
            cand = Bbox.from_extents(box.x0 + dx, box.y0 + dy, box.x1 + dx, box.y1 + dy)
            centre = affine.transform(((cand.x0 + cand.x1) / 2, (cand.y0 + cand.y1) / 2))
            if (dx or dy) and not shapely.contains_xy(part, *centre):
                continue
            inside = (
                cand.x0 >= axes_box.x0
                and cand.x1 <= axes_box.x1
                and cand.y0 >= axes_box.y0
                and cand.y1 <= axes_box.y1
            )
            if not inside or any(cand.overlaps(other) for other in placed):
                continue
            shape = shapely.box(*cand.extents)
            if any(shape.intersects(line) for line in lines):
                continue
            if (
                len(marks)
                and (
                    (marks[:, 0] > cand.x0)
                    & (marks[:, 0] < cand.x1)
                    & (marks[:, 1] > cand.y0)
                    & (marks[:, 1] < cand.y1)
                ).any()
            ):
                continue
            ok = (cand, centre)
            break
        if ok is None:
            artist.remove()
        else:
            cand, centre = ok
            artist.xyann = tuple(centre)
            artist.xy = tuple(centre)
            placed.append(cand)


def _names(boundaries: gpd.GeoDataFrame) -> list[tuple[str, Any, str]]:
    return [
        (str(name), geometry, GREY)
        for name, geometry in zip(boundaries[S.MUNICIPALITY_NAME], boundaries.geometry, strict=True)
    ]


# --- DDKN cells --------------------------------------------------------------------------


def plot_area_cells(
    table: pd.DataFrame,
    boundaries: gpd.GeoDataFrame,
    *,
    ax: Axes | None = None,
    lang: str = "en",
    provenance: Provenance | None = None,
    top: int = 5,
    labels: bool = True,
    no_data: Sequence[str] = (),
    min_households: int = MIN_HOUSEHOLDS,
) -> Axes:
    """Map of under-served households per DDKN cell, as the cell table counts them.

    Cells are coloured by their under-served households in classes (1, 2–4, 5–9, …);
    cells with households but none under-served are pale; cells the table marks
    ``small_count`` (fewer than ``min_households`` of :class:`~coverage_gap.areas.AreaSpec`)
    are grey and their counts are not shown, whether the table flags or suppresses
    them. The ``top`` cells with the most under-served households are ringed and
    numbered, and listed by name beside the map.

    Parameters
    ----------
    table
        Output of :func:`coverage_gap.areas.summarize_areas` on a DDKN grid (indexed by
        ``cell``).
    boundaries
        Municipality polygons (drawn under the cells).
    top
        Number of cells to number (0: none).
    labels
        Write the municipality names and the numbers of the top cells.
    no_data
        Codes of municipalities without households in the data (hatched).
    min_households
        The table's small-count limit (``AreaSpec.min_households``), for the legend.

    Examples
    --------
    >>> from coverage_gap.datasets import make_demo_results
    >>> r = make_demo_results(scale=0.01)
    >>> (stem, cells), = r.areas
    >>> ax = plot_area_cells(cells, r.boundaries, provenance=r.provenance)
    >>> stem, ax.images[0].get_array().ndim
    ('ddkn_1km', 3)
    """
    if table.index.name != "cell":
        raise PlotError(
            "plot_area_cells draws DDKN cell tables (summarize_areas with a grid); for a "
            "polygon layer join the table to its polygons and use GeoDataFrame.plot"
        )
    provenance = provenance if provenance is not None else table.attrs.get("provenance")
    ax, slide_mode = _axes(ax)
    rows = table[table.index != S.REGION_CODE]
    size = str(rows.index[0]).split("_")[0] if len(rows) else "1km"
    small = rows["small_count"].to_numpy(bool)
    under = rows["underserved_households"].astype("Float64").fillna(0).to_numpy(np.float64)
    shown = ~small
    peak = float(under[shown].max()) if shown.any() else 0.0
    land = _base_map(ax, boundaries, no_data)
    handles: list[Any] = []
    names: list[str] = []
    order = np.argsort(-np.where(shown, under, -1.0), kind="stable")
    top_rows = [i for i in order[: max(top, 0)] if shown[i] and under[i] > 0]
    marks: list[tuple[float, float]] = []
    if len(rows):
        squares = ddkn_cells(rows.index)
        bounds = shapely.bounds(np.asarray(squares.geometry.array, dtype=object))
        side = float(bounds[0, 2] - bounds[0, 0])
        x0, y0 = bounds[:, 0].min(), bounds[:, 1].min()
        nx = round((bounds[:, 2].max() - x0) / side)
        ny = round((bounds[:, 3].max() - y0) / side)
        col = np.rint((bounds[:, 0] - x0) / side).astype(np.int64)
        row = np.rint((bounds[:, 1] - y0) / side).astype(np.int64)
        rgba = np.zeros((len(rows), 4))
        rgba[:] = mpl.colors.to_rgba(ZERO)
        rgba[small] = mpl.colors.to_rgba(SMALL)
        if peak > 0:
            edges = _count_classes(peak)
            k = len(edges) - 1
            colours = [mpl.colormaps["YlOrRd"](0.2 + 0.8 * i / max(k - 1, 1)) for i in range(k)]
            counted = shown & (under > 0)
            klass = np.clip(np.searchsorted(edges, under[counted], side="right") - 1, 0, k - 1)
            rgba[counted] = np.asarray(colours)[klass]
            handles += [Patch(facecolor=c, edgecolor="#999999", linewidth=0.5) for c in colours]
            names += _count_labels(edges, lang)
        image = np.zeros((ny, nx, 4))
        image[ny - 1 - row, col] = rgba
        ax.imshow(
            image,
            extent=(x0, x0 + nx * side, y0, y0 + ny * side),
            interpolation="nearest",
            zorder=1,
        )
        if (shown & (under == 0)).any():
            handles.append(Patch(facecolor=ZERO, edgecolor="#999999", linewidth=0.5))
            names.append(_say("cells_zero", lang, provenance))
        if top_rows:
            centre_x = (bounds[top_rows, 0] + bounds[top_rows, 2]) / 2
            centre_y = (bounds[top_rows, 1] + bounds[top_rows, 3]) / 2
            marks = list(zip(centre_x.tolist(), centre_y.tolist(), strict=True))
    threshold = min_households
    if small.any():
        handles.append(Patch(facecolor=SMALL, edgecolor="#999999", linewidth=0.5))
        names.append(_say("cells_small", lang, provenance, n=threshold))
    if len(no_data):
        handles.append(Patch(facecolor=NO_DATA, edgecolor=NO_DATA_HATCH, hatch="///"))
        names.append(_say("no_data", lang, provenance))
    phrase = _title_phrase(provenance, lang)
    title = _say("cells_title", lang, provenance, phrase=phrase, size=_size_words(size, lang))
    region = table.loc[S.REGION_CODE] if S.REGION_CODE in table.index else None
    blocks: list[tuple[str, dict[str, Any]]] = []
    if region is not None:
        blocks.append(
            (
                _say(
                    "cells_total",
                    lang,
                    provenance,
                    count=format_number(float(region["underserved_households"]), lang),
                    cells=format_number(float((under > 0).sum()), lang),
                    all=format_number(float((rows["households"] > 0).sum()), lang),
                ),
                {"fontsize": SIZE["legend"]},
            )
        )
    if small.any():
        suppressed = bool(rows["households"].isna().any())
        blocks.append(
            (
                _say(
                    "cells_small_note",
                    lang,
                    provenance,
                    small=format_number(float(small.sum()), lang),
                    n=threshold,
                    blanked=_say("cells_blanked", lang) if suppressed else "",
                ),
                {"fontsize": SIZE["legend"] - 1, "color": GREY},
            )
        )
    if top_rows:
        where = _municipality_of_cells([shapely.box(*bounds[i]) for i in top_rows], boundaries)
        lines = [_say("cells_top", lang, provenance)] + [
            _say(
                "cells_top_line",
                lang,
                n=n,
                where=where[k],
                cell=rows.index[i],
                count=format_number(under[i], lang),
            )
            for k, (n, i) in enumerate(zip(range(1, len(top_rows) + 1), top_rows, strict=True))
        ]
        blocks.append(("\n".join(lines), {"fontsize": SIZE["legend"] - 1}))
    coverage = _coverage_subtitle_from(_present(boundaries, no_data), boundaries, provenance, lang)
    rings = [(str(n), x, y) for n, (x, y) in enumerate(marks, start=1)] if labels else []
    _lay_out(
        ax,
        slide_mode,
        boundaries=boundaries,
        land=land,
        title=title,
        subtitle=" · ".join(p for p in (coverage, _say("cells_grid", lang)) if p),
        footer=footer_text(provenance, lang) if provenance is not None else None,
        handles=handles,
        names=names,
        legend_title=_say("cells_legend", lang, provenance),
        blocks=blocks,
        labels=[],
        lang=lang,
        area_names=_names(boundaries) if labels and slide_mode else None,
        rings=rings,
    )
    return ax


def _municipality_of_cells(cells: Sequence[Any], boundaries: gpd.GeoDataFrame) -> list[str]:
    """Name the municipality that holds the largest part of each cell (or the nearest)."""
    polygons = np.asarray(boundaries.geometry.array, dtype=object)
    names = boundaries[S.MUNICIPALITY_NAME].astype(str).to_numpy()
    out = []
    for cell in cells:
        overlap = shapely.area(shapely.intersection(polygons, cell))
        if overlap.max() > 0:
            out.append(str(names[int(np.argmax(overlap))]))
        else:
            out.append(str(names[int(np.argmin(shapely.distance(polygons, cell)))]))
    return out


# --- the broadband pool -----------------------------------------------------------------


#: The Danish zone names, explained in English figures (the names stay: they are the
#: planning law's terms, as the data hold them).
_ZONES_EN = {
    "landzone": "landzone (rural zone)",
    "sommerhusområde": "sommerhusområde (summer-house area)",
    "byzone": "byzone (urban zone)",
}


def rule_text(rules: PoolRuleSet, lang: str = "en") -> str:
    """State a broadband-pool rule set in one line, in Danish or English.

    Examples
    --------
    >>> from coverage_gap.danish.pool import POOL_2024
    >>> print(rule_text(POOL_2024, "da"))  # doctest: +NORMALIZE_WHITESPACE
    Bredbåndspuljen 2024: intet fast tilbud ≥ 100 Mbit/s download og intet mobiltilbud
    ≥ 600 Mbit/s download; landzone, sommerhusområde eller byzone i byer under 2.000
    indbyggere
    """
    from .style import _num

    da = lang == "da"
    fixed = _num(rules.fixed_down_mbps, lang)
    if rules.fixed_up_mbps is not None:
        fixed += "/" + _num(rules.fixed_up_mbps, lang)
    down = " download" if da else " down"
    text = ("intet fast tilbud ≥ " if da else "no fixed offer ≥ ") + f"{fixed} Mbit/s"
    if rules.fixed_up_mbps is None:
        text += down
    if rules.mobile_down_mbps is not None:
        text += (" og intet mobiltilbud ≥ " if da else " and no mobile offer ≥ ") + (
            f"{_num(rules.mobile_down_mbps, lang)} Mbit/s{down}"
        )
    zones = ", ".join(rules.zones if da else [_ZONES_EN.get(z, z) for z in rules.zones])
    if rules.byzone_town_below is not None:
        town = format_number(rules.byzone_town_below, lang)
        zones += (
            f" eller byzone i byer under {town} indbyggere"
            if da
            else f", or {_ZONES_EN['byzone']} in towns under {town} inhabitants"
        )
    return f"Bredbåndspuljen {rules.name}: {text}; {zones}"


def _levels(status: pd.Series) -> np.ndarray:
    """2 eligible, 1 undetermined, 0 not eligible."""
    text = status.astype(object).to_numpy()
    eligible = text == "eligible"
    undetermined = np.array([str(s).startswith("undetermined") for s in pd.unique(text)])
    lookup = dict(zip(pd.unique(text), undetermined, strict=True))
    return np.where(eligible, 2, np.where([lookup[s] for s in text], 1, 0))


def _marker(colour: Any, *, hollow: bool = False) -> Line2D:
    return Line2D(
        [],
        [],
        marker="o",
        linestyle="none",
        markersize=7,
        markerfacecolor="none" if hollow else colour,
        markeredgecolor=colour,
    )


def _ring_handle() -> Line2D:
    """Legend handle of a ringed, numbered mark (as :func:`_draw_rings` draws it)."""
    return Line2D(
        [],
        [],
        marker="o",
        linestyle="none",
        markersize=RING_PT * 0.85,
        markerfacecolor="none",
        markeredgecolor=INK,
        markeredgewidth=1.4,
    )


def _point_size(n: int) -> float:
    return 14.0 if n < 300 else 6.0 if n < 3000 else 2.5 if n < 20_000 else 1.5


def plot_pool(
    pool: PoolResult,
    boundaries: gpd.GeoDataFrame,
    *,
    rule_sets: Sequence[str] | None = None,
    ax: Axes | None = None,
    lang: str = "en",
    provenance: Provenance | None = None,
    cluster_distance_m: float | None = None,
    top: int = 3,
    labels: bool = True,
    no_data: Sequence[str] = (),
) -> Axes:
    """Map of the addresses Bredbåndspuljen could support, under one or two rule sets.

    With two rule sets (by default the two the pool compared): addresses eligible under
    both, only under the second (new) and only under the first (leaving). Addresses
    whose eligibility cannot be decided (zone or town size unknown) are hollow grey
    circles, *undetermined*, never counted as eligible; without any zone in the data
    the panel says that eligible is then a lower bound. The ``top`` largest clusters
    of the second rule set (possible projects) are outlined and numbered. Only
    addresses counted in a municipality are drawn (as in the tables).

    Parameters
    ----------
    pool
        Output of :func:`coverage_gap.danish.assess_pool`.
    boundaries
        Municipality polygons.
    rule_sets
        One or two rule-set names to draw.
    cluster_distance_m
        The clusters' distance rule (``PoolSpec.cluster_distance_m``), for the footer.
    top
        Number of clusters to outline and number.
    no_data
        Codes of municipalities without households in the data (hatched).

    Examples
    --------
    >>> from coverage_gap.datasets import make_demo_results
    >>> r = make_demo_results(scale=0.01)
    >>> ax = plot_pool(r.pool, r.boundaries)
    >>> ax.figure.texts[0].get_text().replace(chr(10), " ")  # the title, wrapped
    'Broadband pool: addresses that could get support under the 2023 and 2024 rules'
    """
    provenance = provenance if provenance is not None else pool.summary.attrs.get("provenance")
    rules = {r.name: r for r in pool.rule_sets}
    if rule_sets is None:
        compared = [c.removeprefix("status_") for c in pool.changes if c.startswith("status_")]
        names = compared if len(rules) > 1 and compared else list(rules)[:1]
    else:
        names = [str(n) for n in rule_sets]
    unknown = [n for n in names if n not in rules]
    if unknown or not 1 <= len(names) <= 2:
        raise PlotError(
            f"rule_sets must name one or two of the pool's rule sets {list(rules)}, got "
            f"{names}: pass rule_sets=None for the compared ones"
        )
    a, b = names[0], names[-1]
    ax, slide_mode = _axes(ax)
    addresses = pool.addresses
    x = addresses[S.X].to_numpy(np.float64)
    y = addresses[S.Y].to_numpy(np.float64)
    counted = addresses[S.ASSIGNMENT].isin(S.COUNTED).to_numpy() & np.isfinite(x) & np.isfinite(y)
    la = _levels(addresses[f"status_{a}"])
    lb = _levels(addresses[f"status_{b}"])
    if len(names) == 2:
        groups = {
            "both": (la == 2) & (lb == 2),
            "only_a": (la == 2) & (lb == 0),
            "only_b": (la == 0) & (lb == 2),
        }
        words = {
            "both": _say("pool_both", lang, a=a, b=b),
            "only_b": _say("pool_only_b", lang, b=b),
            "only_a": _say("pool_only_a", lang, a=a),
        }
        rules_words = _say("pool_rules_two", lang, a=a, b=b)
    else:
        groups = {"both": la == 2}
        words = {"both": _say("pool_one", lang, a=a)}
        rules_words = _say("pool_rules_one", lang, a=a)
    decided = np.logical_or.reduce(list(groups.values()))
    groups["undetermined"] = ~decided & (np.maximum(la, lb) == 1)
    words["undetermined"] = (
        _say("pool_undetermined_two", lang, a=a, b=b)
        if len(names) == 2
        else _say("pool_undetermined", lang)
    )
    land = _base_map(ax, boundaries, no_data)
    drawn = {key: mask & counted for key, mask in groups.items()}
    size = _point_size(int(sum(m.sum() for m in drawn.values())))
    handles: list[Any] = []
    names_legend: list[str] = []
    # The larger groups first, so that the smaller ones stay visible on top.
    for key in sorted(drawn, key=lambda k: -int(drawn[k].sum())):
        mask = drawn[key]
        colour = _pool_colour(key)
        hollow = key == "undetermined"
        if mask.any():
            ax.scatter(
                x[mask],
                y[mask],
                s=size * (1.6 if hollow else 1.0),
                facecolors="none" if hollow else colour,
                edgecolors=colour,
                linewidths=0.6 if hollow else 0.0,
                zorder=3,
            )
        if mask.any() or key == "both":
            handles.append(_marker(colour, hollow=hollow))
            names_legend.append(f"{words[key]} ({format_number(float(mask.sum()), lang)})")
    # The legend lists the groups in reading order: eligible first.
    order = sorted(
        range(len(handles)),
        key=lambda i: ["both", "only_b", "only_a", "undetermined"].index(
            next(k for k in words if names_legend[i].startswith(words[k]))
        ),
    )
    handles = [handles[i] for i in order]
    names_legend = [names_legend[i] for i in order]

    clusters = pool.clusters[pool.clusters["rule_set"] == b].sort_values("cluster")
    chosen = clusters.head(max(top, 0))
    hulls = _cluster_hulls(addresses, b, chosen["cluster"].to_numpy(), cluster_distance_m)
    if len(hulls):
        # A cluster is a few hundred metres across: at the region's scale its outline
        # is a dot, so it is ringed like the top cells (and outlined where it is larger).
        gpd.GeoSeries(hulls).boundary.plot(ax=ax, color=INK, linewidth=0.8, zorder=4)
        handles.append(_ring_handle())
        names_legend.append(_say("pool_cluster", lang, b=b))
    if len(no_data):
        handles.append(Patch(facecolor=NO_DATA, edgecolor=NO_DATA_HATCH, hatch="///"))
        names_legend.append(_say("no_data", lang, provenance))

    region = pool.summary.xs(S.REGION_CODE, level=S.MUNICIPALITY_CODE)
    blocks: list[tuple[str, dict[str, Any]]] = []
    for name in names:
        row = region.loc[name]
        line = _say(
            "pool_counts",
            lang,
            provenance,
            rule=name,
            eligible=format_number(float(row["eligible_addresses"]), lang),
            households=_count(row["eligible_households"], _denominator(provenance), lang),
            clusters=format_number(float(row["clusters"]), lang),
        )
        if row["undetermined_addresses"] > 0:
            line += _say(
                "pool_counts_undetermined",
                lang,
                n=format_number(float(row["undetermined_addresses"]), lang),
            )
        blocks.append((line + ".", {"fontsize": SIZE["legend"] - 1}))
    undetermined = int(region.loc[list(names), "undetermined_addresses"].max())
    if addresses["zone"].isna().all() and undetermined:
        note = _say("pool_no_zone", lang, n=format_number(undetermined, lang))
        blocks.append((note, {"fontsize": SIZE["legend"] - 1, "color": CATEGORICAL[5]}))
    elif undetermined:
        note = _say("pool_some_unknown", lang, n=format_number(undetermined, lang))
        blocks.append((note, {"fontsize": SIZE["legend"] - 1, "color": GREY}))
    for name in names:
        limit = rules[name].mobile_down_mbps
        if limit is not None and addresses[S.MOBILE_DOWN].isna().all():
            note = _say("pool_no_mobile", lang, rule=name, mbps=format_number(limit, lang))
            blocks.append((note, {"fontsize": SIZE["legend"] - 1, "color": GREY}))
    if region.loc[b, "eligible_addresses"] == 0 and not undetermined:
        blocks.append((_say("pool_none", lang, rule=b), {"fontsize": SIZE["legend"] - 1}))
    elif len(chosen):
        municipality = dict(
            zip(boundaries[S.MUNICIPALITY_CODE], boundaries[S.MUNICIPALITY_NAME], strict=True)
        )
        lines = [_say("pool_top", lang, b=b)] + [
            _say(
                "pool_cluster_line",
                lang,
                provenance,
                n=int(c.cluster),
                addresses=_count(c.addresses, "addresses", lang),
                households=_count(c.households, _denominator(provenance), lang),
                name=municipality.get(c.municipality_code, c.municipality_code),
            )
            for c in chosen.itertuples()
        ]
        blocks.append(("\n".join(lines), {"fontsize": SIZE["legend"] - 1}))

    rings: list[tuple[str, float, float]] = []
    if labels:
        centres = shapely.centroid(np.asarray(hulls, dtype=object))
        rings = [
            (str(int(n)), float(shapely.get_x(c)), float(shapely.get_y(c)))
            for n, c in zip(chosen["cluster"], centres, strict=True)
        ]
    shown = np.logical_or.reduce(list(drawn.values()))
    # Few addresses: each one matters, so the names keep off them; many: names on top.
    clear = np.column_stack([x[shown], y[shown]]) if shown.sum() <= 500 else np.empty((0, 2))
    _lay_out(
        ax,
        slide_mode,
        boundaries=boundaries,
        land=land,
        title=_say("pool_title", lang, rules=rules_words),
        subtitle=_coverage_subtitle_from(addresses, boundaries, provenance, lang),
        footer=_pool_footer(
            [rules[n] for n in names], provenance, lang, cluster_distance_m=cluster_distance_m
        ),
        handles=handles,
        names=names_legend,
        legend_title=_say("pool_legend", lang),
        blocks=blocks,
        labels=[],
        lang=lang,
        area_names=_names(boundaries) if labels and slide_mode else None,
        keep_clear=[tuple(p) for p in clear],
        rings=rings,
    )
    return ax


def _cluster_hulls(
    addresses: pd.DataFrame, rule_set: str, numbers: np.ndarray, distance_m: float | None
) -> np.ndarray:
    """Outline of each cluster: the convex hull of its addresses, widened a little."""
    if not len(numbers):
        return np.empty(0, dtype=object)
    label = addresses[f"cluster_{rule_set}"].to_numpy(dtype="float64", na_value=np.nan)
    wanted = np.isin(label, numbers)
    group = np.searchsorted(np.sort(numbers), label[wanted])
    order = np.argsort(group, kind="stable")
    coords = np.column_stack(
        [addresses[S.X].to_numpy(np.float64)[wanted], addresses[S.Y].to_numpy(np.float64)[wanted]]
    )
    points = shapely.multipoints(coords[order], indices=group[order])
    hulls = shapely.buffer(shapely.convex_hull(points), max((distance_m or 500.0) / 2, 100.0))
    # back in the order of ``numbers``
    return np.asarray(hulls, dtype=object)[np.searchsorted(np.sort(numbers), numbers)]


def _pool_footer(
    rules: list[PoolRuleSet],
    provenance: Provenance | None,
    lang: str,
    *,
    cluster_distance_m: float | None,
) -> str:
    from .style import UNITS, _t

    parts = [rule_text(r, lang) for r in rules]
    if cluster_distance_m is not None:
        parts.append(_say("pool_cluster_rule", lang, d=format_number(cluster_distance_m, lang)))
    not_assessed = _say("pool_not_assessed", lang)
    parts.append(not_assessed[:1].upper() + not_assessed[1:])
    parts.append(f"{_t('denominator', lang)}: {UNITS['addresses'][lang == 'da'][0]}")
    if provenance is not None:
        year = "–" if provenance.data_year is None else str(provenance.data_year)
        parts += [f"{_t('data', lang)}: {year}", f"{_t('source', lang)}: {provenance.source}"]
    return " · ".join(parts)


# --- mast sites --------------------------------------------------------------------------


def plot_sites(
    sites: SitingResult,
    classified: pd.DataFrame,
    boundaries: gpd.GeoDataFrame,
    *,
    radius_m: float | None = None,
    demand: str = "underserved",
    ax: Axes | None = None,
    lang: str = "en",
    provenance: Provenance | None = None,
    labels: bool = True,
    no_data: Sequence[str] = (),
) -> Axes:
    """Map of the chosen mast sites: rank, reach, existing sites, demand within and out of reach.

    Each new site is drawn as its rank number at its place with a circle of
    ``radius_m`` (its reach); existing sites as grey squares with dashed circles. The
    demand households (``demand`` column of ``classified``, counted in a municipality)
    are blue within reach of a site and red out of reach. Beside the map: the share the
    new sites reach, how far the greedy choice can be from the best one (the tightest
    bound of :class:`~coverage_gap.siting.SitingBounds`) and what each site adds.

    Parameters
    ----------
    sites
        Output of :func:`coverage_gap.siting.choose_sites`.
    classified
        The classified households the sites were chosen for (same rows).
    boundaries
        Municipality polygons.
    radius_m
        The sites' reach (``SitingSpec.radius_m``); None when coverage sets were given.
    demand
        The demand column (``SitingSpec.demand``).
    no_data
        Codes of municipalities without households in the data (hatched).

    Examples
    --------
    >>> from coverage_gap.datasets import make_demo_results
    >>> r = make_demo_results(scale=0.01)
    >>> ax = plot_sites(r.sites, r.households, r.boundaries, radius_m=2500)
    >>> len([p for p in ax.patches if isinstance(p, Circle)])
    10
    """
    provenance = provenance if provenance is not None else sites.sites.attrs.get("provenance")
    ax, slide_mode = _axes(ax)
    table = sites.sites
    new = table[table["rank"] > 0]
    old = table[table["rank"] == 0]
    x = classified[S.X].to_numpy(np.float64)
    y = classified[S.Y].to_numpy(np.float64)
    counted = (
        classified[S.ASSIGNMENT].isin(S.COUNTED).to_numpy()
        if S.ASSIGNMENT in classified
        else np.ones(len(classified), dtype=bool)
    )
    wanted = classified[demand].to_numpy(bool) & counted & np.isfinite(x) & np.isfinite(y)
    covered = sites.covered_by.notna().to_numpy()
    land = _base_map(ax, boundaries, no_data)
    size = _point_size(int(wanted.sum()))
    reach_colour = CATEGORICAL[0]
    # Out of reach is most of the demand on a regional map: lighter, so the sites stand
    # out; opaque (the colour mixed with white), so that overlapping dots keep one colour.
    red = np.asarray(mpl.colors.to_rgb(CATEGORICAL[5]))
    out_colour = (*(0.45 * red + 0.55), 1.0)
    for mask, colour in ((wanted & ~covered, out_colour), (wanted & covered, reach_colour)):
        if mask.any():
            ax.scatter(x[mask], y[mask], s=size, color=[colour], linewidths=0, zorder=3)
    for frame, colour, style in ((old, GREY, "--"), (new, reach_colour, "-")):
        if radius_m is None:
            continue
        for sx, sy in zip(frame[S.X], frame[S.Y], strict=True):
            ax.add_patch(
                Circle(
                    (sx, sy),
                    radius_m,
                    facecolor=mpl.colors.to_rgba(colour, 0.07),
                    edgecolor=colour,
                    linewidth=1.1,
                    linestyle=style,
                    zorder=4,
                )
            )
    if len(old):
        ax.scatter(old[S.X], old[S.Y], marker="s", s=30, color=GREY, zorder=5)
    reach = _distance(radius_m, lang) if radius_m is not None else ""
    handles: list[Any] = [
        Line2D([], [], marker="$1$", linestyle="none", color=INK, markersize=9),
    ]
    names = [_say("sites_new", lang)]
    if len(old):
        handles.append(Line2D([], [], marker="s", linestyle="none", color=GREY, markersize=6))
        names.append(_say("sites_existing", lang))
    if radius_m is not None:
        handles.append(
            Line2D(
                [],
                [],
                marker="o",
                linestyle="none",
                markersize=15,
                markerfacecolor=mpl.colors.to_rgba(reach_colour, 0.07),
                markeredgecolor=reach_colour,
            )
        )
        names.append(_say("sites_reach", lang, radius=reach))
    handles += [_marker(reach_colour), _marker(out_colour)]
    names += [_say("sites_covered", lang, provenance), _say("sites_uncovered", lang, provenance)]
    if len(no_data):
        handles.append(Patch(facecolor=NO_DATA, edgecolor=NO_DATA_HATCH, hatch="///"))
        names.append(_say("no_data", lang, provenance))

    demand_total = sites.demand_households
    added = int(new["newly_covered_households"].sum())
    blocks: list[tuple[str, dict[str, Any]]] = []
    if demand_total > 0:
        blocks.append(
            (
                format_percent(added / demand_total, lang),
                {"fontsize": SIZE["big"] - 4, "fontweight": "bold"},
            )
        )
    existing = (
        _say(
            "sites_caption_existing",
            lang,
            n=format_number(float(old["newly_covered_households"].sum()), lang),
        )
        if len(old)
        else ""
    )
    blocks.append(
        (
            _say(
                "sites_caption",
                lang,
                provenance,
                covered=format_number(added, lang),
                demand=format_number(demand_total, lang),
                existing=existing,
            ),
            {"fontsize": SIZE["legend"] - 1},
        )
    )
    if len(new):
        blocks.append(
            (
                _say(
                    "sites_bound",
                    lang,
                    provenance,
                    candidates=format_number(sites.candidates, lang),
                    share=floor_percent(sites.bounds.greedy_share, lang),
                    k=len(new),
                    upper=format_number(sites.bounds.upper_bound, lang),
                    how=_say(_tightest(sites.bounds), lang),
                ),
                {"fontsize": SIZE["legend"] - 1, "color": GREY},
            )
        )
    if len(new):
        gains = " · ".join(
            f"{r}: {format_number(float(g), lang)}"
            for r, g in zip(new["rank"], new["newly_covered_households"], strict=True)
        )
        blocks.append((_say("sites_gains", lang, gains=gains), {"fontsize": SIZE["legend"] - 1}))
    unreachable = demand_total - sites.reachable_households
    if unreachable > 0:
        blocks.append(
            (
                _say("sites_unreachable", lang, provenance, n=format_number(unreachable, lang)),
                {"fontsize": SIZE["legend"] - 1, "color": GREY},
            )
        )
    phrase = _title_phrase(provenance, lang) if demand == S.UNDERSERVED else f"({demand})"
    key = {0: "sites_title_none", 1: "sites_title_one"}.get(len(new), "sites_title")
    footer = footer_text(provenance, lang) if provenance is not None else ""
    extra = (
        _say("sites_footer", lang, provenance, radius=reach)
        if radius_m is not None
        else _say("sites_footer_sets", lang)
    )
    items = [
        (str(int(r)), shapely.Point(sx, sy).buffer(radius_m or 1.0), INK)
        for r, sx, sy in zip(new["rank"], new[S.X], new[S.Y], strict=True)
    ]
    _lay_out(
        ax,
        slide_mode,
        boundaries=boundaries,
        land=land,
        title=_say(key, lang, provenance, k=len(new), phrase=phrase),
        subtitle=_coverage_subtitle_from(classified, boundaries, provenance, lang),
        footer=" · ".join(p for p in (footer, extra) if p),
        handles=handles,
        names=names,
        legend_title="",
        blocks=blocks,
        labels=items,
        lang=lang,
        area_names=_names(boundaries) if labels and slide_mode else None,
    )
    return ax


def _tightest(bounds: SitingBounds) -> str:
    """Which bound of the optimum is the tightest (the word for it)."""
    upper = bounds.upper_bound
    if bounds.optimum is not None:
        return "sites_how_exact"
    for value, key in (
        (bounds.lp_upper_bound, "sites_how_lp"),
        (bounds.milp_upper_bound, "sites_how_milp"),
        (bounds.online_upper_bound, "sites_how_online"),
    ):
        if value is not None and value <= upper:
            return key
    return "sites_how_guarantee"
