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

The modules, each named for its job (everything public is reachable from here):

- :mod:`.style`: colours, type sizes, the words in both languages, numbers, the
  sentence defining a standard, slides (:func:`new_axes`) and footers;
- :mod:`.maps`: the share map and the hotspot map;
- :mod:`.charts`: ranking, fixed/mobile breakdown, standards side by side, demand and
  growth rates;
- :mod:`.factsheet`: the one-page fact sheet of a municipality;
- :mod:`.where`: where to act (DDKN cells, the broadband pool, mast sites);
- :mod:`.claims`: the claim check and the change between two years.
"""

from __future__ import annotations

from . import charts, claims, factsheet, maps, style, where
from .charts import (
    breakdown_parts,
    plot_demand,
    plot_gap_breakdown,
    plot_gap_by_standard,
    plot_gap_ranking,
    plot_growth_rates,
    scenario_label,
)
from .claims import (
    change_footer,
    change_summary,
    plot_change_by_municipality,
    plot_change_waterfall,
    plot_claim_curve,
)
from .factsheet import draw_fact_sheet
from .maps import hotspot_grid, plot_gap_map, plot_hotspots
from .style import (
    CATEGORICAL,
    FOOTER_TAG,
    GREY,
    INK,
    MARGIN,
    NO_DATA,
    NO_DATA_HATCH,
    SCENARIO_NAMES_DA,
    SEQUENTIAL,
    SIZE,
    SLIDE,
    SLIDE_TAG,
    SMALL_COUNT,
    TEXT,
    TITLE_TAG,
    UNITS,
    UNTITLED_TAG,
    add_footer,
    class_labels,
    definition_text,
    footer_text,
    format_number,
    format_percent,
    is_slide,
    new_axes,
    nice_breaks,
    ranking_order,
    root_figure,
    slide_title,
    standard_phrase,
)
from .where import plot_area_cells, plot_pool, plot_sites, rule_text

__all__ = [
    "CATEGORICAL",
    "FOOTER_TAG",
    "GREY",
    "INK",
    "MARGIN",
    "NO_DATA",
    "NO_DATA_HATCH",
    "SCENARIO_NAMES_DA",
    "SEQUENTIAL",
    "SIZE",
    "SLIDE",
    "SLIDE_TAG",
    "SMALL_COUNT",
    "TEXT",
    "TITLE_TAG",
    "UNITS",
    "UNTITLED_TAG",
    "add_footer",
    "breakdown_parts",
    "change_footer",
    "change_summary",
    "charts",
    "claims",
    "class_labels",
    "definition_text",
    "draw_fact_sheet",
    "factsheet",
    "footer_text",
    "format_number",
    "format_percent",
    "hotspot_grid",
    "is_slide",
    "maps",
    "new_axes",
    "nice_breaks",
    "plot_area_cells",
    "plot_change_by_municipality",
    "plot_change_waterfall",
    "plot_claim_curve",
    "plot_demand",
    "plot_gap_breakdown",
    "plot_gap_by_standard",
    "plot_gap_map",
    "plot_gap_ranking",
    "plot_growth_rates",
    "plot_hotspots",
    "plot_pool",
    "plot_sites",
    "ranking_order",
    "root_figure",
    "rule_text",
    "scenario_label",
    "slide_title",
    "standard_phrase",
    "style",
    "where",
]
